"""What the dataset scripts (``models/shd.py``, ``models/ssc.py``,
``models/dvs_gesture.py``) share: the command line, training with progress and
checkpoints (rerun the same command to resume), Dask data-parallel training over local
cores (``--workers``), the snnTorch comparison (``--bptt``), the saved curves and the
figure of test accuracy per epoch.
"""
import argparse
import functools
import json
import os
import sys
import time

import matplotlib.pyplot as plt
from brian2 import defaultclock, ms, prefs

from .bptt import train_lif
from .event_tasks import CLASSES
from .experiments import EXPERIMENTS, build_learner, experiment_learner, make_task
from .parallel import connect
from .plotting import PALETTE, save, use_style

#: The task settings that name real data.
DATA_FILES = ("train_path", "test_path", "root")
#: Labels of the curves in the figure.
LABELS = {"sgbrian": "sgbrian (adjoint)", "snntorch_lif": "snnTorch LIF (BPTT)"}
#: Adam's learning rate of the snnTorch LIF: of 2e-3 and 1e-2, the better validation
#: accuracy after 6 epochs on 512 synthetic SHD samples (0.20 against 0.10, validated on
#: 128 others).
BPTT_LR = 1e-2


def dataset_arguments(doc, samples, test_samples, epochs, data_options):
    """The dataset script's command line.

    Parameters
    ----------
    doc : str
        The script's docstring (its first line is the description).
    samples, test_samples, epochs : int
        Defaults: the full dataset's sizes and the epochs.
    data_options : dict
        ``{flag: help}`` of the options that name the real data (default: the stand-in).

    Returns
    -------
    argparse.ArgumentParser
        The parser.
    """
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    for flag, text in data_options.items():
        parser.add_argument(flag, help=text)
    parser.add_argument("--samples", type=int, default=samples, help="training samples")
    parser.add_argument("--test-samples", type=int, default=test_samples, help="test samples")
    parser.add_argument("--epochs", type=int, default=epochs)
    parser.add_argument("--dt", type=float, default=1.0, help="time step in ms")
    parser.add_argument("--batch", type=int, default=32, help="samples per batch")
    parser.add_argument("--workers", type=int, default=1,
                        help="Dask workers for data-parallel training (1: this process)")
    parser.add_argument("--scheduler", default=None, help="an existing Dask scheduler's address")
    parser.add_argument("--bptt", action="store_true", help="also train the snnTorch LIF (BPTT)")
    parser.add_argument("--target", default="cython", choices=["cython", "numpy"],
                        help="Brian2's code generation target")
    parser.add_argument("--output", default="output")
    parser.add_argument("--seed", type=int, default=0)
    return parser


def train_dataset(name, args, data):
    """Train experiment ``name`` on its task (files when ``data`` names them, the stand-in
    otherwise), then, with ``--bptt``, the snnTorch LIF on the same samples; write the
    curves to ``<output>/<name>_history.json``.

    Parameters
    ----------
    name : str
        'shd', 'ssc' or 'dvs_gesture'.
    args : argparse.Namespace
        From :func:`dataset_arguments`.
    data : dict
        The task's settings: its files (``train_path``/``test_path``, ``root``; None
        where not given) and any other of the task's settings.

    Returns
    -------
    curves : dict
        Per system: test accuracy and seconds per epoch.
    task : TaskData
        The task.
    """
    os.makedirs(args.output, exist_ok=True)
    prefs.codegen.target = args.target
    defaultclock.dt = args.dt * ms
    real = any(data.get(key) is not None for key in DATA_FILES)
    settings = dict(n_train=args.samples, n_test=args.test_samples, **data)
    if "train_path" in data and not real:
        settings["folder"] = os.path.join(args.output, f"{name}_data")
    task = make_task(name, args.seed, settings)
    _, learner = build_learner(name, task, args.seed, epochs=args.epochs)
    client = replica = None
    if args.workers > 1 or args.scheduler:
        client = connect(args.scheduler, args.workers)
        # a replica only computes gradients: a one-sample task gives it the same network
        replica = functools.partial(experiment_learner, name, args.seed, args.dt,
                                    {**data, "n_train": 1, "n_test": 1}, args.target)
    began = time.perf_counter()
    history = learner.fit(task.train, args.epochs, validation=task.test, batch_size=args.batch,
                          checkpoint=os.path.join(args.output, f"{name}_checkpoint.npz"),
                          resume=True, client=client, replica=replica)
    curves = {"sgbrian": {"test_accuracy": history["val_metric"].tolist(),
                          "epoch_seconds": history["seconds"].tolist(),
                          "train_accuracy": history["metric"].tolist()}}
    print(f"sgbrian: test accuracy {history['val_metric'][-1]:.3f} (chance "
          f"{1 / CLASSES[name]:.2f}) after {len(history)} epochs of {len(task.train)} samples, "
          f"{time.perf_counter() - began:.0f} s (this run; the checkpoint keeps every epoch's time)")
    if args.bptt:
        result = train_lif(task, args.epochs, lr=BPTT_LR,
                           loss_start=float(EXPERIMENTS[name].loss().start / ms),
                           seed=args.seed, stream=sys.stdout)
        curves["snntorch_lif"] = {"test_accuracy": result["accuracy"],
                                  "epoch_seconds": result["epoch_seconds"]}
    with open(os.path.join(args.output, f"{name}_history.json"), "w") as f:
        json.dump({"samples": [len(task.train), len(task.test)], "dt_ms": args.dt,
                   "data": "files" if real else "synthetic", **curves}, f, indent=1)
    return curves, task


def plot_curves(curves, chance, title, stem):
    """Test accuracy per epoch of each system, chance as a dotted line; saved as PNG and PDF.

    Parameters
    ----------
    curves : dict
        From :func:`train_dataset`.
    chance : float
        1 / classes.
    title : str
        The figure's title.
    stem : str
        The path without the extension.
    """
    use_style()
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for k, (system, curve) in enumerate(curves.items()):
        epochs = range(1, len(curve["test_accuracy"]) + 1)
        ax.plot(epochs, curve["test_accuracy"], "o-", color=PALETTE[k], label=LABELS[system])
    ax.axhline(chance, color="0.6", lw=0.8, ls=":")
    ax.set(xlabel="epoch", ylabel="test accuracy", ylim=(0, 1.02), title=title)
    ax.legend(loc="lower right", frameon=False)
    fig.tight_layout()
    save(fig, stem)
