"""Figure 2: sigma-delta encoding of one signal at several theta and several dt."""
import os

import matplotlib.pyplot as plt
import numpy as np
from brian2 import Hz, ms

from sgbrian.encoding import sigma_delta
from sgbrian.plotting import PALETTE, save, use_style
from sgbrian.tasks import delayed  # noqa: F401  (same signal family as the tasks)
from sgbrian.signals import band_limited_noise
from style import arguments


def main(args):
    use_style()
    fine = 0.01 * ms
    signal = band_limited_noise(5000, fine, 60 * Hz, 1, seed=2)[:, 0]   # 50 ms
    t = np.arange(signal.size) * float(fine / ms)
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.4))
    for c, theta in enumerate((0.5, 0.2, 0.05)):
        q, r = sigma_delta(signal[::10], theta)                           # dt = 0.1 ms
        axes[0].step(t[::10], r[:, 0], where="post", color=PALETTE[c],
                     label=f"theta={theta}: {np.count_nonzero(q)} events")
    axes[0].plot(t, signal, color=PALETTE[7], lw=1.5, label="signal")
    axes[0].set(title="Several theta (dt = 0.1 ms)", xlabel="time (ms)")
    axes[0].legend(fontsize=7)
    for c, step in enumerate((100, 20, 1)):                                # 1, 0.2, 0.01 ms
        q, r = sigma_delta(signal[::step], 0.2)
        axes[1].step(t[::step], r[:, 0], where="post", color=PALETTE[c + 3],
                     label=f"dt={step * 0.01:g} ms: max|y-r| = {np.abs(signal[::step] - r[:, 0]).max():.3f}")
    axes[1].plot(t, signal, color=PALETTE[7], lw=1.5, label="signal")
    axes[1].set(title="Several dt (theta = 0.2; error <= theta/2 at every step)", xlabel="time (ms)")
    axes[1].legend(fontsize=7)
    fig.tight_layout()
    return save(fig, os.path.join(args.out, "fig2_sigma_delta"))


if __name__ == "__main__":
    print(*main(arguments(__doc__)))
