"""Training samples per second: sgbrian's online learner against snnTorch BPTT, one run.

ITD (dt 0.05 ms) and timing (dt 1 ms) at the experiments' own sizes and epochs: sgbrian
(cython, batch 32, its experiment settings) and the BPTT baselines of
``sgbrian.baselines`` (torch on one thread, batch 32, the same epochs; learning rate and
tau_mem from analyses/out/baselines_tuning.csv when it exists, else the first of each
grid). Prints samples/s, test accuracy and the ratio sgbrian / BPTT.

    python benchmarks/bench_vs_bptt.py [--tasks itd timing]
"""
import argparse
import csv
import os
import sys

from sgbrian import baselines
from sgbrian.experiments import EXPERIMENTS

HERE = os.path.dirname(os.path.abspath(__file__))
TUNING = os.path.join(HERE, "..", "analyses", "out", "baselines_tuning.csv")


def tuned(system, task):
    """(lr, tau_mem) with the best validation score in the tuning CSV, else defaults."""
    if os.path.exists(TUNING):
        with open(TUNING) as f:
            best = baselines.best_setting(list(csv.DictReader(f)), system, task)
        if best:
            return float(best["lr"]), float(best["tau_mem_ms"])
    return baselines.LEARNING_RATES[0], baselines.TAU_MEM[task][0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=["itd", "timing"])
    args = parser.parse_args()
    if not baselines.available():
        sys.exit(baselines.INSTALL)
    for task in args.tasks:
        dt = float(EXPERIMENTS[task].dt / baselines.ms)
        ours = baselines.sgbrian_point(task, dt, 0, "full", target="cython")
        print(f"{task} sgbrian: {1 / ours['train_s_per_sample']:.1f} samples/s, "
              f"accuracy {ours['score']:.3f}", flush=True)
        for system in [s for s in baselines.systems_for(task) if s != "sgbrian"]:
            lr, tau = tuned(system, task)
            theirs = baselines.bptt_point(system, task, dt, 0, "full", lr=lr, tau_mem=tau)
            print(f"{task} {system} (lr {lr:g}, tau_mem {tau:g} ms): "
                  f"{1 / theirs['train_s_per_sample']:.1f} samples/s, accuracy {theirs['score']:.3f}; "
                  f"sgbrian / {system} = {theirs['train_s_per_sample'] / ours['train_s_per_sample']:.2f}x",
                  flush=True)


if __name__ == "__main__":
    main()
