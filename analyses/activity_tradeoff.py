"""Accuracy against activity: sweep the encoders' threshold theta and the activity penalty.

For delay, ITD and timing (3 seeds each): theta at 10^-0.5 .. 10^1 times the network's
default without a penalty, and lambda = 0.01, 0.03, 0.1 (``lambda sum_t |y(t) - y(t-dt)|``
on the hidden outputs, exact gradients) at the default theta, every point a trained
network's test score with its quanta and events per neuron per second. The BPTT
baseline of each task (snnTorch, the ``baselines`` extra) gives the reference: its
hidden spikes per neuron per second. Every point is a job on a Dask cluster (a local one
by default), kept in analyses/out/tradeoff_jobs/ as it finishes: a stopped sweep resumes.

Writes analyses/out/activity_tradeoff.csv (one row per point and seed; BPTT rows have
system 'bptt'), analyses/out/activity_summary.json (per task and setting: mean and sd
over seeds, the Pareto front, the fewest quanta that still meet the task's goal);
figures/fig9_activity.py draws them.

    python analyses/activity_tradeoff.py [--tasks delay itd timing] [--seeds 0 1 2]
                                         [--workers 2] [--collect]
"""
import argparse
import csv
import json
import os
import time

from sgbrian.parallel import add_arguments, connect, run_jobs
from sgbrian.tradeoff import bptt_reference, fewest_quanta, settings_summary, sweep

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=["delay", "itd", "timing"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--collect", action="store_true",
                        help="run nothing: write the CSV from the points whose jobs are kept")
    parser.add_argument("--no-bptt", action="store_true", help="leave out the BPTT reference")
    parser.add_argument("--target", default="numpy", choices=["numpy", "cython"])
    parser.add_argument("--out", default=os.path.join(HERE, "out"))
    add_arguments(parser)
    args = parser.parse_args()

    client = None if args.collect else connect(args.scheduler, args.workers)
    folder = os.path.join(args.out, "tradeoff_jobs")
    start = time.perf_counter()
    rows = [{"system": "sgbrian", **row} for row in
            sweep(args.tasks, args.seeds, folder, client=client, target=args.target)]
    if not args.no_bptt:
        points = [dict(task=task, seed=seed) for task in args.tasks for seed in args.seeds]
        rows += [{**row, "bptt_system": row["system"], "system": "bptt"} for row in
                 run_jobs(bptt_reference, points, folder, client=client, description="BPTT references")]
    print(f"sweep done in {time.perf_counter() - start:.0f} s", flush=True)

    os.makedirs(args.out, exist_ok=True)
    columns = sorted({key for row in rows for key in row})
    with open(os.path.join(args.out, "activity_tradeoff.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)

    summary = {}
    for task in args.tasks:
        settings = settings_summary([r for r in rows if r["system"] == "sgbrian"], task)
        bptt = [r for r in rows if r["system"] == "bptt" and r["task"] == task]
        summary[task] = {"settings": settings, "fewest_quanta_meeting_goal": fewest_quanta(settings),
                         "bptt": {"system": bptt[0]["bptt_system"] if bptt else None,
                                  "score": [r["score"] for r in bptt],
                                  "spikes_per_neuron_per_s": [r["spikes_per_neuron_per_s"] for r in bptt]}}
        best = summary[task]["fewest_quanta_meeting_goal"]
        print(f"\n{task}: {'theta':>8} {'lambda':>7} {'score':>14} {'quanta/n/s':>16} front")
        for s in settings:
            print(f"{'':>{len(task) + 1}} {s['theta']:8.4f} {s['penalty']:7.3f} "
                  f"{s['score']:7.3f} ± {s['score_sd']:.3f} {s['quanta']:8.0f} ± {s['quanta_sd']:5.0f} "
                  f"{'*' if s['front'] else ''}")
        if best:
            print(f"  fewest quanta meeting the goal: {best['quanta']:.0f} per neuron per s "
                  f"(theta {best['theta']:.4f}, lambda {best['penalty']})")
    with open(os.path.join(args.out, "activity_summary.json"), "w") as f:
        json.dump(summary, f, indent=1)


if __name__ == "__main__":
    main()
