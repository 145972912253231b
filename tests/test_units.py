"""Optimizers, schedules, clipping, losses and metrics against hand-computed numbers."""
import numpy as np
import pytest
from brian2 import ms

import sgbrian
from sgbrian.datasets import Sample
from sgbrian.learning import OnlineLearner
from sgbrian.losses import CrossEntropyLoss, MSELoss
from sgbrian.optim import SGD, Adam, clip_by_global_norm, schedule
from sgbrian.training import Metrics


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
    monitors = [SpikeMonitor(layer.group, when="end") for layer in net.layers[1:]]
    net.network.add(*monitors)
    result = learner.evaluate([Sample(signal, np.zeros((200, 2)), 200)])
    events = sum(m.num_spikes for m in monitors)
    assert events > 100
    assert result["events_per_neuron_per_s"] == pytest.approx(events / 5 / (200 * 0.1e-3))


def test_the_learning_rate_schedule_is_read_at_each_epoch():
    signal = np.sin(np.arange(30)[:, None] * 0.2) * np.ones((1, 2))
    net = sgbrian.feedforward([2, 3, 1], signal=signal)
    learner = OnlineLearner(net, MSELoss(), optimizer=SGD(1e-3),
                            lr_schedule=schedule("step", gamma=0.5, every=1))
    history = learner.fit([Sample(signal, np.zeros((30, 1)), 30)], 3, progress=False)
    np.testing.assert_array_equal(history["lr_scale"], [1.0, 0.5, 0.25])
