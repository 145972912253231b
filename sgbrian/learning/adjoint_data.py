"""The adjoint rule's data: each connection's synapses of one copy in CSR order with
their whole-step delays (:class:`SynapseTable`, and the error it sends down), and the
events a layer sent during a batch, split by copy (:class:`LayerEvents`)."""
import numpy as np
from brian2 import second


class SynapseTable:
    """The synapses of one connection of one copy in CSR order (sender i's synapses are
    positions ``start[i]:start[i + 1]``; ``order`` maps a position to the synapse's index in
    Brian2's order), with their whole-step delays as the network uses them now.

    Parameters
    ----------
    conn : Connection
        The connection.
    """

    def __init__(self, conn):
        pre = conn.pre.astype(np.int64)
        self.order = np.argsort(pre, kind="stable")
        self.in_order = bool(np.all(self.order == np.arange(len(pre))))
        self.start = np.searchsorted(pre[self.order], np.arange(conn.n_pre + 1)).astype(np.int64)
        self.post = np.ascontiguousarray(conn.post[self.order], dtype=np.int64)
        self.n_pre, self.n_post = conn.n_pre, conn.n_post
        self.set_delays(conn)

    def set_delays(self, conn):
        """The connection's per-synapse delays in steps and ``offset = delay x n_post + post``
        (int32), where an event's arrival lands in a (steps, n_post) array relative to its
        step's row.

        Parameters
        ----------
        conn : Connection
            The connection (``conn.delays`` indexed per synapse).
        """
        self.delays = np.ascontiguousarray(self.csr(conn.delays[conn.delay_index]), dtype=np.int64)
        self.longest = int(self.delays.max(initial=0))
        offset = self.delays * self.n_post + self.post
        if offset.max(initial=0) >= 2 ** 31:
            raise ValueError(f"delays up to {self.longest} steps x {self.n_post} receivers exceed "
                             "the adjoint's int32 offsets")
        self.offset = offset.astype(np.int32)
        self.delay_values = np.unique(self.delays)
        self.dense = len(self.delay_values) * self.n_pre * self.n_post <= 2 * len(self.post)
        if self.dense:          # per delay value: its synapses' senders and receivers
            pre = np.repeat(np.arange(self.n_pre), np.diff(self.start))
            chosen = {d: np.flatnonzero(self.delays == d) for d in self.delay_values}
            self.by_delay = {d: (c, pre[c], self.post[c]) for d, c in chosen.items()}

    def error(self, E, weights, compiled, out):
        """The error of each sender's transmitted signal, ``A[t, i] = sum_{s of i} w_s
        E[t + d_s, post_s]`` for t = 0..T (E is zero from T on). Where the weights are dense
        per delay value (the delays in use times n_pre times n_post at most twice the
        synapses), one matrix product per delay; else one pass over each sender's synapses.

        Parameters
        ----------
        E : ndarray
            The receivers' error, (T, n_post).
        weights : ndarray
            In CSR order.
        compiled : module
            The compiled loops (``compiled.error``).
        out : ndarray
            (T + 1, n_pre), written.

        Returns
        -------
        ndarray
            ``out``.
        """
        T = len(E)
        if self.dense:
            out[:] = 0.0
            for d in self.delay_values[self.delay_values < T]:   # E[t + d] exists for t < T - d
                chosen, pre, post = self.by_delay[d]
                W = np.zeros((self.n_pre, self.n_post))
                W[pre, post] = weights[chosen]
                out[:T - d] += E[d:] @ W.T
            return out
        ET = np.zeros((self.n_post, T + 1 + self.longest))
        ET[:, :T] = E.T
        A = np.empty((self.n_pre, T + 1))
        compiled.error(self.start, self.post, weights, self.delays, ET, A)
        out[:] = A.T
        return out

    def csr(self, values):
        """Per-synapse values in CSR order.

        Parameters
        ----------
        values : ndarray
            In Brian2's order.

        Returns
        -------
        ndarray
            In CSR order.
        """
        return values if self.in_order else values[self.order]

    def add(self, grad, values):
        """``grad`` (Brian2's order) += ``values`` (CSR order).

        Parameters
        ----------
        grad : ndarray
            A gradient in Brian2's synapse order, updated.
        values : ndarray
            In CSR order.
        """
        if self.in_order:
            grad += values
        else:
            np.add.at(grad, self.order, values)


class LayerEvents:
    """The events a sender layer emitted during one batch, split by copy: for copy b,
    ``steps[b]`` (step within the batch), ``senders[b]`` (neuron of the copy) and
    ``amounts[b]`` (what each event injects: ``theta q``, or 1 per raw spike).

    Parameters
    ----------
    monitor : SpikeMonitor
        The layer's monitor.
    layer : Layer
        The layer (of the batch's network).
    n : int
        Neurons of one copy.
    copies : int
        Copies.
    first_step : int
        The batch's first step.
    dt : float
        Time step in seconds.
    """

    def __init__(self, monitor, layer, n, copies, first_step, dt):
        count = int(monitor.variables["N"].get_value())
        index = np.asarray(monitor.variables["i"].get_value()[:count], dtype=np.int64)
        steps = np.rint(monitor.variables["t"].get_value()[:count] / float(dt / second))
        steps = steps.astype(np.int64) - first_step
        if layer.kind == "spikes":
            amounts = np.ones(count)
            self.quanta = amounts
        else:
            q = monitor.variables["q"].get_value()[:count]
            theta = layer.group.variables["theta"].get_value()
            amounts = np.asarray(theta[index] * q if np.ndim(theta) else theta * q, dtype=float)
            self.quanta = np.abs(q)
        copy = index // n
        order = np.argsort(copy.astype(np.int16 if copies < 2 ** 15 else np.int64), kind="stable")
        bounds = np.searchsorted(copy[order], np.arange(copies + 1))
        self.copy, self.steps_all = copy, steps
        by_copy = (steps[order], index[order] - copy[order] * n, amounts[order])
        self.parts = [tuple(a[start:stop] for a in by_copy)
                      for start, stop in zip(bounds[:-1], bounds[1:])]
        monitor.resize(0)
        monitor.variables["N"].set_value(0)

    def counted(self, active):
        """Events and quanta at the steps inside a sample.

        Parameters
        ----------
        active : ndarray of bool
            ``active[step, copy]``.

        Returns
        -------
        events : int
            Events.
        quanta : float
            Sum of ``|q|``.
        """
        inside = (self.steps_all >= 0) & (self.steps_all < len(active))
        keep = np.zeros(len(self.copy), bool)
        keep[inside] = active[self.steps_all[inside], self.copy[inside]]
        return int(keep.sum()), float(self.quanta[keep].sum())
