"""Figure 8: sgbrian's online learner against snnTorch BPTT baselines as the number of time
steps grows (the same tasks and physical durations at dt = 1 ... 0.02 ms): test score,
training time per sample and the memory the learning method keeps per sample (BPTT:
the tensors autograd saves; sgbrian: the learner's buffers), mean ± sd over seeds. Drawn from
analyses/out/baselines.csv (analyses/baselines.py; quick mode runs a small comparison
first). The caption states the measured verdict on the paper's claim.
"""
import csv
import os

import matplotlib.pyplot as plt
from matplotlib.ticker import NullFormatter
import numpy as np

from sgbrian.baselines import SYSTEM_NAMES, over_seeds
from sgbrian.plotting import PALETTE, legend_below, save, use_style
from style import analysis_folder, arguments

SYSTEMS = {**SYSTEM_NAMES, "sgbrian": "sgbrian (online, exact)"}
PANELS = [("score", "test score"), ("train_s_per_sample", "training s / sample"),
          ("memory", "kept for learning, MiB / sample")]


def series(rows, task, system, key):
    """(steps, mean, sample sd) of ``key`` over seeds, by steps (memory: autograd's saved
    tensors for BPTT, the learner's buffers for sgbrian; ``sgbrian.baselines.over_seeds``)."""
    summary = sorted(over_seeds(rows, task, system, key).values())
    return tuple(np.array([point[i] for point in summary]) for i in range(3))


def growth(rows, task, system, key):
    steps, mean, _ = series(rows, task, system, key)
    return steps[-1] / steps[0], mean[-1] / max(mean[0], 1e-12)


def verdict(rows):
    """One sentence per task: score at the most steps, and growth of memory and time."""
    lines = []
    for task in sorted({r["task"] for r in rows}):
        metric = "NRMSE" if task == "delay" else "accuracy"
        parts = []
        for system in [s for s in SYSTEMS if any(r["system"] == s and r["task"] == task for r in rows)]:
            steps, score, _ = series(rows, task, system, "score")
            _, memory = growth(rows, task, system, "memory")
            _, seconds = growth(rows, task, system, "train_s_per_sample")
            parts.append(f"{system} ({steps[0]}-{steps[-1]} steps) {metric} {score[0]:.2f} -> "
                         f"{score[-1]:.2f}, memory x{memory:.1f}, time x{seconds:.1f}")
        lines.append(f"{task}: " + "; ".join(parts))
    return "Measured, from the fewest to the most steps: " + "\n".join(lines)


def draw(path, out):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    tasks = sorted({r["task"] for r in rows})
    use_style()
    fig, axes = plt.subplots(len(tasks), 3, figsize=(12, 2.8 * len(tasks) + 1.2), squeeze=False)
    for row, task in zip(axes, tasks):
        for c, system in enumerate(SYSTEMS):
            if not any(r["system"] == system and r["task"] == task for r in rows):
                continue
            for ax, (key, label) in zip(row, PANELS):
                steps, mean, sd = series(rows, task, system, key)
                ax.errorbar(steps, mean, yerr=sd, fmt="o-", capsize=3, color=PALETTE[c],
                            label=SYSTEMS[system])
                ax.set(xscale="log", xlabel="time steps per sample", ylabel=label)
                ax.xaxis.set_minor_formatter(NullFormatter())
                if key != "score" or task == "delay":      # NRMSE spans decades across systems
                    ax.set_yscale("log")
        row[0].set_title(f"{task}: {'NRMSE (lower is better)' if task == 'delay' else 'accuracy'}")
        row[1].set_title(f"{task}: training time")
        row[2].set_title(f"{task}: memory (BPTT: autograd; sgbrian: learner)")
    legend_below(fig, axes, bottom=0.12, bbox_to_anchor=(0.5, 0.06))
    fig.text(0.01, 0.005, verdict(rows), fontsize=7, va="bottom", wrap=True)
    return save(fig, os.path.join(out, "fig8_vs_bptt"))


def main(args):
    folder = analysis_folder(args, "baselines.py", "baselines_quick")
    return draw(os.path.join(folder, "baselines.csv"), args.out)


if __name__ == "__main__":
    print(*main(arguments(__doc__)))
