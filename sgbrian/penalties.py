"""Activity penalties: a loss term on the hidden layers' outputs that trains for fewer quanta.

A sigma-delta neuron of threshold theta sends about TV(y) / theta quanta over a sample:
its quantized output follows y within theta / 2, so that every quantum covers theta of
y's variation. :class:`TotalVariation` adds to the loss::

    R = sum_l lambda_l sum_j sum_{t=1}^{T-1} |y_lj(t) - y_lj(t - dt)|

over each sample's own steps (t = 0 is the sample's first step; no pair spans two
samples) and over the hidden layers l = 1..L-1 (the readout sends no quanta). Its
derivative, with ``s(t) = sign(y(t) - y(t - dt))`` for 1 <= t < T and s = 0 outside
(``sign(0) = 0``, the subgradient 0 where y does not change)::

    dR/dy_lj(t) = lambda_l (s(t) - s(t + dt))

The rule 'adjoint' adds it to the error of each hidden layer's output, backwards in time.
The online rules cannot see s(t + dt) at step t; they add the same sum in the order
``dR/dtheta = sum_t lambda s(t) (dy(t)/dtheta - dy(t - dt)/dtheta)``, keeping the
previous step's sensitivities (:meth:`TotalVariation.step`).
"""
import numpy as np

from .validation import check_finite


class TotalVariation:
    """``lambda sum_t |y(t) - y(t - dt)|`` on every hidden layer's output (module docstring).

    Parameters
    ----------
    strength : float or sequence of float
        The lambda >= 0: one for every hidden layer, or one per hidden layer (input side
        first).

    Raises
    ------
    ValueError
        A strength that is negative or not finite.

    Examples
    --------
    >>> values, grad = TotalVariation(0.5).sequence(np.array([[0.0], [1.0], [1.0], [0.5]]), 4, 0.5)
    >>> values.tolist(), grad[:, 0].tolist()
    ([0.0, 0.5, 0.0, 0.25], [-0.5, 0.5, 0.5, -0.5])
    """

    def __init__(self, strength):
        values = np.atleast_1d(np.asarray(strength, dtype=float))
        check_finite("strength", values)
        if values.ndim != 1 or values.size == 0 or np.any(values < 0):
            raise ValueError(f"strength must be >= 0 (one value, or one per hidden layer), "
                             f"got {strength!r}")
        self.strength = values

    def __repr__(self):
        values = self.strength.tolist()
        return f"TotalVariation({values[0] if len(values) == 1 else values})"

    def strengths(self, hidden_layers):
        """lambda of each hidden layer.

        Parameters
        ----------
        hidden_layers : int
            Hidden layers of the network.

        Returns
        -------
        ndarray
            ``(hidden_layers,)``.

        Raises
        ------
        ValueError
            One value per layer given for another number of layers.
        """
        if self.strength.size == 1:
            return np.full(hidden_layers, self.strength[0])
        if self.strength.size != hidden_layers:
            raise ValueError(f"strength has {self.strength.size} values, but the network has "
                             f"{hidden_layers} hidden layers: give one value, or one per layer")
        return self.strength.copy()

    @staticmethod
    def sequence(y, length, strength):
        """The penalty of one sample's outputs and its derivative (module docstring).

        Parameters
        ----------
        y : ndarray
            One layer's outputs (T, n); only the first ``length`` steps are the sample's.
        length : int
            The sample's steps.
        strength : float
            lambda.

        Returns
        -------
        values : ndarray
            ``lambda sum_j |y_j(t) - y_j(t - dt)|`` per step (T,): 0 at t = 0 and from
            ``length`` on.
        grad : ndarray
            ``dR/dy`` (T, n).
        """
        T = len(y)
        values, grad = np.zeros(T), np.zeros_like(y)
        if length < 2 or strength == 0:
            return values, grad
        step = np.diff(y[:length], axis=0)                             # t = 1 .. length-1
        values[1:length] = strength * np.abs(step).sum(axis=1)
        s = np.sign(step)
        grad[1:length] += strength * s
        grad[:length - 1] -= strength * s
        return values, grad

    @staticmethod
    def step(y, y_previous, paired, strength):
        """One step of the online rules: the penalty of each copy and ``lambda s(t)``.

        Parameters
        ----------
        y, y_previous : ndarray
            The layer's outputs now and one step before, (copies, n).
        paired : ndarray of bool
            Copies whose sample had a step before this one (and is still running).
        strength : float
            lambda.

        Returns
        -------
        values : ndarray
            Per copy.
        signed : ndarray
            ``lambda s(t)``, (copies, n), zero for unpaired copies.
        """
        step = (y - y_previous) * paired[:, None]
        return strength * np.abs(step).sum(axis=1), strength * np.sign(step)
