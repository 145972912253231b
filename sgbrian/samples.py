"""Samples and tasks: :class:`Sample` (one input with its target), :class:`TaskData` (train
and test samples of a task), :func:`regrid` (a task on a coarser grid)."""
from dataclasses import dataclass
from typing import Optional

import numpy as np

from .validation import check_choice


@dataclass
class Sample:
    """One training or test sample.

    Parameters
    ----------
    input : array_like or tuple
        Array (n_steps, channels) of analog values, one per dt, or ``(indices, times)``
        spike trains with times in [0, n_steps*dt).
    target : array_like or callable or int
        Array (n_steps, n_out) for MSE, a function of time (called with the step times
        ``n * dt`` as a Brian2 quantity; give ``dt``), or a class label for cross-entropy.
    n_steps : int
        Length in steps.
    weight : ndarray, optional
        Per-step loss weight (n_steps,).
    dt : Quantity, optional
        The grid of a target given as a function.
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
    """A generated task: train and test samples plus what the task is about.

    Parameters
    ----------
    name : str
        The task's name.
    train, test : list of Sample
        The samples.
    dt : Quantity
        Their time step.
    n_inputs, n_outputs : int
        Channels in and out.
    loss : str
        'mse' or 'cross_entropy'.
    description : str
        What the task is about.
    """
    name: str
    train: list
    test: list
    dt: object
    n_inputs: int
    n_outputs: int
    loss: str                      # 'mse' or 'cross_entropy'
    description: str = ""

    def dense(self, split="train", dt=None):
        """The samples of one split as dense arrays, for other tools (e.g. a BPTT library).

        Samples shorter than the longest are padded with zeros.

        Parameters
        ----------
        split : str
            'train' or 'test'.
        dt : Quantity, optional
            The grid (default: the task's; a coarser one must be a whole multiple, and goes
            through :func:`regrid`).

        Returns
        -------
        inputs : ndarray
            (samples, steps, channels): spike counts per step for spike inputs (a spike at t
            in step floor(t / dt)) or the sampled analog values.
        targets : ndarray
            Labels (cross-entropy) or (samples, steps, n_out) values (MSE).
        weights : ndarray
            (samples, steps) per-step loss weights (1 where the sample gives none, 0 after
            its end).
        lengths : ndarray
            The steps of each sample.
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


def binned_spikes(channels, steps, target, n_steps, dt):
    """One sample of spike trains from events already binned to time steps.

    Events at or after step ``n_steps`` are dropped; several events of a channel in one
    step are merged into one spike (a raw spike's payload is 1). Each spike sits at its
    step's start; the spikes are sorted by channel, then step.

    Parameters
    ----------
    channels : ndarray of int
        Channel of each event.
    steps : ndarray of int
        Step of each event (>= 0).
    target : int
        The class label.
    n_steps : int
        Length of the sample in steps.
    dt : Quantity
        Time step.

    Returns
    -------
    Sample
        Input ``(indices, times)``, the target and ``n_steps``.

    Examples
    --------
    >>> from brian2 import ms
    >>> sample = binned_spikes(np.array([2, 0, 2, 1]), np.array([3, 1, 3, 9]), 5, 8, 1 * ms)
    >>> sample.input[0].tolist(), (sample.input[1] / ms).tolist(), sample.target
    ([0, 2], [1.0, 3.0], 5)
    """
    keep = steps < n_steps
    pairs = np.unique(np.stack([channels[keep], steps[keep]]), axis=1)
    return Sample((pairs[0], pairs[1] * dt), int(target), n_steps)


def regrid(task, dt):
    """The same task on a coarser grid.

    Analog inputs, targets and weights are sampled at every ``dt`` (t = n dt); spike
    times are binned (step = floor(t / dt)) and spikes of one channel that fall into one
    step are merged: that loss of timing is what a coarse dt costs.

    Parameters
    ----------
    task : TaskData
        The task.
    dt : Quantity
        The new grid, a whole multiple of ``task.dt``.

    Returns
    -------
    TaskData
        The task on ``dt``.

    Raises
    ------
    ValueError
        A ``dt`` that is not a whole multiple.

    Examples
    --------
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
