"""Figure 7: the GeNN export, from analyses/out/genn_report.json (written by
analyses/genn_codegen.py; quick mode writes its own small report first).

(a) run time per simulated second of 100 -> 64 -> 10 under each target (build time
above each bar); (b) synapses of each exported model, now and in the emitter-copy form;
(c) estimated GPU memory of one hidden layer against its size."""
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
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    targets = report["targets"]
    names = [t["target"] for t in targets]
    axes[0].bar(names, [t["run_s_per_sim_s"] for t in targets], color=PALETTE[:len(names)])
    for i, t in enumerate(targets):
        axes[0].text(i, t["run_s_per_sim_s"], f"build {t['build_s']:.1f} s", ha="center",
                     va="bottom", fontsize=7)
    axes[0].set(yscale="log", ylabel="run time per simulated second (s)",
                title="(a) 100-64-10, K = 8, dt = 1 ms")
    models = list(report["models"])
    x = np.arange(len(models))
    now = [sum(report["models"][m]["synapses"]["genn"]) for m in models]
    before = [sum(report["models"][m]["synapses"]["emitter_copies"]) for m in models]
    axes[1].bar(x - 0.2, now, 0.4, color=PALETTE[0], label="export (delayed q_pre)")
    axes[1].bar(x + 0.2, before, 0.4, color=PALETTE[1], label="emitter copies (earlier)")
    axes[1].set(xticks=x, xticklabels=models, yscale="log", ylabel="synapses in GeNN",
                title="(b) trained models")
    axes[1].legend(loc="upper left", bbox_to_anchor=(0, -0.12), ncol=2, frameon=False, fontsize=7)
    sizes = np.array([1e3, 1e4, 1e5, 1e6])
    for c, m in enumerate(models):
        mem = report["models"][m]["gpu_memory_mib"].values()
        axes[2].loglog(sizes, [v["export"] for v in mem], "o-", color=PALETTE[c], label=m)
        axes[2].loglog(sizes, [v["emitter_copies"] for v in mem], "s--", color=PALETTE[c],
                       alpha=0.6)
    axes[2].set(xlabel="neurons in the hidden layer", ylabel="estimated GPU memory (MiB)",
                title="(c) fan-in 100: export (solid), emitter copies (dashed)")
    axes[2].legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, fontsize=7)
    fig.tight_layout()
    return save(fig, os.path.join(args.out, "fig7_genn"))


if __name__ == "__main__":
    print(*main(arguments(__doc__)))
