"""The learner: parameters, optimizer, updates, and runs of samples through the network."""
import numpy as np
from brian2 import ms, second

from ..metrics import Metrics
from ..optim import Adam, clip_by_global_norm, schedule
from ..penalties import TotalVariation
from ..targets import is_standalone
from ..training import evaluate, fit
from ..validation import check_choice, check_int
from .binding import TrainingDiverged
from .engine import RunPlan
from .memory import check_memory, estimate
from .methods import METHODS

TRAINABLE = ("w", "v", "b", "d")


class OnlineLearner:
    """Trains an :class:`~sgbrian.sgnetwork.SGNetwork` inside its Brian2 run.

    Parameters are named ``w{l}`` and ``d{l}`` (weights and delays in ms of the synapses
    from layer l), ``v{l}`` (n_l x (K+1)) and ``b{l}`` (layer l). ``fit``, ``evaluate`` and
    ``gradients`` take ``batch_size``: samples run side by side in a replica of the
    network with that many copies (built once per size). A layer's output nonlinearity
    trains with the derivative it states.

    Parameters
    ----------
    net : SGNetwork
        The network.
    loss : MSELoss or CrossEntropyLoss
        The loss.
    rule : str
        A gradient method of :data:`~sgbrian.learning.METHODS`: 'exact' (online, one
        hidden layer), 'spatial' (online, any depth, approximate below the readout) or
        'adjoint' (after each sample or batch, exact at any depth, cost following the
        events).
    optimizer : SGD or Adam, optional
        Default ``Adam()``.
    train : sequence of str
        Which of 'w', 'v', 'b', 'd' (delays) to train.
    update_every : int or str
        An int n (update after every n steps with a loss; online rules only) or 'sample'
        (accumulate over a sample, or a batch of samples, and update at its end).
    clip_norm : float, optional
        Global gradient-norm clipping.
    lr_schedule : callable, optional
        Epoch -> multiplier.
    seed : int
        Seed of the sample order.
    constant_drive : bool
        Extra ``drive`` terms make the online rules refuse unless this marks them as
        constants of the gradient ('adjoint' refuses them).
    penalty : TotalVariation, optional
        An activity penalty on the hidden layers' outputs, added to the loss (and to the
        reported ``loss``): ``lambda sum_t |y(t) - y(t - dt)|``, about lambda theta times
        the quanta sent (:mod:`sgbrian.penalties`). Its gradient is exact under 'adjoint'
        (any depth) and 'exact'; under 'spatial', exact for each layer's own parameters
        and sent down like the readout's error.

    Raises
    ------
    ValueError
        A network or setting the rule cannot train (named).
    """

    def __init__(self, net, loss, rule="spatial", optimizer=None, train=("w", "v", "b"),
                 update_every="sample", clip_norm=None, lr_schedule=None, seed=0,
                 constant_drive=False, penalty=None):
        if is_standalone():
            raise RuntimeError("the learner is a Python network_operation, which Brian2 skips "
                               "silently on a standalone device (cpp_standalone, genn): "
                               "use the 'numpy' or 'cython' target for training")
        check_choice("rule", rule, METHODS)
        for name in train:
            check_choice("train", name, TRAINABLE)
        if update_every != "sample" and not (isinstance(update_every, int) and update_every >= 1):
            raise ValueError(f"update_every must be 'sample' or an int >= 1, got {update_every!r}")
        if clip_norm is not None and not (np.isfinite(clip_norm) and clip_norm > 0):
            raise ValueError(f"clip_norm must be None or a finite number > 0, got {clip_norm!r}")
        if not (hasattr(loss, "batch_step") and hasattr(loss, "prepare")):
            raise ValueError(f"loss must be a loss object such as MSELoss() or "
                             f"CrossEntropyLoss(start=...), got {loss!r}")
        self.method = METHODS[rule]()
        self.method.check(net, update_every)
        for layer in net.layers[1:]:
            if layer.bucket_weights != "neuron":
                raise ValueError("the learner supports bucket_weights='neuron' only")
            if layer.drive and not constant_drive:
                raise ValueError(
                    f"layer {layer.index}: the drive term {layer.drive!r} feeds x, and the "
                    "learner cannot differentiate it (its dependence on the parameters is not "
                    "tracked); pass constant_drive=True to treat it as a constant of the "
                    "gradient (exact when it does not depend on the trained parameters)")
        if penalty is not None and not isinstance(penalty, TotalVariation):
            raise ValueError(f"penalty must be None or a TotalVariation(strength), got {penalty!r}")
        self.net, self.loss, self.rule = net, loss, rule
        self.penalty = penalty
        #: lambda of each hidden layer (zeros without a penalty).
        self.penalty_strengths = (penalty.strengths(len(net.layers) - 2) if penalty is not None
                                  else np.zeros(len(net.layers) - 2))
        self.optimizer = optimizer or Adam()
        self.train, self.update_every, self.clip_norm = tuple(train), update_every, clip_norm
        self.lr_schedule = lr_schedule or schedule("constant")
        self.rng = np.random.default_rng(seed)
        self.dt = net.layers[1].group.clock.dt
        if hasattr(loss, "start"):
            loss.start_step = int(round(float(loss.start / self.dt)))
        self.delay_trained = [("d" in self.train and self.method.delay_trained(net, l))
                              for l in range(len(net.synapses))]
        self.params = self._read_params()
        self.grads = {name: np.zeros_like(p) for name, p in self.params.items()
                      if name[0] in self.train}
        self.last_good = {name: p.copy() for name, p in self.params.items()}
        self.engines = {1: self.method.engine(self, net, 1)}

    def engine(self, batch_size=1):
        """The engine for a batch size (a network of that many copies, built once).

        Parameters
        ----------
        batch_size : int
            Copies.

        Returns
        -------
        Engine
            The engine.
        """
        batch_size = check_int("batch_size", batch_size, 1)
        if batch_size not in self.engines:
            self.write_params()
            replica = self.net.replicate(batch_size)
            self.engines[batch_size] = self.method.engine(self, replica, batch_size)
        return self.engines[batch_size]

    @property
    def connections(self):
        """The learned connections (``Connection`` objects of the first engine), input
        connection first."""
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
        """Add every engine's buffered gradient terms to ``grads`` (the trained parameters
        only)."""
        for engine in self.engines.values():
            engine.flush(self.grads, self.train)

    def _update(self, engine, plan):
        engine.flush(self.grads, self.train)
        norm = clip_by_global_norm(self.grads, self.clip_norm)
        if not np.isfinite(norm):
            self._diverged("a gradient became NaN or infinite")
        self.optimizer.step(self.params, self.grads, plan.lr_scale)
        for l, conn in enumerate(engine.connections):
            if self.delay_trained[l]:
                bound = conn.max_steps * float(self.dt / ms)
                np.clip(self.params[f"d{l}"], 0.0, bound, out=self.params[f"d{l}"])
        if not all(np.all(np.isfinite(p)) for p in self.params.values()):
            self._diverged("a parameter became NaN or infinite after an update")
        for g in self.grads.values():
            g[:] = 0
        plan.steps_since_update = 0
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

    def _end_batch(self, engine, plan, index):
        """Batch ``index`` of ``plan`` has run: update (once per batch), close its metrics,
        keep the parameters as the last good ones, and return the network to rest."""
        if plan.apply and self.update_every == "sample" and plan.steps_since_update:
            self._update(engine, plan)
        plan.metrics.end_batch()
        for name, p in self.params.items():
            self.last_good[name][:] = p
        engine.reset()
        plan.finished(index)

    # -- running a list of samples -----------------------------------------------------
    def run_samples(self, samples, train, metrics, lr_scale=1.0, progress=None, apply=True,
                    batch_size=1):
        """Run samples through the network in one Brian2 run, ``batch_size`` at a time side by
        side; reset between batches.

        Parameters
        ----------
        samples : list of Sample
            The samples.
        train : bool
            Accumulate gradients.
        metrics : Metrics
            Accumulates the run's numbers.
        lr_scale : float
            The schedule's multiplier.
        progress : callable, optional
            Called as samples finish.
        apply : bool
            Also update the parameters.
        batch_size : int
            Samples side by side.

        Returns
        -------
        Metrics
            ``metrics``.

        Raises
        ------
        TrainingDiverged
            A non-finite loss or parameter; the last good parameters are restored.
        """
        if not samples:
            raise ValueError("samples must not be empty")
        batch_size = check_int("batch_size", batch_size, 1)
        self.loss.check(samples, self.net.layers[-1].n)
        self.net.check_time_constants()
        check_memory(self, samples, batch_size)
        engine = self.engine(batch_size)
        net = engine.net
        net.check_device()
        batches = [samples[i:i + batch_size] for i in range(0, len(samples), batch_size)]
        inputs, starts, lengths, start_time = engine.layout(batches)
        if isinstance(inputs, tuple):
            net.set_input(spikes=inputs, start=start_time)
        else:
            net.set_input(signal=inputs, start=start_time)
        engine.apply_delays(self.params, self.dt)
        engine.write_params(self.params)
        engine.bind_views()
        engine.reset()          # start at rest (state, cascades, gradient windows), whatever ran before
        net.clear_spike_queues()
        for g in self.grads.values():
            g[:] = 0
        plan = RunPlan(batches=batches, starts=starts, lengths=lengths, train=train,
                       metrics=metrics, lr_scale=lr_scale, apply=apply,
                       events=[[0, 0.0] for _ in net.layers[1:]], samples=samples,
                       progress=progress, progress_every=max(1, len(samples) // 10))
        plan.next_report = plan.progress_every
        try:
            engine.run(plan)
        except Exception as error:          # Brian2 wraps errors raised in operations
            cause = error
            while cause is not None and not isinstance(cause, TrainingDiverged):
                cause = cause.__cause__ or cause.__context__
            raise cause if cause is not None else error
        if apply and train and plan.steps_since_update:
            self._update(engine, plan)      # what is left of the last update interval
        seconds = float(sum(s.n_steps for s in samples) * self.dt / second)
        metrics.add_events(sum(c[0] for c in plan.events), sum(c[1] for c in plan.events),
                           sum(engine.sizes[1:]) * seconds)
        return metrics

    def apply_gradients(self, lr_scale=1.0):
        """One optimizer update from ``grads`` as they are (summed elsewhere, e.g. by workers):
        clipping, the step, the delay bounds and the divergence checks.

        Parameters
        ----------
        lr_scale : float
            The schedule's multiplier.
        """
        self._update(self.engine(1), RunPlan(lr_scale=lr_scale))
        for name, p in self.params.items():
            self.last_good[name][:] = p

    def gradients(self, samples, batch_size=1):
        """Summed gradients of the per-step loss (accumulate mode, no update). Any
        ``batch_size`` gives the same sum.

        Parameters
        ----------
        samples : list of Sample
            The samples.
        batch_size : int
            Samples side by side.

        Returns
        -------
        dict
            Like ``params``.
        """
        self.run_samples(list(samples), train=True, metrics=Metrics(self.loss), apply=False,
                         batch_size=batch_size)
        self.flush_gradients()
        return {name: g.copy() for name, g in self.grads.items()}

    def fit(self, train, epochs, **kwargs):
        """Train; see :func:`sgbrian.training.fit`.

        Parameters
        ----------
        train : list of Sample
            Training samples.
        epochs : int
            Epochs.
        **kwargs
            :func:`sgbrian.training.fit`'s other arguments.

        Returns
        -------
        ndarray
            The history.
        """
        return fit(self, train, epochs, **kwargs)

    def evaluate(self, samples, **kwargs):
        """Loss and accuracy/NRMSE without updates; see :func:`sgbrian.training.evaluate`.

        Parameters
        ----------
        samples : list of Sample
            The samples.
        **kwargs
            :func:`sgbrian.training.evaluate`'s other arguments.

        Returns
        -------
        dict
            ``Metrics.summary()``.
        """
        return evaluate(self, samples, **kwargs)

    def memory_estimate(self, samples, batch_size=1):
        """Bytes a run needs at most (:mod:`sgbrian.learning.memory`), without building or
        running anything.

        Parameters
        ----------
        samples : list of Sample
            The samples.
        batch_size : int
            Samples side by side.

        Returns
        -------
        int
            Bytes.
        """
        return estimate(self, list(samples), check_int("batch_size", batch_size, 1))

    def detach(self):
        """Remove the learner's operations from the networks (e.g. before a standalone run)."""
        for engine in self.engines.values():
            engine.detach()
