"""Event datasets as sgbrian samples: the adapter for ``tonic``'s event arrays.

``tonic`` (the neuromorphic datasets library: SHD, SSC, DVSGesture, N-MNIST, ...) gives
each sample as a numpy structured array of events, after the user's own tonic transforms
(``Downsample``, ``Denoise``, ...): audio-like ``(t, x, p)`` and camera-like
``(x, y, p, t)``, times in microseconds, with the dataset's ``sensor_size = (W, H, P)``.
:func:`event_sample` turns one such array into a :class:`~sgbrian.samples.Sample` of spike
trains on a time step ``dt`` and a duration; :func:`tonic_samples` does it for a whole
dataset. No tonic is needed here: any array with those fields will do.

Channel order (documented choice): the flat channel of an event is

    c = x + W * (y + H * p)

the C order of ``(p, y, x)``: the columns of a row, the rows of a polarity, then the
polarities. With ``polarity='channels'`` each polarity has its own ``W H`` channels; with
``'ignore'`` ``p`` is dropped (``c = x + W y``, ``W H`` channels), so that an ON and an
OFF event of a pixel count alike. A sensor with ``P = 1`` has one polarity and ``p`` is
not read (tonic's SHD and SSC set ``p = 1``); audio (``H = 1``) is then ``c = x``.

Time: an event at ``t`` falls into step ``floor(t / dt)``; events at or after
``duration`` are dropped. Several events of one channel in one step are merged into one
spike (``merge='drop'``): the input layer's raw spikes carry a payload of 1 (an impulse
into bucket 1, docs/spec.md section 3), so a count or a signed polarity as the payload
(``merge='count'``, ``polarity='signed'``) would need spike inputs that carry payloads,
which the package does not have; both are refused with that reason. This is what the
package's own SHD reader (:func:`sgbrian.datasets.load_shd`) does, and the two give the
same samples on the same file.
"""
import numpy as np
from brian2 import usecond

from .samples import binned_spikes
from .validation import check_choice, check_int, check_time

#: How polarity enters the channels.
POLARITIES = ("channels", "ignore")
#: How the events of one channel in one step are merged.
MERGES = ("drop",)
#: Choices that need payload-carrying spike inputs (refused, with the reason).
NEEDS_PAYLOADS = {"polarity": ("signed",), "merge": ("count",)}


def _check_mode(name, value, allowed):
    if value in NEEDS_PAYLOADS[name]:
        raise ValueError(f"{name}={value!r} sends payloads other than 1, and the input layer's "
                         "raw spikes carry 1 (an impulse into bucket 1); use "
                         f"{name} in {list(allowed)}")
    return check_choice(name, value, allowed)


def _sensor(sensor_size):
    if len(sensor_size) != 3:
        raise ValueError(f"sensor_size must be (W, H, P), got {sensor_size!r}")
    return tuple(check_int(f"sensor_size[{k}]", int(s), 1) for k, s in enumerate(sensor_size))


def channel_count(sensor_size, polarity="channels"):
    """Number of input channels of a sensor.

    Parameters
    ----------
    sensor_size : tuple of int
        ``(W, H, P)``, as tonic gives it.
    polarity : str
        'channels' (``W H P`` channels) or 'ignore' (``W H``).

    Returns
    -------
    int
        The channels.

    Examples
    --------
    >>> channel_count((32, 32, 2)), channel_count((32, 32, 2), "ignore"), channel_count((700, 1, 1))
    (2048, 1024, 700)
    """
    W, H, P = _sensor(sensor_size)
    return W * H * (P if _check_mode("polarity", polarity, POLARITIES) == "channels" else 1)


def event_channels(events, sensor_size, polarity="channels"):
    """The flat channel of each event, ``c = x + W (y + H p)`` (module docstring).

    Parameters
    ----------
    events : ndarray
        A structured array with fields ``x`` and, where the sensor has them, ``y`` and
        ``p`` (tonic's order of fields does not matter).
    sensor_size : tuple of int
        ``(W, H, P)``.
    polarity : str
        'channels' or 'ignore'.

    Returns
    -------
    ndarray
        One int per event.

    Raises
    ------
    ValueError
        A coordinate outside the sensor (named with its range), or a field missing.

    Examples
    --------
    >>> ev = np.array([(1, 0, 0, 5), (2, 1, 1, 7)],
    ...               dtype=[("x", int), ("y", int), ("p", int), ("t", int)])
    >>> event_channels(ev, (4, 3, 2)).tolist(), event_channels(ev, (4, 3, 2), "ignore").tolist()
    ([1, 18], [1, 6])
    """
    W, H, P = _sensor(sensor_size)
    polarity = _check_mode("polarity", polarity, POLARITIES)
    names = events.dtype.names or ()

    def coordinate(field, size):
        if field not in names:
            if field == "x" or size > 1:
                raise ValueError(f"events lack the field {field!r} a sensor of size "
                                 f"{(W, H, P)} needs (fields: {list(names)})")
            return 0
        value = events[field].astype(np.int64)
        if value.size and (value.min() < 0 or value.max() >= size):
            raise ValueError(f"events: {field} must lie in [0, {size - 1}] for sensor_size "
                             f"{(W, H, P)}, got values in [{value.min()}, {value.max()}]")
        return value

    x, y = coordinate("x", W), coordinate("y", H)
    p = coordinate("p", P) if polarity == "channels" and P > 1 else 0
    return np.asarray(x + W * (y + H * p), dtype=np.int64)


def event_sample(events, target, sensor_size, dt, duration, polarity="channels", merge="drop",
                 time_unit=1 * usecond):
    """One sample of spike trains from an event array (module docstring: channel order,
    steps, merging).

    Parameters
    ----------
    events : ndarray
        A structured array with fields ``t``, ``x`` and, where the sensor has them,
        ``y`` and ``p``.
    target : int
        The class label.
    sensor_size : tuple of int
        ``(W, H, P)`` of the events (after the user's transforms).
    dt : Quantity
        Time step.
    duration : Quantity
        Length of the sample; later events are dropped.
    polarity : str
        'channels' or 'ignore'.
    merge : str
        'drop': one spike per channel and step.
    time_unit : Quantity
        The unit of ``t`` (tonic: microseconds).

    Returns
    -------
    Sample
        Input ``(indices, times)`` (each spike at the start of its step, sorted by
        channel then step), the target, ``round(duration / dt)`` steps.

    Raises
    ------
    ValueError
        Negative or non-finite times, coordinates outside the sensor, or a choice
        outside the allowed ones (named).
    """
    check_time("dt", dt)
    check_time("duration", duration)
    check_time("time_unit", time_unit)
    _check_mode("merge", merge, MERGES)
    channel = event_channels(events, sensor_size, polarity)
    if "t" not in (events.dtype.names or ()):
        raise ValueError(f"events lack the field 't' (fields: {list(events.dtype.names or ())})")
    t = events["t"]
    if not np.all(np.isfinite(t)) or np.any(t < 0):
        raise ValueError("events: t must be finite and >= 0")
    n_steps = int(round(float(duration / dt)))
    steps = time_steps(t, float(dt / time_unit))
    return binned_spikes(channel, steps, target, n_steps, dt)


def time_steps(t, ratio):
    """The step ``floor(t / ratio)`` of each time, exact for integer times when the step
    is a whole number of time units (tonic's microseconds and a dt of whole
    microseconds): then integer division, so that an event at 17,000 us is in step 17 of
    1 ms and not in step 16 (``17000 * 1e-6 / 1e-3`` is 16.999... in floating point).

    Parameters
    ----------
    t : ndarray
        Times in units.
    ratio : float
        The step in units (> 0).

    Returns
    -------
    ndarray
        Steps (int64).

    Examples
    --------
    >>> time_steps(np.array([16999, 17000, 17001]), 1000.0).tolist()
    [16, 17, 17]
    >>> time_steps(np.array([0.5, 1.5]), 0.5).tolist()
    [1, 3]
    """
    whole = round(ratio)
    if np.issubdtype(np.asarray(t).dtype, np.integer) and whole >= 1 and \
            abs(ratio - whole) <= 1e-9 * ratio:
        return np.floor_divide(np.asarray(t, dtype=np.int64), int(whole))
    return np.floor(np.asarray(t, dtype=float) / ratio).astype(np.int64)


def tonic_samples(dataset, dt, duration, sensor_size=None, polarity="channels", merge="drop",
                  time_unit=1 * usecond, max_samples=None):
    """Every sample of a tonic dataset (or any sequence of ``(events, target)``).

    Parameters
    ----------
    dataset : sequence
        ``dataset[k]`` is ``(events, target)``: a tonic dataset with the user's transforms.
    dt : Quantity
        Time step.
    duration : Quantity
        Length of each sample.
    sensor_size : tuple of int, optional
        ``(W, H, P)`` of the events after the transforms (default: the dataset's
        ``sensor_size``; give it when a transform such as ``Downsample`` changes it).
    polarity : str
        'channels' or 'ignore'.
    merge : str
        'drop'.
    time_unit : Quantity
        The unit of ``t`` after the transforms (tonic: microseconds).
    max_samples : int, optional
        Only the first ones.

    Returns
    -------
    list of Sample
        In the dataset's order.

    Raises
    ------
    ValueError
        No ``sensor_size`` given or known, or what :func:`event_sample` refuses.
    """
    sensor_size = sensor_size if sensor_size is not None else getattr(dataset, "sensor_size", None)
    if sensor_size is None:
        raise ValueError("sensor_size must be given: the dataset has no sensor_size")
    count = len(dataset) if max_samples is None else min(check_int("max_samples", max_samples, 1),
                                                         len(dataset))
    samples = []
    for k in range(count):
        events, target = dataset[k]
        samples.append(event_sample(events, target, sensor_size, dt, duration, polarity, merge,
                                    time_unit))
    return samples
