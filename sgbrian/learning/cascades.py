"""The learner's filtered signals: a sender's buckets and their recent past.

A gamma cascade is linear and time-invariant, so the buckets of ``s(t - d)`` are the
buckets of ``s`` d steps ago. Each sender keeps one cascade and a ring of its last L + 1
bucket vectors (:class:`SenderCascades`); a delay is a lookup, not a cascade of its own.
:class:`BucketMajorCascades` stores the same values bucket-major for large signals, and
:class:`InPlaceTrace` steps the exact rule's input-weight trace in place when no past
value is read (docs/spec.md section 3).
"""
import numpy as np

from ..kernels import trace_kernel


class SenderCascades:
    """Buckets ``u(t)`` of a signal ``s(t)`` and their last ``max_delay + 1`` values
    (docs/spec.md section 3).

    Each step: ``u <- P u`` with the tap held, then the tap is set to ``s(t)`` (or, for
    impulses, ``s(t)`` is added to bucket 1). The buckets of ``s(t - d)`` are ``u(t - d)``
    (zero before the start): :meth:`delayed` looks them up. The values live in a ring of
    ``max(2, max_delay + 1)`` slots and each step writes the next slot from the last one,
    so nothing is copied. Memory independent of sequence length; work per step one
    cascade, whatever the number of delays.

    Parameters
    ----------
    shape : tuple of int
        Shape of the signal (e.g. (batch, n)).
    max_delay : int
        Longest delay looked up, in steps.
    P : ndarray
        The cascade's propagator, (K+1, K+1).
    impulse : bool
        Raw spikes: the signal enters bucket 1.
    """

    def __init__(self, shape, max_delay, P, impulse=False):
        self.PT = P.T.copy()
        self.impulse = impulse
        self.history = np.zeros((max(2, int(max_delay) + 1), *shape, P.shape[0]))
        self.t = 0

    @property
    def u(self):
        """The buckets now."""
        return self.history[(self.t - 1) % len(self.history)]

    def reset(self):
        """Zero every sender's buckets and restart the ring at step 0."""
        self.history[:] = 0
        self.t = 0

    def step(self, s):
        """Advance every sender's buckets one step by the propagator, then add this step's input
        (into bucket 1 for impulses, as bucket 0 otherwise).

        Parameters
        ----------
        s : ndarray
            The signal now, of the cascades' shape.
        """
        size = len(self.history)
        u = self.history[self.t % size]
        np.matmul(self.history[(self.t - 1) % size], self.PT, out=u)
        if self.impulse:
            u[..., 1] += s
        else:
            u[..., 0] = s
        self.t += 1

    def delayed(self, delays):
        """Buckets of ``s(t - d)`` for each d.

        Parameters
        ----------
        delays : array_like of int
            Delays in steps.

        Returns
        -------
        ndarray
            ``(len(delays), *shape, K+1)``.
        """
        delays = np.asarray(delays)
        if delays.size == 1 and delays[0] == 0:
            return self.u[None]
        return self.history[(self.t - 1 - delays) % len(self.history)]


class BucketMajorCascades(SenderCascades):
    """The same buckets stored bucket-major, ``(K+1, *shape)`` per step, for large signals
    (the exact rule's input-weight trace, (batch, n_in, n_hidden)).

    A step writes buckets 1..K of the new slot as ``P[1:] u`` (one matrix product with K+1
    columns per block of ``chunk`` signals, so that a block stays in cache) and the tap,
    bucket 0, as one contiguous copy of ``s(t)``: the memory traffic of one copy of the
    buckets. Storing bucket-last instead makes the tap a strided write over every cache
    line and the product one small matrix per signal row: about twice the time.
    :meth:`delayed` returns ``(len(delays), K+1, *shape)``.

    Parameters
    ----------
    shape : tuple of int
        Shape of the signal.
    max_delay : int
        Longest delay looked up, in steps.
    P : ndarray
        The cascade's propagator, (K+1, K+1).
    """

    chunk = 16384

    def __init__(self, shape, max_delay, P):
        self.P = np.ascontiguousarray(P[1:])
        self.history = np.zeros((max(2, int(max_delay) + 1), P.shape[0], *shape))
        self.t = 0

    def tap(self):
        """Bucket 0 of the next step's slot, shaped like the signal: writing ``s(t)`` there and
        calling ``step()`` saves the copy of ``step(s)``.

        Returns
        -------
        ndarray
            A writable view.
        """
        return self.history[self.t % len(self.history)][0]

    def step(self, s=None):
        """Advance the bucket-major cascades one step (``U_1..K <- P U``, in cache-sized column
        blocks).

        Parameters
        ----------
        s : ndarray, optional
            Becomes bucket 0 (else the tap written through :meth:`tap`).
        """
        size = len(self.history)
        new = self.history[self.t % size].reshape(len(self.P) + 1, -1)
        old = self.history[(self.t - 1) % size].reshape(len(self.P) + 1, -1)
        for a in range(0, new.shape[1], self.chunk):
            np.matmul(self.P, old[:, a:a + self.chunk], out=new[1:, a:a + self.chunk])
        if s is not None:
            new[0] = np.reshape(s, -1)
        self.t += 1


class InPlaceTrace:
    """A forward-mode trace of the exact rule when the readout has no delays, so that no past
    value is read: one array ``Z`` (K+1, batch, hidden, n), stepped in place and
    contracted with the readout's error in the same pass (:mod:`sgbrian.kernels`). Same
    numbers as :class:`BucketMajorCascades` followed by the products of delay 0, with half
    its memory traffic and of its memory.

    Parameters
    ----------
    shape : tuple of int
        (batch, hidden, n).
    P : ndarray
        The cascade's propagator, (K+1, K+1).
    """

    def __init__(self, shape, P):
        if np.any(np.triu(P, 1)):
            raise ValueError("InPlaceTrace needs a lower-triangular propagator (a cascade)")
        self.P = np.ascontiguousarray(P)
        self.Z = np.zeros((len(P), *shape))
        self.kernel = trace_kernel(len(P))

    def reset(self):
        """Zero the trace."""
        self.Z[:] = 0

    def step_and_contract(self, slope, tap, eps, out):
        """``Z <- P Z`` with the new tap ``slope[b, h] tap[b, h, i]``, then
        ``out[h, i] += sum_{b,k} eps[b, h, k] Z^k[b, h, i]``.

        Parameters
        ----------
        slope : ndarray
            (batch, hidden).
        tap : ndarray
            (batch, hidden, n) or broadcastable.
        eps : ndarray
            The readout's error per bucket, (batch, hidden, K+1).
        out : ndarray
            (hidden, n), added to.
        """
        self.kernel(self.P, self.Z, np.ascontiguousarray(slope), np.ascontiguousarray(tap),
                    np.ascontiguousarray(eps), out)
