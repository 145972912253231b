"""The GeNN form of a network as plain data: what can be exported (and what is refused),
the spec (parameters, state, input of the window), the input's emitter copies, and the
counts and code report of an export."""
import os
from dataclasses import asdict, fields

import brian2
import numpy as np
from brian2 import NetworkOperation, second

from ..encoding import sigma_delta
from ..equations import unit_name
from ..nonlinearities import Nonlinearity, nonlinearity
from ..specs import NeuronSpec


FEATURES = [
    ("gamma-cascade buckets (exact propagator)", "state update code of the NeuronGroup"),
    ("sigma-delta encoder", "appended to the state update; threshold q != 0"),
    ("integer / binary / analog payload of a neuron layer",
     "read as q_pre: GeNN's delayed presynaptic variable (device 'sgbrian_genn')"),
    ("per-synapse delays", "one Synapses object per delay value"),
    ("homogeneous delay", "Synapses(delay=...) as is"),
    ("analog input (TimedArray)", "offline sigma-delta events, 2B emitter copies (sign x bit)"),
    ("spike-train input", "SpikeGeneratorGroup as is (impulse into bucket 1)"),
    ("state at the start of the export", "initial values of U_k, r, q"),
    ("learning plugin (network_operation)", "not exported: simulation only"),
    ("events in flight, per-synapse bucket weights, analog input payload", "refused (error)"),
]


#: How a user gets GeNN 4.9 for the export (tests print it when they skip).
GENN_HINT = ("set GENN_PATH to a built GeNN 4.9 (https://github.com/genn-team/genn, tag 4.9.0: "
             "unpack and run `make` in its root); in this project `make genn` builds it into "
             ".genn/ from ../shared/vendor/genn-4.9.0.tar.gz")


class GeNNExportError(ValueError):
    """A feature of the network has no exact GeNN form."""


def check_exportable(net):
    """Refuse a network with a feature that cannot be exported exactly.

    Parameters
    ----------
    net : SGNetwork
        The network.

    Raises
    ------
    GeNNExportError
        Naming the feature and what to do instead.
    """
    if any(isinstance(obj, NetworkOperation) for obj in net.network.objects):
        raise GeNNExportError("network_operation (the learning plugin) cannot run under GeNN: "
                              "call learner.detach() and export the trained network for "
                              "simulation only")
    for layer in net.layers[1:]:
        if layer.bucket_weights != "neuron":
            raise GeNNExportError(f"layer {layer.index}: per-synapse bucket weights use a summed "
                                  "variable brian2genn does not support; build the network with "
                                  "bucket_weights='neuron'")
    for layer in net.layers[1:]:
        eqs = layer.extra_equations()
        flagged = sorted(name for name in eqs.names
                         if {"linked", "summed"} & set(getattr(eqs[name], "flags", ())))
        if flagged:
            raise GeNNExportError(f"layer {layer.index}: the extra variables {flagged} are linked "
                                  "or summed inputs from other groups, which brian2genn does not "
                                  "support; export the network without them")
    if net.layers[0].kind == "analog" and net.layers[0].payload == "analog":
        raise GeNNExportError("an analog input layer with payload='analog' sends real-valued "
                              "payloads a spike generator cannot carry; use 'integer' or "
                              "'binary' payloads for the input")
    busy = [syn.name for syn in net.synapses if events_in_flight(syn)]
    if busy:
        raise GeNNExportError(f"events are in flight in {', '.join(busy)}; the export starts "
                              "without them: call net.clear_spike_queues() first (and compare "
                              "with a runtime that also starts without them)")


def events_in_flight(syn):
    """Number of events queued in the ``pre`` pathway of Brian2 synapses.

    Parameters
    ----------
    syn : Synapses
        The synapses.

    Returns
    -------
    int
        Events queued (0 without a queue).
    """
    queue = getattr(syn.pre, "queue", None)
    if queue is None:
        return 0
    state = queue._full_state()
    if hasattr(queue, "_extract_spikes"):          # numpy SpikeQueue: (dt, pairs, shape)
        return len(state[1])
    return sum(len(step) for step in state[1])     # Cython SpikeQueue: (offset, queues)


def network_spec(net, duration):
    """A plain description (lists and numbers) of a network for a window from now:
    parameters, the state of every layer (buckets ``U_k``, encoder ``r`` and ``q``), and
    the input of ``[t, t + duration)`` with steps counted from the network's time ``t``.

    Parameters
    ----------
    net : SGNetwork
        The network.
    duration : Quantity
        Length of the window.

    Returns
    -------
    dict
        ``dt``, ``steps``, ``start_step``, ``input``, ``layers`` and ``connections``.

    Raises
    ------
    GeNNExportError
        A feature that cannot be exported (:func:`check_exportable`).
    """
    check_exportable(net)
    dt = net.layers[1].group.clock.dt
    steps = int(round(float(duration / dt)))
    start = int(round(float(net.network.t / dt)))
    spec = {"dt": float(dt / second), "steps": steps, "start_step": start,
            "input": _input_spec(net.layers[0], start, steps, dt),
            "layers": [_layer_spec(layer) for layer in net.layers[1:]], "connections": []}
    for syn in net.synapses:
        delay = np.broadcast_to(np.rint(syn.delay[:] / dt).astype(int), (len(syn),))
        spec["connections"].append({"pre": syn.i[:].tolist(), "post": syn.j[:].tolist(),
                                    "w": syn.w[:].tolist(), "delay": delay.tolist()})
    return spec


def _input_spec(layer, start, steps, dt):
    """Input events of the window: sigma-delta payloads (analog) or spike steps."""
    if layer.kind == "analog":
        group = layer.group
        times = (start + np.arange(steps)) * float(dt / second) * second
        stimulus = group.namespace["stimulus"]
        y = np.stack([stimulus(times - group.t_offset[:], np.full(steps, i))
                      for i in range(layer.n)], axis=1)
        theta = group.theta[:].copy()
        q, _ = sigma_delta(y, theta, layer.payload, level=group.r[:].copy())
        return {"kind": "analog", "n": layer.n, "q": q.tolist(), "theta": theta.tolist(),
                "payload": layer.payload}
    spike_steps = np.rint(layer.group._spike_time[:] / float(dt / second)).astype(int) - start
    inside = (spike_steps >= 0) & (spike_steps < steps)
    return {"kind": "spikes", "n": layer.n,
            "indices": layer.group._neuron_index[:][inside].tolist(),
            "steps": spike_steps[inside].tolist()}


def _layer_spec(layer):
    """A neuron layer as plain data: its spec as it stands now (:func:`spec_record`),
    bucket weights, biases and state."""
    g = layer.group
    extra = [n for n in layer.extra_equations().names
             if n in g.variables and hasattr(g.variables[n], "get_value")]
    return {"n": layer.n, "max_lag": layer.max_lag, "spec": spec_record(layer.current_spec()),
            "v": np.stack([getattr(g, f"v_{k}")[:] for k in range(layer.K + 1)], 1).tolist(),
            "b": g.b[:].tolist(),
            "state": {name: np.asarray(g.variables[name].get_value()).tolist()
                      for name in [f"U_{k}" for k in range(layer.K + 1)] + ["r", "q"] + extra}}


def _parameters_record(parameters):
    return {name: {"values": np.asarray(value).tolist(), "unit": unit_name(value)}
            for name, value in (parameters or {}).items()} or None


def _parameters_value(record):
    return {name: np.asarray(p["values"]) * eval(p["unit"], vars(brian2))
            for name, p in (record or {}).items()} or None


#: How a NeuronSpec field that is not plain data is written (and read back): times in
#: seconds, the output nonlinearity as its three strings, parameters as values and unit,
#: the user's constants as reprs, equations as text. Other fields are written as they are.
RECORD_CODECS = {
    "tau": (lambda tau: np.asarray(tau / second, dtype=float).tolist(),
            lambda seconds: np.asarray(seconds) * second),
    "theta": (lambda theta: np.asarray(theta, dtype=float).tolist(), np.asarray),
    "output": (lambda output: asdict(nonlinearity(output)), lambda d: Nonlinearity(**d)),
    "extra": (lambda extra: None if extra is None else str(extra), lambda text: text),
    "parameters": (_parameters_record, _parameters_value),
    "namespace": (lambda ns: {k: repr(v) for k, v in (ns or {}).items()} or None,
                  lambda ns: {k: eval(v, vars(brian2)) for k, v in (ns or {}).items()} or None),
}


#: The codec of a field written as it is.
PLAIN = (lambda value: value, lambda value: value)


def spec_record(spec):
    """A :class:`~sgbrian.specs.NeuronSpec` as JSON data, field by field
    (``RECORD_CODECS``); :func:`spec_from_record` reads it back.

    Parameters
    ----------
    spec : NeuronSpec
        The spec.

    Returns
    -------
    dict
        One JSON value per field.
    """
    return {f.name: RECORD_CODECS.get(f.name, PLAIN)[0](getattr(spec, f.name))
            for f in fields(spec)}


def spec_from_record(record):
    """The :class:`~sgbrian.specs.NeuronSpec` written by :func:`spec_record`.

    Parameters
    ----------
    record : dict
        The record.

    Returns
    -------
    NeuronSpec
        The spec.
    """
    return NeuronSpec(**{name: RECORD_CODECS.get(name, PLAIN)[1](value)
                         for name, value in record.items()})


def payload_bits(q):
    """Bits of the largest ``|q|`` (at least 1): the emitter copies carry bits 0..B-1.

    Parameters
    ----------
    q : array_like
        Integer payloads.

    Returns
    -------
    int
        B.

    Examples
    --------
    >>> payload_bits([3, -5, 1])       # |q| <= 5 needs bits 0, 1 and 2
    3
    """
    largest = int(np.max(np.abs(np.asarray(q, dtype=float)), initial=1))
    return max(1, largest.bit_length())


def emitter_factor(copy):
    """Payload carried by an emitter copy: ``s * 2^b`` (s = +1 for even copies).

    Parameters
    ----------
    copy : int
        The copy c (sign ``s = 1 - 2 (c mod 2)``, bit ``b = c // 2``).

    Returns
    -------
    int
        Its payload.

    Examples
    --------
    >>> [emitter_factor(c) for c in range(6)]
    [1, -1, 2, -2, 4, -4]
    """
    return (1 - 2 * (copy % 2)) * 2 ** (copy // 2)


def emitter_events(q):
    """Spread integer payloads over ``2B`` emitter copies.

    Copy ``c`` (sign ``s = 1 - 2 (c mod 2)``, bit ``b = c // 2``) of channel i fires at
    step n when ``s q >= 1`` and bit b of ``|q|`` is set; the payload is recovered as the
    sum of :func:`emitter_factor` over the copies that fired.

    Parameters
    ----------
    q : array_like
        Payloads, steps x channels.

    Returns
    -------
    bits : int
        B.
    indices : ndarray
        ``c * channels + i`` of each emission.
    steps : ndarray
        Its step.

    Raises
    ------
    GeNNExportError
        A payload that is not an integer.
    """
    q = np.asarray(q, dtype=float)
    if np.any(q != np.round(q)):
        raise GeNNExportError("emitter copies carry integer payloads only")
    bits = payload_bits(q)
    steps, channels = np.nonzero(q)
    values = q[steps, channels].astype(np.int64)
    indices, when = [], []
    for copy in range(2 * bits):
        sign, bit = 1 - 2 * (copy % 2), copy // 2
        fires = (sign * values >= 1) & ((np.abs(values) >> bit) & 1 == 1)
        indices.append(copy * q.shape[1] + channels[fires])
        when.append(steps[fires])
    return bits, np.concatenate(indices), np.concatenate(when)


def synapse_counts(spec):
    """Synapses of the export per connection, and of the runtime network.

    Parameters
    ----------
    spec : dict
        A :func:`network_spec`.

    Returns
    -------
    dict
        ``runtime`` and ``genn`` (lists per connection) and ``input_copies``.
    """
    inp = spec["input"]
    copies = 2 * payload_bits(inp["q"]) if inp["kind"] == "analog" else 1
    runtime = [len(c["w"]) for c in spec["connections"]]
    return {"runtime": runtime, "genn": [runtime[0] * copies] + runtime[1:],
            "input_copies": copies}


def gpu_memory_bytes(n_neurons, K, fan_in, max_delay_steps=0, bytes_per_value=8):
    """Estimated GPU memory of one exported neuron layer: neuron state ``(2(K+1) + 4)``
    values, ``q`` and ``theta`` kept in GeNN's delay queue (``max_delay_steps + 1`` slots
    each), one weight and one sparse index (4 bytes) per synapse, and a spike queue (one
    int per neuron per slot).

    Parameters
    ----------
    n_neurons : int
        Neurons of the layer.
    K : int
        Buckets.
    fan_in : int
        Synapses per neuron.
    max_delay_steps : int
        Longest delay of its outgoing synapses, in steps.
    bytes_per_value : int
        8 (double) or 4 (float).

    Returns
    -------
    int
        Bytes.
    """
    slots = max_delay_steps + 1
    neurons = n_neurons * (((2 * (K + 1) + 4) + 2 * slots) * bytes_per_value + 4 * slots)
    synapses = n_neurons * fan_in * (bytes_per_value + 4)
    return neurons + synapses


def code_report(directory, spec):
    """Size of the generated GeNN model and of the network it holds.

    Parameters
    ----------
    directory : str
        The export's folder.
    spec : dict
        Its :func:`network_spec`.

    Returns
    -------
    dict
        Lines, model counts, what the code contains, synapse counts, features.
    """
    model = os.path.join(directory, "magicnetwork_model.cpp")
    text = open(model).read() if os.path.exists(model) else ""
    return {"model_file": model, "model_lines": text.count("\n"),
            "neuron_models": text.count("NeuronModels::Base"),
            "synapse_models": text.count("WeightUpdateModels::Base"),
            "has_cascade_update": "exp(" in text and "U_1" in text,
            "reads_delayed_payload": "$(q_pre)" in text,
            "synapses": synapse_counts(spec), "features": FEATURES}
