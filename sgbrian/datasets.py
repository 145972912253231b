"""Samples and datasets for training and evaluation."""
from dataclasses import dataclass
from typing import Optional

import numpy as np
from brian2 import second

from .validation import check_choice, check_int, check_time


@dataclass
class Sample:
    """One training or test sample.

    ``input``: array (n_steps, channels) of analog values, one per dt, or a tuple
    ``(indices, times)`` of spike trains with times in [0, n_steps*dt).
    ``target``: array (n_steps, n_out) for MSE, a function of time (called with the step
    times ``n * dt`` as a Brian2 quantity; give ``dt``), or an int class label for
    cross-entropy. ``weight``: optional per-step loss weight (n_steps,).
    """
    input: object
    target: object
    n_steps: int
    weight: Optional[np.ndarray] = None
    dt: object = None

    def __post_init__(self):
        if callable(self.target):
            if self.dt is None:
                raise ValueError("dt must be given when target is a function of t")
            self.target = np.asarray(self.target(np.arange(self.n_steps) * self.dt), dtype=float)
        if isinstance(self.input, tuple):
            indices, times = self.input
            if len(indices) != len(times):
                raise ValueError("input indices and times must have the same length")
        else:
            self.input = self._rows("input", self.input)
        if not isinstance(self.target, (int, np.integer)):
            self.target = self._rows("target", self.target)
        if self.weight is not None:
            self.weight = np.asarray(self.weight, dtype=float)
            if self.weight.shape != (self.n_steps,):
                raise ValueError(f"weight must have shape ({self.n_steps},)")

    def _rows(self, name, values):
        """``values`` as a finite (n_steps, channels) float array."""
        values = np.asarray(values, dtype=float)
        if values.ndim == 1:
            values = values[:, None]
        if values.shape[0] != self.n_steps:
            raise ValueError(f"{name} must have n_steps = {self.n_steps} rows, got {values.shape[0]}")
        if not np.all(np.isfinite(values)):
            raise ValueError(f"{name} must be finite (no NaN or inf)")
        return values


@dataclass
class TaskData:
    """A generated task: train and test samples plus what the task is about."""
    name: str
    train: list
    test: list
    dt: object
    n_inputs: int
    n_outputs: int
    loss: str                      # 'mse' or 'cross_entropy'
    description: str = ""

    def dense(self, split="train", dt=None):
        """The samples of ``split`` ('train' or 'test') as dense arrays on the grid ``dt``
        (default: the task's; a coarser ``dt`` must be a whole multiple, and goes through
        ``regrid``), for other tools (e.g. a BPTT library).

        Returns ``(inputs, targets, weights, lengths)``: ``inputs`` (samples, steps,
        channels), spike counts per step for spike inputs (spike at t in step
        floor(t / dt)) or the sampled analog values; ``targets`` an int array of labels
        (cross-entropy) or (samples, steps, n_out) values (MSE); ``weights`` (samples,
        steps) per-step loss weights (1 where the sample gives none, 0 after its end);
        ``lengths`` the steps of each sample. Samples shorter than the longest are
        padded with zeros.
        """
        check_choice("split", split, ("train", "test"))
        task = self if dt is None or abs(float(dt / self.dt) - 1) < 1e-9 else regrid(self, dt)
        samples = getattr(task, split)
        if not samples:
            raise ValueError(f"the task has no {split} samples")
        lengths = np.array([s.n_steps for s in samples])
        steps = int(lengths.max())
        inputs = np.zeros((len(samples), steps, self.n_inputs))
        weights = np.zeros((len(samples), steps))
        mse = self.loss == "mse"
        targets = np.zeros((len(samples), steps, self.n_outputs)) if mse else \
            np.array([int(s.target) for s in samples])
        for k, s in enumerate(samples):
            n = s.n_steps
            if isinstance(s.input, tuple):
                indices = np.asarray(s.input[0], int)
                bins = np.floor(np.asarray(s.input[1] / task.dt) + 1e-9).astype(int)
                np.add.at(inputs[k], (bins, indices), 1.0)
            else:
                inputs[k, :n] = s.input
            weights[k, :n] = 1.0 if s.weight is None else s.weight
            if mse:
                targets[k, :n] = s.target
        return inputs, targets, weights, lengths


def batch_inputs(batches, copies, gap, dt, channels, length=None):
    """One input timeline for a list of batches, each ``copies`` samples side by side.

    Batch j lasts ``max(n_steps) + gap`` steps (or ``length`` steps each, when given: at
    least that); copy b of it reads channels
    ``b * channels .. (b + 1) * channels - 1`` and holds sample ``batches[j][b]`` from the
    batch's first step (silence after it ends, and in copies without a sample). Returns
    ``(input, starts, lengths)``: an array (steps, copies * channels) or
    ``(indices, times)``, the first step and the length of each batch.
    """
    lengths = np.array([max(s.n_steps for s in batch) + gap for batch in batches])
    if length is not None:
        if length < lengths.max():
            raise ValueError(f"length must be >= {lengths.max()} steps (the longest batch), "
                             f"got {length}")
        lengths[:] = length
    starts = np.r_[0, np.cumsum(lengths)[:-1]]
    if isinstance(batches[0][0].input, tuple):
        indices, times = [], []
        for batch, start in zip(batches, starts):
            for b, s in enumerate(batch):
                indices.append(np.asarray(s.input[0], dtype=int) + b * channels)
                times.append(np.asarray(s.input[1] / second) + start * float(dt / second))
        return (np.concatenate(indices), np.concatenate(times) * second), starts, lengths
    values = np.zeros((lengths.sum(), copies * channels))
    for batch, start in zip(batches, starts):
        for b, s in enumerate(batch):
            values[start:start + s.n_steps, b * channels:(b + 1) * channels] = s.input
    return values, starts, lengths


def load_shd(path, dt, duration, channels=700, max_samples=None):
    """Samples from a Spiking Heidelberg Digits HDF5 file (``spikes/times`` in seconds,
    ``spikes/units``, ``labels``), as used by SHD and SSC.

    Spikes after ``duration`` are dropped; spikes of one unit within one time step are
    merged into one (the payload of a raw spike is 1). Needs ``h5py``.
    """
    import h5py
    check_time("dt", dt)
    check_time("duration", duration)
    channels = check_int("channels", channels, 1)
    n_steps = int(round(float(duration / dt)))
    samples = []
    try:
        f = h5py.File(path, "r")
    except OSError as error:
        raise ValueError(f"{path} is not a readable HDF5 file ({error})") from None
    with f:
        missing = [k for k in ("spikes/times", "spikes/units", "labels") if k not in f]
        if missing:
            raise ValueError(f"{path} lacks {missing}: an SHD file holds spikes/times, "
                             "spikes/units and labels")
        times, units, labels = f["spikes"]["times"], f["spikes"]["units"], f["labels"]
        if not len(times) == len(units) == len(labels):
            raise ValueError(f"{path}: spikes/times, spikes/units and labels must have one entry "
                             f"per sample, got {len(times)}, {len(units)} and {len(labels)}")
        count = len(labels) if max_samples is None else min(max_samples, len(labels))
        for s in range(count):
            t = np.asarray(times[s], dtype=float)
            unit = np.asarray(units[s], dtype=int)
            if t.shape != unit.shape:
                raise ValueError(f"{path}: sample {s} has {t.size} spike times but {unit.size} units")
            if not np.all(np.isfinite(t)) or np.any(t < 0):
                raise ValueError(f"{path}: sample {s} has spike times that are NaN, infinite or "
                                 "negative; times must be finite and >= 0 s")
            steps = np.floor(t / float(dt / second)).astype(int)
            if unit.size and unit.max() >= channels:
                raise ValueError(f"{path}: sample {s} has unit {unit.max()} >= channels={channels}")
            keep = steps < n_steps
            pairs = np.unique(np.stack([unit[keep], steps[keep]]), axis=1)
            samples.append(Sample((pairs[0], pairs[1] * dt), int(labels[s]), n_steps))
    return samples


def write_shd(path, times, units, labels, extra=None):
    """Write spike trains in the HDF5 layout of the Spiking Heidelberg Digits:
    ``spikes/times`` (one float array per sample, seconds), ``spikes/units`` (one uint16
    array per sample), ``labels`` (uint16), and optional ``extra/<name>`` arrays. Needs h5py.
    """
    import h5py
    if not len(times) == len(units) == len(labels):
        raise ValueError(f"times, units and labels must have one entry per sample, got "
                         f"{len(times)}, {len(units)} and {len(labels)}")
    with h5py.File(path, "w") as f:
        spikes = f.create_group("spikes")
        spikes.create_dataset("times", data=np.array([np.asarray(t, np.float32) for t in times] + [None],
                                                     dtype=object)[:-1],
                              dtype=h5py.vlen_dtype(np.float32))
        spikes.create_dataset("units", data=np.array([np.asarray(u, np.uint16) for u in units] + [None],
                                                     dtype=object)[:-1],
                              dtype=h5py.vlen_dtype(np.uint16))
        f.create_dataset("labels", data=np.asarray(labels, dtype=np.uint16))
        for name, values in (extra or {}).items():
            f.create_dataset(f"extra/{name}", data=values)


def synthetic_shd(path, n_samples, channels=700, classes=20, duration=1 * second,
                  jitter=None, noise_rate=None, seed=0, template_seed=None):
    """A synthetic spike dataset the size and layout of SHD, written to ``path``.

    Class c has a template in which every channel fires exactly once, at a time drawn
    uniformly in ``[3 jitter, duration - 3 jitter]``. A sample of class c is its template
    with Gaussian ``jitter`` (default 2 ms) on every spike plus Poisson noise spikes at
    ``noise_rate`` (default 2 Hz) per channel, the same for every class: spike counts
    carry no class information, only timing does. Labels cycle through the classes in
    a seeded random order. Same seed, same file. ``template_seed`` (default ``seed``)
    draws the class templates: a test set shares its training set's templates and
    ``template_seed`` but has a ``seed`` of its own. Returns ``path``.
    """
    from brian2 import Hz, ms
    n_samples = check_int("n_samples", n_samples, 1)
    channels = check_int("channels", channels, 1, 65535)
    classes = check_int("classes", classes, 2)
    jitter = 2 * ms if jitter is None else jitter
    noise_rate = 2 * Hz if noise_rate is None else noise_rate
    check_time("duration", duration)
    check_time("jitter", jitter, allow_zero=True)
    rate = float(noise_rate / Hz)
    if not (np.isfinite(rate) and rate >= 0):
        raise ValueError(f"noise_rate must be a finite rate >= 0 Hz, got {noise_rate}")
    T, sigma = float(duration / second), float(jitter / second)
    if 6 * sigma >= T:
        raise ValueError(f"jitter must be < duration / 6 ({duration / 6}), got {jitter}")
    template_seed = seed if template_seed is None else template_seed
    templates = np.random.default_rng(check_int("template_seed", template_seed, 0)).uniform(
        3 * sigma, T - 3 * sigma, (classes, channels))
    rng = np.random.default_rng([check_int("seed", seed, 0), 1])
    labels = rng.permutation(np.arange(n_samples) % classes)
    times, units = [], []
    for label in labels:
        spikes = np.clip(templates[label] + rng.normal(0, sigma, channels), 0, np.nextafter(T, 0))
        counts = rng.poisson(rate * T, channels)
        noise_units = np.repeat(np.arange(channels), counts)
        noise_times = rng.uniform(0, T, counts.sum())
        t = np.r_[spikes, noise_times]
        u = np.r_[np.arange(channels), noise_units]
        order = np.argsort(t, kind="stable")
        times.append(t[order])
        units.append(u[order])
    write_shd(path, times, units, labels)
    return path


def regrid(task, dt):
    """The same task on a coarser grid ``dt`` (a whole multiple of ``task.dt``).

    Analog inputs, targets and weights are sampled at every ``dt`` (t = n dt); spike
    times are binned (step = floor(t / dt)) and spikes of one channel that fall into one
    step are merged: that loss of timing is what a coarse dt costs.

    >>> from brian2 import ms
    >>> spikes = (np.array([0, 0, 1]), [0.1, 0.3, 0.25] * ms)       # (channels, times)
    >>> task = TaskData("demo", [Sample(spikes, 1, 10)], [], 0.1 * ms, 2, 2, "cross_entropy")
    >>> indices, times = regrid(task, 0.5 * ms).train[0].input      # channel 0 merged
    >>> indices.tolist(), (times / ms).tolist()
    ([0, 1], [0.0, 0.0])
    """
    factor = float(dt / task.dt)
    if factor < 1 - 1e-9 or abs(factor - round(factor)) > 1e-6:
        raise ValueError(f"dt must be a whole multiple of the task's dt ({task.dt}), got {dt}")
    factor = int(round(factor))

    def convert(s):
        n = s.n_steps // factor
        weight = None if s.weight is None else s.weight[:n * factor:factor]
        target = s.target if isinstance(s.target, (int, np.integer)) else s.target[:n * factor:factor]
        if isinstance(s.input, tuple):
            indices = np.asarray(s.input[0], int)
            steps = np.floor(np.asarray(s.input[1] / dt) + 1e-9).astype(int)
            keep = steps < n
            pairs = np.unique(np.stack([indices[keep], steps[keep]]), axis=1)
            return Sample((pairs[0], pairs[1] * dt), target, n, weight)
        return Sample(s.input[:n * factor:factor], target, n, weight)

    return TaskData(task.name, [convert(s) for s in task.train], [convert(s) for s in task.test],
                    dt, task.n_inputs, task.n_outputs, task.loss, task.description)
