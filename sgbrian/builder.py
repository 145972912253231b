"""A small builder for layered feedforward SpikingGamma networks."""
import numpy as np
from brian2 import Network, NetworkOperation, defaultclock, ms, second

from .encoding import check_signal, check_spike_trains, set_stimulus
from .targets import is_standalone

from .network import (analog_layer, connect, connect_pairs, monitors_for, neuron_layer,
                      place_arrivals, place_encoder, spike_layer)
from .equations import nonlinearity
from .validation import check_choice, check_int, check_time, delay_steps

RECORDABLE = ("spikes", "signals", "buckets")


class SGNetwork:
    """A Brian2 ``Network`` with handles to its layers, synapses and monitors.

    ``layers[l].group`` is the Brian2 group of layer l, ``synapses[l]`` the Brian2
    ``Synapses`` from layer l to layer l+1, ``monitors[l]`` a dict of that layer's
    monitors. Everything is a plain Brian2 object: print ``layers[1].group.equations``,
    read or set ``layers[1].group.v_3``, ``synapses[0].w``, ``synapses[0].delay``.
    """

    def __init__(self, layers, synapses, monitors, seed):
        self.layers, self.synapses, self.monitors, self.seed = layers, synapses, monitors, seed
        objects = [layer.group for layer in layers] + list(synapses)
        objects += [m for per_layer in monitors for m in per_layer.values()]
        self.network = Network(*objects)

    @property
    def readout(self):
        """The readout layer (the last :class:`~sgbrian.network.Layer`)."""
        return self.layers[-1]

    @property
    def output(self):
        """The readout layer: an alias of :attr:`readout`, kept for existing code (``output``
        elsewhere, as in ``feedforward(output=...)``, names a nonlinearity)."""
        return self.readout

    def check_delays(self):
        """Raise ``ValueError`` if a synapse's delay exceeds its source's payload history."""
        for syn, source in zip(self.synapses, self.layers):
            if source.kind == "spikes":
                continue
            try:
                delays = syn.delay[:]
            except NotImplementedError:   # standalone: values exist only after the run
                continue
            steps = delay_steps(f"{syn.name}.delay", delays, defaultclock.dt)
            if steps.size and steps.max() > source.max_lag:
                raise ValueError(f"{syn.name}.delay must be <= {source.max_lag} steps "
                                 f"(max_delay of layer {source.index}); got {steps.max()}")

    def check_device(self):
        """Refuse to run Python ``network_operation``s (the learner) on a standalone device.

        Brian2 would silently skip them under cpp_standalone and brian2genn.
        """
        operations = [obj.name for obj in self.network.objects if isinstance(obj, NetworkOperation)]
        if operations and is_standalone():
            raise RuntimeError(
                f"{', '.join(operations)} is a Python network_operation, which Brian2 skips "
                "silently on a standalone device (cpp_standalone, genn). Train with the "
                "'numpy' or 'cython' target; use the standalone device for simulation only "
                "(remove the learner with learner.detach()).")

    def check_time_constants(self):
        """Raise ``ValueError`` if a layer's bucket time constant, as its namespace holds
        it now (a user may change it between runs), is not a finite time > 0."""
        for layer in self.layers[1:]:
            taus = layer.taus()
            if not np.all(np.isfinite(taus) & (taus > 0)):
                names = "tau_gamma" if "tau_gamma" in layer.group.namespace else "tau_1..tau_K"
                raise ValueError(f"{names} of layer {layer.index} ({layer.group.name}.namespace) "
                                 f"must be finite times > 0 ms, got {taus * 1e3} ms")

    def run(self, duration, report=None):
        """Check the inputs, time constants and device, then ``Network.run(duration)``."""
        check_time("duration", duration)
        self.check_time_constants()
        self.check_delays()
        self.check_device()
        self.network.run(duration, report=report)

    def set_input(self, signal=None, spikes=None, start=0 * ms):
        """Replace the input without rebuilding: ``signal`` (samples x channels, one sample
        per dt) for an analog input layer, ``spikes = (indices, times)`` for a spike layer;
        the new input begins at time ``start`` (e.g. the network's current time)."""
        layer = self.layers[0]
        if layer.kind == "analog":
            if signal is None:
                raise ValueError("signal must be given: the input layer is analog")
            set_stimulus(layer.group, check_signal(signal, layer.n), defaultclock.dt, start)
        else:
            if spikes is None:
                raise ValueError("spikes=(indices, times) must be given: the input layer is spikes")
            indices, times = check_spike_trains(layer.n, *spikes)
            layer.group.set_spikes(indices, times + start)

    def set_schedule(self, schedule):
        """Change the order of work inside a step between runs: 'exact' or 'genn'
        (``sgbrian.network``); the same objects, only their slots move."""
        for layer in self.layers:
            if layer.kind == "spikes":
                continue
            layer.schedule = schedule
            place_encoder(layer.group, layer.index, schedule)
        for syn, target in zip(self.synapses, self.layers[1:]):
            place_arrivals(syn, target.index, schedule)

    def replicate(self, copies):
        """A network of ``copies`` independent copies of this one, side by side.

        Layer l of the result has ``copies * n_l`` neurons; copy c holds neurons
        ``c n_l .. (c + 1) n_l - 1`` and is connected only to itself, with this network's
        weights, delays, bucket weights, biases, thresholds, time constants and schedule.
        No monitors; the input is empty until ``set_input``. Used for batched training.
        """
        copies = check_int("batch_size", copies, 1)
        dt = defaultclock.dt
        layers = []
        for layer in self.layers:
            g = layer.group
            if layer.kind == "spikes":
                layers.append(spike_layer(layer.n * copies, [], np.zeros(0) * ms))
                continue
            theta = np.tile(g.theta[:], copies)
            if layer.kind == "analog":
                layers.append(analog_layer(np.zeros((1, layer.n * copies)), dt, theta,
                                           layer.payload, layer.max_lag * dt))
                continue
            taus = layer.taus()
            v = np.stack([getattr(g, f"v_{k}")[:] for k in range(layer.K + 1)], axis=1)
            parameters = {name: np.tile(np.broadcast_to(getattr(g, name)[:], (layer.n,)), copies)
                          for name in layer.parameters}
            layers.append(neuron_layer(
                layer.n * copies, layer.K, (taus[0] if np.all(taus == taus[0]) else taus) * second,
                theta, index=layer.index, output=layer.output, bias=np.tile(g.b[:], copies),
                v=np.tile(v, (copies, 1)), payload=layer.payload, max_delay=layer.max_lag * dt,
                schedule=layer.schedule, drive=layer.drive, extra=layer.extra,
                parameters=parameters, namespace=layer.user_namespace(),
                method_options=g.state_updater.method_options if hasattr(
                    g.state_updater, "method_options") else None))
        synapses = []
        for l, syn in enumerate(self.synapses):
            n_pre, n_post = self.layers[l].n, self.layers[l + 1].n
            offsets = np.arange(copies)[:, None]
            steps = np.rint(np.asarray(syn.delay[:] / dt)).astype(int)
            homogeneous = int(steps) if steps.ndim == 0 else None
            steps = np.broadcast_to(steps, (len(syn),))
            synapses.append(connect_pairs(
                layers[l], layers[l + 1], (offsets * n_pre + syn.i[:]).ravel(),
                (offsets * n_post + syn.j[:]).ravel(), np.tile(syn.w[:], copies),
                np.tile(steps, copies), homogeneous))
        return SGNetwork(layers, synapses, [{} for _ in layers], self.seed)

    def clear_spike_queues(self):
        """Drop every event still in flight (runtime targets; between runs)."""
        for syn in self.synapses:
            queue = getattr(syn.pre, "queue", None)
            if queue is not None:
                queue._restore_from_full_state(None)

    def state_arrays(self):
        """Views of every state variable a sample leaves behind (buckets, r, q, payload
        ring buffers).

        Zeroing them returns the network to rest without rebuilding it; events still in
        flight then carry a zero payload (their lag entries are zeroed too).
        """
        arrays = []
        for layer in self.layers:
            if layer.kind == "spikes":
                continue
            names = [n for n in layer.group.variables
                     if n.startswith("U_") or n in ("r", "q")]
            arrays += [layer.group.variables[n].get_value() for n in names]
            if layer.history is not None:
                arrays.append(layer.history.buffer)
        return arrays


def _draw_delays(rng, shape, max_lag, random_delays, delay):
    if random_delays:
        return rng.integers(0, max_lag + 1, size=shape) * defaultclock.dt
    return np.full(shape, float(delay_steps("delay", delay, defaultclock.dt))) * defaultclock.dt


def feedforward(sizes, K=8, tau=5 * ms, theta=0.05, signal=None, sample_dt=None, spikes=None,
                delay=0 * ms, max_delay=None, random_delays=False, homogeneous_delay=False,
                p_connect=1.0, weight_scale=1.0, hidden="relu", output="linear",
                bucket_weights="neuron", payload="integer", schedule="exact", record=(), seed=0,
                drive=None, extra=None, parameters=None, namespace=None, method_options=None):
    """Build a feedforward SpikingGamma network ``sizes[0] -> ... -> sizes[-1]``.

    Input: ``signal`` (samples x sizes[0]) sampled every ``sample_dt`` (default dt),
    sigma-delta coded with ``theta``; or ``spikes = (indices, times)``.
    Weights: ``w ~ N(0, weight_scale^2 / max(1, p_connect * fan_in))`` (the expected
    number of inputs); connections kept with probability ``p_connect``. Delays: ``delay`` for all synapses, or with ``random_delays`` whole
    steps drawn uniformly from [0, max_delay]; ``max_delay`` may be a list with one time
    per connection. All draws come from
    ``numpy.random.default_rng(seed)``, per connection in this order: the mask, the
    weights, then (``random_delays``) the delays. Same seed, same network.
    ``payload``: 'integer' (default), 'binary' or 'analog' (``sgbrian.encoding``).
    ``schedule``: 'exact' (default) or 'genn' (``sgbrian.network``).
    ``record``: any of 'spikes', 'signals', 'buckets'.
    ``hidden``, ``output``: nonlinearities of the hidden layers and the readout (a name in
    ``sgbrian.equations.OUTPUTS`` or a ``Nonlinearity``). ``drive``, ``extra``,
    ``parameters``, ``namespace``, ``method_options``: extensions of every hidden layer
    (``sgbrian.network.neuron_layer``).
    """
    hidden, output = nonlinearity(hidden, "hidden"), nonlinearity(output, "output")
    if len(sizes) < 2:
        raise ValueError(f"sizes must list at least 2 layers, got {sizes!r}")
    sizes = [check_int(f"sizes[{l}]", s, 1) for l, s in enumerate(sizes)]
    seed = check_int("seed", seed, 0)
    for name in record:
        check_choice("record", name, RECORDABLE)
    if not 0 < p_connect <= 1:
        raise ValueError(f"p_connect must be in (0, 1], got {p_connect}")
    if (signal is None) == (spikes is None):
        raise ValueError("give exactly one input: signal=(samples x channels) or "
                         "spikes=(indices, times)")
    check_time("delay", delay, allow_zero=True)
    max_delay = delay if max_delay is None else max_delay
    max_delays = list(max_delay) if isinstance(max_delay, (list, tuple)) else \
        [max_delay] * (len(sizes) - 1)
    if len(max_delays) != len(sizes) - 1:
        raise ValueError(f"max_delay must be one time or {len(sizes) - 1} times (one per "
                         f"connection), got {len(max_delays)}")
    max_lags = [int(delay_steps("max_delay", d, defaultclock.dt)) for d in max_delays]
    rng = np.random.default_rng(seed)
    if signal is not None:
        signal = np.asarray(signal)
        channels = signal.shape[1] if signal.ndim == 2 else 1
        if channels != sizes[0]:
            raise ValueError(f"signal has {channels} channels but sizes[0] = {sizes[0]}")
        sample_dt = defaultclock.dt if sample_dt is None else check_time("sample_dt", sample_dt)
        layers = [analog_layer(signal, sample_dt, theta, payload,
                               max_delays[0])]
    else:
        layers = [spike_layer(sizes[0], *spikes)]
    synapses = []
    for l in range(1, len(sizes)):
        last = l == len(sizes) - 1
        layer = neuron_layer(sizes[l], K, tau, theta, index=l,
                             output=output if last else hidden, bucket_weights=bucket_weights,
                             payload=payload, max_delay=0 * ms if last else max_delays[l],
                             schedule=schedule,
                             **({} if last else dict(drive=drive, extra=extra,
                                                     parameters=parameters, namespace=namespace,
                                                     method_options=method_options)))
        shape = (sizes[l - 1], sizes[l])
        mask = rng.random(shape) < p_connect
        w = rng.normal(0.0, weight_scale / np.sqrt(max(1.0, p_connect * sizes[l - 1])), shape)
        homogeneous = homogeneous_delay and not random_delays
        d = delay if homogeneous else _draw_delays(rng, shape, max_lags[l - 1], random_delays,
                                                   delay)
        synapses.append(connect(layers[-1], layer, w, d, mask, homogeneous,
                                name=f"syn{l - 1}to{l}"))
        layers.append(layer)
    monitors = [monitors_for(layer, record) for layer in layers]
    return SGNetwork(layers, synapses, monitors, seed)
