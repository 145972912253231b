"""Long delays: build time and time per step against the largest delay.

A 100 -> 64 -> 10 network (K = 8, dt = 0.1 ms, analog input sigma-delta coded, random
per-synapse delays in every connection) is built with a maximum delay of 16, 256 and
4,096 steps, otherwise identical, and run for --steps steps under one target (default
cython; each size in its own process). Build = construction, code generation and the
first run of 10 steps; per step = a second run of --steps steps. The payload history is
a ring buffer (sgbrian.history): the goal is a time per step at 4,096 steps within 1.5x
of 16 steps, and a build under 10 s. Writes benchmarks/out/bench_delays.json.

    python benchmarks/bench_delays.py [--target cython] [--steps 4000]
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

MAX_DELAYS = (16, 256, 4096)


def child(target, max_steps, steps):
    from brian2 import defaultclock, ms, prefs
    import sgbrian
    prefs.codegen.target = target
    defaultclock.dt = 0.1 * ms
    total = steps + 10
    t = np.arange(total) * 1e-4
    signal = np.sin(2 * np.pi * np.outer(t, np.linspace(5, 60, 100)))
    start = time.perf_counter()
    net = sgbrian.feedforward([100, 64, 10], K=8, tau=1 * ms, theta=0.05, signal=signal,
                              max_delay=max_steps * defaultclock.dt, random_delays=True,
                              record=("spikes",), seed=0)
    net.run(10 * defaultclock.dt)
    build = time.perf_counter() - start
    start = time.perf_counter()
    net.run(steps * defaultclock.dt)
    run = time.perf_counter() - start
    return {"max_delay_steps": max_steps, "build_s": build, "us_per_step": 1e6 * run / steps,
            "hidden_events": int(net.monitors[1]["spikes"].num_spikes)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="cython", choices=["numpy", "cython"])
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], int(args.child[1]), int(args.child[2]))))
        return
    rows = []
    for max_steps in MAX_DELAYS:
        proc = subprocess.run([sys.executable, __file__, "--child", args.target, str(max_steps),
                               str(args.steps)], capture_output=True, text=True, check=True)
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        r = rows[-1]
        print(f"max delay {max_steps:5d} steps: build {r['build_s']:.2f} s, "
              f"{r['us_per_step']:.1f} us/step, {r['hidden_events']} hidden events", flush=True)
    ratio = rows[-1]["us_per_step"] / rows[0]["us_per_step"]
    print(f"time per step, {MAX_DELAYS[-1]} vs {MAX_DELAYS[0]} steps of delay: {ratio:.2f}x "
          f"(goal <= 1.5x); largest build {max(r['build_s'] for r in rows):.2f} s (goal < 10 s)")
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "out")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "bench_delays.json"), "w") as f:
        json.dump({"target": args.target, "steps": args.steps, "rows": rows, "ratio": ratio}, f,
                  indent=1)


if __name__ == "__main__":
    main()
