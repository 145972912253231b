"""Temporal precision of every task: sweep dt over 1, 0.5, 0.2, 0.1, 0.05 and 0.02 ms.

Writes analyses/out/temporal_precision.csv (one row per task and dt: deviation of a fixed
trained network from its finest-dt output, events and quanta per neuron per second, test
score when trained at that dt, wall time per simulated second), verdict.json (is the
score insensitive to dt: within 2 percentage points or 10% NRMSE?). The figure is drawn
by figures/fig5_temporal_precision.py from the CSV.

    python analyses/temporal_precision.py [--quick] [--tasks delay itd timing]
"""
import argparse
import csv
import json
import os
import time

from sgbrian.precision import DTS, sweep, verdict

HERE = os.path.dirname(os.path.abspath(__file__))

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--quick", action="store_true", help="small tasks, three dts (CI)")
parser.add_argument("--tasks", nargs="+", default=["delay", "itd", "timing"])
parser.add_argument("--target", default="numpy", choices=["numpy", "cython"])
parser.add_argument("--out", default=os.path.join(HERE, "out"))
args = parser.parse_args()

dts = (1.0, 0.1, 0.05) if args.quick else DTS
rows = []
for name in args.tasks:
    start = time.perf_counter()
    print(f"{name}: sweeping dt = {dts} ms ...", flush=True)
    rows += sweep(name, dts, mode="quick" if args.quick else "full", target=args.target)
    print(f"{name}: done in {time.perf_counter() - start:.0f} s", flush=True)

os.makedirs(args.out, exist_ok=True)
with open(os.path.join(args.out, "temporal_precision.csv"), "w", newline="") as f:
    writer = csv.DictWriter(f, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
verdicts = verdict(rows)
with open(os.path.join(args.out, "verdict.json"), "w") as f:
    json.dump({k: {"insensitive": v[0], "spread": v[1], "text": v[2]} for k, v in verdicts.items()},
              f, indent=1)
print(f"\n{'task':>7} {'dt (ms)':>8} {'deviation':>10} {'events/n/s':>11} {'quanta/n/s':>11} "
      f"{'fixed':>7} {'trained':>8} {'wall s/s':>9}")
for r in rows:
    print(f"{r['task']:>7} {r['dt_ms']:>8} {r['deviation']:>10.4f} {r['events_per_neuron_per_s']:>11.1f} "
          f"{r['quanta_per_neuron_per_s']:>11.1f} {r['fixed_score']:>7.3f} {r['trained_score']:>8.3f} "
          f"{r['wall_s_per_sim_s']:>9.2f}")
for name, (ok, spread, text) in verdicts.items():
    print(f"{name}: {'insensitive to dt' if ok else 'NOT insensitive to dt'} - {text}")
