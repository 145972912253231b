"""Figure 1: gamma kernels of the buckets, and smoothed delay kernels from bucket weights."""
import os

import matplotlib.pyplot as plt
import numpy as np
from brian2 import ms

from sgbrian.analysis import bucket_kernels, delay_kernel
from sgbrian.plotting import PALETTE, plot_kernels, save, use_style
from style import arguments


def main(args):
    use_style()
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.3))
    t, impulse = bucket_kernels(6, 1 * ms, 15 * ms, 0.01 * ms)
    plot_kernels(axes[0], t, impulse)
    axes[0].set(title="Impulse response of buckets 1..6 (tau = 1 ms)", ylabel="U_k")
    axes[0].legend(ncol=2)
    t, step = bucket_kernels(6, 1 * ms, 15 * ms, 0.01 * ms, kind="step")
    plot_kernels(axes[1], t, step)
    axes[1].set(title="Step response (gamma CDFs)", ylabel="U_k")
    K, tau = 16, 0.5 * ms
    lags = np.arange(0, 15e-3, 1e-5)
    for c, k0 in enumerate((2, 6, 10, 14)):
        v = np.exp(-0.5 * ((np.arange(K + 1) - k0) / 1.5) ** 2)
        h, _, mean, spread = delay_kernel(v, K, tau, lags)
        axes[2].plot(lags * 1e3, h / h.max(), color=PALETTE[c],
                     label=f"v around k={k0}: {mean * 1e3:.1f} +- {spread * 1e3:.1f} ms")
    axes[2].set(title=f"Smoothed delays from bucket weights (K={K}, tau={tau})",
                xlabel="lag (ms)", ylabel="normalised kernel")
    axes[2].legend()
    fig.tight_layout()
    return save(fig, os.path.join(args.out, "fig1_kernels"))


if __name__ == "__main__":
    print(*main(arguments(__doc__)))
