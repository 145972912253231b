"""Training samples per second: sgbrian's online learner against snnTorch BPTT, one run.

ITD (dt 0.05 ms) and timing (dt 1 ms) at the experiments' own sizes and epochs: sgbrian
(cython, batch 32, its experiment settings, rule 'adjoint') and the BPTT baselines of
``sgbrian.baselines`` (torch on one thread, batch 32, the same epochs; learning rate and
tau_mem from analyses/out/baselines_tuning.csv when it exists, else the first of each
grid), each after an untimed quick-mode run of every system (``warm_up``: compilation
and first allocations are one-time costs). Prints samples/s, test accuracy and the ratio
sgbrian / BPTT.

Then, in the same run, the floor of the experiments' rule 'adjoint' on the same network
and a batch of its samples (``floors.adjoint_floor``): its operation count per sample
(the injections, the cascades forward for the simulation and the rebuild and backward,
the gathers, the error sent down) run as its compiled loops alone, and the fraction of
that floor's speed that training reaches.

    python benchmarks/bench_vs_bptt.py [--tasks itd timing]
"""
import argparse
import csv
import os
import sys

from brian2 import defaultclock, ms, prefs

from sgbrian import baselines
from sgbrian.experiments import EXPERIMENTS

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
TUNING = os.path.join(HERE, "..", "analyses", "out", "baselines_tuning.csv")


def tuned(system, task):
    """(lr, tau_mem) with the best validation score in the tuning CSV, else defaults."""
    if os.path.exists(TUNING):
        with open(TUNING) as f:
            best = baselines.best_setting(list(csv.DictReader(f)), system, task)
        if best:
            return float(best["lr"]), float(best["tau_mem_ms"])
    return baselines.LEARNING_RATES[0], baselines.TAU_MEM[task][0]


def sgbrian_floor(task, dt):
    """The adjoint's floor on the experiment's network and a batch of its training samples
    (``floors.adjoint_floor``: its operation count per sample run as its compiled loops
    alone, Brian2's simulation counted as the same loops); a dict with ``floor_ms`` and
    ``macs_per_sample``."""
    from floors import adjoint_floor
    from sgbrian.experiments import build_learner
    from sgbrian.precision import task_data
    defaultclock.dt = dt * ms
    data = task_data(task, dt, 0, "full")
    _, learner = build_learner(task, data, 0)
    return adjoint_floor(learner, data.train[:EXPERIMENTS[task].batch_size])


def warm_up(task, dt):
    """One untimed quick-mode run of every system on ``task`` at ``dt``, so that the timed
    runs leave out one-time costs: Brian2's Cython compilation (a cold cache on a new
    machine made sgbrian 4-5 times slower in the first timed run), numba's compilation
    of the trace kernel in this process, torch's first allocations. On ITD this covers
    the compilation; on timing the quick task's code differs in part from the full one's,
    so on a cold cache the first run of the bench is still slower there (92 against 258
    samples/s, 2026-12-02): run it twice on a new machine."""
    baselines.sgbrian_point(task, dt, 0, "quick", target="cython", rule=EXPERIMENTS[task].rule)
    for system in [s for s in baselines.systems_for(task) if s != "sgbrian"]:
        baselines.bptt_point(system, task, dt, 0, "quick", *tuned(system, task))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=["itd", "timing"])
    args = parser.parse_args()
    if not baselines.available():
        sys.exit(baselines.INSTALL)
    for task in args.tasks:
        dt = float(EXPERIMENTS[task].dt / baselines.ms)
        warm_up(task, dt)
        ours = baselines.sgbrian_point(task, dt, 0, "full", target="cython",
                                       rule=EXPERIMENTS[task].rule)
        print(f"{task} sgbrian: {1 / ours['train_s_per_sample']:.1f} samples/s, "
              f"accuracy {ours['score']:.3f}", flush=True)
        bptt = {}
        for system in [s for s in baselines.systems_for(task) if s != "sgbrian"]:
            lr, tau = tuned(system, task)
            theirs = baselines.bptt_point(system, task, dt, 0, "full", lr=lr, tau_mem=tau)
            bptt[system] = theirs["train_s_per_sample"]
            print(f"{task} {system} (lr {lr:g}, tau_mem {tau:g} ms): "
                  f"{1 / theirs['train_s_per_sample']:.1f} samples/s, accuracy {theirs['score']:.3f}; "
                  f"sgbrian / {system} = {theirs['train_s_per_sample'] / ours['train_s_per_sample']:.2f}x",
                  flush=True)
        prefs.codegen.target = "cython"
        floor = sgbrian_floor(task, dt)
        fraction = floor["floor_ms"] / 1e3 / ours["train_s_per_sample"]
        print(f"{task} floor of rule 'adjoint' at batch {EXPERIMENTS[task].batch_size}: "
              f"{floor['macs_per_sample'] / 1e6:.2f} M multiply-adds, {floor['floor_ms']:.3f} ms "
              f"per sample as compiled loops alone; sgbrian trains at {fraction:.2f} of the "
              f"floor's speed", flush=True)
        for system, seconds in bptt.items():
            print(f"{task}: the floor / {system} = {seconds / floor['floor_ms'] * 1e3:.2f}x",
                  flush=True)


if __name__ == "__main__":
    main()
