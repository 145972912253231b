"""fit / evaluate, metrics, history, checkpoints and parameter files."""
import os
import pickle
import sys
import time

import numpy as np

import sgbrian

CHECKPOINT_FORMAT = ("sgbrian-checkpoint", 1)
PARAMETER_FORMAT = ("sgbrian-parameters", 1)
HISTORY_FIELDS = [("epoch", int), ("loss", float), ("metric", float), ("val_loss", float),
                  ("val_metric", float), ("events_per_neuron_per_s", float),
                  ("lr_scale", float), ("seconds", float)]


class Metrics:
    """Loss, and accuracy (cross-entropy) or NRMSE (MSE), accumulated over samples.

    NRMSE = sqrt(sum (y - target)^2 / sum (target - mean target)^2) over every step
    with a non-zero weight, every output and every sample. The predicted class of a
    sample is the argmax of its mean readout over the steps where the loss is active.
    """

    def __init__(self, loss, record_outputs=False):
        self.kind = loss.name
        self.start_step = getattr(loss, "start_step", 0) or 0
        self.record_outputs = record_outputs
        self.outputs, self.predictions, self.sample_losses = [], [], []
        self.total_loss = 0.0
        self.sq_error = self.sum_t = self.sum_t2 = self.count = 0.0
        self.correct = 0
        self.events_per_neuron_per_s = self.quanta_per_neuron_per_s = float("nan")

    def start_batch(self, samples, copies, data):
        """A batch of ``samples`` (one per copy) starts; ``data``: the loss's arrays."""
        self.samples, self.data = samples, data
        self.loss_sum = np.zeros(copies)
        self.loss_steps = np.zeros(copies)
        self.y_sum, self.trace = 0.0, []

    def add(self, n, y, losses):
        """Step n of the batch: readouts ``y`` (copies, n_out) and per-copy ``losses``."""
        active = self.data["active"][n]
        self.loss_sum += losses
        if self.record_outputs:
            self.trace.append(y.copy())
        if self.kind == "mse":
            counted = active & (self.data["weight"][n] > 0)
            target = self.data["target"][n][counted]
            error = y[counted] - target
            self.sq_error += float((error ** 2).sum())
            self.sum_t += float(target.sum())
            self.sum_t2 += float((target ** 2).sum())
            self.count += target.size
            self.loss_steps += counted
        elif n >= self.start_step:
            self.y_sum = self.y_sum + y * active[:, None]
            self.loss_steps += active

    def end_batch(self):
        """Close the batch: one loss (mean over its counted steps) and, for cross-entropy,
        one prediction per sample, in the order of the samples."""
        trace = np.array(self.trace) if self.record_outputs else None
        for b, sample in enumerate(self.samples):
            self.total_loss += self.loss_sum[b]
            self.sample_losses.append(self.loss_sum[b] / max(1, self.loss_steps[b]))
            if self.kind != "mse":
                prediction = int(np.argmax(self.y_sum[b]))
                self.predictions.append(prediction)
                self.correct += prediction == sample.target
            if self.record_outputs:
                self.outputs.append(trace[:sample.n_steps, b])

    def summary(self):
        out = {"loss": float(np.mean(self.sample_losses)), "loss_sum": self.total_loss,
               "samples": len(self.sample_losses),
               "events_per_neuron_per_s": self.events_per_neuron_per_s,
               "quanta_per_neuron_per_s": self.quanta_per_neuron_per_s}
        if self.kind == "mse":
            variance = self.sum_t2 - self.sum_t ** 2 / max(1.0, self.count)
            out["nrmse"] = float(np.sqrt(self.sq_error / variance)) if variance > 0 else float("nan")
            out["metric"] = out["nrmse"]
        else:
            out["accuracy"] = self.correct / len(self.sample_losses)
            out["metric"] = out["accuracy"]
        if self.record_outputs:
            out["outputs"] = self.outputs
        if self.predictions:
            out["predictions"] = np.array(self.predictions)
        return out


def evaluate(learner, samples, record_outputs=False, batch_size=1):
    """Run ``samples`` without learning (``batch_size`` side by side); return the
    ``Metrics.summary()`` dict."""
    metrics = Metrics(learner.loss, record_outputs)
    learner.run_samples(list(samples), train=False, metrics=metrics, batch_size=batch_size)
    return metrics.summary()


def _progress_printer(epoch, stream):
    start = time.perf_counter()

    def show(plan):
        done, total = plan["done"], len(plan["samples"])
        losses = plan["metrics"].sample_losses
        stream.write(f"\r  epoch {epoch}: {done}/{total} samples, loss {np.mean(losses):.4g}, "
                     f"{time.perf_counter() - start:.0f} s")
        stream.flush()
    return show


def fit(learner, train, epochs, validation=None, checkpoint=None, resume=False,
        progress=True, stream=None, batch_size=1):
    """Train ``learner`` for ``epochs`` epochs over the samples ``train``.

    Each epoch visits the samples in an order drawn from the learner's seeded RNG,
    ``batch_size`` at a time side by side (one update per batch with
    ``update_every='sample'``).
    ``validation``: samples evaluated after each epoch. ``checkpoint``: a path written
    after every epoch (parameters, optimizer state, RNG state, epoch, history);
    ``resume=True`` continues from it and gives the same numbers as an uninterrupted
    run. Progress (epoch, loss, accuracy or NRMSE, events per neuron per second) goes
    to ``stream`` (default stderr). Returns the history as a numpy structured array.
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
        learner.run_samples([train[i] for i in order], train=True, metrics=metrics,
                            lr_scale=lr_scale, batch_size=batch_size,
                            progress=_progress_printer(epoch, stream) if progress else None)
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
    return np.array([tuple(r) for r in records], dtype=HISTORY_FIELDS)


def _write_atomically(path, payload):
    tmp = f"{path}.tmp"
    with open(tmp, "wb") as f:
        pickle.dump(payload, f, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)


def save_checkpoint(learner, path, next_epoch, records):
    """Parameters, optimizer state, RNG state, epoch and history, in one file."""
    _write_atomically(path, {
        "format": CHECKPOINT_FORMAT, "sgbrian": sgbrian.__version__,
        "params": learner.params, "optimizer": type(learner.optimizer).__name__,
        "optimizer_state": learner.optimizer.state, "rng": learner.rng.bit_generator.state,
        "epoch": next_epoch, "history": [tuple(r) for r in records]})


def load_checkpoint(learner, path):
    """Restore a checkpoint into ``learner``; return ``(history records, next epoch)``."""
    with open(path, "rb") as f:
        data = pickle.load(f)
    if data.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not a {CHECKPOINT_FORMAT[0]} v{CHECKPOINT_FORMAT[1]} file")
    if data["optimizer"] != type(learner.optimizer).__name__:
        raise ValueError(f"checkpoint optimizer is {data['optimizer']}, the learner's is "
                         f"{type(learner.optimizer).__name__}")
    _set_params(learner, data["params"], path)
    learner.optimizer.state = data["optimizer_state"]
    learner.rng.bit_generator.state = data["rng"]
    return list(data["history"]), data["epoch"]


def _set_params(learner, params, source):
    for name, value in learner.params.items():
        if name not in params or np.shape(params[name]) != value.shape:
            raise ValueError(f"{source}: parameter {name} missing or of shape "
                             f"{np.shape(params.get(name))}, expected {value.shape}")
        value[:] = params[name]
        learner.last_good[name][:] = params[name]
    learner.write_params()


def save_parameters(learner, path):
    """Parameters to a versioned ``.npz`` file."""
    np.savez(path, __format__=PARAMETER_FORMAT[0], __version__=PARAMETER_FORMAT[1],
             __sgbrian__=sgbrian.__version__, **learner.params)


def load_parameters(learner, path):
    """Load a file written by :func:`save_parameters` (checks format, version, shapes)."""
    with np.load(path) as data:
        if str(data.get("__format__")) != PARAMETER_FORMAT[0]:
            raise ValueError(f"{path} is not an sgbrian parameter file")
        if int(data["__version__"]) != PARAMETER_FORMAT[1]:
            raise ValueError(f"{path} has format version {int(data['__version__'])}; "
                             f"this sgbrian reads version {PARAMETER_FORMAT[1]}")
        _set_params(learner, {k: data[k] for k in data.files}, path)
