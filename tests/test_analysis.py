"""The analysis modules against values computed by hand (and figure 1 and 2's plotted
numbers against an independent computation)."""
import importlib
import re
import os
import sys
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.stats
from brian2 import Hz, ms, second

from sgbrian import analysis, precision
from sgbrian.datasets import Sample, TaskData
from sgbrian.datasets import regrid

from checks import assert_gradients_equal

FIGURES = os.path.join(os.path.dirname(__file__), "..", "figures")
A = 0.1                                         # dt / tau in the bucket tests


def test_bucket_impulse_and_step_responses_by_hand():
    """K=2, tau=1 ms, dt=0.1 ms. Impulse into bucket 1 at t=0: u1 = exp(-t/tau),
    u2 = (t/tau) exp(-t/tau); step on the tap: u1 = 1 - exp(-t/tau),
    u2 = 1 - exp(-t/tau) (1 + t/tau). Sample n is t = n dt (the first is t=0)."""
    n = np.arange(4)
    t, U = analysis.bucket_kernels(2, 1 * ms, 0.4 * ms, 0.1 * ms)
    np.testing.assert_allclose(t, n * 1e-4)
    np.testing.assert_allclose(U, [np.exp(-A * n), A * n * np.exp(-A * n)], rtol=1e-13)
    _, S = analysis.bucket_kernels(2, 1 * ms, 0.4 * ms, 0.1 * ms, kind="step")
    np.testing.assert_allclose(S, [1 - np.exp(-A * n), 1 - np.exp(-A * n) * (1 + A * n)],
                               rtol=1e-12, atol=1e-16)


def test_delay_kernel_mean_and_spread_by_hand():
    """v = (0.3, 1, -1): |v| weighs gamma orders 1 and 2 equally, so the mean delay is
    1.5 tau and the second moment (1*2 + 2*3)/2 tau^2 = 4 tau^2 (spread sqrt(1.75) tau)."""
    t = np.array([0.0, 0.5e-3, 2e-3])
    h, v0, mean, spread = analysis.delay_kernel([0.3, 1.0, -1.0], 2, 1 * ms, t)
    expected = np.exp(-t / 1e-3) / 1e-3 - (t / 1e-6) * np.exp(-t / 1e-3)
    np.testing.assert_allclose(h, expected, rtol=1e-12)
    assert v0 == 0.3
    assert mean == pytest.approx(1.5e-3, rel=1e-12)
    assert spread == pytest.approx(np.sqrt(1.75) * 1e-3, rel=1e-12)
    assert analysis.delay_kernel([1.0, 0.0, 0.0], 2, 1 * ms, t)[1:] == (1.0, 0.0, 0.0)


def test_class_tuning_averages_steps_from_the_start_then_samples_of_each_class():
    """3 samples (labels 1, 0, 1), 3 steps, 2 outputs (non-square: the axes must hold)."""
    outputs = [np.array([[9., 9.], [1., 2.], [3., 4.]]),
               np.array([[9., 9.], [5., 5.], [7., 1.]]),
               np.array([[9., 9.], [0., 0.], [1., 0.]])]
    tuning = analysis.class_tuning(outputs, [1, 0, 1], start_step=1, n_classes=2)
    np.testing.assert_allclose(tuning, [[6.0, 3.0], [(2 + 0.5) / 2, (3 + 0) / 2]])


def test_spike_count_baseline_by_hand():
    """Class 0 spikes on channel 0, class 1 on channel 1; one test sample of class 1 spikes
    on channel 0, so the nearest class mean gets it wrong: accuracy 2/3."""
    def sample(channel, label):
        return Sample((np.array([channel] * 3), np.array([1., 2., 3.]) * ms), label, 50)
    task = TaskData("t", [sample(0, 0), sample(1, 1)], [sample(0, 0), sample(1, 1), sample(0, 1)],
                    0.1 * ms, 2, 2, "cross_entropy")
    assert analysis.spike_count_baseline(task) == pytest.approx(2 / 3)


def test_neuron_response_weighs_the_tap_and_the_buckets():
    n = np.arange(3)
    _, step = analysis.neuron_response(1, 1 * ms, [0.5, 2.0], 0.3 * ms, 0.1 * ms, kind="step")
    np.testing.assert_allclose(step, 0.5 + 2.0 * (1 - np.exp(-A * n)), rtol=1e-13)
    _, impulse = analysis.neuron_response(1, 1 * ms, [0.5, 2.0], 0.3 * ms, 0.1 * ms)
    np.testing.assert_allclose(impulse, 2.0 * np.exp(-A * n), rtol=1e-13)
    for call in (lambda v: analysis.neuron_response(1, 1 * ms, v, 0.3 * ms, 0.1 * ms),
                 lambda v: analysis.delay_kernel(v, 1, 1 * ms, np.zeros(1))):
        with pytest.raises(ValueError, match=re.escape("v must have shape (2,), got (3,)")):
            call([1, 2, 3])


def test_encoding_tradeoff_by_hand_with_a_tie():
    """theta = 0.25, y = (0.625, 0.75, -0.125): (y - r)/theta = 2.5 (a tie, rounded up: 3),
    0, -3.5 (rounded up: -3). q = (3, 0, -3), r = (0.75, 0.75, 0), |y - r| = (0.125, 0, 0.125)."""
    row, = analysis.encoding_tradeoff(np.array([0.625, 0.75, -0.125]), [0.25], dt=1 * ms)
    assert row["max_error"] == 0.125 and row["max_error_over_theta"] == 0.5
    assert row["rms_error"] == pytest.approx(np.sqrt(2 * 0.125 ** 2 / 3), rel=1e-15)
    assert row["events_per_channel"] == pytest.approx(2 / 3e-3)
    assert row["quanta_per_channel"] == pytest.approx(6 / 3e-3)
    per_sample, = analysis.encoding_tradeoff(np.array([[0.625, 0.0], [0.75, 0.0], [-0.125, 0.0]]),
                                             [0.25])
    # without dt, per channel per time sample: 2 events / 2 channels / 3 samples
    assert per_sample["events_per_channel"] == pytest.approx(1 / 3)
    assert per_sample["quanta_per_channel"] == pytest.approx(1.0)
    assert per_sample["theta"] == 0.25
    # the default payload is 'integer': a step of 2.5 thetas is sent as one event of 3
    assert analysis.encoding_tradeoff([0.625], [0.25]) == \
        analysis.encoding_tradeoff([0.625], [0.25], payload="integer")
    binary, = analysis.encoding_tradeoff([0.625], [0.25], payload="binary")
    assert binary["max_error"] == 0.375 and binary["quanta_per_channel"] == 1.0


def test_layer_activity_counts_rates_and_the_reconstruction_error():
    layer = SimpleNamespace(n=2, group=SimpleNamespace(theta=np.array([0.5, 0.25])))
    spikes = SimpleNamespace(num_spikes=3, q=np.array([2, -1, 1]), record_variables=["q"])
    signals = SimpleNamespace(t=[0, 1], y=np.array([[1.0, 1.2], [0.0, 0.1]]),
                              r=np.array([[1.0, 1.0], [0.0, 0.0]]))
    out = analysis.layer_activity(layer, {"spikes": spikes, "signals": signals}, 0.5 * second)
    assert out == {"neurons": 2, "events": 3, "quanta": 4.0, "rate_hz": 3.0,
                   "max_error": pytest.approx(0.4)}
    # raw spikes (no payload recorded) count one quantum each; no signals, no error
    raw = SimpleNamespace(num_spikes=3, record_variables=[])
    assert analysis.layer_activity(layer, {"spikes": raw}, 1 * second) == \
        {"neurons": 2, "events": 3, "quanta": 3.0, "rate_hz": 1.5}
    empty = SimpleNamespace(t=[], y=np.zeros((2, 0)), r=np.zeros((2, 0)))
    assert "max_error" not in analysis.layer_activity(layer, {"signals": empty}, 1 * second)


def _spike_task(times_ms, dt):
    sample = Sample((np.zeros(len(times_ms), int), np.array(times_ms) * ms), 0, 10)
    return TaskData("t", [sample], [sample], dt, 1, 1, "cross_entropy")


def test_regrid_floors_spike_times_merges_spikes_in_one_step_and_samples_analog_values():
    coarse = regrid(_spike_task([0.07, 0.09, 0.12, 0.31], 0.01 * ms), 0.1 * ms)
    sample = coarse.train[0]
    assert sample.n_steps == 1
    np.testing.assert_array_equal(sample.input[0], [0])
    np.testing.assert_allclose(np.asarray(sample.input[1] / ms), [0.0])
    coarse = regrid(_spike_task([0.07, 0.09, 0.12, 0.31], 0.01 * ms), 0.05 * ms)
    np.testing.assert_allclose(np.asarray(coarse.train[0].input[1] / ms), [0.05])
    analog = TaskData("a", [Sample(np.arange(6.0), np.arange(6.0) * 2, 6)], [], 0.1 * ms, 1, 1, "mse")
    s = regrid(analog, 0.2 * ms).train[0]
    np.testing.assert_array_equal(s.input[:, 0], [0, 2, 4])
    np.testing.assert_array_equal(s.target[:, 0], [0, 4, 8])


def test_precision_update_interval_common_grid_and_verdict_by_hand():
    ex = SimpleNamespace(update_every=10, dt=1 * ms)
    assert precision.update_interval(ex, 0.5 * ms) == 20
    assert precision.update_interval(ex, 2 * ms) == 5
    assert precision.update_interval(SimpleNamespace(update_every="sample", dt=1 * ms), 0.1 * ms) == "sample"
    outputs = [np.arange(12.0).reshape(6, 2), np.arange(12.0, 24.0).reshape(6, 2)]
    grid = precision.common_grid(outputs, 0.5 * ms)                 # every 2nd step
    np.testing.assert_array_equal(grid[:, 0], [0, 4, 8, 12, 16, 20])
    def rows(task, metric, scores):
        return [{"task": task, "metric": metric, "dt_ms": dt, "trained_score": s}
                for dt, seeds in scores.items() for s in seeds]
    verdict = precision.verdict(rows("itd", "accuracy", {0.1: (0.95, 0.97), 0.05: (0.96, 0.98)})
                                + rows("delay", "nrmse", {1.0: (0.10, 0.11), 0.5: (0.12, 0.13)}))
    ok, spread, text, p = verdict["itd"]
    assert ok and spread == pytest.approx(1.0)                    # means 0.96 and 0.97
    # two groups: ANOVA F = t^2 with t = 0.01 / sqrt(0.0002) and 2 degrees of freedom,
    # p = 2 (1 - T(t)), T(t) = 1/2 + t / (2 sqrt(2 + t^2)) (Student's t with 2 df)
    t = 0.01 / np.sqrt(0.0002)
    assert p == pytest.approx(1 - t / np.sqrt(2 + t ** 2), rel=1e-9)
    assert "2 seed(s) per dt" in text
    ok, spread, _, _ = verdict["delay"]
    assert not ok and spread == pytest.approx(100 * (0.125 / 0.105 - 1))
    # the same seeds at every dt: seeds are blocks, and for two dts the test is the paired
    # t-test: differences 0.01 and 0.015, t = 0.0125 / (sd / sqrt(2)) = 5 with 1 degree of
    # freedom, p = 1 - (2 / pi) arctan(5) (Student's t with 1 df is Cauchy)
    seeded = [{**r, "seed": k % 2} for k, r in enumerate(rows("itd", "accuracy",
                                                          {0.1: (0.95, 0.97), 0.05: (0.96, 0.985)}))]
    assert precision.dt_effect_p(seeded) == pytest.approx(1 - 2 / np.pi * np.arctan(5.0), rel=1e-9)
    # three dts x three seeds, by hand: an additive table (dt and seed effects, no noise)
    # plus a residual that sums to zero along both axes
    table = np.array([[0.0, 1.0, 2.0], [0.5, 1.5, 2.5], [3.0, 4.0, 5.0]])
    noise = 0.1 * np.array([[1, -1, 0], [-1, 1, 0], [0, 0, 0]])
    scores = table + noise
    three = [{"task": "t", "metric": "nrmse", "dt_ms": d, "seed": b, "trained_score": scores[a, b]}
             for a, d in enumerate((1.0, 0.5, 0.2)) for b in range(3)]
    dt_means = scores.mean(axis=1)
    ms_dt = 3 * ((dt_means - scores.mean()) ** 2).sum() / 2
    ms_res = (noise ** 2).sum() / 4
    assert precision.dt_effect_p(three) == pytest.approx(
        scipy.stats.f.sf(ms_dt / ms_res, 2, 4), rel=1e-9)
    # unequal seeds across dts: the one-way ANOVA
    three[0]["seed"] = 7
    assert precision.dt_effect_p(three) == pytest.approx(
        scipy.stats.f_oneway(*scores).pvalue, rel=1e-9)


def test_dt_effect_p_edges_seed_orders_and_the_verdicts_limits():
    """Seeds in a different order at each dt are still blocks; a repeated or missing seed
    falls back to the one-way ANOVA; one dt or one seed per dt gives NaN; an additive
    table (no residual) gives p = 0 with a dt effect and NaN without one. The verdict
    compares the means of three dts, accepts a spread of exactly 2 points, and an
    update interval never falls below one step."""
    table = np.array([[0.0, 1.0, 2.0], [0.5, 1.5, 2.5], [3.0, 4.0, 5.0]])
    noise = 0.1 * np.array([[1, -1, 0], [-1, 1, 0], [0, 0, 0]])
    scores = table + noise
    def rows(values, seeds=((0, 1, 2),) * 3):
        return [{"task": "t", "metric": "nrmse", "dt_ms": d, "seed": seed, "trained_score": values[a, b]}
                for a, d in enumerate((1.0, 0.5, 0.2)[:len(values)])
                for b, seed in enumerate(seeds[a][:values.shape[1]])]
    blocked = precision.dt_effect_p(rows(scores))
    shuffled = scores[:, [0, 1, 2]].copy()
    shuffled[1] = scores[1, [2, 0, 1]]                      # dt 0.5 lists seeds 2, 0, 1
    assert precision.dt_effect_p(rows(shuffled, ((0, 1, 2), (2, 0, 1), (0, 1, 2)))) == \
        pytest.approx(blocked, rel=1e-12)
    shuffled = scores.copy()
    shuffled[0] = scores[0, [1, 2, 0]]                      # dt 1 lists seeds 1, 2, 0
    assert precision.dt_effect_p(rows(shuffled, ((1, 2, 0), (0, 1, 2), (0, 1, 2)))) == \
        pytest.approx(blocked, rel=1e-12)
    one_way = scipy.stats.f_oneway(*scores).pvalue
    for seeds in [((0, 0, 2), (0, 0, 2), (0, 0, 2)), ((0, 1, None),) * 3]:
        assert precision.dt_effect_p(rows(scores, seeds)) == pytest.approx(one_way, rel=1e-12)
    assert np.isnan(precision.dt_effect_p(rows(scores[:1])))                  # one dt
    assert np.isnan(precision.dt_effect_p(rows(scores[:, :1])))               # one seed per dt
    additive = np.add.outer([0.0, 2.0, 4.0], [0.0, 3.0, 6.0])       # means exact in binary
    assert precision.dt_effect_p(rows(additive)) == 0.0
    assert np.isnan(precision.dt_effect_p(rows(np.tile([1.0, 2.0, 3.0], (3, 1)))))
    accuracy = [{"task": "a", "metric": "accuracy", "dt_ms": d, "trained_score": s}
                for d, s in ((0.1, 0.025), (0.05, 0.005), (0.02, 0.015))]
    ok, spread, text, _ = precision.verdict(accuracy)["a"]
    assert ok and spread == 2.0 and text.startswith("mean accuracy spread 2.0 percentage points")
    assert not precision.verdict([{**r, "trained_score": r["trained_score"] * 1.01}
                                  for r in accuracy])["a"][0]
    nrmse = [{"task": "n", "metric": "nrmse", "dt_ms": d, "trained_score": s}
             for d, s in ((1.0, 0.1), (0.5, 0.108), (0.2, 0.104))]
    ok, spread, text, _ = precision.verdict(nrmse)["n"]
    assert ok and spread == pytest.approx(8.0) and text.startswith("mean NRMSE spread 8.0%")
    assert precision.update_interval(SimpleNamespace(update_every=1, dt=1 * ms), 4 * ms) == 1


def _figure(name, monkeypatch, tmp_path):
    """Run figure script ``name`` (quick) in this process; return its matplotlib figure."""
    monkeypatch.syspath_prepend(FIGURES)
    kept = {}
    module = importlib.import_module(name)
    monkeypatch.setattr(module, "save", lambda fig, stem: kept.setdefault("fig", fig))
    module.main(SimpleNamespace(quick=True, out=str(tmp_path)))
    sys.modules.pop(name)
    return kept["fig"]


def _drawn(name, csv_path, monkeypatch, tmp_path):
    """Figure script ``name``'s ``draw`` of ``csv_path`` in this process; its figure."""
    monkeypatch.syspath_prepend(FIGURES)
    module = importlib.import_module(name)
    kept = {}
    monkeypatch.setattr(module, "save", lambda fig, stem: kept.setdefault("fig", fig))
    module.draw(str(csv_path), str(tmp_path))
    sys.modules.pop(name)
    return kept["fig"]


#: The columns of analyses/out/baselines.csv that figure 8 reads.
BASELINE_COLUMNS = ["system", "task", "dt_ms", "seed", "steps", "score", "train_s_per_sample",
                    "peak_rss_mib_per_sample", "autograd_mib_per_sample", "learner_state_mib_per_sample"]


def _errorbar_points(container):
    """(x, y, half height of each error bar) of a matplotlib errorbar container."""
    line, _, (bars,) = container
    return line.get_xdata(), line.get_ydata(), [np.diff(seg[:, 1])[0] / 2 for seg in bars.get_segments()]


def test_figure_1_plots_gamma_densities_and_cdfs(monkeypatch, tmp_path):
    """The plotted bucket curves are tau * gamma.pdf and gamma.cdf of order k (scipy)."""
    fig = _figure("fig1_kernels", monkeypatch, tmp_path)
    impulse, step = fig.axes[0].get_lines(), fig.axes[1].get_lines()
    assert len(impulse) == len(step) == 6
    for k, (a, b) in enumerate(zip(impulse, step), start=1):
        t = a.get_xdata() * 1e-3                                   # plotted in ms
        np.testing.assert_allclose(a.get_ydata(), 1e-3 * scipy.stats.gamma.pdf(t, k, scale=1e-3),
                                   atol=1e-12)
        np.testing.assert_allclose(b.get_ydata(), scipy.stats.gamma.cdf(t, k, scale=1e-3),
                                   atol=1e-12)


def test_figure_2_plots_reconstructions_within_half_theta_with_the_stated_event_counts(
        monkeypatch, tmp_path):
    """Each plotted reconstruction is a staircase of theta multiples within theta/2 of the
    plotted signal at its own sample times, and its legend's event count is the number
    of its steps that changed (an independent count from the plotted data)."""
    fig = _figure("fig2_sigma_delta", monkeypatch, tmp_path)
    ax = fig.axes[0]
    signal = ax.get_lines()[-1]
    t_fine, y_fine = signal.get_xdata(), signal.get_ydata()
    for line, theta in zip(ax.get_lines()[:3], (0.5, 0.2, 0.05)):
        t, r = line.get_xdata(), line.get_ydata()
        y = np.interp(t, t_fine, y_fine)
        assert np.max(np.abs(y - r)) <= theta / 2 + 1e-12
        np.testing.assert_allclose(r / theta, np.round(r / theta), atol=1e-9)
        changes = np.count_nonzero(np.diff(np.r_[0.0, r]))
        assert f"{changes} events" in line.get_label(), line.get_label()


def test_figure_5_plots_the_mean_and_sample_sd_over_seeds_per_metric(monkeypatch, tmp_path):
    """From a hand-written CSV: accuracy tasks in panel (c), NRMSE tasks in (d), each point
    the mean over seeds with the sample standard deviation as its error bar."""
    import csv
    path = tmp_path / "temporal_precision.csv"
    scores = {("delay", "nrmse"): {1.0: [0.03, 0.05], 0.5: [0.04, 0.04]},
              ("itd", "accuracy"): {1.0: [0.4, 0.6], 0.5: [0.9, 1.0]}}
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, ["task", "metric", "dt_ms", "seed", "deviation",
                                    "events_per_neuron_per_s", "quanta_per_neuron_per_s",
                                    "trained_score", "wall_s_per_sim_s"])
        writer.writeheader()
        for (task, metric), by_dt in scores.items():
            for dt, values in by_dt.items():
                for seed, value in enumerate(values):
                    writer.writerow({"task": task, "metric": metric, "dt_ms": dt, "seed": seed,
                                     "deviation": 0.1, "events_per_neuron_per_s": 100 * dt + seed,
                                     "quanta_per_neuron_per_s": 700 + 10 * seed,
                                     "trained_score": value, "wall_s_per_sim_s": 1.0})
    fig = _drawn("fig5_temporal_precision", path, monkeypatch, tmp_path)
    accuracy_panel, nrmse_panel = fig.axes[2], fig.axes[3]
    for ax, key in ((accuracy_panel, ("itd", "accuracy")), (nrmse_panel, ("delay", "nrmse"))):
        (container,) = ax.containers                    # one task per panel here
        x, y, half_widths = _errorbar_points(container)
        np.testing.assert_allclose(x, [0.5, 1.0])
        expected = [scores[key][0.5], scores[key][1.0]]
        np.testing.assert_allclose(y, [np.mean(v) for v in expected])
        np.testing.assert_allclose(half_widths, [np.std(v, ddof=1) for v in expected], atol=1e-12)
    activity = fig.axes[1]                            # events (solid), then quanta (dashed), per task
    assert activity.get_yscale() == "log" and len(activity.containers) == 4
    for events, quanta in zip(activity.containers[::2], activity.containers[1::2]):
        x, y, half = _errorbar_points(events)
        np.testing.assert_allclose(y, [50.5, 100.5])     # 100 dt + seed over seeds 0, 1
        np.testing.assert_allclose(half, [np.std([50, 51], ddof=1)] * 2)
        x, y, half = _errorbar_points(quanta)
        np.testing.assert_allclose(x, [0.5, 1.0])
        np.testing.assert_allclose(y, [705, 705])
        np.testing.assert_allclose(half, [np.std([700, 710], ddof=1)] * 2)
        assert quanta.lines[0].get_linestyle() == "--" and events.lines[0].get_linestyle() == "-"


def test_figure_8_plots_mean_and_sample_sd_per_system_and_each_systems_memory(monkeypatch, tmp_path):
    """From a hand-written CSV (one task, two systems, two dts, seeds): each point of the
    score, time and memory panels is the mean over seeds at its number of steps, the error
    bar the sample sd; memory is the learner's buffers for sgbrian and autograd's tensors
    for BPTT (peak RSS is not plotted); the
    caption's verdict gives the first and last score and the growth of memory and time."""
    import csv
    path = tmp_path / "baselines.csv"
    rows = [("sgbrian", 1.0, 0, 60, 1.0, 0.01, 2.0, 0.0), ("sgbrian", 1.0, 1, 60, 0.9, 0.03, 4.0, 0.0),
            ("sgbrian", 0.5, 0, 120, 1.0, 0.04, 3.0, 0.0), ("sgbrian", 0.5, 1, 120, 1.0, 0.06, 3.0, 0.0),
            ("lif", 1.0, 0, 60, 0.8, 0.002, 50.0, 0.1), ("lif", 1.0, 1, 60, 0.6, 0.004, 70.0, 0.3),
            ("lif", 0.5, 0, 120, 0.2, 0.010, 60.0, 0.4), ("lif", 0.5, 1, 120, 0.4, 0.014, 60.0, 0.4)]
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(BASELINE_COLUMNS)
        for system, dt, seed, steps, score, seconds, kept_or_rss, autograd in rows:
            # sgbrian's learner state in the 8th field (its peak RSS then 100: not plotted)
            rss, state = (100.0, kept_or_rss) if system == "sgbrian" else (kept_or_rss, "")
            writer.writerow([system, "timing", dt, seed, steps, score, seconds, rss, autograd, state])
    fig = _drawn("fig8_vs_bptt", path, monkeypatch, tmp_path)
    r2 = 2 ** 0.5        # the sample sd of two values a, b is |a - b| / sqrt(2)
    expected = {  # panel: {system: (means at 60 and 120 steps, sample sds)}
        0: {"sgbrian": ([0.95, 1.0], [0.1 / r2, 0.0]), "lif": ([0.7, 0.3], [0.2 / r2, 0.2 / r2])},
        1: {"sgbrian": ([0.02, 0.05], [0.02 / r2, 0.02 / r2]), "lif": ([0.003, 0.012], [0.002 / r2, 0.004 / r2])},
        2: {"sgbrian": ([3.0, 3.0], [2.0 / r2, 0.0]), "lif": ([0.2, 0.4], [0.2 / r2, 0.0])}}
    for panel, by_system in expected.items():
        containers = fig.axes[panel].containers
        assert len(containers) == 2
        for container, system in zip(containers, ["sgbrian", "lif"]):
            x, y, half_widths = _errorbar_points(container)
            means, sds = by_system[system]
            np.testing.assert_allclose(x, [60, 120])
            np.testing.assert_allclose(y, means, rtol=1e-12)
            np.testing.assert_allclose(half_widths, sds, rtol=1e-9, atol=1e-15)
    caption = fig.texts[-1].get_text()
    # sgbrian: score 0.95 -> 1.00, memory 3/3 = x1.0, time 0.05/0.02 = x2.5;
    # lif: 0.70 -> 0.30, memory 0.4/0.2 = x2.0, time 0.012/0.003 = x4.0
    assert ("timing: sgbrian (60-120 steps) accuracy 0.95 -> 1.00, memory x1.0, time x2.5; "
            "lif (60-120 steps) accuracy 0.70 -> 0.30, memory x2.0, time x4.0") in caption


def test_figure_8_draws_the_delay_nrmse_on_a_log_axis_and_accuracy_on_a_linear_one(monkeypatch, tmp_path):
    """The delay task's NRMSE spans decades across systems (0.05 to 19 in the measured
    run), so its score panel is logarithmic; accuracies (0 to 1) stay linear; the time and
    memory panels are logarithmic for every task."""
    import csv
    path = tmp_path / "baselines.csv"
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(BASELINE_COLUMNS)
        for task, score in (("delay", 0.05), ("timing", 1.0)):
            for dt, steps in ((1.0, 60), (0.5, 120)):
                writer.writerow(["sgbrian", task, dt, 0, steps, score, 0.01, 1.0, 0.0, 0.5])
                writer.writerow(["lif", task, dt, 0, steps, 20 * score if task == "delay" else 0.5,
                                 0.01, 1.0, 0.2, ""])
    fig = _drawn("fig8_vs_bptt", path, monkeypatch, tmp_path)
    scales = [[ax.get_yscale() for ax in fig.axes[3 * row:3 * row + 3]] for row in range(2)]
    assert scales == [["log", "log", "log"], ["linear", "log", "log"]]     # delay, then timing


@pytest.mark.parametrize("spikes", [False, True])
def test_unrolled_readout_gradients_equal_the_online_exact_rule(spikes):
    """The BPTT-way readout gradients (trajectory recorded, summed over time afterwards;
    figure 6's memory comparison) equal the online exact rule's for w into the readout,
    v and b of the readout (1e-9 relative), with analog or raw-spike input and delays."""
    import sgbrian
    from brian2 import defaultclock
    from sgbrian.learning import OnlineLearner
    from sgbrian.losses import CrossEntropyLoss, MSELoss
    from sgbrian.signals import band_limited_noise
    dt, T = defaultclock.dt, 120
    if spikes:
        rng = np.random.default_rng(1)
        steps, channels = np.nonzero(rng.random((T, 3)) < 0.1)
        sample = Sample((channels, steps * dt), 1, T)
        net = sgbrian.feedforward([3, 4, 2], K=3, tau=0.5 * ms, theta=0.05, weight_scale=2.0,
                                  spikes=sample.input, max_delay=0.3 * ms, random_delays=True,
                                  seed=2)
        loss = CrossEntropyLoss()
    else:
        signal = band_limited_noise(T, dt, cutoff=500 * Hz, channels=2, seed=3)
        sample = Sample(signal, 0.3 * np.ones((T, 2)), T)
        net = sgbrian.feedforward([2, 4, 2], K=3, tau=0.5 * ms, theta=0.05, signal=signal,
                                  max_delay=0.3 * ms, random_delays=True, seed=2)
        loss = MSELoss()
    learner = OnlineLearner(net, loss, rule="exact", seed=0)
    online = learner.gradients([sample])
    unrolled = analysis.unrolled_readout_gradients(learner, sample)
    assert sorted(unrolled) == ["b2", "v2", "w1"]
    assert_gradients_equal(unrolled, {name: online[name] for name in unrolled}, rtol=1e-9)


def test_network_activity_is_each_layers_activity_from_its_monitors():
    import sgbrian
    from brian2 import defaultclock
    signal = np.sin(np.arange(300)[:, None] * np.array([0.05, 0.11]))
    net = sgbrian.feedforward([2, 3, 1], K=2, tau=0.5 * ms, theta=0.05, signal=signal, seed=1,
                              record=("spikes",))
    net.run(300 * defaultclock.dt)
    rows = analysis.network_activity(net, 300 * defaultclock.dt)
    seconds = float(300 * defaultclock.dt / second)
    for layer, row, monitors in zip(net.layers, rows, net.monitors):
        q = monitors["spikes"].q[:]
        assert row == {"neurons": layer.n, "events": len(q), "quanta": float(np.abs(q).sum()),
                       "rate_hz": len(q) / layer.n / seconds}
    assert rows[0]["events"] > 0 and rows[1]["events"] > 0


def test_the_pareto_front_keeps_the_points_nothing_beats_in_activity_and_score():
    """By hand (ties in both kept, a tie in one and worse in the other dominated; NRMSE
    lower is better), and against a brute-force check of every pair on random points."""
    from sgbrian.analysis import pareto_front
    activity = [100, 100, 120, 120, 90, 500]
    accuracy = [0.9, 0.9, 0.95, 0.93, 0.5, 0.95]
    assert pareto_front(activity, accuracy).tolist() == [4, 0, 1, 2]
    assert pareto_front([10, 20, 30], [0.3, 0.2, 0.25], higher_is_better=False).tolist() == [0, 1]
    rng = np.random.default_rng(1)
    a, s = rng.integers(0, 20, 60).astype(float), rng.integers(0, 20, 60) / 20
    front = set(pareto_front(a, s).tolist())
    for i in range(60):
        beaten = any(a[j] <= a[i] and s[j] >= s[i] and (a[j] < a[i] or s[j] > s[i]) for j in range(60))
        assert (i in front) == (not beaten)
    with pytest.raises(ValueError, match="score"):
        pareto_front([1, 2], [0.5, np.nan])
    with pytest.raises(ValueError, match="one length"):
        pareto_front([1, 2], [0.5])
