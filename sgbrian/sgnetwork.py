"""The network object: :class:`SGNetwork`, a Brian2 ``Network`` with handles to its
layers, synapses and monitors (built by :func:`sgbrian.builder.feedforward`)."""
from dataclasses import replace

import numpy as np
from brian2 import Network, NetworkOperation, defaultclock, ms

from .encoding import check_signal, check_spike_trains, set_stimulus
from .layers import analog_layer, neuron_layer, place_encoder, spike_layer
from .network import connect_pairs, place_arrivals
from .targets import is_standalone
from .validation import check_int, check_time, delay_steps


class SGNetwork:
    """A Brian2 ``Network`` with handles to its layers, synapses and monitors.

    Everything is a plain Brian2 object: print ``layers[1].group.equations``, read or set
    ``layers[1].group.v_3``, ``synapses[0].w``, ``synapses[0].delay``.

    Parameters
    ----------
    layers : list of Layer
        Layer l; ``layers[l].group`` is its Brian2 group (layer 0: the input).
    synapses : list of Synapses
        ``synapses[l]`` connects layer l to layer l+1.
    monitors : list of dict
        ``monitors[l]``: that layer's monitors by kind ('spikes', 'signals', 'buckets').
    seed : int
        The seed the network was drawn with (kept for copies and checkpoints).
    """

    def __init__(self, layers, synapses, monitors, seed):
        self.layers, self.synapses, self.monitors, self.seed = layers, synapses, monitors, seed
        objects = [layer.group for layer in layers] + list(synapses)
        objects += [m for per_layer in monitors for m in per_layer.values()]
        self.network = Network(*objects)

    @property
    def readout(self):
        """The readout layer (the last :class:`~sgbrian.layers.Layer`)."""
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
        """Refuse to run Python ``network_operation`` objects (the learner) on a standalone device.

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
        """Check the inputs, time constants and device, then run the Brian2 network.

        Parameters
        ----------
        duration : Quantity
            Simulated time (a time > 0, e.g. ``200*ms``).
        report : str or callable, optional
            Brian2's progress report (``'text'``, ``'stdout'`` or a function), passed on.

        Raises
        ------
        ValueError
            A delay beyond its sender's payload history, or a time constant that is not a
            finite time > 0.
        RuntimeError
            A Python ``network_operation`` (the learner) on a standalone device.
        """
        check_time("duration", duration)
        self.check_time_constants()
        self.check_delays()
        self.check_device()
        self.network.run(duration, report=report)

    def set_input(self, signal=None, spikes=None, start=0 * ms):
        """Replace the input without rebuilding.

        Parameters
        ----------
        signal : array_like, optional
            Samples x channels, one sample per dt, for an analog input layer.
        spikes : tuple of (array_like, Quantity), optional
            ``(indices, times)`` for a spike input layer.
        start : Quantity
            Time at which the new input begins (e.g. the network's current time).

        Raises
        ------
        ValueError
            The input does not fit the input layer (shape, kind, indices or times).
        """
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
        """Change the order of work inside a step between runs; the same objects, only their
        slots move (``sgbrian.network``).

        Parameters
        ----------
        schedule : str
            'exact' (events cross zero-delay layers in the step they are sent) or 'genn'
            (one step of latency per layer, as in the GeNN export).
        """
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

        Parameters
        ----------
        copies : int
            Number of copies (>= 1).

        Returns
        -------
        SGNetwork
            The replicated network, each layer keeping its spec (thresholds tiled).
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
        """Views of every state variable a sample leaves behind.

        Zeroing them returns the network to rest without rebuilding it; events still in
        flight then carry a zero payload (their lag entries are zeroed too).

        Returns
        -------
        list of ndarray
            Buckets, ``r``, ``q`` and the payload ring buffers, as writable views.
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
