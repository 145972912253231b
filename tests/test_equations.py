"""The generated Brian2 objects: inspectable, modifiable, any K, per-synapse bucket weights."""
import numpy as np
import pytest
from brian2 import Network, defaultclock, ms, second

import sgbrian
from sgbrian.network import analog_layer, connect, monitors_for, neuron_layer


def test_equations_are_plain_brian2_and_printable():
    eqs, namespace = sgbrian.neuron_equations(3, 2 * ms)
    text = str(eqs)
    assert "dU_3/dt = (U_2 - U_3)/tau_gamma" in text
    assert "x = b + v_0*U_0 + v_1*U_1 + v_2*U_2 + v_3*U_3" in text
    assert "y = clip(x, 0, inf)" in text
    assert namespace == {"tau_gamma": 2 * ms}
    eqs_lin, ns = sgbrian.neuron_equations(2, [1, 2] * ms, output="linear")
    assert "y = x" in str(eqs_lin) and set(ns) == {"tau_1", "tau_2"}


@pytest.mark.parametrize("K, distinct", [(1, False), (16, False), (32, False), (6, True)])
def test_large_cascades_build_and_match_the_closed_form(K, distinct):
    """K=32 builds through the 'gamma_cascade' propagator (no sympy 'exact'); one step of
    the Brian2 group equals P(dt) u (closed form, or expm for distinct taus)."""
    taus = np.linspace(0.3e-3, 2e-3, K) if distinct else np.full(K, 0.5e-3)
    layer = neuron_layer(1, K, taus * second, 1.0, output="linear")
    g = layer.group
    u0 = np.random.default_rng(K).normal(size=K + 1)
    for k in range(K + 1):
        setattr(g, f"U_{k}", u0[k])
    Network(g).run(defaultclock.dt)
    P = sgbrian.cascade_propagator(float(defaultclock.dt / second), taus)
    got = np.array([getattr(g, f"U_{k}")[0] for k in range(K + 1)])
    assert np.max(np.abs(got - P @ u0)) < 1e-12


def test_changed_parameters_change_the_output():
    signal = np.ones((50, 1))
    layer_in = analog_layer(signal, defaultclock.dt, 0.1)
    layer = neuron_layer(1, 2, 1 * ms, 0.1, output="linear")
    syn = connect(layer_in, layer, 1.0)
    mon = monitors_for(layer, ("signals",))["signals"]
    net = Network(layer_in.group, layer.group, syn, mon)
    layer.group.v_0, layer.group.v_1, layer.group.v_2 = 1.0, 0.0, 0.0
    layer.group.b = 0.25
    net.run(5 * ms)
    assert np.allclose(mon.y[0][-1], 1.25)
    layer.group.namespace["tau_gamma"] = 2 * ms     # time constants can change between runs
    layer.group.v_0, layer.group.v_2 = 0.0, 1.0
    net.run(5 * ms)
    assert 0.25 < mon.y[0][-1] < 1.25


def test_per_synapse_bucket_weights_equal_per_neuron_when_shared(rng):
    """bucket_weights='synapse' (K+1 states per synapse) gives the per-neuron result when
    every synapse of a neuron has that neuron's bucket weights."""
    signal = rng.normal(0, 1, (200, 3)).cumsum(axis=0) * 0.1
    results = []
    v = rng.normal(0.3, 0.3, (4, 4))
    w = rng.normal(0, 1, (3, 4))
    for mode in ("neuron", "synapse"):
        src = analog_layer(signal, defaultclock.dt, 0.05, max_delay=0.3 * ms)
        dst = neuron_layer(4, 3, 1 * ms, 0.05, bucket_weights=mode,
                           v=v if mode == "neuron" else None)
        delays = (np.arange(12).reshape(3, 4) % 4) * defaultclock.dt
        syn = connect(src, dst, w, delay=delays,
                      v=v[np.tile(np.arange(4), 3)] if mode == "synapse" else None)
        mon = monitors_for(dst, ("signals", "spikes"))
        Network(src.group, dst.group, syn, *mon.values()).run(20 * ms)
        results.append((mon["signals"].y[:], mon["spikes"].num_spikes))
    assert results[0][1] > 20
    assert np.max(np.abs(results[0][0] - results[1][0])) < 1e-9
    assert results[0][1] == results[1][1]


def test_homogeneous_delay_mode_matches_per_synapse_delays(rng):
    signal = rng.normal(0, 1, (150, 2)).cumsum(axis=0) * 0.1
    ys = []
    for homogeneous in (False, True):
        src = analog_layer(signal, defaultclock.dt, 0.05, max_delay=0.4 * ms)
        dst = neuron_layer(3, 2, 1 * ms, 0.05)
        syn = connect(src, dst, np.arange(6.0).reshape(2, 3) - 2, delay=0.4 * ms,
                      homogeneous_delay=homogeneous)
        assert ("_lag_steps" in syn.pre.code) != homogeneous
        assert "payload_read(i, t_in_timesteps - " + ("4" if homogeneous else "_lag_steps") \
            in syn.pre.code                  # O(1) ring-buffer read, not a sum over lags
        mon = monitors_for(dst, ("signals",))["signals"]
        Network(src.group, dst.group, syn, mon).run(15 * ms)
        ys.append(mon.y[:])
    assert np.abs(ys[0]).max() > 0.1
    np.testing.assert_array_equal(ys[0], ys[1])
