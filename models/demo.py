"""Demo: a small SpikingGamma network (2 inputs -> 8 hidden -> 1 output) on a generated signal.

Prints events, quanta, reconstruction error and wall time per layer, and writes
figures/out/demo.png and demo.pdf: bucket kernels, input against its sigma-delta
reconstruction, and a raster of every layer.
"""
import os
import time

import matplotlib.pyplot as plt
from brian2 import Hz, defaultclock, ms, prefs

import sgbrian
from sgbrian.analysis import bucket_kernels, network_activity
from sgbrian.plotting import PALETTE, plot_kernels, plot_raster, plot_reconstruction, save, use_style
from sgbrian.signals import band_limited_noise

seed = 1
prefs.codegen.target = "numpy"   # no compilation step; "cython" pays off for long runs
defaultclock.dt = 0.1 * ms
duration = 200 * ms
K, tau, theta = 6, 2 * ms, 0.1
steps = int(duration / defaultclock.dt)

signal = band_limited_noise(steps, defaultclock.dt, cutoff=30 * Hz, channels=2, seed=seed)
net = sgbrian.feedforward([2, 8, 1], K=K, tau=tau, theta=theta, signal=signal,
                          max_delay=2 * ms, random_delays=True,
                          record=("spikes", "signals", "buckets"), seed=seed)
print(net.layers[1].group.equations)

start = time.perf_counter()
net.run(duration, report="text")
wall = time.perf_counter() - start

print(f"\n{'layer':>6} {'neurons':>8} {'events':>8} {'quanta':>8} {'ev/neuron/s':>12} {'max|y-r|/theta':>15}")
for l, a in enumerate(network_activity(net, duration)):
    print(f"{l:>6} {a['neurons']:>8} {a['events']:>8} {a['quanta']:>8.0f} {a['rate_hz']:>12.1f} "
          f"{a['max_error']:>15.3f}")
print(f"simulated {duration} in {wall:.2f} s wall time ({steps} steps, dt = {defaultclock.dt})")

use_style()
fig, axes = plt.subplots(3, 1, figsize=(7, 7.5))
t, kernels = bucket_kernels(K, tau, 25 * ms, defaultclock.dt)
plot_kernels(axes[0], t, kernels)
axes[0].set(title=f"Bucket kernels (impulse response, K={K}, tau={tau})", ylabel="U_k")
axes[0].legend(ncol=3)
inp = net.monitors[0]["signals"]
plot_reconstruction(axes[1], inp.t, inp.y[0], inp.r[0], theta, label="input 0")
axes[1].set(title="Input and its sigma-delta reconstruction", ylabel="signal")
offset = 0
for l, (layer, mons) in enumerate(zip(net.layers, net.monitors)):
    plot_raster(axes[2], mons["spikes"], offset, color=PALETTE[l], label=f"layer {l}")
    offset += layer.n
axes[2].set(title="Events (marker size ~ |payload|)", ylabel="neuron")
axes[2].legend(loc="upper right", markerscale=3)
fig.tight_layout()
paths = save(fig, os.path.join(os.path.dirname(__file__), "..", "figures", "out", "demo"))
print("wrote", *[os.path.normpath(p) for p in paths])
