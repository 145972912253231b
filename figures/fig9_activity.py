"""Figure 9: accuracy against activity, drawn from analyses/out/activity_tradeoff.csv
(written by analyses/activity_tradeoff.py; quick mode draws the same file).

One panel per task: the test score (accuracy, or NRMSE for delay) against quanta per
neuron per second (log), each setting's mean over seeds with error bars of ± one sample
standard deviation in both: the encoders' threshold theta swept without a penalty
(circles, darker for larger theta) and the activity penalty lambda at the default
theta (triangles); the Pareto front of the means as a line, the task's stated level
dashed, and the BPTT baseline's hidden spikes per neuron per second (star, ± sd) as the
reference.
"""
import csv
import os

import matplotlib.pyplot as plt
import numpy as np

from sgbrian.plotting import PALETTE, legend_below, save, use_style
from sgbrian.tradeoff import settings_summary
from sgbrian.experiments import EXPERIMENTS
from style import ANALYSES, arguments

NUMERIC = ("theta", "penalty", "score", "quanta_per_neuron_per_s", "events_per_neuron_per_s",
           "spikes_per_neuron_per_s", "seed")


def read_rows(path):
    """The CSV's rows with its numbers as floats."""
    with open(path) as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        for key in NUMERIC:
            if row.get(key) not in (None, ""):
                row[key] = float(row[key])
    return rows


def draw(path, out):
    rows = read_rows(path)
    tasks = [t for t in ("delay", "itd", "timing") if any(r["task"] == t for r in rows)]
    use_style()
    fig, axes = plt.subplots(1, len(tasks), figsize=(4.6 * len(tasks), 3.6), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        ex = EXPERIMENTS[task]
        summary = settings_summary([r for r in rows if r["system"] == "sgbrian"], task)
        for kind, marker, color, label in (("theta", "o", PALETTE[0], "θ swept (λ = 0)"),
                                           ("penalty", "^", PALETTE[1], "λ at the default θ")):
            chosen = [s for s in summary if (s["penalty"] > 0) == (kind == "penalty")]
            ax.errorbar([s["quanta"] for s in chosen], [s["score"] for s in chosen],
                        xerr=[s["quanta_sd"] for s in chosen], yerr=[s["score_sd"] for s in chosen],
                        fmt=marker, color=color, capsize=2, ms=5, label=label)
        front = [s for s in summary if s["front"]]
        ax.plot([s["quanta"] for s in front], [s["score"] for s in front], "-", color="0.4",
                lw=1, zorder=0, label="Pareto front")
        bptt = [r for r in rows if r["system"] == "bptt" and r["task"] == task]
        if bptt:
            spikes = np.array([r["spikes_per_neuron_per_s"] for r in bptt])
            score = np.array([r["score"] for r in bptt])
            sd = (lambda v: v.std(ddof=1) if len(v) > 1 else 0.0)
            ax.errorbar([spikes.mean()], [score.mean()], xerr=[sd(spikes)], yerr=[sd(score)],
                        fmt="*", ms=11, color=PALETTE[2], capsize=2,
                        label="BPTT baseline (hidden spikes)")
        ax.axhline(ex.goal, color="0.5", ls="--", lw=0.8, label="stated level")
        ax.set(xscale="log", xlabel="quanta (BPTT: spikes) per neuron per s",
               ylabel=f"test {'NRMSE' if ex.metric == 'nrmse' else 'accuracy'}", title=task)
        if ex.metric == "nrmse":
            ax.set_yscale("log")
    legend_below(fig, list(axes[0]))
    return save(fig, os.path.join(out, "fig9_activity"))


def main(args):
    return draw(os.path.join(ANALYSES, "out", "activity_tradeoff.csv"), args.out)


if __name__ == "__main__":
    print(*main(arguments(__doc__)))
