"""Sigma-delta encoding: error bound in integer mode, documented lag in binary mode."""
import numpy as np
import pytest
from brian2 import Network, defaultclock, ms

import sgbrian
from sgbrian.network import analog_layer, monitors_for


def _encode_in_brian(signal, theta, payload="integer"):
    layer = analog_layer(signal, defaultclock.dt, theta, payload=payload)
    mons = monitors_for(layer, ("signals", "spikes"))
    Network(layer.group, *mons.values()).run(len(signal) * defaultclock.dt)
    return mons["signals"].y[:].T, mons["signals"].r[:].T, mons["spikes"]


def _signals(n, dt_s, rng):
    t = np.arange(n) * dt_s
    return {
        "sine": np.sin(2 * np.pi * 50 * t)[:, None],
        "noise": rng.normal(0, 1, (n, 1)),
        "steps": np.repeat(rng.normal(0, 3, n // 50 + 1), 50)[:n, None],
        "chirp": (np.sin(2 * np.pi * (10 + 2000 * t) * t) * np.exp(t * 20))[:, None],
    }


@pytest.mark.parametrize("dt", [1 * ms, 0.1 * ms, 0.02 * ms])
@pytest.mark.parametrize("theta", [0.01, 0.3])
def test_integer_payload_error_is_at_most_half_theta(dt, theta, rng):
    defaultclock.dt = dt
    for name, signal in _signals(400, float(dt / ms) * 1e-3, rng).items():
        y, r, spikes = _encode_in_brian(signal, theta)
        np.testing.assert_array_equal(y, signal)
        err = np.abs(y - r)
        assert err.max() <= theta / 2 * (1 + 1e-12), name
        assert spikes.num_spikes > 0
        # r only changes at events, by q*theta
        assert np.allclose(np.diff(r[:, 0], prepend=0.0).sum(), spikes.q[:].sum() * theta)


def test_sigma_delta_numpy_helper_equals_brian(rng):
    signal = rng.normal(0, 1, (300, 3))
    y, r, _ = _encode_in_brian(signal, 0.1)
    q_np, r_np = sgbrian.sigma_delta(signal, 0.1)
    assert np.max(np.abs(r - r_np)) < 1e-12


def test_binary_mode_lags_on_fast_transients_and_tracks_slow_signals():
    """Binary payloads move r by at most theta per step: a jump of J*theta takes
    ceil(J - 1/2) steps to be tracked to theta/2; a signal that changes by at most
    theta/2 per step is tracked to theta/2 at every step."""
    theta, J, n = 0.1, 12, 40
    jump = np.r_[np.zeros(5), np.full(n - 5, J * theta)][:, None]
    y, r, spikes = _encode_in_brian(jump, theta, payload="binary")
    err = np.abs(y - r)[:, 0]
    assert set(np.unique(spikes.q[:])) <= {-1.0, 1.0}
    steps_to_track = int(np.ceil(J - 0.5))
    assert np.allclose(err[5:5 + steps_to_track], (J - np.arange(1, steps_to_track + 1)) * theta)
    assert err[5 + steps_to_track - 1] <= theta / 2 + 1e-12
    assert err[5 + steps_to_track - 2] > theta / 2        # the lag really is there
    y_int, r_int, _ = _encode_in_brian(jump, theta)
    assert np.abs(y_int - r_int).max() <= theta / 2 + 1e-12   # integer mode: no lag
    slow = (0.5 * theta * np.arange(n) * np.sign(np.sin(np.arange(n) / 5)))[:, None]
    slow = np.cumsum(np.clip(np.diff(slow, axis=0, prepend=0), -theta / 2, theta / 2), axis=0)
    y, r, _ = _encode_in_brian(slow, theta, payload="binary")
    assert np.abs(y - r).max() <= theta / 2 + 1e-12


def test_analog_payload_reconstructs_exactly(rng):
    signal = rng.normal(0, 1, (100, 2))
    y, r, spikes = _encode_in_brian(signal, 0.1, payload="analog")
    assert np.max(np.abs(y - r)) < 1e-12
    assert spikes.num_spikes == 200
