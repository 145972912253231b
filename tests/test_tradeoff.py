"""The theta/lambda sweep (``sgbrian.tradeoff``) and figure 9, against numbers by hand."""
import csv
import importlib
import sys

import numpy as np
import pytest
from brian2 import defaultclock, ms

from sgbrian import tradeoff
from sgbrian.experiments import build_learner, make_task

from test_analysis import FIGURES


def _errorbar_points(container):
    """(x, y, half height, half width) of each point of a matplotlib errorbar container
    with error bars in x and y."""
    line, _, (xbars, ybars) = container
    return (line.get_xdata(), line.get_ydata(),
            [np.diff(seg[:, 1])[0] / 2 for seg in ybars.get_segments()],
            [np.diff(seg[:, 0])[0] / 2 for seg in xbars.get_segments()])


def test_the_sweep_has_six_thetas_over_a_decade_and_a_half_and_penalties_where_there_are_hidden_layers():
    assert tradeoff.THETA_FACTORS[-1] / tradeoff.THETA_FACTORS[0] == pytest.approx(10 ** 1.5)
    assert tradeoff.default_theta("delay") == 0.02 and tradeoff.default_theta("itd") == 0.05
    points = tradeoff.sweep_points(["delay", "itd"], [0, 1], theta_factors=(0.5, 1.0),
                                   penalties=(0.1,))
    assert points == [dict(task="delay", seed=0, theta=0.01, penalty=0.0),
                      dict(task="delay", seed=1, theta=0.01, penalty=0.0),
                      dict(task="delay", seed=0, theta=0.02, penalty=0.0),
                      dict(task="delay", seed=1, theta=0.02, penalty=0.0),
                      dict(task="itd", seed=0, theta=0.025, penalty=0.0),
                      dict(task="itd", seed=1, theta=0.025, penalty=0.0),
                      dict(task="itd", seed=0, theta=0.05, penalty=0.0),
                      dict(task="itd", seed=1, theta=0.05, penalty=0.0),
                      dict(task="itd", seed=0, theta=0.05, penalty=0.1),
                      dict(task="itd", seed=1, theta=0.05, penalty=0.1)]
    assert len(tradeoff.sweep_points(["delay", "itd", "timing"], [0, 1, 2])) == 3 * (6 + 9 + 9)


def test_a_point_builds_its_network_with_the_threshold_and_its_learner_with_the_penalty():
    defaultclock.dt = 1 * ms
    task = make_task("timing", 0, dict(n_train=2, n_test=1))
    net, learner = build_learner("timing", task, 0, network={"theta": 0.2}, penalty=0.03)
    assert all(np.all(layer.group.theta[:] == 0.2) for layer in net.layers[1:])
    assert learner.penalty.strength.tolist() == [0.03]
    net, learner = build_learner("timing", task, 0, penalty=0.0)
    assert learner.penalty is None and np.all(net.layers[1].group.theta[:] == 0.05)


ROWS = [dict(task="itd", theta=0.05, penalty=0.0, score=s, quanta_per_neuron_per_s=q,
             events_per_neuron_per_s=q / 4) for s, q in ((1.0, 3000), (0.98, 2800), (0.99, 3100))]
ROWS += [dict(task="itd", theta=0.5, penalty=0.0, score=s, quanta_per_neuron_per_s=q,
              events_per_neuron_per_s=q / 2) for s, q in ((0.5, 400), (0.6, 500), (0.4, 600))]
ROWS += [dict(task="itd", theta=0.05, penalty=0.1, score=s, quanta_per_neuron_per_s=q,
              events_per_neuron_per_s=q / 3) for s, q in ((0.96, 900), (0.97, 1100), (0.95, 1000))]
ROWS += [dict(task="itd", theta=0.1, penalty=0.0, score=s, quanta_per_neuron_per_s=q,
              events_per_neuron_per_s=q / 3) for s, q in ((0.9, 1500), (0.92, 1600), (0.88, 1700))]


def test_the_summary_gives_means_sample_sds_the_front_and_the_fewest_quanta_meeting_the_goal():
    summary = tradeoff.settings_summary(ROWS + [dict(ROWS[0], task="timing")], "itd")
    assert [(s["theta"], s["penalty"]) for s in summary] == [(0.5, 0.0), (0.05, 0.1), (0.1, 0.0),
                                                              (0.05, 0.0)]
    low, penalized, middle, base = summary
    assert low["quanta"] == 500 and low["quanta_sd"] == pytest.approx(100)
    assert low["score"] == pytest.approx(0.5) and low["score_sd"] == pytest.approx(0.1)
    assert penalized["events"] == pytest.approx(1000 / 3) and penalized["seeds"] == 3
    assert base["score"] == pytest.approx(0.99) and base["quanta"] == pytest.approx(2966.67, abs=0.01)
    # every setting is on the front: each buys its score with more quanta
    assert [s["front"] for s in summary] == [True, True, False, True]
    assert [s["met"] for s in summary] == [False, True, False, True]        # goal 0.95
    assert tradeoff.fewest_quanta(summary) is penalized
    assert tradeoff.fewest_quanta([low]) is None


def test_a_stopped_sweep_resumes_without_running_its_points_again(tmp_path, monkeypatch):
    calls = []

    def score_point(task, seed, target, network, penalty):
        calls.append((task, seed, network["theta"], penalty))
        return dict(task=task, seed=seed, score=1.0 - network["theta"], tuning=[1],
                    quanta_per_neuron_per_s=1.0 / network["theta"])
    monkeypatch.setattr(tradeoff, "score_point", score_point)
    grid = dict(theta_factors=(1.0, 2.0), penalties=(0.1,))
    rows = tradeoff.sweep(["timing"], [0], str(tmp_path), progress=False, **grid)
    assert calls == [("timing", 0, 0.05, 0.0), ("timing", 0, 0.1, 0.0), ("timing", 0, 0.05, 0.1)]
    assert [r["score"] for r in rows] == [0.95, 0.9, 0.95] and "tuning" not in rows[0]
    assert rows[2]["penalty"] == 0.1 and rows[1]["theta"] == 0.1
    again = tradeoff.sweep(["timing"], [0], str(tmp_path), progress=False, **grid)
    assert len(calls) == 3 and again == rows


def test_figure_9_plots_each_settings_mean_and_sd_the_front_and_the_bptt_reference(
        monkeypatch, tmp_path):
    path = tmp_path / "activity_tradeoff.csv"
    columns = ["system", "task", "seed", "theta", "penalty", "score", "quanta_per_neuron_per_s",
               "events_per_neuron_per_s", "spikes_per_neuron_per_s"]
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        for seed, row in enumerate(ROWS):
            writer.writerow({**{k: row.get(k, "") for k in columns}, "system": "sgbrian",
                             "seed": seed % 3})
        for seed, (score, spikes) in enumerate(((0.7, 40.0), (0.8, 60.0))):
            writer.writerow({"system": "bptt", "task": "itd", "seed": seed, "score": score,
                             "spikes_per_neuron_per_s": spikes})
    monkeypatch.syspath_prepend(FIGURES)
    module = importlib.import_module("fig9_activity")
    kept = {}
    monkeypatch.setattr(module, "save", lambda fig, stem: kept.setdefault("fig", fig))
    module.draw(str(path), str(tmp_path))
    sys.modules.pop("fig9_activity")
    ax = kept["fig"].axes[0]
    theta, penalty, bptt = ax.containers
    x, y, half, width = _errorbar_points(theta)
    assert x.tolist() == pytest.approx([500, 1600, 8900 / 3]) and y.tolist() == pytest.approx([0.5, 0.9, 0.99])
    assert half == pytest.approx([0.1, 0.02, np.std([1.0, 0.98, 0.99], ddof=1)])
    assert width == pytest.approx([100, 100, np.std([3000, 2800, 3100], ddof=1)])
    x, y, _, _ = _errorbar_points(penalty)
    assert x.tolist() == [1000] and y.tolist() == pytest.approx([0.96])
    x, y, half, width = _errorbar_points(bptt)
    assert x.tolist() == [50] and y.tolist() == pytest.approx([0.75])
    assert half[0] == pytest.approx(np.std([0.7, 0.8], ddof=1)) and width[0] == pytest.approx(np.std([40, 60], ddof=1))
    front = [line for line in ax.get_lines() if line.get_label() == "Pareto front"][0]
    assert front.get_xdata().tolist() == pytest.approx([500, 1000, 8900 / 3])
    assert ax.get_xscale() == "log" and ax.get_title() == "itd"
    goal = [line for line in ax.get_lines() if line.get_label() == "stated level"][0]
    assert goal.get_ydata()[0] == 0.95
