"""Rule 'adjoint': exact gradients at any depth, with a cost that follows the events.

The Brian2 run only records events (a ``SpikeMonitor`` with the payload ``q`` per layer:
no Python runs during a step). At the end of each batch (a ``network_operation`` on a
clock of one batch length, i.e. once per batch) every sample's gradient of the summed
loss is computed backwards in time from its events, in the analog model of docs/spec.md
section 5 (each spike train stands for the signal it encodes; ``payload='analog'`` makes
the network that model).

Receiver layer l, neuron j, with the injection ``a_i(m)`` of sender i at step m
(``theta_i q_i(m)`` into the tap for sigma-delta senders, 1 into bucket 1 per raw spike):

    U_j(t)  = P U_j(t-1) + e_c inj_j(t),   inj_j(t) = sum_s w_s a_{i_s}(t - d_s)
    x_j(t)  = b_j + v_j . U_j(t),          y_j(t) = f(x_j(t))

The adjoint of a cascade is the same cascade run backwards in time: with ``delta_j(t) =
dL/dx_j(t)``, ``mu_j(t) = P mu_j(t+1) + e_c delta_j(t)`` (one pass of K+1 buckets per
neuron) gives

    E_j(t)     = v_j . mu_j(t)                         (= dL/d inj_j(t))
    dL/dw_s    = sum_{events (m, a) of i_s} a E_j(m + d_s)
    dL/dD_s    = -1e-3 w_s sum_{events} a v_j . G mu_j(m + d_s)    (per ms; G the generator)
    dL/dv_j^k  = sum_t inj_j(t) mu_j^k(t),       dL/db_j = sum_t delta_j(t)

and the error of a hidden sender's transmitted signal r_i = y_i,
``dL/dr_i(t) = A_i(t) - A_i(t+1)`` with ``A_i(t) = sum_{s of i} w_s E_{j_s}(t + d_s)``, so
``delta_i(t) = f'(x_i(t)) (A_i(t) - A_i(t+1) + dR/dy_i(t))`` (R: the learner's activity
penalty, :mod:`sgbrian.penalties`, when it has one) and the same pass repeats one layer
down.
Work per sample: (events x fan-out) for the injections and the weight and delay
gradients, (neurons x (K+1)^2 x steps) for the cascades forward and backward, and
(synapses from hidden senders x steps) for the hidden errors; no synapse x bucket x step
term. The forward buckets are rebuilt from the recorded events (they equal Brian2's to
rounding), so nothing but events is recorded.
"""
import time

import numpy as np
from brian2 import Clock, NetworkOperation, SpikeMonitor

from ..datasets import batch_inputs
from ..penalties import TotalVariation
from .adjoint_data import LayerEvents, SynapseTable
from .adjoint_kernels import kernels
from .binding import activation, activation_slope
from .engine import Engine
from .buffers import owned_nbytes


class BatchWork:
    """What the samples of one batch share: the parameters in the loops' layouts (weights in
    CSR order, bucket weights (K+1, n)), arrays over (steps, neurons) reused from sample
    to sample (a fresh array would cost a page fault per 4 KiB), and the gradients summed
    over the batch in those layouts (``add_to`` adds them to the learner's).

    Parameters
    ----------
    engine : AdjointEngine
        The engine.
    steps : int
        The batch's length.
    train : sequence of str
        The parameters trained.
    """

    def __init__(self, engine, steps, train):
        learner, layers = engine.learner, engine.net.layers
        params, grads = learner.params, learner.grads
        self.engine, self.train = engine, train
        self.weights = [table.csr(params[f"w{l}"]) for l, table in enumerate(engine.tables)]
        self.v = [None] + [np.ascontiguousarray(params[f"v{l}"].T) for l in range(1, len(layers))]
        self.rates = [None] + [1.0 / c.taus for c in engine.connections]
        self.injected, self.x, self.E = ([None] + [engine.workspace(name, l, steps)
                                                   for l in range(1, len(layers))]
                                         for name in ("injected", "x", "E"))
        self.Ed = [None] + [engine.workspace("Ed", l, steps)
                            if learner.delay_trained[l - 1] and f"d{l - 1}" in grads else None
                            for l in range(1, len(layers))]
        self.grad_v = [None] + [np.zeros((layers[l].K + 1, engine.sizes[l])) for l in range(1, len(layers))]
        self.grad_b = [None] + [np.zeros(engine.sizes[l]) for l in range(1, len(layers))]
        gathered = "w" in learner.train or "d" in learner.train
        self.grad_w = [np.zeros(len(t.post)) if gathered else None for t in engine.tables]
        self.grad_d = [np.zeros(len(t.post)) if self.Ed[l + 1] is not None else None
                       for l, t in enumerate(engine.tables)]
        self.penalty_grad = [None] * len(layers)      # dR/dy per hidden layer, per sample

    def add_to(self, grads):
        """The batch's sums into the learner's gradients (Brian2's synapse order; the delay
        gradient is ``-1e-3 w_s`` times its gather, per ms).

        Parameters
        ----------
        grads : dict
            The learner's gradients, updated.
        """
        for l, table in enumerate(self.engine.tables):
            if f"v{l + 1}" in grads:
                grads[f"v{l + 1}"] += self.grad_v[l + 1].T
            if f"b{l + 1}" in grads:
                grads[f"b{l + 1}"] += self.grad_b[l + 1]
            if f"w{l}" in grads:
                table.add(grads[f"w{l}"], self.grad_w[l])
            if self.grad_d[l] is not None:
                table.add(grads[f"d{l}"], -1e-3 * self.weights[l] * self.grad_d[l])


class AdjointEngine(Engine):
    """Rule 'adjoint': records the events of every layer and, once per batch, computes each
    sample's gradients backwards in time (module docstring).

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
        self.tables = [SynapseTable(c) for c in self.connections]
        self.monitors = [SpikeMonitor(layer.group, variables=[] if layer.kind == "spikes" else ["q"],
                                      when="end", name=f"sgbrian_events_{l}*")
                         for l, layer in enumerate(net.layers)]
        for monitor in self.monitors:
            monitor.active = False                 # recording only during the learner's runs
        net.network.add(*self.monitors)
        self.plan = None
        #: Seconds spent finishing batches (gradients, metrics, updates) in this engine's runs.
        self.learner_seconds = 0.0
        self._workspace = {}

    def workspace(self, name, l, steps):
        """An array kept for reuse (a view of one as long as the longest batch).

        Parameters
        ----------
        name : str
            What it holds.
        l : int
            The layer.
        steps : int
            Rows needed.

        Returns
        -------
        ndarray
            (steps, n_l).
        """
        key = (name, l)
        if key not in self._workspace or len(self._workspace[key]) < steps:
            self._workspace[key] = np.empty((steps, self.sizes[l]))
        return self._workspace[key][:steps]

    def keeps_history(self, l):
        """None: the adjoint rule keeps no sender cascades during the run (it rebuilds them from
        the recorded events).

        Parameters
        ----------
        l : int
            The connection.
        """
        return None                      # no sender cascades: nothing is filtered per step

    def apply_delays(self, params, dt):
        """Write the delays to the Synapses and rebuild each connection's per-delay tables
        (``SynapseTable.set_delays``).

        Parameters
        ----------
        params : dict
            The learner's parameters.
        dt : Quantity
            Time step.
        """
        super().apply_delays(params, dt)
        for table, conn in zip(self.tables, self.connections):
            table.set_delays(conn)

    def layout(self, batches):
        """Every batch as long as the longest (samples and gap), the first starting at the next
        multiple of that length: the batch clock then ticks at every batch's start.

        Parameters
        ----------
        batches : list of list of Sample
            The batches.

        Returns
        -------
        tuple
            ``(inputs, starts, lengths, start time)``.
        """
        length = max(max(s.n_steps for s in batch) for batch in batches) + self.gap()
        inputs, starts, lengths = batch_inputs(batches, self.batch, self.gap(), self.learner.dt,
                                               self.sizes[0], length)
        now = int(round(float(self.net.network.t / self.learner.dt)))
        first = -(-now // length) * length
        return inputs, starts + first, lengths, first * self.learner.dt

    def reset(self):
        """The network back to rest and the monitors emptied."""
        self.rest()
        for monitor in self.monitors:
            monitor.resize(0)
            monitor.variables["N"].set_value(0)

    def run(self, plan):
        """One Brian2 run over every batch (all of one length); an operation on a clock of that
        length finishes each batch at the start of the next one.

        Parameters
        ----------
        plan : RunPlan
            The batches and what to do with their gradients.
        """
        dt, length = self.learner.dt, int(plan.lengths[0])
        first = int(plan.starts[0])
        self.plan = plan

        def batch_boundary():
            index = int(round(float(self.net.network.t / dt))) - first
            if index > 0:
                self._finish_batch(index // length - 1)      # resets the network
            else:
                self.reset()                # idle steps before the first batch: forgotten
        self.attach(NetworkOperation(batch_boundary, when="start", name="sgbrian_adjoint*",
                                     clock=Clock(length * dt, name="sgbrian_batches*")))
        for monitor in self.monitors:
            monitor.active = True
        try:
            end = first + int(plan.lengths.sum())
            self.net.network.run((end - int(round(float(self.net.network.t / dt)))) * dt)
            self._finish_batch(len(plan.batches) - 1)
        finally:
            self.detach()
            self.plan = None

    def detach(self):
        """Remove the batch operation from the network and stop the event monitors."""
        super().detach()
        for monitor in self.monitors:
            monitor.active = False

    def _finish_batch(self, index):
        began = time.perf_counter()
        try:
            self._learn_batch(index)
        finally:
            self.learner_seconds += time.perf_counter() - began

    def _learn_batch(self, index):
        """Batch ``index`` has run: its samples' metrics and gradients, then the update."""
        plan, learner = self.plan, self.learner
        batch = plan.batches[index]
        data = learner.loss.prepare(batch, self.batch, plan.lengths[index], learner.dt)
        plan.metrics.start_batch(batch, self.batch, data)
        first = int(plan.starts[index])
        events = [LayerEvents(m, layer, size, self.batch, first, learner.dt)
                  for m, layer, size in zip(self.monitors, self.net.layers, self.sizes)]
        self.last_events = events          # the last batch's events, for analyses
        for l, layer_events in enumerate(events[1:]):
            counted = layer_events.counted(data["active"])
            plan.events[l][0] += counted[0]
            plan.events[l][1] += counted[1]
        work = BatchWork(self, len(data["active"]), plan.train)
        for b in range(len(batch)):
            self._sample(b, events, data, work)
        if plan.train:
            work.add_to(learner.grads)
            plan.steps_since_update += int(np.count_nonzero(data["weight"]))
        learner._end_batch(self, plan, index)

    # -- one sample ---------------------------------------------------------------------
    def _sample(self, b, events, data, work):
        """Copy b of the batch: its buckets rebuilt from the events, its loss and metrics,
        and (``work.train``) its gradients added to the batch's."""
        learner, layers = self.learner, self.net.layers
        for l in range(1, len(layers)):
            compiled, table = kernels(layers[l].K + 1), self.tables[l - 1]
            inj, x = work.injected[l], work.x[l]
            inj.fill(0.0)
            compiled.scatter(*events[l - 1].parts[b], table.start, table.offset,
                             work.weights[l - 1], inj)
            compiled.forward(self._tap(l), self.connections[l - 1].P, inj, work.v[l],
                             learner.params[f"b{l}"], x)
        readout = layers[-1]
        y = activation(readout, work.x[-1])
        losses, dy = learner.loss.sample_sequence(y, data, b)
        losses = losses + self._penalty(b, data, work)
        if not np.all(np.isfinite(losses)):
            learner._diverged(f"the loss became {losses.sum()} in sample {b} of a batch")
        self.plan.metrics.add_sequence(b, y, losses)
        if work.train:
            self._backward(dy * activation_slope(readout, work.x[-1]), events, b, work)

    def _penalty(self, b, data, work):
        """The activity penalty of copy b over its own steps (per step), with its
        derivative by each hidden layer's output kept in ``work.penalty_grad``."""
        length = int(np.count_nonzero(data["active"][:, b]))
        total = 0.0
        for l, strength in enumerate(self.learner.penalty_strengths, start=1):
            work.penalty_grad[l] = None
            if strength > 0:
                y = activation(self.net.layers[l], work.x[l])
                values, work.penalty_grad[l] = TotalVariation.sequence(y, length, strength)
                total = total + values
        return total

    def _tap(self, l):
        """The bucket events of layer l-1 enter at layer l: 1 for raw spikes, else 0."""
        return 1 if self.net.layers[l - 1].kind == "spikes" else 0

    def _backward(self, delta, events, b, work):
        """The gradients of copy b from its readout error ``delta`` (T, n_readout), layer
        by layer down to the first (module docstring), added to ``work``'s sums."""
        layers = self.net.layers
        for l in range(len(layers) - 1, 0, -1):
            compiled, table, conn = kernels(layers[l].K + 1), self.tables[l - 1], self.connections[l - 1]
            E, Ed = work.E[l], work.Ed[l]
            compiled.backward(self._tap(l), conn.P, delta, work.injected[l], work.v[l],
                              work.rates[l], E, Ed, work.grad_v[l], work.grad_b[l])
            if work.grad_w[l - 1] is not None:
                compiled.gather(*events[l - 1].parts[b], table.start, table.offset, E, Ed,
                                work.grad_w[l - 1], work.grad_d[l - 1])
            if l == 1:
                return
            A = table.error(E, work.weights[l - 1], compiled,
                            self.workspace("A", l - 1, len(E) + 1))        # (T + 1, n_pre)
            delta = np.subtract(A[:-1], A[1:], out=self.workspace("delta", l - 1, len(E)))
            if work.penalty_grad[l - 1] is not None:
                delta += work.penalty_grad[l - 1]          # dR/dy of the hidden layer
            delta *= activation_slope(layers[l - 1], work.x[l - 1])

    def state_nbytes(self):
        """Bytes the engine holds to learn: its synapse tables, the arrays over (steps, neurons)
        reused from sample to sample, and what its monitors have allocated for the events of
        a batch (capacity, not use). Fixed per batch length; grows with the steps of a batch
        (not with the number of batches), unlike the online rules' buffers, which do not grow
        with the steps at all.

        Returns
        -------
        int
            Bytes.
        """
        monitors = sum(m.variables[name].get_value().base.nbytes
                       if m.variables[name].get_value().base is not None
                       else m.variables[name].get_value().nbytes
                       for m in self.monitors for name in m.record_variables)
        return owned_nbytes(self.tables, self._workspace) + monitors
