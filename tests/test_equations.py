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


def test_layers_take_user_equations_and_stay_plain_brian2_equations():
    """Extra state variables and equations, drive terms, a custom nonlinearity, extra
    parameters, and inputs from other Brian2 groups (a summed variable and a linked
    variable), through feedforward; the equations print as plain Equations."""
    from brian2 import Equations, NeuronGroup, Synapses, linked_var
    from sgbrian.equations import Nonlinearity
    softsign = Nonlinearity("softsign", "x/(1 + abs(x))", "1/(1 + abs(x))**2")
    net = sgbrian.feedforward([2, 3, 1], K=2, tau=1 * ms, signal=np.ones((50, 2)),
                              hidden=softsign, drive="-g*a + I_ext + L",
                              extra="da/dt = (y - a)/tau_a : 1\nI_ext : 1\nL : 1 (linked)",
                              parameters={"g": 0.5}, namespace={"tau_a": 5 * ms})
    group = net.layers[1].group
    text = str(group.equations)
    assert isinstance(group.equations, Equations)
    assert "x = b + v_0*U_0 + v_1*U_1 + v_2*U_2 + (-g*a + I_ext + L)" in text
    assert "y = x/(1 + abs(x))" in text and "da/dt = (y - a)/tau_a" in text
    other = NeuronGroup(3, "z : 1\nc : 1")
    other.z, other.c = [1.0, 2.0, 3.0], [0.1, 0.2, 0.3]
    group.L = linked_var(other, "c")
    feed = Synapses(other, group, "I_ext_post = 0.5*z_pre : 1 (summed)")
    feed.connect(j="i")
    net.network.add(other, feed)
    net.run(1 * ms)
    np.testing.assert_allclose(group.I_ext[:], [0.5, 1.0, 1.5])
    x = group.x[:]
    expected = (group.b[:] + sum(getattr(group, f"v_{k}")[:] * getattr(group, f"U_{k}")[:]
                                 for k in range(3)) - 0.5 * group.a[:] + group.I_ext[:]
                + np.array([0.1, 0.2, 0.3]))
    np.testing.assert_allclose(x, expected, atol=1e-12)
    np.testing.assert_allclose(group.y[:], x / (1 + np.abs(x)), atol=1e-12)


def test_extensions_refuse_the_package_names_and_bad_nonlinearities():
    from sgbrian.equations import Nonlinearity
    for extra, match in (("dU_1/dt = -U_1/ms : 1", r"\['U_1'\]"), ("theta : 1", r"\['theta'\]")):
        with pytest.raises(ValueError, match=match):
            neuron_layer(2, 2, 1 * ms, 0.1, extra=extra)
    with pytest.raises(ValueError, match=r"\['b'\]"):
        neuron_layer(2, 2, 1 * ms, 0.1, parameters={"b": 1.0})
    with pytest.raises(ValueError, match=r"namespace may not redefine .*tau_gamma"):
        neuron_layer(2, 2, 1 * ms, 0.1, namespace={"tau_gamma": 3 * ms})
    with pytest.raises(ValueError, match="hidden must be one of"):
        sgbrian.feedforward([2, 3, 1], signal=np.ones((5, 2)), hidden="tanhh")
    with pytest.raises(ValueError, match="output must be one of"):
        sgbrian.feedforward([2, 3, 1], signal=np.ones((5, 2)), output="relux")
    with pytest.raises(ValueError, match=r"output derivative .* uses \['z'\]"):
        Nonlinearity("bad", "x", "z")
