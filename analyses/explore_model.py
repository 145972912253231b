"""Equation-level exploration of one SpikingGamma neuron.

Three questions, answered with the exact propagator and the sigma-delta encoder:
1. impulse and step response as K, tau and the bucket weights vary;
2. the delay kernel implied by a set of bucket weights: its mean delay and spread;
3. the reconstruction error and event count as theta varies.
Prints the numbers and writes figures/out/explore_model.png|pdf.

    python analyses/explore_model.py
"""
import os

import matplotlib.pyplot as plt
import numpy as np
from brian2 import Hz, ms

from sgbrian.analysis import delay_kernel, encoding_tradeoff, neuron_response
from sgbrian.plotting import PALETTE, save, use_style
from sgbrian.signals import band_limited_noise

dt = 0.05 * ms
use_style()
fig, axes = plt.subplots(1, 4, figsize=(14, 3.2))

for c, (K, tau) in enumerate([(1, 4 * ms), (4, 1 * ms), (8, 0.5 * ms), (16, 0.25 * ms)]):
    v = np.r_[0, np.zeros(K - 1), 1.0]                  # read the last bucket
    t, impulse = neuron_response(K, tau, v, 20 * ms, dt)
    t, step = neuron_response(K, tau, v, 20 * ms, dt, kind="step")
    axes[0].plot(t * 1e3, impulse, color=PALETTE[c], label=f"K={K}, tau={tau}")
    axes[1].plot(t * 1e3, step, color=PALETTE[c])
axes[0].set(title="Impulse response of bucket K (K tau = 4 ms)", xlabel="time (ms)")
axes[1].set(title="Step response of bucket K", xlabel="time (ms)")
axes[0].legend()

K, tau = 16, 0.5 * ms
t = np.arange(0, 20e-3, 1e-5)
print(f"{'bucket weights':>28} {'mean delay (ms)':>16} {'spread (ms)':>12}")
for c, (label, v) in enumerate([("one-hot k=8", np.eye(K + 1)[8]),
                                ("gaussian around k=8, sd 2", np.exp(-0.5 * ((np.arange(K + 1) - 8) / 2) ** 2)),
                                ("difference k=12 - k=4", np.eye(K + 1)[12] - np.eye(K + 1)[4])]):
    h, v0, mean, spread = delay_kernel(v, K, tau, t)
    axes[2].plot(t * 1e3, h / np.abs(h).max(), color=PALETTE[c], label=label)
    print(f"{label:>28} {mean * 1e3:>16.2f} {spread * 1e3:>12.2f}")
axes[2].set(title=f"Delay kernels (K={K}, tau={tau})", xlabel="lag (ms)", ylabel="normalised")
axes[2].legend()

signal = band_limited_noise(20000, dt, 100 * Hz, 4, seed=0)
thetas = np.geomspace(0.005, 0.5, 9)
rows = encoding_tradeoff(signal, thetas, dt=dt)
print(f"\n{'theta':>8} {'max |y-r|/theta':>16} {'RMS error':>10} {'events/ch/s':>12} {'quanta/ch/s':>12}")
for r in rows:
    print(f"{r['theta']:>8.4f} {r['max_error_over_theta']:>16.3f} {r['rms_error']:>10.4f} "
          f"{r['events_per_channel']:>12.0f} {r['quanta_per_channel']:>12.0f}")
ax = axes[3]
ax.loglog(thetas, [r["rms_error"] for r in rows], "o-", color=PALETTE[0], label="RMS error")
ax.loglog(thetas, thetas / np.sqrt(12), ":", color=PALETTE[7], label="theta / sqrt(12)")
ax2 = ax.twinx()
ax2.loglog(thetas, [r["events_per_channel"] for r in rows], "s-", color=PALETTE[3], label="events/s")
ax.set(title="Sigma-delta: error and traffic", xlabel="theta", ylabel="RMS |y - r|")
ax2.set_ylabel("events per channel per s")
ax.legend(loc="upper left")
ax2.legend(loc="lower left")
fig.tight_layout()
print(*save(fig, os.path.join(os.path.dirname(__file__), "..", "figures", "out", "explore_model")))
