"""The online rules: gradients formed inside the Brian2 run at every time step.

A ``network_operation`` at the end of every step reads the network's buckets, forms the
readout's error and accumulates the gradients of the per-step loss (docs/spec.md section 5),
so parameters may change every step, every n steps or once per sample, with memory
independent of the sequence length:

    delta_j(t)  = dL(t)/dx_j(t)                       (readout: dL/dy * act'(x))
    dL/dv_j^k   = delta_j U_j^k,    dL/db_j = delta_j
    dL/dw_s     = delta_j sum_k v_j^k u_{i,d}^k       (u_{i,d}: buckets of r_i(t - d))
    eps_{i,d}^k = sum_{j: d_ij = d} delta_j w_ij v_j^k   (error sent one layer down)

:class:`OnlineEngine` is rule ``'spatial'`` (any depth): ``delta_i = act'(x_i) sum_{d,k}
eps_{i,d}^k`` and the formulas repeat one layer down. :class:`~.exact.ExactEngine`
(:mod:`sgbrian.learning.exact`) is rule
``'exact'`` (one hidden layer): forward-mode traces of the hidden parameters'
sensitivities, filtered by the readout's cascade per readout delay d,
``Z_{p,d}(t+h) = P Z_{p,d}(t)``, ``Z_{p,d}^0 = z_p(t - d)``, ``dL/dp = sum_{d,k}
eps_{i(p),d}^k Z_{p,d}^k``. Continuous delays: ``dL/dD_s = delta_j w_s sum_{k>=1} v_j^k
(u_{i,d}^k - u_{i,d}^{k-1}) / tau_k`` (:class:`~.buffers.WeightGradient`).
"""
import numpy as np
from brian2 import NetworkOperation

from ..penalties import TotalVariation
from .binding import activation, activation_slope, drive_terms
from .engine import Engine
from .buffers import WeightGradient, owned_nbytes


class OnlineEngine(Engine):
    """Rule 'spatial': the per-step engine. Holds the sender cascades, the gradient windows
    and the ``network_operation`` that runs at the end of every step.

    Parameters
    ----------
    learner : OnlineLearner
        The learner.
    net : SGNetwork
        The network of ``batch`` copies.
    batch : int
        Copies.
    """

    def __init__(self, learner, net, batch):
        super().__init__(learner, net, batch)
        self.weight_grads = [WeightGradient(c) for c in self.connections]
        self.delay_grads = {l: WeightGradient(c, derivative=True)
                            for l, c in enumerate(self.connections) if learner.delay_trained[l]}
        #: Hidden layers with an activity penalty (learner.penalty), and their outputs,
        #: slopes and buckets one step before (the penalty's term at step t - dt).
        self.penalized = [l for l, strength in enumerate(learner.penalty_strengths, start=1)
                          if strength > 0]
        self.previous, self._current, self._signed = {}, {}, {}
        self._make_penalty_buffers()
        self._make_traces()

        def learner_step():               # a plain function: Brian2 inspects its arguments
            self._on_step()
        self.attach(NetworkOperation(learner_step, when="end", order=100,
                                     name="sgbrian_learner*"))
        self.plan = None

    def _make_traces(self):
        """Forward-mode traces (none under 'spatial')."""

    def _make_penalty_buffers(self):
        """Weight (and delay) gradient windows of the penalty's previous-step term: fed with
        the senders' buckets one step back, ``u(t - dt - d)``."""
        self.previous_weight_grads = {l: WeightGradient(self.connections[l - 1])
                                      for l in self.penalized}
        self.previous_delay_grads = {l: WeightGradient(self.connections[l - 1], derivative=True)
                                     for l in self.penalized if l - 1 in self.delay_grads}

    def write_params(self, params):
        """Copy parameters into the Brian2 variables and keep the weights as dense (delays,
        n_pre, n_post) arrays, which the error sent down reads at every step.

        Parameters
        ----------
        params : dict
            The learner's parameters.
        """
        super().write_params(params)
        self.dense = [c.dense(params[f"w{l}"]) for l, c in enumerate(self.connections)]

    def bind_views(self):
        """Keep views of the buckets of every neuron layer and of every sender's reconstruction
        (or spike space) for the per-step operation."""
        super().bind_views()
        self._U = [[layer.group.variables[f"U_{k}"].get_value() for k in range(layer.K + 1)]
                   for layer in self.net.layers[1:]]
        self._senders = []
        for layer in self.net.layers[:-1]:
            name = "_spikespace" if layer.kind == "spikes" else "r"
            self._senders.append(layer.group.variables[name].get_value())
        self._spikespaces = [layer.group.variables["_spikespace"].get_value()
                             for layer in self.net.layers[1:]]
        self._payloads = [layer.group.variables["q"].get_value() for layer in self.net.layers[1:]]

    def reset(self):
        """Every state variable, sender cascade, gradient window and trace back to rest
        (buffered gradients are added to the learner's first)."""
        self.flush(self.learner.grads, self.learner.train)
        for wg in self._windows():
            wg.reset()
        self.previous = {}
        self.rest()
        for conn in self.connections:
            conn.senders.reset()

    def run(self, plan):
        """One Brian2 run over every batch; the operation learns at each step.

        Parameters
        ----------
        plan : RunPlan
            The batches and what to do with their gradients.
        """
        self.plan = plan
        try:
            self.net.network.run(int(plan.lengths.sum()) * self.learner.dt)
        finally:
            self.plan = None

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
        step = plan.step
        plan.step += 1
        index = np.searchsorted(plan.starts, step, side="right") - 1
        n = step - plan.starts[index]
        batch = plan.batches[index]
        if n == 0:
            plan.data = self.learner.loss.prepare(batch, self.batch, plan.lengths[index],
                                                  self.learner.dt)
            plan.metrics.start_batch(batch, self.batch, plan.data)
        active = plan.data["active"][n] if n < len(plan.data["active"]) else None
        if active is not None:
            self._count_events(plan, active)
            self._learn_step(plan, n)
        if n == plan.lengths[index] - 1:
            self.learner._end_batch(self, plan, index)

    def _count_events(self, plan, active):
        for l, (spikespace, q, counter) in enumerate(zip(self._spikespaces, self._payloads,
                                                         plan.events)):
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
        if plan.train:                       # the traces serve gradients only
            self._step_traces(x[0], U[0], params.get("v1"))
        losses, dy = learner.loss.batch_step(y, plan.data, n)
        if self.penalized:
            losses = losses + self._penalty_step(plan, n, x, U)
        if not np.all(np.isfinite(losses)):
            learner._diverged(f"the loss became {losses.sum()} at step {n} of a sample")
        plan.metrics.add(n, y, losses)
        if plan.train:
            # every step goes through the backward pass (a zero error before a loss
            # starts), so that the gradient windows follow the senders step by step
            has_loss = dy is not None
            self._backward((dy if has_loss else np.zeros_like(y))
                           * activation_slope(readout, x[-1]), x, U)
            self.previous = self._current
            if has_loss:
                plan.steps_since_update += 1
            if (has_loss and plan.apply and learner.update_every != "sample"
                    and plan.steps_since_update >= learner.update_every):
                learner._update(self, plan)

    def _step_traces(self, x1, U1, v1):
        """Advance the forward-mode traces by one step (none under 'spatial')."""

    def _penalty_step(self, plan, n, x, U):
        """The activity penalty at step n (per copy): ``lambda sum_j |y_j(n) - y_j(n-1)|``
        of each penalized layer, for copies whose sample has a step n - 1; keeps
        ``lambda s(n)`` and this step's outputs, slopes and buckets."""
        paired = plan.data["active"][n] & (n > 0)
        total = 0.0
        self._current, self._signed = {}, {}
        for l in self.penalized:
            layer = self.net.layers[l]
            y = activation(layer, x[l - 1])
            previous = self.previous.get(l)
            values, self._signed[l] = TotalVariation.step(
                y, y if previous is None else previous["y"], paired,
                self.learner.penalty_strengths[l - 1])
            total = total + values
            self._current[l] = dict(y=y, slope=activation_slope(layer, x[l - 1]), U=U[l - 1])
        if not plan.train:
            self.previous = self._current
        return total

    def _penalty_now(self, l):
        """The penalty's error of layer l's x at this step, ``lambda s(t) f'(x(t))``."""
        return self._signed[l] * self._current[l]["slope"]

    def _penalty_before(self, l):
        """The penalty's error of layer l's x one step back, ``-lambda s(t) f'(x(t - dt))``
        (zero where there is no step back)."""
        previous = self.previous.get(l)
        if previous is None:
            return np.zeros_like(self._signed[l])
        return -self._signed[l] * previous["slope"]

    def _add_previous_step_terms(self, l, delta_before):
        """Layer l's own parameters' gradients of the penalty's previous-step term: its
        error ``delta_before`` with that step's buckets ``U(t - dt)`` (v), 1 (b) and the
        senders' ``u(t - dt - d)`` (w and d, through their own windows)."""
        grads, params, train = self.learner.grads, self.learner.params, self.learner.train
        previous = self.previous.get(l)
        if "v" in train and previous is not None:
            grads[f"v{l}"] += np.einsum("bn,bnk->nk", delta_before, previous["U"])
        if "b" in train:
            grads[f"b{l}"] += delta_before.sum(axis=0)
        vd = delta_before[:, :, None] * params[f"v{l}"]
        before = self.connections[l - 1].senders.delayed([1])[0]
        if "w" in train:
            self.previous_weight_grads[l].add(before, vd, grads[f"w{l - 1}"])
        if l in self.previous_delay_grads:
            self.previous_delay_grads[l].weights = params[f"w{l - 1}"]
            self.previous_delay_grads[l].add(before, vd, grads[f"d{l - 1}"])
        return vd

    def _backward(self, delta, x, U):
        """Accumulate this step's gradients, summed over the batch, from the readout down
        (docs/spec.md section 5). ``delta``: (batch, n_readout)."""
        learner = self.learner
        grads, params, train = learner.grads, learner.params, learner.train
        for l in range(len(self.net.layers) - 1, 0, -1):
            conn, v = self.connections[l - 1], params[f"v{l}"]
            if l in self._signed:                       # the activity penalty at this step
                delta = delta + self._penalty_now(l)
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
            if l in self._signed:
                vd = vd + self._add_previous_step_terms(l, self._penalty_before(l))
            if l == 1:
                return
            delta = self._error_below(l, vd, x)
            if delta is None:
                return

    def _error_below(self, l, vd, x):
        """Rule 'spatial': ``delta_i = act'(x_i) sum_{d,j} w_ij (v_j . delta_j)``, the
        error of layer l-1 from layer l's ``vd = v delta``."""
        eps = np.einsum("dij,bj->bi", self.dense[l - 1], vd.sum(axis=2))
        return activation_slope(self.net.layers[l - 1], x[l - 2]) * eps

    def _windows(self):
        return (self.weight_grads + list(self.delay_grads.values())
                + list(self.previous_weight_grads.values())
                + list(self.previous_delay_grads.values()))

    def state_nbytes(self):
        """Bytes of the arrays this engine allocated to learn: the sender cascades, the gradient
        windows, the exact rule's traces and its dense gradient. This is the memory the online
        rule keeps (BPTT's counterpart: the tensors autograd saves for the backward pass); it
        is fixed when the engine is made, grows with the batch and the longest delay in steps,
        and not with the number of steps a sample has. Not counted: the network's own state
        (Brian2's arrays), the parameters (also as dense weights) and their gradients, the
        task's inputs and targets.

        Returns
        -------
        int
            Bytes.
        """
        return owned_nbytes(self.connections, self.weight_grads, self.delay_grads,
                            self.previous_weight_grads, self.previous_delay_grads,
                            getattr(self, "exact", None), getattr(self, "w0_dense", None))

    def flush(self, grads, train):
        """Add the buffered weight and delay gradient terms (weights only where ``'w'`` is
        trained).

        Parameters
        ----------
        grads : dict
            The sums, by parameter.
        train : sequence of str
            The parameters trained.
        """
        for l, wg in enumerate(self.weight_grads):
            if "w" in train:
                wg.flush(grads[f"w{l}"])
        for l, dg in self.delay_grads.items():
            dg.flush(grads[f"d{l}"])
        for l, wg in self.previous_weight_grads.items():
            if "w" in train:
                wg.flush(grads[f"w{l - 1}"])
        for l, dg in self.previous_delay_grads.items():
            dg.flush(grads[f"d{l - 1}"])
