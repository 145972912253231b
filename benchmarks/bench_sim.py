"""Simulation speed: steps per second of 700 -> 256 -> 20 (K=8, dt = 1 ms, 1000 steps).

Runs the network under numpy, cython and cpp_standalone (each in its own process, build
and compilation excluded: a warm-up run for the runtime targets, Brian2's measured
run time for standalone), and a plain vectorised numpy loop of the same equations as
the reference. Prints steps/s and the ratio to the reference; writes
benchmarks/out/bench_sim.json.

    python benchmarks/bench_sim.py [--steps 1000]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

SIZES, K, TAU_MS, THETA, RATE_HZ, SEED = (700, 256, 20), 8, 5.0, 0.05, 20.0, 0


def input_spikes(steps):
    rng = np.random.default_rng(SEED)
    spikes = rng.random((steps, SIZES[0])) < RATE_HZ * 1e-3
    steps_idx, channels = np.nonzero(spikes)
    return channels, steps_idx


def brian_run(target, steps):
    from brian2 import defaultclock, device, ms
    import sgbrian
    from sgbrian.targets import use_target
    build = tempfile.mkdtemp(prefix="bench_sa_")
    use_target(target, directory=build)
    defaultclock.dt = 1 * ms
    channels, steps_idx = input_spikes(steps)
    net = sgbrian.feedforward(list(SIZES), K=K, tau=TAU_MS * ms, theta=THETA,
                              spikes=(channels, steps_idx * ms), record=("spikes",), seed=SEED)
    if target == "cpp_standalone":
        net.run(steps * ms)
        elapsed = device._last_run_time
    else:
        net.run(10 * ms)                       # compile and warm up
        start = time.perf_counter()
        net.run((steps - 10) * ms)
        elapsed = (time.perf_counter() - start) * steps / (steps - 10)
    events = int(net.monitors[-1]["spikes"].num_spikes + net.monitors[1]["spikes"].num_spikes)
    return {"steps_per_s": steps / elapsed, "events": events}


def numpy_reference(steps):
    """The same network as a vectorised numpy loop (event-driven arrivals)."""
    from sgbrian import cascade_propagator
    rng = np.random.default_rng(SEED)
    W = []
    for l in range(2):            # the builder's draws: connection mask, then weights
        shape = (SIZES[l], SIZES[l + 1])
        rng.random(shape)
        W.append(rng.normal(0, 1 / np.sqrt(SIZES[l]), shape))
    P = cascade_propagator(1e-3, np.full(K, TAU_MS * 1e-3)).T.copy()
    v = np.full(K + 1, 1 / (K + 1))
    U = [np.zeros((n, K + 1)) for n in SIZES[1:]]
    r = [np.zeros(n) for n in SIZES[1:]]
    channels, steps_idx = input_spikes(steps)
    per_step = np.split(channels, np.searchsorted(steps_idx, np.arange(1, steps)))
    events = 0
    start = time.perf_counter()
    for n in range(steps):
        for l in range(2):
            U[l] = U[l] @ P
        U[0][:, 1] += W[0][per_step[n]].sum(axis=0)
        for l in range(2):
            x = U[l] @ v
            y = np.maximum(x, 0) if l == 0 else x
            q = np.floor((y - r[l]) / THETA + 0.5)
            r[l] += q * THETA
            active = np.flatnonzero(q)
            events += active.size
            if l == 0 and active.size:
                U[1][:, 0] += (q[active] * THETA) @ W[1][active]
    return {"steps_per_s": steps / (time.perf_counter() - start), "events": events}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--target", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.target:                                  # child process: one Brian2 target
        print(json.dumps(brian_run(args.target, args.steps)))
        return
    results = {"numpy reference loop": numpy_reference(args.steps)}
    for target in ("numpy", "cython", "cpp_standalone"):
        print(f"running {target} ...", flush=True)
        out = subprocess.run([sys.executable, __file__, "--target", target, "--steps",
                              str(args.steps)], check=True, capture_output=True, text=True)
        results[target] = json.loads(out.stdout.strip().splitlines()[-1])
    ref = results["numpy reference loop"]["steps_per_s"]
    print(f"\n{'':22} {'steps/s':>10} {'x reference':>12} {'events':>8}")
    for name, res in results.items():
        res["ratio_to_reference"] = res["steps_per_s"] / ref
        print(f"{name:22} {res['steps_per_s']:>10.0f} {res['ratio_to_reference']:>12.2f} "
              f"{res['events']:>8}")
    os.makedirs(os.path.join(os.path.dirname(__file__), "out"), exist_ok=True)
    with open(os.path.join(os.path.dirname(__file__), "out", "bench_sim.json"), "w") as f:
        json.dump({"steps": args.steps, "sizes": SIZES, "K": K, "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
