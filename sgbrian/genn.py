"""Export a (trained) SpikingGamma network to GeNN through brian2genn, and check it.

brian2genn refuses several things the runtime network uses. The export rewrites each
into a form GeNN accepts, or raises :class:`GeNNExportError` naming the feature:

| runtime feature | GeNN form |
|---|---|
| learner (``network_operation``) | refused: ``learner.detach()`` first (simulation only) |
| per-synapse delays | one ``Synapses`` object per delay value (homogeneous ``delay=``) |
| graded payload of a neuron layer (the runtime reads its sender's payload ring buffer at delivery, ``sgbrian.history``) | ``U_0_post += w*theta_pre*q_pre``: GeNN keeps a delay queue of every presynaptic variable that synapse code reads, so ``q_pre`` is the payload of the emission step. brian2genn 1.7 refuses presynaptic reads in ``on_pre``; the device ``'sgbrian_genn'`` (a subclass of brian2genn's device, registered in the export's process) lifts that one check |
| encoder in a ``run_regularly`` at a custom slot (refused) | appended to the state update (``method_options={'then': ...}``) |
| analog input through a ``TimedArray`` (refused) | sigma-delta encoded offline from the encoder's current level; a ``SpikeGeneratorGroup`` of ``2B`` emitter copies (sign s, bit b of ``|q|``), whose synapses carry ``s 2^b theta w`` |
| spike-train input | ``SpikeGeneratorGroup`` (impulse into bucket 1) |
| state at the start of the export (buckets, encoder level) | initial values of the GeNN variables |
| events in flight at the start (delays) | refused: ``net.clear_spike_queues()`` first |
| analog payloads on the input layer, per-synapse bucket weights | refused |

Only the input layer has emitter copies: ``2B n_in`` generator neurons, ``2B`` times the
input synapses. Every neuron layer and its synapses are one-to-one with the runtime.

brian2genn 1.7 implements ``int()`` for GeNN as ``int_(const bool)`` (any non-zero value
becomes 1) and ``clip()`` through ``float``. The export's process registers correct GeNN
implementations (truncation towards zero as in Brian2; ``clip`` in double).

Schedule: GeNN adds arriving events to the tap before the neuron update and delivers a
spike emitted at step n from step n+1 on. The runtime's ``schedule='genn'``
(``sgbrian.network``) reproduces that order, and a GeNN run equals it event for event
(index, step, payload) with no shift; :func:`compare_with_runtime` checks it.
"""
import json
import os
import subprocess
import sys
import time

import numpy as np
from brian2 import NetworkOperation, ms, second

from .encoding import payload_expression, sigma_delta
from .equations import unit_name
from .history import PayloadHistory
from .network import layer_taus, monitors_for
from .validation import check_choice

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
    """Raise :class:`GeNNExportError` naming any feature that cannot be exported exactly."""
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
    """Number of events queued in the ``pre`` pathway of Brian2 ``Synapses`` ``syn``."""
    queue = getattr(syn.pre, "queue", None)
    if queue is None:
        return 0
    state = queue._full_state()
    if hasattr(queue, "_extract_spikes"):          # numpy SpikeQueue: (dt, pairs, shape)
        return len(state[1])
    return sum(len(step) for step in state[1])     # Cython SpikeQueue: (offset, queues)


def network_spec(net, duration):
    """A plain description (lists and numbers) of ``net`` for ``duration`` from now.

    Parameters, the state of every layer (buckets ``U_k``, encoder ``r`` and ``q``), and
    the input of the window ``[t, t + duration)`` with steps counted from the network's
    current time ``t``.
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
    g = layer.group
    K = layer.K
    extra = [n for n in layer.extra_equations().names
             if n in g.variables and hasattr(g.variables[n], "get_value")]
    options = getattr(g.state_updater, "method_options", None) or {}
    return {"n": layer.n, "K": K, "taus": layer_taus(layer).tolist(), "payload": layer.payload,
            "output": {"name": layer.output.name, "expression": layer.output.expression,
                       "derivative": layer.output.derivative},
            "max_lag": layer.max_lag, "drive": layer.drive,
            "extra": None if layer.extra is None else str(layer.extra),
            "parameters": {name: np.broadcast_to(getattr(g, name)[:], (layer.n,)).tolist()
                           for name in layer.parameters},
            "parameter_units": {name: unit_name(getattr(g, name)[:]) for name in layer.parameters},
            "namespace": {k: repr(v) for k, v in layer.user_namespace().items()},
            "others": options.get("others"),
            "v": np.stack([getattr(g, f"v_{k}")[:] for k in range(K + 1)], 1).tolist(),
            "b": g.b[:].tolist(), "theta": g.theta[:].tolist(),
            "state": {name: np.asarray(g.variables[name].get_value()).tolist()
                      for name in [f"U_{k}" for k in range(K + 1)] + ["r", "q"] + extra}}


def payload_bits(q):
    """Bits of the largest ``|q|`` (at least 1): the emitter copies carry bits 0..B-1."""
    largest = int(np.max(np.abs(np.asarray(q, dtype=float)), initial=1))
    return max(1, largest.bit_length())


def emitter_factor(copy):
    """Payload carried by emitter copy ``copy``: ``s * 2^b`` (s = +1 for even copies)."""
    return (1 - 2 * (copy % 2)) * 2 ** (copy // 2)


def emitter_events(q):
    """Spread integer payloads ``q`` (steps x channels) over ``2B`` emitter copies.

    Copy ``c`` (sign ``s = 1 - 2 (c mod 2)``, bit ``b = c // 2``) of channel i fires at
    step n when ``s q >= 1`` and bit b of ``|q|`` is set. Returns ``(B, indices, steps)``
    with indices ``c * channels + i``; the payload is recovered as the sum of
    :func:`emitter_factor` over the copies that fired.
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


def genn_objects(spec, prefix="", delayed_reads="genn"):
    """Brian2 objects of the GeNN form of ``spec`` (create after ``set_device``).

    ``delayed_reads='genn'``: synapses read ``q_pre``, which GeNN delays by the synapse's
    delay (the export). ``'history'``: they read the sender's payload ring buffer
    (``sgbrian.history``), so that Brian2's runtime, which reads presynaptic variables at
    delivery, runs the same form (a check of the rewrite without GeNN).
    Returns ``(objects, monitors)``; ``monitors[l]`` is the SpikeMonitor of layer l.
    """
    from brian2 import SpikeGeneratorGroup, SpikeMonitor, Synapses
    check_choice("delayed_reads", delayed_reads, ("genn", "history"))
    dt = spec["dt"] * second
    inp = spec["input"]
    if inp["kind"] == "analog":
        bits, indices, steps = emitter_events(inp["q"])
        copies = 2 * bits
        source = SpikeGeneratorGroup(copies * inp["n"], indices, steps * dt,
                                     name=f"{prefix}genn_input")
        factor = np.repeat([emitter_factor(c) for c in range(copies)], inp["n"])
        scale = factor * np.tile(inp["theta"], copies)
    else:
        source = SpikeGeneratorGroup(inp["n"], inp["indices"], np.asarray(inp["steps"]) * dt,
                                     name=f"{prefix}genn_input")
        copies, scale = 1, np.ones(inp["n"])
    objects, monitors = [source], [SpikeMonitor(source, name=f"{prefix}genn_input_spikes")]
    source_history = None
    for l, layer in enumerate(spec["layers"]):
        history = None
        if delayed_reads == "history" and layer["max_lag"] > 0:
            history = PayloadHistory(f"{prefix}genn_layer{l + 1}", layer["n"], layer["max_lag"])
        group = _neuron_group(layer, history, f"{prefix}genn_layer{l + 1}")
        conn = spec["connections"][l]
        pre, post, w, delay = (np.asarray(conn[k]) for k in ("pre", "post", "w", "delay"))
        for d in np.unique(delay):
            sel = delay == d
            if l == 0:
                target = "U_1_post" if inp["kind"] == "spikes" else "U_0_post"
                on_pre = f"{target} += w"
                i = (np.arange(copies)[:, None] * inp["n"] + pre[sel][None, :]).ravel()
                j = np.tile(post[sel], copies)
                weights = scale[i] * np.tile(w[sel], copies)
            else:
                payload = "q_pre" if source_history is None else payload_expression(d, d)
                on_pre = f"U_0_post += w*theta_pre*{payload}"
                i, j, weights = pre[sel], post[sel], w[sel]
            syn = Synapses(source, group, "w : 1", on_pre=on_pre, delay=d * dt,
                           namespace=source_history.namespace() if source_history else {},
                           name=f"{prefix}genn_syn{l}to{l + 1}_d{d}")
            syn.connect(i=i, j=j)
            syn.w = weights
            objects.append(syn)
        objects.append(group)
        monitors.append(SpikeMonitor(group, variables=["q"], name=f"{prefix}genn_layer{l + 1}_spikes"))
        source, source_history = group, history
    return objects + monitors, monitors


def _neuron_group(layer, history, name):
    """One neuron layer: cascade and encoder in the state update, state from the spec;
    with a ``history`` the encoder also stores its payloads there."""
    import brian2
    from brian2 import NeuronGroup
    from .encoding import encoder_code, encoder_equations
    from .equations import Nonlinearity, neuron_equations
    taus = np.asarray(layer["taus"])
    tau = taus[0] * second if np.all(taus == taus[0]) else taus * second
    units = vars(brian2)
    parameters = {k: np.asarray(v) * eval(layer["parameter_units"][k], dict(units))
                  for k, v in layer["parameters"].items()}
    eqs, namespace = neuron_equations(layer["K"], tau, Nonlinearity(**layer["output"]),
                                      drive=layer["drive"], extra=layer["extra"],
                                      parameters=parameters)
    namespace.update({k: eval(v, units) for k, v in layer["namespace"].items()})
    if history is not None:
        namespace.update(history.namespace())
    code = encoder_code(layer["payload"], history=history is not None)
    options = {"then": code, **({"others": layer["others"]} if layer["others"] else {})}
    group = NeuronGroup(layer["n"], eqs + encoder_equations(), threshold="q != 0", reset="",
                        method="gamma_cascade", method_options=options,
                        namespace=namespace, name=name)
    v = np.asarray(layer["v"])
    for k in range(layer["K"] + 1):
        setattr(group, f"v_{k}", v[:, k])
    group.b, group.theta = layer["b"], layer["theta"]
    for variable, values in parameters.items():
        setattr(group, variable, values)
    for variable, values in layer["state"].items():
        setattr(group, variable, np.asarray(values))
    return group


def decode_events(monitors, spec, dt):
    """Events of every layer as sorted ``(step, index, payload)`` tuples.

    Input copies are summed back into payloads (analog input); spike inputs carry 1.
    """
    out = []
    for l, monitor in enumerate(monitors):
        steps = np.rint(np.asarray(monitor.t / dt)).astype(int).tolist()
        idx = np.asarray(monitor.i[:]).tolist()
        if l > 0:
            q = np.asarray(monitor.q[:], dtype=float).tolist()
            out.append(sorted(zip(steps, idx, q)))
        elif spec["input"]["kind"] == "spikes":
            out.append(sorted((s, i, 1.0) for s, i in zip(steps, idx)))
        else:
            n, payload = spec["input"]["n"], {}
            for s, i in zip(steps, idx):
                key = (s, i % n)
                payload[key] = payload.get(key, 0) + emitter_factor(i // n)
            out.append(sorted((s, i, float(q)) for (s, i), q in payload.items() if q))
    return out


def runtime_events(net, duration):
    """Run ``net`` for ``duration`` with ``schedule='genn'`` from its current state.

    Returns every layer's events as sorted ``(step, index, payload)`` tuples, steps
    counted from the start of the run; the network's schedule is restored afterwards.
    """
    dt = net.layers[1].group.clock.dt
    start = int(round(float(net.network.t / dt)))
    monitors = [monitors_for(layer, ("spikes",))["spikes"] for layer in net.layers]
    previous = net.layers[1].schedule
    net.network.add(*monitors)
    try:
        net.set_schedule("genn")
        net.run(duration)
    finally:
        net.set_schedule(previous)
        net.network.remove(*monitors)
    out = []
    for layer, monitor in zip(net.layers, monitors):
        steps = (np.rint(np.asarray(monitor.t / dt)).astype(int) - start).tolist()
        q = monitor.q[:] if layer.kind != "spikes" else np.ones(len(steps))
        out.append(sorted(zip(steps, np.asarray(monitor.i[:]).tolist(),
                              np.asarray(q, dtype=float).tolist())))
    return out


def agreement(expected, got):
    """Per layer: events in each list and in both (same step, index and payload)."""
    rows = []
    for l, (a, b) in enumerate(zip(expected, got)):
        both = len(set(a) & set(b))
        rows.append({"layer": l, "runtime": len(a), "genn": len(b), "matching": both,
                     "equal": a == b})
    return rows


def run_specs(specs, directory, build=True, use_gpu=False):
    """Generate (and with ``build``, compile and run) the GeNN model of ``specs``.

    Several specs with the same dt share one GeNN model (names prefixed ``n0_``, ...);
    it runs for the longest, and each spec keeps the events of its own duration.
    Runs brian2genn in a fresh process (one ``run()`` per process). Returns a dict with
    ``events`` (per spec, per layer, as :func:`decode_events`), ``build_s`` (code
    generation and compilation), ``run_s`` (GeNN's own run time) and ``wall_s``.
    """
    if build and not genn_path():
        raise GeNNExportError(f"build=True needs GeNN 4.9: {GENN_HINT}")
    if len({s["dt"] for s in specs}) != 1:
        raise GeNNExportError("networks in one GeNN model must share dt (one clock)")
    os.makedirs(directory, exist_ok=True)
    spec_path = os.path.join(directory, "sgbrian_spec.json")
    with open(spec_path, "w") as f:
        json.dump({"specs": specs, "build": build, "use_gpu": use_gpu}, f)
    env = dict(os.environ, GENN_PATH=genn_path() or "")
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "sgbrian.genn", spec_path, directory],
                            capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"brian2genn failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
    with open(os.path.join(directory, "sgbrian_events.json")) as f:
        out = json.load(f)
    out["wall_s"] = wall
    if build:
        out["build_s"] = wall - out["run_s"]
        out["events"] = [[[tuple(e) for e in layer] for layer in spec] for spec in out["events"]]
    return out


def genn_path():
    """``GENN_PATH`` if set, else the project's own build in ``.genn/`` (``make genn``)."""
    if os.environ.get("GENN_PATH"):
        return os.environ["GENN_PATH"]
    local = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                         ".genn", "genn-4.9.0")
    return local if os.path.exists(os.path.join(local, "lib", "libgenn.a")) else None


def export_genn(net, directory, duration, build=False, use_gpu=False):
    """Write the GeNN model of ``net`` for ``duration`` from its current state.

    Runs brian2genn code generation in a fresh process; with ``build=True`` (GeNN 4.9
    found by :func:`genn_path`) also compiles and runs it (``use_gpu``: the CUDA
    backend; default GeNN's CPU backend). Returns a report dict (features, synapse and
    neuron counts, code size, timings, and with ``build`` the decoded events).
    """
    spec = network_spec(net, duration)
    result = run_specs([spec], directory, build=build, use_gpu=use_gpu)
    report = code_report(directory, spec)
    report["codegen_seconds"] = result["wall_s"]
    if build:
        report.update(build_s=result["build_s"], run_s=result["run_s"],
                      run_s_per_sim_s=result["run_s"] / (spec["steps"] * spec["dt"]),
                      events=result["events"][0])
    with open(os.path.join(directory, "sgbrian_report.json"), "w") as f:
        json.dump({k: v for k, v in report.items() if k != "events"}, f, indent=1, default=float)
    return report


def compare_with_runtime(nets, duration, directory, use_gpu=False):
    """Run one network (or a list sharing dt) in GeNN and in the runtime with
    ``schedule='genn'``, both for ``duration`` (one, or one per network) from each
    network's current state.

    All networks go into one GeNN model (one build). Returns ``(result, rows)``:
    :func:`run_specs`'s result and, per network, the :func:`agreement` rows of its
    layers. The runtime run advances every network by ``duration``.
    """
    single = not isinstance(nets, (list, tuple))
    nets = [nets] if single else list(nets)
    durations = list(duration) if isinstance(duration, (list, tuple)) else [duration] * len(nets)
    specs = [network_spec(net, d) for net, d in zip(nets, durations)]
    result = run_specs(specs, directory, build=True, use_gpu=use_gpu)
    rows = [agreement(runtime_events(net, d), got)
            for net, d, got in zip(nets, durations, result["events"])]
    return result, rows[0] if single else rows


#: Task sizes of the quick trained models (tests, ``--quick`` analyses).
QUICK_TASKS = {"delay": dict(n_train=2, n_test=1, duration=60 * ms),
               "itd": dict(n_train=18, n_test=9, duration=5 * ms),
               "timing": dict(n_train=10, n_test=2, duration=30 * ms)}


def trained_for_export(name, quick=False, seed=0, target="numpy"):
    """Train experiment ``name`` (``quick``: small task, one epoch), detach the learner
    and give it its first test sample as input from the current time, with no events in
    flight. Returns ``(result, duration)``: ``train_task``'s result and the sample's
    length, ready for :func:`export_genn` or :func:`compare_with_runtime`."""
    from .experiments import train_task
    kwargs = dict(epochs=1, task_kwargs=QUICK_TASKS[name]) if quick else {}
    result = train_task(name, seed=seed, progress=False, target=target, **kwargs)
    result["learner"].detach()
    net, sample = result["net"], result["task"].test[0]
    net.clear_spike_queues()
    net.set_input(**({"spikes": sample.input} if isinstance(sample.input, tuple)
                     else {"signal": sample.input}), start=net.network.t)
    return result, sample.n_steps * result["task"].dt


def synapse_counts(spec):
    """Synapses of the export per connection, and of the runtime network."""
    inp = spec["input"]
    copies = 2 * payload_bits(inp["q"]) if inp["kind"] == "analog" else 1
    runtime = [len(c["w"]) for c in spec["connections"]]
    return {"runtime": runtime, "genn": [runtime[0] * copies] + runtime[1:],
            "input_copies": copies}


def gpu_memory_bytes(n_neurons, K, fan_in, max_delay_steps=0, bytes_per_value=8):
    """Estimated GPU memory of one exported neuron layer of ``n_neurons`` with ``fan_in``
    synapses each: neuron state ``(2(K+1) + 4)`` values, ``q`` and ``theta`` kept in
    GeNN's delay queue (``max_delay_steps + 1`` slots each), one weight and one sparse
    index (4 bytes) per synapse, and a spike queue (one int per neuron per slot)."""
    slots = max_delay_steps + 1
    neurons = n_neurons * (((2 * (K + 1) + 4) + 2 * slots) * bytes_per_value + 4 * slots)
    synapses = n_neurons * fan_in * (bytes_per_value + 4)
    return neurons + synapses


def code_report(directory, spec):
    """Size of the generated GeNN model and of the network it holds."""
    model = os.path.join(directory, "magicnetwork_model.cpp")
    text = open(model).read() if os.path.exists(model) else ""
    return {"model_file": model, "model_lines": text.count("\n"),
            "neuron_models": text.count("NeuronModels::Base"),
            "synapse_models": text.count("WeightUpdateModels::Base"),
            "has_cascade_update": "exp(" in text and "U_1" in text,
            "reads_delayed_payload": "$(q_pre)" in text,
            "synapses": synapse_counts(spec), "features": FEATURES}


def _register_device():
    """brian2genn's device, less its refusal of presynaptic reads in ``on_pre``, with
    correct GeNN implementations of ``int`` and ``clip``; registered as 'sgbrian_genn'."""
    from brian2.core.functions import DEFAULT_FUNCTIONS
    from brian2.devices.device import all_devices
    from brian2genn.device import GeNNDevice
    from brian2genn.genn_generator import GeNNCodeGenerator

    class SGBrianGeNNDevice(GeNNDevice):
        def collect_synapses_variables(self, synapse_model, pathway, codeobj):
            # brian2genn refuses presynaptic reads only for the pathways named 'pre' and
            # 'post'; GeNN itself queues every presynaptic variable that synapse code
            # reads when the synapses are delayed, so the read is exact.
            super().collect_synapses_variables(synapse_model,
                                               "on_pre" if pathway == "pre" else pathway, codeobj)

    impl = DEFAULT_FUNCTIONS["int"].implementations
    impl.add_implementation(GeNNCodeGenerator, name="int_", code=(
        "template <typename T> SUPPORT_CODE_FUNC int int_(const T value)\n"
        "{\n    return (int)value;\n}\n"))
    DEFAULT_FUNCTIONS["clip"].implementations.add_implementation(GeNNCodeGenerator, name="_clip", code=(
        "SUPPORT_CODE_FUNC double _clip(const double value, const double a_min, const double a_max)\n"
        "{\n    return value < a_min ? a_min : (value > a_max ? a_max : value);\n}\n"))
    all_devices["sgbrian_genn"] = SGBrianGeNNDevice()


def _main(argv):
    """Child process: ``python -m sgbrian.genn spec.json directory``."""
    spec_path, directory = argv
    import brian2genn  # noqa: F401
    from brian2 import Network, device, set_device
    _register_device()
    with open(spec_path) as f:
        job = json.load(f)
    specs, build = job["specs"], job["build"]
    set_device("sgbrian_genn", directory=directory, compile=build, run=build,
               use_GPU=job["use_gpu"])
    from brian2 import defaultclock
    defaultclock.dt = specs[0]["dt"] * second
    objects, monitors = [], []
    for n, spec in enumerate(specs):
        obj, mons = genn_objects(spec, prefix=f"n{n}_" if len(specs) > 1 else "")
        objects += obj
        monitors.append(mons)
    Network(*objects).run(max(s["steps"] for s in specs) * specs[0]["dt"] * second)
    out = {"run_s": None, "events": None}
    if build:
        out["run_s"] = float(device._last_run_time)
        out["events"] = [[[e for e in layer if e[0] < spec["steps"]]
                          for layer in decode_events(mons, spec, defaultclock.dt)]
                         for mons, spec in zip(monitors, specs)]
    with open(os.path.join(directory, "sgbrian_events.json"), "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    _main(sys.argv[1:])
