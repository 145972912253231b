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
"""
import numpy as np
from brian2 import NetworkOperation, ms, second

from .propagator import cascade_propagator
from .targets import is_standalone
from .validation import check_choice

RULES = ("exact", "spatial")
TRAINABLE = ("w", "v", "b", "d")


class TrainingDiverged(FloatingPointError):
    """A NaN or infinite value appeared; the last good parameters have been restored."""


class DelayedCascades:
    """Buckets of a signal ``s(t - d)`` for several delays d (MODEL.md section 3).

    ``u[d_index, n, k]``; each step: ``u <- P u`` with the tap held, then the tap is set to
    ``s(t - d)`` (or, for impulses, ``s(t - d)`` is added to bucket 1). Memory:
    (max delay + 1) past values of s plus the buckets: independent of sequence length.
    """

    def __init__(self, n, delays, P, impulse=False):
        self.delays = np.asarray(delays, dtype=int)
        self.PT = P.T.copy()
        self.impulse = impulse
        self.history = np.zeros((self.delays.max(initial=0) + 1, n))
        self.u = np.zeros((len(self.delays), n, P.shape[0]))
        self.t = 0

    def reset(self):
        self.history[:] = 0
        self.u[:] = 0
        self.t = 0

    def step(self, s):
        size = len(self.history)
        self.history[self.t % size] = s
        np.matmul(self.u, self.PT, out=self.u)
        past = self.history[(self.t - self.delays) % size]
        if self.impulse:
            self.u[:, :, 1] += past
        else:
            self.u[:, :, 0] = past
        self.t += 1


class Connection:
    """The learner's view of the synapses from layer l-1 to layer l."""

    def __init__(self, syn, source, target, dt):
        self.syn, self.source, self.target = syn, source, target
        self.pre = np.asarray(syn.i[:])
        self.post = np.asarray(syn.j[:])
        self.dt = dt
        self.taus = layer_taus(target)
        self.P = cascade_propagator(float(dt / second), self.taus)
        self.set_delays(np.rint(np.asarray(syn.delay[:] / dt)).astype(int))

    def set_delays(self, steps, all_lags=None):
        """Whole-step delays per synapse; ``all_lags`` keeps cascades for 0..all_lags."""
        if all_lags is None:
            self.delays, self.delay_index = np.unique(steps, return_inverse=True)
        else:
            self.delays, self.delay_index = np.arange(all_lags + 1), np.asarray(steps)
        if getattr(self, "senders", None) is None or len(self.senders.delays) != len(self.delays) \
                or np.any(self.senders.delays != self.delays):
            self.senders = DelayedCascades(self.source.n, self.delays, self.P,
                                           impulse=self.source.kind == "spikes")

    def dense(self, w):
        """Weights as (delays, n_pre, n_post), zero where there is no synapse."""
        W = np.zeros((len(self.delays), self.source.n, self.target.n))
        W[self.delay_index, self.pre, self.post] = w
        return W

    def synapse_buckets(self):
        """u_{i_s, d_s}^k for every synapse s: (S, K+1)."""
        return self.senders.u[self.delay_index, self.pre]


class WeightGradient:
    """``dL/dw_s = sum_t delta_j(t) sum_k v_j^k(t) u_{i,d}^k(t)``, buffered over steps.

    Per step it stores u (delays, n_pre, K+1) and ``v * delta`` (n_post, K+1); a flush
    does one matrix product per delay, ``G_d = U_d^T (v delta)``, and adds ``G_d[i, j]``
    to each synapse. Exact, and O(buffer) memory. With ``derivative=True`` it computes
    the delay gradient instead: u is replaced by ``-du^k/dt = (u^k - u^{k-1})/tau_k``
    (k >= 1) and the result is multiplied by ``w_s`` (and by 1e-3: per ms).
    """

    def __init__(self, conn, size=32, derivative=False):
        self.conn, self.derivative, self.size = conn, derivative, size
        self.u = np.zeros((size, *conn.senders.u.shape))
        self.vd = np.zeros((size, conn.target.n, conn.P.shape[0]))
        self.count = 0

    def add(self, u, vd, grad):
        if u.shape != self.u.shape[1:]:        # the connection's set of delays changed
            self.flush(grad)
            self.u = np.zeros((self.size, *u.shape))
        self.u[self.count] = u
        self.vd[self.count] = vd
        self.count += 1
        if self.count == len(self.u):
            self.flush(grad)

    def flush(self, grad):
        n = self.count
        if n == 0:
            return
        conn = self.conn
        u, vd = self.u[:n], self.vd[:n]
        if self.derivative:
            u = (u[..., 1:] - u[..., :-1]) / conn.taus
            vd = vd[..., 1:]
        right = vd.transpose(0, 2, 1).reshape(-1, conn.target.n)
        for index in range(len(conn.delays)):
            left = u[:, index].transpose(1, 0, 2).reshape(conn.source.n, -1)
            G = left @ right
            mask = conn.delay_index == index
            scale = self.weights[mask] * 1e-3 if self.derivative else 1.0
            grad[mask] += scale * G[conn.pre[mask], conn.post[mask]]
        self.count = 0


def layer_taus(layer):
    """The K bucket time constants of a neuron layer, in seconds."""
    names = [f"tau_{k}" for k in range(1, layer.K + 1)]
    if "tau_gamma" in layer.group.namespace:
        names = ["tau_gamma"] * layer.K
    return np.array([float(layer.group.namespace[n] / second) for n in names])


def is_relu(layer):
    return layer.output == "relu"


def activation(layer, x):
    """y = relu(x) or x, as the layer's equations say."""
    return np.maximum(x, 0.0) if is_relu(layer) else x


def activation_slope(layer, x):
    """act'(x): the step function for relu, 1 for a linear readout."""
    return (x > 0).astype(float) if is_relu(layer) else np.ones_like(x)


class OnlineLearner:
    """Trains an :class:`~sgbrian.builder.SGNetwork` online, inside its Brian2 run.

    ``loss``: :class:`~sgbrian.losses.MSELoss` or :class:`~sgbrian.losses.CrossEntropyLoss`.
    ``rule``: 'exact' (one hidden layer) or 'spatial' (any depth).
    ``optimizer``: :class:`~sgbrian.optim.SGD` or :class:`~sgbrian.optim.Adam`.
    ``train``: which of 'w', 'v', 'b', 'd' (delays) to train. ``update_every``: an int n (update after
    every n steps with a loss) or 'sample' (accumulate over a sample, update at its end).
    ``clip_norm``: global gradient-norm clipping. ``lr_schedule``: epoch -> multiplier.
    Parameters are named ``w{l}`` and ``d{l}`` (weights and delays in ms of the synapses
    from layer l), ``v{l}`` (n_l x (K+1)) and ``b{l}`` (layer l).
    """

    def __init__(self, net, loss, rule="spatial", optimizer=None, train=("w", "v", "b"),
                 update_every="sample", clip_norm=None, lr_schedule=None, seed=0):
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
        if rule == "exact" and len(net.layers) != 3:
            raise ValueError(f"rule 'exact' needs exactly one hidden layer (3 layers), got "
                             f"{len(net.layers)}; use rule='spatial' for deeper networks")
        for layer in net.layers[1:]:
            if layer.bucket_weights != "neuron":
                raise ValueError("the learner supports bucket_weights='neuron' only")
        self.net, self.loss, self.rule = net, loss, rule
        self.optimizer = optimizer or Adam()
        self.train, self.update_every, self.clip_norm = tuple(train), update_every, clip_norm
        self.lr_schedule = lr_schedule or schedule("constant")
        self.rng = np.random.default_rng(seed)
        self.dt = net.layers[1].group.clock.dt
        if hasattr(loss, "start_step"):
            loss.start_step = int(round(float(loss.start / self.dt)))
        self.connections = [Connection(syn, net.layers[l], net.layers[l + 1], self.dt)
                            for l, syn in enumerate(net.synapses)]
        self.delay_trained = [("d" in self.train and (rule == "spatial" or l == len(net.synapses) - 1))
                              for l in range(len(net.synapses))]
        self.params = self._read_params()
        self.grads = {name: np.zeros_like(p) for name, p in self.params.items()
                      if name[0] in self.train}
        self.last_good = {name: p.copy() for name, p in self.params.items()}
        self.weight_grads = [WeightGradient(c) for c in self.connections]
        self.delay_grads = {}
        for l, conn in enumerate(self.connections):
            if self.delay_trained[l]:
                conn.max_steps = int(max(conn.source.max_lag, conn.delays.max(initial=0)))
                conn.set_delays(conn.delays[conn.delay_index], all_lags=conn.max_steps)
                self.delay_grads[l] = WeightGradient(conn, derivative=True)
                self.delay_grads[l].weights = self.params[f"w{l}"]
        if rule == "exact":
            self._make_exact_traces()
        self.operation = NetworkOperation(self._on_step, when="end", order=100,
                                          name="sgbrian_learner*")
        net.network.add(self.operation)
        self._plan = None

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

    def _apply_delays(self):
        """Round the continuous delays to whole steps in the Brian2 synapses (between runs)."""
        for l, conn in enumerate(self.connections):
            if self.delay_trained[l]:
                steps = np.rint(self.params[f"d{l}"] * float(ms / self.dt)).astype(int)
                self.net.synapses[l].pre.variables["delay"].get_value()[:] = steps * float(self.dt / second)
                conn.set_delays(steps, all_lags=conn.max_steps)
        if self.rule == "exact" and any(self.delay_trained):
            self._make_exact_traces()          # the readout's delay set may have changed

    def write_params(self):
        """Copy the learner's parameters into the Brian2 objects."""
        for l, layer in enumerate(self.net.layers[1:], start=1):
            g = layer.group
            self.net.synapses[l - 1].variables["w"].get_value()[:] = self.params[f"w{l - 1}"]
            for k in range(layer.K + 1):
                g.variables[f"v_{k}"].get_value()[:] = self.params[f"v{l}"][:, k]
            g.variables["b"].get_value()[:] = self.params[f"b{l}"]
        self._dense = [c.dense(self.params[f"w{l}"]) for l, c in enumerate(self.connections)]

    def _bind_views(self):
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

    # -- forward-mode traces of the exact rule -------------------------------------
    def _make_exact_traces(self):
        hidden, readout = self.net.layers[1], self.connections[1]
        delays, P = readout.delays, readout.P
        syn0 = self.connections[0]
        self.exact = {
            "w0": (syn0.post, DelayedCascades(len(syn0.pre), delays, P)),
            "v1": (np.repeat(np.arange(hidden.n), hidden.K + 1),
                   DelayedCascades(hidden.n * (hidden.K + 1), delays, P)),
            "b1": (np.arange(hidden.n), DelayedCascades(hidden.n, delays, P)),
        }

    def _step_exact_traces(self, x1, U1):
        slope = activation_slope(self.net.layers[1], x1)
        c0 = self.connections[0]
        v1 = self.params["v1"]
        z = {"w0": slope[c0.post] * np.einsum("sk,sk->s", c0.synapse_buckets(), v1[c0.post]),
             "v1": (slope[:, None] * U1).ravel(),
             "b1": slope}
        for name, (_, trace) in self.exact.items():
            trace.step(z[name])

    # -- one time step ---------------------------------------------------------------
    def _sender_signal(self, l):
        layer, array = self.net.layers[l], self._senders[l]
        if layer.kind != "spikes":
            return array
        spikes = np.zeros(layer.n)
        spikes[array[:array[-1]]] = 1.0
        return spikes

    def _on_step(self):
        plan = self._plan
        if plan is None:
            return
        step = plan["step"]
        plan["step"] += 1
        sample_index = plan["slot"][step]
        n = step - plan["starts"][sample_index]
        sample = plan["samples"][sample_index]
        for spikespace, q, counter in zip(self._spikespaces, self._payloads, plan["events"]):
            count = spikespace[-1]
            if count:
                counter[0] += count
                counter[1] += np.abs(q[spikespace[:count]]).sum()
        if n < sample.n_steps:
            self._learn_step(sample, n, plan)
        if n == plan["lengths"][sample_index] - 1:
            self._end_sample(sample, plan)

    def _learn_step(self, sample, n, plan):
        for l, conn in enumerate(self.connections):
            conn.senders.step(self._sender_signal(l))
        U = [np.stack(views, axis=1) for views in self._U]
        x = [self.params[f"b{l}"] + np.einsum("nk,nk->n", U[l - 1], self.params[f"v{l}"])
             for l in range(1, len(self.net.layers))]
        readout = self.net.layers[-1]
        y = activation(readout, x[-1])
        if self.rule == "exact":
            self._step_exact_traces(x[0], U[0])
        loss, dy = self.loss.step(y, sample, n)
        if not np.isfinite(loss):
            self._diverged(f"the loss became {loss} at step {n} of a sample")
        plan["metrics"].add(sample, n, y, loss)
        if plan["train"] and dy is not None:
            self._backward(dy * activation_slope(readout, x[-1]), x, U)
            plan["steps_since_update"] += 1
            if (plan["apply"] and self.update_every != "sample"
                    and plan["steps_since_update"] >= self.update_every):
                self._update(plan)

    def _backward(self, delta, x, U):
        """Accumulate this step's gradients, from the readout down (MODEL.md section 5)."""
        grads, params = self.grads, self.params
        for l in range(len(self.net.layers) - 1, 0, -1):
            conn, v = self.connections[l - 1], params[f"v{l}"]
            if "v" in self.train:
                grads[f"v{l}"] += delta[:, None] * U[l - 1]
            if "b" in self.train:
                grads[f"b{l}"] += delta
            if "w" in self.train:
                self.weight_grads[l - 1].add(conn.senders.u, v * delta[:, None],
                                             grads[f"w{l - 1}"])
            if l - 1 in self.delay_grads:
                self.delay_grads[l - 1].add(conn.senders.u, v * delta[:, None],
                                            grads[f"d{l - 1}"])
            if l == 1:
                return
            eps = np.einsum("dij,jk->dik", self._dense[l - 1], delta[:, None] * v)
            if self.rule == "exact":
                for name, (owner, trace) in self.exact.items():
                    if name[0] in self.train:
                        grads[name] += np.einsum("dpk,dpk->p", eps[:, owner],
                                                 trace.u).reshape(grads[name].shape)
                return
            delta = activation_slope(self.net.layers[l - 1], x[l - 2]) * eps.sum(axis=(0, 2))

    def flush_gradients(self):
        for l, wg in enumerate(self.weight_grads):
            if "w" in self.train:
                wg.flush(self.grads[f"w{l}"])
        for l, dg in self.delay_grads.items():
            dg.flush(self.grads[f"d{l}"])

    def _update(self, plan):
        from .optim import clip_by_global_norm
        self.flush_gradients()
        norm = clip_by_global_norm(self.grads, self.clip_norm)
        if not np.isfinite(norm):
            self._diverged("a gradient became NaN or infinite")
        self.optimizer.step(self.params, self.grads, plan["lr_scale"])
        for l in self.delay_grads:
            bound = self.connections[l].max_steps * float(self.dt / ms)
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
        self._plan = None
        raise TrainingDiverged(f"training diverged: {why}; the last good parameters (end of the "
                               "last finite sample) have been restored. Lower the learning rate "
                               "or set clip_norm.")

    def _end_sample(self, sample, plan):
        if (plan["apply"] and self.update_every == "sample" and plan["steps_since_update"]):
            self._update(plan)
        plan["metrics"].end_sample(sample)
        for name, p in self.params.items():
            self.last_good[name][:] = p
        for array in self._state_arrays:
            array[:] = 0
        for conn in self.connections:
            conn.senders.reset()
        if self.rule == "exact":
            for _, trace in self.exact.values():
                trace.reset()
        plan["done"] += 1
        if plan["progress"] and plan["done"] % plan["progress_every"] == 0:
            plan["progress"](plan)

    # -- running a list of samples -----------------------------------------------------
    def run_samples(self, samples, train, metrics, lr_scale=1.0, progress=None, apply=True):
        """Run ``samples`` through the network in one Brian2 run; reset between samples.

        ``train``: accumulate gradients; ``apply``: also update the parameters.
        """
        from .datasets import concatenate_inputs
        if not samples:
            raise ValueError("samples must not be empty")
        self.net.check_device()
        first = self.connections[0]
        gap = int(first.delays.max(initial=0)) if self.net.layers[0].kind == "spikes" else 0
        inputs, starts = concatenate_inputs(samples, gap, self.dt)
        lengths = np.array([s.n_steps + gap for s in samples])
        start = self.net.network.t
        if isinstance(inputs, tuple):
            self.net.set_input(spikes=inputs, start=start)
        else:
            self.net.set_input(signal=inputs, start=start)
        self._apply_delays()
        self.write_params()                   # also rebuilds the dense weights per delay
        self._bind_views()
        self._state_arrays = self.net.state_arrays()
        for array in self._state_arrays:      # start at rest, whatever ran before
            array[:] = 0
        self.net.clear_spike_queues()
        for g in self.grads.values():
            g[:] = 0
        for wg in self.weight_grads + list(self.delay_grads.values()):
            wg.count = 0
        total = int(lengths.sum())
        self._plan = dict(step=0, samples=samples, starts=starts, lengths=lengths,
                          slot=np.repeat(np.arange(len(samples)), lengths), train=train,
                          metrics=metrics, steps_since_update=0, lr_scale=lr_scale, apply=apply,
                          events=[[0, 0.0] for _ in self.net.layers[1:]], done=0,
                          progress=progress, progress_every=max(1, len(samples) // 10))
        try:
            self.net.network.run(total * self.dt)
        except Exception as error:          # Brian2 wraps errors raised in operations
            cause = error
            while cause is not None and not isinstance(cause, TrainingDiverged):
                cause = cause.__cause__ or cause.__context__
            raise cause if cause is not None else error
        finally:
            plan, self._plan = self._plan, None
        if apply and train and plan["steps_since_update"]:
            self._update(plan)              # what is left of the last update interval
        neurons = sum(layer.n for layer in self.net.layers[1:])
        seconds = float(sum(s.n_steps for s in samples) * self.dt / second)
        metrics.events_per_neuron_per_s = sum(c[0] for c in plan["events"]) / neurons / seconds
        metrics.quanta_per_neuron_per_s = sum(c[1] for c in plan["events"]) / neurons / seconds
        return metrics

    def gradients(self, samples):
        """Summed gradients of the per-step loss over ``samples`` (accumulate mode, no
        update): a dict like ``params``."""
        from .training import Metrics
        self.run_samples(list(samples), train=True, metrics=Metrics(self.loss), apply=False)
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
        """Remove the learner's operation from the network (e.g. before a standalone run)."""
        self.net.network.remove(self.operation)
