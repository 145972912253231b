"""The engine every gradient method shares: one Brian2 network of ``batch`` copies
(``SGNetwork.replicate``) with the learner's parameters copied into it, learned delays
rounded to whole steps, and its state returned to rest between batches; and
:class:`RunPlan`, the state of one call of ``run_samples`` (the batches, where each
starts, what to do with their gradients and how far the run is). A method's engine
(:mod:`.online`, :mod:`.adjoint`) adds how the gradients are formed."""
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np
from brian2 import ms, second

from ..datasets import batch_inputs
from .binding import Connection


@dataclass
class RunPlan:
    """One call of ``run_samples``: batches of samples run one after the other.

    Parameters
    ----------
    batches : list of list of Sample
        The batches.
    starts, lengths : ndarray
        The first step and the number of steps of each batch in the run.
    train : bool
        Form gradients.
    apply : bool
        Also update the parameters.
    metrics : Metrics
        Accumulates the run's numbers.
    lr_scale : float
        The schedule's multiplier.
    progress : callable, optional
        Called with the plan as samples finish.
    samples : list of Sample
        Every sample of the run.
    events : list
        [events, quanta] counted per neuron layer.
    step : int
        Steps run.
    steps_since_update : int
        Steps with a loss since the last update.
    done : int
        Samples finished so far.
    data : dict
        The loss's arrays of the current batch.
    progress_every : int
        Samples between reports.
    next_report : int
        When the next report is due.
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
        """Count a batch as done and report progress every ``progress_every`` samples.

        Parameters
        ----------
        batch_index : int
            The batch.
        """
        self.done += len(self.batches[batch_index])
        if self.progress and self.done >= self.next_report:
            self.next_report += self.progress_every
            self.progress(self)


class Engine:
    """The part of an engine every gradient method shares: one Brian2 network of copies, the
    learner's parameters written into it, delays rounded to whole steps, and its state
    returned to rest. Subclasses (one per kind of method) form the gradients; ``run(plan)``
    drives one call of ``run_samples``.

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
        """Silent steps after each batch: for raw spike inputs, the longest input delay (a
        spike still in flight would otherwise arrive in the next batch).

        Returns
        -------
        int
            Steps.
        """
        if self.net.layers[0].kind != "spikes":
            return 0
        return int(self.connections[0].delays.max(initial=0))

    def layout(self, batches):
        """The run's input timeline, starting now: batch j holds its samples side by side from
        step ``starts[j]`` of the run for ``lengths[j]`` steps (its longest sample and the gap).

        Parameters
        ----------
        batches : list of list of Sample
            The batches.

        Returns
        -------
        tuple
            ``(inputs, starts, lengths, start time)``.
        """
        inputs, starts, lengths = batch_inputs(batches, self.batch, self.gap(), self.learner.dt,
                                               self.sizes[0])
        return inputs, starts, lengths, self.net.network.t

    def keeps_history(self, l):
        """Whether a connection's senders keep their delayed buckets (none by default).

        Parameters
        ----------
        l : int
            The connection.

        Returns
        -------
        bool or None
            The ``history`` argument of its :class:`Connection`.
        """
        return False

    def write_params(self, params):
        """Copy parameters into every copy's Brian2 variables.

        Parameters
        ----------
        params : dict
            The learner's parameters.
        """
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
        """Round the continuous delays to whole steps in the Brian2 synapses (between runs).

        Parameters
        ----------
        params : dict
            The learner's parameters (``d{l}`` in ms).
        dt : Quantity
            Time step.
        """
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
        """Add an operation to the network, replacing the engine's last one (Brian2 does not
        take back an object it has simulated).

        Parameters
        ----------
        operation : NetworkOperation
            A new operation.
        """
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
        """Add gradients still buffered (none by default).

        Parameters
        ----------
        grads : dict
            The sums, by parameter.
        train : bool
            Whether gradients are formed.
        """
