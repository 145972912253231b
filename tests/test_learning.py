"""The online-learning plugin: exact gradients, rules, reliability."""
import io
import json
import re
import subprocess
import sys

import numpy as np
import pytest
from brian2 import defaultclock, ms

import sgbrian
from sgbrian.datasets import Sample
from sgbrian.learning import InPlaceTrace, OnlineLearner
from sgbrian.losses import CrossEntropyLoss, MSELoss
from sgbrian.optim import SGD, Adam
from sgbrian.training import load_checkpoint, load_parameters, save_checkpoint, save_parameters

from reference_learning import exact_gradients
from checks import assert_divergence_restores
from reference_model import describe, randomize, simulate

T = 40


def _net(rng, payload="analog", spikes=None, sizes=(3, 4, 2), theta=0.05, max_delay=0.3 * ms):
    """1 hidden layer, K=4, relu hidden, linear readout, per-synapse delays (0..3 steps;
    ``max_delay`` may give one per layer: [0.3 * ms, 0 * ms] leaves the readout without
    delays, where rule 'exact' steps its input-weight trace in place)."""
    signal = None if spikes else rng.normal(0, 1, (T, sizes[0]))
    net = sgbrian.feedforward(list(sizes), K=4, tau=0.5 * ms, theta=theta, signal=signal,
                              spikes=spikes, max_delay=max_delay, random_delays=True,
                              payload=payload, seed=2)
    randomize(net, rng)
    net.layers[1].group.b = rng.uniform(0.3, 0.6, sizes[1])     # hidden units active
    return net, signal


def _mse_sample(rng, signal, n_out=2):
    target = np.cumsum(rng.normal(0, 0.3, (T, n_out)), axis=0)
    return Sample(signal, target, T)


def _finite_differences(learner, samples, eps=1e-6, names=None):
    fd = {}
    for name, p in learner.params.items():
        if names is not None and name not in names:
            continue
        fd[name] = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            original = p[idx]
            losses = []
            for sign in (1, -1):
                p[idx] = original + sign * eps
                learner.write_params()
                losses.append(learner.evaluate(samples)["loss_sum"])
            p[idx] = original
            fd[name][idx] = (losses[0] - losses[1]) / (2 * eps)
    learner.write_params()
    return fd


def _relative_error(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


@pytest.mark.training
def test_exact_gradients_equal_finite_differences_of_the_summed_loss(rng):
    """Accumulate mode, analog model, 3 -> 4 (relu) -> 2 (linear), K=4, per-synapse delays."""
    net, signal = _net(rng)
    learner = OnlineLearner(net, MSELoss(), rule="exact")
    sample = _mse_sample(rng, signal)
    grads = learner.gradients([sample])
    fd = _finite_differences(learner, [sample])
    assert len(np.unique(net.synapses[0].delay[:])) > 1
    for name in ("w0", "v1", "b1", "w1", "v2", "b2"):
        assert np.linalg.norm(fd[name]) > 1e-3, name
        assert _relative_error(grads[name], fd[name]) < 1e-5, (name, grads[name], fd[name])


@pytest.mark.training
def test_cross_entropy_gradients_with_spike_input_equal_finite_differences(rng):
    """Raw spike trains (impulses into bucket 1), cross-entropy from a start time on."""
    flat = rng.choice(3 * T, 30, replace=False)              # distinct (channel, step) pairs
    spikes = (flat % 3, (flat // 3) * defaultclock.dt)
    net, _ = _net(rng, spikes=spikes)
    learner = OnlineLearner(net, CrossEntropyLoss(start=1 * ms), rule="exact")
    sample = Sample(spikes, 1, T)
    grads = learner.gradients([sample])
    fd = _finite_differences(learner, [sample])
    for name in grads:
        assert _relative_error(grads[name], fd[name]) < 1e-5, name


@pytest.mark.parametrize("readout_delay", [0.3 * ms, 0 * ms])
def test_gradients_during_a_spiking_run_equal_an_independent_numpy_implementation(rng, readout_delay):
    """Integer payloads (real spikes): the Brian2 run's gradients equal the unrolled
    numpy computation of tests/reference_learning.py on the same spikes, with delays
    in the readout and without (the in-place trace)."""
    net, signal = _net(rng, payload="integer", theta=0.1, max_delay=[0.3 * ms, readout_delay])
    sample = _mse_sample(rng, signal)
    layers, connections = describe(net)
    learner = OnlineLearner(net, MSELoss(), rule="exact")
    grads = learner.gradients([sample])
    trace = learner.engine(1).exact["w0"][1]
    assert isinstance(trace, InPlaceTrace) == (readout_delay == 0 * ms)
    events, sim = simulate(T, ("analog", signal, 0.1), layers, connections)
    q_in = np.zeros_like(signal)
    for n, i, q in events[0]:
        q_in[n, i] = q
    senders = [np.cumsum(q_in, axis=0) * 0.1, sim["r"][0]]
    assert len(events[1]) > 20
    expected = exact_gradients(sim, layers, connections, senders, sample.target)
    for name, value in expected.items():
        assert np.max(np.abs(grads[name] - value)) < 1e-9 * max(1.0, np.abs(value).max()), name


def test_spatial_equals_exact_on_the_output_layer_and_reports_the_hidden_cosine(rng, capsys):
    net, signal = _net(rng)
    sample = _mse_sample(rng, signal)
    grads = {}
    for rule in ("exact", "spatial"):
        learner = OnlineLearner(net, MSELoss(), rule=rule)
        grads[rule] = learner.gradients([sample])
        learner.detach()
    for name in ("w1", "v2", "b2"):
        np.testing.assert_allclose(grads["spatial"][name], grads["exact"][name], rtol=1e-12,
                                   atol=1e-14)
    for name in ("w0", "v1", "b1"):
        a, b = grads["spatial"][name].ravel(), grads["exact"][name].ravel()
        cosine = a @ b / np.linalg.norm(a) / np.linalg.norm(b)
        assert -1 <= cosine <= 1
        print(f"cosine(spatial, exact) for {name}: {cosine:.3f}")
        assert not np.allclose(a, b)      # the hidden rules really differ


@pytest.mark.parametrize("update_every, optimizer", [(1, SGD(2e-3)), (5, SGD(1e-3, momentum=0.5)),
                                                     ("sample", Adam(3e-2))])
def test_training_reduces_the_loss_with_every_update_mode(update_every, optimizer):
    rng = np.random.default_rng(0)
    net, signal = _net(rng)
    samples = [_mse_sample(rng, signal) for _ in range(2)]
    learner = OnlineLearner(net, MSELoss(), rule="spatial", optimizer=optimizer,
                            update_every=update_every, seed=1)
    before = learner.evaluate(samples)["loss"]
    history = learner.fit(samples, 4, progress=False)
    after = learner.evaluate(samples)["loss"]
    assert after < 0.8 * before, (update_every, before, after)
    assert history.dtype.names[:3] == ("epoch", "loss", "metric")


def test_state_is_reset_between_samples_without_rebuilding(rng):
    net, signal = _net(rng, payload="integer")
    learner = OnlineLearner(net, MSELoss())
    sample = _mse_sample(rng, signal)
    objects = set(net.network.objects)
    out = learner.evaluate([sample, sample, sample], record_outputs=True)["outputs"]
    np.testing.assert_array_equal(out[0], out[1])
    np.testing.assert_array_equal(out[0], out[2])
    assert set(net.network.objects) == objects


def test_divergence_stops_with_a_clear_error_and_keeps_the_last_good_parameters(rng):
    net, signal = _net(rng)
    learner = OnlineLearner(net, MSELoss(), optimizer=SGD(1e12), update_every=1)
    samples = [_mse_sample(rng, signal)]
    assert_divergence_restores(learner, net, samples)
    np.testing.assert_array_equal(net.layers[2].group.v_1[:], learner.params["v2"][:, 1])


def _train(rng_seed, epochs, checkpoint=None, resume=False, train=("w", "v", "b")):
    rng = np.random.default_rng(rng_seed)
    net, signal = _net(rng)
    samples = [_mse_sample(rng, signal) for _ in range(3)]
    learner = OnlineLearner(net, MSELoss(), optimizer=Adam(1e-2), update_every=7, seed=4,
                            train=train)
    history = learner.fit(samples, epochs, checkpoint=checkpoint, resume=resume, progress=False)
    return learner, history


@pytest.mark.training
def test_a_run_killed_with_sigkill_resumes_to_the_parameters_of_an_uninterrupted_run(tmp_path):
    """A training process is killed with SIGKILL at a random moment after its first
    checkpoint (possibly while writing one); resumed, it ends with exactly the
    parameters of a run that was never interrupted."""
    import os
    import signal
    import time
    path = str(tmp_path / "ckpt.npz")
    epochs = 30
    script = os.path.join(os.path.dirname(__file__), "train_until_killed.py")
    child = subprocess.Popen([sys.executable, script, path, str(epochs)])
    deadline = time.time() + 300
    while not os.path.exists(path) and time.time() < deadline and child.poll() is None:
        time.sleep(0.05)
    time.sleep(np.random.default_rng().uniform(0.0, 2.0))
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    resumed, history = _train(5, epochs, checkpoint=path, resume=True)
    full, full_history = _train(5, epochs)
    for name, p in full.params.items():
        np.testing.assert_array_equal(resumed.params[name], p)
    np.testing.assert_array_equal(history["loss"], full_history["loss"])


@pytest.mark.parametrize("train", [("w", "v", "b"), ("w", "v", "b", "d")])
def test_resuming_from_a_checkpoint_gives_the_same_numbers(tmp_path, train):
    path = str(tmp_path / "ckpt.npz")
    full, full_history = _train(5, 3, train=train)
    _train(5, 1, checkpoint=path, train=train)             # interrupted after 1 epoch
    resumed, resumed_history = _train(5, 3, checkpoint=path, resume=True, train=train)
    for name, p in full.params.items():
        np.testing.assert_array_equal(resumed.params[name], p)
    np.testing.assert_array_equal(resumed_history["loss"], full_history["loss"])
    assert list(resumed_history["epoch"]) == [0, 1, 2]


def test_parameters_save_and_load_with_a_version(tmp_path, rng):
    net, signal = _net(rng)
    learner = OnlineLearner(net, MSELoss())
    learner.params["w0"] += 1.0
    path = str(tmp_path / "params.npz")
    save_parameters(learner, path)
    saved = {k: v.copy() for k, v in learner.params.items()}
    learner.params["w0"][:] = 0
    load_parameters(learner, path)
    np.testing.assert_array_equal(learner.params["w0"], saved["w0"])
    np.testing.assert_array_equal(net.synapses[0].w[:], saved["w0"])
    data = dict(np.load(path, allow_pickle=False))
    meta = json.loads(str(data["__meta__"]))
    data["__meta__"] = np.array(json.dumps({**meta, "version": 99}))
    np.savez(str(tmp_path / "future.npz"), **data)
    with pytest.raises(ValueError, match="future.npz has parameter file format version 99"):
        load_parameters(learner, str(tmp_path / "future.npz"))


def test_checkpoint_and_parameter_files_cannot_run_code_and_bad_files_are_named(tmp_path, rng):
    """Old pickles are refused (unpickling runs code), corrupt or foreign files give an
    error naming the file, and wrong shapes name the parameter."""
    import pickle
    net, signal = _net(rng)
    learner = OnlineLearner(net, MSELoss())
    old = tmp_path / "old.ckpt"
    old.write_bytes(pickle.dumps({"format": ("sgbrian-checkpoint", 1)}))
    with pytest.raises(ValueError, match="old.ckpt is a checkpoint of the old pickle format"):
        learner.fit([_mse_sample(rng, signal)], 1, checkpoint=str(old), resume=True,
                    progress=False)
    path = str(tmp_path / "params.npz")
    save_parameters(learner, path)
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(open(path, "rb").read()[:100])
    with pytest.raises(ValueError, match="truncated.npz is not a readable sgbrian parameter file"):
        load_parameters(learner, str(truncated))
    np.savez(str(tmp_path / "foreign.npz"), x=np.zeros(3))
    with pytest.raises(ValueError, match="foreign.npz is not a readable"):
        load_parameters(learner, str(tmp_path / "foreign.npz"))
    other = OnlineLearner(_net(rng, sizes=(3, 5, 2))[0], MSELoss())
    with pytest.raises(ValueError, match=r"params.npz: parameter w0 missing or of shape \(12,\), expected \(15,\)"):
        load_parameters(other, path)
    _bad_files_are_named(learner, path, tmp_path)


def _bad_files_are_named(learner, path, tmp_path):
    """The whole message of every refusal, one file at a time; the saved metadata."""
    import sgbrian as package
    data = dict(np.load(path, allow_pickle=False))
    meta = json.loads(str(data["__meta__"]))
    assert meta == {"format": "sgbrian-parameters", "version": 2, "sgbrian": package.__version__}
    def refused(name, message, **arrays):
        bad = str(tmp_path / name)
        if arrays:
            np.savez(bad, **arrays)
        with pytest.raises(ValueError, match=re.escape(message)):
            load_parameters(learner, bad)
    refused("missing.npz", f"{tmp_path / 'missing.npz'}: cannot open the parameter file")
    (tmp_path / "old.npz").write_bytes(b"\x80\x04junk")
    refused("old.npz", f"{tmp_path / 'old.npz'} is a parameter file of the old pickle format, "
            "which sgbrian no longer reads (opening a pickle can run code); retrain, or load "
            "it with sgbrian 0.1 and save it again")
    refused("objects.npz", f"{tmp_path / 'objects.npz'} is not a readable sgbrian parameter file "
            "(ValueError: Object arrays cannot be loaded when allow_pickle=False)",
            __meta__=np.array(json.dumps(meta)), w0=np.array([{"code": 1}], dtype=object))
    refused("format.npz", f"{tmp_path / 'format.npz'} is not an sgbrian parameter file (format "
            "'sgbrian-checkpoint')", __meta__=np.array(json.dumps({**meta, "format": "sgbrian-checkpoint"})))
    refused("list.npz", f"{tmp_path / 'list.npz'} is not an sgbrian parameter file (format [1, 2])",
            __meta__=np.array(json.dumps([1, 2])))
    np.savez(str(tmp_path / "ok.npz"), **data)
    load_parameters(learner, str(tmp_path / "ok.npz"))          # the file as written reads back
    checkpoint = str(tmp_path / "run.ckpt")
    save_checkpoint(learner, checkpoint, 1, [])                  # the learner's Adam
    adam, learner.optimizer = learner.optimizer, SGD(1e-3)
    with pytest.raises(ValueError, match=re.escape(
            f"{checkpoint}: checkpoint optimizer is Adam, the learner's is SGD")):
        load_checkpoint(learner, checkpoint)
    learner.optimizer = adam


def test_progress_shows_epoch_loss_metric_and_event_rate(rng):
    """fit's progress: a report after every tenth of the samples (20 samples: at 2, 4,
    ..., 20 done) with the mean sample loss so far, then the epoch's line with the
    numbers of the returned history (loss .4g, NRMSE .4f, the validation set's loss and
    NRMSE, events per neuron per second .1f, seconds .1f). The validation numbers are
    those of ``evaluate`` after the epoch."""
    net, signal = _net(rng)
    learner = OnlineLearner(net, MSELoss())
    short = [Sample(signal[:6], rng.normal(0, 1, (6, 2)), 6) for _ in range(20)]
    validation = short[:3]
    stream = io.StringIO()
    history = learner.fit(short, 1, validation=validation, stream=stream)
    reports = re.findall(r"\r  epoch 0: (\d+)/20 samples, loss (\S+), ", stream.getvalue())
    assert [int(done) for done, _ in reports] == list(range(2, 21, 2))
    assert reports[-1][1] == f"{history['loss'][0]:.4g}"     # the mean of all 20
    h = history[0]
    assert stream.getvalue().rsplit("\r", 1)[1] == (
        f"epoch 0: loss {h['loss']:.4g}, nrmse {h['metric']:.4f}, val loss "
        f"{h['val_loss']:.4g}, val nrmse {h['val_metric']:.4f}, "
        f"{h['events_per_neuron_per_s']:.1f} events/neuron/s, {h['seconds']:.1f} s\n")
    after = learner.evaluate(validation)
    assert (h["val_loss"], h["val_metric"]) == (after["loss"], after["metric"])
    plain, quiet = io.StringIO(), io.StringIO()
    learner.fit(short[:2], 1, stream=plain)
    assert re.fullmatch(r"(\r  epoch 0: \d/2 samples, loss \S+, \d+ s)+\repoch 0: loss \S+, "
                        r"nrmse \d+\.\d{4}, \d+\.\d events/neuron/s, \d+\.\d s\n", plain.getvalue())
    learner.fit(short[:2], 1, stream=quiet, progress=False)
    assert quiet.getvalue() == ""


def test_bad_learner_arguments_are_refused(rng):
    net, _ = sgbrian.feedforward([2, 3, 3, 1], signal=np.zeros((5, 2))), None
    with pytest.raises(ValueError, match="rule 'exact' needs exactly one hidden layer"):
        OnlineLearner(net, MSELoss(), rule="exact")
    with pytest.raises(ValueError, match="rule must be one of"):
        OnlineLearner(net, MSELoss(), rule="bptt")
    with pytest.raises(ValueError, match="update_every must be 'sample' or an int"):
        OnlineLearner(net, MSELoss(), update_every=0)
    with pytest.raises(ValueError, match="lr must be > 0"):
        Adam(lr=-1)


@pytest.mark.training
def test_the_learner_refuses_a_standalone_device(tmp_path):
    script = (
        "import numpy as np, sgbrian\n"
        "from sgbrian.targets import use_target\n"
        "from sgbrian.learning import OnlineLearner\n"
        "from sgbrian.losses import MSELoss\n"
        f"use_target('cpp_standalone', directory={str(tmp_path)!r})\n"
        "net = sgbrian.feedforward([2, 3, 1], signal=np.zeros((5, 2)))\n"
        "OnlineLearner(net, MSELoss())\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode != 0
    assert "skips silently on a standalone device" in result.stderr


@pytest.mark.training
def test_continuous_delays_learn_the_teacher_delay():
    """A 1 -> 1 network with the teacher's weights but a delay of 0.3 ms learns, from the
    delay gradient alone (train='d'), the teacher's delay of 1.0 ms."""
    from sgbrian.signals import band_limited_noise
    from brian2 import Hz
    signals = [band_limited_noise(300, defaultclock.dt, 200 * Hz, 1, seed=s) for s in range(4)]

    def network(delay):
        net = sgbrian.feedforward([1, 1], K=4, tau=0.4 * ms, theta=0.01, signal=signals[0],
                                  delay=delay, max_delay=2 * ms, payload="analog")
        for k, v in enumerate([0.0, 0.6, 0.3, 0.1, 0.0]):
            setattr(net.layers[1].group, f"v_{k}", v)
        net.synapses[0].w = 1.0
        return net

    teacher = OnlineLearner(network(1.0 * ms), MSELoss())
    samples = [Sample(s, np.zeros((300, 1)), 300) for s in signals]
    targets = teacher.evaluate(samples, record_outputs=True)["outputs"]
    samples = [Sample(s, t, 300) for s, t in zip(signals, targets)]
    student = OnlineLearner(network(0.3 * ms), MSELoss(), train=("d",), optimizer=Adam(0.05))
    before = student.evaluate(samples)["loss"]
    student.fit(samples, 30, progress=False)
    assert abs(student.params["d0"][0] - 1.0) < 0.1, student.params["d0"]
    assert student.evaluate(samples)["loss"] < 0.01 * before


def test_targets_may_be_functions_of_time_and_clipping_bounds_the_norm():
    from brian2 import Hz, second
    from sgbrian.optim import clip_by_global_norm
    s = Sample(np.zeros((50, 1)), lambda t: np.sin(2 * np.pi * 20 * Hz * t), 50, dt=0.1 * ms)
    np.testing.assert_allclose(s.target[:, 0], np.sin(2 * np.pi * 20 * np.arange(50) * 1e-4))
    with pytest.raises(ValueError, match="dt must be given"):
        Sample(np.zeros((5, 1)), lambda t: t / second, 5)
    grads = {"a": np.array([3.0, 0.0]), "b": np.array([[4.0]])}
    assert clip_by_global_norm(grads, 1.0) == pytest.approx(5.0)
    assert np.sqrt(sum((g ** 2).sum() for g in grads.values())) == pytest.approx(1.0)


def _batch_case(rng, kind):
    """A network and 3 samples of unequal length (analog input and MSE, or spike input
    and cross-entropy); per-synapse delays. In batches of 2: a full batch and a short
    last one."""
    if kind == "mse":
        net, signal = _net(rng, payload="integer", sizes=(3, 5, 2))
        lengths = [T, T - 7, T - 12]
        samples = [Sample(rng.normal(0, 1, (n, 3)), np.cumsum(rng.normal(0, 0.3, (n, 2)), 0), n)
                   for n in lengths]
        return net, MSELoss(), samples
    steps, channels = np.nonzero(rng.random((T, 3)) < 0.2)
    net, _ = _net(rng, payload="integer", sizes=(3, 5, 2),       # no readout delays
                  spikes=(channels, steps * defaultclock.dt), max_delay=[0.3 * ms, 0 * ms])
    samples = []
    for label in range(3):
        steps, channels = np.nonzero(rng.random((T, 3)) < 0.2)
        samples.append(Sample((channels, steps * defaultclock.dt), label % 2, T))
    return net, CrossEntropyLoss(start=1 * ms), samples


@pytest.mark.parametrize("rule", ["exact", "spatial"])
@pytest.mark.parametrize("kind", ["mse", "cross_entropy"])
def test_the_gradient_of_a_batch_is_the_sum_of_its_samples_gradients(rule, kind):
    """B samples side by side in one Brian2 network (a short last batch, unequal
    lengths): the summed gradient equals the samples' gradients computed one at a time."""
    rng = np.random.default_rng(11)
    net, loss, samples = _batch_case(rng, kind)
    train = ("w", "v", "b", "d") if kind == "mse" else ("w", "v", "b")
    learner = OnlineLearner(net, loss, rule=rule, train=train)
    one_by_one = [learner.gradients([s]) for s in samples]
    batched = learner.gradients(samples, batch_size=2)
    for name, g in batched.items():
        expected = sum(single[name] for single in one_by_one)
        assert np.linalg.norm(expected) > 0, name
        assert _relative_error(g, expected) < 1e-10, name


@pytest.mark.parametrize("kind", ["mse", "cross_entropy"])
def test_batched_evaluation_gives_every_sample_its_own_numbers(kind):
    rng = np.random.default_rng(12)
    net, loss, samples = _batch_case(rng, kind)
    learner = OnlineLearner(net, loss)
    single = learner.evaluate(samples, record_outputs=True)
    batched = learner.evaluate(samples, record_outputs=True, batch_size=2)
    for key in ("loss", "loss_sum", "metric", "events_per_neuron_per_s"):
        assert batched[key] == pytest.approx(single[key], rel=1e-12), key
    for a, b in zip(single["outputs"], batched["outputs"]):
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-12)
    if kind == "cross_entropy":
        np.testing.assert_array_equal(batched["predictions"], single["predictions"])


def test_one_update_per_batch_applies_the_summed_gradient():
    """fit with one batch holding every sample and plain SGD moves each parameter by
    -lr times the batch's summed gradient."""
    rng = np.random.default_rng(13)
    net, loss, samples = _batch_case(rng, "mse")
    learner = OnlineLearner(net, loss, optimizer=SGD(1e-3))
    before = {k: p.copy() for k, p in learner.params.items()}
    grads = learner.gradients(samples)
    learner.fit(samples, 1, batch_size=len(samples), progress=False)
    for name, p in learner.params.items():
        np.testing.assert_allclose(p, before[name] - 1e-3 * grads[name], rtol=1e-10, atol=1e-14)


def test_per_sample_and_per_interval_updates_step_where_they_should():
    """Plain SGD on two copies of one sample (fit's order cannot matter): with
    update_every='sample' the parameters step after each sample, p2 = p1 - lr g(p1),
    p1 = p0 - lr g(p0); with an interval of T steps (the sample's loss steps), the
    same; with an interval longer than the run, once at its end with the summed
    gradient, p0 - lr 2 g(p0)."""
    rng = np.random.default_rng(15)
    net, loss, samples = _batch_case(rng, "mse")
    lr, twice = 1e-3, [samples[0], samples[0]]
    for update_every in ("sample", T, 10 * T):
        learner = OnlineLearner(net, loss, optimizer=SGD(lr), update_every=update_every)
        p0 = {k: p.copy() for k, p in learner.params.items()}
        g0 = learner.gradients(samples[:1])
        if update_every in ("sample", T):
            for name, p in learner.params.items():
                p[:] = p0[name] - lr * g0[name]
            learner.write_params()
            g1 = learner.gradients(samples[:1])
            expected = {k: p - lr * g1[k] for k, p in learner.params.items()}
        else:
            expected = {k: p0[k] - lr * 2 * g0[k] for k in p0}
        for name, p in learner.params.items():
            p[:] = p0[name]
        learner.write_params()
        learner.fit(twice, 1, progress=False)
        for name, p in learner.params.items():
            np.testing.assert_allclose(p, expected[name], rtol=1e-10, atol=1e-14,
                                       err_msg=f"{update_every} {name}")
        learner.detach()


def test_an_update_clips_the_global_norm_and_scales_by_the_schedule():
    """One batch, plain SGD, clip_norm c below the gradient's norm and a schedule whose
    first epoch gives 0.5: every parameter moves by -lr * 0.5 * g * c / ||g||."""
    rng = np.random.default_rng(14)
    net, loss, samples = _batch_case(rng, "mse")
    learner = OnlineLearner(net, loss, optimizer=SGD(1e-3), clip_norm=0.01,
                            lr_schedule=lambda epoch: 0.5)
    before = {k: p.copy() for k, p in learner.params.items()}
    grads = learner.gradients(samples)
    norm = np.sqrt(sum(np.sum(g ** 2) for g in grads.values()))
    assert norm > 0.01
    learner.fit(samples, 1, batch_size=len(samples), progress=False)
    for name, p in learner.params.items():
        np.testing.assert_allclose(p, before[name] - 1e-3 * 0.5 * grads[name] * 0.01 / norm,
                                   rtol=1e-10, atol=1e-15)


def test_learned_delays_stay_within_zero_and_the_longest_delay_the_network_holds():
    """A large step on the delays: each lands in [0, max_steps * dt] (ms)."""
    rng = np.random.default_rng(15)
    net, loss, samples = _batch_case(rng, "mse")
    learner = OnlineLearner(net, loss, optimizer=SGD(1e4), train=("d",))
    bound = learner.engine(1).connections[0].max_steps * float(defaultclock.dt / ms)
    learner.fit(samples, 1, batch_size=len(samples), progress=False)
    d = learner.params["d0"]
    assert d.min() == 0.0 and d.max() == pytest.approx(bound)      # both bounds reached


@pytest.mark.parametrize("fft_from", [10 ** 9, 1])
def test_weight_gradient_buffers_equal_a_direct_sum_over_delayed_buckets(fft_from, monkeypatch):
    """Per-synapse delays 0..12 (13 distinct values), flushes every 8 steps: the
    per-delay products and the Fourier-domain correlation both equal
    sum_t sum_{b,k} u_{b,i}^k(t - d_s) vd_{b,j}^k(t), computed term by term."""
    from types import SimpleNamespace
    from sgbrian.learning import WeightGradient
    monkeypatch.setattr(WeightGradient, "fft_from", fft_from)
    rng = np.random.default_rng(0)
    # L = 30: the Fourier window has 21 frequencies, more than one block of 16; T = 43:
    # the last flush is short (3 steps), with stale steps behind it in the window
    n_pre, n_post, B, K1, L, T = 7, 5, 3, 4, 30, 43
    pre, post = np.nonzero(rng.random((n_pre, n_post)) < 0.8)
    delays_s = rng.integers(0, L + 1, len(pre))
    delays, index = np.unique(delays_s, return_inverse=True)
    conn = SimpleNamespace(P=np.eye(K1), max_steps=L, n_pre=n_pre, n_post=n_post, batch=B,
                           pre=pre, post=post, delays=delays, delay_index=index)
    u, vd = rng.normal(size=(T, B, n_pre, K1)), rng.normal(size=(T, B, n_post, K1))
    buffers, grad = WeightGradient(conn, size=8), np.zeros(len(pre))
    for t in range(T):
        buffers.add(u[t], vd[t], grad)
    buffers.flush(grad)
    expected = np.array([sum(np.sum(u[t - d, :, i] * vd[t, :, j]) for t in range(d, T))
                         for i, j, d in zip(pre, post, delays_s)])
    assert len(delays) > 10
    np.testing.assert_allclose(grad, expected, rtol=1e-12, atol=1e-12 * np.abs(expected).max())


@pytest.mark.training
@pytest.mark.parametrize("hidden", ["softplus", "tanh", "sigmoid", "leaky_relu"])
def test_custom_output_nonlinearities_train_with_their_stated_derivative(rng, hidden):
    """Online gradients of a network whose hidden layer uses another nonlinearity equal
    finite differences of the summed loss (analog model, per-synapse delays)."""
    from sgbrian.equations import leaky_relu
    signal = rng.normal(0, 1, (T, 3))
    f = leaky_relu(0.1) if hidden == "leaky_relu" else hidden
    net = sgbrian.feedforward([3, 4, 2], K=4, tau=0.5 * ms, theta=0.05, signal=signal,
                              max_delay=0.3 * ms, random_delays=True, payload="analog", seed=2,
                              hidden=f)
    randomize(net, rng)
    sample = _mse_sample(rng, signal)
    for rule in ("exact", "spatial"):
        learner = OnlineLearner(net, MSELoss(), rule=rule)
        grads = learner.gradients([sample])
        if rule == "exact":
            fd = _finite_differences(learner, [sample])
            for name in grads:
                assert _relative_error(grads[name], fd[name]) < 1e-5, (hidden, name)
        learner.detach()


@pytest.mark.training
def test_drive_terms_are_refused_unless_marked_constant_then_exact_when_they_are(rng):
    signal = rng.normal(0, 1, (T, 3))
    kwargs = dict(K=4, tau=0.5 * ms, theta=0.05, signal=signal, max_delay=0.3 * ms,
                  random_delays=True, payload="analog", seed=2, drive="c*cos(2*pi*t/(8*ms))",
                  parameters={"c": np.array([0.3, -0.2, 0.5, 0.1])})
    net = sgbrian.feedforward([3, 4, 2], **kwargs)
    with pytest.raises(ValueError, match=r"drive term 'c\*cos\(2\*pi\*t/\(8\*ms\)\)'.*constant_drive=True"):
        OnlineLearner(net, MSELoss())
    net = sgbrian.feedforward([3, 4, 2], **{**kwargs, "drive": "c*cos(3*a)",
                                            "extra": "a : 1", "parameters": {"c": np.array([0.3, -0.2, 0.5, 0.1])}})
    net.layers[1].group.a = [0.1, 0.4, 0.7, 1.0]
    randomize(net, rng)
    net.layers[1].group.b = rng.uniform(0.0, 0.3, 4)
    sample = _mse_sample(rng, signal)
    learner = OnlineLearner(net, MSELoss(), rule="exact", constant_drive=True)
    grads = learner.gradients([sample])
    fd = _finite_differences(learner, [sample])
    for name in grads:          # the drive depends on no trained parameter: exact
        assert _relative_error(grads[name], fd[name]) < 1e-5, name


@pytest.mark.training
def test_spatial_hidden_gradients_equal_finite_differences_with_inactive_units(rng):
    """With the readout's bucket weights v^k = 0 for k >= 1 (and no readout delays) the
    error sent down has only a tap component, so rule 'spatial' is the exact gradient of
    the summed loss. Two hidden units are held inactive (x < 0): relu' = 0 zeroes every
    gradient that flows through them, and finite differences see no change either."""
    signal = rng.normal(0, 1, (T, 3))
    net = sgbrian.feedforward([3, 5, 2], K=3, tau=0.5 * ms, theta=0.05, signal=signal,
                              max_delay=[0.3 * ms, 0 * ms], random_delays=True,
                              payload="analog", seed=2)
    randomize(net, rng)
    for k in range(1, 4):
        setattr(net.layers[2].group, f"v_{k}", 0.0)
    inactive = np.array([False, True, False, True, False])
    net.layers[1].group.b = np.where(inactive, -50.0, rng.uniform(0.3, 0.6, 5))
    learner = OnlineLearner(net, MSELoss(), rule="spatial")
    sample = _mse_sample(rng, signal)
    grads = learner.gradients([sample])
    fd = _finite_differences(learner, [sample])
    for name in ("w0", "v1", "b1", "w1", "v2", "b2"):
        assert np.linalg.norm(fd[name]) > 1e-3, name
        assert _relative_error(grads[name], fd[name]) < 1e-5, (name, grads[name], fd[name])
    post = net.synapses[0].j[:]
    assert np.all(grads["w0"][inactive[post]] == 0) and np.all(grads["v1"][inactive] == 0)
    assert np.all(grads["b1"][inactive] == 0) and np.all(grads["b1"][~inactive] != 0)


def test_the_learners_state_bytes_are_its_buffers_fixed_by_delays_and_batch_not_by_steps(rng):
    """Engine.state_nbytes: the sender cascades ((L + 1) steps x batch x senders x (K+1)),
    the gradient windows, the exact rule's traces and its dense gradient, counted from
    their shapes here; the same after a run; views of Brian2's arrays, the parameters and
    their dense copies are not counted."""
    from scipy.fft import next_fast_len
    net, signal = _net(rng)                          # K = 4, delays of 0-3 steps
    learner = OnlineLearner(net, MSELoss(), rule="exact", train=("w", "v", "b", "d"))
    for batch in (1, 3):
        engine = learner.engine(batch)
        expected = 0
        for l, conn in enumerate(engine.connections):
            lag = conn.max_steps
            slots = max(2, lag + 1) if l == 0 else 2       # only the first keeps delayed buckets
            expected += 8 * slots * batch * conn.n_pre * 5 + 8 * 5 * 5    # history, P transposed
            expected += sum(a.nbytes for a in (conn.P, conn.taus, conn.pre, conn.post, conn.delays,
                                               conn.delay_index))
            for K1, wg in [(5, engine.weight_grads[l])] + (
                    [(4, engine.delay_grads[l])] if l in engine.delay_grads else []):
                length = next_fast_len(lag + wg.size, real=True)
                expected += 8 * length * batch * K1 * (conn.n_pre + conn.n_post)
        readout = engine.connections[1]
        n_h, n_in = 4, 3
        expected += 8 * n_h * n_in                                        # w0_dense
        slots = max(2, readout.max_steps + 1)
        expected += 8 * slots * batch * 5 * n_h * n_in                    # w0 trace, bucket-major
        expected += 8 * slots * batch * (n_h * 5) * 5 + 8 * slots * batch * n_h * 5   # v1, b1
        expected += 2 * 8 * 5 * 5                                         # their P transposed
        expected += sum(index.nbytes for index, _ in engine.exact.values() if index is not None)
        assert engine.state_nbytes() == expected, batch
    before = learner.engine(1).state_nbytes()
    learner.evaluate([_mse_sample(rng, signal)])
    assert learner.engine(1).state_nbytes() == before


def test_bias_gradients_through_a_drive_and_a_nonlinear_readout_equal_finite_differences(rng):
    """Fast counterpart of the drive and nonlinearity tests: softplus hidden and readout
    layers, a constant drive ``c*cos(3*a)`` in x; the biases' exact gradients
    (dL/db = sum_t delta(t), delta through f'(x) with x including the drive) equal
    central differences of the summed loss."""
    signal = rng.normal(0, 1, (T, 3))
    net = sgbrian.feedforward([3, 4, 2], K=4, tau=0.5 * ms, theta=0.05, signal=signal,
                              max_delay=0.3 * ms, random_delays=True, payload="analog", seed=2,
                              hidden="softplus", output="softplus", drive="c*cos(3*a)",
                              extra="a : 1", parameters={"c": np.array([0.9, -0.7, 0.8, 0.6])})
    randomize(net, rng)
    net.layers[1].group.a = [0.1, 0.4, 0.7, 1.0]
    sample = _mse_sample(rng, signal)
    learner = OnlineLearner(net, MSELoss(), rule="exact", constant_drive=True, train=("b",))
    grads = learner.gradients([sample])
    fd = _finite_differences(learner, [sample], names=grads)
    assert sorted(grads) == ["b1", "b2"]
    for name in ("b1", "b2"):
        assert _relative_error(grads[name], fd[name]) < 1e-5, (name, grads[name], fd[name])


def test_learner_defaults_refusals_and_trained_delays_by_hand():
    """OnlineLearner's defaults (rule 'spatial', w v b trained, Adam, a constant
    schedule, seed 0, the operation at the end of each step, order 100); its refusals,
    whole messages; the delays each rule trains (spatial: every connection, exact: the
    readout's); the loss start in steps."""
    net = sgbrian.feedforward([2, 3, 1], K=2, signal=np.zeros((5, 2)))
    learner = OnlineLearner(net, MSELoss())
    assert (learner.rule, learner.train, learner.update_every) == ("spatial", ("w", "v", "b"), "sample")
    assert isinstance(learner.optimizer, Adam) and learner.lr_schedule(7) == 1.0
    np.testing.assert_array_equal(learner.rng.permutation(10),
                                  np.random.default_rng(0).permutation(10))
    operation = learner.engine(1).operation
    assert operation.name.startswith("sgbrian_learner")
    assert (operation.when, operation.order) == ("end", 100)
    learner.detach()
    with pytest.raises(ValueError, match=r"^train must be one of \['b', 'd', 'v', 'w'\], got 'q'$"):
        OnlineLearner(net, MSELoss(), train=("w", "q"))
    half = type("HalfLoss", (), {"prepare": None})()
    with pytest.raises(ValueError, match=r"^loss must be a loss object such as MSELoss\(\) or "
                                         r"CrossEntropyLoss\(start=\.\.\.\), got <"):
        OnlineLearner(net, half)
    for rule, trained in (("spatial", ["d0", "d1"]), ("exact", ["d1"])):
        learner = OnlineLearner(net, MSELoss(), rule=rule, train=("w", "d"))
        assert sorted(k for k in learner.params if k[0] == "d") == trained, rule
        learner.detach()
    loss = CrossEntropyLoss(start=1 * ms)
    OnlineLearner(net, loss).detach()
    assert loss.start_step == 10
    driven = sgbrian.feedforward([2, 3, 1], K=2, signal=np.zeros((5, 2)), drive="c",
                                 parameters={"c": np.ones(3)})
    with pytest.raises(ValueError, match=re.escape(
            "layer 1: the drive term 'c' feeds x, and the learner cannot differentiate it "
            "(its dependence on the parameters is not tracked); pass constant_drive=True to "
            "treat it as a constant of the gradient (exact when it does not depend on the "
            "trained parameters)")):
        OnlineLearner(driven, MSELoss())
