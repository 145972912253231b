"""Layers and their connections: the building blocks of a network (whole feedforward
networks: :mod:`sgbrian.builder`).

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
from dataclasses import dataclass, field, replace

import numpy as np
from brian2 import (Equations, NeuronGroup, SpikeMonitor, StateMonitor, Synapses,
                    defaultclock, ms, second)

from . import propagator  # noqa: F401  (registers the 'gamma_cascade' state updater)
from .encoding import (analog_input, encoder_code, encoder_equations, payload_expression,
                       spike_input)
from .equations import RESERVED, neuron_equations, nonlinearity, synapse_bucket_equations
from .history import PayloadHistory
from .specs import UNSET, ConnectionSpec, NeuronSpec, from_keywords
from .validation import (check_choice, check_finite, check_int, check_positive,
                         check_shape, check_time, delay_steps)

STAGES = {"exact": ("arrivals", "summed", "encoder", "threshold"),
          "genn": ("encoder", "threshold", "arrivals", "summed")}


def slot_order(layer_index, stage, schedule="exact"):
    """Brian2 ``order`` of ``stage`` ('arrivals', 'summed', 'encoder', 'threshold') of
    layer ``layer_index`` under ``schedule`` ('exact' or 'genn')."""
    check_choice("schedule", schedule, STAGES)
    return 10 * layer_index + STAGES[schedule].index(stage)


@dataclass
class Layer:
    """A group of SpikingGamma senders and (except for inputs) receivers.

    A neuron layer's settings are those of its :class:`~sgbrian.specs.NeuronSpec`
    (``spec``): ``K``, ``tau``, ``payload``, ``output`` (as a ``Nonlinearity``),
    ``schedule``, ``bucket_weights``, ``drive``, ``extra`` and ``parameters`` read it, so
    that they cannot disagree with it. An input layer has no spec; its payload and
    schedule are kept in ``input_payload`` and ``input_schedule``.
    """
    group: object
    kind: str                       # 'analog', 'spikes' or 'neuron'
    index: int
    max_lag: int = 0                # payload history kept, in steps
    namespace: dict = field(default_factory=dict)
    encoder: object = None          # the RunRegularly operation of the encoder
    history: object = None          # PayloadHistory (senders with delayed synapses)
    spec: object = None             # the NeuronSpec it was built from (neuron layers)
    input_payload: str = "integer"  # payload of an input layer's encoder
    input_schedule: str = "exact"   # schedule of an input layer's encoder

    def _setting(self, name, input_value):
        return getattr(self.spec, name) if self.spec is not None else input_value

    K = property(lambda self: self._setting("K", 0), doc="Buckets per neuron (0: inputs).")
    tau = property(lambda self: self._setting("tau", None), doc="Bucket time constant(s).")
    payload = property(lambda self: self._setting("payload", self.input_payload),
                       doc="'integer', 'binary' or 'analog'.")
    schedule = property(lambda self: self._setting("schedule", self.input_schedule),
                        doc="Order of work in a step: 'exact' or 'genn'.")
    bucket_weights = property(lambda self: self._setting("bucket_weights", "neuron"),
                              doc="'neuron' or 'synapse' (where ``v_k`` live).")
    drive = property(lambda self: self._setting("drive", None), doc="Extra terms of x.")
    extra = property(lambda self: self._setting("extra", None), doc="Extra equations.")

    @property
    def output(self):
        """The output ``Nonlinearity`` of a neuron layer (None for inputs)."""
        return None if self.spec is None else nonlinearity(self.spec.output)

    @property
    def parameters(self):
        """The extra per-neuron parameters and their initial values (a new dict)."""
        return dict(self._setting("parameters", None) or {})

    def set_schedule(self, schedule):
        """Record the layer's schedule ('exact' or 'genn'); the slots are moved by
        :meth:`sgbrian.sgnetwork.SGNetwork.set_schedule`."""
        check_choice("schedule", schedule, STAGES)
        if self.spec is None:
            self.input_schedule = schedule
        else:
            self.spec = replace(self.spec, schedule=schedule)

    @property
    def n(self):
        """Number of neurons (or input channels) of the layer."""
        return len(self.group)

    def extra_equations(self):
        """The user's extra equations as ``Equations`` (empty if none)."""
        if self.extra is None:
            return Equations("")
        return self.extra if isinstance(self.extra, Equations) else Equations(str(self.extra))

    def taus(self):
        """The K bucket time constants in seconds, as the group's namespace holds them now
        (a user may change them between runs)."""
        return layer_taus(self)

    def current_spec(self):
        """The layer's spec with the values its group holds now: the time constants
        (one time when all are equal), per-neuron thresholds and extra parameters, and
        the user's constants."""
        g, taus = self.group, self.taus()
        parameters = {name: getattr(g, name)[:] for name in self.parameters}
        return replace(self.spec, tau=(taus[0] if np.all(taus == taus[0]) else taus) * second,
                       theta=g.theta[:].copy(), parameters=parameters or None,
                       namespace=self.user_namespace() or None)

    def user_namespace(self):
        """The constants the user gave the group (its namespace less the package's own)."""
        return {k: v for k, v in self.group.namespace.items()
                if k not in self.namespace and not k.startswith("payload_")}


def layer_taus(layer):
    """The K bucket time constants of a neuron layer (anything with ``K`` and
    ``group.namespace``), in seconds, as its namespace holds them now."""
    names = [f"tau_{k}" for k in range(1, layer.K + 1)]
    if "tau_gamma" in layer.group.namespace:
        names = ["tau_gamma"] * layer.K
    return np.array([float(layer.group.namespace[n] / second) for n in names])


def _lag_steps(max_delay):
    check_time("max_delay", max_delay, allow_zero=True)
    return int(delay_steps("max_delay", max_delay, defaultclock.dt))


def _attach_encoder(group, index, max_lag, payload, schedule="exact"):
    """Run the encoder and the threshold of ``group`` at its slot in the step; with
    ``max_lag >= 1`` the encoder stores every payload in a ring buffer (returned)."""
    history = None
    if max_lag >= 1:
        history = PayloadHistory(group.name, len(group), max_lag)
        group.namespace.update(history.namespace())
    encoder = group.run_regularly(encoder_code(payload, history=history is not None),
                                  when="synapses",
                                  name=group.name + "_encoder")
    place_encoder(group, index, schedule)
    return encoder, history


def place_encoder(group, index, schedule):
    """Put the encoder and threshold of layer ``index`` at their slots under ``schedule``."""
    encoder, = [o for o in group.contained_objects if o.name == group.name + "_encoder"]
    encoder.order = slot_order(index, "encoder", schedule)
    group.thresholder["spike"].when = "synapses"
    group.thresholder["spike"].order = slot_order(index, "threshold", schedule)


def place_arrivals(syn, index, schedule):
    """Put the arrivals (and the summed bucket update) into layer ``index`` at their slots."""
    check_choice("schedule", schedule, STAGES)
    syn.pre.order = slot_order(index, "arrivals", schedule)
    updater = syn.summed_updaters.get("I_syn_post")
    if updater is not None:
        updater.when = "synapses"
        updater.order = slot_order(index, "summed", schedule)


def neuron_layer(n, K=UNSET, tau=UNSET, theta=UNSET, index=1, output=UNSET, bias=0.0, v=None,
                 bucket_weights=UNSET, payload=UNSET, max_delay=0 * ms, schedule=UNSET,
                 name=None, drive=UNSET, extra=UNSET, parameters=UNSET, namespace=UNSET,
                 method_options=UNSET, spec=None):
    """A layer of ``n`` SpikingGamma neurons (a Brian2 ``NeuronGroup`` inside a Layer).

    The neurons' shared settings come from ``spec`` (a :class:`~sgbrian.specs.NeuronSpec`)
    or from the keywords of the same names (``K``, ``tau``, ``theta``, ``output``,
    ``bucket_weights``, ``payload``, ``schedule``, ``drive``, ``extra``, ``parameters``,
    ``namespace``, ``method_options``; not given: ``UNSET``, the defaults those of
    ``NeuronSpec``), not both:
    ``K`` buckets with time constant ``tau`` (one time or K times), sigma-delta
    threshold ``theta`` (> 0, scalar or per neuron), the ``output`` nonlinearity (a name
    in ``sgbrian.equations.OUTPUTS`` or a ``Nonlinearity``), ``payload`` 'integer',
    'binary' or 'analog' (``sgbrian.encoding``); extensions as in
    ``sgbrian.equations.neuron_equations`` (e.g. ``method_options={'others': 'euler'}``).
    Per layer: bias ``b`` and bucket weights ``v`` (shape (K+1,) or (n, K+1); default
    ``1/(K+1)`` each); ``max_delay``, the largest delay of the layer's outgoing synapses
    (sets the payload history); ``index``, the layer's position. The layer keeps its
    spec (``Layer.spec``).
    """
    spec = from_keywords(NeuronSpec, spec, "spec", K=K, tau=tau, theta=theta, output=output,
                         bucket_weights=bucket_weights, payload=payload, schedule=schedule,
                         drive=drive, extra=extra, parameters=parameters, namespace=namespace,
                         method_options=method_options)
    n = check_int("n (layer size)", n, 1)
    index = check_int("index (layer position)", index, 1)
    theta = check_positive("theta", spec.theta)
    check_shape("theta", theta, (n,))
    output = nonlinearity(spec.output)
    eqs, cascade_namespace = neuron_equations(spec.K, spec.tau, output, spec.bucket_weights,
                                              spec.drive, spec.extra, spec.parameters)
    clashes = sorted(set(spec.namespace or {}) & (set(cascade_namespace) | set(RESERVED)))
    if clashes:
        raise ValueError(f"namespace may not redefine the package's names {clashes}")
    max_lag = _lag_steps(max_delay)
    eqs = eqs + encoder_equations()
    group = NeuronGroup(n, eqs, threshold="q != 0", reset="", method="gamma_cascade",
                        method_options=spec.method_options or {},
                        namespace={**(spec.namespace or {}), **cascade_namespace},
                        name=name or f"layer{index}*")
    for variable, value in (spec.parameters or {}).items():
        setattr(group, variable, value)
    group.theta = theta
    group.b = check_shape("bias", check_finite("bias", bias), (n,))
    if spec.bucket_weights == "neuron":
        set_bucket_weights(group, spec.K, v)
    encoder, history = _attach_encoder(group, index, max_lag, spec.payload, spec.schedule)
    return Layer(group, "neuron", index, max_lag, cascade_namespace, encoder, history, spec)


def set_bucket_weights(target, K, v):
    """Set ``v_0..v_K`` on a group or synapses from shape (K+1,) or (len(target), K+1)."""
    v = np.full(K + 1, 1.0 / (K + 1)) if v is None else check_finite("v", v)
    if v.ndim == 1:
        v = check_shape("v", v, (K + 1,))[None, :].repeat(len(target), 0)
    v = check_shape("v", v, (len(target), K + 1))
    for k in range(K + 1):
        setattr(target, f"v_{k}", v[:, k])


def analog_layer(signal, sample_dt, theta, payload="integer", max_delay=0 * ms, name=None):
    """Input layer (index 0): analog signals (samples x channels) sent as sigma-delta events."""
    max_lag = _lag_steps(max_delay)
    group = analog_input(signal, sample_dt, theta, name)
    encoder, history = _attach_encoder(group, 0, max_lag, payload)
    return Layer(group, "analog", 0, max_lag, encoder=encoder, history=history,
                 input_payload=payload)


def spike_layer(n, indices, times, name=None):
    """Input layer (index 0): given spike trains (impulses, payload 1)."""
    return Layer(spike_input(n, indices, times, name), "spikes", 0)


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
    """Synapses from layer ``source`` to layer ``target``; returns the Brian2 ``Synapses``.

    ``w``: scalar or (n_pre, n_post). ``delay`` (default 0 ms): a time or (n_pre, n_post)
    times, each a whole number of steps and at most the source's ``max_delay``.
    ``connectivity``: boolean (n_pre, n_post) mask (default: all to all).
    ``homogeneous_delay=True`` uses one ``delay=`` for the whole object (the form
    brian2genn accepts); ``delay`` must then be a single time. ``delay`` and
    ``homogeneous_delay`` may come from ``spec`` (a :class:`~sgbrian.specs.ConnectionSpec`)
    instead; its other settings (how weights and random delays are drawn) are
    ``feedforward``'s.
    ``v``: per-synapse bucket weights, shape (K+1,) or (n_synapses, K+1), for targets
    built with ``bucket_weights='synapse'``.
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
    """Synapses ``pre[s] -> post[s]`` with weights ``w[s]`` and delays of ``steps[s]``
    whole steps (already checked); ``homogeneous_steps``: one ``delay=`` for all."""
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
    """Monitors of a layer, at ``when='end'``: 'spikes' (with payload q), 'signals'
    (y and r) and 'buckets' (U_0..U_K)."""
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
