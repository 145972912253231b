"""Input checks shared by every public function.

Each check raises :class:`ValueError` that names the parameter and the allowed
range, so that bad input is refused before a simulation starts.
"""
import numbers

import numpy as np
from brian2 import Quantity, second
from brian2.units.fundamentalunits import DimensionMismatchError, have_same_dimensions


def check_int(name, value, low, high=None):
    """An integer argument in ``[low, high]``.

    Parameters
    ----------
    name : str
        The argument's name, for the message.
    value : int
        The value.
    low : int
        Smallest allowed.
    high : int, optional
        Largest allowed.

    Returns
    -------
    int
        ``value``.

    Raises
    ------
    ValueError
        Not an integer, or out of range (the range is named).
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer >= {low}" +
                         (f" and <= {high}" if high is not None else "") + f", got {value!r}")
    if value < low or (high is not None and value > high):
        bound = f"in [{low}, {high}]" if high is not None else f">= {low}"
        raise ValueError(f"{name} must be {bound}, got {value}")
    return int(value)


def check_time(name, value, allow_zero=False):
    """A time (or array of times) that is finite and > 0 (or >= 0).

    Parameters
    ----------
    name : str
        The argument's name, for the message.
    value : Quantity
        The value.
    allow_zero : bool
        Accept 0.

    Returns
    -------
    Quantity
        ``value``.

    Raises
    ------
    ValueError
        Not a time, not finite, or not > 0 (>= 0).
    """
    if not isinstance(value, Quantity) or not have_same_dimensions(value, second):
        raise ValueError(f"{name} must be a time with units (e.g. 5*ms), got {value!r}")
    arr = np.asarray(value)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if allow_zero and np.any(arr < 0):
        raise ValueError(f"{name} must be >= 0 ms, got {value!r}")
    if not allow_zero and np.any(arr <= 0):
        raise ValueError(f"{name} must be > 0 ms, got {value!r}")
    return value


def check_positive(name, value):
    """Values that are all finite and > 0.

    Parameters
    ----------
    name : str
        The argument's name, for the message.
    value : float or array_like
        The value.

    Returns
    -------
    ndarray
        ``value`` as floats.

    Raises
    ------
    ValueError
        An entry that is not finite or not > 0.
    """
    arr = check_finite(name, value)
    if np.any(arr <= 0):
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return arr


def check_finite(name, value):
    """Values that are all finite.

    Parameters
    ----------
    name : str
        The argument's name, for the message.
    value : float or array_like
        The value.

    Returns
    -------
    ndarray
        ``value`` as floats.

    Raises
    ------
    ValueError
        A NaN or infinite entry.
    """
    if isinstance(value, Quantity) and not value.is_dimensionless:
        raise ValueError(f"{name} must be dimensionless, got {value!r}")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError, DimensionMismatchError):
        raise ValueError(f"{name} must be numeric, got {value!r}") from None
    if not np.all(np.isfinite(arr)):
        bad = np.flatnonzero(~np.isfinite(arr.ravel()))
        raise ValueError(f"{name} must be finite (no NaN or inf); "
                         f"{bad.size} bad entries, first at flat index {bad[0]}")
    return arr


def check_shape(name, arr, shape):
    """An array of a given shape (scalars broadcast).

    Parameters
    ----------
    name : str
        The argument's name, for the message.
    arr : array_like
        The value.
    shape : tuple of int
        The shape required.

    Returns
    -------
    ndarray
        ``arr`` broadcast to ``shape``.

    Raises
    ------
    ValueError
        Another shape (both are named).
    """
    arr = np.asarray(arr)
    if arr.ndim == 0:
        return np.broadcast_to(arr, shape).copy()
    if arr.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)} (or be a scalar), "
                         f"got shape {arr.shape}")
    return arr


def check_choice(name, value, choices):
    """One of a set of choices.

    Parameters
    ----------
    name : str
        The argument's name, for the message.
    value : object
        The value.
    choices : sequence
        The allowed values.

    Returns
    -------
    object
        ``value``.

    Raises
    ------
    ValueError
        Anything else (the allowed values are listed).
    """
    if value not in choices:
        raise ValueError(f"{name} must be one of {sorted(choices)}, got {value!r}")
    return value


def delay_steps(name, delay, dt):
    """Whole number of time steps in a delay.

    Parameters
    ----------
    name : str
        The argument's name, for the message.
    delay : Quantity
        A time or array of times.
    dt : Quantity
        Time step.

    Returns
    -------
    ndarray
        Steps (ints).

    Raises
    ------
    ValueError
        Unless every delay is >= 0 and a whole multiple of ``dt`` (to a relative
        tolerance of 1e-9).
    """
    check_time(name, delay, allow_zero=True)
    ratio = np.asarray(delay / dt, dtype=float)
    steps = np.rint(ratio)
    if np.any(np.abs(ratio - steps) > 1e-9 * np.maximum(1.0, np.abs(ratio))):
        raise ValueError(f"{name} must be a whole number of time steps (dt = {dt}); "
                         f"got {delay!r}")
    return steps.astype(int)
