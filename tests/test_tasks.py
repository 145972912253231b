"""Task generators (seeded, correct by construction) and training to the stated levels."""
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


@pytest.mark.parametrize("name", ["delay", "itd", "timing"])
def test_training_reaches_the_stated_level(name):
    """delay: test NRMSE < 0.1; itd: test accuracy >= 95%; timing: test accuracy >= 90%."""
    result = train_task(name, progress=False)
    print(f"{name}: test {result['metric']} = {result['test'][result['metric']]:.4f} "
          f"(goal {result['goal']}), {result['seconds']:.0f} s")
    assert result["met"], (name, result["test"][result["metric"]])
