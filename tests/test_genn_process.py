"""The GeNN export's driver without brian2genn, GeNN or a build (seconds): ``run_specs``,
``export_genn``, ``compare_with_runtime`` and ``genn_path``, with the brian2genn process
replaced by a stand-in that does the child's work with Brian2's runtime.

The stand-in reads the spec file the driver wrote, runs each spec's GeNN form
(``genn_objects(..., delayed_reads='history')``: the rewritten network, read through the
payload ring buffers so that the runtime can run it) for the spec's steps and writes
``sgbrian_events.json`` in the child's format: the events GeNN would decode, and a run
time. That the rewritten form equals GeNN event for event is checked by the builds in
tests/test_genn.py; here the driver's own logic is checked: what it writes, passes and
refuses, how it reads the events back, and that ``compare_with_runtime`` compares each
network's GeNN events with its own runtime run of its own duration."""
import json
import os
from types import SimpleNamespace

import pytest
from brian2 import Network, defaultclock, ms, second, start_scope

from sgbrian.genn import (GeNNExportError, code_report, compare_with_runtime, decode_events,
                          export_genn, genn_objects, network_spec, runtime_events)
from sgbrian.genn import build

from genn_networks import genn_networks

RUN_S = 0.125                     # the stand-in's "GeNN run time", seconds
RUNS = iter(range(10 ** 6))       # a fresh name prefix for every run of the stand-in


def child_events(spec_path):
    """What the child process computes for the specs in ``spec_path``: each spec's GeNN
    form run for its steps, decoded, events before the spec's last step."""
    with open(spec_path) as f:
        job = json.load(f)
    events = []
    for spec in job["specs"]:
        start_scope()
        objects, monitors = genn_objects(spec, prefix=f"child{next(RUNS)}_",
                                         delayed_reads="history")
        Network(*objects).run(spec["steps"] * spec["dt"] * second)
        decoded = decode_events(monitors, spec, spec["dt"] * second)
        events.append([[list(e) for e in layer if e[0] < spec["steps"]] for layer in decoded])
    return job, events


@pytest.fixture
def child(monkeypatch):
    """``subprocess.run`` of the driver replaced by the stand-in; the calls are kept."""
    calls = []

    def run(argv, capture_output, text, env):
        spec_path, directory = argv[-2:]
        job, events = child_events(spec_path)
        calls.append(SimpleNamespace(argv=argv, env=env, job=job))
        out = {"run_s": RUN_S if job["build"] else None,
               "events": events if job["build"] else None}
        with open(os.path.join(directory, "sgbrian_events.json"), "w") as f:
            json.dump(out, f)
        return SimpleNamespace(returncode=0, stdout="", stderr="")

    monkeypatch.setattr(build.subprocess, "run", run)
    monkeypatch.setenv("GENN_PATH", "/opt/genn-for-the-test")
    return calls


@pytest.fixture
def nets():
    defaultclock.dt = 0.1 * ms
    return genn_networks(150, ("integer", "spikes"), warmup=40)


def test_compare_with_runtime_finds_every_networks_events_equal(child, nets, tmp_path):
    """Two networks of different durations in one model: each one's GeNN events equal
    its own runtime run of its own duration, layer by layer; the child got both specs
    (one process, GeNN_PATH passed on, the module's entry point)."""
    durations = [60 * defaultclock.dt, 45 * defaultclock.dt]
    result, rows = compare_with_runtime(nets, durations, str(tmp_path))
    assert len(child) == 1
    call = child[0]
    assert call.argv[1:3] == ["-m", "sgbrian.genn"]
    assert call.env["GENN_PATH"] == "/opt/genn-for-the-test"
    assert [s["steps"] for s in call.job["specs"]] == [60, 45]
    assert call.job["build"] is True and call.job["use_gpu"] is False
    for net_rows, events in zip(rows, result["events"]):
        assert [r["layer"] for r in net_rows] == [0, 1, 2]
        assert all(r["equal"] and r["runtime"] == r["genn"] == r["matching"] for r in net_rows)
        assert sum(r["runtime"] for r in net_rows) == sum(len(layer) for layer in events) > 10
    assert result["run_s"] == RUN_S
    assert result["build_s"] == pytest.approx(result["wall_s"] - RUN_S)
    assert all(isinstance(e, tuple) for layer in result["events"][0] for e in layer)


def test_compare_with_runtime_of_one_network_gives_its_rows(child, nets, tmp_path):
    """One network (not a list) and one duration: the rows of that network; the events
    equal the runtime's, here computed independently after the export's state."""
    net = nets[0]
    spec = network_spec(net, 50 * defaultclock.dt)
    _, expected = child_events_of([spec], tmp_path / "expected")
    result, rows = compare_with_runtime(net, 50 * defaultclock.dt, str(tmp_path / "run"))
    assert [r["layer"] for r in rows] == [0, 1, 2] and all(r["equal"] for r in rows)
    assert result["events"][0] == [[tuple(e) for e in layer] for layer in expected[0]]


def child_events_of(specs, folder):
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "spec.json")
    with open(path, "w") as f:
        json.dump({"specs": specs, "build": True, "use_gpu": False}, f)
    return child_events(path)


def test_run_specs_writes_the_job_and_reads_the_events_back(child, nets, tmp_path):
    net = nets[0]
    spec = network_spec(net, 30 * defaultclock.dt)
    out = build.run_specs([spec], str(tmp_path), build=False, use_gpu=True)
    with open(tmp_path / "sgbrian_spec.json") as f:
        assert json.load(f) == {"specs": [spec], "build": False, "use_gpu": True}
    assert out["events"] is None and out["run_s"] is None and out["wall_s"] > 0
    assert "build_s" not in out
    built = build.run_specs([spec], str(tmp_path / "b"), build=True)
    assert [len(layer) for layer in built["events"][0]] == \
        [len(layer) for layer in runtime_events(net, 30 * defaultclock.dt)]


def test_run_specs_refuses_before_starting_a_process(child, nets, tmp_path, monkeypatch):
    spec = network_spec(nets[0], 10 * defaultclock.dt)
    other = dict(spec, dt=spec["dt"] * 2)
    with pytest.raises(GeNNExportError, match="share dt"):
        build.run_specs([spec, other], str(tmp_path))
    monkeypatch.setattr(build, "genn_path", lambda: None)
    with pytest.raises(GeNNExportError, match="needs GeNN 4.9"):
        build.run_specs([spec], str(tmp_path), build=True)
    assert child == []


def test_a_failing_child_is_reported_with_the_end_of_its_output(nets, tmp_path, monkeypatch):
    spec = network_spec(nets[0], 10 * defaultclock.dt)
    failed = SimpleNamespace(returncode=1, stdout="o" * 3000 + "OUT-END",
                             stderr="e" * 5000 + "ERR-END")
    monkeypatch.setattr(build.subprocess, "run", lambda *a, **k: failed)
    with pytest.raises(RuntimeError, match="brian2genn failed") as error:
        build.run_specs([spec], str(tmp_path), build=False)
    message = str(error.value)
    assert "OUT-END" in message and "ERR-END" in message
    assert message.count("o") == 1993                 # the last 2,000 characters of stdout
    assert message.count("e") == 3993 + 2             # the last 4,000 of stderr; "brian2genn failed"


def test_export_reports_the_code_and_with_build_the_events_and_speed(child, nets, tmp_path):
    net = nets[0]
    duration = 40 * defaultclock.dt
    spec = network_spec(net, duration)
    report = export_genn(net, str(tmp_path / "gen"), duration)
    expected = code_report(str(tmp_path / "gen"), spec)
    assert {k: report[k] for k in expected} == expected
    assert report["codegen_seconds"] > 0 and "events" not in report
    with open(tmp_path / "gen" / "sgbrian_report.json") as f:
        assert json.load(f)["codegen_seconds"] == report["codegen_seconds"]
    built = export_genn(net, str(tmp_path / "built"), duration, build=True)
    assert built["run_s_per_sim_s"] == pytest.approx(RUN_S / float(duration / second))
    assert built["events"] == [[tuple(e) for e in layer] for layer in child_events_of(
        [spec], tmp_path / "check")[1][0]]


def test_genn_path_is_the_variable_else_the_projects_build(monkeypatch, tmp_path):
    monkeypatch.setenv("GENN_PATH", str(tmp_path))
    assert build.genn_path() == str(tmp_path)
    monkeypatch.delenv("GENN_PATH")
    root = os.path.dirname(os.path.dirname(os.path.abspath(build.__file__)))
    local = os.path.join(os.path.dirname(root), ".genn", "genn-4.9.0")
    seen = []

    def exists(path):
        seen.append(path)
        return path == os.path.join(local, "lib", "libgenn.a")

    monkeypatch.setattr(build.os.path, "exists", exists)
    assert build.genn_path() == local and seen == [os.path.join(local, "lib", "libgenn.a")]
    monkeypatch.setattr(build.os.path, "exists", lambda path: False)
    assert build.genn_path() is None
    monkeypatch.setenv("GENN_PATH", "")
    assert build.genn_path() is None
