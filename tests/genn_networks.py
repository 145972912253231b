"""Networks the GeNN export must reproduce (tests/test_genn.py, tests/test_genn_spec.py)."""
import numpy as np
from brian2 import Hz, defaultclock, ms

import sgbrian
from sgbrian.signals import band_limited_noise

#: analog integer payloads, binary payloads, spike input, three layers with one
#: homogeneous delay, delays up to 4,096 steps, an extended neuron
KINDS = ("integer", "binary", "spikes", "three_layers", "long_delays", "extended")


def genn_networks(steps, kinds=KINDS, warmup=137):
    """The networks of ``kinds``, each run for ``warmup`` steps with its queues cleared
    (state and input exported from the middle of a run): wide integer payloads, binary
    payloads, spike input, three layers with one homogeneous delay, delays up to 4,096
    steps, an extended neuron (softplus output, an adaptation variable fed back into x,
    per-neuron parameters with and without units, a namespace constant)."""
    dt = defaultclock.dt
    signal = band_limited_noise(steps + warmup, dt, cutoff=60 * Hz, channels=3, seed=5)
    rng = np.random.default_rng(7)
    spike_steps, spike_channels = np.nonzero(rng.random((steps + warmup, 4)) < 0.03)
    build = {
        "integer": lambda: sgbrian.feedforward(
            [3, 6, 3], K=3, tau=0.4 * ms, theta=0.02, signal=4 * signal, max_delay=0.5 * ms,
            random_delays=True, weight_scale=3.0, seed=1),
        "binary": lambda: sgbrian.feedforward(
            [3, 5, 2], K=2, tau=[0.2, 0.7] * ms, theta=0.05, signal=signal, max_delay=0.3 * ms,
            random_delays=True, payload="binary", seed=2),
        "spikes": lambda: sgbrian.feedforward(
            [4, 6, 2], K=4, tau=0.5 * ms, theta=0.01, weight_scale=2.0,
            spikes=(spike_channels, spike_steps * dt), max_delay=0.4 * ms, random_delays=True,
            seed=3),
        "three_layers": lambda: sgbrian.feedforward(
            [3, 4, 4, 2], K=3, tau=0.3 * ms, theta=0.03, signal=2 * signal, delay=0.2 * ms,
            homogeneous_delay=True, seed=4),
        "long_delays": lambda: sgbrian.feedforward(
            [3, 3, 2], K=2, tau=1 * ms, theta=0.02, signal=3 * signal, max_delay=409.6 * ms,
            random_delays=True, weight_scale=2.0, seed=6),
        "extended": lambda: sgbrian.feedforward(
            [3, 5, 2], K=3, tau=0.5 * ms, theta=0.02, signal=3 * signal, max_delay=0.3 * ms,
            random_delays=True, weight_scale=2.0, seed=7, hidden="softplus",
            drive="-gain*a*scale", extra="da/dt = (y - a)/tau_a : 1",
            parameters={"gain": np.linspace(0.2, 1.0, 5), "tau_a": np.linspace(2, 4, 5) * ms},
            namespace={"scale": 1.5}),
    }
    nets = [build[kind]() for kind in kinds]
    for net in nets:
        net.run(warmup * dt)
        net.clear_spike_queues()
    return nets


def check_rows(rows, name, min_events=20):
    for row in rows:
        assert row["equal"], f"{name}: {row}"
        assert row["runtime"] >= min_events, f"{name}: too few events to compare: {row}"
