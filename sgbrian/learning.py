"""Online learning with exact error signals (MODEL.md section 5).

The :class:`OnlineLearner` runs inside the Brian2 run as a ``network_operation`` at the
end of every time step. It reads the network's state, forms the error of the readout,
and accumulates gradients of the per-step loss; parameters are updated every step,
every n steps, or once per sample. No surrogate derivative of a threshold is used and
nothing is unrolled through time: every quantity below is a recursion with memory
independent of the sequence length.

Gradients are those of the *analog model* (every spike train replaced by the signal it
encodes, r = y). With ``payload='analog'`` the Brian2 network *is* that model and the
gradients are exact (tests/test_learning.py checks them against finite differences).

Notation (layer l receives from layer l-1 through synapses s = (i, j, d)):

    delta_j(t)    = dL(t)/dx_j(t)                     (readout: dL/dy * act'(x))
    dL/dv_j^k     = delta_j U_j^k
    dL/db_j       = delta_j
    dL/dw_s       = delta_j sum_k v_j^k u_{i,d}^k     (u_{i,d}: buckets of r_i(t - d))
    eps_{i,d}^k   = sum_{j: d_ij = d} delta_j w_ij v_j^k   (error sent one layer down)

Rule ``'spatial'`` (any depth): ``delta_i = act'(x_i) sum_{d,k} eps_{i,d}^k`` and the
formulas above repeat one layer down.

Continuous delays (``train`` includes 'd', MODEL.md section 4): each synapse has a
delay ``D_s`` in ms; the network runs with the nearest whole number of steps (Brian2
fixes delays within a run, so a change takes effect at the next run, i.e. the next
``fit`` epoch or ``evaluate``) and the gradient is that of the smooth buckets,

    dL/dD_s = delta_j w_s sum_{k>=1} v_j^k (u_{i,d}^k - u_{i,d}^{k-1}) / tau_k

(taps 1..K; tap 0 jumps). Under 'exact' only the readout's delays learn; under
'spatial' every layer's. Rule ``'exact'`` (one hidden layer): forward-mode
traces of the hidden parameters' sensitivities z_p, filtered by the readout's cascade
per readout delay d: ``Z_{p,d}(t+h) = P Z_{p,d}(t)``, ``Z_{p,d}^0 = z_p(t - d)``, and
``dL/dp = sum_{d,k} eps_{i(p),d}^k Z_{p,d}^k``.

Batches: ``fit``, ``evaluate`` and ``gradients`` take ``batch_size`` B. B samples run side
by side in one Brian2 network (``SGNetwork.replicate(B)``: B copies with the same
parameters); every per-step quantity above gains a leading batch axis, the gradients
are summed over the batch, and the parameters are updated once per batch (or every n
steps of it). A batch's gradient is the sum of its samples' gradients; B = 1 is the
one-sample-at-a-time learner. Samples of a batch shorter than the longest are padded
with silence; their loss weight is 0 there.

Delayed buckets: a cascade is linear and time-invariant, so the buckets of ``s(t - d)``
are the buckets of ``s`` d steps ago. Each sender keeps one cascade and a ring of its
last L + 1 bucket vectors (:class:`SenderCascades`); a delay is a lookup, not a cascade
of its own.
"""
import numpy as np
from brian2 import NetworkOperation, ms, second

from .kernels import trace_kernel
from .propagator import cascade_propagator
from .targets import is_standalone
from .validation import check_choice, check_int

RULES = ("exact", "spatial")
TRAINABLE = ("w", "v", "b", "d")


def owned_nbytes(*objects):
    """Bytes of the numpy arrays that ``objects`` hold, each counted once: arrays that own
    their memory (a view counts with its owner, when that is held too), reached through
    lists, tuples, dicts and the attributes of this module's classes (not through Brian2
    objects or network layers, whose arrays the network owns)."""
    seen, total, stack = set(), 0, list(objects)
    while stack:
        obj = stack.pop()
        if obj is None or id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, np.ndarray):
            total += obj.nbytes if obj.base is None else 0
        elif isinstance(obj, (list, tuple)):
            stack.extend(obj)
        elif isinstance(obj, dict):
            stack.extend(obj.values())
        elif type(obj).__module__ == __name__:
            stack.extend(vars(obj).values())
    return total


class TrainingDiverged(FloatingPointError):
    """A NaN or infinite value appeared; the last good parameters have been restored."""


class SenderCascades:
    """Buckets ``u(t)`` of a signal ``s(t)`` (any shape, e.g. (batch, n)) and their last
    ``max_delay + 1`` values (MODEL.md section 3).

    Each step: ``u <- P u`` with the tap held, then the tap is set to ``s(t)`` (or, for
    impulses, ``s(t)`` is added to bucket 1). The buckets of ``s(t - d)`` are
    ``u(t - d)`` (zero before the start): :meth:`delayed` looks them up. The values live
    in a ring of ``max(2, max_delay + 1)`` slots and each step writes the next slot from
    the last one, so nothing is copied. Memory independent of sequence length; work per
    step one cascade, whatever the number of delays.
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
        self.history[:] = 0
        self.t = 0

    def step(self, s):
        size = len(self.history)
        u = self.history[self.t % size]
        np.matmul(self.history[(self.t - 1) % size], self.PT, out=u)
        if self.impulse:
            u[..., 1] += s
        else:
            u[..., 0] = s
        self.t += 1

    def delayed(self, delays):
        """Buckets of ``s(t - d)`` for each d in ``delays``: shape (len(delays), *shape, K+1)."""
        delays = np.asarray(delays)
        if delays.size == 1 and delays[0] == 0:
            return self.u[None]
        return self.history[(self.t - 1 - delays) % len(self.history)]


class BucketMajorCascades(SenderCascades):
    """The same buckets stored bucket-major, ``(K+1, *shape)`` per step, for large
    signals (the exact rule's input-weight trace, (batch, n_in, n_hidden)).

    A step writes buckets 1..K of the new slot as ``P[1:] u`` (one matrix product with
    K+1 columns per block of ``chunk`` signals, so that a block stays in cache) and the
    tap, bucket 0, as one contiguous copy of ``s(t)``: the memory traffic of one copy
    of the buckets. Storing bucket-last instead makes the tap a strided write over every
    cache line and the product one small matrix per signal row: about twice the time.
    :meth:`delayed` returns (len(delays), K+1, *shape)."""

    chunk = 16384

    def __init__(self, shape, max_delay, P):
        self.P = np.ascontiguousarray(P[1:])
        self.history = np.zeros((max(2, int(max_delay) + 1), P.shape[0], *shape))
        self.t = 0

    def tap(self):
        """Bucket 0 of the next step's slot, shaped like the signal: writing ``s(t)``
        there and calling ``step()`` saves the copy of ``step(s)``."""
        return self.history[self.t % len(self.history)][0]

    def step(self, s=None):
        size = len(self.history)
        new = self.history[self.t % size].reshape(len(self.P) + 1, -1)
        old = self.history[(self.t - 1) % size].reshape(len(self.P) + 1, -1)
        for a in range(0, new.shape[1], self.chunk):
            np.matmul(self.P, old[:, a:a + self.chunk], out=new[1:, a:a + self.chunk])
        if s is not None:
            new[0] = np.reshape(s, -1)
        self.t += 1


class InPlaceTrace:
    """A forward-mode trace of the exact rule when the readout has no delays, so that
    no past value is read: one array ``Z`` (K+1, batch, hidden, n), stepped in place and
    contracted with the readout's error in the same pass (:mod:`sgbrian.kernels`). Same
    numbers as :class:`BucketMajorCascades` followed by the products of delay 0, with
    half its memory traffic and of its memory."""

    def __init__(self, shape, P):
        if np.any(np.triu(P, 1)):
            raise ValueError("InPlaceTrace needs a lower-triangular propagator (a cascade)")
        self.P = np.ascontiguousarray(P)
        self.Z = np.zeros((len(P), *shape))
        self.kernel = trace_kernel(len(P))

    def reset(self):
        self.Z[:] = 0

    def step_and_contract(self, slope, tap, eps, out):
        """``Z <- P Z`` with the new tap ``slope[b, h] tap[b, h, i]``, then
        ``out[h, i] += sum_{b,k} eps[b, h, k] Z^k[b, h, i]``."""
        self.kernel(self.P, self.Z, np.ascontiguousarray(slope), np.ascontiguousarray(tap),
                    np.ascontiguousarray(eps), out)


class Connection:
    """The learner's view of the synapses from layer l-1 to layer l of a network that
    holds ``batch`` copies (the first ``len(syn) / batch`` synapses are copy 0's).
    ``history``: keep the senders' delayed buckets (rule 'exact', first connection);
    the weight gradients keep their own window."""

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
        self.senders = SenderCascades((batch, self.n_pre), self.max_steps if history else 0,
                                      self.P, impulse=source.kind == "spikes")
        steps = np.broadcast_to(np.rint(np.asarray(syn.delay[:] / dt)).astype(int), (len(syn),))
        self.set_delays(steps[:count])

    def set_delays(self, steps):
        """Whole-step delays per synapse (of one copy)."""
        self.delays, self.delay_index = np.unique(steps, return_inverse=True)

    def dense(self, w):
        """Weights as (delays, n_pre, n_post), zero where there is no synapse."""
        W = np.zeros((len(self.delays), self.n_pre, self.n_post))
        W[self.delay_index, self.pre, self.post] = w
        return W

    def sender_buckets(self):
        """Buckets of every sender at every delay in use: (delays, batch, n_pre, K+1)."""
        return self.senders.delayed(self.delays)

    def dense_drive(self, v):
        """``sum_k v_j^k u_{i, d_ij}^k`` for every pair (j, i): (batch, n_post, n_pre), one
        matrix product per delay (bucket weights ``v`` (n_post, K+1) of the receivers x
        senders); pairs without a synapse read delay index 0 (their values are unused)."""
        M = np.matmul(v, self.sender_buckets().transpose(0, 1, 3, 2))   # (delays, B, n_post, n_pre)
        if len(M) == 1:
            return M[0]
        index = np.zeros((self.n_post, self.n_pre), dtype=int)
        index[self.post, self.pre] = self.delay_index
        return np.take_along_axis(M, index[None, None], axis=0)[0]


class WeightGradient:
    """``dL/dw_s = sum_t sum_b delta_bj(t) sum_k v_j^k u_{b,i}^k(t - d_s)``, buffered.

    Per step it stores the senders' buckets now, u (batch, n_pre, K+1), in a window that
    also keeps the ``L`` steps before the buffered ones (L: the connection's largest
    delay), and ``v * delta`` (batch, n_post, K+1). A flush does one matrix product per
    delay in use, ``G_d = U(t - d)^T (v delta)(t)`` with steps, batch and buckets as the
    contracted axis (``U(t - d)`` is a view of the window: nothing is copied), and adds
    ``G_d[i, j]`` to each synapse of delay d. Memory ``(L + size)`` bucket vectors,
    whatever the number of delays; work ``S (K+1)`` multiply-adds per step and sample for
    one delay, the floor. With ``derivative=True`` it computes the delay gradient
    instead: u is replaced by ``-du^k/dt = (u^k - u^{k-1})/tau_k`` (k >= 1) and the
    result is multiplied by ``w_s`` (and by 1e-3: per ms).
    """

    def __init__(self, conn, size=None, derivative=False, max_bytes=2 ** 30):
        from scipy.fft import next_fast_len
        self.conn, self.derivative = conn, derivative
        K1 = conn.P.shape[0] - (1 if derivative else 0)
        self.lag = conn.max_steps
        row = conn.n_pre * conn.batch * K1 * 8             # bytes per buffered step
        if size is None:    # long enough to amortise the lag, within max_bytes
            size = int(np.clip(4 * self.lag, 32, max(32, min(512, max_bytes // row - self.lag))))
        self.size = size
        # the FFT length: the window is allocated that long, so no flush copies it
        self.length = next_fast_len(self.lag + size, real=True)
        self.window = np.zeros((conn.n_pre, self.length, conn.batch, K1))
        self.vd = np.zeros((self.length, conn.batch, K1, conn.n_post))
        self.count = 0
        self.weights = None

    def add(self, u, vd, grad):
        """This step's sender buckets ``u`` (batch, n_pre, K+1) and ``v delta``."""
        if self.derivative:
            u = (u[..., 1:] - u[..., :-1]) / self.conn.taus
            vd = vd[..., 1:]
        self.window[:, self.lag + self.count] = u.transpose(1, 0, 2)
        self.vd[self.count] = vd.transpose(0, 2, 1)
        self.count += 1
        if self.count == self.size:
            self.flush(grad)

    #: From this many distinct delays on, a flush correlates in the Fourier domain.
    fft_from = 6

    def flush(self, grad):
        n = self.count
        if n == 0:
            return
        conn, L = self.conn, self.lag
        if len(conn.delays) >= self.fft_from:
            G = self._lagged_products_fft(n)
        else:
            G = self._lagged_products(n)
        if self.derivative:
            G = G * self.weights * 1e-3
        grad += G
        if L:
            self.window[:, :L] = self.window[:, n:n + L].copy()
        self.count = 0

    def _lagged_products(self, n):
        """``G_s = sum_{t,b,k} U_{i_s}(t - d_s) VD_{j_s}(t)``: one product per delay."""
        conn, L = self.conn, self.lag
        right = self.vd[:n].reshape(-1, conn.n_post)
        G = np.empty(len(conn.pre))
        for index, d in enumerate(conn.delays):
            left = self.window[:, L - d:L - d + n].reshape(conn.n_pre, -1)
            mask = conn.delay_index == index
            G[mask] = (left @ right)[conn.pre[mask], conn.post[mask]]
        return G

    def _lagged_products_fft(self, n, chunk=16):
        """The same sums for every delay at once, as a cross-correlation over time:

            G_s = sum_c corr(U_{i_s, c}, VD_{j_s, c})[L - d_s],   c = (batch, bucket)

        with ``R_ij(f) = sum_c FU_ic(f) conj(FV_jc(f))`` (real FFTs of length N >= L + n,
        no wrap-around) and ``corr[e] = (1/N) sum_f h_f Re(R(f) e^{2 pi i f e / N})``
        (h_f = 1 at f = 0 and N/2, else 2), evaluated at each synapse's own lag only.
        Cost: one complex product (n_pre x C) (C x n_post) per frequency, about
        ``2 (L + n) / n`` times the one-delay floor, instead of one product per delay."""
        from scipy.fft import rfft
        conn, L, N = self.conn, self.lag, self.length
        self.window[:, L + n:] = 0.0                       # stale steps of a short flush
        self.vd[n:] = 0.0
        FU = rfft(self.window.reshape(conn.n_pre, N, -1), axis=1)        # (n_pre, F, C)
        FV = rfft(self.vd.reshape(N, -1, conn.n_post), axis=0).conj()     # (F, C, n_post)
        order = np.argsort(conn.delay_index, kind="stable")     # synapses grouped by delay
        bounds = np.searchsorted(conn.delay_index[order], np.arange(len(conn.delays) + 1))
        pre, post = conn.pre[order], conn.post[order]
        G = np.zeros(len(order))
        for start in range(0, FU.shape[1], chunk):
            f = np.arange(start, min(start + chunk, FU.shape[1]))
            R = np.matmul(FU[:, f].transpose(1, 0, 2), FV[f])[:, pre, post]   # (f, S)
            weight = np.where((f == 0) | (2 * f == N), 1.0, 2.0)
            twiddle = weight[:, None] * np.exp(2j * np.pi * np.outer(f, L - conn.delays) / N)
            for index, (a, b) in enumerate(zip(bounds[:-1], bounds[1:])):
                G[a:b] += (twiddle[:, index] @ R[:, a:b]).real
        out = np.empty_like(G)
        out[order] = G
        return out / N

    def reset(self):
        """Zero the window (a new sample starts at rest); flush first."""
        self.window[:] = 0
        self.count = 0


def layer_taus(layer):
    """The K bucket time constants of a neuron layer, in seconds."""
    names = [f"tau_{k}" for k in range(1, layer.K + 1)]
    if "tau_gamma" in layer.group.namespace:
        names = ["tau_gamma"] * layer.K
    return np.array([float(layer.group.namespace[n] / second) for n in names])


def activation(layer, x):
    """y = f(x), the layer's output nonlinearity (``layer.output``)."""
    return layer.output(x)


def activation_slope(layer, x):
    """f'(x), from the derivative the layer's nonlinearity states (relu: the step
    function; linear: 1)."""
    return layer.output.slope(x)


def drive_terms(layer, batch):
    """The value of a layer's extra ``drive`` terms now, (batch, n), evaluated with numpy
    from the group's variables and namespace (constants in SI units)."""
    from brian2.utils.stringtools import get_identifiers
    from .equations import NUMPY_FUNCTIONS, compiled_expression
    g = layer.group
    values = {}
    for name in get_identifiers(layer.drive) - set(NUMPY_FUNCTIONS):
        if name in g.variables and hasattr(g.variables[name], "get_value"):
            value = np.asarray(g.variables[name].get_value(), dtype=float)
            values[name] = value.reshape(batch, -1) if value.size == len(g) else value
        else:
            values[name] = float(np.asarray(g.namespace[name]))
    return eval(compiled_expression(layer.drive), {"__builtins__": {}}, {**NUMPY_FUNCTIONS, **values})


class Engine:
    """The learner's per-step work on one Brian2 network of ``batch`` copies.

    Holds the connections (sender cascades), the gradient buffers, the forward-mode
    traces of rule 'exact', views of the Brian2 arrays and the ``network_operation``.
    The learner keeps one engine per batch size; they share its parameters.
    """

    def __init__(self, learner, net, batch):
        self.learner, self.net, self.batch = learner, net, batch
        self.sizes = [layer.n // batch for layer in net.layers]
        self.connections = []
        for l, syn in enumerate(net.synapses):
            steps = np.rint(np.asarray(syn.delay[:] / learner.dt)).astype(int)
            max_steps = max(net.layers[l].max_lag, int(np.max(steps, initial=0)))
            history = learner.rule == "exact" and l == 0    # dense_drive reads delayed buckets
            self.connections.append(Connection(syn, net.layers[l], net.layers[l + 1],
                                               learner.dt, batch, max_steps, history))
        self.weight_grads = [WeightGradient(c) for c in self.connections]
        self.delay_grads = {l: WeightGradient(c, derivative=True)
                            for l, c in enumerate(self.connections) if learner.delay_trained[l]}
        if learner.rule == "exact":
            self._make_exact_traces()
        def learner_step():               # a plain function: Brian2 inspects its arguments
            self._on_step()
        self.operation = NetworkOperation(learner_step, when="end", order=100,
                                          name="sgbrian_learner*")
        net.network.add(self.operation)
        self.plan = None

    # -- parameters into the Brian2 objects ------------------------------------------
    def write_params(self, params):
        B = self.batch
        for l, layer in enumerate(self.net.layers[1:], start=1):
            g = layer.group
            self.net.synapses[l - 1].variables["w"].get_value()[:] = np.tile(params[f"w{l - 1}"], B)
            for k in range(layer.K + 1):
                g.variables[f"v_{k}"].get_value()[:] = np.tile(params[f"v{l}"][:, k], B)
            g.variables["b"].get_value()[:] = np.tile(params[f"b{l}"], B)
        self.dense = [c.dense(params[f"w{l}"]) for l, c in enumerate(self.connections)]

    def apply_delays(self, params, dt):
        """Round the continuous delays to whole steps in the Brian2 synapses (between runs)."""
        for l, conn in enumerate(self.connections):
            if self.learner.delay_trained[l]:
                steps = np.rint(params[f"d{l}"] * float(ms / dt)).astype(int)
                delay = self.net.synapses[l].pre.variables["delay"].get_value()
                delay[:] = np.tile(steps, self.batch) * float(dt / second)
                conn.set_delays(steps)

    def bind_views(self):
        """Cache views of the Brian2 arrays read at every step (valid for one run)."""
        self._U = [[layer.group.variables[f"U_{k}"].get_value() for k in range(layer.K + 1)]
                   for layer in self.net.layers[1:]]
        self._senders = []
        for layer in self.net.layers[:-1]:
            name = "_spikespace" if layer.kind == "spikes" else "r"
            self._senders.append(layer.group.variables[name].get_value())
        self._spikespaces = [layer.group.variables["_spikespace"].get_value()
                             for layer in self.net.layers[1:]]
        self._payloads = [layer.group.variables["q"].get_value() for layer in self.net.layers[1:]]
        self.state_arrays = self.net.state_arrays()

    def reset(self):
        """Every state variable, sender cascade, gradient window and trace back to rest
        (buffered gradients are added to the learner's first)."""
        self.flush(self.learner.grads, self.learner.train)
        for wg in self.weight_grads + list(self.delay_grads.values()):
            wg.reset()
        for array in self.state_arrays:
            array[:] = 0
        for conn in self.connections:
            conn.senders.reset()
        if self.learner.rule == "exact":
            for _, trace in self.exact.values():
                trace.reset()

    # -- forward-mode traces of the exact rule -------------------------------------
    def _make_exact_traces(self):
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

    def _step_exact_traces(self, x1, U1, v1):
        """The traces' taps: ``slope_h`` times the sensitivity of x_h to the parameter,
        ``sum_k v_h^k u_i^k`` (w0, the input's delayed buckets), ``U_h^m`` (v1), 1 (b1)."""
        slope = activation_slope(self.net.layers[1], x1)                 # (B, n)
        drive = self.connections[0].dense_drive(v1)                      # (B, n, n_in)
        if isinstance(self.exact["w0"][1], InPlaceTrace):   # stepped with the contraction
            self._taps = {"w0": (slope, drive), "v1": (slope, U1),
                          "b1": (slope, np.ones((*slope.shape, 1)))}
            return
        w0_trace = self.exact["w0"][1]
        np.multiply(slope[:, :, None], drive, out=w0_trace.tap())
        w0_trace.step()
        self.exact["v1"][1].step((slope[:, :, None] * U1).reshape(self.batch, -1))
        self.exact["b1"][1].step(slope)

    # -- one time step ---------------------------------------------------------------
    def _sender_signal(self, l):
        layer, array = self.net.layers[l], self._senders[l]
        if layer.kind != "spikes":
            return array.reshape(self.batch, -1)
        spikes = np.zeros(layer.n)
        spikes[array[:array[-1]]] = 1.0
        return spikes.reshape(self.batch, -1)

    def _on_step(self):
        plan = self.plan
        if plan is None:
            return
        step = plan["step"]
        plan["step"] += 1
        index = plan["slot"][step]
        n = step - plan["starts"][index]
        batch = plan["batches"][index]
        if n == 0:
            plan["data"] = self.learner.loss.prepare(batch, self.batch, plan["lengths"][index],
                                                     self.learner.dt)
            plan["metrics"].start_batch(batch, self.batch, plan["data"])
        active = plan["data"]["active"][n] if n < len(plan["data"]["active"]) else None
        if active is not None:
            self._count_events(plan, active)
            self._learn_step(plan, n)
        if n == plan["lengths"][index] - 1:
            self.learner._end_batch(self, plan)

    def _count_events(self, plan, active):
        for l, (spikespace, q, counter) in enumerate(zip(self._spikespaces, self._payloads,
                                                         plan["events"])):
            count = spikespace[-1]
            if count:
                fired = spikespace[:count]
                fired = fired[active[fired // self.sizes[l + 1]]]
                counter[0] += len(fired)
                counter[1] += np.abs(q[fired]).sum()

    def _learn_step(self, plan, n):
        learner = self.learner
        params = learner.params
        for l, conn in enumerate(self.connections):
            conn.senders.step(self._sender_signal(l))
        U = [np.stack(views, axis=-1).reshape(self.batch, size, -1)
             for views, size in zip(self._U, self.sizes[1:])]
        x = [params[f"b{l}"] + np.einsum("bnk,nk->bn", U[l - 1], params[f"v{l}"])
             + (drive_terms(layer, self.batch) if layer.drive else 0.0)
             for l, layer in enumerate(self.net.layers[1:], start=1)]
        readout = self.net.layers[-1]
        y = activation(readout, x[-1])
        if learner.rule == "exact" and plan["train"]:       # the traces serve gradients only
            self._step_exact_traces(x[0], U[0], params["v1"])
        losses, dy = learner.loss.batch_step(y, plan["data"], n)
        if not np.all(np.isfinite(losses)):
            learner._diverged(f"the loss became {losses.sum()} at step {n} of a sample")
        plan["metrics"].add(n, y, losses)
        if plan["train"]:
            # every step goes through the backward pass (a zero error before a loss
            # starts), so that the gradient windows follow the senders step by step
            has_loss = dy is not None
            self._backward((dy if has_loss else np.zeros_like(y))
                           * activation_slope(readout, x[-1]), x, U)
            if has_loss:
                plan["steps_since_update"] += 1
            if (has_loss and plan["apply"] and learner.update_every != "sample"
                    and plan["steps_since_update"] >= learner.update_every):
                learner._update(self, plan)

    def _backward(self, delta, x, U):
        """Accumulate this step's gradients, summed over the batch, from the readout down
        (MODEL.md section 5). ``delta``: (batch, n_readout)."""
        learner = self.learner
        grads, params, train = learner.grads, learner.params, learner.train
        for l in range(len(self.net.layers) - 1, 0, -1):
            conn, v = self.connections[l - 1], params[f"v{l}"]
            vd = delta[:, :, None] * v                                      # (B, n, K+1)
            if "v" in train:
                grads[f"v{l}"] += np.einsum("bn,bnk->nk", delta, U[l - 1])
            if "b" in train:
                grads[f"b{l}"] += delta.sum(axis=0)
            if "w" in train or l - 1 in self.delay_grads:
                buckets = conn.senders.u
                if "w" in train:
                    self.weight_grads[l - 1].add(buckets, vd, grads[f"w{l - 1}"])
                if l - 1 in self.delay_grads:
                    self.delay_grads[l - 1].weights = params[f"w{l - 1}"]
                    self.delay_grads[l - 1].add(buckets, vd, grads[f"d{l - 1}"])
            if l == 1:
                return
            if learner.rule == "exact":
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
                return
            eps = np.einsum("dij,bj->bi", self.dense[l - 1], vd.sum(axis=2))
            delta = activation_slope(self.net.layers[l - 1], x[l - 2]) * eps

    def _add_w0_products(self, Z, eps):
        """``w0_dense[h, i] += sum_{d,k,b} Z[d, k, b, h, i] eps[d, b, h, k]`` (Z
        bucket-major, hidden before input): per delay one batched vector-matrix product
        over h, ``(k, b)`` contracted, which reads Z once (an ``einsum`` of the same sum
        takes twice as long)."""
        _, K1, B, n_h, n_in = Z.shape
        for Zd, ed in zip(Z, eps):
            errors = ed.transpose(1, 2, 0).reshape(n_h, 1, K1 * B)             # (h, 1, (k, b))
            self.w0_dense += np.matmul(errors, Zd.reshape(K1 * B, n_h, n_in).transpose(1, 0, 2))[:, 0]

    def state_nbytes(self):
        """Bytes of the arrays this engine allocated to learn: the sender cascades, the
        gradient windows, the exact rule's traces and its dense gradient. This is the memory
        the online rule keeps (BPTT's counterpart: the tensors autograd saves for the
        backward pass); it is fixed when the engine is made, grows with the batch and the
        longest delay in steps, and not with the number of steps a sample has. Not counted:
        the network's own state (Brian2's arrays), the parameters (also as dense weights)
        and their gradients, the task's inputs and targets."""
        return owned_nbytes(self.connections, self.weight_grads, self.delay_grads,
                            getattr(self, "exact", None), getattr(self, "w0_dense", None))

    def flush(self, grads, train):
        for l, wg in enumerate(self.weight_grads):
            if "w" in train:
                wg.flush(grads[f"w{l}"])
        if self.learner.rule == "exact" and "w" in train:
            c0 = self.connections[0]
            grads["w0"] += self.w0_dense[c0.post, c0.pre]
            self.w0_dense[:] = 0
        for l, dg in self.delay_grads.items():
            dg.flush(grads[f"d{l}"])



class OnlineLearner:
    """Trains an :class:`~sgbrian.builder.SGNetwork` online, inside its Brian2 run.

    ``loss``: :class:`~sgbrian.losses.MSELoss` or :class:`~sgbrian.losses.CrossEntropyLoss`.
    ``rule``: 'exact' (one hidden layer) or 'spatial' (any depth).
    ``optimizer``: :class:`~sgbrian.optim.SGD` or :class:`~sgbrian.optim.Adam`.
    ``train``: which of 'w', 'v', 'b', 'd' (delays) to train. ``update_every``: an int n
    (update after every n steps with a loss) or 'sample' (accumulate over a sample, or a
    batch of samples, and update at its end).
    ``clip_norm``: global gradient-norm clipping. ``lr_schedule``: epoch -> multiplier.
    Parameters are named ``w{l}`` and ``d{l}`` (weights and delays in ms of the synapses
    from layer l), ``v{l}`` (n_l x (K+1)) and ``b{l}`` (layer l).
    ``fit``, ``evaluate`` and ``gradients`` take ``batch_size``: samples run side by side
    in a replica of the network with that many copies (built once per size).
    Extended neurons (``sgbrian.equations``): a layer's output nonlinearity trains with the
    derivative it states; extra ``drive`` terms make the learner refuse unless
    ``constant_drive=True`` marks them as constants of the gradient.
    """

    def __init__(self, net, loss, rule="spatial", optimizer=None, train=("w", "v", "b"),
                 update_every="sample", clip_norm=None, lr_schedule=None, seed=0,
                 constant_drive=False):
        from .optim import Adam, schedule
        if is_standalone():
            raise RuntimeError("the learner is a Python network_operation, which Brian2 skips "
                               "silently on a standalone device (cpp_standalone, genn): "
                               "use the 'numpy' or 'cython' target for training")
        check_choice("rule", rule, RULES)
        for name in train:
            check_choice("train", name, TRAINABLE)
        if update_every != "sample" and not (isinstance(update_every, int) and update_every >= 1):
            raise ValueError(f"update_every must be 'sample' or an int >= 1, got {update_every!r}")
        if clip_norm is not None and not (np.isfinite(clip_norm) and clip_norm > 0):
            raise ValueError(f"clip_norm must be None or a finite number > 0, got {clip_norm!r}")
        if not (hasattr(loss, "batch_step") and hasattr(loss, "prepare")):
            raise ValueError(f"loss must be a loss object such as MSELoss() or "
                             f"CrossEntropyLoss(start=...), got {loss!r}")
        if rule == "exact" and len(net.layers) != 3:
            raise ValueError(f"rule 'exact' needs exactly one hidden layer (3 layers), got "
                             f"{len(net.layers)}; use rule='spatial' for deeper networks")
        for layer in net.layers[1:]:
            if layer.bucket_weights != "neuron":
                raise ValueError("the learner supports bucket_weights='neuron' only")
            if layer.drive and not constant_drive:
                raise ValueError(
                    f"layer {layer.index}: the drive term {layer.drive!r} feeds x, and the "
                    "learner cannot differentiate it (its dependence on the parameters is not "
                    "tracked); pass constant_drive=True to treat it as a constant of the "
                    "gradient (exact when it does not depend on the trained parameters)")
        self.net, self.loss, self.rule = net, loss, rule
        self.optimizer = optimizer or Adam()
        self.train, self.update_every, self.clip_norm = tuple(train), update_every, clip_norm
        self.lr_schedule = lr_schedule or schedule("constant")
        self.rng = np.random.default_rng(seed)
        self.dt = net.layers[1].group.clock.dt
        if hasattr(loss, "start"):
            loss.start_step = int(round(float(loss.start / self.dt)))
        self.delay_trained = [("d" in self.train and (rule == "spatial" or l == len(net.synapses) - 1))
                              for l in range(len(net.synapses))]
        self.params = self._read_params()
        self.grads = {name: np.zeros_like(p) for name, p in self.params.items()
                      if name[0] in self.train}
        self.last_good = {name: p.copy() for name, p in self.params.items()}
        self.engines = {1: Engine(self, net, 1)}

    def engine(self, batch_size=1):
        """The engine (network of ``batch_size`` copies) for that batch size."""
        batch_size = check_int("batch_size", batch_size, 1)
        if batch_size not in self.engines:
            self.write_params()
            replica = self.net.replicate(batch_size)
            self.engines[batch_size] = Engine(self, replica, batch_size)
        return self.engines[batch_size]

    @property
    def connections(self):
        return self.engines[1].connections

    # -- parameters ---------------------------------------------------------------
    def _read_params(self):
        params = {}
        for l, layer in enumerate(self.net.layers[1:], start=1):
            g = layer.group
            params[f"w{l - 1}"] = np.array(self.net.synapses[l - 1].w[:], dtype=float)
            params[f"v{l}"] = np.stack([np.array(getattr(g, f"v_{k}")[:]) for k in range(layer.K + 1)],
                                       axis=1)
            params[f"b{l}"] = np.array(g.b[:], dtype=float)
            if self.delay_trained[l - 1]:
                params[f"d{l - 1}"] = np.array(self.net.synapses[l - 1].delay[:] / ms, dtype=float)
        return params

    def write_params(self):
        """Copy the learner's parameters into the Brian2 objects (every batch size)."""
        for engine in self.engines.values():
            engine.write_params(self.params)

    # -- updates ------------------------------------------------------------------------
    def flush_gradients(self):
        for engine in self.engines.values():
            engine.flush(self.grads, self.train)

    def _update(self, engine, plan):
        from .optim import clip_by_global_norm
        engine.flush(self.grads, self.train)
        norm = clip_by_global_norm(self.grads, self.clip_norm)
        if not np.isfinite(norm):
            self._diverged("a gradient became NaN or infinite")
        self.optimizer.step(self.params, self.grads, plan["lr_scale"])
        for l, conn in enumerate(engine.connections):
            if self.delay_trained[l]:
                bound = conn.max_steps * float(self.dt / ms)
                np.clip(self.params[f"d{l}"], 0.0, bound, out=self.params[f"d{l}"])
        if not all(np.all(np.isfinite(p)) for p in self.params.values()):
            self._diverged("a parameter became NaN or infinite after an update")
        for g in self.grads.values():
            g[:] = 0
        plan["steps_since_update"] = 0
        self.write_params()

    def _diverged(self, why):
        for name, p in self.last_good.items():
            self.params[name][:] = p
        self.write_params()
        for engine in self.engines.values():
            engine.plan = None
        raise TrainingDiverged(f"training diverged: {why}; the last good parameters (end of the "
                               "last finite sample) have been restored. Lower the learning rate "
                               "or set clip_norm.")

    def _end_batch(self, engine, plan):
        if (plan["apply"] and self.update_every == "sample" and plan["steps_since_update"]):
            self._update(engine, plan)
        plan["metrics"].end_batch()
        for name, p in self.params.items():
            self.last_good[name][:] = p
        engine.reset()
        plan["done"] += len(plan["batches"][plan["slot"][plan["step"] - 1]])
        if plan["progress"] and plan["done"] >= plan["next_report"]:
            plan["next_report"] += plan["progress_every"]
            plan["progress"](plan)

    # -- running a list of samples -----------------------------------------------------
    def run_samples(self, samples, train, metrics, lr_scale=1.0, progress=None, apply=True,
                    batch_size=1):
        """Run ``samples`` through the network in one Brian2 run, ``batch_size`` at a time
        side by side; reset between batches.

        ``train``: accumulate gradients; ``apply``: also update the parameters.
        """
        from .datasets import batch_inputs
        if not samples:
            raise ValueError("samples must not be empty")
        engine = self.engine(batch_size)
        net = engine.net
        self.loss.check(samples, self.net.layers[-1].n)
        net.check_device()
        self.net.check_time_constants()
        gap = int(engine.connections[0].delays.max(initial=0)) \
            if net.layers[0].kind == "spikes" else 0
        batches = [samples[i:i + batch_size] for i in range(0, len(samples), batch_size)]
        inputs, starts, lengths = batch_inputs(batches, batch_size, gap, self.dt,
                                               engine.sizes[0])
        if isinstance(inputs, tuple):
            net.set_input(spikes=inputs, start=net.network.t)
        else:
            net.set_input(signal=inputs, start=net.network.t)
        engine.apply_delays(self.params, self.dt)
        engine.write_params(self.params)
        engine.bind_views()
        engine.reset()          # start at rest (state, cascades, gradient windows), whatever ran before
        net.clear_spike_queues()
        for g in self.grads.values():
            g[:] = 0
        total = int(lengths.sum())
        engine.plan = dict(step=0, batches=batches, starts=starts, lengths=lengths,
                           slot=np.repeat(np.arange(len(batches)), lengths), train=train,
                           metrics=metrics, steps_since_update=0, lr_scale=lr_scale, apply=apply,
                           events=[[0, 0.0] for _ in net.layers[1:]], done=0,
                           samples=samples, progress=progress,
                           progress_every=max(1, len(samples) // 10))
        engine.plan["next_report"] = engine.plan["progress_every"]
        try:
            net.network.run(total * self.dt)
        except Exception as error:          # Brian2 wraps errors raised in operations
            cause = error
            while cause is not None and not isinstance(cause, TrainingDiverged):
                cause = cause.__cause__ or cause.__context__
            raise cause if cause is not None else error
        finally:
            plan, engine.plan = engine.plan, None
        if apply and train and plan["steps_since_update"]:
            self._update(engine, plan)      # what is left of the last update interval
        seconds = float(sum(s.n_steps for s in samples) * self.dt / second)
        metrics.add_events(sum(c[0] for c in plan["events"]), sum(c[1] for c in plan["events"]),
                           sum(engine.sizes[1:]) * seconds)
        return metrics

    def apply_gradients(self, lr_scale=1.0):
        """One optimizer update from ``grads`` as they are (summed elsewhere, e.g. by
        workers): clipping, the step, the delay bounds and the divergence checks."""
        self._update(self.engine(1), {"lr_scale": lr_scale, "steps_since_update": 0})
        for name, p in self.params.items():
            self.last_good[name][:] = p

    def gradients(self, samples, batch_size=1):
        """Summed gradients of the per-step loss over ``samples`` (accumulate mode, no
        update): a dict like ``params``. Any ``batch_size`` gives the same sum."""
        from .training import Metrics
        self.run_samples(list(samples), train=True, metrics=Metrics(self.loss), apply=False,
                         batch_size=batch_size)
        self.flush_gradients()
        return {name: g.copy() for name, g in self.grads.items()}

    def fit(self, train, epochs, **kwargs):
        """Train for ``epochs`` epochs; see :func:`sgbrian.training.fit`."""
        from .training import fit
        return fit(self, train, epochs, **kwargs)

    def evaluate(self, samples, **kwargs):
        """Loss and accuracy/NRMSE without updates; see :func:`sgbrian.training.evaluate`."""
        from .training import evaluate
        return evaluate(self, samples, **kwargs)

    def detach(self):
        """Remove the learner's operations from the networks (e.g. before a standalone run)."""
        for engine in self.engines.values():
            if engine.operation in engine.net.network.objects:
                engine.net.network.remove(engine.operation)
