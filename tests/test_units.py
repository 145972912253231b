"""Optimizers, schedules, clipping, losses and metrics against hand-computed numbers."""
import re

import numpy as np
import pytest
from brian2 import ms

import sgbrian
from sgbrian.datasets import Sample
from sgbrian.learning import OnlineLearner
from sgbrian.losses import CrossEntropyLoss, MSELoss
from sgbrian.optim import SGD, Adam, clip_by_global_norm, schedule
from sgbrian.metrics import Metrics


def test_adam_with_bias_correction_by_hand():
    p = {"a": np.array([1.0, -2.0])}
    g = {"a": np.array([0.5, -0.1])}
    adam = Adam(lr=0.1, beta1=0.9, beta2=0.99, eps=1e-8)
    adam.step(p, g)
    # t = 1: m = 0.1 g, v = 0.01 g^2; m_hat = g, v_hat = g^2: step lr * g / (|g| + eps)
    np.testing.assert_allclose(p["a"], [1.0 - 0.1 * 0.5 / (0.5 + 1e-8),
                                        -2.0 + 0.1 * 0.1 / (0.1 + 1e-8)], rtol=1e-12)
    g2 = {"a": np.array([-0.5, 0.3])}
    before = p["a"].copy()
    adam.step(p, g2, lr_scale=0.5)
    m = 0.9 * 0.1 * g["a"] + 0.1 * g2["a"]
    v = 0.99 * 0.01 * g["a"] ** 2 + 0.01 * g2["a"] ** 2
    m_hat, v_hat = m / (1 - 0.9 ** 2), v / (1 - 0.99 ** 2)
    np.testing.assert_allclose(p["a"], before - 0.05 * m_hat / (np.sqrt(v_hat) + 1e-8), rtol=1e-12)


def test_sgd_with_momentum_by_hand():
    p, g = {"a": np.array([1.0])}, {"a": np.array([2.0])}
    sgd = SGD(lr=0.1, momentum=0.5)
    sgd.step(p, g)                      # v = 2, p = 1 - 0.2
    sgd.step(p, g)                      # v = 0.5*2 + 2 = 3, p = 0.8 - 0.3
    np.testing.assert_allclose(p["a"], [0.5], rtol=1e-14)


def test_schedules_and_clipping_by_hand():
    cosine = schedule("cosine", epochs=4, floor=0.2)
    np.testing.assert_allclose([cosine(e) for e in range(5)],
                               [0.2 + 0.8 * 0.5 * (1 + np.cos(np.pi * e / 4)) for e in range(5)])
    assert cosine(0) == 1.0 and cosine(4) == pytest.approx(0.2) and cosine(9) == pytest.approx(0.2)
    step = schedule("step", gamma=0.5, every=2)
    assert [step(e) for e in range(5)] == [1.0, 1.0, 0.5, 0.5, 0.25]
    grads = {"a": np.array([3.0]), "b": np.array([4.0])}
    assert clip_by_global_norm(grads, 1.0) == 5.0
    np.testing.assert_allclose([grads["a"][0], grads["b"][0]], [0.6, 0.8])
    assert clip_by_global_norm(grads, 10.0) == pytest.approx(1.0)      # below: untouched
    np.testing.assert_allclose([grads["a"][0], grads["b"][0]], [0.6, 0.8])


def test_losses_by_hand():
    sample = Sample(np.zeros((3, 1)), np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]]), 3,
                    weight=np.array([0.0, 2.0, 1.0]))
    loss, grad = MSELoss().step(np.array([0.5, 0.5]), sample, 1)
    assert loss == pytest.approx(2.0 * 0.5 * (0.25 + 2.25))
    np.testing.assert_allclose(grad, 2.0 * np.array([0.5, -1.5]))
    data = MSELoss().prepare([sample], 2)
    losses, grads = MSELoss().batch_step(np.array([[0.5, 0.5], [9.0, 9.0]]), data, 1)
    np.testing.assert_allclose(losses, [2.5, 0.0])                    # copy 1 holds no sample
    np.testing.assert_allclose(grads, [[1.0, -3.0], [0.0, 0.0]])
    ce = CrossEntropyLoss(start=2 * ms)
    ce.start_step = 2
    label = Sample(np.zeros((4, 1)), 1, 4)
    assert ce.step(np.array([1.0, 2.0]), label, 1) == (0.0, None)     # before the start
    y = np.array([1.0, 2.0, 0.0])
    loss, grad = ce.step(y, label, 2)
    p = np.exp(y) / np.exp(y).sum()
    assert loss == pytest.approx(-np.log(p[1]))
    np.testing.assert_allclose(grad, p - np.array([0, 1, 0]))


def test_metrics_by_hand():
    """NRMSE over steps with non-zero weight, divided by the target's spread (its values
    around their mean, not its RMS); a prediction is the argmax of the mean readout from
    the loss's start."""
    target = np.array([[3.0], [5.0], [7.0]])
    sample = Sample(np.zeros((3, 1)), target, 3, weight=np.array([1.0, 0.0, 1.0]))
    loss = MSELoss()
    metrics = Metrics(loss)
    data = loss.prepare([sample], 1)
    metrics.start_batch([sample], 1, data)
    for n, y in enumerate([4.0, 100.0, 7.5]):
        metrics.add(n, np.array([[y]]), np.zeros(1))
    metrics.end_batch()
    # counted steps 0 and 2: errors 1 and 0.5; targets 3 and 7 (mean 5): spread 4 + 4
    assert metrics.summary()["nrmse"] == pytest.approx(np.sqrt((1 + 0.25) / 8))
    ce = CrossEntropyLoss(start=1 * ms)
    ce.start_step = 1
    labelled = Sample(np.zeros((3, 1)), 1, 3)
    metrics = Metrics(ce)
    metrics.start_batch([labelled], 1, ce.prepare([labelled], 1))
    for n, y in enumerate([[9.0, 0.0], [0.0, 1.0], [0.0, 1.0]]):
        metrics.add(n, np.array([y]), np.zeros(1))
    metrics.end_batch()
    assert metrics.summary()["accuracy"] == 1.0      # step 0 (before the start) not counted


def test_event_rate_is_events_per_neuron_per_second_of_the_samples():
    from brian2 import SpikeMonitor
    signal = np.sin(np.arange(200)[:, None] * 0.1) * np.ones((1, 2))
    net = sgbrian.feedforward([2, 3, 2], theta=0.005, signal=signal, weight_scale=3.0)
    learner = OnlineLearner(net, MSELoss())
    monitors = [SpikeMonitor(layer.group, variables=["q"], when="end")
                for layer in net.layers[1:]]
    net.network.add(*monitors)
    result = learner.evaluate([Sample(signal, np.zeros((200, 2)), 200)])
    events = sum(m.num_spikes for m in monitors)
    quanta = sum(np.abs(m.q[:]).sum() for m in monitors)
    assert events > 100 and quanta > events
    assert result["events_per_neuron_per_s"] == pytest.approx(events / 5 / (200 * 0.1e-3))
    assert result["quanta_per_neuron_per_s"] == pytest.approx(quanta / 5 / (200 * 0.1e-3))


def test_the_learning_rate_schedule_is_read_at_each_epoch():
    signal = np.sin(np.arange(30)[:, None] * 0.2) * np.ones((1, 2))
    net = sgbrian.feedforward([2, 3, 1], signal=signal)
    learner = OnlineLearner(net, MSELoss(), optimizer=SGD(1e-3),
                            lr_schedule=schedule("step", gamma=0.5, every=1))
    history = learner.fit([Sample(signal, np.zeros((30, 1)), 30)], 3, progress=False)
    np.testing.assert_array_equal(history["lr_scale"], [1.0, 0.5, 0.25])


def test_optimizer_defaults_and_bounds_by_hand():
    """SGD: lr 1e-2, no momentum; Adam: lr 1e-3, betas 0.9 and 0.999, eps 1e-8; lr must
    be > 0, momentum and the betas in [0, 1)."""
    p = {"a": np.array([1.0])}
    SGD().step(p, {"a": np.array([2.0])})
    assert p["a"][0] == pytest.approx(1.0 - 1e-2 * 2.0, abs=1e-15)
    adam = Adam()
    assert (adam.lr, adam.beta1, adam.beta2, adam.eps) == (1e-3, 0.9, 0.999, 1e-8)
    SGD(lr=1e-12, momentum=0.0), SGD(momentum=0.999), Adam(beta1=0.0, beta2=0.0)
    for make, message in [(lambda: SGD(lr=0.0), "lr must be > 0, got 0.0"),
                          (lambda: SGD(momentum=1.0), "momentum must be in [0, 1), got 1.0"),
                          (lambda: SGD(momentum=-0.1), "momentum must be in [0, 1), got -0.1"),
                          (lambda: Adam(lr=0.0), "lr must be > 0, got 0.0"),
                          (lambda: Adam(beta1=1.0), "beta1 must be in [0, 1), got 1.0"),
                          (lambda: Adam(beta2=-0.5), "beta2 must be in [0, 1), got -0.5")]:
        with pytest.raises(ValueError, match=re.escape(message)):
            make()


def test_schedule_defaults_and_errors_by_hand():
    assert [schedule()(e) for e in (0, 7, 100)] == [1.0, 1.0, 1.0]
    step = schedule("step")                                 # gamma 0.5 every 10 epochs
    assert [step(e) for e in (0, 9, 10, 19, 20)] == [1.0, 1.0, 0.5, 0.5, 0.25]
    assert schedule("cosine", epochs=2)(2) == pytest.approx(0.0, abs=1e-15)   # floor 0
    with pytest.raises(ValueError, match=re.escape("epochs must be given for a cosine schedule")):
        schedule("cosine")
    with pytest.raises(ValueError, match=re.escape(
            "kind must be one of ['constant', 'cosine', 'step'], got 'linear'")):
        schedule("linear")


def test_cross_entropy_of_a_batch_by_hand_with_large_readouts():
    """Copy b at step n: L = -m log softmax(y_b)_c and dL/dy = m (softmax(y_b) - e_c),
    finite for readouts of 1000 (each copy shifted by its own maximum); weight 0 before
    the start step and in copies without a sample; the label of an empty copy is 0."""
    ce = CrossEntropyLoss(start=2 * ms)
    ce.start_step = 2
    samples = [Sample(np.zeros((4, 1)), 1, 4, weight=np.array([5.0, 5.0, 2.0, 3.0])),
               Sample(np.zeros((3, 1)), 0, 3)]
    data = ce.prepare(samples, 3)
    np.testing.assert_array_equal(data["weight"], [[0, 0, 0], [0, 0, 0], [2, 1, 0], [3, 0, 0]])
    np.testing.assert_array_equal(data["labels"], [1, 0, 0])
    assert data["samples"] == samples
    y = np.array([[1000.0, 998.0, 999.0], [0.0, 3.0, -1.0], [7.0, 7.0, 7.0]])
    losses, grad = ce.batch_step(y, data, 2)
    for b, (label, m) in enumerate([(1, 2.0), (0, 1.0), (0, 0.0)]):
        z = y[b] - y[b].max()
        p = np.exp(z) / np.exp(z).sum()
        assert losses[b] == pytest.approx(-m * np.log(p[label]), rel=1e-12, abs=1e-300)
        np.testing.assert_allclose(grad[b], m * (p - np.eye(3)[label]), rtol=1e-12, atol=1e-300)
    losses, grad = ce.batch_step(y, data, 1)
    assert grad is None and losses.shape == (3,) and not losses.any()
    ce.start_step = 0
    np.testing.assert_array_equal(ce.prepare(samples, 2)["weight"][0], [5.0, 1.0])
    single, g = ce.step(np.array([1000.0, 998.0, 999.0]), Sample(np.zeros((4, 1)), 1, 4), 0)
    z = np.array([0.0, -2.0, -1.0])
    p = np.exp(z) / np.exp(z).sum()
    assert single == pytest.approx(-np.log(p[1]), rel=1e-12)
    np.testing.assert_allclose(g, p - np.eye(3)[1], rtol=1e-12)
    weighted, g = ce.step(np.array([0.0, 1.0]), samples[0], 3)
    assert weighted == pytest.approx(3.0 * np.log(1 + np.exp(-1.0)), rel=1e-12)
    with pytest.raises(ValueError, match=re.escape("start must be >= 0 ms")):
        CrossEntropyLoss(start=-1 * ms)


def test_mse_of_one_sample_without_weights_counts_every_step_once():
    sample = Sample(np.zeros((2, 1)), np.array([[1.0], [3.0]]), 2)
    loss, grad = MSELoss().step(np.array([2.0]), sample, 1)
    assert loss == 0.5 and grad.tolist() == [-1.0]
