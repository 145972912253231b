"""Seeded signal generators shared by the demo and the tasks."""
import numpy as np
from brian2 import Hz, second

from .validation import check_int, check_positive, check_time


def band_limited_noise(n_steps, dt, cutoff, channels=1, seed=0):
    """Gaussian noise low-passed at ``cutoff`` (ideal filter in the Fourier domain), each
    channel scaled to zero mean and unit standard deviation.

    Parameters
    ----------
    n_steps : int
        Samples.
    dt : Quantity
        Time between samples.
    cutoff : Quantity
        Cutoff frequency; it must keep at least the lowest non-zero frequency,
        ``1 / (n_steps dt)``.
    channels : int
        Number of channels.
    seed : int
        Same seed, same signal.

    Returns
    -------
    ndarray
        (n_steps, channels).

    Raises
    ------
    ValueError
        A cutoff below the lowest non-zero frequency.
    """
    n_steps = check_int("n_steps", n_steps, 2)
    channels = check_int("channels", channels, 1)
    check_time("dt", dt)
    cutoff_hz = float(check_positive("cutoff (in Hz)", cutoff / Hz))
    rng = np.random.default_rng(check_int("seed", seed, 0))
    spectrum = np.fft.rfft(rng.normal(size=(n_steps, channels)), axis=0)
    freqs = np.fft.rfftfreq(n_steps, float(dt / second))
    if not np.any((freqs > 0) & (freqs <= cutoff_hz)):
        raise ValueError(f"cutoff must be >= {freqs[1]:g} Hz, the lowest non-zero frequency of "
                         f"{n_steps} steps of {dt} (1 / duration); got {cutoff}")
    spectrum[freqs > cutoff_hz] = 0
    spectrum[0] = 0
    signal = np.fft.irfft(spectrum, n=n_steps, axis=0)
    return signal / signal.std(axis=0, keepdims=True)
