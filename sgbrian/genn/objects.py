"""Brian2 objects of a spec's GeNN form (the export's network, or the same form run by
Brian2's runtime), the events decoded from their monitors, and the runtime's events to
compare them with."""
import numpy as np
from brian2 import NeuronGroup, SpikeGeneratorGroup, SpikeMonitor, Synapses, second

from ..encoding import encoder_code, encoder_equations, payload_expression
from ..equations import neuron_equations
from ..nonlinearities import nonlinearity
from ..history import PayloadHistory
from ..network import monitors_for
from ..validation import check_choice
from .spec import emitter_events, emitter_factor, spec_from_record


def genn_objects(spec, prefix="", delayed_reads="genn"):
    """Brian2 objects of the GeNN form of a spec (create after ``set_device``).

    Parameters
    ----------
    spec : dict
        A :func:`~sgbrian.genn.spec.network_spec`.
    prefix : str
        Prefix of every object's name (several specs in one model).
    delayed_reads : str
        'genn': synapses read ``q_pre``, which GeNN delays by the synapse's delay (the
        export). 'history': they read the sender's payload ring buffer
        (:mod:`sgbrian.history`), so that Brian2's runtime, which reads presynaptic
        variables at delivery, runs the same form (a check of the rewrite without GeNN).

    Returns
    -------
    objects : list
        Groups, synapses and monitors.
    monitors : list of SpikeMonitor
        ``monitors[l]`` records layer l.
    """
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
    spec = spec_from_record(layer["spec"])
    eqs, namespace = neuron_equations(spec.K, spec.tau, nonlinearity(spec.output),
                                      drive=spec.drive, extra=spec.extra,
                                      parameters=spec.parameters)
    namespace.update(spec.namespace or {})
    if history is not None:
        namespace.update(history.namespace())
    code = encoder_code(spec.payload, history=history is not None)
    group = NeuronGroup(layer["n"], eqs + encoder_equations(), threshold="q != 0", reset="",
                        method="gamma_cascade",
                        method_options={**(spec.method_options or {}), "then": code},
                        namespace=namespace, name=name)
    v = np.asarray(layer["v"])
    for k in range(spec.K + 1):
        setattr(group, f"v_{k}", v[:, k])
    group.b, group.theta = layer["b"], spec.theta
    for variable, values in (spec.parameters or {}).items():
        setattr(group, variable, values)
    for variable, values in layer["state"].items():
        setattr(group, variable, np.asarray(values))
    return group


def decode_events(monitors, spec, dt):
    """Events of every layer as sorted ``(step, index, payload)`` tuples; input copies are
    summed back into payloads (analog input), spike inputs carry 1.

    Parameters
    ----------
    monitors : list of SpikeMonitor
        From :func:`genn_objects`.
    spec : dict
        The spec.
    dt : Quantity
        Time step.

    Returns
    -------
    list of list of tuple
        Per layer.
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
    """Run a network with ``schedule='genn'`` from its current state; the network's
    schedule is restored afterwards.

    Parameters
    ----------
    net : SGNetwork
        The network.
    duration : Quantity
        How long.

    Returns
    -------
    list of list of tuple
        Every layer's events as sorted ``(step, index, payload)``, steps counted from the
        start of the run.
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
    """Per layer: events in each list and in both (same step, index and payload).

    Parameters
    ----------
    expected, got : list of list of tuple
        Events per layer.

    Returns
    -------
    list of dict
        ``layer``, ``runtime``, ``genn``, ``matching``, ``equal``.
    """
    rows = []
    for l, (a, b) in enumerate(zip(expected, got)):
        both = len(set(a) & set(b))
        rows.append({"layer": l, "runtime": len(a), "genn": len(b), "matching": both,
                     "equal": a == b})
    return rows
