"""Run one fixed network under a code-generation target; save its events (for test_targets).

    python run_target.py TARGET OUT [short|long|extended]

'short': 2 -> 5 -> 2, random delays up to 5 steps, 300 steps; 'long': 2 -> 4 -> 2, random
delays up to 4,096 steps (the ring-buffer payload history), 4,400 steps; 'extended': an
extended hidden neuron (softplus, adaptation fed back into x, a parameter, a constant).
"""
import sys

import numpy as np
from brian2 import defaultclock, ms

import sgbrian
from sgbrian.targets import use_target

target, out = sys.argv[1], sys.argv[2]
network = sys.argv[3] if len(sys.argv) > 3 else "short"
use_target(target, directory=out + "_build" if target == "cpp_standalone" else None)
defaultclock.dt = 0.1 * ms
steps, max_delay, sizes, freqs = {"short": (300, 0.5 * ms, [2, 5, 2], (30, 55)),
                                  "long": (4400, 409.6 * ms, [2, 4, 2], (7, 11)),
                                  "extended": (300, 0.3 * ms, [2, 4, 2], (30, 55))}[network]
extension = {} if network != "extended" else dict(
    hidden="softplus", drive="-g*a", extra="da/dt = (y - a)/tau_a : 1", parameters={"g": 0.8},
    namespace={"tau_a": 3 * ms})
t = np.arange(steps) * 1e-4
signal = np.stack([np.sin(2 * np.pi * freqs[0] * t), np.cos(2 * np.pi * freqs[1] * t)], axis=1)
net = sgbrian.feedforward(sizes, K=4, tau=1 * ms, theta=0.05, signal=signal,
                          max_delay=max_delay, random_delays=True, record=("spikes", "signals"),
                          seed=11, **extension)
net.run(steps * defaultclock.dt)
arrays = {}
for l, mons in enumerate(net.monitors):
    arrays[f"i{l}"] = np.asarray(mons["spikes"].i[:])
    arrays[f"t{l}"] = np.asarray(mons["spikes"].t[:] / ms)
    arrays[f"q{l}"] = np.asarray(mons["spikes"].q[:])
    arrays[f"y{l}"] = np.asarray(mons["signals"].y[:])
arrays["max_delay_steps"] = max(int(np.rint(np.max(s.delay[:] / defaultclock.dt))) for s in net.synapses)
np.savez(out, **arrays)
