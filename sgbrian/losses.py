"""Per-step losses of the readout and their error signals ``dL(t)/dy``.

Each loss works on a batch: ``prepare`` turns the samples of a batch into arrays over
(step, copy) once, and ``batch_step`` gives every copy's loss at step n and ``dL/dy``
(batch, n_out) in a few numpy operations. Steps past a sample's end, and copies that
hold no sample (the last batch of an epoch may be short), have weight 0. ``step`` is the
same loss for one sample, for analyses.
"""
import numpy as np
from brian2 import ms

from .validation import check_time


def _batch_weights(samples, copies, length, start=0):
    """(length, copies) loss weights: each sample's weight (1 if none) on its own steps
    from ``start`` on, 0 elsewhere; and (length, copies) ``active`` (inside a sample)."""
    weight = np.zeros((length, copies))
    active = np.zeros((length, copies), bool)
    for b, sample in enumerate(samples):
        n = sample.n_steps
        active[:n, b] = True
        weight[:n, b] = 1.0 if sample.weight is None else sample.weight
    weight[:start] = 0.0
    return weight, active


class MSELoss:
    """``L(t) = m(t) * 1/2 * sum_j (y_j(t) - target_j(t))^2`` (m: optional per-step weight)."""
    name = "mse"
    start_step = 0

    def check(self, samples, n_out):
        """Every target an array (n_steps, n_out), before anything runs.

        Parameters
        ----------
        samples : list of Sample
            The samples to train or test on.
        n_out : int
            Outputs of the network.

        Raises
        ------
        ValueError
            The first sample whose target does not fit, named.
        """
        for index, sample in enumerate(samples):
            shape = np.shape(sample.target)
            if len(shape) != 2 or shape[1] != n_out:
                raise ValueError(f"samples[{index}].target must have shape (n_steps, {n_out}) "
                                 f"for MSELoss (the readout has {n_out} neurons), got {shape}")

    def prepare(self, samples, copies, length=None, dt=None):
        """Arrays of a batch of samples side by side: per-step weights, active steps and
        targets (length of the longest sample).

        Parameters
        ----------
        samples : list of Sample
            One sample per copy (fewer: the last copies idle).
        copies : int
            Copies side by side.
        length : int, optional
            Steps of the batch (default: the longest sample's).
        dt : Quantity, optional
            Time step (for targets given as functions of time).

        Returns
        -------
        dict
            ``weights`` (steps, copies), ``active`` steps and the targets or labels.
        """
        length = max(s.n_steps for s in samples)
        weight, active = _batch_weights(samples, copies, length)
        target = np.zeros((length, copies, samples[0].target.shape[1]))
        for b, sample in enumerate(samples):
            target[:sample.n_steps, b] = sample.target
        return {"weight": weight, "active": active, "target": target, "samples": samples}

    def batch_step(self, y, data, n):
        """Losses and ``dL/dy`` of every copy at step n.

        Parameters
        ----------
        y : ndarray
            Readouts (copies, n_out) at step n.
        data : dict
            The batch's arrays from ``prepare``.
        n : int
            The step.

        Returns
        -------
        losses : ndarray
            Per copy (copies,).
        grad : ndarray
            ``dL/dy`` (copies, n_out).
        """
        error = y - data["target"][n]
        weight = data["weight"][n]
        return weight * 0.5 * np.einsum("bj,bj->b", error, error), weight[:, None] * error

    def sample_sequence(self, y, data, b):
        """Losses and ``dL/dy`` of copy b over its first T = len(y) steps.

        Parameters
        ----------
        y : ndarray
            Readouts (T, n_out) of one copy.
        data : dict
            The batch's arrays from ``prepare``.
        b : int
            The copy.

        Returns
        -------
        losses : ndarray
            Per step (T,).
        grad : ndarray
            ``dL/dy`` (T, n_out).
        """
        error = y - data["target"][:len(y), b]
        weight = data["weight"][:len(y), b]
        return weight * 0.5 * np.einsum("tj,tj->t", error, error), weight[:, None] * error

    def step(self, y, sample, n):
        """Loss ``w/2 |y - target_n|^2`` of one sample at step ``n`` and its gradient
        ``w (y - target_n)``.

        Parameters
        ----------
        y : ndarray
            The readout (n_out,) at step n.
        sample : Sample
            The sample.
        n : int
            The step.

        Returns
        -------
        loss : float
            The loss at step n.
        grad : ndarray
            ``dL/dy`` (n_out,).
        """
        error = y - sample.target[n]
        weight = 1.0 if sample.weight is None else sample.weight[n]
        return weight * 0.5 * float(error @ error), weight * error


class CrossEntropyLoss:
    """``L(t) = -m(t) * log softmax(y(t))_c`` for ``t >= start`` (c: the sample's label).

    The prediction of a sample is the class with the largest mean readout over
    ``t >= start``.

    Parameters
    ----------
    start : Quantity
        Time from which the loss counts (the readout needs time to see the input).
    """
    name = "cross_entropy"

    def __init__(self, start=0 * ms):
        self.start = check_time("start", start, allow_zero=True)
        self.start_step = None     # set by the learner from dt

    def check(self, samples, n_out):
        """Every target a class label in [0, n_out - 1], before anything runs.

        Parameters
        ----------
        samples : list of Sample
            The samples to train or test on.
        n_out : int
            Outputs of the network.

        Raises
        ------
        ValueError
            The first sample whose target does not fit, named.
        """
        for index, sample in enumerate(samples):
            label = sample.target
            if not isinstance(label, (int, np.integer)) or not 0 <= label < n_out:
                raise ValueError(f"samples[{index}].target must be a class label in "
                                 f"[0, {n_out - 1}] for CrossEntropyLoss, got {label!r}")

    def prepare(self, samples, copies, length=None, dt=None):
        """Arrays of a batch of samples side by side: per-step weights, active steps (from
        ``start``) and labels.

        Parameters
        ----------
        samples : list of Sample
            One sample per copy (fewer: the last copies idle).
        copies : int
            Copies side by side.
        length : int, optional
            Steps of the batch (default: the longest sample's).
        dt : Quantity, optional
            Time step (for targets given as functions of time).

        Returns
        -------
        dict
            ``weights`` (steps, copies), ``active`` steps and the targets or labels.
        """
        length = max(s.n_steps for s in samples)
        weight, active = _batch_weights(samples, copies, length, self.start_step or 0)
        labels = np.zeros(copies, dtype=int)
        labels[:len(samples)] = [s.target for s in samples]
        return {"weight": weight, "active": active, "labels": labels, "samples": samples}

    def batch_step(self, y, data, n):
        """Losses and ``dL/dy`` of every copy at step n (None before ``start``).

        Parameters
        ----------
        y : ndarray
            Readouts (copies, n_out) at step n.
        data : dict
            The batch's arrays from ``prepare``.
        n : int
            The step.

        Returns
        -------
        losses : ndarray
            Per copy (copies,).
        grad : ndarray or None
            ``dL/dy`` (copies, n_out); None before ``start``.
        """
        if n < self.start_step:
            return np.zeros(len(y)), None
        weight = data["weight"][n]
        z = y - y.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(z).sum(axis=1))
        rows = np.arange(len(y))
        grad = np.exp(z - log_norm[:, None]) * weight[:, None]
        grad[rows, data["labels"]] -= weight
        return -weight * (z[rows, data["labels"]] - log_norm), grad

    def sample_sequence(self, y, data, b):
        """Losses and ``dL/dy`` of copy b over its first T = len(y) steps (zero before
        ``start``).

        Parameters
        ----------
        y : ndarray
            Readouts (T, n_out) of one copy.
        data : dict
            The batch's arrays from ``prepare``.
        b : int
            The copy.

        Returns
        -------
        losses : ndarray
            Per step (T,).
        grad : ndarray
            ``dL/dy`` (T, n_out).
        """
        steps, start = len(y), min(self.start_step, len(y))
        losses, grad = np.zeros(steps), np.zeros_like(y)
        weight, label = data["weight"][start:steps, b], data["labels"][b]
        z = y[start:] - y[start:].max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(z).sum(axis=1))
        grad[start:] = np.exp(z - log_norm[:, None]) * weight[:, None]
        grad[start:, label] -= weight
        losses[start:] = -weight * (z[:, label] - log_norm)
        return losses, grad

    def step(self, y, sample, n):
        """Loss ``-w log softmax(y)_label`` of one sample at step ``n`` and its gradient
        ``w (softmax(y) - onehot)``; zero before ``start``.

        Parameters
        ----------
        y : ndarray
            The readout (n_out,) at step n.
        sample : Sample
            The sample.
        n : int
            The step.

        Returns
        -------
        loss : float
            The loss at step n.
        grad : ndarray
            ``dL/dy`` (n_out,).
        """
        if n < self.start_step:
            return 0.0, None
        z = y - y.max()
        p = np.exp(z)
        p /= p.sum()
        weight = 1.0 if sample.weight is None else sample.weight[n]
        grad = weight * p
        grad[sample.target] -= weight
        return -weight * float(z[sample.target] - np.log(np.exp(z).sum())), grad
