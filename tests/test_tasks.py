"""Task generators (seeded, correct by construction) and training to the stated levels."""
import os
import numpy as np
import pytest
from brian2 import Hz, defaultclock, ms

from sgbrian import tasks
from sgbrian.analysis import spike_count_baseline
from sgbrian.datasets import load_shd
from sgbrian.experiments import train_task


def test_delay_task_target_is_the_delayed_input():
    defaultclock.dt = 1 * ms
    task = tasks.delay_task(n_train=2, n_test=1, duration=400 * ms, delay=7 * ms, seed=3)
    s = task.train[0]
    # a whole-step delay: the target is the input shifted by 7 steps (periodic signal)
    np.testing.assert_allclose(s.target[7:, 0], s.input[:-7, 0], atol=1e-9)
    again = tasks.delay_task(n_train=2, n_test=1, duration=400 * ms, delay=7 * ms, seed=3)
    np.testing.assert_array_equal(again.train[0].input, s.input)
    assert not np.allclose(task.test[0].input, s.input)
    assert np.all(s.weight[:14] == 0) and np.all(s.weight[14:] == 1)


def test_itd_task_shifts_the_same_pattern_by_the_class_itd():
    defaultclock.dt = 0.05 * ms
    task = tasks.itd_task(n_train=18, n_test=9, seed=1)
    itds = np.round(np.linspace(-20, 20, 9)).astype(int)
    for s in task.train + task.test:
        indices, times = s.input
        steps = np.rint(np.asarray(times / defaultclock.dt)).astype(int)
        left, right = np.sort(steps[indices == 0]), np.sort(steps[indices == 1])
        assert len(left) == len(right) > 0
        np.testing.assert_array_equal(right - left, itds[s.target])
    assert sorted(s.target for s in task.test) == list(range(9))
    with pytest.raises(ValueError, match="not whole steps"):
        tasks.itd_task(n_classes=7)


def test_timing_task_has_equal_spike_counts_across_classes():
    defaultclock.dt = 1 * ms
    task = tasks.timing_task(n_train=200, n_test=100, noise_rate=0 * Hz, seed=2)
    for s in task.train[:50]:
        counts = np.bincount(s.input[0], minlength=100)
        assert np.all(counts == 1)                  # without noise: one spike per channel
    noisy = tasks.timing_task(n_train=300, n_test=200, seed=2)
    assert spike_count_baseline(noisy) < 0.25       # counts do not reveal the class


def test_shd_loader_reads_a_generated_file(tmp_path):
    h5py = pytest.importorskip("h5py")
    path = tmp_path / "shd_small.h5"
    rng = np.random.default_rng(0)
    with h5py.File(path, "w") as f:
        vf, vu = h5py.vlen_dtype(np.float32), h5py.vlen_dtype(np.uint16)
        times = f.create_dataset("spikes/times", (3,), dtype=vf)
        units = f.create_dataset("spikes/units", (3,), dtype=vu)
        for s in range(3):
            times[s] = np.sort(rng.uniform(0, 0.05, 40)).astype(np.float32)
            units[s] = rng.integers(0, 20, 40).astype(np.uint16)
        f["labels"] = np.array([3, 1, 4])
    samples = load_shd(path, 1 * ms, 30 * ms, channels=20)
    assert [s.target for s in samples] == [3, 1, 4]
    with h5py.File(path, "r") as f:
        t0, u0 = np.asarray(f["spikes/times"][0]), np.asarray(f["spikes/units"][0])
    expected = {(u, int(np.floor(t / 1e-3))) for t, u in zip(t0, u0) if t < 0.03}
    got = set(zip(samples[0].input[0].tolist(),
                  np.rint(np.asarray(samples[0].input[1] / ms)).astype(int).tolist()))
    assert got == expected
    with pytest.raises(ValueError, match="channels=10"):
        load_shd(path, 1 * ms, 30 * ms, channels=10)


@pytest.mark.training
@pytest.mark.parametrize("name", ["delay", "itd", "timing"])
def test_training_reaches_the_stated_level(name):
    """delay: test NRMSE < 0.1; itd: test accuracy >= 95%; timing: test accuracy >= 90%."""
    result = train_task(name, progress=False)
    print(f"{name}: test {result['metric']} = {result['test'][result['metric']]:.4f} "
          f"(goal {result['goal']}), {result['seconds']:.0f} s")
    assert result["met"], (name, result["test"][result["metric"]])


def test_synthetic_shd_is_timing_only_and_reads_back_through_load_shd(tmp_path):
    """SHD's HDF5 layout written with h5py and read by load_shd; every channel fires
    once per sample (without noise) in every class, at the class template's time
    within the jitter; same seed, same file; a test set shares the templates."""
    from brian2 import Hz, second
    from sgbrian.datasets import synthetic_shd
    pytest.importorskip("h5py")
    path = synthetic_shd(str(tmp_path / "a.h5"), 40, channels=30, classes=4, duration=0.2 * second,
                         jitter=1 * ms, noise_rate=0 * Hz, seed=3)
    samples = load_shd(path, 1 * ms, 0.2 * second, channels=30)
    assert sorted(np.bincount([s.target for s in samples])) == [10, 10, 10, 10]
    for s in samples:
        assert np.all(np.bincount(s.input[0], minlength=30) == 1)
    steps = {c: np.array([np.rint(np.asarray(s.input[1] / ms))[np.argsort(s.input[0])]
                          for s in samples if s.target == c]) for c in range(4)}
    for c in range(4):       # within a class the spikes sit within 5 ms (5 sigma) of each other
        assert np.ptp(steps[c], axis=0).max() <= 12
    assert np.abs(steps[0].mean(0) - steps[1].mean(0)).mean() > 20      # classes differ
    again = load_shd(synthetic_shd(str(tmp_path / "b.h5"), 40, channels=30, classes=4,
                                   duration=0.2 * second, jitter=1 * ms, noise_rate=0 * Hz,
                                   seed=3), 1 * ms, 0.2 * second, channels=30)
    assert all(np.array_equal(a.input[0], b.input[0]) for a, b in zip(samples, again))
    test = load_shd(synthetic_shd(str(tmp_path / "t.h5"), 8, channels=30, classes=4,
                                  duration=0.2 * second, jitter=1 * ms, noise_rate=0 * Hz,
                                  seed=99, template_seed=3), 1 * ms, 0.2 * second, channels=30)
    for s in test:
        order = np.argsort(s.input[0])
        t = np.rint(np.asarray(s.input[1] / ms))[order]
        assert np.abs(t - steps[s.target].mean(0)).max() <= 8
    with pytest.raises(ValueError, match="jitter must be < duration / 6"):
        synthetic_shd(str(tmp_path / "c.h5"), 2, duration=10 * ms, jitter=2 * ms)


@pytest.mark.training
def test_shd_task_trains_with_batches_and_learnable_delays(tmp_path):
    result = train_task("shd", epochs=1, batch_size=2, progress=False,
                        task_kwargs=dict(n_train=3, n_test=2, duration=150 * ms,
                                         folder=str(tmp_path)))
    assert result["task"].n_inputs == 700 and result["task"].n_outputs == 20
    assert len(result["test"]["predictions"]) == 2
    delays = result["learner"].params["d0"]
    assert delays.max() <= 25 and np.ptp(delays) > 10        # learnable delays up to 25 ms
    initial = np.rint(np.asarray(result["net"].synapses[0].delay[:] / ms))
    assert not np.allclose(delays, initial)                 # they moved


def test_the_readme_states_the_task_settings_the_code_uses():
    """The README's task descriptions come from the generators' own defaults and the
    experiments' settings (the place train_task reads them from)."""
    import inspect
    import os
    import re
    from sgbrian.experiments import EXPERIMENTS
    readme = open(os.path.join(os.path.dirname(__file__), "..", "README.md")).read()
    timing = inspect.signature(tasks.timing_task).parameters
    jitter = float(timing["jitter"].default / ms)
    noise = float(timing["noise_rate"].default / Hz)
    assert re.search(rf"jitter {jitter:g} ms, noise {noise:g} Hz", readme)
    itd = inspect.signature(tasks.itd_task).parameters
    assert f"{itd['n_classes'].default} ITD classes" in readme
    assert f"at dt = {float(EXPERIMENTS['itd'].dt / ms):g} ms" in readme
    for name in ("itd", "timing"):
        assert EXPERIMENTS[name].batch_size == 32 and "batches of 32" in readme
    delay = inspect.signature(tasks.delay_task).parameters
    assert f"delayed by {float(delay['delay'].default / ms):g} ms" in readme


def test_band_limited_noise_has_no_power_above_the_cutoff_and_unit_spread():
    from sgbrian.signals import band_limited_noise
    x = band_limited_noise(1000, 1 * ms, 50 * Hz, channels=3, seed=4)
    assert x.shape == (1000, 3)
    np.testing.assert_allclose(x.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(x.std(axis=0), 1, rtol=1e-12)
    power = np.abs(np.fft.rfft(x, axis=0)) ** 2
    freqs = np.fft.rfftfreq(1000, 1e-3)
    assert power[freqs > 50].max() < 1e-20 * power.max()
    assert power[(freqs > 0) & (freqs <= 50)].min() > 0          # every band below it
    np.testing.assert_array_equal(band_limited_noise(1000, 1 * ms, 50 * Hz, 3, seed=4), x)


def test_delay_task_with_a_fractional_delay_is_a_phase_shift():
    """delay 7.5 steps: the target's spectrum is the input's times exp(-2 pi i f D)."""
    defaultclock.dt = 1 * ms
    s = tasks.delay_task(n_train=1, n_test=1, duration=200 * ms, delay=7.5 * ms, seed=5).train[0]
    f = np.fft.rfftfreq(200, 1e-3)
    np.testing.assert_allclose(np.fft.rfft(s.target[:, 0]),
                               np.fft.rfft(s.input[:, 0]) * np.exp(-2j * np.pi * f * 7.5e-3),
                               atol=1e-9)
    assert np.all(s.weight[:15] == 0) and np.all(s.weight[15:] == 1)   # 2 * delay = 15 steps


def test_itd_task_spikes_at_the_stated_rate_within_the_sample_and_classes_balance():
    defaultclock.dt = 0.05 * ms
    task = tasks.itd_task(n_train=360, n_test=18, rate=600 * Hz, seed=6)
    n = 300                                                        # 15 ms
    left_counts = []
    for s in task.train:
        indices, times = s.input
        steps = np.rint(np.asarray(times / defaultclock.dt)).astype(int)
        assert steps.min() >= 0 and steps.max() < n
        left_counts.append(np.sum(indices == 0))
    # Poisson at 600 Hz over the 15 ms less the 2 x 1 ms margins: 7.8 spikes per sample
    assert np.mean(left_counts) == pytest.approx(600 * 13e-3, rel=0.06)
    assert np.bincount([s.target for s in task.train], minlength=9).tolist() == [40] * 9
    assert [s.target for s in task.train[:9]] != list(range(9))   # shuffled training order


def test_timing_task_jitters_each_classes_template_by_the_stated_spread():
    """Without noise, a class's samples put each channel's spike at its template time
    plus Gaussian jitter: the spread over samples is ``jitter``; noise adds spikes at
    ``noise_rate`` per channel."""
    defaultclock.dt = 0.1 * ms
    task = tasks.timing_task(n_train=400, n_test=10, n_classes=2, channels=20, duration=60 * ms,
                             jitter=1 * ms, noise_rate=0 * Hz, seed=7)
    for label in (0, 1):
        steps = np.array([np.asarray(s.input[1][np.argsort(s.input[0])] / defaultclock.dt)
                          for s in task.train if s.target == label])
        assert steps.shape == (200, 20)
        assert np.std(steps, axis=0).mean() == pytest.approx(10.0, rel=0.05)   # 1 ms = 10 steps
        assert steps.min() >= 0 and steps.max() < 600
    noisy = tasks.timing_task(n_train=50, n_test=10, channels=20, jitter=0.1 * ms,
                              noise_rate=100 * Hz, seed=7)
    extra = np.mean([len(s.input[0]) - 20 for s in noisy.train])
    assert extra == pytest.approx(100 * 0.06 * 20, rel=0.1)       # 120 noise spikes per sample


def test_train_task_equals_its_steps_done_by_hand(tmp_path, capsys):
    """train_task('delay', ...) = make_task + build_learner (the experiment's loss, rule,
    Adam, cosine schedule; lr and update interval overridden) + fit (with a checkpoint
    file) + evaluate: the same parameters, history and test numbers to the last digit.
    Defaults: seed 0, progress printed, no recorded outputs; ``met`` compares with the
    goal (NRMSE below 0.1)."""
    from sgbrian.experiments import EXPERIMENTS, build_learner, make_task
    from sgbrian.optim import Adam
    settings = dict(n_train=3, n_test=2, duration=40 * ms)
    result = train_task("delay", epochs=2, task_kwargs=settings, lr=3e-3, update_every=7,
                        batch_size=2, record_outputs=True, checkpoint=str(tmp_path / "a.ckpt"),
                        progress=False)
    defaultclock.dt = EXPERIMENTS["delay"].dt
    task = make_task("delay", 0, settings)
    net, learner = build_learner("delay", task, 0, lr=3e-3, update_every=7, epochs=2)
    assert isinstance(learner.optimizer, Adam) and learner.optimizer.lr == 3e-3
    assert learner.update_every == 7 and learner.rule == EXPERIMENTS["delay"].rule
    before = learner.evaluate(task.test[:1], record_outputs=True)
    history = learner.fit(task.train, 2, progress=False, batch_size=2)
    test = learner.evaluate(task.test, record_outputs=True, batch_size=2)
    for name, value in learner.params.items():
        np.testing.assert_array_equal(result["learner"].params[name], value)
    np.testing.assert_array_equal(result["history"]["loss"], history["loss"])
    assert result["test"]["nrmse"] == test["nrmse"] and result["test"]["loss"] == test["loss"]
    assert len(result["before"]["outputs"]) == 1
    np.testing.assert_array_equal(result["before"]["outputs"][0], before["outputs"][0])
    np.testing.assert_array_equal(result["test"]["outputs"][1], test["outputs"][1])
    assert result["net"] is result["learner"].net and result["task"].test[1].n_steps == 40
    assert (result["metric"], result["goal"]) == ("nrmse", 0.1)
    assert result["met"] == (test["nrmse"] < 0.1)
    assert (tmp_path / "a.ckpt").exists()
    quiet = train_task("delay", epochs=1, task_kwargs=settings, batch_size=2)
    assert "epoch 0" in capsys.readouterr().err                       # progress by default
    assert quiet["before"] is None and "outputs" not in quiet["test"]
    np.testing.assert_array_equal(quiet["task"].train[0].input, task.train[0].input)   # seed 0
    defaultclock.dt = 0.5 * ms
    finer = tasks.delay_task(n_train=1, n_test=1, duration=40 * ms)
    with pytest.raises(ValueError, match=r"task.dt \(0.5 ms\) must equal dt \(1. ms\)"):
        train_task("delay", task=finer, dt=1 * ms)
    with pytest.raises(ValueError, match=r"name must be one of \['delay', 'dvs_gesture', 'itd', 'shd', 'ssc', 'timing'\]"):
        train_task("dealy")
    with pytest.raises(ValueError, match=r"task setting must be one of \['cutoff', 'delay', 'duration', "
                                         r"'n_test', 'n_train'\], got 'cutoff_hz'"):
        train_task("delay", cutoff_hz=50)


def test_an_experiment_meets_its_goal_below_an_nrmse_or_at_an_accuracy():
    from sgbrian.experiments import EXPERIMENTS
    delay, itd = EXPERIMENTS["delay"], EXPERIMENTS["itd"]
    assert (delay.metric, delay.goal, itd.metric, itd.goal) == ("nrmse", 0.1, "accuracy", 0.95)
    assert delay.met(0.099) and not delay.met(0.1) and not delay.met(0.2)
    assert itd.met(0.95) and itd.met(1.0) and not itd.met(0.949)


def test_a_score_job_reports_the_test_numbers_and_the_class_tuning_of_its_training():
    """score_point on a tiny timing task: its numbers equal train_task's with the same
    seed (training is deterministic), and its tuning is the mean readout per true class
    from the loss's start, computed here from the recorded test outputs."""
    from brian2 import ms
    from sgbrian.experiments import score_point, train_task
    kwargs = dict(task_kwargs=dict(n_train=10, n_test=10, duration=30 * ms), epochs=1)
    out = score_point("timing", 4, tuning=True, **kwargs)
    result = train_task("timing", seed=4, progress=False, record_outputs=True, **kwargs)
    test = result["test"]
    assert out["task"] == "timing" and out["seed"] == 4 and out["metric"] == "accuracy"
    assert out["score"] == test["accuracy"] and out["loss"] == pytest.approx(test["loss"], rel=1e-12)
    assert out["events_per_neuron_per_s"] == pytest.approx(test["events_per_neuron_per_s"],
                                                           rel=1e-12)
    assert out["met"] == (test["accuracy"] >= 0.90) and out["train_seconds"] > 0
    start = result["learner"].loss.start_step
    labels = np.array([s.target for s in result["task"].test])
    means = np.array([o[start:].mean(axis=0) for o in test["outputs"]])
    expected = [means[labels == c].mean(axis=0) if np.any(labels == c) else np.zeros(10)
                for c in range(10)]
    np.testing.assert_allclose(out["tuning"], expected, rtol=1e-9, atol=1e-12)
    assert "tuning" not in score_point("timing", 4, **kwargs)


def test_shd_task_without_files_reads_the_synthetic_files_it_wrote(tmp_path):
    """The synthetic SHD task equals what ``load_shd`` reads from ``synthetic_shd`` files
    written by hand with the same seeds and the task's duration (every template spike
    within the sample): the test set shares the training set's class
    templates (``template_seed``) and has a seed of its own; given paths are read instead
    (the first ``n_train``/``n_test`` samples); one path alone is refused."""
    from sgbrian.datasets import synthetic_shd
    dt, duration = 1 * ms, 40 * ms
    task = tasks.shd_task(n_train=4, n_test=3, duration=duration, dt=dt, seed=5,
                          folder=str(tmp_path / "made"))
    train = load_shd(synthetic_shd(str(tmp_path / "a.h5"), 4, duration=duration, seed=5), dt,
                     duration)
    test = load_shd(synthetic_shd(str(tmp_path / "b.h5"), 3, duration=duration, seed=5 + 10 ** 6,
                                  template_seed=5), dt, duration)
    assert (task.n_inputs, task.n_outputs, task.loss, task.dt) == (700, 20, "cross_entropy", dt)
    assert "synthetic" in task.description
    for got, expected in ((task.train, train), (task.test, test)):
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            assert g.target == e.target and g.n_steps == e.n_steps == 40
            np.testing.assert_array_equal(g.input[0], e.input[0])
            np.testing.assert_array_equal(np.asarray(g.input[1]), np.asarray(e.input[1]))
    assert sorted(os.listdir(tmp_path / "made")) == ["synthetic_shd_test.h5", "synthetic_shd_train.h5"]
    given = tasks.shd_task(n_train=2, n_test=1, duration=duration, dt=dt,
                           train_path=str(tmp_path / "a.h5"), test_path=str(tmp_path / "b.h5"))
    assert [s.target for s in given.train] == [s.target for s in train[:2]]
    assert len(given.test) == 1 and str(tmp_path / "a.h5") in given.description
    with pytest.raises(ValueError, match="both train_path and test_path"):
        tasks.shd_task(train_path=str(tmp_path / "a.h5"))


def test_repeat_gathers_one_score_job_per_seed_and_reuses_kept_results(tmp_path, monkeypatch):
    """``repeat`` runs ``score_point`` once per seed (here a stand-in with known scores),
    returns the results in seed order, their mean and sample sd (ddof=1; 0 for one seed),
    and reads kept results back instead of running them again."""
    from sgbrian import experiments
    calls = []

    def score_point(task, seed, target, **overrides):
        calls.append((task, seed, target, overrides))
        return {"score": [0.5, 0.75, 0.9][seed], "seed": seed}

    monkeypatch.setattr(experiments, "score_point", score_point)
    scores, mean, sd = experiments.repeat("itd", seeds=(2, 0, 1), folder=str(tmp_path),
                                          target="cython", epochs=3)
    assert [s["seed"] for s in scores] == [2, 0, 1]
    assert calls == [("itd", s, "cython", {"epochs": 3}) for s in (2, 0, 1)]
    assert mean == pytest.approx((0.9 + 0.5 + 0.75) / 3)
    assert sd == pytest.approx(np.std([0.9, 0.5, 0.75], ddof=1))
    again = experiments.repeat("itd", seeds=(0, 1, 2), folder=str(tmp_path), target="cython",
                               epochs=3)
    assert len(calls) == 3 and [s["seed"] for s in again[0]] == [0, 1, 2]
    one = experiments.repeat("itd", seeds=(1,), folder=str(tmp_path / "one"))
    assert one[1:] == (0.75, 0.0) and calls[-1] == ("itd", 1, "numpy", {})


def test_a_model_trained_for_export_runs_its_first_test_sample_from_now():
    """``trained_for_export`` (quick delay model): the learner detached (no Python
    operation left in the network), no events in flight, and the input replaced by the
    first test sample starting at the network's current time; the duration returned is
    that sample's length."""
    from brian2 import NetworkOperation, second
    from sgbrian.experiments import trained_for_export
    from sgbrian.genn import events_in_flight
    result, duration = trained_for_export("delay", quick=True)
    net, sample = result["net"], result["task"].test[0]
    assert float(duration / ms) == pytest.approx(sample.n_steps * float(result["task"].dt / ms))
    assert not any(isinstance(o, NetworkOperation) for o in net.network.objects)
    assert all(events_in_flight(syn) == 0 for syn in net.synapses)
    group = net.layers[0].group
    assert float(group.t_offset[:] / second) == pytest.approx(float(net.network.t / second))
    times = np.arange(sample.n_steps) * float(result["task"].dt / second)
    stimulus = group.namespace["stimulus"]
    np.testing.assert_allclose(stimulus(times * second, np.zeros(len(times), dtype=int)),
                               sample.input[:, 0])


def test_the_timing_templates_keep_three_jitters_from_the_edges_and_each_spike_its_own_jitter():
    """Without noise, 100 samples per class: each channel's mean step over a class is its
    template (standard error 0.1 step), which lies in [edge, n - edge] with edge =
    3 jitter / dt + 1 = 4 steps (the extremes of 1,000 templates come within a few
    hundredths of it); a sample's deviations from those means spread by the jitter (one
    step) over the channels, not one shift for all. The default seed is 0; negative
    noise rates are refused by name; the description gives the settings."""
    dt = 1 * ms
    task = tasks.timing_task(n_train=1000, n_test=10, n_classes=10, channels=100,
                             duration=60 * ms, jitter=1 * ms, noise_rate=0 * Hz, dt=dt, seed=4)
    steps = np.array([np.rint(np.asarray(s.input[1] / dt))[np.argsort(s.input[0])]
                      for s in task.train])
    labels = np.array([s.target for s in task.train])
    means = np.array([steps[labels == c].mean(axis=0) for c in range(10)])
    assert 3.6 < means.min() < 4.4 and 55.6 < means.max() < 56.4
    deviations = steps - means[labels]
    spread = deviations.std(axis=1)
    assert 0.8 < spread.mean() < 1.25 and spread.min() > 0.5
    assert abs(deviations.mean()) < 0.02
    assert "10 timing-only patterns over 100 channels, jitter 1. ms, noise 0. Hz" in task.description
    default = tasks.timing_task(n_train=3, n_test=1, dt=dt)
    same = tasks.timing_task(n_train=3, n_test=1, dt=dt, seed=0)
    assert [sample_spikes(s) for s in default.train] == [sample_spikes(s) for s in same.train]
    with pytest.raises(ValueError, match="noise_rate must be >= 0 Hz"):
        tasks.timing_task(noise_rate=-1 * Hz, dt=dt)


def input_spikes(net):
    group = net.layers[0].group
    order = np.lexsort((group._spike_time[:], group._neuron_index[:]))
    return group._neuron_index[:][order].tolist(), np.round(group._spike_time[:][order] / 1e-6).tolist()


def sample_spikes(sample):
    indices, times = np.asarray(sample.input[0]), np.asarray(sample.input[1] / ms) * 1e3
    order = np.lexsort((times, indices))
    return indices[order].tolist(), np.round(times[order]).tolist()


def test_the_itd_and_timing_networks_are_built_as_their_docstrings_state():
    """ITD: 2 -> 48 -> 9, detectors K = 2 with tau 100 us, theta 0.05, unit input weights
    and bucket weights, bias -1.2, whole-step input delays in [0, 1 ms]; the readout
    linear, tau 2 ms, theta 0.05, no delays. Timing: channels -> 64 -> classes, K = 8,
    tau 5 ms, theta 0.05, input weights of spread weight_scale / sqrt(fan_in) = 2 / 10.
    Both read the first training sample and default to seed 0."""
    from brian2 import defaultclock, second
    defaultclock.dt = 0.05 * ms
    itd = tasks.itd_task(n_train=9, n_test=9, duration=5 * ms, dt=0.05 * ms, seed=1)
    net = tasks.itd_network(itd)
    assert [layer.n for layer in net.layers] == [2, 48, 9]
    hidden, readout = net.layers[1:]
    assert (hidden.K, float(hidden.tau / ms)) == (2, pytest.approx(0.1))
    assert (readout.K, float(readout.tau / ms), readout.output.name) == (2, pytest.approx(2.0), "linear")
    assert np.all(hidden.group.theta[:] == 0.05) and np.all(readout.group.theta[:] == 0.05)
    assert np.all(net.synapses[0].w[:] == 1.0) and np.std(net.synapses[1].w[:]) > 0.1
    assert np.all(hidden.group.b[:] == -1.2) and np.all(readout.group.b[:] == 0.0)
    for k in range(3):
        assert np.all(getattr(hidden.group, f"v_{k}")[:] == 1.0)
        np.testing.assert_allclose(getattr(readout.group, f"v_{k}")[:], 1 / 3)
    delays = np.asarray(net.synapses[0].delay[:] / (0.05 * ms))
    assert np.allclose(delays, np.round(delays)) and delays.min() == 0 and delays.max() == 20
    assert np.all(np.asarray(net.synapses[1].delay[:] / second) == 0)
    assert input_spikes(net) == sample_spikes(itd.train[0])
    again = tasks.itd_network(itd, seed=0)
    np.testing.assert_array_equal(again.synapses[0].delay[:], net.synapses[0].delay[:])
    np.testing.assert_array_equal(again.synapses[1].w[:], net.synapses[1].w[:])

    defaultclock.dt = 1 * ms
    timing = tasks.timing_task(n_train=10, n_test=2, dt=1 * ms, seed=2)
    net = tasks.timing_network(timing)
    assert [layer.n for layer in net.layers] == [100, 64, 10]
    hidden = net.layers[1]
    assert (hidden.K, float(hidden.tau / ms)) == (8, pytest.approx(5.0))
    assert all(np.all(layer.group.theta[:] == 0.05) for layer in net.layers[1:])
    assert np.std(net.synapses[0].w[:]) == pytest.approx(2.0 / 10, rel=0.06)
    assert input_spikes(net) == sample_spikes(timing.train[0])
    again = tasks.timing_network(timing, seed=0)
    np.testing.assert_array_equal(again.synapses[0].w[:], net.synapses[0].w[:])
    assert not np.array_equal(tasks.timing_network(timing, seed=1).synapses[0].w[:],
                              net.synapses[0].w[:])
