"""Figure 4: coincidence detection (ITD), tuning curves of the readout neurons."""
import os

import matplotlib.pyplot as plt
import numpy as np
from brian2 import ms

from sgbrian.analysis import class_tuning
from sgbrian.experiments import train_task
from sgbrian.plotting import save, use_style
from style import arguments


def main(args):
    quick = dict(epochs=1, task_kwargs=dict(n_train=18, n_test=9, duration=5 * ms)) if args.quick else {}
    result = train_task("itd", record_outputs=True, progress=False, **quick)
    task, test = result["task"], result["test"]
    labels = np.array([s.target for s in task.test])
    tuning = class_tuning(test["outputs"], labels, result["learner"].loss.start_step, task.n_outputs)
    itds = np.linspace(-1, 1, task.n_outputs)
    use_style()
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    colours = plt.cm.viridis(np.linspace(0, 1, task.n_outputs))
    for j in range(task.n_outputs):
        ax.plot(itds, tuning[:, j], "o-", ms=3, color=colours[j], label=f"{itds[j]:+.2f}")
    ax.set(xlabel="interaural time difference (ms)", ylabel="mean readout",
           title=f"ITD tuning curves (test accuracy {test['accuracy']:.3f})")
    ax.legend(title="preferred ITD (ms)", fontsize=6, ncol=3, title_fontsize=7)
    fig.tight_layout()
    return save(fig, os.path.join(args.out, "fig4_coincidence"))


if __name__ == "__main__":
    print(*main(arguments(__doc__)))
