"""Property-based tests (hypothesis) over the public builders, the learner's inputs and
the SHD loader: random valid arguments run; random invalid ones raise ValueError naming
the parameter; no other exception type escapes. Example counts are bounded (see
``settings`` below: 25 + 25 + 20 + 15 = 85 examples in all) to keep ``make test`` short."""
import numpy as np
import pytest
from brian2 import ms

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

import sgbrian  # noqa: E402
from sgbrian.datasets import Sample  # noqa: E402
from sgbrian.learning import OnlineLearner  # noqa: E402
from sgbrian.losses import CrossEntropyLoss, MSELoss  # noqa: E402

# derandomize: the same examples every run (reproducible); no example database on disk
FAST = settings(deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@settings(FAST, max_examples=25)
@given(sizes=st.lists(st.integers(1, 4), min_size=2, max_size=4),
       K=st.integers(1, 6), tau_ms=st.floats(0.05, 20), theta=st.floats(1e-3, 1.0),
       max_delay_steps=st.integers(0, 6), payload=st.sampled_from(["integer", "binary", "analog"]),
       hidden=st.sampled_from(["relu", "softplus", "tanh", "sigmoid", "linear"]),
       seed=st.integers(0, 2 ** 31))
def test_valid_builder_arguments_run(sizes, K, tau_ms, theta, max_delay_steps, payload, hidden,
                                     seed):
    rng = np.random.default_rng(seed)
    net = sgbrian.feedforward(sizes, K=K, tau=tau_ms * ms, theta=theta,
                              signal=rng.normal(0, 1, (20, sizes[0])),
                              max_delay=max_delay_steps * 0.1 * ms, random_delays=True,
                              payload=payload, hidden=hidden, record=("spikes",), seed=seed)
    net.run(2 * ms)
    assert net.monitors[0]["spikes"].num_spikes >= 0


BAD_BUILDER_ARGUMENTS = st.sampled_from([
    ("K", dict(K=0)), ("K", dict(K=-3)), ("K", dict(K=1.5)), ("tau", dict(tau=0 * ms)),
    ("tau", dict(tau=-2 * ms)), ("tau", dict(tau=3)), ("theta", dict(theta=0.0)),
    ("theta", dict(theta=-1.0)), ("theta", dict(theta=float("nan"))),
    ("delay", dict(delay=-1 * ms)), ("delay", dict(delay=0.05 * ms)),
    ("max_delay", dict(max_delay=0.25 * ms, random_delays=True)),
    ("sizes", dict(sizes=[2])), ("p_connect", dict(p_connect=0.0)),
    ("p_connect", dict(p_connect=1.5)), ("record", dict(record=("voltage",))),
    ("hidden", dict(hidden="tanhh")), ("output", dict(output=3)),
    ("payload", dict(payload="float")), ("signal", dict(signal=np.full((5, 2), np.inf))),
    ("sample_dt", dict(sample_dt=0 * ms)), ("seed", dict(seed=-1)),
])


@settings(FAST, max_examples=25)
@given(case=BAD_BUILDER_ARGUMENTS, scale=st.floats(0.5, 2.0))
def test_invalid_builder_arguments_raise_value_error_naming_the_parameter(case, scale):
    name, kwargs = case
    args = dict(sizes=[2, 3, 1], signal=np.ones((10, 2)) * scale)
    args.update(kwargs)
    with pytest.raises(ValueError, match=name):
        sgbrian.feedforward(**args)


@settings(FAST, max_examples=20)
@given(width=st.integers(1, 4), label=st.integers(-2, 4), clip=st.sampled_from([None, -1.0, 0.0, 1.0]),
       loss_kind=st.sampled_from(["mse", "ce"]))
def test_learner_inputs_are_checked_before_running(width, label, clip, loss_kind):
    signal = np.ones((10, 2))
    net = sgbrian.feedforward([2, 3, 2], signal=signal)
    loss = MSELoss() if loss_kind == "mse" else CrossEntropyLoss()
    if clip is not None and clip <= 0:
        with pytest.raises(ValueError, match="clip_norm"):
            OnlineLearner(net, loss, clip_norm=clip)
        return
    learner = OnlineLearner(net, loss, clip_norm=clip)
    target = np.zeros((10, width)) if loss_kind == "mse" else label
    sample = Sample(signal, target, 10)
    valid = width == 2 if loss_kind == "mse" else 0 <= label < 2
    if valid:
        assert np.isfinite(learner.evaluate([sample])["loss"])
    else:
        with pytest.raises(ValueError, match=r"samples\[0\]\.target"):
            learner.evaluate([sample])
    learner.detach()


@settings(FAST, max_examples=15)
@given(n=st.integers(1, 4), channels=st.integers(2, 9), bad=st.sampled_from(
    [None, "nan", "negative", "unit", "length"]), seed=st.integers(0, 1000))
def test_the_shd_loader_reads_valid_files_and_names_bad_ones(tmp_path_factory, n, channels, bad,
                                                            seed):
    pytest.importorskip("h5py")
    from sgbrian.datasets import load_shd, write_shd
    rng = np.random.default_rng(seed)
    times = [np.sort(rng.uniform(0, 0.02, 6)) for _ in range(n)]
    units = [rng.integers(0, channels, 6) for _ in range(n)]
    labels = rng.integers(0, 3, n)
    if bad == "nan":
        times[-1][0] = np.nan
    elif bad == "negative":
        times[-1][0] = -0.001
    elif bad == "unit":
        units[-1][0] = channels
    elif bad == "length":
        units[-1] = units[-1][:-1]
    path = str(tmp_path_factory.mktemp("shd") / "f.h5")
    write_shd(path, times, units, labels)
    if bad is None:
        samples = load_shd(path, 1 * ms, 20 * ms, channels=channels)
        assert [s.target for s in samples] == labels.tolist()
    else:
        with pytest.raises(ValueError, match="f.h5"):
            load_shd(path, 1 * ms, 20 * ms, channels=channels)
