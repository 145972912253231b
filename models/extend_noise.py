"""Extending the neuron (2/3): noise on the drive, and a sweep of its amplitude.

Each hidden neuron's drive gets an Ornstein-Uhlenbeck noise term (a Brian2 stochastic
differential equation, integrated by Brian2's Euler-Maruyama method beside the exact
cascade):

    dn/dt = -n/tau_n + sigma*sqrt(2/tau_n)*xi        x = b + sum_k v_k U_k + n

For sigma from 0 to 0.4 (seeded), 2 -> 16 -> 1 on band-limited noise: the hidden
layer's events per neuron per second and the readout's deviation from the noise-free run.
Writes figures/out/model_noise.png and .pdf.
"""
import os

import matplotlib.pyplot as plt
import numpy as np
from brian2 import Hz, defaultclock, ms, seed

import sgbrian
from sgbrian.plotting import PALETTE, save, use_style
from sgbrian.signals import band_limited_noise

defaultclock.dt = 0.1 * ms
signal = band_limited_noise(3000, defaultclock.dt, cutoff=30 * Hz, channels=2, seed=0)
sigmas = [0.0, 0.05, 0.1, 0.2, 0.4]
rates, deviations, reference = [], [], None
for sigma in sigmas:
    net = sgbrian.feedforward([2, 16, 1], K=4, tau=2 * ms, theta=0.05, signal=signal,
                              record=("spikes", "signals"), seed=0, drive="n",
                              extra="dn/dt = -n/tau_n + sigma*sqrt(2/tau_n)*xi : 1",
                              parameters={"sigma": sigma}, namespace={"tau_n": 5 * ms})
    seed(1)
    net.run(300 * ms)
    y = net.monitors[2]["signals"].y[0]
    reference = y if reference is None else reference
    rates.append(net.monitors[1]["spikes"].num_spikes / 16 / 0.3)
    deviations.append(float(np.sqrt(np.mean((y - reference) ** 2))))
    print(f"sigma {sigma:.2f}: {rates[-1]:.0f} events/neuron/s, readout RMS deviation "
          f"{deviations[-1]:.4f}")

use_style()
fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
axes[0].plot(sigmas, rates, "o-", color=PALETTE[0])
axes[0].set(xlabel="noise amplitude σ", ylabel="hidden events per neuron per s")
axes[1].plot(sigmas, deviations, "o-", color=PALETTE[1])
axes[1].set(xlabel="noise amplitude σ", ylabel="readout RMS deviation from σ = 0")
fig.suptitle("Ornstein-Uhlenbeck noise on the hidden drive (τ_n = 5 ms)")
fig.tight_layout()
save(fig, os.path.join(os.path.dirname(__file__), "..", "figures", "out", "model_noise"))
