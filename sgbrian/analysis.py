"""Measurements on a run: events, quanta, reconstruction error."""
import numpy as np
from brian2 import second


def layer_activity(layer, monitors, duration):
    """Events, quanta and rates of one layer from its monitors.

    events = number of spike events; quanta = sum |q| (the payloads);
    rate = events per neuron per second; max_error = max |y - r| / theta over all
    recorded steps (<= 0.5 in integer-payload mode).
    """
    spikes = monitors.get("spikes")
    out = {"neurons": layer.n}
    if spikes is not None:
        out["events"] = int(spikes.num_spikes)
        q = spikes.q[:] if "q" in spikes.record_variables else np.ones(spikes.num_spikes)
        out["quanta"] = float(np.abs(q).sum())
        out["rate_hz"] = out["events"] / layer.n / float(duration / second)
    signals = monitors.get("signals")
    if signals is not None and len(signals.t):
        theta = layer.group.theta[:][:, None]
        out["max_error"] = float(np.max(np.abs(signals.y[:] - signals.r[:]) / theta))
    return out


def network_activity(net, duration):
    """``layer_activity`` for every layer of an ``SGNetwork``."""
    return [layer_activity(layer, mons, duration) for layer, mons in zip(net.layers, net.monitors)]


def bucket_kernels(K, tau, duration, dt, kind="impulse"):
    """Responses of buckets 1..K to an impulse into bucket 1 or a unit step on the tap.

    Computed with the exact propagator: ``u(n dt) = P(dt)^n u(0)``. Returns ``(t, U)``,
    ``t`` in seconds and ``U`` of shape (K, steps). For equal time constants the
    impulse response of bucket k is ``tau * gamma.pdf(t; k, tau)`` and the step
    response ``gamma.cdf(t; k, tau)``.
    """
    from .equations import bucket_time_constants
    from .propagator import cascade_propagator
    names, namespace = bucket_time_constants(K, tau)
    taus = np.array([float(namespace[n] / second) for n in names])
    steps = int(round(float(duration / dt)))
    P = cascade_propagator(float(dt / second), taus)
    u = np.zeros(K + 1)
    u[1 if kind == "impulse" else 0] = 1.0
    out = np.empty((K, steps))
    for n in range(steps):
        out[:, n] = u[1:]
        u = P @ u
    return np.arange(steps) * float(dt / second), out
