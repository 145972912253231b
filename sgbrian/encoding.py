"""Sigma-delta spikes (docs/spec.md section 2) and input sources.

Every sender i keeps its reconstruction ``r_i = theta_i n_i``. At each step

    q = round((y_i - r_i) / theta_i);   if q != 0: emit one event with payload q;
    r_i += q theta_i

so ``|y_i - r_i| <= theta_i / 2`` after every step, whatever dt. ``round`` is
round-half-up, ``floor(z + 0.5)`` (Brian2 has no ``round``; numpy's ``round`` would be
half-to-even). Payload modes:

- ``'integer'`` (default): as above.
- ``'binary'``: q clipped to -1, 0, +1: the reconstruction then moves at most ``theta``
  per step and lags on transients faster than ``theta / dt``.
- ``'analog'``: ``q = (y - r)/theta`` unrounded, so ``r = y`` after every step: the
  *analog model* of docs/spec.md section 5, in which gradients are exact (used to check the
  learning rule against finite differences; every step is an event).

Payloads and delays: Brian2 reads presynaptic variables when an event is *delivered*,
not when it is emitted (brian2 issue #1056). A sender with delayed outgoing synapses
therefore stores every payload in a ring buffer of its last L + 1 steps (L = its largest
outgoing delay in steps), and a synapse with delay d reads the payload of d steps ago
from it: O(1) per event and per neuron and step, for any L (``sgbrian.history``).
"""
import numpy as np
from brian2 import (Equations, NeuronGroup, Quantity, SpikeGeneratorGroup, TimedArray,
                    defaultclock, second)
from brian2.units.fundamentalunits import DimensionMismatchError, have_same_dimensions

from .validation import check_choice, check_finite, check_int, check_positive, check_time

PAYLOADS = ("integer", "binary", "analog")


def encoder_equations():
    """State of a sigma-delta encoder.

    Returns
    -------
    Equations
        ``theta`` (threshold), ``r`` (reconstruction) and ``q`` (payload of this step).
    """
    return Equations("theta : 1 (constant)\nr : 1\nq : 1")


def encoder_code(payload="integer", history=False):
    """Per-step encoder code (runs after this step's events have arrived).

    ``q = round((y - r)/theta)`` (clipped to [-1, 1] for ``payload='binary'``,
    unrounded for ``'analog'``) and ``r += q*theta``.

    Parameters
    ----------
    payload : str
        'integer', 'binary' or 'analog'.
    history : bool
        Also store q in the sender's payload ring buffer (:mod:`sgbrian.history`).

    Returns
    -------
    str
        Brian2 abstract code.
    """
    check_choice("payload", payload, PAYLOADS)
    lines = []
    quantum = {"integer": "floor((y - r)/theta + 0.5)",
               "binary": "clip(floor((y - r)/theta + 0.5), -1, 1)",
               "analog": "(y - r)/theta"}[payload]
    lines.append(f"q = {quantum}")
    lines.append("r = r + q*theta")
    if history:
        lines.append("q = payload_store(q, i, t_in_timesteps, N, payload_slots)")
    return "\n".join(lines)


def payload_expression(delay_steps, max_lag):
    """Presynaptic payload seen by a synapse at delivery. O(1) per event for any delay.

    Parameters
    ----------
    delay_steps : int or None
        A homogeneous delay in steps, or None for per-synapse delays (``d`` from the
        synapse's own ``delay``, in ``_lag_steps``).
    max_lag : int
        The sender's history in steps (0: no history, every delay is 0).

    Returns
    -------
    str
        The sender's ``q`` now, or its payload ``d`` steps ago read from its ring buffer.
    """
    if max_lag == 0:
        return "q_pre"
    lag = "_lag_steps" if delay_steps is None else str(int(delay_steps))
    return f"payload_read(i, t_in_timesteps - {lag}, N_pre, payload_slots)"


def sigma_delta(y, theta, payload="integer", level=0.0):
    """Encode sampled signals offline with numpy: the same encoder as the Brian2 code, for
    analyses on given signals.

    Parameters
    ----------
    y : array_like
        Steps x channels (1-D: one channel).
    theta : float or array_like
        Threshold (> 0; scalar or per channel).
    payload : str
        'integer', 'binary' or 'analog'.
    level : float or array_like
        The reconstruction before the first sample (an encoder's current ``r``).

    Returns
    -------
    q : ndarray
        Payloads, same shape as ``y``.
    r : ndarray
        Reconstructions, same shape as ``y``.

    Examples
    --------
    >>> q, r = sigma_delta([0.0, 0.26, 0.31, 0.1], theta=0.1)
    >>> q.ravel().tolist(), r.ravel().round(4).tolist()    # |y - r| <= theta / 2
    ([0.0, 3.0, 0.0, -2.0], [0.0, 0.3, 0.3, 0.1])
    """
    y = np.atleast_2d(check_finite("y", y).T).T
    theta = check_positive("theta", theta)
    q = np.zeros_like(y)
    r = np.zeros_like(y)
    level = np.broadcast_to(check_finite("level", level), (y.shape[1],)).astype(float)
    for n in range(y.shape[0]):
        step = (y[n] - level) / theta
        if payload != "analog":
            step = np.floor(step + 0.5)
        if payload == "binary":
            step = np.clip(step, -1, 1)
        level = level + step * theta
        q[n], r[n] = step, level
    return q, r


def analog_input(signal, sample_dt, theta, name=None):
    """Analog signals turned into a sigma-delta spike source (a ``NeuronGroup``).

    Sample n is the value on ``[t_offset + n*sample_dt, t_offset + (n+1)*sample_dt)`` (a
    ``TimedArray``; the shared variable ``t_offset``, 0 ms by default, lets a new input
    start at the current time).

    Parameters
    ----------
    signal : array_like
        Samples x channels.
    sample_dt : Quantity
        Time between samples.
    theta : float or array_like
        Threshold (> 0; scalar or one per channel).
    name : str, optional
        Name of the group.

    Returns
    -------
    NeuronGroup
        The encoder group.
    """
    values = check_signal(signal)
    check_time("sample_dt", sample_dt)
    n = values.shape[1]
    theta = check_positive("theta", theta)
    eqs = Equations("y = stimulus(t - t_offset, i) : 1\nt_offset : second (shared)")
    eqs += encoder_equations()
    group = NeuronGroup(n, eqs, threshold="q != 0", reset="", name=name or "analog_input*",
                        namespace={})
    set_stimulus(group, values, sample_dt)
    group.theta = np.broadcast_to(theta, (n,)) if theta.ndim else float(theta)
    return group


def check_signal(signal, channels=None):
    """A signal as a finite float array.

    Parameters
    ----------
    signal : array_like
        Samples x channels (1-D: one channel).
    channels : int, optional
        The number of channels it must have.

    Returns
    -------
    ndarray
        Shape (samples, channels).

    Raises
    ------
    ValueError
        Not finite, empty, or the wrong number of channels.
    """
    values = check_finite("signal", signal)
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2 or values.shape[0] == 0 or (channels and values.shape[1] != channels):
        expected = f"(samples, {channels})" if channels else "(samples, channels)"
        raise ValueError(f"signal must have shape {expected}, got {values.shape}")
    return values


def set_stimulus(group, values, sample_dt, start=0 * second):
    """Make ``values`` the input of an analog group, beginning at time ``start``.

    The ``TimedArray`` keeps one name per group, so the generated code (and Cython's
    cache) stays the same when the input changes.

    Parameters
    ----------
    group : NeuronGroup
        An analog input group.
    values : ndarray
        Samples x channels.
    sample_dt : Quantity
        Time between samples.
    start : Quantity
        When the new input begins.
    """
    group.namespace["stimulus"] = TimedArray(values, dt=sample_dt, name=f"{group.name}_stimulus")
    group.t_offset = start


def check_spike_trains(n, indices, times):
    """Validate spike trains.

    Parameters
    ----------
    n : int
        Number of channels.
    indices : array_like
        Channel of each spike (0 <= i < n).
    times : Quantity
        Time of each spike (>= 0).

    Returns
    -------
    indices : ndarray
        As ints.
    times : Quantity
        As times.

    Raises
    ------
    ValueError
        Unequal lengths, an index out of range, or a time that is negative or not a time.
    """
    n = check_int("n (number of input channels)", n, 1)
    indices = np.asarray(check_finite("indices", indices))
    if indices.size and (np.any(indices != np.round(indices)) or indices.min() < 0
                         or indices.max() >= n):
        raise ValueError(f"indices must be integers in [0, {n - 1}]")
    try:
        times = Quantity(times)
    except (TypeError, ValueError, DimensionMismatchError):
        raise ValueError("times must be times with units (e.g. [1, 2]*ms)") from None
    if not have_same_dimensions(times, second):
        raise ValueError(f"times must have units of time (e.g. [1, 2]*ms), got {times!r}")
    times_s = check_finite("times", np.asarray(times / second, dtype=float))
    if times_s.shape != indices.shape:
        raise ValueError(f"indices and times must have the same length, "
                         f"got {indices.size} and {times_s.size}")
    if np.any(times_s < 0):
        raise ValueError("times must be >= 0 ms")
    bins = np.rint(times_s / float(defaultclock.dt / second)).astype(np.int64)
    keys = np.sort(indices.astype(np.int64) * (int(bins.max(initial=0)) + 1) + bins)
    if np.any(keys[1:] == keys[:-1]):        # a (channel, step) pair twice
        raise ValueError(f"times must hold at most one spike per channel and time step "
                         f"(dt = {defaultclock.dt}); some channels have more")
    return indices.astype(int), times_s * second


def spike_input(n, indices, times, name=None):
    """Given spike trains as a source: a ``SpikeGeneratorGroup`` of ``n`` channels.

    Raw spikes are impulses (docs/spec.md section 3): each one lifts bucket 1 of its
    targets by ``w`` and has no tap 0.

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
    SpikeGeneratorGroup
        The source.
    """
    indices, times = check_spike_trains(n, indices, times)
    return SpikeGeneratorGroup(n, indices, times, name=name or "spike_input*")
