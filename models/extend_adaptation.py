"""Extending the neuron (1/3): spike-frequency adaptation on the hidden layer.

Each hidden neuron gets an adaptation variable that follows its own output and is
subtracted from its drive:

    da/dt = (y - a)/tau_a        x = b + sum_k v_k U_k - g*a

A step input drives 1 -> 4 -> 1 (K = 4, tau = 2 ms) with g = 0 (no adaptation) and
g = 1.5; the hidden output relaxes to y/(1 + g) of its plain value. Writes
figures/out/model_adaptation.png and .pdf.
"""
import os

import matplotlib.pyplot as plt
import numpy as np
from brian2 import defaultclock, ms

import sgbrian
from sgbrian.plotting import PALETTE, save, use_style

defaultclock.dt = 0.1 * ms
signal = np.r_[np.zeros(100), np.ones(1900)][:, None]          # a step at 10 ms
outputs = {}
for g in (0.0, 1.5):
    net = sgbrian.feedforward([1, 4, 1], K=4, tau=2 * ms, theta=0.01, signal=signal,
                              weight_scale=0.0, record=("signals",), seed=0,
                              drive="-g*a", extra="da/dt = (y - a)/tau_a : 1",
                              parameters={"g": g}, namespace={"tau_a": 40 * ms})
    net.synapses[0].w = 1.0                                    # every hidden neuron sees the step
    net.run(200 * ms)
    outputs[g] = net.monitors[1]["signals"].y[0]
    print(f"g = {g}: hidden y at 200 ms {outputs[g][-1]:.3f}")
print(f"ratio {outputs[1.5][-1] / outputs[0.0][-1]:.3f} (1/(1 + g) = {1 / 2.5:.3f})")
print(net.layers[1].group.equations)

use_style()
fig, ax = plt.subplots(figsize=(6, 3.5))
t = np.arange(len(outputs[0.0])) * 0.1
for c, (g, y) in enumerate(outputs.items()):
    ax.plot(t, y, color=PALETTE[c], label=f"g = {g}")
ax.set(xlabel="time (ms)", ylabel="hidden output y", title="Adaptation: τ_a da/dt = y − a (τ_a = 40 ms), x −= g a")
ax.legend(loc="lower right", frameon=False)
fig.tight_layout()
save(fig, os.path.join(os.path.dirname(__file__), "..", "figures", "out", "model_adaptation"))
