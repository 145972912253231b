"""Figure 5: the temporal-precision sweep, drawn from analyses/out/temporal_precision.csv
(written by analyses/temporal_precision.py; quick mode runs a small sweep first).

(a) output deviation from the finest dt, (b) events (circles, solid) and quanta (squares,
dashed: the summed payloads |q|, what the sigma-delta code transmits) per neuron per
second: events grow as dt shrinks because graded events split into single quanta, while
quanta change little; test score when trained at each dt as (c) accuracy and (d) NRMSE,
(e) wall time per simulated second: mean over seeds, error bars ± one standard deviation
over seeds (sample sd).
"""
import csv
import os

import matplotlib.pyplot as plt
import numpy as np

from sgbrian.plotting import PALETTE, legend_below, save, use_style
from style import analysis_folder, arguments


def over_seeds(task_rows, key, dts):
    """Mean and sample sd over seeds (ddof=1; 0 for one seed) of ``key`` at each dt."""
    values = [[float(r[key]) for r in task_rows if float(r["dt_ms"]) == d] for d in dts]
    return (np.array([np.mean(v) for v in values]),
            np.array([np.std(v, ddof=1 if len(v) > 1 else 0) for v in values]))


def draw(path, out):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    use_style()
    fig, axes = plt.subplots(1, 5, figsize=(16, 3.2))
    panels = [("deviation", "(a) output deviation", "RMS / RMS(finest)", None),
              ("events_per_neuron_per_s", "(b) events (●) and quanta (□, dashed)",
               "per neuron per s", None),
              ("trained_score", "(c) accuracy trained at dt", "test accuracy", "accuracy"),
              ("trained_score", "(d) NRMSE trained at dt", "test NRMSE", "nrmse"),
              ("wall_s_per_sim_s", "(e) wall time", "s per simulated s", None)]
    for c, name in enumerate(sorted({r["task"] for r in rows})):
        task_rows = [r for r in rows if r["task"] == name]
        metric = task_rows[0]["metric"]
        dts = np.array(sorted({float(r["dt_ms"]) for r in task_rows}))
        seeds = len({r.get("seed", 0) for r in task_rows})
        for ax, (key, title, label, only) in zip(axes, panels):
            ax.set(xscale="log", xlabel="dt (ms)", ylabel=label, title=title)
            if only not in (None, metric):
                continue
            mean, spread = over_seeds(task_rows, key, dts)
            ax.errorbar(dts, mean, yerr=spread, fmt="o-", capsize=3, color=PALETTE[c],
                        label=f"{name} ({metric}, {seeds} seeds)")
            if key == "events_per_neuron_per_s":
                mean, spread = over_seeds(task_rows, "quanta_per_neuron_per_s", dts)
                ax.errorbar(dts, mean, yerr=spread, fmt="s--", capsize=3, color=PALETTE[c],
                            mfc="none")
    axes[0].set_yscale("symlog", linthresh=1e-4)
    axes[1].set_yscale("log")
    axes[4].set_yscale("log")
    legend_below(fig, axes)
    return save(fig, os.path.join(out, "fig5_temporal_precision"))


def main(args):
    folder = analysis_folder(args, "temporal_precision.py", "precision_quick")
    return draw(os.path.join(folder, "temporal_precision.csv"), args.out)


if __name__ == "__main__":
    print(*main(arguments(__doc__)))
