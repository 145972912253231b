"""The export's brian2genn process run in this one, code generation only (no compiler, no
GeNN; seconds): the device 'sgbrian_genn' writes the model with its delayed payload
reads, its int() and clip() and its code objects in one translation unit. Skipped where
brian2genn is not installed (the compat stack)."""
import json
import os
import re

import numpy as np
import pytest
from brian2 import defaultclock, ms, prefs
from brian2.devices.device import get_device, reset_device

import sgbrian
from sgbrian.equations import leaky_relu
from sgbrian.genn import UNITY_SOURCE, network_spec
from sgbrian.genn.build import _main

from genn_networks import genn_networks

pytest.importorskip("brian2genn")


@pytest.fixture
def generated(tmp_path):
    """The code brian2genn generates for three specs in one model (integer payloads with
    per-synapse delays, spike input, a leaky-relu layer), 100 steps each."""
    steps = 100
    nets = genn_networks(steps, ("integer", "spikes"), warmup=100)
    signal = np.sin(np.arange(steps)[:, None] * np.array([[0.1, 0.2]]))
    nets.append(sgbrian.feedforward([2, 3, 1], K=2, tau=0.5 * ms, theta=0.05, signal=signal,
                                    hidden=leaky_relu(0.1), seed=0))   # int() in its output
    specs = [network_spec(net, steps * defaultclock.dt) for net in nets]
    spec_path = tmp_path / "spec.json"
    spec_path.write_text(json.dumps({"specs": specs, "build": False, "use_gpu": False}))
    # brian2genn's device changes the schedule and other preferences (and overwrites
    # Brian2's own backup of them): keep every value, and put each back
    saved = {name: prefs[name] for name in prefs}
    try:
        _main([str(spec_path), str(tmp_path)])
    finally:
        reset_device()
        for name, value in saved.items():
            prefs[name] = value
    return tmp_path, specs


def test_every_code_object_is_compiled_once_in_the_unity_source(generated):
    directory, _ = generated
    # every code object of the main program; the synapses' row-length code is compiled into
    # GeNN's model generator instead
    code_objects = sorted(f"code_objects/{name}" for name in os.listdir(directory / "code_objects")
                          if name.endswith(".cpp") and not name.endswith("_max_row_length.cpp"))
    unity = (directory / UNITY_SOURCE).read_text().splitlines()
    assert unity == [f'#include "{name}"' for name in code_objects] and len(unity) > 20
    rule = next(line for line in (directory / "Makefile").read_text().splitlines()
                if line.startswith("\t$(CXX)"))
    sources = rule.split()
    assert UNITY_SOURCE in sources and "main.cpp" in sources and "objects.cpp" in sources
    assert not [s for s in sources if s.startswith("code_objects/")]


def test_the_model_reads_delayed_payloads_and_has_correct_int_and_clip(generated):
    directory, specs = generated
    model = (directory / "magicnetwork_model.cpp").read_text()
    assert "$(q_pre)" in model                      # the refusal of presynaptic reads lifted
    support = model + "".join((directory / "code_objects" / name).read_text()
                              for name in os.listdir(directory / "code_objects"))
    assert "return (int)value;" in support          # truncation, not int_(const bool)
    assert re.search(r"double _clip\(const double value, const double a_min, "
                     r"const double a_max\)", model)
    # one synapse population per delay value of each connection, under each spec's prefix
    for n, spec in enumerate(specs):
        for l, conn in enumerate(spec["connections"]):
            for d in sorted(set(conn["delay"])):
                assert f"n{n}_genn_syn{l}to{l + 1}_d{d}" in model
    out = json.loads((directory / "sgbrian_events.json").read_text())
    assert out == {"run_s": None, "events": None}


def test_the_process_it_ran_in_keeps_brians_runtime_and_preferences(generated):
    """brian2genn's device sets its own schedule (synapses before groups) and turns off
    loop-invariant optimisations; run here, they must not leak into later tests."""
    assert type(get_device()).__name__ == "RuntimeDevice"
    assert list(prefs.core.network.default_schedule) == ["start", "groups", "thresholds",
                                                         "synapses", "resets", "end"]
    assert prefs.codegen.loop_invariant_optimisations is True
