"""A small builder for layered feedforward SpikingGamma networks."""
from dataclasses import replace

import numpy as np
from brian2 import defaultclock, ms

from .nonlinearities import nonlinearity
from .layers import analog_layer, neuron_layer, spike_layer
from .network import connect, monitors_for
from .sgnetwork import SGNetwork
from .specs import EXTENSIONS, UNSET, ConnectionSpec, NeuronSpec, from_keywords
from .validation import check_choice, check_int, check_time, delay_steps

RECORDABLE = ("spikes", "signals", "buckets")


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

    Weights: ``w ~ N(0, weight_scale^2 / max(1, p_connect * fan_in))`` (the expected
    number of inputs); connections kept with probability ``p_connect``. Delays: ``delay``
    for all synapses, or with ``random_delays`` whole steps drawn uniformly from
    [0, max_delay]. All draws come from ``numpy.random.default_rng(seed)``, per
    connection in this order: the mask, the weights, then (``random_delays``) the delays.
    Same seed, same network.

    Parameters
    ----------
    sizes : sequence of int
        Neurons per layer, the input first (at least two layers).
    neuron : NeuronSpec, optional
        Settings of every hidden layer (default ``NeuronSpec()``).
    readout : NeuronSpec, optional
        Settings of the last layer (default: ``neuron`` with a linear output and without
        its extensions).
    connection : ConnectionSpec, optional
        Settings of every connection (default ``ConnectionSpec()``).
    signal : array_like, optional
        Analog input, samples x ``sizes[0]``, sigma-delta coded by the input layer.
    sample_dt : Quantity, optional
        Time between the samples of ``signal`` (default: the clock's dt).
    spikes : tuple of (array_like, Quantity), optional
        ``(indices, times)``: a spike input instead of ``signal``.
    encoder_theta : float, optional
        Threshold of the input's encoder (> 0; default the neurons' ``theta``).
    record : sequence of str
        Monitors to make: any of 'spikes', 'signals', 'buckets'.
    seed : int
        Seed of every random draw.
    K, tau, theta, hidden, output, bucket_weights, payload, schedule, drive, extra, parameters, namespace, method_options, delay, max_delay, random_delays, homogeneous_delay, p_connect, weight_scale : as in NeuronSpec and ConnectionSpec
        The same settings as keywords (as before the specs; not both): the neuron
        settings apply to every layer, ``hidden`` and ``output`` are the nonlinearities of
        the hidden layers and the readout, the extensions apply to the hidden layers, and
        the connection settings (times in ms, s, ...) to every connection; ``max_delay``
        may be a list with one time per connection.

    Returns
    -------
    SGNetwork
        The network, built under the current device and clock.

    Raises
    ------
    ValueError
        A setting out of its range (named in the message), or given both as a spec and as
        a keyword.
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
    ``feedforward``'s keywords.

    Parameters
    ----------
    neuron, readout : NeuronSpec or None
        The specs given to ``feedforward``. Without ``readout``, it is ``neuron`` with a
        linear (or ``output``) nonlinearity and no extensions.
    hidden, output : str or Nonlinearity, optional
        The hidden layers' and the readout's output nonlinearity.
    **shared
        The other neuron keywords: they apply to every layer (the extensions to the
        hidden ones).

    Returns
    -------
    tuple of NeuronSpec
        ``(hidden_spec, readout_spec)``.
    """
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
    """The longest delay of each connection, as times and as whole steps.

    Parameters
    ----------
    connection : ConnectionSpec
        Its ``max_delay`` (one time, or a list of ``count``), default its ``delay``.
    count : int
        Number of connections.

    Returns
    -------
    tuple of list
        ``(times, steps)``: one Quantity and one int per connection.

    Raises
    ------
    ValueError
        A list of the wrong length, or a delay that is not a time >= 0.
    """
    check_time("delay", connection.delay, allow_zero=True)
    max_delay = connection.delay if connection.max_delay is None else connection.max_delay
    max_delays = list(max_delay) if isinstance(max_delay, (list, tuple)) else [max_delay] * count
    if len(max_delays) != count:
        raise ValueError(f"max_delay must be one time or {count} times (one per "
                         f"connection), got {len(max_delays)}")
    return max_delays, [int(delay_steps("max_delay", d, defaultclock.dt)) for d in max_delays]


def input_layer(n, signal, sample_dt, spikes, max_delay, theta, payload):
    """The input layer: an analog signal sigma-delta coded, or spike trains.

    Parameters
    ----------
    n : int
        Input channels.
    signal : array_like or None
        Samples x n, or None for a spike input.
    sample_dt : Quantity or None
        Time between samples (default: the clock's dt).
    spikes : tuple of (array_like, Quantity) or None
        ``(indices, times)`` of a spike input.
    max_delay : Quantity
        Longest delay of the input's outgoing synapses (sets its payload history).
    theta : float
        Threshold of the encoder (> 0).
    payload : str
        'integer', 'binary' or 'analog'.

    Returns
    -------
    Layer
        The input layer (index 0).
    """
    if signal is None:
        return spike_layer(n, *spikes)
    signal = np.asarray(signal)
    channels = signal.shape[1] if signal.ndim == 2 else 1
    if channels != n:
        raise ValueError(f"signal has {channels} channels but sizes[0] = {n}")
    sample_dt = defaultclock.dt if sample_dt is None else check_time("sample_dt", sample_dt)
    return analog_layer(signal, sample_dt, theta, payload, max_delay)


def draw_connection(rng, source, target, connection, max_lag):
    """Synapses ``source -> target`` drawn from ``rng``.

    The draws, in this order: the mask (each pair with probability ``p_connect``), the
    weights, then (``random_delays``) the delays in whole steps from [0, ``max_lag``].

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of the draws.
    source, target : Layer
        The connected layers.
    connection : ConnectionSpec
        Probability, weight scale and delays.
    max_lag : int
        The longest delay in steps.

    Returns
    -------
    Synapses
        The connection, weights and delays set.
    """
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
