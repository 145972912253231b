"""Export a (trained) SpikingGamma network through brian2genn code generation.

brian2genn refuses several things the runtime network uses. The export rewrites each
into a form GeNN accepts, or raises a clear error naming the feature and the rewrite:

| runtime feature | GeNN form |
|---|---|
| learner (``network_operation``) | refused: ``learner.detach()`` first (simulation only) |
| per-synapse delays | one ``Synapses`` object per delay value (homogeneous ``delay=``) |
| graded payload read from the sender (``q_lag_d_pre`` in ``on_pre``; brian2genn refuses presynaptic reads) | each layer becomes ``C = 2B`` copies of itself (one ``NeuronGroup`` of ``C*n``); copy (sign s, bit b) fires when bit b of ``|q|`` is set with sign s, and its synapses carry ``s 2^b theta w`` as their weight. ``B = 1`` for binary payloads |
| encoder in a ``run_regularly`` at a custom slot (refused) | appended to the state update (``method_options={'then': ...}``) |
| analog input through a ``TimedArray`` (refused) | sigma-delta encoded offline, sent by a ``SpikeGeneratorGroup`` of emitter copies |
| per-synapse bucket weights (summed variable) | refused: use ``bucket_weights='neuron'`` |

Schedule: GeNN adds arriving events to the tap before the neuron update and delivers a
spike emitted at step n from step n+1 on. The runtime schedule (``sgbrian.network``)
advances the buckets first and delivers in the same step. A GeNN run therefore lags the
runtime by one step per layer, and in the step of an arrival its buckets see the new tap
one step early; events are compared after that shift.
"""
import json
import os
import pickle
import subprocess
import sys
import time

import numpy as np
from brian2 import NetworkOperation, second

from .encoding import sigma_delta
from .learning import layer_taus

FEATURES = [
    ("gamma-cascade buckets (exact propagator)", "state update code of the NeuronGroup"),
    ("sigma-delta encoder", "appended to the state update; threshold per emitter copy"),
    ("integer / binary payload", "2B emitter copies per layer (sign x bit), weight s 2^b theta w"),
    ("per-synapse delays", "one Synapses object per delay value"),
    ("homogeneous delay", "Synapses(delay=...) as is"),
    ("analog input (TimedArray)", "offline sigma-delta events in a SpikeGeneratorGroup"),
    ("spike-train input", "SpikeGeneratorGroup as is (impulse into bucket 1)"),
    ("learning plugin (network_operation)", "not exported: simulation only"),
    ("per-synapse bucket weights", "not supported: error"),
]


class GeNNExportError(ValueError):
    """A feature of the network has no GeNN form."""


def check_exportable(net):
    """Raise :class:`GeNNExportError` naming any feature that cannot be rewritten."""
    if any(isinstance(obj, NetworkOperation) for obj in net.network.objects):
        raise GeNNExportError("network_operation (the learning plugin) cannot run under GeNN: "
                              "call learner.detach() and export the trained network for "
                              "simulation only")
    for layer in net.layers[1:]:
        if layer.bucket_weights != "neuron":
            raise GeNNExportError(f"layer {layer.index}: per-synapse bucket weights use a summed "
                                  "variable brian2genn does not support; build the network with "
                                  "bucket_weights='neuron'")


def network_spec(net, duration, payload_bits=None):
    """A plain description (numpy arrays) of ``net`` and its current input, for export."""
    check_exportable(net)
    dt = net.layers[1].group.clock.dt
    steps = int(round(float(duration / dt)))
    spec = {"dt": float(dt / second), "steps": steps, "layers": [], "connections": []}
    first = net.layers[0]
    if first.kind == "analog":
        values = first.group.namespace["stimulus"].values
        theta = first.group.theta[:].copy()
        rows = np.clip(np.arange(steps), 0, len(values) - 1)
        q, _ = sigma_delta(values[rows], theta, first.payload)
        spec["input"] = {"kind": "analog", "n": first.n, "q": q, "theta": theta}
    else:
        spec["input"] = {"kind": "spikes", "n": first.n,
                         "indices": first.group._neuron_index[:].copy(),
                         "steps": np.rint(first.group._spike_time[:] / float(dt / second)).astype(int)}
    for layer in net.layers[1:]:
        g = layer.group
        spec["layers"].append({
            "n": layer.n, "K": layer.K, "taus": layer_taus(layer), "payload": layer.payload,
            "v": np.stack([getattr(g, f"v_{k}")[:] for k in range(layer.K + 1)], axis=1),
            "b": g.b[:].copy(), "theta": g.theta[:].copy(),
            "output": layer.output})
    for syn in net.synapses:
        spec["connections"].append({"pre": syn.i[:].copy(), "post": syn.j[:].copy(),
                                    "w": syn.w[:].copy(),
                                    "delay": np.rint(syn.delay[:] / dt).astype(int)})
    spec["payload_bits"] = payload_bits or _bits_needed(net, spec)
    return spec


def _bits_needed(net, spec):
    """Bits for the largest payload: from the input's events and a runtime-free bound
    for neuron layers (the recorded spikes of the network's monitors, if any)."""
    largest = np.abs(spec["input"]["q"]).max(initial=1) if spec["input"]["kind"] == "analog" else 1
    for mons in net.monitors:
        spikes = mons.get("spikes")
        if spikes is not None and "q" in spikes.record_variables and spikes.num_spikes:
            largest = max(largest, np.abs(spikes.q[:]).max())
    return max(1, int(np.ceil(np.log2(largest + 1))))


def copies(payload, bits):
    """Emitter copies of a layer: 2 per payload bit (sign x bit)."""
    return 2 * (1 if payload == "binary" else bits)


def emitter_factor(copy):
    """Payload carried by emitter copy ``copy``: ``s * 2^b`` (s = +1 for even copies)."""
    return (1 - 2 * (copy % 2)) * 2 ** (copy // 2)


def build_genn_network(spec):
    """Create the GeNN-compatible Brian2 objects for ``spec`` (after ``set_device('genn')``)."""
    from brian2 import (NeuronGroup, SpikeGeneratorGroup, SpikeMonitor, Synapses, defaultclock)
    from .encoding import encoder_code
    from .equations import neuron_equations
    defaultclock.dt = spec["dt"] * second
    bits = spec["payload_bits"]
    inp = spec["input"]
    objects, groups = [], []
    if inp["kind"] == "analog":
        C = copies("integer", bits)
        steps, channels = np.nonzero(inp["q"])
        indices, times = [], []
        for copy in range(C):
            s, b = 1 - 2 * (copy % 2), copy // 2
            q = inp["q"][steps, channels]
            fires = (s * q >= 1) & ((np.abs(q).astype(int) >> b) % 2 == 1)
            indices.append(copy * inp["n"] + channels[fires])
            times.append(steps[fires])
        source = SpikeGeneratorGroup(C * inp["n"], np.concatenate(indices),
                                     np.concatenate(times) * spec["dt"] * second, name="genn_input")
        groups.append((source, C, inp["theta"], "analog"))
    else:
        source = SpikeGeneratorGroup(inp["n"], inp["indices"], inp["steps"] * spec["dt"] * second,
                                     name="genn_input")
        groups.append((source, 1, np.ones(inp["n"]), "spikes"))
    objects.append(source)
    for l, layer in enumerate(spec["layers"]):
        last = l == len(spec["layers"]) - 1
        C = 1 if last else copies(layer["payload"], bits)
        taus = layer["taus"]
        tau = taus[0] * second if np.all(taus == taus[0]) else taus * second
        eqs, namespace = neuron_equations(layer["K"], tau, layer["output"])
        eqs += "theta : 1 (constant)\nr : 1\nq : 1"
        code = encoder_code(0, layer["payload"])
        n = layer["n"]
        threshold = "q != 0" if C == 1 else \
            (f"(1 - 2*((i // {n}) % 2))*q >= 1 and "
             f"(int(abs(q) + 0.5) // int(2**((i // {n}) // 2) + 0.5)) % 2 == 1")
        group = NeuronGroup(C * n, eqs, threshold=threshold, reset="", method="gamma_cascade",
                            method_options={"then": code}, namespace=namespace,
                            name=f"genn_layer{l + 1}")
        tile = lambda x: np.tile(x, C)  # noqa: E731
        for k in range(layer["K"] + 1):
            setattr(group, f"v_{k}", tile(layer["v"][:, k]))
        group.b, group.theta = tile(layer["b"]), tile(layer["theta"])
        objects.append(group)
        src, C_src, theta_src, kind = groups[-1]
        conn = spec["connections"][l]
        n_src = len(theta_src)
        target = "U_1_post" if kind == "spikes" else "U_0_post"
        for d in np.unique(conn["delay"]):
            sel = conn["delay"] == d
            pre, post, w = conn["pre"][sel], conn["post"][sel], conn["w"][sel]
            syn = Synapses(src, group, "w : 1", on_pre=f"{target} += w", delay=d * spec["dt"] * second,
                           name=f"genn_syn{l}to{l + 1}_d{d}")
            i = (np.arange(C_src)[:, None, None] * n_src + pre[None, None, :])
            j = (np.arange(C)[None, :, None] * n + post[None, None, :])
            i, j = np.broadcast_arrays(i, j)
            syn.connect(i=i.ravel(), j=j.ravel())
            factor = np.array([emitter_factor(c) if kind != "spikes" else 1 for c in range(C_src)])
            theta = theta_src[pre] if kind != "spikes" else np.ones(len(pre))
            scale = factor[:, None, None] * theta[None, None, :]
            syn.w = np.broadcast_to(scale * w[None, None, :], i.shape).ravel()
            objects.append(syn)
        groups.append((group, C, layer["theta"], "neuron"))
    monitors = [SpikeMonitor(g, name=f"{g.name}_spikes") for g, *_ in groups]
    return objects + monitors


def export_genn(net, directory, duration, payload_bits=None, build=False):
    """Write the GeNN model of ``net`` (and its current input) into ``directory``.

    Runs brian2genn code generation in a fresh process (``compile=False, run=False``);
    with ``build=True`` and ``GENN_PATH`` set, also compiles and runs it with GeNN's CPU
    backend. Returns a report dict (features, state variables, code size, timings).
    """
    spec = network_spec(net, duration, payload_bits)
    os.makedirs(directory, exist_ok=True)
    spec_path = os.path.join(directory, "sgbrian_spec.pkl")
    with open(spec_path, "wb") as f:
        pickle.dump(spec, f)
    if build and not os.environ.get("GENN_PATH"):
        raise GeNNExportError("build=True needs GENN_PATH pointing at a GeNN 4 checkout")
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "sgbrian.genn", spec_path, directory]
                            + (["--build"] if build else []), capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"brian2genn code generation failed:\n{result.stderr[-3000:]}")
    report = code_report(directory, spec)
    report["codegen_seconds"] = time.perf_counter() - start
    with open(os.path.join(directory, "sgbrian_report.json"), "w") as f:
        json.dump(report, f, indent=1, default=float)
    return report


def state_variables(spec):
    """State variables per neuron (each copy counts) and per synapse, from the spec."""
    per_neuron = [{"layer": l + 1, "K": L["K"], "variables": 2 * (L["K"] + 1) + 4,
                   "copies": 1 if l == len(spec["layers"]) - 1 else copies(L["payload"], spec["payload_bits"])}
                  for l, L in enumerate(spec["layers"])]
    return {"per_neuron": per_neuron, "per_synapse": 1}


def gpu_memory_bytes(n_neurons, K, fan_in, copies_per_layer=8, bytes_per_value=8):
    """Estimated GPU memory of a layer of ``n_neurons`` (each with ``copies_per_layer``
    emitter copies) and ``fan_in`` synapses per neuron from a layer with as many copies:
    neuron state ``(2(K+1) + 4)`` values per copy; one weight per synapse and copy pair,
    plus GeNN's spike queues (one int per neuron per copy)."""
    neurons = n_neurons * copies_per_layer * ((2 * (K + 1) + 4) * bytes_per_value + 4)
    synapses = n_neurons * fan_in * copies_per_layer ** 2 * bytes_per_value
    return neurons + synapses


def code_report(directory, spec):
    """Size of the generated GeNN model: lines of neuron and synapse code."""
    model = os.path.join(directory, "magicnetwork_model.cpp")
    text = open(model).read() if os.path.exists(model) else ""
    return {"model_file": model, "model_lines": text.count("\n"),
            "neuron_models": text.count("NeuronModels::Base"),
            "synapse_models": text.count("WeightUpdateModels::Base"),
            "code_object_files": sorted(os.listdir(os.path.join(directory, "code_objects")))
            if os.path.isdir(os.path.join(directory, "code_objects")) else [],
            "has_cascade_update": "exp(" in text and "U_1" in text,
            "state_variables": state_variables(spec), "features": FEATURES,
            "payload_bits": spec["payload_bits"]}


def _main(argv):
    """Child process: ``python -m sgbrian.genn spec.pkl directory [--build]``."""
    spec_path, directory = argv[0], argv[1]
    build = "--build" in argv
    import brian2genn  # noqa: F401
    from brian2 import Network, set_device
    with open(spec_path, "rb") as f:
        spec = pickle.load(f)
    set_device("genn", directory=directory, compile=build, run=build, use_GPU=False)
    objects = build_genn_network(spec)
    Network(*objects).run(spec["steps"] * spec["dt"] * second)
    if build:
        events = {m.name: (np.asarray(m.i[:]), np.asarray(m.t[:] / second))
                  for m in objects if m.name.endswith("_spikes")}
        with open(os.path.join(directory, "genn_events.pkl"), "wb") as f:
            pickle.dump(events, f)


if __name__ == "__main__":
    _main(sys.argv[1:])
