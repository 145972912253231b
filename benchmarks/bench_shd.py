"""An SHD-sized benchmark: 700 -> 256 -> 20 (K = 8, learnable delays up to 25 ms,
rule 'spatial', batch 32, cython) trained on the synthetic SHD-layout set
(sgbrian.datasets.synthetic_shd: 700 channels, 20 classes, 1 s samples, class information
only in spike timing), written with h5py and read back by load_shd.

For dt = 1 ms and dt = 0.1 ms (each in its own process): training samples per second
(after a first batch that compiles), peak memory (max RSS), test accuracy after the
given epochs, and the time an epoch of SHD's 8,156 training samples would take at that
speed. Writes benchmarks/out/bench_shd.json.

    python benchmarks/bench_shd.py [--train 256] [--test 64] [--epochs 2] [--fine-train 32]
                                   [--batch 32] [--dt 1 0.1]
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

SHD_TRAIN_SAMPLES = 8156


def child(dt_ms, n_train, n_test, epochs, batch):
    from brian2 import ms
    from sgbrian.experiments import train_task
    warm = train_task("shd", dt=dt_ms * ms, target="cython", progress=False, batch_size=batch,
                      epochs=1, task_kwargs=dict(n_train=batch, n_test=batch,
                                                 duration=20 * ms))               # compiles
    start = time.perf_counter()
    result = train_task("shd", dt=dt_ms * ms, target="cython", progress=False, batch_size=batch,
                        epochs=epochs, task_kwargs=dict(n_train=n_train, n_test=n_test))
    rate = n_train * epochs / result["train_seconds"]
    return {"dt_ms": dt_ms, "batch": batch, "train_samples": n_train, "epochs": epochs,
            "samples_per_s": rate, "epoch_hours_at_shd_size": SHD_TRAIN_SAMPLES / rate / 3600,
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "test_accuracy": result["test"]["accuracy"], "wall_s": time.perf_counter() - start,
            "compile_run_s": warm["seconds"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=256)
    parser.add_argument("--test", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--fine-train", type=int, default=32, help="training samples at 0.1 ms")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--dt", type=float, nargs="+", default=[1.0, 0.1],
                        help="time steps in ms to run (default 1 and 0.1)")
    parser.add_argument("--child", nargs=5, type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        dt, n_train, n_test, epochs, batch = args.child
        print(json.dumps(child(dt, int(n_train), int(n_test), int(epochs), int(batch))))
        return
    rows = []
    settings = {1.0: (args.train, args.test, args.epochs), 0.1: (args.fine_train, args.batch, 1)}
    for dt in args.dt:
        n_train, n_test, epochs = settings.get(dt, (args.fine_train, args.batch, 1))
        proc = subprocess.run([sys.executable, __file__, "--child", str(dt), str(n_train),
                               str(n_test), str(epochs), str(args.batch)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr[-3000:])
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        r = rows[-1]
        print(f"dt {dt} ms: {r['samples_per_s']:.2f} samples/s (batch {r['batch']}), "
              f"peak RSS {r['peak_rss_mib']:.0f} MiB, test accuracy {r['test_accuracy']:.3f} "
              f"after {r['epochs']} epoch(s) on {r['train_samples']} samples; an SHD epoch "
              f"({SHD_TRAIN_SAMPLES} samples) would take {r['epoch_hours_at_shd_size']:.2f} h",
              flush=True)
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "out")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, f"bench_shd_{'_'.join(map(str, args.dt))}.json"), "w") as f:
        json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
