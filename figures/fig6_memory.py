"""Figure 6: memory against sequence length, the online learner against an unrolled
(BPTT-style) computation of the same readout gradients (peak of tracemalloc)."""
import os
import tracemalloc

import matplotlib.pyplot as plt
import numpy as np
from brian2 import defaultclock, ms, prefs

import sgbrian
from sgbrian.analysis import unrolled_readout_gradients
from sgbrian.datasets import Sample
from sgbrian.learning import OnlineLearner
from sgbrian.losses import CrossEntropyLoss
from sgbrian.plotting import PALETTE, save, use_style
from style import arguments


def peak_bytes(function):
    tracemalloc.start()
    result = function()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return result, peak


def main(args):
    prefs.codegen.target = "numpy"
    defaultclock.dt = 1 * ms
    lengths = (50, 100, 200) if args.quick else (250, 500, 1000, 2000, 4000)
    rng = np.random.default_rng(0)
    rows = []
    for T in lengths:
        steps, channels = np.nonzero(rng.random((T, 40)) < 0.02)
        sample = Sample((channels, steps * ms), 1, T)
        net = sgbrian.feedforward([40, 32, 4], K=8, tau=5 * ms, theta=0.05, spikes=sample.input)
        learner = OnlineLearner(net, CrossEntropyLoss(), rule="spatial")
        learner.evaluate([sample])                           # warm-up: code generation
        online, online_peak = peak_bytes(lambda: learner.gradients([sample]))
        unrolled, unrolled_peak = peak_bytes(lambda: unrolled_readout_gradients(learner, sample))
        for name in unrolled:
            np.testing.assert_allclose(unrolled[name], online[name], rtol=1e-9, atol=1e-12)
        rows.append((T, online_peak / 2 ** 20, unrolled_peak / 2 ** 20))
        print(f"T = {T} steps: online {rows[-1][1]:.2f} MiB, unrolled {rows[-1][2]:.2f} MiB "
              "(same readout gradients)")
    T, online, unrolled = map(np.array, zip(*rows))
    use_style()
    fig, ax = plt.subplots(figsize=(5, 3.4))
    ax.plot(T * 1e-3, online, "o-", color=PALETTE[0], label="online (this package)")
    ax.plot(T * 1e-3, unrolled, "s-", color=PALETTE[3], label="unrolled / BPTT-style")
    ax.set(xlabel="sequence length (s at dt = 1 ms)", ylabel="peak traced memory (MiB)",
           title="Memory of computing the same gradients")
    ax.legend()
    fig.tight_layout()
    return save(fig, os.path.join(args.out, "fig6_memory"))


if __name__ == "__main__":
    print(*main(arguments(__doc__)))
