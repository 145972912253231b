"""The learner's binding to a Brian2 network: each connection's synapses as the
gradient methods see them (:class:`Connection`), a layer's output nonlinearity and
drive terms evaluated with numpy, and :class:`TrainingDiverged`. The engine that runs
the network: :mod:`.engine`."""

import numpy as np
from brian2 import second

from ..nonlinearities import NUMPY_FUNCTIONS, compiled_expression
from ..layers import layer_taus
from ..propagator import cascade_propagator
from .cascades import SenderCascades


class TrainingDiverged(FloatingPointError):
    """A NaN or infinite value appeared; the last good parameters have been restored."""


def activation(layer, x):
    """y = f(x), the layer's output nonlinearity (``layer.output``).

    Parameters
    ----------
    layer : Layer
        A neuron layer.
    x : ndarray
        Its drive x.

    Returns
    -------
    ndarray
        f(x).
    """
    return layer.output(x)


def activation_slope(layer, x):
    """f'(x), from the derivative the layer's nonlinearity states (relu: the step function;
    linear: 1).

    Parameters
    ----------
    layer : Layer
        A neuron layer.
    x : ndarray
        Its drive x.

    Returns
    -------
    ndarray
        f'(x).
    """
    return layer.output.slope(x)


def drive_terms(layer, batch):
    """The value of a layer's extra ``drive`` terms now, evaluated with numpy from the
    group's variables and namespace (constants in SI units).

    Parameters
    ----------
    layer : Layer
        A neuron layer with ``drive``.
    batch : int
        Copies of the network.

    Returns
    -------
    ndarray
        (batch, n).
    """
    from brian2.utils.stringtools import get_identifiers
    g = layer.group
    values = {}
    for name in get_identifiers(layer.drive) - set(NUMPY_FUNCTIONS):
        if name in g.variables and hasattr(g.variables[name], "get_value"):
            value = np.asarray(g.variables[name].get_value(), dtype=float)
            values[name] = value.reshape(batch, -1) if value.size == len(g) else value
        else:
            values[name] = float(np.asarray(g.namespace[name]))
    return eval(compiled_expression(layer.drive), {"__builtins__": {}}, {**NUMPY_FUNCTIONS, **values})


class Connection:
    """The learner's view of the synapses from layer l-1 to layer l of a network that holds
    ``batch`` copies (the first ``len(syn) / batch`` synapses are copy 0's).

    Parameters
    ----------
    syn : Synapses
        The synapses.
    source, target : Layer
        The layers they connect.
    dt : float
        Time step in seconds.
    batch : int
        Copies of the network.
    max_steps : int
        Longest delay in steps.
    history : bool or None
        True: keep the senders' delayed buckets (rule 'exact', first connection); the
        weight gradients keep their own window. None: no sender cascades (a method that
        does not filter the senders step by step).
    """

    def __init__(self, syn, source, target, dt, batch, max_steps, history=True):
        count = len(syn) // batch
        self.syn, self.source, self.target, self.batch = syn, source, target, batch
        self.n_pre, self.n_post = source.n // batch, target.n // batch
        self.pre = np.asarray(syn.i[:count])
        self.post = np.asarray(syn.j[:count])
        self.dt = dt
        self.taus = layer_taus(target)
        self.P = cascade_propagator(float(dt / second), self.taus)
        self.max_steps = int(max_steps)
        self.senders = None if history is None else SenderCascades(
            (batch, self.n_pre), self.max_steps if history else 0, self.P,
            impulse=source.kind == "spikes")
        steps = np.broadcast_to(np.rint(np.asarray(syn.delay[:] / dt)).astype(int), (len(syn),))
        self.set_delays(steps[:count])

    def set_delays(self, steps):
        """Whole-step delays per synapse (of one copy).

        Parameters
        ----------
        steps : ndarray
            Delay of each synapse in steps.
        """
        self.delays, self.delay_index = np.unique(steps, return_inverse=True)

    def dense(self, w):
        """Weights as a dense array per delay, zero where there is no synapse.

        Parameters
        ----------
        w : ndarray
            Weight of each synapse (of one copy).

        Returns
        -------
        ndarray
            (delays, n_pre, n_post).
        """
        W = np.zeros((len(self.delays), self.n_pre, self.n_post))
        W[self.delay_index, self.pre, self.post] = w
        return W

    def sender_buckets(self):
        """Buckets of every sender at every delay in use.

        Returns
        -------
        ndarray
            (delays, batch, n_pre, K+1).
        """
        return self.senders.delayed(self.delays)

    def dense_drive(self, v):
        """``sum_k v_j^k u_{i, d_ij}^k`` for every pair (j, i), one matrix product per delay;
        pairs without a synapse read delay index 0 (their values are unused).

        Parameters
        ----------
        v : ndarray
            Bucket weights of the receivers, (n_post, K+1).

        Returns
        -------
        ndarray
            (batch, n_post, n_pre).
        """
        M = np.matmul(v, self.sender_buckets().transpose(0, 1, 3, 2))   # (delays, B, n_post, n_pre)
        if len(M) == 1:
            return M[0]
        index = np.zeros((self.n_post, self.n_pre), dtype=int)
        index[self.post, self.pre] = self.delay_index
        return np.take_along_axis(M, index[None, None], axis=0)[0]
