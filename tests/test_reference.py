"""Brian2 simulation = an independent numpy simulation (tests/reference_model.py)."""
import numpy as np
import pytest
from brian2 import defaultclock, ms

import sgbrian
from reference_model import describe, randomize, simulate


def _events(spike_monitor, with_payload=True):
    steps = np.rint(spike_monitor.t / defaultclock.dt).astype(int)
    q = spike_monitor.q[:] if with_payload else np.ones(len(steps))
    return sorted(zip(steps.tolist(), spike_monitor.i[:].tolist(), q.tolist()))


@pytest.mark.parametrize("binary", [False, True])
def test_two_layers_with_per_synapse_delays_match_numpy(rng, binary):
    steps, theta = 400, 0.05
    t = np.arange(steps) * 0.1e-3
    signal = np.stack([np.sin(2 * np.pi * 40 * t), np.cos(2 * np.pi * 25 * t),
                       np.cumsum(rng.normal(0, 0.05, steps))], axis=1)
    net = sgbrian.feedforward([3, 6, 2], K=3, tau=1.5 * ms, theta=theta, signal=signal,
                              max_delay=0.8 * ms, random_delays=True,
                              payload="binary" if binary else "integer",
                              record=("spikes", "signals", "buckets"), seed=3)
    randomize(net, rng)
    layers, connections = describe(net)
    assert len(set(np.concatenate([c[3] for c in connections]))) > 4   # delays do vary
    net.run(steps * defaultclock.dt)
    ref_events, ref = simulate(steps, ("analog", signal, theta), layers, connections, binary)
    for l in range(3):
        brian_events = _events(net.monitors[l]["spikes"])
        assert len(brian_events) > 20, l
        assert brian_events == [(n, i, q) for n, i, q in ref_events[l]], f"layer {l}"
    for l in (1, 2):
        mon = net.monitors[l]
        assert np.max(np.abs(mon["signals"].y[:].T - ref["y"][l - 1])) < 1e-9
        assert np.max(np.abs(mon["signals"].r[:].T - ref["r"][l - 1])) < 1e-9
        for k in range(layers[l - 1]["K"] + 1):
            U = getattr(mon["buckets"], f"U_{k}")[:].T
            assert np.max(np.abs(U - ref["U"][l - 1][:, :, k])) < 1e-9


def test_spike_train_input_matches_numpy(rng):
    steps = 300
    n_in = 4
    spike_steps = {n: sorted(rng.choice(n_in, size=rng.integers(0, 3), replace=False).tolist())
                   for n in range(0, steps, 7)}
    indices = [i for n, idx in spike_steps.items() for i in idx]
    times = np.array([n for n, idx in spike_steps.items() for _ in idx]) * 0.1 * ms
    net = sgbrian.feedforward([n_in, 5, 3], K=4, tau=1 * ms, theta=0.02,
                              spikes=(indices, times), max_delay=0.5 * ms, random_delays=True,
                              record=("spikes", "signals", "buckets"), seed=5)
    randomize(net, rng)
    layers, connections = describe(net)
    net.run(steps * defaultclock.dt)
    ref_events, ref = simulate(steps, ("spikes", n_in, spike_steps), layers, connections)
    assert _events(net.monitors[0]["spikes"], with_payload=False) == ref_events[0]
    for l in (1, 2):
        assert len(ref_events[l]) > 10
        assert _events(net.monitors[l]["spikes"]) == ref_events[l], f"layer {l}"
        assert np.max(np.abs(net.monitors[l]["signals"].y[:].T - ref["y"][l - 1])) < 1e-9


def test_delays_of_4096_steps_match_numpy(rng):
    """Per-synapse delays up to 4,096 steps (409.6 ms at dt = 0.1 ms): the ring-buffer
    payload history gives the reference's events, payloads and states."""
    steps, theta = 4400, 0.05
    t = np.arange(steps) * 0.1e-3
    signal = np.stack([np.sin(2 * np.pi * 7 * t), np.cos(2 * np.pi * 11 * t)], axis=1)
    net = sgbrian.feedforward([2, 4, 2], K=2, tau=2 * ms, theta=theta, signal=signal,
                              max_delay=409.6 * ms, random_delays=True,
                              record=("spikes", "signals"), seed=8)
    net.synapses[0].delay[0] = 409.6 * ms                  # the longest delay is used
    net.synapses[1].delay[0] = 409.5 * ms
    layers, connections = describe(net)
    assert max(c[3].max() for c in connections) == 4096
    net.run(steps * defaultclock.dt)
    ref_events, ref = simulate(steps, ("analog", signal, theta), layers, connections)
    for l in range(3):
        brian_events = _events(net.monitors[l]["spikes"])
        assert len(brian_events) > 20, l
        assert brian_events == [(n, i, q) for n, i, q in ref_events[l]], f"layer {l}"
    late = [e for e in ref_events[2] if e[0] > 4096]
    assert late                                              # events after the longest delay
    assert np.max(np.abs(net.monitors[2]["signals"].y[:].T - ref["y"][1])) < 1e-9
