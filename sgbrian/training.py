"""fit / evaluate, history, checkpoints and parameter files (the metrics they report:
:mod:`sgbrian.metrics`)."""
import json
import os
import sys
import time
import zipfile

import numpy as np

from ._version import __version__
from .data_parallel import fit_epoch_on_client
from .metrics import Metrics

__all__ = ["Metrics", "evaluate", "fit", "history_array", "CheckpointError", "save_checkpoint",
           "load_checkpoint", "save_parameters", "load_parameters"]

CHECKPOINT_FORMAT = ("sgbrian-checkpoint", 2)     # 2: npz + JSON (1 was a pickle)
PARAMETER_FORMAT = ("sgbrian-parameters", 2)      # 2: JSON metadata
HISTORY_FIELDS = [("epoch", int), ("loss", float), ("metric", float), ("val_loss", float),
                  ("val_metric", float), ("events_per_neuron_per_s", float),
                  ("lr_scale", float), ("seconds", float)]


def evaluate(learner, samples, record_outputs=False, batch_size=1):
    """Run samples without learning.

    Parameters
    ----------
    learner : OnlineLearner
        The learner (its parameters are used, not changed).
    samples : list of Sample
        The samples.
    record_outputs : bool
        Keep every sample's readouts.
    batch_size : int
        Samples side by side.

    Returns
    -------
    dict
        ``Metrics.summary()``.
    """
    metrics = Metrics(learner.loss, record_outputs)
    learner.run_samples(list(samples), train=False, metrics=metrics, batch_size=batch_size)
    return metrics.summary()


def _progress_printer(epoch, stream):
    start = time.perf_counter()

    def show(plan):
        done, total = plan.done, len(plan.samples)
        losses = plan.metrics.sample_losses
        stream.write(f"\r  epoch {epoch}: {done}/{total} samples, loss {np.mean(losses):.4g}, "
                     f"{time.perf_counter() - start:.0f} s")
        stream.flush()
    return show


def fit(learner, train, epochs, validation=None, checkpoint=None, resume=False,
        progress=True, stream=None, batch_size=1, client=None, replica=None):
    """Train a learner for a number of epochs.

    Each epoch visits the samples in an order drawn from the learner's seeded RNG,
    ``batch_size`` at a time side by side (one update per batch with
    ``update_every='sample'``). Progress (epoch, loss, accuracy or NRMSE, events per
    neuron per second) goes to ``stream``.

    Parameters
    ----------
    learner : OnlineLearner
        The learner.
    train : list of Sample
        Training samples.
    epochs : int
        Epochs.
    validation : list of Sample, optional
        Evaluated after each epoch.
    checkpoint : str, optional
        A path written after every epoch (parameters, optimizer state, RNG state,
        epoch, history).
    resume : bool
        Continue from ``checkpoint``: the same numbers as an uninterrupted run.
    progress : bool
        Report progress.
    stream : file, optional
        Where progress goes (default stderr).
    batch_size : int
        Samples side by side.
    client : distributed.Client, optional
        With ``replica``: data-parallel training
        (:func:`sgbrian.data_parallel.batch_gradients`), the same updates as here.
    replica : callable, optional
        A picklable function that builds this learner's network and learner on a worker.

    Returns
    -------
    ndarray
        The history, a structured array (``history_array``).

    Raises
    ------
    TrainingDiverged
        A non-finite loss or parameter; the last good parameters are restored.
    CheckpointError
        A checkpoint that does not fit the learner.
    ValueError
        No training samples, or ``epochs`` not an int >= 1.
    """
    stream = stream or sys.stderr
    train = list(train)
    if not train:
        raise ValueError("train must hold at least one sample")
    if not (isinstance(epochs, int) and epochs >= 1):
        raise ValueError(f"epochs must be an int >= 1, got {epochs!r}")
    records, first_epoch = [], 0
    if resume and checkpoint and os.path.exists(checkpoint):
        records, first_epoch = load_checkpoint(learner, checkpoint)
    for epoch in range(first_epoch, epochs):
        started = time.perf_counter()
        lr_scale = float(learner.lr_schedule(epoch))
        order = learner.rng.permutation(len(train))
        metrics = Metrics(learner.loss)
        if client is None:
            learner.run_samples([train[i] for i in order], train=True, metrics=metrics,
                                lr_scale=lr_scale, batch_size=batch_size,
                                progress=_progress_printer(epoch, stream) if progress else None)
        else:
            fit_epoch_on_client(learner, [train[i] for i in order], metrics, lr_scale,
                                batch_size, client, replica,
                                _progress_printer(epoch, stream) if progress else None)
        result = metrics.summary()
        val = evaluate(learner, validation, batch_size=batch_size) if validation else \
            {"loss": np.nan, "metric": np.nan}
        records.append((epoch, result["loss"], result["metric"], val["loss"], val["metric"],
                        result["events_per_neuron_per_s"], lr_scale,
                        time.perf_counter() - started))
        if progress:
            name = "acc" if learner.loss.name != "mse" else "nrmse"
            stream.write(f"\repoch {epoch}: loss {result['loss']:.4g}, {name} {result['metric']:.4f}"
                         + (f", val loss {val['loss']:.4g}, val {name} {val['metric']:.4f}"
                            if validation else "")
                         + f", {result['events_per_neuron_per_s']:.1f} events/neuron/s, "
                         f"{records[-1][-1]:.1f} s\n")
        if checkpoint:
            save_checkpoint(learner, checkpoint, epoch + 1, records)
    return history_array(records)


def history_array(records):
    """The epoch records as a numpy structured array.

    Parameters
    ----------
    records : list of dict
        One per epoch.

    Returns
    -------
    ndarray
        With the fields of ``HISTORY_FIELDS``.
    """
    return np.array([tuple(r) for r in records], dtype=HISTORY_FIELDS)


class CheckpointError(ValueError):
    """A checkpoint or parameter file cannot be read: it names the file and why."""


def _write_npz_atomically(path, arrays, meta):
    """``arrays`` and the JSON ``meta`` into ``path`` (npz), via a temporary file and a
    rename, so that a run killed while writing leaves the previous file intact."""
    tmp = f"{path}.tmp"
    with open(tmp, "wb") as f:
        np.savez(f, __meta__=np.array(json.dumps(meta)), **arrays)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _read_npz(path, kind, expected):
    """(meta, arrays) of an npz file written by ``_write_npz_atomically``, read with
    ``allow_pickle=False`` (a file cannot run code); clear errors naming ``path``."""
    try:
        with open(path, "rb") as f:
            head = f.read(2)
    except OSError as error:
        raise CheckpointError(f"{path}: cannot open the {kind}: {error}") from None
    if head[:1] == b"\x80":
        raise CheckpointError(f"{path} is a {kind} of the old pickle format, which sgbrian no "
                              "longer reads (opening a pickle can run code); retrain, or load "
                              "it with sgbrian 0.1 and save it again")
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["__meta__"]))
            arrays = {k: data[k] for k in data.files if k != "__meta__"}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
        raise CheckpointError(f"{path} is not a readable sgbrian {kind} "
                              f"({type(error).__name__}: {error})") from None
    if not isinstance(meta, dict) or meta.get("format") != expected[0]:
        raise CheckpointError(f"{path} is not an sgbrian {kind} (format "
                              f"{meta.get('format') if isinstance(meta, dict) else meta!r})")
    if meta.get("version") != expected[1]:
        raise CheckpointError(f"{path} has {kind} format version {meta.get('version')}; this "
                              f"sgbrian reads version {expected[1]}")
    return meta, arrays


def save_checkpoint(learner, path, next_epoch, records):
    """Parameters, optimizer state, RNG state, epoch and history, in one npz file (arrays
    plus JSON metadata; no pickle), written atomically.

    Parameters
    ----------
    learner : OnlineLearner
        The learner.
    path : str
        The file.
    next_epoch : int
        The epoch a resumed run starts with.
    records : list of dict
        The history so far.
    """
    arrays = {f"param/{k}": v for k, v in learner.params.items()}
    state = learner.optimizer.state
    arrays.update({f"optimizer/{k}": v for k, v in state.items() if isinstance(v, np.ndarray)})
    meta = {"format": CHECKPOINT_FORMAT[0], "version": CHECKPOINT_FORMAT[1],
            "sgbrian": __version__, "optimizer": type(learner.optimizer).__name__,
            "optimizer_scalars": {k: v for k, v in state.items() if not isinstance(v, np.ndarray)},
            "rng": learner.rng.bit_generator.state, "epoch": next_epoch,
            "history": [[float(x) for x in r] for r in records]}
    _write_npz_atomically(path, arrays, meta)


def load_checkpoint(learner, path):
    """Restore a checkpoint into a learner.

    Parameters
    ----------
    learner : OnlineLearner
        The learner.
    path : str
        The file.

    Returns
    -------
    records : list of dict
        The history.
    next_epoch : int
        The epoch to start with.

    Raises
    ------
    CheckpointError
        Another format, version or optimizer, or a parameter of another name or shape.
    """
    meta, arrays = _read_npz(path, "checkpoint", CHECKPOINT_FORMAT)
    if meta["optimizer"] != type(learner.optimizer).__name__:
        raise CheckpointError(f"{path}: checkpoint optimizer is {meta['optimizer']}, the "
                              f"learner's is {type(learner.optimizer).__name__}")
    _set_params(learner, {k[len("param/"):]: v for k, v in arrays.items()
                          if k.startswith("param/")}, path)
    state = {k[len("optimizer/"):]: v.copy() for k, v in arrays.items()
             if k.startswith("optimizer/")}
    state.update(meta["optimizer_scalars"])
    learner.optimizer.state = state
    learner.rng.bit_generator.state = meta["rng"]
    records = [(int(r[0]), *r[1:]) for r in meta["history"]]
    return records, int(meta["epoch"])


def _set_params(learner, params, source):
    for name, value in learner.params.items():
        if name not in params or np.shape(params[name]) != value.shape:
            raise CheckpointError(f"{source}: parameter {name} missing or of shape "
                             f"{np.shape(params.get(name))}, expected {value.shape}")
        value[:] = params[name]
        learner.last_good[name][:] = params[name]
    learner.write_params()


def save_parameters(learner, path):
    """Parameters to a versioned ``.npz`` file (JSON metadata, no pickle), atomically.

    Parameters
    ----------
    learner : OnlineLearner
        The learner.
    path : str
        The file.
    """
    _write_npz_atomically(path, dict(learner.params),
                          {"format": PARAMETER_FORMAT[0], "version": PARAMETER_FORMAT[1],
                           "sgbrian": __version__})


def load_parameters(learner, path):
    """Load a file written by :func:`save_parameters`.

    Parameters
    ----------
    learner : OnlineLearner
        The learner.
    path : str
        The file.

    Raises
    ------
    CheckpointError
        Another format or version, or a parameter of another shape.
    """
    _, arrays = _read_npz(path, "parameter file", PARAMETER_FORMAT)
    _set_params(learner, arrays, path)
