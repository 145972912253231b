"""Per-step losses of the readout and their error signals ``dL(t)/dy``."""
import numpy as np
from brian2 import ms

from .validation import check_time


class MSELoss:
    """``L(t) = m(t) * 1/2 * sum_j (y_j(t) - target_j(t))^2`` (m: optional per-step weight)."""
    name = "mse"

    def step(self, y, sample, n):
        error = y - sample.target[n]
        weight = 1.0 if sample.weight is None else sample.weight[n]
        return weight * 0.5 * float(error @ error), weight * error


class CrossEntropyLoss:
    """``L(t) = -m(t) * log softmax(y(t))_c`` for ``t >= start`` (c: the sample's label).

    The prediction of a sample is the class with the largest mean readout over
    ``t >= start``.
    """
    name = "cross_entropy"

    def __init__(self, start=0 * ms):
        self.start = check_time("start", start, allow_zero=True)
        self.start_step = None     # set by the learner from dt

    def step(self, y, sample, n):
        if n < self.start_step:
            return 0.0, None
        z = y - y.max()
        p = np.exp(z)
        p /= p.sum()
        weight = 1.0 if sample.weight is None else sample.weight[n]
        grad = weight * p
        grad[sample.target] -= weight
        return -weight * float(z[sample.target] - np.log(np.exp(z).sum())), grad
