"""What every gradient method shares: the learner's binding to a Brian2 network.

An engine runs one network of ``batch`` copies (``SGNetwork.replicate``): it copies the
learner's parameters into the Brian2 objects, rounds learned delays to whole steps,
returns the network to rest between batches, and describes each connection's synapses
(:class:`Connection`). :class:`RunPlan` is the state of one call of ``run_samples``: the
batches, where each starts, what to do with their gradients and how far the run is.
A method's engine (:mod:`.online`, :mod:`.adjoint`) adds how the gradients are formed.
"""
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np
from brian2 import ms, second

from ..datasets import batch_inputs
from ..nonlinearities import NUMPY_FUNCTIONS, compiled_expression
from ..layers import layer_taus
from ..propagator import cascade_propagator
from .cascades import SenderCascades


class TrainingDiverged(FloatingPointError):
    """A NaN or infinite value appeared; the last good parameters have been restored."""


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
    """The learner's view of the synapses from layer l-1 to layer l of a network that
    holds ``batch`` copies (the first ``len(syn) / batch`` synapses are copy 0's).
    ``history``: keep the senders' delayed buckets (rule 'exact', first connection);
    the weight gradients keep their own window. ``history=None``: no sender cascades
    (a method that does not filter the senders step by step)."""

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


@dataclass
class RunPlan:
    """One call of ``run_samples``: batches of samples run one after the other.

    ``starts``/``lengths``: the first step and the number of steps of each batch in the
    run; ``train``: form gradients, ``apply``: also update the parameters; ``events``:
    [events, quanta] counted per neuron layer; ``done``: samples finished so far.
    """
    batches: list = field(default_factory=list)
    starts: np.ndarray = None
    lengths: np.ndarray = None
    train: bool = False
    apply: bool = True
    metrics: object = None
    lr_scale: float = 1.0
    progress: Optional[Callable] = None
    samples: list = field(default_factory=list)
    events: list = field(default_factory=list)
    step: int = 0
    steps_since_update: int = 0
    done: int = 0
    data: dict = None
    progress_every: int = 1
    next_report: int = 1

    @property
    def slot(self):
        """The batch each step of the run belongs to."""
        return np.repeat(np.arange(len(self.batches)), self.lengths)

    def finished(self, batch_index):
        """Count a batch as done and report progress every ``progress_every`` samples."""
        self.done += len(self.batches[batch_index])
        if self.progress and self.done >= self.next_report:
            self.next_report += self.progress_every
            self.progress(self)


class Engine:
    """The part of an engine every gradient method shares: one Brian2 network of
    ``batch`` copies (``net``), the learner's parameters written into it, delays rounded
    to whole steps, and its state returned to rest. Subclasses (one per kind of method)
    form the gradients; ``run(plan)`` drives one call of ``run_samples``."""

    def __init__(self, learner, net, batch):
        self.learner, self.net, self.batch = learner, net, batch
        self.sizes = [layer.n // batch for layer in net.layers]
        self.connections = []
        for l, syn in enumerate(net.synapses):
            steps = np.rint(np.asarray(syn.delay[:] / learner.dt)).astype(int)
            max_steps = max(net.layers[l].max_lag, int(np.max(steps, initial=0)))
            self.connections.append(Connection(syn, net.layers[l], net.layers[l + 1],
                                               learner.dt, batch, max_steps,
                                               self.keeps_history(l)))
        self.operation = None

    def gap(self):
        """Silent steps after each batch: for raw spike inputs, the longest input delay
        (a spike still in flight would otherwise arrive in the next batch)."""
        if self.net.layers[0].kind != "spikes":
            return 0
        return int(self.connections[0].delays.max(initial=0))

    def layout(self, batches):
        """The run's input timeline: ``(inputs, starts, lengths, start time)``; batch j
        holds its samples side by side from step ``starts[j]`` of the run for
        ``lengths[j]`` steps (its longest sample and the gap), starting now."""
        inputs, starts, lengths = batch_inputs(batches, self.batch, self.gap(), self.learner.dt,
                                               self.sizes[0])
        return inputs, starts, lengths, self.net.network.t

    def keeps_history(self, l):
        """Whether connection ``l``'s senders keep their delayed buckets (none by default)."""
        return False

    def write_params(self, params):
        """Copy ``params`` into every copy's Brian2 variables."""
        B = self.batch

        def write(variable, values):            # every copy, without a tiled temporary
            variable.get_value().reshape(B, -1)[:] = values
        for l, layer in enumerate(self.net.layers[1:], start=1):
            g = layer.group
            write(self.net.synapses[l - 1].variables["w"], params[f"w{l - 1}"])
            for k in range(layer.K + 1):
                write(g.variables[f"v_{k}"], params[f"v{l}"][:, k])
            write(g.variables["b"], params[f"b{l}"])

    def apply_delays(self, params, dt):
        """Round the continuous delays to whole steps in the Brian2 synapses (between runs)."""
        for l, conn in enumerate(self.connections):
            if self.learner.delay_trained[l]:
                steps = np.rint(params[f"d{l}"] * float(ms / dt)).astype(int)
                delay = self.net.synapses[l].pre.variables["delay"].get_value()
                delay[:] = np.tile(steps, self.batch) * float(dt / second)
                conn.set_delays(steps)

    def bind_views(self):
        """Cache views of the Brian2 arrays read during a run (valid for one run)."""
        self.state_arrays = self.net.state_arrays()

    def rest(self):
        """Every state variable of the network back to zero."""
        for array in self.state_arrays:
            array[:] = 0

    def attach(self, operation):
        """Add ``operation`` (a new ``NetworkOperation``) to the network, replacing the
        engine's last one (Brian2 does not take back an object it has simulated)."""
        self.detach()
        self.operation = operation
        self.net.network.add(operation)

    def detach(self):
        """Remove the engine's operation from the network (e.g. before a standalone run)."""
        if self.operation is not None and self.operation in self.net.network.objects:
            self.net.network.remove(self.operation)

    def state_nbytes(self):
        """Bytes of the arrays the engine allocated to learn (see the subclasses)."""
        raise NotImplementedError

    def flush(self, grads, train):
        """Add gradients still buffered to ``grads`` (none by default)."""
