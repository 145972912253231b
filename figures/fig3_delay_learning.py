"""Figure 3: delay learning, target against output before and after training, and the
learned kernel (full mode: the experiment of models/delay_learning.py)."""
import os

import matplotlib.pyplot as plt
import numpy as np
from brian2 import ms

from sgbrian.analysis import delay_kernel
from sgbrian.experiments import repeat, train_task
from sgbrian.plotting import PALETTE, save, use_style
from style import arguments


def main(args):
    quick = dict(epochs=1, task_kwargs=dict(n_train=2, n_test=1, duration=60 * ms)) if args.quick else {}
    result = train_task("delay", record_outputs=True, progress=False, **quick)
    task, test, learner = result["task"], result["test"], result["learner"]
    layer = result["net"].layers[1]
    use_style()
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.4), gridspec_kw={"width_ratios": [2, 1]})
    sample = task.test[0]
    t = np.arange(sample.n_steps) * float(task.dt / ms)
    axes[0].plot(t, sample.target[:, 0], color=PALETTE[7], lw=2, label="target: input delayed 7.3 ms")
    axes[0].plot(t, result["before"]["outputs"][0][:, 0], color=PALETTE[1], label="before training")
    axes[0].plot(t, test["outputs"][0][:, 0], "--", color=PALETTE[0], label="after training")
    scores, mean, sd = repeat("delay", seeds=args.seeds, client=args.client, **quick)
    axes[0].set(xlabel="time (ms)", title=f"Held-out signal (seed 0): NRMSE {test['nrmse']:.3f}; "
                                          f"over {len(scores)} seeds {mean:.3f} ± {sd:.3f}")
    axes[0].legend(ncol=3, fontsize=7)
    lags = np.arange(0, 20e-3, 1e-5)
    h, v0, mean, spread = delay_kernel(learner.params["v1"][0] * learner.params["w0"][0],
                                       layer.K, layer.tau, lags)
    axes[1].plot(lags * 1e3, h, color=PALETTE[0])
    axes[1].axvline(7.3, ls=":", color=PALETTE[3])
    axes[1].set(xlabel="lag (ms)", title=f"Learned kernel (mean {mean * 1e3:.1f} ms)")
    fig.tight_layout()
    return save(fig, os.path.join(args.out, "fig3_delay_learning"))


if __name__ == "__main__":
    print(*main(arguments(__doc__)))
