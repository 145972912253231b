"""Settings as specs (sgbrian.specs): the same network from specs as from the keywords,
separate encoder and neuron thresholds, refusals of a setting given twice."""
import json
from dataclasses import asdict, replace

import numpy as np
import pytest
from brian2 import defaultclock, ms, mV

import sgbrian
from sgbrian import specs
from sgbrian.encoding import sigma_delta
from sgbrian.equations import Nonlinearity
from sgbrian.genn.spec import spec_from_record, spec_record
from sgbrian.network import analog_layer, connect, neuron_layer
from sgbrian.specs import ConnectionSpec, NeuronSpec

SIGNAL = np.sin(np.arange(300)[:, None] * np.array([[0.05, 0.11]])) * 2.0


def arrays(net):
    """Every number that defines a built network: per layer the thresholds, biases,
    bucket weights and time constants; per connection the pairs, weights and delays."""
    out = []
    for layer in net.layers[1:]:
        g = layer.group
        out += [g.theta[:], g.b[:], layer.taus()] + [getattr(g, f"v_{k}")[:]
                                                      for k in range(layer.K + 1)]
    for syn in net.synapses:
        out += [syn.i[:], syn.j[:], syn.w[:], np.broadcast_to(syn.delay[:], (len(syn),))]
    return out


def same_spec(a, b):
    """Specs equal field by field (arrays and quantities compared element-wise)."""
    return all(np.array_equal(np.asarray(x), np.asarray(y)) if not isinstance(x, (str, dict))
               else x == y for x, y in zip(asdict(a).values(), asdict(b).values(), strict=True))


def events(net, steps=300):
    net.run(steps * defaultclock.dt)
    return [(m["spikes"].i[:].tolist(), m["spikes"].t[:].tolist()) for m in net.monitors]


def test_a_network_from_specs_equals_the_network_from_keywords():
    """The keywords of every concern against the specs holding the same settings:
    the same arrays and, run for 300 steps, the same events in every layer."""
    keywords = sgbrian.feedforward(
        [2, 5, 3, 2], K=3, tau=[0.4, 0.6, 0.8] * ms, theta=0.05, hidden="softplus",
        output="linear", payload="binary", max_delay=0.5 * ms, random_delays=True,
        p_connect=0.8, weight_scale=2.0, signal=SIGNAL, record=("spikes",), seed=4)
    hidden = NeuronSpec(K=3, tau=[0.4, 0.6, 0.8] * ms, theta=0.05, output="softplus",
                        payload="binary")
    from_specs = sgbrian.feedforward(
        [2, 5, 3, 2], neuron=hidden, readout=replace(hidden, output="linear"),
        connection=ConnectionSpec(max_delay=0.5 * ms, random_delays=True, p_connect=0.8,
                                  weight_scale=2.0),
        signal=SIGNAL, record=("spikes",), seed=4)
    for a, b in zip(arrays(keywords), arrays(from_specs), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert events(keywords) == events(from_specs)
    assert from_specs.layers[1].spec is hidden and from_specs.layers[2].spec is hidden
    assert same_spec(from_specs.layers[3].spec, replace(hidden, output="linear"))
    assert all(same_spec(a.spec, b.spec)
               for a, b in zip(keywords.layers[1:], from_specs.layers[1:], strict=True))


def test_the_readout_defaults_to_the_neurons_spec_with_a_linear_output_and_no_extensions():
    hidden = NeuronSpec(K=2, tau=1 * ms, theta=0.1, output="tanh", parameters={"gain": 0.5},
                        drive="gain*U_1")
    net = sgbrian.feedforward([2, 3, 1], neuron=hidden, signal=SIGNAL[:10])
    readout = net.readout.spec
    assert asdict(readout) == dict(asdict(hidden), output="linear", parameters=None,
                                   drive=None)
    assert net.readout.output.name == "linear" and net.layers[1].output.name == "tanh"


def test_the_encoder_has_its_own_threshold():
    """``encoder_theta`` codes the input; the neurons keep ``theta``. The input events
    equal the offline sigma-delta code of the signal with the encoder's threshold."""
    net = sgbrian.feedforward([2, 4, 1], neuron=NeuronSpec(K=2, tau=1 * ms, theta=0.2),
                              encoder_theta=0.03, signal=SIGNAL, record=("spikes",), seed=1)
    assert np.all(net.layers[0].group.theta[:] == 0.03)
    assert np.all(net.layers[1].group.theta[:] == 0.2)
    net.run(300 * defaultclock.dt)
    q, _ = sigma_delta(SIGNAL, 0.03)
    steps, channels = np.nonzero(q)
    monitor = net.monitors[0]["spikes"]
    got = sorted(zip(np.rint(monitor.t[:] / defaultclock.dt).astype(int).tolist(),
                     monitor.i[:].tolist(), monitor.q[:].tolist()))
    assert got == sorted(zip(steps.tolist(), channels.tolist(), q[steps, channels].tolist()))
    default = sgbrian.feedforward([2, 4, 1], theta=0.2, signal=SIGNAL)
    assert np.all(default.layers[0].group.theta[:] == 0.2)


def test_neuron_layer_and_connect_take_specs_or_keywords_not_both():
    spec = NeuronSpec(K=3, tau=2 * ms, theta=0.1, output="linear", bucket_weights="synapse")
    a = neuron_layer(4, spec=spec, index=2)
    b = neuron_layer(4, 3, 2 * ms, 0.1, index=2, output="linear", bucket_weights="synapse")
    assert str(a.group.equations) == str(b.group.equations)
    assert a.spec is spec and same_spec(b.spec, spec)
    with pytest.raises(ValueError, match=r"^give K, theta either in spec= or as a keyword, "
                                         r"not both$"):
        neuron_layer(4, K=3, theta=0.1, spec=spec)
    source = analog_layer(SIGNAL[:5], defaultclock.dt, 0.1, max_delay=0.3 * ms)
    target = neuron_layer(3, 2, 1 * ms, 0.1, index=1)
    syn = connect(source, target, 0.5, spec=ConnectionSpec(delay=0.2 * ms,
                                                           homogeneous_delay=True))
    assert np.asarray(syn.delay[:] / ms).ravel().tolist() == pytest.approx([0.2])
    with pytest.raises(ValueError, match=r"^give delay either in spec= or as a keyword"):
        connect(source, target, 0.5, delay=0.1 * ms, spec=ConnectionSpec())


def test_feedforward_refuses_a_setting_given_both_ways():
    with pytest.raises(ValueError, match=r"^give K either in neuron= or as a keyword, not both$"):
        sgbrian.feedforward([2, 2], neuron=NeuronSpec(), K=3, signal=SIGNAL)
    with pytest.raises(ValueError, match=r"^give p_connect either in connection= or as a "
                                         r"keyword, not both$"):
        sgbrian.feedforward([2, 2], connection=ConnectionSpec(), p_connect=0.5, signal=SIGNAL)
    with pytest.raises(ValueError, match=r"^with readout= give output, tau in the specs, not "
                                         r"as keywords \(they would apply to every layer\)$"):
        sgbrian.feedforward([2, 2], readout=NeuronSpec(), tau=1 * ms, output="linear",
                            signal=SIGNAL)
    with pytest.raises(TypeError, match=r"^neuron must be a NeuronSpec, got int$"):
        sgbrian.feedforward([2, 2], neuron=8, signal=SIGNAL)
    with pytest.raises(TypeError, match=r"^NeuronSpec has no settings \['colour'\]$"):
        specs.from_keywords(NeuronSpec, None, "neuron", colour="red")


def test_a_replica_keeps_each_layers_spec_with_its_tiled_thresholds():
    net = sgbrian.feedforward([2, 3, 2], neuron=NeuronSpec(K=2, tau=1 * ms, theta=0.1),
                              signal=SIGNAL[:10], seed=2)
    copy = net.replicate(3)
    for layer, replica in zip(net.layers[1:], copy.layers[1:]):
        assert replica.spec.K == layer.spec.K and replica.spec.output == layer.spec.output
        np.testing.assert_array_equal(replica.spec.theta, np.tile(layer.group.theta[:], 3))
        assert replica.n == 3 * layer.n


def test_a_layers_settings_are_read_from_its_spec_and_follow_a_schedule_change():
    net = sgbrian.feedforward([2, 3, 2], neuron=NeuronSpec(K=2, tau=1 * ms, theta=0.1,
                                                           payload="binary"),
                              signal=SIGNAL[:10], seed=2)
    hidden, readout = net.layers[1:]
    assert (hidden.K, hidden.payload, hidden.output.name) == (2, "binary", "relu")
    assert readout.output.name == "linear" and hidden.parameters == {}
    assert (net.layers[0].K, net.layers[0].output, net.layers[0].payload) == (0, None, "binary")
    net.set_schedule("genn")
    assert [layer.schedule for layer in net.layers] == ["genn"] * 3
    assert hidden.spec.schedule == "genn" and hidden.spec.payload == "binary"
    with pytest.raises(ValueError, match="schedule"):
        hidden.set_schedule("late")


def test_a_spec_written_as_json_reads_back_equal_with_the_groups_current_values():
    defaultclock.dt = 0.1 * ms
    softsign = Nonlinearity("softsign", "x/(1 + abs(x))", "1/(1 + abs(x))**2")
    layer = neuron_layer(4, index=1, spec=NeuronSpec(
        K=3, tau=[1, 2, 3] * ms, theta=0.2, output=softsign, drive="c*a", extra="da/dt = -a/tau_a : 1",
        parameters={"c": np.array([0.3, -0.2, 0.5, 0.1]), "tau_a": np.linspace(2, 4, 4) * ms},
        namespace={"g_unused": 2 * mV}, method_options={"others": "euler"}))
    layer.group.theta = [0.1, 0.2, 0.3, 0.4]
    layer.group.c = [1.0, 2.0, 3.0, 4.0]
    layer.group.namespace["tau_2"] = 5 * ms
    now = layer.current_spec()
    np.testing.assert_array_equal(now.theta, [0.1, 0.2, 0.3, 0.4])
    np.testing.assert_allclose(np.asarray(now.tau / ms), [1, 5, 3])
    np.testing.assert_array_equal(now.parameters["c"], [1, 2, 3, 4])
    record = json.loads(json.dumps(spec_record(now)))
    assert record["tau"] == pytest.approx([1e-3, 5e-3, 3e-3])
    assert record["parameters"]["tau_a"]["unit"] == "second"
    assert record["output"] == {"name": "softsign", "expression": "x/(1 + abs(x))",
                                "derivative": "1/(1 + abs(x))**2"}
    back = spec_from_record(record)
    assert same_spec(replace(back, parameters=None), replace(now, parameters=None))
    assert set(back.parameters) == {"c", "tau_a"}
    np.testing.assert_array_equal(back.parameters["c"], [1, 2, 3, 4])
    np.testing.assert_allclose(np.asarray(back.parameters["tau_a"] / ms), np.linspace(2, 4, 4))
    assert back.parameters["tau_a"].dim == ms.dim
    assert back.namespace == {"g_unused": 2 * mV} and back.method_options == {"others": "euler"}


def test_a_replica_keeps_the_units_and_values_of_extra_parameters():
    net = sgbrian.feedforward([2, 3, 2], neuron=NeuronSpec(
        K=2, tau=1 * ms, theta=0.1, extra="da/dt = (y - a)/tau_a : 1",
        parameters={"tau_a": np.array([2.0, 3.0, 4.0]) * ms}), signal=SIGNAL[:10], seed=2)
    copy = net.replicate(2)
    np.testing.assert_allclose(np.asarray(copy.layers[1].group.tau_a[:] / ms), [2, 3, 4] * 2)
