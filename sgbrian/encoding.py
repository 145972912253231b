"""Sigma-delta spikes (MODEL.md section 2) and input sources.

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
  *analog model* of MODEL.md section 5, in which gradients are exact (used to check the
  learning rule against finite differences; every step is an event).

Payloads and delays: Brian2 reads presynaptic variables when an event is *delivered*,
not when it is emitted (brian2 issue #1056). A sender therefore keeps its last payloads
``q_lag_1..q_lag_L`` (``q_lag_d`` = payload emitted d steps ago), and a synapse with
delay d steps reads ``q_lag_d_pre``. L is the largest delay, in steps, of the sender's
outgoing synapses.
"""
import numpy as np
from brian2 import (Equations, NeuronGroup, Quantity, SpikeGeneratorGroup, TimedArray,
                    defaultclock, second)
from brian2.units.fundamentalunits import DimensionMismatchError, have_same_dimensions

from .validation import check_choice, check_finite, check_int, check_positive, check_time

PAYLOADS = ("integer", "binary", "analog")


def encoder_equations(max_lag):
    """State of a sigma-delta encoder: ``theta``, ``r``, ``q`` and ``q_lag_1..L``."""
    max_lag = check_int("max_lag", max_lag, 0)
    lines = ["theta : 1 (constant)", "r : 1", "q : 1"]
    lines += [f"q_lag_{d} : 1" for d in range(1, max_lag + 1)]
    return Equations("\n".join(lines))


def encoder_code(max_lag, payload="integer"):
    """Per-step encoder code (runs after this step's events have arrived).

    Shifts the payload history, then ``q = round((y - r)/theta)`` (clipped to [-1, 1]
    for ``payload='binary'``, unrounded for ``'analog'``) and ``r += q*theta``.
    """
    check_choice("payload", payload, PAYLOADS)
    lines = [f"q_lag_{d} = q_lag_{d-1}" for d in range(max_lag, 1, -1)]
    if max_lag >= 1:
        lines.append("q_lag_1 = q")
    quantum = {"integer": "floor((y - r)/theta + 0.5)",
               "binary": "clip(floor((y - r)/theta + 0.5), -1, 1)",
               "analog": "(y - r)/theta"}[payload]
    lines.append(f"q = {quantum}")
    lines.append("r = r + q*theta")
    return "\n".join(lines)


def payload_expression(delay_steps, max_lag):
    """Presynaptic payload seen by a synapse at delivery.

    ``delay_steps`` is an int (homogeneous delay: read ``q_lag_d_pre`` directly) or
    ``None`` (per-synapse delays: select the lag from the synapse's own ``delay``).
    """
    if delay_steps is not None:
        return "q_pre" if delay_steps == 0 else f"q_lag_{delay_steps}_pre"
    terms = ["q_pre*int(_lag_steps == 0)"]
    terms += [f"q_lag_{d}_pre*int(_lag_steps == {d})" for d in range(1, max_lag + 1)]
    return " + ".join(terms)


def sigma_delta(y, theta, payload="integer", level=0.0):
    """Encode the sampled signals ``y`` (steps x channels) offline with numpy.

    Returns ``(q, r)``: payloads and reconstructions, same shape as ``y``. This is the
    same encoder as the Brian2 code, for analyses on given signals. ``level`` is the
    reconstruction before the first sample (an encoder's current ``r``; default 0).
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


def analog_input(signal, sample_dt, theta, max_lag=0, name=None):
    """Analog signals turned into a sigma-delta spike source (a ``NeuronGroup``).

    ``signal`` has shape (samples, channels); sample n is the value on
    ``[t_offset + n*sample_dt, t_offset + (n+1)*sample_dt)`` (a ``TimedArray``; the shared
    variable ``t_offset``, 0 ms by default, lets a new input start at the current time).
    Each channel is encoded with threshold ``theta`` (scalar or one per channel).
    """
    values = check_signal(signal)
    check_time("sample_dt", sample_dt)
    n = values.shape[1]
    theta = check_positive("theta", theta)
    eqs = Equations("y = stimulus(t - t_offset, i) : 1\nt_offset : second (shared)")
    eqs += encoder_equations(max_lag)
    group = NeuronGroup(n, eqs, threshold="q != 0", reset="", name=name or "analog_input*")
    set_stimulus(group, values, sample_dt)
    group.theta = np.broadcast_to(theta, (n,)) if theta.ndim else float(theta)
    return group


def check_signal(signal, channels=None):
    """``signal`` as a finite (samples, channels) float array (1-D: one channel)."""
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
    """
    group.namespace["stimulus"] = TimedArray(values, dt=sample_dt, name=f"{group.name}_stimulus")
    group.t_offset = start


def check_spike_trains(n, indices, times):
    """Validate spike trains for ``n`` channels; return ``(indices, times)`` as int array
    and time Quantity."""
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
    pairs = np.unique(np.stack([indices.astype(np.int64), bins]), axis=1)
    if pairs.shape[1] != indices.size:
        raise ValueError(f"times must hold at most one spike per channel and time step "
                         f"(dt = {defaultclock.dt}); some channels have more")
    return indices.astype(int), times_s * second


def spike_input(n, indices, times, name=None):
    """Given spike trains as a source: a ``SpikeGeneratorGroup`` of ``n`` channels.

    Raw spikes are impulses (MODEL.md section 3): each one lifts bucket 1 of its targets
    by ``w`` and has no tap 0.
    """
    indices, times = check_spike_trains(n, indices, times)
    return SpikeGeneratorGroup(n, indices, times, name=name or "spike_input*")
