"""Synthetic stand-ins for camera datasets (DVS Gesture's layout) whose classes differ in
spatio-temporal structure only, not in event counts.

A sample of class c is an edge crossing the sensor in direction ``2 pi c / classes``: every
pixel sends one ON event when the edge reaches it and one OFF event ``width`` later, with
Gaussian jitter on each, plus Poisson noise events at ``noise_rate`` per pixel and
polarity, the same for every class. Every pixel thus sends the same number of events in
every class (noise aside): a classifier of event counts stays near chance
(:func:`sgbrian.analysis.spike_count_baseline`), while the order in which pixels fire
gives the class away. The events are tonic's camera arrays (``x, y, p, t``, t in
microseconds), so that :func:`sgbrian.events.tonic_samples` reads them as it reads
tonic's ``DVSGesture``.
"""
import numpy as np
from brian2 import Hz, ms, second

from .validation import check_int, check_time

#: tonic's DVSGesture event layout.
CAMERA_DTYPE = np.dtype([("x", np.int16), ("y", np.int16), ("p", bool), ("t", np.int64)])


class EventDataset(list):
    """A list of ``(events, target)`` with the sensor's size, like a tonic dataset.

    Parameters
    ----------
    items : list of tuple
        ``(events, target)``.
    sensor_size : tuple of int
        ``(W, H, P)``.
    """

    def __init__(self, items, sensor_size):
        super().__init__(items)
        self.sensor_size = tuple(sensor_size)


def moving_edge_events(direction, sensor_size, duration, rng, width=10 * ms, jitter=1 * ms,
                       noise_rate=2 * Hz):
    """The events of one edge crossing a camera sensor.

    The edge enters at one side at ``duration / 8`` and leaves the other at
    ``5 duration / 8``; pixel ``(x, y)`` sends ON (p = 1) when it passes and OFF (p = 0)
    ``width`` later, each time with Gaussian ``jitter``.

    Parameters
    ----------
    direction : float
        Direction of motion in radians.
    sensor_size : tuple of int
        ``(W, H, 2)``.
    duration : Quantity
        Length of the sample.
    rng : numpy.random.Generator
        Source of the jitter and the noise.
    width : Quantity
        Time between a pixel's ON and OFF events.
    jitter : Quantity
        Standard deviation of each event's time.
    noise_rate : Quantity
        Noise events per pixel and polarity.

    Returns
    -------
    ndarray
        Events of ``CAMERA_DTYPE`` sorted by time (microseconds, within the duration).
    """
    W, H, _ = sensor_size
    T = float(duration / second)
    x, y = np.meshgrid(np.arange(W), np.arange(H), indexing="xy")
    x, y = x.ravel(), y.ravel()
    position = (x - (W - 1) / 2) * np.cos(direction) + (y - (H - 1) / 2) * np.sin(direction)
    span = max(np.ptp(position), 1e-9)
    onset = T / 8 + (position - position.min()) / span * T / 2
    on = onset + rng.normal(0, float(jitter / second), x.size)
    off = onset + float(width / second) + rng.normal(0, float(jitter / second), x.size)
    counts = rng.poisson(float(noise_rate / Hz) * T, (2, x.size))
    noise_pixels = [np.repeat(np.arange(x.size), counts[p]) for p in (0, 1)]
    times = np.r_[on, off]
    pixels = np.r_[np.arange(x.size), np.arange(x.size)]
    polarity = np.r_[np.ones(x.size, bool), np.zeros(x.size, bool)]
    for p in (0, 1):
        times = np.r_[times, rng.uniform(0, T, noise_pixels[p].size)]
        pixels = np.r_[pixels, noise_pixels[p]]
        polarity = np.r_[polarity, np.full(noise_pixels[p].size, bool(p))]
    times = np.clip(times, 0, np.nextafter(T, 0))
    order = np.argsort(times, kind="stable")
    events = np.zeros(order.size, dtype=CAMERA_DTYPE)
    events["x"], events["y"] = x[pixels[order]], y[pixels[order]]
    events["p"], events["t"] = polarity[order], np.floor(times[order] * 1e6).astype(np.int64)
    return events


def synthetic_dvs_gesture(n_samples, sensor_size=(32, 32, 2), classes=11, duration=1500 * ms,
                          seed=0, **edge):
    """A stand-in of DVS Gesture's layout: moving edges, one direction per class.

    Parameters
    ----------
    n_samples : int
        Samples; labels cycle through the classes in a seeded random order.
    sensor_size : tuple of int
        ``(W, H, 2)`` (DVS Gesture downsampled to 32 x 32 by default).
    classes : int
        Directions, evenly spaced over the circle (>= 2).
    duration : Quantity
        Length of a sample.
    seed : int
        Same seed, same samples.
    **edge
        ``width``, ``jitter``, ``noise_rate`` of :func:`moving_edge_events`.

    Returns
    -------
    EventDataset
        ``(events, label)`` pairs with ``sensor_size``.

    Raises
    ------
    ValueError
        A size, count or time out of range (named).
    """
    n_samples = check_int("n_samples", n_samples, 1)
    classes = check_int("classes", classes, 2)
    W, H, P = (check_int(f"sensor_size[{k}]", s, 1) for k, s in enumerate(sensor_size))
    if P != 2:
        raise ValueError(f"sensor_size must have 2 polarities (ON and OFF), got {P}")
    check_time("duration", duration)
    rng = np.random.default_rng([check_int("seed", seed, 0), 2])
    labels = rng.permutation(np.arange(n_samples) % classes)
    items = [(moving_edge_events(2 * np.pi * label / classes, (W, H, P), duration, rng, **edge),
              int(label)) for label in labels]
    return EventDataset(items, (W, H, P))
