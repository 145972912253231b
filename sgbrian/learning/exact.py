"""Rule 'exact' (one hidden layer): the online engine whose readout error meets forward-mode
traces of the hidden parameters' sensitivities, filtered by the readout's cascade per
readout delay d, ``Z_{p,d}(t+h) = P Z_{p,d}(t)``, ``Z_{p,d}^0 = z_p(t - d)``,
``dL/dp = sum_{d,k} eps_{i(p),d}^k Z_{p,d}^k`` (:mod:`sgbrian.learning.online` for the
shared per-step machinery).
"""
import numpy as np

from .binding import activation_slope
from .cascades import BucketMajorCascades, InPlaceTrace, SenderCascades
from .online import OnlineEngine


class ExactEngine(OnlineEngine):
    """Rule 'exact' (one hidden layer): the readout's error meets forward-mode traces of the
    hidden parameters' sensitivities instead of being sent down.

    Parameters
    ----------
    learner : OnlineLearner
        The learner.
    net : SGNetwork
        The network of ``batch`` copies.
    batch : int
        Copies.
    """

    def keeps_history(self, l):
        """Only the input layer's delayed buckets are kept: the dense drive of the first
        connection reads them.

        Parameters
        ----------
        l : int
            The connection.

        Returns
        -------
        bool
            Whether ``l`` is the first connection.
        """
        return l == 0                        # dense_drive reads the inputs' delayed buckets

    def _make_traces(self):
        """Traces of w0 (dense: every (input, hidden) pair, so that the products need no
        gather; flushed to the synapses), v1 and b1, filtered by the readout's cascade.
        Without readout delays each is an :class:`InPlaceTrace` (hidden h, then the
        parameter's own index: input i, bucket m, or one bias), stepped and contracted in
        one compiled pass; with them, a ring of past values (:class:`SenderCascades`,
        :class:`BucketMajorCascades` for w0) read at every readout delay."""
        readout, syn0 = self.connections[1], self.connections[0]
        n, K = self.sizes[1], self.net.layers[1].K
        self.w0_dense = np.zeros((n, syn0.n_pre))               # (hidden, input)
        if readout.max_steps == 0:
            self.exact = {name: (None, InPlaceTrace((self.batch, n, size), readout.P))
                          for name, size in (("w0", syn0.n_pre), ("v1", K + 1), ("b1", 1))}
            return
        make = lambda *shape: SenderCascades((self.batch, *shape), readout.max_steps, readout.P)  # noqa: E731
        self.exact = {"w0": (None, BucketMajorCascades((self.batch, n, syn0.n_pre),
                                                       readout.max_steps, readout.P)),
                      "v1": (np.repeat(np.arange(n), K + 1), make(n * (K + 1))),
                      "b1": (np.arange(n), make(n))}

    def reset(self):
        """Reset the shared state and zero the forward-mode traces."""
        super().reset()
        for _, trace in self.exact.values():
            trace.reset()

    def _make_penalty_buffers(self):
        """None: the penalty's w0 terms go straight into the dense (hidden x input)
        gradient, with the drive of this step and of the step before."""
        self.previous_weight_grads, self.previous_delay_grads = {}, {}

    def _penalty_step(self, plan, n, x, U):
        """As the online engine, keeping this step's dense drive as well (training only).

        Parameters
        ----------
        plan : RunPlan
            The run.
        n : int
            The step in the batch.
        x, U : list of ndarray
            Each layer's x and buckets.

        Returns
        -------
        ndarray
            The penalty per copy.
        """
        total = super()._penalty_step(plan, n, x, U)
        if plan.train:
            self._current[1]["drive"] = self._drive
        return total

    def _add_penalty(self):
        """The penalty's gradients of the hidden layer's own parameters, both terms:
        ``delta_now`` with this step's buckets and drive ``sum_k v_h^k u_i^k(t - d)``,
        ``delta_before`` with the step before's."""
        grads, train = self.learner.grads, self.learner.train
        terms = [(self._penalty_now(1), self._current[1])]
        if 1 in self.previous:
            terms.append((self._penalty_before(1), self.previous[1]))
        for delta, step in terms:
            if "v" in train:
                grads["v1"] += np.einsum("bn,bnk->nk", delta, step["U"])
            if "b" in train:
                grads["b1"] += delta.sum(axis=0)
            if "w" in train:
                self.w0_dense += np.einsum("bh,bhi->hi", delta, step["drive"])

    def _step_traces(self, x1, U1, v1):
        """The traces' taps: ``slope_h`` times the sensitivity of x_h to the parameter,
        ``sum_k v_h^k u_i^k`` (w0, the input's delayed buckets), ``U_h^m`` (v1), 1 (b1)."""
        slope = activation_slope(self.net.layers[1], x1)                 # (B, n)
        drive = self.connections[0].dense_drive(v1)                      # (B, n, n_in)
        self._drive = drive
        if isinstance(self.exact["w0"][1], InPlaceTrace):   # stepped with the contraction
            self._taps = {"w0": (slope, drive), "v1": (slope, U1),
                          "b1": (slope, np.ones((*slope.shape, 1)))}
            return
        w0_trace = self.exact["w0"][1]
        np.multiply(slope[:, :, None], drive, out=w0_trace.tap())
        w0_trace.step()
        self.exact["v1"][1].step((slope[:, :, None] * U1).reshape(self.batch, -1))
        self.exact["b1"][1].step(slope)

    def _error_below(self, l, vd, x):
        """Contract the readout's error ``eps`` with the traces (into the hidden
        parameters' gradients); nothing is sent further down."""
        grads, train = self.learner.grads, self.learner.train
        if 1 in self._signed:
            self._add_penalty()
        eps = np.matmul(self.dense[l - 1][:, None], vd[None])       # (D, B, n_h, K+1)
        readout = self.connections[l - 1]
        for name, (owner, trace) in self.exact.items():
            if name[0] not in train:
                continue
            if isinstance(trace, InPlaceTrace):                # readout delay 0
                out = self.w0_dense if name == "w0" else grads[name].reshape(self.sizes[1], -1)
                trace.step_and_contract(*self._taps[name], eps[0], out)
                continue
            Z = trace.delayed(readout.delays)                 # (D, B, ..., K+1)
            if name == "w0":
                self._add_w0_products(Z, eps)
            else:
                grads[name] += np.einsum("dbpk,dbpk->p", eps[:, :, owner],
                                         Z).reshape(grads[name].shape)
        return None

    def _add_w0_products(self, Z, eps):
        """``w0_dense[h, i] += sum_{d,k,b} Z[d, k, b, h, i] eps[d, b, h, k]`` (Z
        bucket-major, hidden before input): per delay one batched vector-matrix product
        over h, ``(k, b)`` contracted, which reads Z once (an ``einsum`` of the same sum
        takes twice as long)."""
        _, K1, B, n_h, n_in = Z.shape
        for Zd, ed in zip(Z, eps):
            errors = ed.transpose(1, 2, 0).reshape(n_h, 1, K1 * B)             # (h, 1, (k, b))
            self.w0_dense += np.matmul(errors, Zd.reshape(K1 * B, n_h, n_in).transpose(1, 0, 2))[:, 0]

    def flush(self, grads, train):
        """As the online engine, plus the first connection's weight gradient gathered from its
        dense (post x pre) buffer, which is then zeroed.

        Parameters
        ----------
        grads : dict
            The sums, by parameter.
        train : sequence of str
            The parameters trained.
        """
        super().flush(grads, train)
        if "w" in train:
            c0 = self.connections[0]
            grads["w0"] += self.w0_dense[c0.post, c0.pre]
            self.w0_dense[:] = 0
