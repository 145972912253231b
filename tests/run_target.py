"""Run one fixed network under a code-generation target; save its events (for test_targets)."""
import sys

import numpy as np
from brian2 import defaultclock, ms

import sgbrian
from sgbrian.targets import use_target

target, out = sys.argv[1], sys.argv[2]
use_target(target, directory=out + "_build" if target == "cpp_standalone" else None)
defaultclock.dt = 0.1 * ms
steps = 300
t = np.arange(steps) * 1e-4
signal = np.stack([np.sin(2 * np.pi * 30 * t), np.cos(2 * np.pi * 55 * t)], axis=1)
net = sgbrian.feedforward([2, 5, 2], K=4, tau=1 * ms, theta=0.05, signal=signal,
                          max_delay=0.5 * ms, random_delays=True, record=("spikes", "signals"),
                          seed=11)
net.run(steps * defaultclock.dt)
arrays = {}
for l, mons in enumerate(net.monitors):
    arrays[f"i{l}"] = np.asarray(mons["spikes"].i[:])
    arrays[f"t{l}"] = np.asarray(mons["spikes"].t[:] / ms)
    arrays[f"q{l}"] = np.asarray(mons["spikes"].q[:])
    arrays[f"y{l}"] = np.asarray(mons["signals"].y[:])
np.savez(out, **arrays)
