"""sgbrian's online learner side by side with snnTorch BPTT baselines, against dt.

Every task (delay, ITD, timing; the same generated data and splits for every system) at
dt = 1, 0.5, 0.2, 0.1, 0.05, 0.02 ms for the same physical duration, with seeds 0, 1, 2:
test score, training wall time per sample, peak RSS per sample, and the memory each learning
method keeps per sample: autograd's saved tensors for BPTT, the learner's buffers for
sgbrian (``sgbrian.baselines``). Each baseline's learning rate and
membrane time constant are picked first on a validation split at the task's own dt.
Every point is a job on a Dask cluster (``--scheduler``; default a local one), kept in
analyses/out/baseline_jobs/ so that a stopped run resumes. Writes
analyses/out/baselines.csv (one row per system, task, dt and seed run so far in this mode) and baselines_tuning.csv;
figures/fig8_vs_bptt.py draws them.

    python analyses/baselines.py [--quick] [--mode full|reduced] [--tasks ...] [--dts ...] [--seeds ...]
    python analyses/baselines.py --mode reduced --collect   # the CSVs from the jobs kept so far
    python analyses/baselines.py --table                    # docs/analyses.md's tables from the CSV
"""
import argparse
import csv
import json
import os
import sys

from sgbrian import baselines
from sgbrian.parallel import add_arguments, connect, run_jobs
from sgbrian.precision import DTS

HERE = os.path.dirname(os.path.abspath(__file__))


def write_csv(path, rows):
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=sorted({k for r in rows for k in r}))
        writer.writeheader()
        writer.writerows(rows)


def every_result(*folders):
    """Every job result (JSON) kept in ``folders``."""
    return [json.load(open(os.path.join(folder, name))) for folder in folders
            for name in sorted(os.listdir(folder)) if name.endswith(".json") and not name.startswith(".")]


def write_outputs(jobs, out):
    """Write baselines.csv and baselines_tuning.csv into ``out`` from the job results kept
    in ``jobs``; return the rows of baselines.csv. The CSV holds every point run so far in
    this mode (earlier runs with other tasks or dts included), so that a comparison can be
    built up run by run; a baseline's points only with the setting its tuning chooses now."""
    every_tuning = every_result(os.path.join(jobs, "tuning"))
    rows = baselines.with_chosen_settings(
        every_result(os.path.join(jobs, "sgbrian_point"), os.path.join(jobs, "bptt_point")),
        every_tuning)
    states = os.path.join(jobs, "sgbrian_state_point")
    rows = baselines.with_learner_state(rows, every_result(states) if os.path.isdir(states) else [])
    os.makedirs(out, exist_ok=True)
    write_csv(os.path.join(out, "baselines.csv"), rows)
    write_csv(os.path.join(out, "baselines_tuning.csv"), every_tuning)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny tasks, two dts, one seed (CI)")
    parser.add_argument("--mode", default="full", choices=["full", "reduced"],
                        help="task sizes (sgbrian.precision.SIZES); full: those of models/")
    parser.add_argument("--tasks", nargs="+", default=["delay", "itd", "timing"])
    parser.add_argument("--dts", nargs="+", type=float, default=list(DTS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--target", default="numpy", choices=["numpy", "cython"])
    parser.add_argument("--out", default=os.path.join(HERE, "out"))
    parser.add_argument("--table", action="store_true",
                        help="print the tables of docs/analyses.md from OUT/baselines.csv; run nothing")
    parser.add_argument("--collect", action="store_true",
                        help="write the CSVs from the job results kept so far (a stopped run's); run nothing")
    add_arguments(parser)
    args = parser.parse_args()
    if args.table:
        with open(os.path.join(args.out, "baselines.csv")) as f:
            rows = list(csv.DictReader(f))
        for task in args.tasks:
            print(baselines.summary_table(rows, task, seeds=len(args.seeds)), end="\n\n")
        return
    if not baselines.available():
        sys.exit(baselines.INSTALL)
    mode = "quick" if args.quick else args.mode
    dts = [1.0, 0.5] if args.quick else args.dts
    seeds = [0] if args.quick else args.seeds
    jobs = os.path.join(args.out, "baseline_jobs", mode)
    if args.collect:
        write_outputs(jobs, args.out)
        return
    client = connect(args.scheduler, args.workers)

    tuning_points = [dict(system=s, task=t, dt_ms=float(baselines.EXPERIMENTS[t].dt / baselines.ms),
                          seed=0, mode=mode, lr=lr, tau_mem=tau, validation=True)
                     for t in args.tasks for s in baselines.systems_for(t) if s != "sgbrian"
                     for lr in baselines.LEARNING_RATES for tau in baselines.TAU_MEM[t]]
    tuning = run_jobs(baselines.bptt_point, tuning_points, os.path.join(jobs, "tuning"), client,
                      description="tuning (validation split)")
    points = []
    for t in args.tasks:
        for s in baselines.systems_for(t):
            for dt in dts:
                for seed in seeds:
                    if s == "sgbrian":
                        points.append((baselines.sgbrian_point,
                                       dict(task=t, dt_ms=dt, seed=seed, mode=mode, target=args.target)))
                    else:
                        chosen = baselines.best_setting(tuning, s, t)
                        points.append((baselines.bptt_point,
                                       dict(system=s, task=t, dt_ms=dt, seed=seed, mode=mode,
                                            lr=chosen["lr"], tau_mem=chosen["tau_mem_ms"])))
    points += [(baselines.sgbrian_state_point, dict(task=t, dt_ms=dt, seed=seed, mode=mode))
               for t in args.tasks for dt in dts for seed in seeds]
    for function in (baselines.sgbrian_state_point, baselines.sgbrian_point, baselines.bptt_point):
        mine = [p for f, p in points if f is function]
        run_jobs(function, mine, os.path.join(jobs, function.__name__), client,
                 description=function.__name__)
    rows = write_outputs(jobs, args.out)
    print(f"{'task':>7} {'system':>10} {'dt':>5} {'seed':>4} {'steps':>6} {'score':>7} "
          f"{'s/sample':>9} {'RSS MiB/s.':>10} {'kept MiB/s.':>11}")
    for r in sorted(rows, key=lambda r: (r["task"], r["system"], -r["dt_ms"], r["seed"])):
        kept = r.get(baselines.memory_key(r["system"]))
        print(f"{r['task']:>7} {r['system']:>10} {r['dt_ms']:>5} {r['seed']:>4} {r['steps']:>6} "
              f"{r['score']:>7.3f} {r['train_s_per_sample']:>9.4f} "
              f"{r['peak_rss_mib_per_sample']:>10.3f} {float('nan') if kept is None else kept:>11.3f}")
    if client is not None:
        client.close()


# a local Dask cluster starts worker processes that import this file: run only as a script
if __name__ == "__main__":
    main()
