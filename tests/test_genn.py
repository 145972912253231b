"""GeNN export: code generation for every model, the rewrite checked in the runtime,
clear errors for what cannot be rewritten, and a GeNN build only where GENN_PATH is set."""
import os

import numpy as np
import pytest
from brian2 import Network, defaultclock, ms

import sgbrian
from sgbrian.genn import (GeNNExportError, build_genn_network, emitter_factor, export_genn,
                          network_spec)
from sgbrian.learning import OnlineLearner
from sgbrian.losses import MSELoss

pytestmark = pytest.mark.genn


def _events(monitor, dt, n, copies=1):
    """(step, neuron, payload) from a monitor; emitter copies are summed into payloads."""
    steps = np.rint(np.asarray(monitor.t / dt)).astype(int)
    idx = np.asarray(monitor.i[:])
    if copies == 1:
        q = monitor.q[:] if "q" in monitor.record_variables else np.ones(len(idx))
        return sorted(zip(steps.tolist(), idx.tolist(), np.asarray(q).tolist()))
    payload = {}
    for s, i in zip(steps, idx):
        key = (int(s), int(i % n))
        payload[key] = payload.get(key, 0) + emitter_factor(i // n)
    return sorted((s, i, float(q)) for (s, i), q in payload.items())


def test_genn_form_equals_the_runtime_network_with_the_genn_schedule(rng):
    """The rewritten network (emitter copies, one Synapses per delay, offline input,
    encoder in the state update), run by Brian2's runtime, encodes and transmits exactly
    what the sgbrian network does with schedule='genn' (encoder before arrivals)."""
    steps = 300
    t = np.arange(steps) * 1e-4
    signal = np.stack([np.sin(2 * np.pi * 40 * t) * 2, np.cos(2 * np.pi * 70 * t)], axis=1)
    nets = {}
    for schedule in ("exact", "genn"):
        nets[schedule] = sgbrian.feedforward([2, 4, 2], K=3, tau=0.5 * ms, theta=0.1,
                                             signal=signal, max_delay=0.3 * ms,
                                             random_delays=True, record=("spikes",), seed=9,
                                             schedule=schedule)
        nets[schedule].run(steps * defaultclock.dt)
    spec = network_spec(nets["exact"], steps * defaultclock.dt, payload_bits=6)
    objects = build_genn_network(spec)
    Network(*objects).run(steps * defaultclock.dt)
    monitors = [o for o in objects if o.name.endswith("_spikes")]
    for l, (monitor, n, C) in enumerate(zip(monitors, (2, 4, 2), (12, 12, 1))):
        expected = _events(nets["genn"].monitors[l]["spikes"], defaultclock.dt, n)
        got = _events(monitor, defaultclock.dt, n, C)
        assert len(expected) > 20, l
        if C == 1:       # the readout has one copy: its events carry no payload
            expected, got = [e[:2] for e in expected], [e[:2] for e in got]
        assert got == expected, f"layer {l}"
    assert _events(nets["exact"].monitors[1]["spikes"], defaultclock.dt, 4) != \
        _events(nets["genn"].monitors[1]["spikes"], defaultclock.dt, 4)   # schedules differ


@pytest.mark.parametrize("name", ["delay", "itd", "timing"])
def test_export_writes_a_genn_model_with_the_cascade_for_every_model(name, tmp_path):
    from sgbrian.experiments import EXPERIMENTS
    ex = EXPERIMENTS[name]
    defaultclock.dt = ex.dt
    task = ex.make_task(seed=0, dt=ex.dt, n_train=10, n_test=2)
    net = ex.make_network(task)
    report = export_genn(net, str(tmp_path), task.train[0].n_steps * ex.dt)
    model = open(os.path.join(tmp_path, "magicnetwork_model.cpp")).read()
    assert report["model_lines"] > 100
    assert "$(U_1) = $(U_0) + (_g0_c0 * ($(U_1) - $(U_0)))" in model   # the exact propagator
    assert "floor(" in model and "$(r)" in model                         # the encoder
    assert os.path.exists(os.path.join(tmp_path, "main.cpp"))
    assert report["has_cascade_update"]


def test_unsupported_features_give_a_clear_error(tmp_path):
    signal = np.zeros((20, 2))
    net = sgbrian.feedforward([2, 3, 1], signal=signal)
    OnlineLearner(net, MSELoss())
    with pytest.raises(GeNNExportError, match=r"learner.detach\(\)"):
        export_genn(net, str(tmp_path), 2 * ms)
    net = sgbrian.feedforward([2, 3, 1], signal=signal, bucket_weights="synapse")
    with pytest.raises(GeNNExportError, match="bucket_weights='neuron'"):
        export_genn(net, str(tmp_path), 2 * ms)


def test_build_needs_genn_path(tmp_path, monkeypatch):
    monkeypatch.delenv("GENN_PATH", raising=False)
    net = sgbrian.feedforward([2, 3, 1], signal=np.zeros((20, 2)))
    with pytest.raises(GeNNExportError, match="GENN_PATH"):
        export_genn(net, str(tmp_path), 2 * ms, build=True)


@pytest.mark.skipif(not os.environ.get("GENN_PATH"), reason="GENN_PATH not set: no GeNN 4 here")
def test_genn_cpu_build_runs_and_matches_the_shifted_runtime(tmp_path):
    import pickle
    signal = np.sin(np.arange(200)[:, None] * 0.05) * np.ones((1, 2))
    net = sgbrian.feedforward([2, 4, 2], K=3, tau=0.5 * ms, theta=0.1, signal=signal, seed=3,
                              record=("spikes",))
    export_genn(net, str(tmp_path), 200 * defaultclock.dt, payload_bits=6, build=True)
    with open(os.path.join(tmp_path, "genn_events.pkl"), "rb") as f:
        events = pickle.load(f)
    assert len(events["genn_input_spikes"][0]) > 0
