"""Learning plugin: memory against sequence length, and training speed against simulation.

1. Peak memory (max RSS of a fresh process) of training 100 -> 64 -> 10 (K=8, rule
   'exact', dt = 1 ms, Poisson input at 20 Hz) on one sample of 0.5 s, 2 s and 8 s,
   and the memory held by the learner's own state (traces and buffers).
2. Steps per second of training with the plugin against simulation alone, for
   700 -> 256 -> 20 (K=8, rule 'spatial') and 100 -> 64 -> 10 (K=8, rule 'exact'),
   under the cython target (compilation excluded by a warm-up run).
3. Batches: training samples per second of 700 -> 256 -> 20 (spatial) at batch size 1
   and 32 against the floor of its gradient accumulation (S (K+1) multiply-adds per step
   and sample, timed as numpy matrix products of that size on this machine); and the
   ITD and timing tasks trained one sample at a time (ITD lr 2e-2, 4 epochs; timing 1e-2,
   3 epochs) and with the experiments' defaults, batch 32 (ITD 5e-2, 8 epochs; timing
   3e-2, 3 epochs): samples per second and test accuracy (cython).

    python benchmarks/bench_learning.py [--quick] [--only batch]

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
    engine = learner.engine(1)
    arrays = [c.senders.history for c in engine.connections]
    arrays += [wg.u for wg in engine.weight_grads] + [wg.vd for wg in engine.weight_grads]
    arrays += list(learner.grads.values())
    if learner.rule == "exact":
        arrays += [t.history for _, t in engine.exact.values()] + [engine.w0_dense]
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


def floor_sample_steps_per_s(sizes, K, batch=32, buffer=32):
    """Sample-steps per second of the gradient accumulation alone: for every connection
    a (n_pre, buffer*batch*(K+1)) @ (buffer*batch*(K+1), n_post) product covers
    ``buffer`` steps of ``batch`` samples (S (K+1) multiply-adds per step and sample)."""
    rng = np.random.default_rng(0)
    pairs = [(rng.random((a, buffer * batch * (K + 1))), rng.random((buffer * batch * (K + 1), b)))
             for a, b in zip(sizes[:-1], sizes[1:])]
    for left, right in pairs:
        left @ right
    start, repeats = time.perf_counter(), 5
    for _ in range(repeats):
        for left, right in pairs:
            left @ right
    return repeats * buffer * batch / (time.perf_counter() - start)


def batch_speed_child(sizes, steps, batch):
    """Training sample-steps per second of ``sizes`` (spatial, cython) at ``batch``."""
    net, learner = make_learner(sizes, "spatial", "cython")
    samples = [poisson_sample(sizes[0], sizes[-1], steps, 10 + k) for k in range(batch * 2)]
    learner.fit(samples[:batch], 1, progress=False, batch_size=batch)            # compile
    start = time.perf_counter()
    learner.fit(samples, 1, progress=False, batch_size=batch)
    return {"sizes": sizes, "batch": batch,
            "sample_steps_per_s": len(samples) * steps / (time.perf_counter() - start),
            "floor_sample_steps_per_s": floor_sample_steps_per_s(sizes, 8)}


def exact_trace_floor(n_in, n_hidden, K, batch, repeats=20):
    """Seconds per sample-step of the exact rule's unavoidable work on its input weights
    at ``batch``: the memory traffic of its forward-mode trace (S (K+1) values per
    sample). A step must read every bucket and write it back once (the learner's
    compiled kernel does the propagation and the contraction with the error in that one
    pass); timed as one in-place numpy pass over an array of that size on this machine."""
    Z = np.random.default_rng(0).random((K + 1, batch * n_in * n_hidden))
    np.multiply(Z, 1.0, out=Z)
    start = time.perf_counter()
    for _ in range(repeats):
        np.multiply(Z, 1.0, out=Z)
    return (time.perf_counter() - start) / repeats / batch


def task_child(name, batch, lr, epochs):
    from sgbrian.experiments import train_task
    result = train_task(name, target="cython", progress=False, batch_size=batch, lr=lr,
                        epochs=epochs)
    samples = len(result["task"].train) * len(result["history"])
    row = {"task": name, "batch": batch, "lr": lr, "epochs": len(result["history"]),
           "train_s": result["train_seconds"], "samples_per_s": samples / result["train_seconds"],
           "test_accuracy": result["test"]["accuracy"],
           "steps_per_sample": float(np.mean([s.n_steps for s in result["task"].train]))}
    layers = result["net"].layers
    if result["learner"].rule == "exact":
        row["trace_floor_s_per_sample_step"] = exact_trace_floor(layers[0].n, layers[1].n,
                                                                 layers[1].K, batch)
    return row


def child(args):
    if args.child == "memory":
        return memory_child(args.seconds)
    if args.child == "batch":
        return batch_speed_child(tuple(args.sizes), args.steps, args.batch)
    if args.child == "task":
        return task_child(args.task, args.batch, args.lr, args.epochs)
    return speed_child(tuple(args.sizes), args.rule, args.target, args.steps)


def batches(quick):
    """Section 3: batch size 1 against 32."""
    steps = 50 if quick else 300
    rows = [run_child("--child", "batch", "--sizes", 700, 256, 20, "--steps", steps, "--batch", b)
            for b in (1, 32)]
    print(f"700->256->20 spatial, cython: sample-steps/s at batch 1 {rows[0]['sample_steps_per_s']:.0f}, "
          f"at 32 {rows[1]['sample_steps_per_s']:.0f} ({rows[1]['sample_steps_per_s'] / rows[0]['sample_steps_per_s']:.1f}x); "
          f"floor of the gradient accumulation {rows[1]['floor_sample_steps_per_s']:.0f} "
          f"(training at 32 = {rows[1]['sample_steps_per_s'] / rows[1]['floor_sample_steps_per_s']:.2f} of it)")
    tasks = []
    settings = {"itd": ((1, 2e-2, 4), (32, None, None)), "timing": ((1, 1e-2, 3), (32, None, None))}
    for name, runs in settings.items():
        for batch, lr, epochs in ([runs[1]] if quick else runs):
            args = ["--child", "task", "--task", name, "--batch", batch]
            args += (["--lr", lr] if lr else []) + (["--epochs", epochs] if epochs else [])
            tasks.append(run_child(*args))
            t = tasks[-1]
            print(f"{name} batch {batch}: {t['samples_per_s']:.1f} samples/s, {t['train_s']:.1f} s "
                  f"for {t['epochs']} epochs, test accuracy {t['test_accuracy']:.3f}", flush=True)
    for name in settings:
        pair = [t for t in tasks if t["task"] == name]
        if len(pair) == 2:
            print(f"{name}: batch 32 / batch 1 = {pair[1]['samples_per_s'] / pair[0]['samples_per_s']:.1f}x samples/s")
            floor = pair[1]["trace_floor_s_per_sample_step"] * pair[1]["steps_per_sample"]
            print(f"{name}: one pass over the exact rule's input-weight trace at batch 32 (its memory traffic) takes {floor * 1e3:.2f} ms "
                  f"per sample, so batch 32 can reach at most {1 / floor / pair[0]['samples_per_s']:.1f}x "
                  f"batch 1 ({1 / floor:.0f} samples/s)")
    return {"spatial_700_256_20": rows, "tasks": tasks}


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
    parser.add_argument("--batch", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--task", help=argparse.SUPPRESS)
    parser.add_argument("--lr", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--epochs", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--only", choices=["batch"], help="run only section 3")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args)))
        return
    os.makedirs(os.path.join(HERE, "out"), exist_ok=True)
    if args.only == "batch":
        with open(os.path.join(HERE, "out", "bench_learning_batch.json"), "w") as f:
            json.dump(batches(args.quick), f, indent=1)
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
    batch = batches(args.quick)
    with open(os.path.join(HERE, "out", "bench_learning.json"), "w") as f:
        json.dump({"memory": memory, "rss_growth": growth, "speed": speed, "batch": batch}, f,
                  indent=1)


if __name__ == "__main__":
    main()
