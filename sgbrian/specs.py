"""Settings of a neuron layer and of a connection as frozen dataclasses.

A :class:`NeuronSpec` holds what the neurons of one layer share (docs/spec.md sections
1-3: K buckets with their time constants, the sigma-delta threshold, the output
nonlinearity, payloads, the schedule, extensions); a :class:`ConnectionSpec` how the
synapses between two layers are drawn (weights, connection probability, delays).
:func:`sgbrian.feedforward`, :func:`sgbrian.layers.neuron_layer` and
:func:`sgbrian.network.connect` take them; a network keeps each layer's spec
(``Layer.spec``), so that a copy is ``dataclasses.replace(layer.spec, ...)``::

    >>> from brian2 import ms
    >>> from dataclasses import replace
    >>> hidden = NeuronSpec(K=4, tau=2 * ms, theta=0.1)
    >>> readout = replace(hidden, output="linear")
    >>> readout.K, readout.output, hidden.output
    (4, 'linear', 'relu')

The keywords that name the same settings one by one keep working:
:func:`from_keywords` turns them into a spec, and refuses a setting given both ways.
"""
from dataclasses import dataclass, field, fields

from brian2 import ms


@dataclass(frozen=True)
class NeuronSpec:
    """What the neurons of one layer share.

    Parameters
    ----------
    K : int
        Buckets of the gamma cascade (>= 1).
    tau : Quantity
        Bucket time constant (one time, or K times in ms, s, ...).
    theta : float or array
        Sigma-delta threshold of the layer's encoders (> 0; one value or one per neuron).
    output : str or Nonlinearity
        Output nonlinearity: a name in ``sgbrian.equations.OUTPUTS`` or a ``Nonlinearity``.
    bucket_weights : str
        'neuron' (``v_k`` per neuron) or 'synapse' (per synapse).
    payload : str
        'integer', 'binary' or 'analog' (``sgbrian.encoding``).
    schedule : str
        Order of work in a step: 'exact' or 'genn' (``sgbrian.network``).
    drive, extra, parameters, namespace, method_options : optional
        Extensions of the neuron (``sgbrian.equations.neuron_equations``): extra terms of
        x, extra equations, per-neuron parameters, constants, options of
        ``'gamma_cascade'``.
    """
    K: int = 8
    tau: object = field(default_factory=lambda: 5 * ms)
    theta: object = 0.05
    output: object = "relu"
    bucket_weights: str = "neuron"
    payload: str = "integer"
    schedule: str = "exact"
    drive: object = None
    extra: object = None
    parameters: object = None
    namespace: object = None
    method_options: object = None

    def extensions(self):
        """The settings that extend the neuron.

        Returns
        -------
        dict
            ``drive``, ``extra``, ``parameters``, ``namespace`` and ``method_options``.
        """
        return {name: getattr(self, name) for name in EXTENSIONS}


#: The settings of a NeuronSpec that extend the neuron (hidden layers only in
#: ``feedforward``).
EXTENSIONS = ("drive", "extra", "parameters", "namespace", "method_options")


@dataclass(frozen=True)
class ConnectionSpec:
    """How the synapses of a connection are drawn.

    Parameters
    ----------
    delay : Quantity
        One delay for every synapse (a whole number of steps).
    max_delay : Quantity or list, optional
        Longest delay (default ``delay``); a list gives one per connection of a network.
    random_delays : bool
        Delays drawn uniformly in whole steps from [0, max_delay].
    homogeneous_delay : bool
        One ``delay=`` for the whole ``Synapses`` object (the form brian2genn accepts).
    p_connect : float
        Probability that a pair is connected, in (0, 1].
    weight_scale : float
        Weights ``w ~ N(0, weight_scale^2 / max(1, p_connect * fan_in))``.
    """
    delay: object = field(default_factory=lambda: 0 * ms)
    max_delay: object = None
    random_delays: bool = False
    homogeneous_delay: bool = False
    p_connect: float = 1.0
    weight_scale: float = 1.0


class _Unset:
    """The default of a keyword that was not given (as opposed to one given as None)."""

    def __repr__(self):
        return "UNSET"


#: Default of the keywords that duplicate a spec's settings: "not given".
UNSET = _Unset()


def from_keywords(spec_class, spec, argument, **keywords):
    """A spec from a spec and/or the keywords given one by one.

    With ``spec`` None the given keywords fill a default spec; with a spec, a keyword
    given too is refused.

    Parameters
    ----------
    spec_class : type
        ``NeuronSpec`` or ``ConnectionSpec``.
    spec : NeuronSpec or ConnectionSpec or None
        The spec given.
    argument : str
        The spec's parameter name, for the message.
    **keywords
        The settings given one by one (:data:`UNSET`: not given).

    Returns
    -------
    NeuronSpec or ConnectionSpec
        The spec.

    Raises
    ------
    ValueError
        A setting given both in ``spec`` and as a keyword.
    TypeError
        A keyword that is not a setting of ``spec_class``, or a spec of another class.

    Examples
    --------
    >>> from_keywords(NeuronSpec, None, "neuron", K=3, theta=UNSET).K
    3
    >>> from_keywords(NeuronSpec, NeuronSpec(K=2), "neuron", K=3)
    Traceback (most recent call last):
    ...
    ValueError: give K either in neuron= or as a keyword, not both
    """
    names = {f.name for f in fields(spec_class)}
    unknown = sorted(set(keywords) - names)
    if unknown:
        raise TypeError(f"{spec_class.__name__} has no settings {unknown}")
    given = {k: v for k, v in keywords.items() if v is not UNSET}
    if spec is None:
        return spec_class(**given)
    if not isinstance(spec, spec_class):
        raise TypeError(f"{argument} must be a {spec_class.__name__}, got {type(spec).__name__}")
    if given:
        raise ValueError(f"give {', '.join(sorted(given))} either in {argument}= or as a "
                         "keyword, not both")
    return spec
