"""Temporal precision of every task: sweep dt over 1, 0.5, 0.2, 0.1, 0.05 and 0.02 ms.

Every (task, dt, seed) point is an independent job on a Dask cluster (a local one by
default; ``--scheduler tcp://host:8786`` or $SGBRIAN_SCHEDULER for an existing one).
Each job's result is kept in analyses/out/precision_jobs/ as it finishes, so a sweep
that was stopped resumes where it stopped. Writes analyses/out/temporal_precision.csv
(one row per task, dt and seed: deviation of a fixed trained network from its finest-dt
output, events and quanta per neuron per second, test score when trained at that dt,
wall time per simulated second) and verdict.json (is the mean score over seeds
insensitive to dt; ANOVA p-value over dt). figures/fig5_temporal_precision.py draws it.

    python analyses/temporal_precision.py [--quick] [--tasks delay itd timing] [--seeds 0 1 2]
                                          [--collect]  (the CSV of the jobs kept so far)

``--quick`` (CI, figure 5 in quick mode): small tasks, dt = 1, 0.1 and 0.05 ms, seeds 0 and 1.
"""
import argparse
import csv
import json
import os
import time

from sgbrian.parallel import add_arguments, connect
from sgbrian.precision import DTS, sweep, verdict

HERE = os.path.dirname(os.path.abspath(__file__))

def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="small tasks, three dts, seeds 0 and 1 (CI)")
    parser.add_argument("--tasks", nargs="+", default=["delay", "itd", "timing"])
    parser.add_argument("--seeds", nargs="+", type=int, default=None,
                        help="default 0 1 2; with --quick 0 1")
    parser.add_argument("--collect", action="store_true",
                        help="run nothing: write the CSV from the points whose jobs are kept")
    parser.add_argument("--target", default="numpy", choices=["numpy", "cython"])
    parser.add_argument("--out", default=os.path.join(HERE, "out"))
    add_arguments(parser)
    args = parser.parse_args()

    dts = (1.0, 0.1, 0.05) if args.quick else DTS
    seeds = args.seeds or ([0, 1] if args.quick else [0, 1, 2])
    client = None if args.collect else connect(args.scheduler, args.workers)
    start = time.perf_counter()
    rows = sweep(args.tasks, dts, mode="quick" if args.quick else "full", seeds=seeds,
                 target=args.target, client=client, folder=os.path.join(args.out, "precision_jobs"),
                 progress=True, run=not args.collect)
    print(f"sweep done in {time.perf_counter() - start:.0f} s", flush=True)

    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "temporal_precision.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    verdicts = verdict(rows)
    with open(os.path.join(args.out, "verdict.json"), "w") as f:
        json.dump({k: {"insensitive": v[0], "spread": v[1], "text": v[2], "anova_p": v[3]}
                   for k, v in verdicts.items()}, f, indent=1)
    print(f"\n{'task':>7} {'dt (ms)':>8} {'seed':>5} {'deviation':>10} {'events/n/s':>11} "
          f"{'fixed':>7} {'trained':>8} {'wall s/s':>9}")
    for r in rows:
        print(f"{r['task']:>7} {r['dt_ms']:>8} {r['seed']:>5} {r['deviation']:>10.4f} "
              f"{r['events_per_neuron_per_s']:>11.1f} {r['fixed_score']:>7.3f} "
              f"{r['trained_score']:>8.3f} {r['wall_s_per_sim_s']:>9.2f}")
    for name, (ok, spread, text, p) in verdicts.items():
        print(f"{name}: {'insensitive to dt' if ok else 'NOT insensitive to dt'} - {text}")
    if client is not None:
        client.close()


# a local Dask cluster starts worker processes that import this file: run only as a script
if __name__ == "__main__":
    main()
