"""Every checked parameter of the generators, loaders and encoders: the smallest and
largest allowed values run, and one value past each bound raises ValueError naming the
parameter exactly (case and spelling) with the allowed range; defaults are the documented
ones; task metadata and re-gridding against a computation written here."""
import re

import numpy as np
import pytest
from brian2 import Hz, defaultclock, ms, second

from sgbrian import tasks
from sgbrian.datasets import Sample, TaskData, load_shd, synthetic_shd, write_shd
from sgbrian.encoding import analog_input, check_spike_trains, sigma_delta
from sgbrian.signals import band_limited_noise

h5py = pytest.importorskip("h5py")


@pytest.fixture
def shd_file(tmp_path):
    path = str(tmp_path / "small.h5")
    write_shd(path, [np.array([0.0005, 0.0021]), np.array([0.001])],
              [np.array([0, 2]), np.array([1])], [1, 0])
    return path


def _noise(files=None, **kw):
    return band_limited_noise(**{"n_steps": 8, "dt": 1 * ms, "cutoff": 100 * Hz, **kw})


def _synthetic(files, **kw):
    args = {"n_samples": 2, "channels": 3, "classes": 2, "duration": 60 * ms,
            "jitter": 1 * ms, "noise_rate": 0 * Hz, **kw}
    return synthetic_shd(files["new"], **args)


def _load(files, **kw):
    return load_shd(files["shd"], **{"dt": 1 * ms, "duration": 5 * ms, **kw})


def _encode(files, **kw):
    return sigma_delta(**{"y": [0.0, 1.0], "theta": 0.5, **kw})


def _delay(files, **kw):
    return tasks.delay_task(**{"n_train": 1, "n_test": 1, **kw})


def _itd(files, **kw):
    return tasks.itd_task(**{"n_train": 2, "n_test": 2, "dt": 0.05 * ms, **kw})


def _spikes(files=None, **kw):
    return check_spike_trains(**{"n": 2, "indices": [0, 1], "times": [0, 1] * ms, **kw})


#: (call, keywords, message): each must raise ValueError whose text contains ``message``.
BAD = [
    (_noise, dict(n_steps=1), "n_steps must be >= 2, got 1"),
    (_noise, dict(n_steps=2.0), "n_steps must be an integer >= 2"),
    (_noise, dict(channels=0), "channels must be >= 1, got 0"),
    (_noise, dict(dt=0 * ms), "dt must be > 0 ms"),
    (_noise, dict(cutoff=0 * Hz), "cutoff (in Hz) must be > 0"),
    (_noise, dict(seed=-1), "seed must be >= 0, got -1"),
    (_noise, dict(cutoff=124 * Hz), "cutoff must be >= 125 Hz, the lowest non-zero frequency of 8 steps"),
    (_synthetic, dict(n_samples=0), "n_samples must be >= 1, got 0"),
    (_synthetic, dict(channels=0), "channels must be in [1, 65535], got 0"),
    (_synthetic, dict(channels=65536), "channels must be in [1, 65535], got 65536"),
    (_synthetic, dict(classes=1), "classes must be >= 2, got 1"),
    (_synthetic, dict(duration=0 * ms), "duration must be > 0 ms"),
    (_synthetic, dict(jitter=-1 * ms), "jitter must be >= 0 ms"),
    (_synthetic, dict(noise_rate=-1 * Hz), "noise_rate must be a finite rate >= 0 Hz"),
    (_synthetic, dict(duration=3 * second, jitter=500 * ms),     # 6 jitter == duration
     "jitter must be < duration / 6 (0.5 s), got 0.5 s"),
    (_synthetic, dict(seed=-1), "seed must be >= 0, got -1"),
    (_synthetic, dict(seed=0, template_seed=-1), "template_seed must be >= 0, got -1"),
    (_load, dict(dt=0 * ms), "dt must be > 0 ms"),
    (_load, dict(duration=0 * ms), "duration must be > 0 ms"),
    (_load, dict(channels=0), "channels must be >= 1, got 0"),
    (_encode, dict(y=[0.0, np.nan]), "y must be finite"),
    (_encode, dict(theta=0.0), "theta must be > 0"),
    (_encode, dict(level=np.inf), "level must be finite"),
    (_spikes, dict(n=0), "n (number of input channels) must be >= 1"),
    (_spikes, dict(indices=[0, np.nan]), "indices must be finite"),
    (_spikes, dict(indices=[0, 0.5]), "indices must be integers in [0, 1]"),
    (_spikes, dict(indices=[0, -1]), "indices must be integers in [0, 1]"),
    (_spikes, dict(indices=[0, 2]), "indices must be integers in [0, 1]"),
    (_spikes, dict(times=["a", "b"]),
     "times must be times with units (e.g. [1, 2]*ms)"),
    (_spikes, dict(times=[0, -1] * ms), "times must be >= 0 ms"),
    (_delay, dict(delay=0 * ms), "delay must be > 0 ms"),
    (_delay, dict(duration=20 * ms, delay=10 * ms), "duration must be > 2*delay (20. ms), got 20. ms"),
    (_itd, dict(n_classes=1), "n_classes must be >= 2, got 1"),
]


@pytest.mark.parametrize("call, keywords, message", BAD,
                         ids=[f"{call.__name__.strip('_')}-{'-'.join(kw)}-{n}" for n, (call, kw, _) in enumerate(BAD)])
def test_a_value_past_a_bound_names_the_parameter_and_the_range(call, keywords, message, tmp_path,
                                                                shd_file):
    with pytest.raises(ValueError, match=re.escape(message)):
        call({"shd": shd_file, "new": str(tmp_path / "new.h5")}, **keywords)


def test_the_bounds_themselves_are_allowed(tmp_path, shd_file):
    assert _noise(n_steps=2, channels=1, seed=0, cutoff=500 * Hz).shape == (2, 1)
    lowest = np.abs(np.fft.rfft(_noise(n_steps=8, cutoff=125 * Hz)[:, 0]))       # one sinusoid
    assert lowest[1] > 1 and np.all(lowest[[0, 2, 3, 4]] < 1e-9)
    path = _synthetic({"new": str(tmp_path / "a.h5")}, n_samples=1, channels=1, classes=2, jitter=0 * ms,
                      seed=0, template_seed=0)
    assert len(load_shd(path, 1 * ms, 60 * ms, channels=1)) == 1
    path = _synthetic({"new": str(tmp_path / "b.h5")}, n_samples=1, channels=65535, duration=1 * ms,
                      jitter=0 * ms)
    assert len(load_shd(path, 1 * ms, 1 * ms, channels=65535)[0].input[0]) == 65535
    assert len(load_shd(shd_file, 1 * ms, 5 * ms, channels=3)) == 2
    indices, times = _spikes(n=1, indices=[0], times=[0] * ms)
    assert indices.dtype.kind == "i" and float(times[0] / ms) == 0
    defaultclock.dt = 0.05 * ms
    assert tasks.itd_task(n_train=2, n_test=2, n_classes=3).n_outputs == 3      # ITDs -1, 0, 1 ms


def test_defaults_are_the_documented_ones():
    """The defaults the docstrings state (band-limited noise: one channel, seed 0;
    synthetic SHD: 700 channels, 20 classes, 1 s, jitter 2 ms, noise 2 Hz, seed 0;
    sigma-delta: integer payloads from level 0), each equal to passing it explicitly."""
    np.testing.assert_array_equal(band_limited_noise(64, 1 * ms, 50 * Hz),
                                  band_limited_noise(64, 1 * ms, 50 * Hz, channels=1, seed=0))
    assert band_limited_noise(64, 1 * ms, 50 * Hz).shape == (64, 1)
    y = np.array([0.2, 0.74, 1.3, -0.1])
    for got, want in zip(sigma_delta(y, 0.25), sigma_delta(y, 0.25, payload="integer", level=0.0)):
        np.testing.assert_array_equal(got, want)


def test_synthetic_shd_defaults_and_statistics(tmp_path):
    """Default layout (700 channels, 20 classes, 1 s, 2 ms jitter, 2 Hz noise, seed 0)
    read back raw: every channel's template spike lies in [3 jitter, 1 s - 3 jitter] up
    to its jitter, noise spikes per channel average 2 Hz x 1 s, and the file equals the
    one written with every default given explicitly."""
    default = synthetic_shd(str(tmp_path / "d.h5"), 40)
    explicit = synthetic_shd(str(tmp_path / "e.h5"), 40, channels=700, classes=20,
                             duration=1 * second, jitter=2 * ms, noise_rate=2 * Hz, seed=0,
                             template_seed=0)
    with h5py.File(default) as f, h5py.File(explicit) as g:
        labels = np.asarray(f["labels"])
        np.testing.assert_array_equal(labels, g["labels"])
        times = [np.asarray(t, float) for t in f["spikes/times"]]
        units = [np.asarray(u, int) for u in f["spikes/units"]]
        for a, b in zip(times, g["spikes/times"]):
            np.testing.assert_array_equal(a, b)
    assert sorted(np.bincount(labels)) == [2] * 20
    counts = np.array([np.bincount(u, minlength=700) for u in units])       # (samples, channels)
    assert counts.shape == (40, 700) and counts.min() >= 1                  # one template spike each
    noise = counts - 1
    assert abs(noise.mean() - 2.0) < 0.1                                     # 2 Hz x 1 s; sd 0.011
    assert max(t.max() for t in times) < 1.0 and min(t.min() for t in times) >= 0


def test_task_metadata_and_sizes_are_the_documented_ones():
    defaultclock.dt = 1 * ms
    delay = tasks.delay_task()
    assert (delay.name, delay.n_inputs, delay.n_outputs, delay.loss) == ("delay", 1, 1, "mse")
    assert (len(delay.train), len(delay.test), delay.dt) == (20, 5, 1 * ms)
    assert delay.description == "output = input delayed by 7.3 ms (band-limited noise, 50. Hz cutoff)"
    np.testing.assert_array_equal(delay.train[0].input, tasks.delay_task(seed=0).train[0].input)
    assert all(s.n_steps == 200 for s in delay.train + delay.test)
    # the input is unit-spread noise below 50 Hz (the generator's channel count 1, scale 1)
    np.testing.assert_allclose([s.input.std() for s in delay.train], 1.0, rtol=1e-12)
    timing = tasks.timing_task()
    assert (timing.name, timing.n_inputs, timing.n_outputs, timing.loss) == \
        ("timing", 100, 10, "cross_entropy")
    assert (len(timing.train), len(timing.test), timing.dt) == (500, 200, 1 * ms)
    defaultclock.dt = 0.05 * ms
    itd = tasks.itd_task()
    assert (itd.name, itd.n_inputs, itd.n_outputs, itd.loss) == ("itd", 2, 9, "cross_entropy")
    assert (len(itd.train), len(itd.test), itd.dt) == (360, 180, 0.05 * ms)
    assert itd.description == "9 ITD classes in [-1. ms, 1. ms] at dt = 50. us"
    assert all(s.n_steps == 300 for s in itd.train + itd.test)
    again = tasks.itd_task(seed=0)
    assert all(np.array_equal(a.input[0], b.input[0]) and np.array_equal(a.input[1], b.input[1])
               for a, b in zip(itd.train[:20], again.train[:20]))
    for s in itd.train[:20]:
        assert s.input[0].dtype.kind == "i"


def _regrid_reference(task, dt):
    """Re-gridding written spike by spike and step by step."""
    factor = int(round(float(dt / task.dt)))

    def one(s):
        n = s.n_steps // factor
        weight = None if s.weight is None else np.array([s.weight[m * factor] for m in range(n)])
        target = s.target if np.ndim(s.target) == 0 else np.array([s.target[m * factor] for m in range(n)])
        if isinstance(s.input, tuple):
            pairs = sorted({(int(i), int(np.floor(float(t / dt) + 1e-9)))
                            for i, t in zip(s.input[0], s.input[1])
                            if np.floor(float(t / dt) + 1e-9) < n})
            return (np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])), target, n, weight
        return np.array([s.input[m * factor] for m in range(n)]), target, n, weight

    return [one(s) for s in task.train], [one(s) for s in task.test]


def _assert_sample(got, want, dt):
    inputs, target, n, weight = want
    assert got.n_steps == n
    if isinstance(inputs, tuple):
        order = np.lexsort((np.rint(np.asarray(got.input[1] / dt)), got.input[0]))
        np.testing.assert_array_equal(got.input[0][order], inputs[0])
        np.testing.assert_allclose(np.asarray(got.input[1] / dt)[order], inputs[1], atol=1e-9)
        assert got.input[0].dtype.kind == "i"
    else:
        np.testing.assert_array_equal(got.input, inputs)
    np.testing.assert_array_equal(got.target, target)
    assert (got.weight is None) == (weight is None)
    if weight is not None:
        np.testing.assert_array_equal(got.weight, weight)


@pytest.mark.parametrize("factor", [1, 3, 4])
def test_regrid_equals_a_spike_by_spike_computation(factor):
    rng = np.random.default_rng(factor)
    fine = 0.01 * ms
    spikes = [Sample((rng.integers(0, 3, 40), rng.integers(0, 50, 40) * fine + 0.003 * ms), c, 50)
              for c in range(3)]
    spike_task = TaskData("spk", spikes[:2], spikes[2:], fine, 3, 3, "cross_entropy", "about")
    analog = [Sample(rng.normal(size=(23, 2)), rng.normal(size=(23, 1)), 23, rng.random(23))
              for _ in range(3)]
    analog_task = TaskData("ana", analog[:1], analog[1:], fine, 2, 1, "mse", "text")
    for task in (spike_task, analog_task):
        coarse = tasks.regrid(task, factor * fine)
        assert (coarse.name, coarse.n_inputs, coarse.n_outputs, coarse.loss, coarse.description) == \
            (task.name, task.n_inputs, task.n_outputs, task.loss, task.description)
        assert abs(float(coarse.dt / fine) - factor) < 1e-12
        train, test = _regrid_reference(task, factor * fine)
        assert len(coarse.train) == len(train) and len(coarse.test) == len(test)
        for got, want in zip(coarse.train + coarse.test, train + test):
            _assert_sample(got, want, coarse.dt)


@pytest.mark.parametrize("dt", [0 * ms, 0.5 * 0.01 * ms, 1.5 * 0.01 * ms])
def test_regrid_refuses_a_dt_that_is_not_a_whole_multiple(dt):
    task = TaskData("t", [Sample(np.zeros(4), np.zeros(4), 4)], [], 0.01 * ms, 1, 1, "mse")
    with pytest.raises(ValueError, match=re.escape("dt must be a whole multiple of the task's dt")):
        tasks.regrid(task, dt)


@pytest.mark.parametrize("payload", ["integer", "binary", "analog"])
def test_sigma_delta_equals_a_scalar_loop(payload):
    """q_n = round_half_up((y_n - r_{n-1}) / theta) (clipped to [-1, 1] for binary; not
    rounded for analog), r_n = r_{n-1} + q_n theta, from a level per channel."""
    rng = np.random.default_rng(5)
    y = np.cumsum(rng.normal(0, 0.6, (30, 2)), axis=0)
    y[3] = y[2] + 0.25                      # a tie: (y - r) / theta = k + 0.5 exactly
    theta, level = 0.5, np.array([0.25, -1.0])
    q, r = sigma_delta(y, theta, payload=payload, level=level)
    for c in range(2):
        prev = level[c]
        for n in range(30):
            step = (y[n, c] - prev) / theta
            if payload != "analog":
                step = float(np.floor(step + 0.5))
            if payload == "binary":
                step = max(-1.0, min(1.0, step))
            prev = prev + step * theta
            assert q[n, c] == pytest.approx(step, abs=1e-12) and r[n, c] == pytest.approx(prev, abs=1e-12)
    if payload == "binary":
        assert set(np.unique(q)) == {-1.0, 0.0, 1.0}
    if payload == "integer":
        assert np.abs(q).max() >= 2


def test_band_limited_noise_keeps_the_cutoff_bin_and_odd_lengths():
    """An ideal low-pass keeps a frequency equal to the cutoff (50 Hz is bin 5 of 100
    steps of 1 ms) and returns every step of an odd-length signal."""
    x = band_limited_noise(100, 1 * ms, 50 * Hz, channels=2, seed=1)
    power = np.abs(np.fft.rfft(x, axis=0))
    assert np.all(power[5] > 1e-6) and np.all(power[6:] < 1e-9)
    assert band_limited_noise(101, 1 * ms, 50 * Hz).shape == (101, 1)


def test_shd_files_written_and_read_spike_by_spike(tmp_path):
    """write_shd stores float32 times, uint16 units and labels and extra arrays; load_shd
    reads them back with the default 700 channels (unit 699 is the last allowed),
    floors times to steps (a spike at 0 s is allowed), drops spikes after the duration,
    takes the first ``max_samples`` samples, and names the file and the fault."""
    path = str(tmp_path / "w.h5")
    times = [np.array([0.0, 0.0024, 0.0031, 0.0034, 0.009]), np.array([0.0011])]
    units = [np.array([699, 3, 3, 3, 0]), np.array([5])]
    write_shd(path, times, units, [7, 2], extra={"speaker": np.array([1, 4])})
    with h5py.File(path) as f:
        assert f["spikes/times"][0].dtype == np.float32 and f["spikes/units"][0].dtype == np.uint16
        assert f["labels"].dtype == np.uint16 and f["labels"][:].tolist() == [7, 2]
        np.testing.assert_array_equal(f["spikes/times"][0], times[0].astype(np.float32))
        np.testing.assert_array_equal(f["spikes/units"][0], units[0])
        assert f["extra/speaker"][:].tolist() == [1, 4]
    first, second_ = load_shd(path, 1 * ms, 5 * ms)
    assert (first.target, second_.target, first.n_steps) == (7, 2, 5)
    got = sorted(zip(first.input[0].tolist(), np.rint(np.asarray(first.input[1] / ms)).astype(int).tolist()))
    assert got == [(3, 2), (3, 3), (699, 0)]        # 3.1 and 3.4 ms merge; 9 ms is past the end
    assert len(load_shd(path, 1 * ms, 5 * ms, max_samples=1)) == 1
    assert len(load_shd(path, 1 * ms, 5 * ms, max_samples=5)) == 2
    with pytest.raises(ValueError, match=re.escape(f"{path}: sample 0 has unit 699 >= channels=699")):
        load_shd(path, 1 * ms, 5 * ms, channels=699)
    with pytest.raises(ValueError, match=re.escape(
            "times, units and labels must have one entry per sample, got 2, 1 and 2")):
        write_shd(str(tmp_path / "x.h5"), times, units[:1], [7, 2])
    cases = {"lacks": ({"labels"}, "lacks ['labels']: an SHD file holds spikes/times, spikes/units and labels"),
             "count": ({"short"}, "spikes/times, spikes/units and labels must have one entry per sample, got 2, 2 and 1"),
             "pair": ({"pair"}, "sample 1 has 1 spike times but 2 units"),
             "negative": ({"negative"}, "sample 0 has spike times that are NaN, infinite or negative; "
                                        "times must be finite and >= 0 s")}
    for name, (fault, message) in cases.items():
        bad = str(tmp_path / f"{name}.h5")
        with h5py.File(bad, "w") as f:
            vf, vu = h5py.vlen_dtype(np.float32), h5py.vlen_dtype(np.uint16)
            t = f.create_dataset("spikes/times", (2,), dtype=vf)
            u = f.create_dataset("spikes/units", (2,), dtype=vu)
            t[0] = np.array([-0.001 if "negative" in fault else 0.001], np.float32)
            t[1] = np.array([0.002], np.float32)
            u[0], u[1] = np.array([1], np.uint16), np.array([1, 2] if "pair" in fault else [2], np.uint16)
            if "labels" not in fault:
                f["labels"] = np.array([0] if "short" in fault else [0, 1])
        with pytest.raises(ValueError, match=re.escape(f"{bad}{':' if name != 'lacks' else ''} {message}")):
            load_shd(bad, 1 * ms, 5 * ms)


def test_analog_input_names_its_sample_step_group_and_thresholds():
    """analog_input: sample_dt named in its refusal; the default group name
    analog_input...; theta one per channel, from a scalar or a list."""
    signal = np.array([[0.5, -1.0], [2.0, 0.25]])
    for bad in (0 * ms, 2.0):
        with pytest.raises(ValueError, match=r"^sample_dt must be "):
            analog_input(signal, bad, 0.1)
    group = analog_input(signal, 0.1 * ms, 0.1)
    assert group.name.startswith("analog_input")
    np.testing.assert_array_equal(group.theta[:], [0.1, 0.1])
    named = analog_input(signal, 0.1 * ms, [0.1, 0.3], name="stim")
    assert named.name == "stim"
    np.testing.assert_array_equal(named.theta[:], [0.1, 0.3])


def test_use_target_sets_the_runtime_target_or_the_standalone_device(tmp_path):
    """numpy and cython set ``prefs.codegen.target`` on the runtime device;
    cpp_standalone selects the standalone device (build on run, into ``directory``,
    OpenMP off); a bad target or a missing directory is refused before anything changes."""
    from brian2 import get_device, prefs
    from sgbrian.targets import is_standalone, use_target
    previous = prefs.codegen.target
    try:
        for target in ("cython", "numpy"):
            use_target(target)
            assert prefs.codegen.target == target and not is_standalone()
        prefs.devices.cpp_standalone.openmp_threads = 3
        use_target("cpp_standalone", tmp_path / "build")
        device = get_device()
        assert is_standalone() and type(device).__name__ == "CPPStandaloneDevice"
        assert device.build_options["directory"] == str(tmp_path / "build")
        assert device.build_on_run and prefs.devices.cpp_standalone.openmp_threads == 0
        use_target("numpy")
        assert not is_standalone() and prefs.codegen.target == "numpy"
        with pytest.raises(ValueError, match=r"^target must be one of \['cpp_standalone', "
                                             r"'cython', 'numpy'\], got 'c'$"):
            use_target("c")
        with pytest.raises(ValueError, match=r"^directory must be given for "
                                             r"target='cpp_standalone'$"):
            use_target("cpp_standalone")
        assert not is_standalone()
    finally:
        from brian2 import set_device
        set_device("runtime")
        prefs.codegen.target = previous
