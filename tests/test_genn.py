"""GeNN export: decoded events (step, index, payload) of every layer equal the runtime
with schedule='genn', in GeNN itself (built from ../shared/vendor or GENN_PATH) and, on
machines without GeNN, for the same rewrite run by Brian2's runtime (4,500 steps; the
export's pure parts and a 300-step rewrite check are fast tests in test_genn_spec.py; the
10,000-step build of six networks is in test_genn_build.py, a file of its own so that
the two test processes share the GeNN builds)."""
import os

import numpy as np
import pytest
from brian2 import Network, defaultclock, ms

import sgbrian
from sgbrian.genn import (GENN_HINT, GeNNExportError, agreement, compare_with_runtime,
                          decode_events, export_genn,
                          genn_objects, genn_path, network_spec, runtime_events)
from sgbrian.experiments import trained_for_export

from genn_networks import check_rows, genn_networks

pytestmark = pytest.mark.genn
needs_genn = pytest.mark.skipif(genn_path() is None, reason=f"no GeNN 4.9 here: {GENN_HINT}")


def test_the_rewrite_run_by_the_runtime_equals_the_genn_schedule_with_long_delays():
    """Without GeNN: the exported form (emitter copies for the input, one Synapses per
    delay, encoder in the state update, state and input taken mid-run), run by Brian2's
    runtime reading the payload ring buffer, equals the network with schedule='genn'
    on the network with delays up to 4,096 steps, whose output starts after about
    4,100 steps. (The other five networks, with delays of at most 5 steps, are checked
    the same way for 300 steps in tests/test_genn_spec.py, and all six in GeNN for
    10,000 steps in tests/test_genn_build.py.)"""
    steps = 4500
    nets = genn_networks(steps, ("long_delays",))
    for n, net in enumerate(nets):
        spec = network_spec(net, steps * defaultclock.dt)
        objects, monitors = genn_objects(spec, prefix=f"r{n}_", delayed_reads="history")
        Network(*objects).run(steps * defaultclock.dt)
        got = decode_events(monitors, spec, defaultclock.dt)
        check_rows(agreement(runtime_events(net, steps * defaultclock.dt), got), f"net {n}")


def test_schedules_differ_and_set_schedule_restores_the_order():
    signal = np.sin(np.arange(400)[:, None] * 0.05) * np.ones((1, 2))
    events = {}
    for schedule in ("exact", "genn"):
        net = sgbrian.feedforward([2, 4, 2], K=3, tau=0.5 * ms, theta=0.05, signal=signal,
                                  max_delay=0.2 * ms, random_delays=True, seed=3,
                                  record=("spikes",), schedule=schedule)
        net.run(400 * defaultclock.dt)
        events[schedule] = net.monitors[2]["spikes"].t[:].tolist()
    assert events["exact"] != events["genn"]
    net = sgbrian.feedforward([2, 4, 2], K=3, tau=0.5 * ms, theta=0.05, signal=signal,
                              max_delay=0.2 * ms, random_delays=True, seed=3, record=("spikes",))
    net.set_schedule("genn")
    net.set_schedule("exact")
    net.run(400 * defaultclock.dt)
    assert net.monitors[2]["spikes"].t[:].tolist() == events["exact"]


@pytest.mark.parametrize("name", ["delay", "itd", "timing"])
def test_export_writes_a_genn_model_that_reads_delayed_payloads(name, tmp_path):
    from sgbrian.experiments import EXPERIMENTS
    ex = EXPERIMENTS[name]
    defaultclock.dt = ex.dt
    task = ex.make_task(seed=0, dt=ex.dt, n_train=10, n_test=2)
    net = ex.make_network(task)
    report = export_genn(net, str(tmp_path), task.train[0].n_steps * ex.dt)
    model = open(os.path.join(tmp_path, "magicnetwork_model.cpp")).read()
    assert "$(U_1) = $(U_0) + (_g0_c0 * ($(U_1) - $(U_0)))" in model   # the exact propagator
    assert "floor(" in model and "$(r)" in model                         # the encoder
    assert report["has_cascade_update"] and report["reads_delayed_payload"] == (len(net.layers) > 2)
    runtime = [len(syn) for syn in net.synapses]
    assert report["synapses"]["runtime"] == runtime
    assert report["synapses"]["genn"][1:] == runtime[1:]               # one-to-one


def test_build_without_genn_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.delenv("GENN_PATH", raising=False)
    monkeypatch.setattr("sgbrian.genn.build.genn_path", lambda: None)
    net = sgbrian.feedforward([2, 3, 1], signal=np.zeros((20, 2)))
    with pytest.raises(GeNNExportError, match="GeNN 4.9"):
        export_genn(net, str(tmp_path), 2 * ms, build=True)


@needs_genn
@pytest.mark.parametrize("names", [("delay", "timing"), ("itd",)])
def test_trained_models_in_genn_equal_the_runtime(names, tmp_path):
    """The trained models (quick training), exported after training with their first
    test sample: every layer's events equal the runtime's."""
    nets, durations = [], []
    for name in names:
        result, duration = trained_for_export(name, quick=True)
        nets.append(result["net"])
        durations.append(duration)
    _, rows = compare_with_runtime(nets, durations, str(tmp_path))
    for name, net_rows in zip(names, rows):
        check_rows(net_rows, name, min_events=1)
        assert sum(row["runtime"] for row in net_rows) >= 30, name
