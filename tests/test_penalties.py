"""The activity penalty ``lambda sum_t |y(t) - y(t - dt)|`` on hidden outputs
(``sgbrian.penalties``): its value and derivative by hand, and its gradients under every
rule against central differences of the Brian2 network's penalized loss (analog payloads:
the network is the model the gradients are exact for)."""
import numpy as np
import pytest
from brian2 import ms

from sgbrian.datasets import Sample
from sgbrian.learning import OnlineLearner
from sgbrian.losses import MSELoss
from sgbrian.penalties import TotalVariation

from test_adjoint import T, _net, _parameter_setter


def test_the_penalty_and_its_derivative_by_hand():
    y = np.array([[0.0, 1.0], [1.0, 1.0], [1.0, 3.0], [0.5, 2.0], [9.0, 9.0]])
    values, grad = TotalVariation.sequence(y, 4, 0.5)          # the fifth step is not the sample's
    assert values.tolist() == [0.0, 0.5, 1.0, 0.75, 0.0]
    # s(t) per channel: channel 0: +1, 0, -1; channel 1: 0, +1, -1
    np.testing.assert_array_equal(grad, 0.5 * np.array([[-1, 0], [1, -1], [1, 2], [-1, -1], [0, 0]]))
    rng = np.random.default_rng(0)
    y = rng.normal(size=(12, 3))
    _, grad = TotalVariation.sequence(y, 10, 0.3)
    for t, j in ((0, 0), (4, 1), (9, 2), (11, 0)):
        bumped = y.copy()
        bumped[t, j] += 1e-7
        difference = (TotalVariation.sequence(bumped, 10, 0.3)[0].sum()
                      - TotalVariation.sequence(y, 10, 0.3)[0].sum()) / 1e-7
        assert difference == pytest.approx(grad[t, j], abs=1e-6)
    assert np.all(TotalVariation.sequence(y, 1, 0.3)[1] == 0)
    values, signed = TotalVariation.step(np.array([[1.0, 2.0], [0.0, 0.0]]),
                                         np.array([[0.0, 3.0], [5.0, 5.0]]),
                                         np.array([True, False]), 2.0)
    assert values.tolist() == [4.0, 0.0] and signed.tolist() == [[2.0, -2.0], [0.0, 0.0]]


def test_strengths_are_checked_and_given_per_hidden_layer():
    assert TotalVariation(0.1).strengths(3).tolist() == [0.1] * 3
    assert TotalVariation([0.1, 0.0]).strengths(2).tolist() == [0.1, 0.0]
    assert repr(TotalVariation(0.25)) == "TotalVariation(0.25)"
    with pytest.raises(ValueError, match="strength has 2 values, but the network has 3 hidden"):
        TotalVariation([0.1, 0.2]).strengths(3)
    for bad in (-0.1, [0.1, -1.0], []):
        with pytest.raises(ValueError, match="strength must be >= 0"):
            TotalVariation(bad)
    with pytest.raises(ValueError, match="strength"):
        TotalVariation(float("nan"))


def _penalized_loss(net, sample, strength):
    """The summed loss plus penalty of ``sample`` as Brian2 computes it (an online learner
    reads the network's own buckets at every step)."""
    learner = OnlineLearner(net, MSELoss(), rule="spatial", train=(),
                            penalty=TotalVariation(strength))
    value = learner.evaluate([sample])["loss_sum"]
    learner.detach()
    return value


def _gradients(net, sample, rule, strength, train=("w", "v", "b")):
    learner = OnlineLearner(net, MSELoss(), rule=rule, train=train,
                            penalty=TotalVariation(strength))
    grads = learner.gradients([sample])
    learner.detach()
    return grads


def _central_difference(net, sample, strength, name, direction, eps=1e-6):
    setter = _parameter_setter(net, name, direction.ravel())
    values = []
    for h in (eps, -eps):
        setter(h)
        values.append(_penalized_loss(net, sample, strength))
    setter(0.0)
    return (values[0] - values[1]) / (2 * eps)


def _case(rng, sizes):
    net, signal = _net(rng, sizes=sizes, payload="analog", theta=0.05, K=3)
    return net, Sample(signal, np.cumsum(rng.normal(0, 0.3, (T, sizes[-1])), axis=0), T)


def test_the_reported_loss_adds_the_penalty_of_the_hidden_outputs(rng):
    """loss_sum(lambda) - loss_sum(0) = lambda sum_t |y(t) - y(t-1)| of the hidden outputs
    read from Brian2's own buckets (a monitor of y), under the online and adjoint rules."""
    net, sample = _case(rng, (3, 5, 4, 2))
    from brian2 import StateMonitor
    monitors = [StateMonitor(layer.group, "y", record=True, when="end")
                for layer in net.layers[1:-1]]
    net.network.add(*monitors)
    base = _penalized_loss(net, sample, 0.0)
    tv = sum(np.abs(np.diff(m.y[:, -T:], axis=1)).sum() for m in monitors)
    net.network.remove(*monitors)
    assert tv > 1
    for rule in ("spatial", "adjoint"):
        learner = OnlineLearner(net, MSELoss(), rule=rule, train=(), penalty=TotalVariation(0.3))
        value = learner.evaluate([sample])["loss_sum"]
        learner.detach()
        assert value - base == pytest.approx(0.3 * tv, rel=1e-9)


@pytest.mark.training
@pytest.mark.parametrize("rule, sizes", [("adjoint", (3, 5, 4, 2)), ("exact", (3, 5, 2))])
def test_penalized_gradients_equal_central_differences(rng, rule, sizes):
    """The whole penalized loss: 'adjoint' at two hidden layers, 'exact' at one; every
    parameter along two random directions, to 1e-5."""
    net, sample = _case(rng, sizes)
    strength = 0.05
    grads = _gradients(net, sample, rule, strength)
    plain = _gradients(net, sample, rule, 0.0)
    for name, g in grads.items():
        if name.startswith("v") or name.startswith("b") or name.startswith("w"):
            layer = int(name[1:]) + (name[0] == "w")
            if layer < len(sizes) - 1:                       # the penalty reaches it
                assert np.linalg.norm(g - plain[name]) > 1e-3 * np.linalg.norm(g), name
        for _ in range(2):
            direction = rng.normal(size=g.shape)
            fd = _central_difference(net, sample, strength, name, direction)
            assert abs(np.sum(g * direction) - fd) < 1e-5 * abs(fd), (rule, name, np.sum(g * direction), fd)


@pytest.mark.training
def test_the_spatial_rule_gives_the_exact_penalty_gradient_of_each_layers_own_parameters(rng):
    """One hidden layer: what the penalty adds to the gradient (lambda against 0) under
    'spatial' equals the central differences of what it adds to the loss (w0, v1, b1), and
    equals what it adds under 'adjoint' for the input delays d0 too (1e-8)."""
    net, sample = _case(rng, (3, 5, 2))
    strength = 0.05
    spatial = {s: _gradients(net, sample, "spatial", s, ("w", "v", "b", "d")) for s in (strength, 0.0)}
    adjoint = {s: _gradients(net, sample, "adjoint", s, ("w", "v", "b", "d")) for s in (strength, 0.0)}
    for name in ("w0", "v1", "b1"):
        added = spatial[strength][name] - spatial[0.0][name]
        direction = rng.normal(size=added.shape)
        fd = (_central_difference(net, sample, strength, name, direction)
              - _central_difference(net, sample, 0.0, name, direction))
        assert abs(fd) > 1e-4
        assert abs(np.sum(added * direction) - fd) < 1e-5 * abs(fd), name
    for name in ("w0", "d0", "v1", "b1"):
        by_spatial = spatial[strength][name] - spatial[0.0][name]
        by_adjoint = adjoint[strength][name] - adjoint[0.0][name]
        assert np.linalg.norm(by_adjoint) > 0, name
        np.testing.assert_allclose(by_spatial, by_adjoint, rtol=1e-8, atol=1e-10 * np.abs(by_adjoint).max())


def test_a_penalty_that_is_not_a_total_variation_is_refused(rng):
    net, _ = _case(rng, (3, 5, 2))
    with pytest.raises(ValueError, match="penalty must be None or a TotalVariation"):
        OnlineLearner(net, MSELoss(), penalty=0.1)
    with pytest.raises(ValueError, match="strength has 2 values, but the network has 1 hidden"):
        OnlineLearner(net, MSELoss(), penalty=TotalVariation([0.1, 0.2]))
    assert float(net.layers[1].tau / ms) == 0.5
