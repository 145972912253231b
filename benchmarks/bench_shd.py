"""SHD-sized training: sgbrian against snnTorch BPTT on the same synthetic SHD files, one run.

sgbrian: the ``shd`` experiment (700 -> 256 -> 20, K = 8, tau 10 ms, learnable delays up
to 25 ms into the hidden layer, rule 'adjoint', Adam, batch 32, cython). snnTorch: the
feedforward LIF network of ``sgbrian.bptt`` (hidden 256, Adam, batch 32, torch on one
thread). Both read the same synthetic SHD-layout files (``sgbrian.datasets.synthetic_shd``,
read back by ``load_shd``), each system in its own process (so that peak RSS is its own),
each timed after an untimed warm-up epoch of one batch. For every dt (default 1 and
0.1 ms: the same physical task at 1,000 and 10,000 steps a sample):

- training samples/s of each system and their ratio;
- peak RSS of each process above its start;
- sgbrian's time per sample split into the Brian2 run (forward) and the learner (events
  read, gradients, updates), the learner's share, and events per sample;
- the adjoint's floor: its operation count per sample (multiply-adds of the injections,
  cascades, gathers and errors) run as the compiled loops alone on a sample of the run
  (twice the forward loops: once for Brian2's simulation, once to rebuild the buckets),
  and the fraction of that floor's speed that training reaches.

Writes benchmarks/out/bench_shd.json.

    python benchmarks/bench_shd.py [--train 128] [--fine-train 64] [--dt 1 0.1]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
BATCH = 32


def shd_data(dt_ms, n_train, n_test, folder):
    from brian2 import ms
    from sgbrian.tasks import shd_task
    return shd_task(n_train=n_train, n_test=n_test, dt=dt_ms * ms, folder=folder)


def sgbrian_child(dt_ms, n_train, folder):
    from floors import adjoint_floor
    from brian2 import defaultclock, ms
    from sgbrian.baselines import PeakRSS
    from sgbrian.experiments import build_learner
    defaultclock.dt = dt_ms * ms
    from brian2 import prefs
    prefs.codegen.target = "cython"
    with PeakRSS() as memory:
        task = shd_data(dt_ms, n_train, BATCH, folder)
        _, learner = build_learner("shd", task, 0)
        learner.fit(task.train[:BATCH], 1, batch_size=BATCH, progress=False)    # warm-up
        engine = learner.engine(BATCH)
        engine.learner_seconds = 0.0
        began = time.perf_counter()
        history = learner.fit(task.train, 1, batch_size=BATCH, progress=False)
        seconds = time.perf_counter() - began
    per_sample = seconds / len(task.train)
    learner_part = engine.learner_seconds / len(task.train)
    floor = adjoint_floor(learner, task.train[:BATCH])
    return {"system": "sgbrian", "dt_ms": dt_ms, "samples": len(task.train),
            "samples_per_s": 1 / per_sample, "peak_rss_mib": memory.peak / 2 ** 20,
            "forward_ms": 1e3 * (per_sample - learner_part), "learner_ms": 1e3 * learner_part,
            "learner_share": learner_part / per_sample,
            "events_per_neuron_per_s": float(history["events_per_neuron_per_s"][0]),
            **floor, "floor_fraction": floor["floor_ms"] / (1e3 * per_sample)}


def bptt_child(dt_ms, n_train, folder):
    from sgbrian.bptt import train_lif
    task = shd_data(dt_ms, n_train, BATCH, folder)
    result = train_lif(task, 1, loss_start=100.0, test=task.test[:1])
    rss = result["peak_rss_mib"]
    return {"system": "snntorch_lif", "dt_ms": dt_ms, "samples": len(task.train),
            "samples_per_s": 1 / result["train_s_per_sample"], "peak_rss_mib": rss}


def run_child(system, dt_ms, n_train, folder):
    proc = subprocess.run([sys.executable, __file__, "--child", system, str(dt_ms), str(n_train),
                           folder], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=128, help="training samples at dt = 1 ms")
    parser.add_argument("--fine-train", type=int, default=64, help="training samples at dt < 1 ms")
    parser.add_argument("--dt", type=float, nargs="+", default=[1.0, 0.1])
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        system, dt, n_train, folder = args.child
        child = sgbrian_child if system == "sgbrian" else bptt_child
        print(json.dumps(child(float(dt), int(n_train), folder)))
        return
    rows = []
    folder = tempfile.mkdtemp(prefix="sgbrian_bench_shd_")
    for dt in args.dt:
        n_train = args.train if dt >= 1 else args.fine_train
        ours, theirs = (run_child(s, dt, n_train, folder) for s in ("sgbrian", "bptt"))
        rows += [ours, theirs]
        print(f"dt {dt} ms ({n_train} samples): sgbrian {ours['samples_per_s']:.2f} samples/s "
              f"(forward {ours['forward_ms']:.1f} ms + learner {ours['learner_ms']:.1f} ms a "
              f"sample, learner share {ours['learner_share']:.2f}), peak RSS "
              f"{ours['peak_rss_mib']:.0f} MiB; snnTorch LIF {theirs['samples_per_s']:.2f} "
              f"samples/s, peak RSS {theirs['peak_rss_mib']:.0f} MiB; sgbrian / snnTorch = "
              f"{ours['samples_per_s'] / theirs['samples_per_s']:.2f}x; floor "
              f"{ours['floor_ms']:.1f} ms a sample ({ours['macs_per_sample'] / 1e6:.0f} M "
              f"multiply-adds), training at {ours['floor_fraction']:.2f} of its speed", flush=True)
    out = os.path.join(HERE, "out")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "bench_shd.json"), "w") as f:
        json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
