"""Datasets for training and evaluation: inputs of batches side by side, and spike
datasets in the HDF5 layout of SHD and SSC (read, written, synthetic). The samples
themselves: :mod:`sgbrian.samples` (re-exported here)."""
import numpy as np
from brian2 import second

from .samples import Sample, TaskData, binned_spikes, regrid
from .validation import check_int, check_time

#: ``Sample``, ``TaskData`` and ``regrid`` are re-exported: ``sgbrian.datasets.Sample`` works.
__all__ = ["Sample", "TaskData", "regrid", "batch_inputs", "load_shd", "write_shd",
           "synthetic_shd"]


def batch_inputs(batches, copies, gap, dt, channels, length=None):
    """One input timeline for a list of batches, each ``copies`` samples side by side.

    Batch j lasts ``max(n_steps) + gap`` steps (or ``length`` steps each, when given: at
    least that); copy b of it reads channels ``b * channels .. (b + 1) * channels - 1`` and
    holds sample ``batches[j][b]`` from the batch's first step (silence after it ends,
    and in copies without a sample).

    Parameters
    ----------
    batches : list of list of Sample
        The batches.
    copies : int
        Samples side by side.
    gap : int
        Silent steps after each batch.
    dt : Quantity
        Time step.
    channels : int
        Input channels of one copy.
    length : int, optional
        Steps of every batch.

    Returns
    -------
    input : ndarray or tuple
        An array (steps, copies * channels) or ``(indices, times)``.
    starts : list of int
        The first step of each batch.
    lengths : list of int
        The length of each batch.
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
    ``spikes/units``, ``labels``), as used by SHD and SSC. Needs ``h5py``.

    Spikes after ``duration`` are dropped; spikes of one unit within one time step are
    merged into one (the payload of a raw spike is 1).

    Parameters
    ----------
    path : str
        The file.
    dt : Quantity
        Time step.
    duration : Quantity
        Length of each sample.
    channels : int
        Input channels.
    max_samples : int, optional
        Read only the first ones.

    Returns
    -------
    list of Sample
        One per sample of the file.

    Raises
    ------
    ValueError
        A file that is not in that layout (named, with what is missing).
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
            samples.append(binned_spikes(unit, steps, labels[s], n_steps, dt))
    return samples


def write_shd(path, times, units, labels, extra=None):
    """Write spike trains in the HDF5 layout of the Spiking Heidelberg Digits. Needs h5py.

    Parameters
    ----------
    path : str
        The file.
    times : list of array_like
        Spike times of each sample, in seconds.
    units : list of array_like
        Channel of each spike (uint16).
    labels : array_like
        Class of each sample (uint16).
    extra : dict, optional
        Arrays written as ``extra/<name>``.
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
    with Gaussian ``jitter`` on every spike plus Poisson noise spikes at ``noise_rate`` per
    channel, the same for every class: spike counts carry no class information, only
    timing does. Labels cycle through the classes in a seeded random order.

    Parameters
    ----------
    path : str
        The file written.
    n_samples : int
        Number of samples.
    channels : int
        Input channels.
    classes : int
        Number of classes.
    duration : Quantity
        Length of a sample.
    jitter : Quantity, optional
        Standard deviation of the spike jitter (default 2 ms).
    noise_rate : Quantity, optional
        Noise spikes per channel (default 2 Hz).
    seed : int
        Seed of the samples. Same seed, same file.
    template_seed : int, optional
        Seed of the class templates (default ``seed``): a test set shares its training
        set's templates but has a ``seed`` of its own.

    Returns
    -------
    str
        ``path``.
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
