"""Connections between layers, the order of work in a time step, and monitors (the layers
themselves: :mod:`sgbrian.layers`, re-exported here; whole feedforward networks:
:mod:`sgbrian.builder`).

Order of work inside one time step (all in Brian2's ``synapses`` slot, after every
group's buckets have advanced by the exact propagator in the ``groups`` slot), layer by
layer, so that an event crosses any number of zero-delay layers in the step it is
emitted (no hidden one-step lag per layer):

    for layer l = 0, 1, ...:
        order 10l + 0   events arriving at l are added to the taps (``U_0 += w q theta``)
        order 10l + 1   per-synapse buckets are summed into ``I_syn`` (if used)
        order 10l + 2   the encoder computes y, q and r (docs/spec.md section 2)
        order 10l + 3   the threshold ``q != 0`` emits this step's events

A synaptic delay of d (a whole number of steps) delivers the event exactly d steps later.

``schedule='genn'`` moves the encoder and threshold of a layer before its arrivals: the
encoder then reads the taps before this step's events, one step of latency per layer, as
in the network the GeNN export generates (``sgbrian.genn``); the default is 'exact'.
Monitors made here record at ``when='end'``, i.e. the state at t after everything of that
step; a Brian2 ``SpikeMonitor`` or ``StateMonitor`` made by hand should use
``when='end'`` too (their defaults would read one step early or label it one step late).
"""
import numpy as np
from brian2 import SpikeMonitor, StateMonitor, Synapses, defaultclock

from .encoding import payload_expression
from .equations import synapse_bucket_equations
from .layers import (STAGES, Layer, analog_layer, layer_taus, neuron_layer, place_encoder,
                     set_bucket_weights, slot_order, spike_layer)
from .specs import UNSET, ConnectionSpec, from_keywords
from .validation import check_choice, check_finite, check_shape, delay_steps

#: The layers' names are re-exported: ``sgbrian.network.neuron_layer`` keeps working.
__all__ = ["STAGES", "Layer", "analog_layer", "layer_taus", "neuron_layer", "place_encoder",
           "set_bucket_weights", "slot_order", "spike_layer", "place_arrivals", "connect",
           "connect_pairs", "monitors_for"]


def place_arrivals(syn, index, schedule):
    """Put the arrivals (and the summed bucket update) into a layer at their slots.

    Parameters
    ----------
    syn : Synapses
        A connection into the layer.
    index : int
        The target layer's position.
    schedule : str
        'exact' or 'genn'.
    """
    check_choice("schedule", schedule, STAGES)
    syn.pre.order = slot_order(index, "arrivals", schedule)
    updater = syn.summed_updaters.get("I_syn_post")
    if updater is not None:
        updater.when = "synapses"
        updater.order = slot_order(index, "summed", schedule)


def _on_pre(source, target, homogeneous_steps):
    """Code run when an event arrives at a synapse (docs/spec.md section 3)."""
    per_synapse = target.bucket_weights == "synapse"
    if source.kind == "spikes":
        return "u_1 += 1" if per_synapse else "U_1_post += w"
    payload = payload_expression(homogeneous_steps, source.max_lag)
    code = "" if homogeneous_steps is not None else "_lag_steps = int(delay/dt + 0.5)\n"
    increment = f"theta_pre*({payload})"
    return code + (f"u_0 += {increment}" if per_synapse else f"U_0_post += w*{increment}")


def connect(source, target, w, delay=UNSET, connectivity=None, homogeneous_delay=UNSET,
            v=None, name=None, spec=None):
    """Synapses from layer ``source`` to layer ``target``.

    Parameters
    ----------
    source, target : Layer
        The connected layers.
    w : float or array_like
        Weights: scalar or (n_pre, n_post).
    delay : Quantity, optional
        A time or (n_pre, n_post) times (default 0 ms), each a whole number of steps and at
        most the source's ``max_delay``.
    connectivity : array_like of bool, optional
        (n_pre, n_post) mask (default: all to all).
    homogeneous_delay : bool, optional
        One ``delay=`` for the whole object (the form brian2genn accepts); ``delay`` must
        then be a single time.
    v : array_like, optional
        Per-synapse bucket weights, shape (K+1,) or (n_synapses, K+1), for targets built
        with ``bucket_weights='synapse'``.
    name : str, optional
        Name of the Synapses.
    spec : ConnectionSpec, optional
        ``delay`` and ``homogeneous_delay`` from a spec instead (its other settings, how
        weights and random delays are drawn, are ``feedforward``'s).

    Returns
    -------
    Synapses
        The Brian2 synapses, weights and delays set.

    Raises
    ------
    ValueError
        A shape that does not fit, a delay that is not a whole number of steps or beyond
        the source's history, or a setting given both ways.
    """
    spec = from_keywords(ConnectionSpec, spec, "spec", delay=delay,
                         homogeneous_delay=homogeneous_delay)
    delay, homogeneous_delay = spec.delay, spec.homogeneous_delay
    if target.kind != "neuron":
        raise ValueError(f"target must be a neuron layer, got a {target.kind} layer")
    if target.index <= source.index:
        raise ValueError(f"target.index ({target.index}) must be > source.index "
                         f"({source.index}): the builder is feedforward")
    shape = (source.n, target.n)
    mask = np.ones(shape, bool) if connectivity is None else check_shape(
        "connectivity", np.asarray(connectivity, bool), shape)
    weights = check_shape("w", check_finite("w", w), shape)
    steps = check_shape("delay", delay_steps("delay", delay, defaultclock.dt), shape)
    if steps.max(initial=0) > source.max_lag and source.kind != "spikes":
        raise ValueError(f"delay must be <= the source layer's max_delay "
                         f"({source.max_lag} steps); build the source with a larger max_delay")
    if homogeneous_delay and np.ndim(delay) != 0:
        raise ValueError("delay must be a single time when homogeneous_delay=True")
    homogeneous_steps = int(steps.flat[0]) if homogeneous_delay else None
    pre, post = np.nonzero(mask)
    return connect_pairs(source, target, pre, post, weights[pre, post], steps[pre, post],
                         homogeneous_steps, v, name)


def connect_pairs(source, target, pre, post, w, steps, homogeneous_steps=None, v=None, name=None):
    """Synapses ``pre[s] -> post[s]`` with weights ``w[s]`` and delays of ``steps[s]``.

    Parameters
    ----------
    source, target : Layer
        The connected layers.
    pre, post : array_like of int
        Indices of each synapse's neurons.
    w : array_like
        Weight of each synapse.
    steps : array_like of int
        Delay of each synapse in whole steps (already checked).
    homogeneous_steps : int, optional
        One ``delay=`` for all.
    v : array_like, optional
        Per-synapse bucket weights.
    name : str, optional
        Name of the Synapses.

    Returns
    -------
    Synapses
        The Brian2 synapses.
    """
    model, namespace = "w : 1", {}
    if target.bucket_weights == "synapse":
        model, namespace = synapse_bucket_equations(target.K, target.tau)
    if source.history is not None:
        namespace = {**namespace, **source.history.namespace()}
    kwargs = {} if homogeneous_steps is None else {"delay": homogeneous_steps * defaultclock.dt}
    syn = Synapses(source.group, target.group, model=model,
                   on_pre=_on_pre(source, target, homogeneous_steps), method="gamma_cascade",
                   namespace=namespace, name=name or f"syn{source.index}to{target.index}*",
                   **kwargs)
    syn.connect(i=np.asarray(pre, dtype=int), j=np.asarray(post, dtype=int))
    syn.w = w
    if homogeneous_steps is None:
        syn.delay = np.asarray(steps) * defaultclock.dt
    if target.bucket_weights == "synapse":
        set_bucket_weights(syn, target.K, v)
    place_arrivals(syn, target.index, target.schedule)
    return syn


def monitors_for(layer, record):
    """Monitors of a layer, recording at ``when='end'``.

    Parameters
    ----------
    layer : Layer
        The layer.
    record : sequence of str
        Any of 'spikes' (with payload q), 'signals' (y and r) and 'buckets' (U_0..U_K).

    Returns
    -------
    dict
        The Brian2 monitors by kind.
    """
    out = {}
    group = layer.group
    if "spikes" in record:
        variables = [] if layer.kind == "spikes" else ["q"]
        out["spikes"] = SpikeMonitor(group, variables=variables, when="end",
                                     name=group.name + "_spikes")
    if "signals" in record and layer.kind != "spikes":
        out["signals"] = StateMonitor(group, ["y", "r"], record=True, when="end",
                                      name=group.name + "_signals")
    if "buckets" in record and layer.kind == "neuron" and layer.bucket_weights == "neuron":
        names = [f"U_{k}" for k in range(layer.K + 1)]
        out["buckets"] = StateMonitor(group, names, record=True, when="end",
                                      name=group.name + "_buckets")
    return out
