"""Optimizers (SGD, Adam), learning-rate schedules and gradient clipping.

Parameters and gradients are dicts of numpy arrays; ``step`` updates in place.
"""
import numpy as np


class SGD:
    """``p -= lr * (g + momentum * velocity)`` (heavy-ball momentum when > 0).

    Parameters
    ----------
    lr : float
        Learning rate (> 0).
    momentum : float
        In [0, 1).
    """

    def __init__(self, lr=1e-2, momentum=0.0):
        if not lr > 0:
            raise ValueError(f"lr must be > 0, got {lr}")
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        self.lr, self.momentum, self.state = lr, momentum, {}

    def step(self, params, grads, lr_scale=1.0):
        """``p -= lr * lr_scale * g`` for every parameter, with momentum ``v = momentum v + g``
        used in place of ``g`` when set.

        Parameters
        ----------
        params : dict
            Arrays updated in place, by name.
        grads : dict
            Their gradients, by name.
        lr_scale : float
            Multiplier of the learning rate (a schedule's value).
        """
        for name, g in grads.items():
            if self.momentum:
                v = self.state.setdefault(name, np.zeros_like(g))
                v *= self.momentum
                v += g
                g = v
            params[name] -= self.lr * lr_scale * g


class Adam:
    """Adam (Kingma & Ba 2015) with bias correction.

    Parameters
    ----------
    lr : float
        Learning rate (> 0).
    beta1, beta2 : float
        Decay of the moving averages of ``g`` and ``g^2`` (in [0, 1)).
    eps : float
        Added to the denominator (> 0).
    """

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        if not lr > 0:
            raise ValueError(f"lr must be > 0, got {lr}")
        for name, beta in (("beta1", beta1), ("beta2", beta2)):
            if not 0 <= beta < 1:
                raise ValueError(f"{name} must be in [0, 1), got {beta}")
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.state = {"t": 0}

    def step(self, params, grads, lr_scale=1.0):
        """One Adam step with bias correction: ``m, v`` moving averages of ``g`` and ``g^2``,
        ``p -= lr * lr_scale * m_hat / (sqrt(v_hat) + eps)``.

        Parameters
        ----------
        params : dict
            Arrays updated in place, by name.
        grads : dict
            Their gradients, by name.
        lr_scale : float
            Multiplier of the learning rate (a schedule's value).
        """
        self.state["t"] += 1
        t = self.state["t"]
        for name, g in grads.items():
            m = self.state.setdefault("m_" + name, np.zeros_like(g))
            v = self.state.setdefault("v_" + name, np.zeros_like(g))
            m *= self.beta1
            m += (1 - self.beta1) * g
            v *= self.beta2
            v += (1 - self.beta2) * g * g
            m_hat = m / (1 - self.beta1 ** t)
            v_hat = v / (1 - self.beta2 ** t)
            params[name] -= self.lr * lr_scale * m_hat / (np.sqrt(v_hat) + self.eps)


def clip_by_global_norm(grads, max_norm):
    """Scale all gradients by ``min(1, max_norm / ||g||)``, in place.

    Parameters
    ----------
    grads : dict
        Gradient arrays by name.
    max_norm : float or None
        The largest global norm (None: no clipping).

    Returns
    -------
    float
        The global norm before clipping.
    """
    norm = float(np.sqrt(sum(float(np.sum(g * g)) for g in grads.values())))
    if max_norm is not None and norm > max_norm:
        for g in grads.values():
            g *= max_norm / norm
    return norm


def schedule(kind="constant", epochs=None, gamma=0.5, every=10, floor=0.0):
    """Learning-rate multiplier as a function of the epoch.

    Parameters
    ----------
    kind : str
        'constant': 1; 'step': gamma ** (epoch // every); 'cosine': from 1 down to
        ``floor`` over ``epochs`` epochs.
    epochs : int, optional
        Length of the cosine schedule.
    gamma : float
        Factor of the step schedule.
    every : int
        Epochs per step.
    floor : float
        Last value of the cosine schedule.

    Returns
    -------
    callable
        ``epoch -> multiplier``.

    Raises
    ------
    ValueError
        An unknown kind, or 'cosine' without ``epochs``.

    Examples
    --------
    >>> step = schedule("step", gamma=0.5, every=2)
    >>> [step(epoch) for epoch in range(5)]
    [1.0, 1.0, 0.5, 0.5, 0.25]
    >>> cosine = schedule("cosine", epochs=4)
    >>> [round(float(cosine(epoch)), 4) for epoch in range(5)]
    [1.0, 0.8536, 0.5, 0.1464, 0.0]
    """
    if kind == "constant":
        return lambda epoch: 1.0
    if kind == "step":
        return lambda epoch: gamma ** (epoch // every)
    if kind == "cosine":
        if not epochs:
            raise ValueError("epochs must be given for a cosine schedule")
        return lambda epoch: floor + (1 - floor) * 0.5 * (1 + np.cos(np.pi * min(epoch, epochs) / epochs))
    raise ValueError(f"kind must be one of ['constant', 'cosine', 'step'], got {kind!r}")
