"""Generated, seeded tasks with train and test splits, and the networks that solve them.

1. ``delay_task``: band-limited noise in, the same signal delayed by D out (MSE).
2. ``itd_task``: barn-owl style interaural time difference: two channels carry the same
   spike pattern, one shifted by a delay class between -1 and +1 ms (cross-entropy).
3. ``timing_task``: SHD-like spatio-temporal spike patterns over 100 channels, 10
   classes with identical spike counts, so only timing separates them (cross-entropy).
4. ``shd_task``: the Spiking Heidelberg Digits (now in :mod:`sgbrian.event_tasks`, with
   SSC and DVS Gesture; importable here as before).

Each ``*_task`` returns a :class:`~sgbrian.datasets.TaskData`; each ``*_network`` builds
the network used for it in ``models/`` (a :class:`~sgbrian.sgnetwork.SGNetwork`).
"""
import numpy as np
from brian2 import Hz, defaultclock, ms, second

from .builder import feedforward
from .datasets import Sample, TaskData, regrid  # noqa: F401  (regrid, kept importable here)
from .event_tasks import shd_network, shd_task  # noqa: F401  (moved to event_tasks; kept importable here)
from .signals import band_limited_noise
from .specs import ConnectionSpec, NeuronSpec
from .validation import check_int, check_time


def _steps(duration, dt):
    return int(round(float(duration / dt)))


def delayed(signal, delay, dt):
    """A signal delayed by any real delay: exact for a periodic band-limited signal (a
    phase shift in the Fourier domain).

    Parameters
    ----------
    signal : ndarray
        Steps x channels.
    delay : Quantity
        The delay.
    dt : Quantity
        Time between samples.

    Returns
    -------
    ndarray
        The delayed signal, same shape.
    """
    freqs = np.fft.rfftfreq(signal.shape[0], float(dt / second))
    spectrum = np.fft.rfft(signal, axis=0) * np.exp(-2j * np.pi * freqs * float(delay / second))[:, None]
    return np.fft.irfft(spectrum, n=signal.shape[0], axis=0)


def delay_task(n_train=20, n_test=5, duration=200 * ms, delay=7.3 * ms, cutoff=50 * Hz,
               dt=None, seed=0):
    """Delay learning: target(t) = input(t - delay); input: unit-variance noise below
    ``cutoff``. The first ``2 * delay`` of each sample carries no loss (the network cannot
    know the input before the sample began).

    Parameters
    ----------
    n_train, n_test : int
        Samples.
    duration : Quantity
        Length of a sample.
    delay : Quantity
        The delay to learn.
    cutoff : Quantity
        Band limit of the input.
    dt : Quantity, optional
        Time step (default: the clock's).
    seed : int
        Same seed, same samples.

    Returns
    -------
    TaskData
        Train and test samples on ``dt``.
    """
    dt = dt or defaultclock.dt
    check_time("delay", delay)
    n = _steps(duration, dt)
    warmup = _steps(2 * delay, dt)
    if n <= warmup:
        raise ValueError(f"duration must be > 2*delay ({2 * delay}), got {duration}")
    samples = []
    for s in range(n_train + n_test):
        x = band_limited_noise(n, dt, cutoff, 1, seed=seed * 100003 + s)
        weight = np.r_[np.zeros(warmup), np.ones(n - warmup)]
        samples.append(Sample(x, delayed(x, delay, dt), n, weight))
    return TaskData("delay", samples[:n_train], samples[n_train:], dt, 1, 1, "mse",
                    f"output = input delayed by {delay} (band-limited noise, {cutoff} cutoff)")


def delay_network(task, K=8, tau=1 * ms, theta=0.02, seed=0, record=()):
    """1 -> 1 linear readout: the bucket weights learn the delay kernel.

    Parameters
    ----------
    task : TaskData
        A delay task.
    K : int
        Buckets.
    tau : Quantity
        Bucket time constant.
    theta : float
        Threshold of the encoders.
    seed : int
        Seed of the weights and delays.
    record : sequence of str
        Monitors to make.

    Returns
    -------
    SGNetwork
        The network (input: the first training sample).
    """
    return feedforward([1, 1], K=K, tau=tau, theta=theta, signal=task.train[0].input,
                       record=record, seed=seed)


def itd_task(n_train=360, n_test=180, n_classes=9, max_itd=1 * ms, duration=15 * ms,
             rate=600 * Hz, dt=None, seed=0):
    """Interaural time difference: one random spike pattern (Poisson, ``rate``) on the left
    channel, the same pattern shifted by the class's ITD on the right (positive: right
    lags). ITDs: ``n_classes`` values evenly spaced in [-max_itd, +max_itd], each a whole
    number of steps. Classes are balanced.

    Parameters
    ----------
    n_train, n_test : int
        Samples.
    n_classes : int
        Number of ITDs.
    max_itd : Quantity
        Largest ITD.
    duration : Quantity
        Length of a sample.
    rate : Quantity
        Rate of the pattern's spikes.
    dt : Quantity, optional
        Time step (default: the clock's).
    seed : int
        Same seed, same samples.

    Returns
    -------
    TaskData
        Train and test samples on ``dt``.
    """
    dt = dt or defaultclock.dt
    n_classes = check_int("n_classes", n_classes, 2)
    itds = np.linspace(-1, 1, n_classes) * float(max_itd / dt)
    if np.any(np.abs(itds - np.round(itds)) > 1e-9):
        raise ValueError(f"n_classes={n_classes} and max_itd={max_itd} give ITDs that are not "
                         f"whole steps of dt={dt}")
    itds = np.round(itds).astype(int)
    n = _steps(duration, dt)
    margin = int(np.abs(itds).max())
    rng = np.random.default_rng(seed)
    p_spike = float(rate * dt)
    samples = []
    for s in range(n_train + n_test):
        label = s % n_classes
        steps = np.flatnonzero(rng.random(n - 2 * margin) < p_spike) + margin
        left, right = steps, steps + itds[label]
        indices = np.r_[np.zeros(len(left), int), np.ones(len(right), int)]
        times = np.r_[left, right] * dt
        samples.append(Sample((indices, times), label, n))
    order = rng.permutation(n_train)
    return TaskData("itd", [samples[i] for i in order], samples[n_train:], dt, 2, n_classes,
                    "cross_entropy",
                    f"{n_classes} ITD classes in [-{max_itd}, {max_itd}] at dt = {dt}")


def itd_network(task, hidden=48, K=2, tau=0.1 * ms, readout_tau=2 * ms, max_delay=1 * ms,
                bias=-1.2, theta=0.05, seed=0):
    """2 -> hidden (coincidence detectors) -> classes.

    Every hidden neuron receives both ears through random whole-step delays in
    [0, max_delay] (a Jeffress-like array of delay differences), with unit weights and
    bucket weights and a bias of -1.2: one spike alone lifts x to at most 1, so only
    arrivals within about 0.2 ms of each other drive the neuron. The readout's buckets
    are slower (``readout_tau``) to integrate the evidence.

    Parameters
    ----------
    task : TaskData
        An ITD task.
    hidden : int
        Coincidence detectors.
    K : int
        Buckets.
    tau : Quantity
        The detectors' bucket time constant.
    readout_tau : Quantity
        The readout's.
    max_delay : Quantity
        Longest input delay.
    bias : float
        The detectors' bias.
    theta : float
        Threshold of the detectors' and the readout's encoders.
    seed : int
        Seed of the weights and delays.

    Returns
    -------
    SGNetwork
        The network (input: the first training sample).
    """
    net = feedforward([2, hidden, task.n_outputs], neuron=NeuronSpec(K=K, tau=tau, theta=theta),
                      readout=NeuronSpec(K=K, tau=readout_tau, theta=theta, output="linear"),
                      connection=ConnectionSpec(max_delay=[max_delay, 0 * ms], random_delays=True),
                      spikes=task.train[0].input, seed=seed)
    net.synapses[0].w = 1.0
    net.layers[1].group.b = bias
    for k in range(K + 1):
        setattr(net.layers[1].group, f"v_{k}", 1.0)
    return net


def timing_task(n_train=500, n_test=200, n_classes=10, channels=100, duration=60 * ms,
                jitter=1 * ms, noise_rate=2 * Hz, dt=None, seed=0):
    """SHD-like timing-only patterns: class c has a template in which every channel fires
    exactly once, at a random time. A sample is its class's template with Gaussian
    ``jitter`` on every spike plus Poisson noise spikes at ``noise_rate`` per channel, the
    same for every class: spike counts carry no class information.

    Parameters
    ----------
    n_train, n_test : int
        Samples.
    n_classes : int
        Classes.
    channels : int
        Input channels.
    duration : Quantity
        Length of a sample.
    jitter : Quantity
        Standard deviation of each spike's jitter.
    noise_rate : Quantity
        Noise spikes per channel.
    dt : Quantity, optional
        Time step (default: the clock's).
    seed : int
        Same seed, same samples.

    Returns
    -------
    TaskData
        Train and test samples on ``dt``.
    """
    dt = dt or defaultclock.dt
    if not float(noise_rate / Hz) >= 0:
        raise ValueError(f"noise_rate must be >= 0 Hz, got {noise_rate}")
    n = _steps(duration, dt)
    rng = np.random.default_rng(seed)
    edge = _steps(3 * jitter, dt) + 1
    templates = rng.uniform(edge, n - edge, (n_classes, channels))
    samples = []
    for s in range(n_train + n_test):
        label = s % n_classes
        steps = np.round(templates[label] + rng.normal(0, float(jitter / dt), channels))
        steps = np.clip(steps, 0, n - 1).astype(int)
        noise = rng.random((n, channels)) < float(noise_rate * dt)
        noise_steps, noise_channels = np.nonzero(noise)
        indices = np.r_[np.arange(channels), noise_channels]
        times = np.r_[steps, noise_steps]
        keep = np.unique(np.stack([indices, times]), axis=1, return_index=True)[1]
        samples.append(Sample((indices[keep], times[keep] * dt), label, n))
    order = rng.permutation(n_train)
    return TaskData("timing", [samples[i] for i in order], samples[n_train:], dt, channels,
                    n_classes, "cross_entropy",
                    f"{n_classes} timing-only patterns over {channels} channels, "
                    f"jitter {jitter}, noise {noise_rate}")


def timing_network(task, hidden=64, K=8, tau=5 * ms, theta=0.05, seed=0):
    """channels -> hidden (relu) -> classes, buckets spanning the pattern duration.

    Parameters
    ----------
    task : TaskData
        A timing task.
    hidden : int
        Hidden neurons.
    K : int
        Buckets.
    tau : Quantity
        Bucket time constant.
    theta : float
        Threshold of the encoders.
    seed : int
        Seed of the weights and delays.

    Returns
    -------
    SGNetwork
        The network (input: the first training sample).
    """
    return feedforward([task.n_inputs, hidden, task.n_outputs], K=K, tau=tau, theta=theta,
                       spikes=task.train[0].input, weight_scale=2.0, seed=seed)
