"""Measurements on a run: events, quanta, reconstruction error."""
import numpy as np
from brian2 import second

from .encoding import sigma_delta
from .equations import bucket_time_constants
from .learning import SenderCascades, activation, activation_slope
from .propagator import cascade_propagator
from .validation import check_finite


def layer_activity(layer, monitors, duration):
    """Events, quanta and rates of one layer from its monitors.

    Parameters
    ----------
    layer : Layer
        The layer.
    monitors : dict
        Its monitors (``'spikes'`` with payload q; ``'signals'`` for the error).
    duration : Quantity
        The recorded time.

    Returns
    -------
    dict
        ``neurons``; with spikes recorded ``events`` (spike events), ``quanta`` (sum
        ``|q|``, the payloads) and ``rate_hz`` (events per neuron per second); with
        signals recorded ``max_error`` (max ``|y - r|`` / theta over the recorded steps,
        <= 0.5 with integer payloads).
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
    """:func:`layer_activity` for every layer of a network.

    Parameters
    ----------
    net : SGNetwork
        A network built with ``record`` including 'spikes'.
    duration : Quantity
        The recorded time.

    Returns
    -------
    list of dict
        One per layer.
    """
    return [layer_activity(layer, mons, duration) for layer, mons in zip(net.layers, net.monitors)]


def bucket_kernels(K, tau, duration, dt, kind="impulse"):
    """Responses of buckets 1..K to an impulse into bucket 1 or a unit step on the tap.

    Computed with the exact propagator: ``u(n dt) = P(dt)^n u(0)``. For equal time
    constants the impulse response of bucket k is ``tau * gamma.pdf(t; k, tau)`` and the
    step response ``gamma.cdf(t; k, tau)``.

    Parameters
    ----------
    K : int
        Number of buckets.
    tau : Quantity
        One time or K times.
    duration : Quantity
        Length of the response.
    dt : Quantity
        Time step.
    kind : str
        'impulse' or 'step'.

    Returns
    -------
    t : ndarray
        Times in seconds.
    U : ndarray
        Shape (K, steps).

    Examples
    --------
    >>> from brian2 import ms
    >>> t, U = bucket_kernels(2, 1 * ms, 3 * ms, 1 * ms)     # impulse into bucket 1
    >>> U.round(4).tolist()                  # e^(-t/tau) and (t/tau) e^(-t/tau)
    [[1.0, 0.3679, 0.1353], [0.0, 0.3679, 0.2707]]
    """
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


def delay_kernel(v, K, tau, t):
    """The smoothed delay kernel of bucket weights ``v``.

    For equal time constants bucket k responds to an impulse with the gamma density of
    order k, so the weighted sum is ``h(t) = sum_{k>=1} v_k gamma.pdf(t; k, tau)`` (tap 0
    adds ``v_0`` times the input itself, a zero-delay term, returned separately).

    Parameters
    ----------
    v : array_like
        K+1 bucket weights.
    K : int
        Number of buckets.
    tau : Quantity
        The (one) time constant.
    t : array_like
        Times in seconds.

    Returns
    -------
    h : ndarray
        The kernel on ``t``.
    v_0 : float
        The tap's weight.
    mean_delay : float
        Mean of the mixture of gamma densities weighted by ``|v_k|``, in seconds.
    spread : float
        Its standard deviation, in seconds.
    """
    import scipy.stats
    tau_s = float(tau / second)
    v = np.asarray(v, dtype=float)
    if v.shape != (K + 1,):
        raise ValueError(f"v must have shape ({K + 1},), got {v.shape}")
    h = sum(v[k] * scipy.stats.gamma.pdf(t, k, scale=tau_s) for k in range(1, K + 1))
    weights = np.abs(v[1:])
    if weights.sum() == 0:
        return h, v[0], 0.0, 0.0
    orders = np.arange(1, K + 1)
    mean = float((weights * orders).sum() / weights.sum() * tau_s)
    second_moment = float((weights * orders * (orders + 1)).sum() / weights.sum() * tau_s ** 2)
    return h, v[0], mean, float(np.sqrt(max(second_moment - mean ** 2, 0.0)))


def class_tuning(outputs, labels, start_step, n_classes):
    """Mean readout of every output neuron for every true class.

    Parameters
    ----------
    outputs : array_like
        Recorded outputs, samples x steps x n_out.
    labels : array_like
        The true class of each sample.
    start_step : int
        First step averaged.
    n_classes : int
        Number of classes.

    Returns
    -------
    ndarray
        n_classes x n_out.
    """
    means = np.array([o[start_step:].mean(axis=0) for o in outputs])
    labels = np.asarray(labels)
    return np.array([means[labels == c].mean(axis=0) for c in range(n_classes)])


def spike_count_baseline(task):
    """Accuracy of a nearest-class-mean classifier on per-channel spike counts. For a
    timing-only task it sits near chance (1 / n_classes).

    Parameters
    ----------
    task : TaskData
        A classification task with spike inputs.

    Returns
    -------
    float
        Test accuracy.
    """
    def counts(sample):
        return np.bincount(np.asarray(sample.input[0], int), minlength=task.n_inputs)

    train = np.array([counts(s) for s in task.train], dtype=float)
    labels = np.array([s.target for s in task.train])
    centres = np.array([train[labels == c].mean(axis=0) for c in range(task.n_outputs)])
    test = np.array([counts(s) for s in task.test], dtype=float)
    predictions = np.argmin(((test[:, None, :] - centres[None]) ** 2).sum(-1), axis=1)
    return float(np.mean(predictions == np.array([s.target for s in task.test])))


def neuron_response(K, tau, v, duration, dt, kind="impulse"):
    """Response ``sum_k v_k U_k(t)`` of one neuron to an impulse into bucket 1 or a unit
    step on the tap (buckets from :func:`bucket_kernels`).

    Parameters
    ----------
    K : int
        Number of buckets.
    tau : Quantity
        One time or K times.
    v : array_like
        K+1 weights (``v_0`` weighs the tap).
    duration : Quantity
        Length of the response.
    dt : Quantity
        Time step.
    kind : str
        'impulse' or 'step'.

    Returns
    -------
    t : ndarray
        Times in seconds.
    response : ndarray
        The response.
    """
    v = np.asarray(v, dtype=float)
    if v.shape != (K + 1,):
        raise ValueError(f"v must have shape ({K + 1},), got {v.shape}")
    t, U = bucket_kernels(K, tau, duration, dt, kind)
    tap = np.ones_like(t) if kind == "step" else np.zeros_like(t)
    return t, v[0] * tap + v[1:] @ U


def encoding_tradeoff(signal, thetas, payload="integer", dt=None):
    """Reconstruction error and traffic of sigma-delta coding as theta varies.

    Parameters
    ----------
    signal : array_like
        Steps x channels.
    thetas : sequence of float
        Thresholds (> 0).
    payload : str
        'integer', 'binary' or 'analog'.
    dt : Quantity, optional
        Time step (rates per second; without it, per sample).

    Returns
    -------
    list of dict
        One per theta: max and RMS of ``|y - r|`` (in units of theta and absolute),
        events and quanta per channel per second (or per sample).
    """
    signal = np.atleast_2d(np.asarray(signal, dtype=float).T).T
    seconds = signal.shape[0] * float(dt / second) if dt is not None else signal.shape[0]
    rows = []
    for theta in thetas:
        q, r = sigma_delta(signal, theta, payload)
        err = np.abs(signal - r)
        rows.append({"theta": float(theta), "max_error": float(err.max()),
                     "rms_error": float(np.sqrt(np.mean(err ** 2))),
                     "max_error_over_theta": float(err.max() / theta),
                     "events_per_channel": float(np.count_nonzero(q)) / signal.shape[1] / seconds,
                     "quanta_per_channel": float(np.abs(q).sum()) / signal.shape[1] / seconds})
    return rows


def unrolled_readout_gradients(learner, sample):
    """The readout's gradients (w into the readout, v and b of the readout) computed the
    unrolled, BPTT way: record the whole trajectory (the readout's buckets and the
    senders' signals at every step), then sum over time. Memory grows with the sequence
    length; the online learner's does not.

    Parameters
    ----------
    learner : OnlineLearner
        A learner of a network with one hidden layer.
    sample : Sample
        The sample run.

    Returns
    -------
    dict
        Like ``learner.gradients``.
    """
    from brian2 import SpikeMonitor, StateMonitor
    net, conn = learner.net, learner.connections[-1]
    readout, sender = net.layers[-1], net.layers[-2]
    L = len(net.layers) - 1
    buckets = StateMonitor(readout.group, [f"U_{k}" for k in range(readout.K + 1)], record=True,
                           when="end", name="unrolled_buckets")
    if sender.kind == "spikes":
        signal_monitor = SpikeMonitor(sender.group, when="end", name="unrolled_sender")
    else:
        signal_monitor = StateMonitor(sender.group, "r", record=True, when="end",
                                      name="unrolled_sender")
    net.network.add(buckets, signal_monitor)
    try:
        learner.evaluate([sample])
    finally:
        net.network.remove(buckets, signal_monitor)
    T = sample.n_steps
    U = np.stack([getattr(buckets, f"U_{k}")[:, :T] for k in range(readout.K + 1)], axis=-1)
    U = U.transpose(1, 0, 2)                                        # (T, n_out, K+1)
    if sender.kind == "spikes":
        signal = np.zeros((T, sender.n))
        steps = np.rint(np.asarray(signal_monitor.t / learner.dt)).astype(int)
        inside = steps < T
        signal[steps[inside], np.asarray(signal_monitor.i[:])[inside]] = 1.0
    else:
        signal = np.asarray(signal_monitor.r[:, :T]).T
    v, b = learner.params[f"v{L}"], learner.params[f"b{L}"]
    x = b + np.einsum("tnk,nk->tn", U, v)
    delta = np.zeros_like(x)
    for n in range(T):
        _, dy = learner.loss.step(activation(readout, x[n]), sample, n)
        if dy is not None:
            delta[n] = dy * activation_slope(readout, x[n])
    cascades = SenderCascades((sender.n,), conn.delays.max(initial=0), conn.P,
                              impulse=sender.kind == "spikes")
    history = np.empty((T, len(conn.delays), sender.n, conn.P.shape[0]))   # the trajectory
    for n in range(T):
        cascades.step(signal[n])
        history[n] = cascades.delayed(conn.delays)
    u_syn = history[:, conn.delay_index, conn.pre]                  # (T, S, K+1)
    grads = {f"v{L}": np.einsum("tn,tnk->nk", delta, U), f"b{L}": delta.sum(axis=0),
             f"w{L - 1}": np.einsum("ts,tsk,sk->s", delta[:, conn.post], u_syn, v[conn.post])}
    return grads


def pareto_front(activity, score, higher_is_better=True):
    """The points no other point beats in both activity and score: the trade-off front
    of accuracy (or NRMSE) against quanta per neuron per second.

    A point is dominated when another has at most its activity and at least its score
    (at most, for ``higher_is_better=False``: NRMSE), one of the two strictly. Ties in
    both are all kept.

    Parameters
    ----------
    activity : array_like
        Quanta (or events) per neuron per second of each point.
    score : array_like
        Its test score.
    higher_is_better : bool
        True for accuracy, False for NRMSE.

    Returns
    -------
    ndarray
        Indices of the front's points, by increasing activity (then better score).

    Raises
    ------
    ValueError
        NaN or infinite values, or arrays of different shapes.

    Examples
    --------
    >>> pareto_front([100, 200, 150, 300, 120], [0.80, 0.95, 0.79, 0.95, 0.85]).tolist()
    [0, 4, 1]
    >>> pareto_front([100, 200, 150], [0.10, 0.05, 0.20], higher_is_better=False).tolist()
    [0, 1]
    """
    a = check_finite("activity", activity)
    s = check_finite("score", score) * (1.0 if higher_is_better else -1.0)
    if a.shape != s.shape or a.ndim != 1:
        raise ValueError(f"activity and score must be 1-D of one length, got {a.shape} and {s.shape}")
    better_or_equal = (a[None, :] <= a[:, None]) & (s[None, :] >= s[:, None])
    strictly = (a[None, :] < a[:, None]) | (s[None, :] > s[:, None])
    dominated = np.any(better_or_equal & strictly, axis=1)
    front = np.flatnonzero(~dominated)
    return front[np.lexsort((-s[front], a[front]))]
