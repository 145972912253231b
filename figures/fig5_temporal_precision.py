"""Figure 5: the temporal-precision sweep, drawn from analyses/out/temporal_precision.csv.

(a) output deviation from the finest dt, (b) events per neuron per second, (c) test score
when trained at each dt, (d) wall time per simulated second. Run
analyses/temporal_precision.py first (it calls this script at its end).
"""
import csv
import os
import sys

import matplotlib.pyplot as plt
import numpy as np

from sgbrian.plotting import PALETTE, save, use_style

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CSV = os.path.join(HERE, "..", "analyses", "out", "temporal_precision.csv")


def main(path=DEFAULT_CSV, out=os.path.join(HERE, "out")):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    use_style()
    fig, axes = plt.subplots(1, 4, figsize=(13, 3.2))
    panels = [("deviation", "(a) output deviation", "RMS / RMS(finest)"),
              ("events_per_neuron_per_s", "(b) events", "events / neuron / s"),
              ("trained_score", "(c) score trained at dt", "accuracy or NRMSE"),
              ("wall_s_per_sim_s", "(d) wall time", "s per simulated s")]
    for c, name in enumerate(sorted({r["task"] for r in rows})):
        task_rows = [r for r in rows if r["task"] == name]
        dts = np.array([float(r["dt_ms"]) for r in task_rows])
        for ax, (key, title, label) in zip(axes, panels):
            values = np.array([float(r[key]) for r in task_rows])
            ax.plot(dts, values, "o-", color=PALETTE[c], label=f"{name} ({task_rows[0]['metric']})")
            ax.set(xscale="log", xlabel="dt (ms)", ylabel=label, title=title)
    axes[0].set_yscale("symlog", linthresh=1e-6)
    axes[2].legend()
    fig.tight_layout()
    return save(fig, os.path.join(out, "fig5_temporal_precision"))


if __name__ == "__main__":
    print(*main(*sys.argv[1:2]))
