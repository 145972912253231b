"""Input checks shared by every public function.

Each check raises :class:`ValueError` that names the parameter and the allowed
range, so that bad input is refused before a simulation starts.
"""
import numbers

import numpy as np
from brian2 import Quantity, second
from brian2.units.fundamentalunits import DimensionMismatchError, have_same_dimensions


def check_int(name, value, low, high=None):
    """Return ``value`` as ``int`` if it is an integer in ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer >= {low}" +
                         (f" and <= {high}" if high is not None else "") + f", got {value!r}")
    if value < low or (high is not None and value > high):
        bound = f"in [{low}, {high}]" if high is not None else f">= {low}"
        raise ValueError(f"{name} must be {bound}, got {value}")
    return int(value)


def check_time(name, value, allow_zero=False):
    """Return a time :class:`Quantity` (or array of them) that is finite and > 0 (or >= 0)."""
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
    """Return ``value`` as a float array if every entry is finite and > 0."""
    arr = check_finite(name, value)
    if np.any(arr <= 0):
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return arr


def check_finite(name, value):
    """Return ``value`` as a float array; NaN and infinite entries are refused."""
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
    """Require ``arr.shape == shape`` (scalars broadcast); return the broadcast array."""
    arr = np.asarray(arr)
    if arr.ndim == 0:
        return np.broadcast_to(arr, shape).copy()
    if arr.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)} (or be a scalar), "
                         f"got shape {arr.shape}")
    return arr


def check_choice(name, value, choices):
    """Require ``value`` to be one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {sorted(choices)}, got {value!r}")
    return value


def delay_steps(name, delay, dt):
    """Whole number of time steps in ``delay`` (a time or array of times).

    Raises ``ValueError`` unless every delay is >= 0 and a whole multiple of ``dt``
    (to a relative tolerance of 1e-9).
    """
    check_time(name, delay, allow_zero=True)
    ratio = np.asarray(delay / dt, dtype=float)
    steps = np.rint(ratio)
    if np.any(np.abs(ratio - steps) > 1e-9 * np.maximum(1.0, np.abs(ratio))):
        raise ValueError(f"{name} must be a whole number of time steps (dt = {dt}); "
                         f"got {delay!r}")
    return steps.astype(int)
