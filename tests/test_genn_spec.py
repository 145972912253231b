"""The GeNN export's pure parts, without brian2genn or a build (seconds): the spec read
from a network against the network's own arrays and the events its runtime sends, the
emitter copies, the decoding of monitors, the agreement rows, the synapse and memory
counts, the code report, and the rewritten network run by Brian2's runtime against the
runtime's events for a few hundred steps (the long version and the builds are in
tests/test_genn.py)."""
from types import SimpleNamespace

import numpy as np
import pytest
from brian2 import Network, defaultclock, ms, second

import sgbrian
from sgbrian.genn import (GeNNExportError, agreement, code_report, decode_events,
                          emitter_events, emitter_factor, genn_objects, gpu_memory_bytes,
                          network_spec, payload_bits, runtime_events, synapse_counts)

from sgbrian.encoding import payload_expression

from genn_networks import genn_networks


def test_the_spec_holds_the_network_arrays_and_the_input_the_runtime_sends():
    """Connections, parameters and state equal the Brian2 objects' arrays; the analog
    input's payloads and the spike input's steps of the window equal the events the
    input layer sends when the network runs on (steps counted from the window's start)."""
    steps = 120
    for net in genn_networks(steps, ("integer", "spikes"), warmup=60):
        dt = defaultclock.dt
        spec = network_spec(net, steps * dt)
        assert spec["steps"] == steps and spec["start_step"] == 60
        assert spec["dt"] == float(dt / second)
        for conn, syn in zip(spec["connections"], net.synapses):
            assert conn["pre"] == syn.i[:].tolist() and conn["post"] == syn.j[:].tolist()
            assert conn["w"] == syn.w[:].tolist()
            assert conn["delay"] == np.rint(syn.delay[:] / dt).astype(int).tolist()
        for layer, got in zip(net.layers[1:], spec["layers"]):
            g = layer.group
            assert got["n"] == layer.n and got["spec"]["K"] == layer.K
            assert got["b"] == g.b[:].tolist() and got["spec"]["theta"] == g.theta[:].tolist()
            assert got["v"] == [[getattr(g, f"v_{k}")[n] for k in range(layer.K + 1)]
                                for n in range(layer.n)]
            for k in range(layer.K + 1):
                assert got["state"][f"U_{k}"] == getattr(g, f"U_{k}")[:].tolist()
            assert got["state"]["r"] == g.r[:].tolist()
        sent = runtime_events(net, steps * dt)[0]
        if spec["input"]["kind"] == "analog":
            q = np.asarray(spec["input"]["q"])
            assert q.shape == (steps, 3) and np.abs(q).max() >= 2
            assert sorted((s, i, q[s, i]) for s, i in zip(*np.nonzero(q))) == sent
        else:
            assert sorted((s, i, 1.0) for s, i in zip(spec["input"]["steps"],
                                                      spec["input"]["indices"])) == sent
        assert len(sent) >= 5


def test_emitter_copies_carry_every_payload_exactly():
    q = np.array([[0, 1], [-1, 4], [7, -8], [0, 0], [-5, 2]], dtype=float)
    bits, indices, steps = emitter_events(q)
    assert bits == 4 == payload_bits(q)            # |-8| = 2^3 needs 4 bits, not 3
    assert payload_bits([[3]]) == 2 and payload_bits([[4]]) == 3 and payload_bits([[0]]) == 1
    decoded = np.zeros_like(q)
    np.add.at(decoded, (steps, indices % 2), [emitter_factor(c) for c in indices // 2])
    np.testing.assert_array_equal(decoded, q)
    assert [emitter_factor(c) for c in range(6)] == [1, -1, 2, -2, 4, -4]
    # step 4: -5 = -(1 + 4), copies 1 and 5 of channel 0; 2 = +2, copy 2 of channel 1
    assert sorted(indices[steps == 4].tolist()) == [1 * 2 + 0, 2 * 2 + 1, 5 * 2 + 0]
    with pytest.raises(GeNNExportError, match="integer"):
        emitter_events([[0.5]])


def test_monitors_decode_to_sorted_events_with_input_copies_summed():
    dt = 0.1 * ms
    monitor = SimpleNamespace   # what decode_events reads of a SpikeMonitor: t, i, q
    analog = {"input": {"kind": "analog", "n": 2}}
    inputs = monitor(t=np.array([3, 3, 3, 1, 5, 5]) * dt, i=np.array([0, 4, 3, 1, 2, 3]))
    layer = monitor(t=np.array([2, 1]) * dt, i=np.array([0, 1]), q=np.array([-3.0, 2.0]))
    # copies: 0 -> +1, 1 -> -1, 2 -> +2 (index = copy * 2 + channel)
    # step 3: ch 0 +1 (i 0) +2 (i 4); ch 1 -1 (i 3) -> (3, 0, 3), (3, 1, -1)
    # step 1: ch 1 +1; step 5: ch 0 -1 (i 2), ch 1 -1 (i 3)
    assert decode_events([inputs, layer], analog, dt) == [
        [(1, 1, 1.0), (3, 0, 3.0), (3, 1, -1.0), (5, 0, -1.0), (5, 1, -1.0)],
        [(1, 1, 2.0), (2, 0, -3.0)]]
    cancel = monitor(t=np.array([2, 2]) * dt, i=np.array([0, 2]))      # +1 and -1: no event
    assert decode_events([cancel], analog, dt) == [[]]
    spikes = {"input": {"kind": "spikes", "n": 3}}
    inputs = monitor(t=np.array([4, 2]) * dt, i=np.array([2, 0]))
    assert decode_events([inputs], spikes, dt) == [[(2, 0, 1.0), (4, 2, 1.0)]]


def test_agreement_counts_events_in_each_list_and_in_both():
    a = [[(1, 0, 1.0), (2, 1, 2.0)], [(3, 0, -1.0)]]
    b = [[(1, 0, 1.0), (2, 1, 3.0), (5, 0, 1.0)], [(3, 0, -1.0)]]
    assert agreement(a, b) == [
        {"layer": 0, "runtime": 2, "genn": 3, "matching": 1, "equal": False},
        {"layer": 1, "runtime": 1, "genn": 1, "matching": 1, "equal": True}]


def test_synapse_counts_memory_estimate_and_code_report(tmp_path):
    spec = {"input": {"kind": "analog", "q": [[0, 5], [-2, 0]]},
            "connections": [{"w": [0.1] * 6}, {"w": [0.2] * 4}]}
    # |q| <= 5: 3 bits, 6 copies of each of the 6 input synapses
    assert synapse_counts(spec) == {"runtime": [6, 4], "genn": [36, 4], "input_copies": 6}
    spec["input"] = {"kind": "spikes"}
    assert synapse_counts(spec) == {"runtime": [6, 4], "genn": [6, 4], "input_copies": 1}
    # 10 neurons, K = 3, 4 synapses each, 2 steps of delay (3 slots), 8-byte values:
    # neurons 10 * ((2*4 + 4 + 2*3) * 8 + 4*3) = 10 * 156; synapses 10*4*(8+4) = 480
    assert gpu_memory_bytes(10, 3, 4, max_delay_steps=2) == 1560 + 480
    assert gpu_memory_bytes(10, 3, 4, bytes_per_value=4) == 10 * ((8 + 4 + 2) * 4 + 4) + 10 * 4 * 8
    (tmp_path / "magicnetwork_model.cpp").write_text(
        "a\nNeuronModels::Base x;\nNeuronModels::Base y;\nWeightUpdateModels::Base z;\n"
        "$(U_1) = exp(-dt) * $(U_1);\n$(q_pre)\n")
    report = code_report(str(tmp_path), spec)
    assert (report["model_lines"], report["neuron_models"], report["synapse_models"]) == (6, 2, 1)
    assert report["has_cascade_update"] and report["reads_delayed_payload"]
    assert report["synapses"] == synapse_counts(spec)
    missing = code_report(str(tmp_path / "none"), spec)
    assert missing["model_lines"] == 0 and not missing["has_cascade_update"]


def test_the_rewrite_run_by_the_runtime_equals_the_genn_schedule_for_300_steps():
    """The exported form (emitter copies, one Synapses per delay, the encoder in the
    state update, state and input from mid-run), run by Brian2's runtime reading the
    payload ring buffer, equals every layer's events of the network with
    schedule='genn'. Unknown ``delayed_reads`` are refused with the allowed values."""
    steps = 300
    kinds = ("integer", "spikes", "binary", "three_layers", "extended")
    for n, net in enumerate(genn_networks(steps, kinds)):
        spec = network_spec(net, steps * defaultclock.dt)
        objects, monitors = genn_objects(spec, prefix=f"s{n}_", delayed_reads="history")
        Network(*objects).run(steps * defaultclock.dt)
        got = decode_events(monitors, spec, defaultclock.dt)
        expected = runtime_events(net, steps * defaultclock.dt)
        for layer, (a, b) in enumerate(zip(expected, got)):
            assert a == b, (n, layer)
            assert len(a) >= 5, (n, layer)
    with pytest.raises(ValueError, match=r"^delayed_reads must be one of \['genn', 'history'\], "
                                         r"got 'lag'$"):
        genn_objects(spec, delayed_reads="lag")


def test_a_network_that_cannot_be_exported_is_named_before_anything_is_written():
    from sgbrian.learning import OnlineLearner
    from sgbrian.losses import MSELoss
    signal = np.ones((40, 2))
    net = sgbrian.feedforward([2, 3, 1], signal=signal)
    learner = OnlineLearner(net, MSELoss())
    with pytest.raises(GeNNExportError, match=r"learner.detach\(\)"):
        network_spec(net, 2 * ms)
    learner.detach()
    for kwargs, message in [(dict(bucket_weights="synapse"), "bucket_weights='neuron'"),
                            (dict(payload="analog"), "payload='analog'")]:
        with pytest.raises(GeNNExportError, match=message):
            network_spec(sgbrian.feedforward([2, 3, 1], signal=signal, **kwargs), 2 * ms)
    net = sgbrian.feedforward([2, 3, 1], signal=signal, theta=0.01, delay=1 * ms)
    net.run(0.5 * ms)
    with pytest.raises(GeNNExportError, match=r"events are in flight in .*clear_spike_queues\(\)"):
        network_spec(net, 2 * ms)
    net.clear_spike_queues()
    assert network_spec(net, 2 * ms)["start_step"] == 5
    net = sgbrian.feedforward([2, 3, 1], signal=signal, extra="L : 1 (linked)\nI_ext : 1",
                              drive="L + I_ext")
    with pytest.raises(GeNNExportError, match=r"extra variables \['L'\] are linked or summed"):
        network_spec(net, 2 * ms)


def test_two_specs_run_side_by_side_under_their_prefixes_in_one_network():
    """As GeNN runs several specs in one model: the objects of two specs, named with
    their prefixes (input, input monitor, one Synapses per delay, layer, layer monitor),
    run in one Brian2 network and each equals its own network's events; the input group
    holds 2 B copies of each channel for payloads of B bits."""
    steps = 200
    nets = genn_networks(steps, ("integer", "extended"))
    specs = [network_spec(net, steps * defaultclock.dt) for net in nets]
    built = [genn_objects(spec, prefix=f"n{k}_", delayed_reads="history")
             for k, spec in enumerate(specs)]
    names = [o.name for o in built[0][0]]
    delays = sorted(set(specs[0]["connections"][0]["delay"]))
    assert names[0] == "n0_genn_input" and names[-3:] == [
        "n0_genn_input_spikes", "n0_genn_layer1_spikes", "n0_genn_layer2_spikes"]
    assert names[1:1 + len(delays)] == [f"n0_genn_syn0to1_d{d}" for d in delays]
    assert "n0_genn_layer1" in names and "n0_genn_layer2" in names
    bits = payload_bits(specs[0]["input"]["q"])
    assert built[0][0][0].N == 2 * bits * specs[0]["input"]["n"]
    Network(*built[0][0], *built[1][0]).run(steps * defaultclock.dt)
    for net, spec, (_, monitors) in zip(nets, specs, built):
        got = decode_events(monitors, spec, defaultclock.dt)
        assert got == runtime_events(net, steps * defaultclock.dt)


def test_the_export_reads_the_senders_delayed_payload_and_the_check_its_ring_buffer():
    """delayed_reads='genn': the synapses after a neuron layer read q_pre (GeNN delays
    it by the synapse's delay); 'history': the sender's ring buffer at the synapse's
    delay; layers without delays read q_pre either way."""
    steps = 50
    spec = network_spec(genn_networks(steps, ("three_layers",))[0], steps * defaultclock.dt)
    for mode in ("genn", "history"):
        objects, _ = genn_objects(spec, prefix=f"{mode}_", delayed_reads=mode)
        synapses = [o for o in objects if "genn_syn" in o.name and "syn0to" not in o.name]
        assert len(synapses) == 2
        for syn in synapses:
            d = int(syn.name.rsplit("_d", 1)[1])
            expected = "q_pre" if mode == "genn" else payload_expression(d, d)
            assert syn.pre.code == f"U_0_post += w*theta_pre*{expected}"
            assert d == 2 and "payload_read" in payload_expression(d, d)
