"""Layers: groups of SpikingGamma neurons and the input layers, with their settings and
their slots in a time step (the order of work in a step: :mod:`sgbrian.network`).

A neuron layer is a Brian2 ``NeuronGroup`` of the equations of :mod:`sgbrian.equations`
(state update ``'gamma_cascade'``) and the sigma-delta encoder of
:mod:`sgbrian.encoding`; an input layer sends an analog signal as sigma-delta events or
given spike trains. :class:`Layer` holds the group and its :class:`~sgbrian.specs.NeuronSpec`.
"""
from dataclasses import dataclass, field, replace

import numpy as np
from brian2 import Equations, NeuronGroup, defaultclock, ms, second

from . import propagator  # noqa: F401  (registers the 'gamma_cascade' state updater)
from .encoding import analog_input, encoder_code, encoder_equations, spike_input
from .equations import RESERVED, neuron_equations
from .nonlinearities import nonlinearity
from .history import PayloadHistory
from .specs import UNSET, NeuronSpec, from_keywords
from .validation import (check_choice, check_finite, check_int, check_positive,
                         check_shape, check_time, delay_steps)

STAGES = {"exact": ("arrivals", "summed", "encoder", "threshold"),
          "genn": ("encoder", "threshold", "arrivals", "summed")}


def slot_order(layer_index, stage, schedule="exact"):
    """Brian2 ``order`` of one stage of a layer's work in a step.

    Parameters
    ----------
    layer_index : int
        The layer's position (0: the input).
    stage : str
        'arrivals', 'summed', 'encoder' or 'threshold'.
    schedule : str
        'exact' or 'genn' (:mod:`sgbrian.network`).

    Returns
    -------
    int
        ``10 * layer_index`` plus the stage's place under ``schedule``.

    Raises
    ------
    ValueError
        An unknown schedule.
    """
    check_choice("schedule", schedule, STAGES)
    return 10 * layer_index + STAGES[schedule].index(stage)


@dataclass
class Layer:
    """A group of SpikingGamma senders and (except for inputs) receivers.

    A neuron layer's settings are those of its :class:`~sgbrian.specs.NeuronSpec`
    (``spec``): ``K``, ``tau``, ``payload``, ``output`` (as a ``Nonlinearity``),
    ``schedule``, ``bucket_weights``, ``drive``, ``extra`` and ``parameters`` read it, so
    that they cannot disagree with it.

    Parameters
    ----------
    group : NeuronGroup or SpikeGeneratorGroup
        The Brian2 group.
    kind : str
        'analog' or 'spikes' (input layers) or 'neuron'.
    index : int
        Position in the network (0: the input).
    max_lag : int
        Payload history kept, in steps (the longest outgoing delay).
    namespace : dict
        The package's constants in the group's namespace (time constants, ...).
    encoder : object
        The ``run_regularly`` operation of the encoder (None for spike inputs).
    history : PayloadHistory or None
        The payload ring buffer of a sender with delayed synapses.
    spec : NeuronSpec or None
        The settings a neuron layer was built from (None for inputs).
    input_payload : str
        Payload of an input layer's encoder ('integer', 'binary' or 'analog').
    input_schedule : str
        Schedule of an input layer's encoder ('exact' or 'genn').
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
        """Record the layer's schedule; the slots are moved by
        :meth:`sgbrian.sgnetwork.SGNetwork.set_schedule`.

        Parameters
        ----------
        schedule : str
            'exact' or 'genn'.

        Raises
        ------
        ValueError
            An unknown schedule.
        """
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
        """The user's extra equations.

        Returns
        -------
        Equations
            The ``extra`` equations of the spec (empty if none).
        """
        if self.extra is None:
            return Equations("")
        return self.extra if isinstance(self.extra, Equations) else Equations(str(self.extra))

    def taus(self):
        """The K bucket time constants, as the group's namespace holds them now (a user may
        change them between runs).

        Returns
        -------
        ndarray
            K times in seconds.
        """
        return layer_taus(self)

    def current_spec(self):
        """The layer's spec with the values its group holds now.

        Returns
        -------
        NeuronSpec
            ``spec`` with the current time constants (one time when all are equal, in
            seconds), per-neuron thresholds and extra parameters, and the user's constants.
        """
        g, taus = self.group, self.taus()
        parameters = {name: getattr(g, name)[:] for name in self.parameters}
        return replace(self.spec, tau=(taus[0] if np.all(taus == taus[0]) else taus) * second,
                       theta=g.theta[:].copy(), parameters=parameters or None,
                       namespace=self.user_namespace() or None)

    def user_namespace(self):
        """The constants the user gave the group.

        Returns
        -------
        dict
            The group's namespace less the package's own names.
        """
        return {k: v for k, v in self.group.namespace.items()
                if k not in self.namespace and not k.startswith("payload_")}


def layer_taus(layer):
    """The K bucket time constants of a neuron layer, as its namespace holds them now.

    Parameters
    ----------
    layer : Layer
        Or anything with ``K`` and ``group.namespace``.

    Returns
    -------
    ndarray
        K times in seconds (``tau_1..tau_K``, or ``tau_gamma`` K times).
    """
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
    """Put the encoder and threshold of a layer at their slots.

    Parameters
    ----------
    group : NeuronGroup
        The layer's group.
    index : int
        The layer's position.
    schedule : str
        'exact' or 'genn'.
    """
    encoder, = [o for o in group.contained_objects if o.name == group.name + "_encoder"]
    encoder.order = slot_order(index, "encoder", schedule)
    group.thresholder["spike"].when = "synapses"
    group.thresholder["spike"].order = slot_order(index, "threshold", schedule)


def neuron_layer(n, K=UNSET, tau=UNSET, theta=UNSET, index=1, output=UNSET, bias=0.0, v=None,
                 bucket_weights=UNSET, payload=UNSET, max_delay=0 * ms, schedule=UNSET,
                 name=None, drive=UNSET, extra=UNSET, parameters=UNSET, namespace=UNSET,
                 method_options=UNSET, spec=None):
    """A layer of ``n`` SpikingGamma neurons (a Brian2 ``NeuronGroup`` inside a Layer).

    The neurons' shared settings come from ``spec`` or from the keywords of the same
    names, not both; a keyword not given (``UNSET``) takes ``NeuronSpec``'s default.

    Parameters
    ----------
    n : int
        Number of neurons (>= 1).
    K, tau, theta, output, bucket_weights, payload, schedule, drive, extra, parameters, namespace, method_options : as in NeuronSpec
        The settings one by one, as in :class:`~sgbrian.specs.NeuronSpec`: ``K`` buckets
        with time constant ``tau`` (a time, or K times, in ms, s, ...), threshold
        ``theta`` (> 0, scalar or per neuron), the ``output`` nonlinearity, extensions as
        in :func:`sgbrian.equations.neuron_equations`.
    index : int
        The layer's position (>= 1).
    bias : float or array_like
        Bias ``b`` (scalar or per neuron).
    v : array_like, optional
        Bucket weights, shape (K+1,) or (n, K+1) (default ``1/(K+1)`` each).
    max_delay : Quantity
        The largest delay of the layer's outgoing synapses (sets the payload history).
    name : str, optional
        Name of the group (default ``layer<index>``).
    spec : NeuronSpec, optional
        All the shared settings at once.

    Returns
    -------
    Layer
        The layer; it keeps its spec (``Layer.spec``).

    Raises
    ------
    ValueError
        A setting out of its range, given both ways, or a constant that redefines one of
        the package's names.
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
    """Set ``v_0..v_K`` on a group or synapses.

    Parameters
    ----------
    target : NeuronGroup or Synapses
        Holds the variables ``v_0..v_K``.
    K : int
        Number of buckets.
    v : array_like or None
        Shape (K+1,) or (len(target), K+1); None: ``1/(K+1)`` each.

    Raises
    ------
    ValueError
        A shape that fits neither, or values that are not finite.
    """
    v = np.full(K + 1, 1.0 / (K + 1)) if v is None else check_finite("v", v)
    if v.ndim == 1:
        v = check_shape("v", v, (K + 1,))[None, :].repeat(len(target), 0)
    v = check_shape("v", v, (len(target), K + 1))
    for k in range(K + 1):
        setattr(target, f"v_{k}", v[:, k])


def analog_layer(signal, sample_dt, theta, payload="integer", max_delay=0 * ms, name=None):
    """Input layer (index 0): analog signals sent as sigma-delta events.

    Parameters
    ----------
    signal : array_like
        Samples x channels.
    sample_dt : Quantity
        Time between samples.
    theta : float or array_like
        Encoder threshold (> 0; scalar or per channel).
    payload : str
        'integer', 'binary' or 'analog'.
    max_delay : Quantity
        The largest delay of the layer's outgoing synapses (sets the payload history).
    name : str, optional
        Name of the group.

    Returns
    -------
    Layer
        The input layer, kind 'analog'.
    """
    max_lag = _lag_steps(max_delay)
    group = analog_input(signal, sample_dt, theta, name)
    encoder, history = _attach_encoder(group, 0, max_lag, payload)
    return Layer(group, "analog", 0, max_lag, encoder=encoder, history=history,
                 input_payload=payload)


def spike_layer(n, indices, times, name=None):
    """Input layer (index 0): given spike trains (impulses, payload 1).

    Parameters
    ----------
    n : int
        Number of channels.
    indices : array_like
        Channel of each spike.
    times : Quantity
        Time of each spike.
    name : str, optional
        Name of the group.

    Returns
    -------
    Layer
        The input layer, kind 'spikes'.
    """
    return Layer(spike_input(n, indices, times, name), "spikes", 0)


