"""A small builder for layered feedforward SpikingGamma networks."""
from dataclasses import replace

import numpy as np
from brian2 import Network, NetworkOperation, defaultclock, ms

from .encoding import check_signal, check_spike_trains, set_stimulus
from .targets import is_standalone

from .network import (analog_layer, connect, connect_pairs, monitors_for, neuron_layer,
                      place_arrivals, place_encoder, spike_layer)
from .equations import nonlinearity
from .specs import EXTENSIONS, UNSET, ConnectionSpec, NeuronSpec, from_keywords
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
            layer.set_schedule(schedule)
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
            v = np.stack([getattr(g, f"v_{k}")[:] for k in range(layer.K + 1)], axis=1)
            spec = layer.current_spec()
            spec = replace(spec, theta=theta, parameters={
                name: np.tile(value, copies) for name, value in (spec.parameters or {}).items()}
                or None)
            layers.append(neuron_layer(layer.n * copies, index=layer.index,
                                       bias=np.tile(g.b[:], copies), v=np.tile(v, (copies, 1)),
                                       max_delay=layer.max_lag * dt, spec=spec))
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


def feedforward(sizes, *, neuron=None, readout=None, connection=None, signal=None,
                sample_dt=None, spikes=None, encoder_theta=None, record=(), seed=0,
                K=UNSET, tau=UNSET, theta=UNSET, hidden=UNSET, output=UNSET,
                bucket_weights=UNSET, payload=UNSET, schedule=UNSET, drive=UNSET, extra=UNSET,
                parameters=UNSET, namespace=UNSET, method_options=UNSET, delay=UNSET,
                max_delay=UNSET, random_delays=UNSET, homogeneous_delay=UNSET,
                p_connect=UNSET, weight_scale=UNSET):
    """Build a feedforward SpikingGamma network ``sizes[0] -> ... -> sizes[-1]``.

    Settings as specs (:mod:`sgbrian.specs`): ``neuron`` (a ``NeuronSpec``) for every
    hidden layer, ``readout`` for the last layer (default: ``neuron`` with a linear
    output and without its extensions), ``connection`` (a ``ConnectionSpec``) for every
    connection. Or the same settings as keywords, as before the specs (not both): ``K``,
    ``tau``, ``theta``, ``bucket_weights``, ``payload``, ``schedule`` for every layer,
    ``hidden`` and ``output`` the nonlinearities of the hidden layers and the readout,
    ``drive``, ``extra``, ``parameters``, ``namespace``, ``method_options`` the hidden
    layers' extensions, and ``delay``, ``max_delay``, ``random_delays``,
    ``homogeneous_delay``, ``p_connect``, ``weight_scale`` the connections'.

    Input: ``signal`` (samples x sizes[0]) sampled every ``sample_dt`` (default dt),
    sigma-delta coded with threshold ``encoder_theta`` (default the neurons' ``theta``)
    and the neurons' payload; or ``spikes = (indices, times)``.
    Weights: ``w ~ N(0, weight_scale^2 / max(1, p_connect * fan_in))`` (the expected
    number of inputs); connections kept with probability ``p_connect``. Delays: ``delay`` for all synapses, or with ``random_delays`` whole
    steps drawn uniformly from [0, max_delay]; ``max_delay`` may be a list with one time
    per connection. All draws come from
    ``numpy.random.default_rng(seed)``, per connection in this order: the mask, the
    weights, then (``random_delays``) the delays. Same seed, same network.
    ``record``: any of 'spikes', 'signals', 'buckets'.
    """
    neuron, readout = layer_specs(neuron, readout, hidden=hidden, output=output, K=K, tau=tau,
                                  theta=theta, bucket_weights=bucket_weights, payload=payload,
                                  schedule=schedule, drive=drive, extra=extra,
                                  parameters=parameters, namespace=namespace,
                                  method_options=method_options)
    connection = from_keywords(ConnectionSpec, connection, "connection", delay=delay,
                               max_delay=max_delay, random_delays=random_delays,
                               homogeneous_delay=homogeneous_delay, p_connect=p_connect,
                               weight_scale=weight_scale)
    nonlinearity(neuron.output, "hidden"), nonlinearity(readout.output, "output")
    if len(sizes) < 2:
        raise ValueError(f"sizes must list at least 2 layers, got {sizes!r}")
    sizes = [check_int(f"sizes[{l}]", s, 1) for l, s in enumerate(sizes)]
    seed = check_int("seed", seed, 0)
    for name in record:
        check_choice("record", name, RECORDABLE)
    if not 0 < connection.p_connect <= 1:
        raise ValueError(f"p_connect must be in (0, 1], got {connection.p_connect}")
    if (signal is None) == (spikes is None):
        raise ValueError("give exactly one input: signal=(samples x channels) or "
                         "spikes=(indices, times)")
    max_delays, max_lags = connection_max_delays(connection, len(sizes) - 1)
    rng = np.random.default_rng(seed)
    layers = [input_layer(sizes[0], signal, sample_dt, spikes, max_delays[0],
                          neuron.theta if encoder_theta is None else encoder_theta,
                          neuron.payload)]
    synapses = []
    for l in range(1, len(sizes)):
        last = l == len(sizes) - 1
        layer = neuron_layer(sizes[l], index=l, max_delay=0 * ms if last else max_delays[l],
                             spec=readout if last else neuron)
        synapses.append(draw_connection(rng, layers[-1], layer, connection, max_lags[l - 1]))
        layers.append(layer)
    monitors = [monitors_for(layer, record) for layer in layers]
    return SGNetwork(layers, synapses, monitors, seed)


def layer_specs(neuron, readout, hidden=UNSET, output=UNSET, **shared):
    """The hidden layers' and the readout's :class:`NeuronSpec` from the specs and/or
    ``feedforward``'s keywords: ``hidden`` is the hidden layers' output nonlinearity,
    ``output`` the readout's; the other keywords apply to every layer (the extensions to
    the hidden ones). Without ``readout``, it is ``neuron`` with a linear (or
    ``output``) nonlinearity and no extensions."""
    neuron = from_keywords(NeuronSpec, neuron, "neuron", output=hidden, **shared)
    if readout is None:
        return neuron, replace(neuron, output="linear" if output is UNSET else output,
                               **{name: None for name in EXTENSIONS})
    given = sorted(k for k, v in dict(shared, output=output).items() if v is not UNSET)
    if given:
        raise ValueError(f"with readout= give {', '.join(given)} in the specs, not as "
                         "keywords (they would apply to every layer)")
    return neuron, from_keywords(NeuronSpec, readout, "readout")


def connection_max_delays(connection, count):
    """The longest delay of each of ``count`` connections, as times and as whole steps:
    ``connection.max_delay`` (one time, or a list of ``count``), default
    ``connection.delay``."""
    check_time("delay", connection.delay, allow_zero=True)
    max_delay = connection.delay if connection.max_delay is None else connection.max_delay
    max_delays = list(max_delay) if isinstance(max_delay, (list, tuple)) else [max_delay] * count
    if len(max_delays) != count:
        raise ValueError(f"max_delay must be one time or {count} times (one per "
                         f"connection), got {len(max_delays)}")
    return max_delays, [int(delay_steps("max_delay", d, defaultclock.dt)) for d in max_delays]


def input_layer(n, signal, sample_dt, spikes, max_delay, theta, payload):
    """The input layer: ``signal`` (samples x n) sigma-delta coded with ``theta``, or
    ``spikes = (indices, times)``."""
    if signal is None:
        return spike_layer(n, *spikes)
    signal = np.asarray(signal)
    channels = signal.shape[1] if signal.ndim == 2 else 1
    if channels != n:
        raise ValueError(f"signal has {channels} channels but sizes[0] = {n}")
    sample_dt = defaultclock.dt if sample_dt is None else check_time("sample_dt", sample_dt)
    return analog_layer(signal, sample_dt, theta, payload, max_delay)


def draw_connection(rng, source, target, connection, max_lag):
    """Synapses ``source -> target`` drawn from ``rng`` in this order: the mask (each pair
    with probability ``p_connect``), the weights, then (``random_delays``) the delays in
    whole steps from [0, ``max_lag``]."""
    shape = (source.n, target.n)
    mask = rng.random(shape) < connection.p_connect
    w = rng.normal(0.0, connection.weight_scale / np.sqrt(max(1.0, connection.p_connect * shape[0])),
                   shape)
    homogeneous = connection.homogeneous_delay and not connection.random_delays
    d = connection.delay if homogeneous else _draw_delays(rng, shape, int(max_lag),
                                                          connection.random_delays,
                                                          connection.delay)
    return connect(source, target, w, d, mask, homogeneous,
                   name=f"syn{source.index}to{target.index}")
