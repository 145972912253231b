"""Data-parallel training: samples per second with 1 and 2 Dask workers, against here.

The ITD experiment (batch 32, its own learning rate) trains ``--epochs`` epochs three
ways in one run: in this process, and with ``fit(client=...)`` on a LocalCluster of 1
and of 2 single-threaded worker processes (the driver sums the workers' gradients and
updates). Code generation is warmed up first (one batch on every worker). Prints
samples per second and the ratios, and that the trained parameters agree.

    python benchmarks/bench_parallel.py [--epochs 2] [--target cython]
"""
import argparse
import numpy as np

from sgbrian import parallel
from sgbrian.experiments import train_task


def timed(target, epochs, client=None):
    kwargs = dict(seed=0, epochs=epochs, target=target, progress=False)
    train_task("itd", client=client, **{**kwargs, "epochs": 1})       # warm-up: code, replicas
    result = train_task("itd", client=client, **kwargs)
    samples = len(result["task"].train) * epochs
    return samples / result["train_seconds"], result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--target", default="cython", choices=["numpy", "cython"])
    args = parser.parse_args()
    rates, results = {}, {}
    rates["here"], results["here"] = timed(args.target, args.epochs)
    for workers in (1, 2):
        client = parallel.connect(workers=workers)
        rates[workers], results[workers] = timed(args.target, args.epochs, client)
        client.close()
    for key, rate in rates.items():
        name = "this process" if key == "here" else f"{key} worker(s)"
        print(f"{name:>14}: {rate:6.1f} samples/s, test accuracy "
              f"{results[key]['test']['accuracy']:.3f}")
    print(f"2 workers / 1 worker = {rates[2] / rates[1]:.2f}x; 1 worker / here = "
          f"{rates[1] / rates['here']:.2f}x")
    worst = max(float(np.max(np.abs(results[2]["learner"].params[k] - p)) / max(1e-12, np.max(np.abs(p))))
                for k, p in results["here"]["learner"].params.items())
    print(f"largest relative parameter difference, 2 workers vs here: {worst:.1e}")


if __name__ == "__main__":
    main()
