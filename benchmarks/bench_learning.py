"""Learning plugin: memory against sequence length, and training speed against simulation.

1. Peak memory (max RSS of a fresh process) of training 100 -> 64 -> 10 (K=8, rule
   'exact', dt = 1 ms, Poisson input at 20 Hz) on one sample of 0.5 s, 2 s and 8 s,
   and the memory held by the learner's own state (traces and buffers).
2. Steps per second of training with the plugin against simulation alone, for
   700 -> 256 -> 20 (K=8, rule 'spatial') and 100 -> 64 -> 10 (K=8, rule 'exact'),
   under the cython target (compilation excluded by a warm-up run).

    python benchmarks/bench_learning.py [--quick]

Prints tables and writes benchmarks/out/bench_learning.json.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def poisson_sample(n_in, n_out, steps, seed, rate_hz=20.0):
    from brian2 import ms
    from sgbrian.datasets import Sample
    rng = np.random.default_rng(seed)
    spikes = rng.random((steps, n_in)) < rate_hz * 1e-3
    step_idx, channels = np.nonzero(spikes)
    return Sample((channels, step_idx * ms), int(rng.integers(n_out)), steps)


def make_learner(sizes, rule, target, seed=0):
    from brian2 import defaultclock, ms, prefs
    import sgbrian
    from sgbrian.learning import OnlineLearner
    from sgbrian.losses import CrossEntropyLoss
    prefs.codegen.target = target
    defaultclock.dt = 1 * ms
    first = poisson_sample(sizes[0], sizes[-1], 10, seed)
    net = sgbrian.feedforward(list(sizes), K=8, tau=5 * ms, theta=0.05, spikes=first.input,
                              seed=seed)
    return net, OnlineLearner(net, CrossEntropyLoss(), rule=rule, update_every="sample")


def learner_state_bytes(learner):
    arrays = [c.senders.u for c in learner.connections]
    arrays += [c.senders.history for c in learner.connections]
    arrays += [wg.u for wg in learner.weight_grads] + [wg.vd for wg in learner.weight_grads]
    arrays += list(learner.grads.values())
    if learner.rule == "exact":
        arrays += [t.u for _, t in learner.exact.values()]
        arrays += [t.history for _, t in learner.exact.values()]
    return int(sum(a.nbytes for a in arrays))


def memory_child(seconds):
    net, learner = make_learner((100, 64, 10), "exact", "numpy")
    steps = int(seconds * 1000)
    learner.fit([poisson_sample(100, 10, steps, 1)], 1, progress=False)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"seconds": seconds, "peak_rss_mib": peak_kib / 1024,
            "learner_state_mib": learner_state_bytes(learner) / 2 ** 20}


def speed_child(sizes, rule, target, steps):
    from brian2 import ms
    net, learner = make_learner(sizes, rule, target)
    sample = poisson_sample(sizes[0], sizes[-1], steps, 2)
    learner.fit([poisson_sample(sizes[0], sizes[-1], 20, 3)], 1, progress=False)   # compile
    start = time.perf_counter()
    learner.fit([sample], 1, progress=False)
    train = steps / (time.perf_counter() - start)
    learner.detach()
    net.set_input(spikes=sample.input, start=net.network.t)
    net.run(20 * ms)                                                             # compile
    start = time.perf_counter()
    net.run(steps * ms)
    simulate = steps / (time.perf_counter() - start)
    return {"sizes": sizes, "rule": rule, "target": target, "train_steps_per_s": train,
            "simulation_steps_per_s": simulate, "ratio": train / simulate}


def child(args):
    if args.child == "memory":
        return memory_child(args.seconds)
    return speed_child(tuple(args.sizes), args.rule, args.target, args.steps)


def run_child(*argv):
    out = subprocess.run([sys.executable, __file__, *map(str, argv)], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short samples, for a smoke test")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--sizes", type=int, nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--rule", help=argparse.SUPPRESS)
    parser.add_argument("--target", help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args)))
        return
    lengths = (0.1, 0.2, 0.4) if args.quick else (0.5, 2.0, 8.0)
    memory = [run_child("--child", "memory", "--seconds", s) for s in lengths]
    print(f"{'sample (s)':>10} {'peak RSS (MiB)':>15} {'learner state (MiB)':>20}")
    for m in memory:
        print(f"{m['seconds']:>10} {m['peak_rss_mib']:>15.1f} {m['learner_state_mib']:>20.2f}")
    growth = memory[-1]["peak_rss_mib"] / memory[0]["peak_rss_mib"] - 1
    print(f"peak RSS growth from {lengths[0]} s to {lengths[-1]} s: {100 * growth:.1f}%\n")
    steps = 100 if args.quick else 3000
    speed = [run_child("--child", "speed", "--sizes", *sizes, "--rule", rule, "--target", target,
                       "--steps", steps)
             for sizes, rule in (((700, 256, 20), "spatial"), ((100, 64, 10), "exact"))
             for target in ("cython", "numpy")]
    print(f"{'network':>16} {'rule':>8} {'target':>7} {'train steps/s':>14} {'sim steps/s':>12} "
          f"{'ratio':>6}")
    for s in speed:
        print(f"{'->'.join(map(str, s['sizes'])):>16} {s['rule']:>8} {s['target']:>7} "
              f"{s['train_steps_per_s']:>14.0f} {s['simulation_steps_per_s']:>12.0f} "
              f"{s['ratio']:>6.2f}")
    os.makedirs(os.path.join(HERE, "out"), exist_ok=True)
    with open(os.path.join(HERE, "out", "bench_learning.json"), "w") as f:
        json.dump({"memory": memory, "rss_growth": growth, "speed": speed}, f, indent=1)


if __name__ == "__main__":
    main()
