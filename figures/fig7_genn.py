"""Figure 7: the GeNN mapping summary, from analyses/out/genn_report.json (written by
analyses/genn_codegen.py; quick mode writes its own small report first)."""
import json
import os

import matplotlib.pyplot as plt
import numpy as np

from sgbrian.plotting import PALETTE, save, use_style
from style import analysis_folder, arguments


def main(args):
    report_dir = analysis_folder(args, "genn_codegen.py", "genn_quick")
    with open(os.path.join(report_dir, "genn_report.json")) as f:
        report = json.load(f)
    use_style()
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    names = list(report["models"])
    lines = [report["models"][n]["model_lines"] for n in names]
    axes[0].bar(names, lines, color=PALETTE[:len(names)])
    axes[0].set(ylabel="lines of GeNN model code", title="Generated GeNN model per model")
    sizes = np.array([1e3, 1e4, 1e5, 1e6])
    for c, n in enumerate(names):
        mem = list(report["models"][n]["gpu_memory_mib"].values())
        axes[1].loglog(sizes, mem, "o-", color=PALETTE[c], label=n)
    axes[1].set(xlabel="neurons per layer", ylabel="estimated GPU memory (MiB)",
                title="GPU memory (fan-in 100, emitter copies)")
    axes[1].legend()
    targets = [t for t in report["targets"]]
    axes[2].bar([t["target"].split(" ")[0] for t in targets], [t["generated_lines"] for t in targets],
                color=PALETTE[4])
    for i, t in enumerate(targets):
        run = "no GeNN here" if t["run_s_per_sim_s"] is None else f"run {t['run_s_per_sim_s']:.3g} s/s"
        axes[2].text(i, t["generated_lines"], run, ha="center", va="bottom", fontsize=7)
    axes[2].set(ylabel="generated lines", title="Targets: code size and run time (100-64-10)")
    fig.tight_layout()
    return save(fig, os.path.join(args.out, "fig7_genn"))


if __name__ == "__main__":
    print(*main(arguments(__doc__)))
