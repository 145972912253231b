"""Assertions shared by several test files (imported as ``checks``)."""
import numpy as np
import pytest


def assert_gradients_equal(got, expected, rtol=1e-10):
    """Every array of ``expected`` is non-zero and ``got``'s differs from it by at most
    ``rtol`` of its norm."""
    for name, value in expected.items():
        scale = np.linalg.norm(value)
        assert scale > 0, name
        assert np.linalg.norm(got[name] - value) <= rtol * scale, name


def assert_divergence_restores(learner, net, samples):
    """``fit`` stops with TrainingDiverged, and the learner's and Brian2's parameters are
    the last good ones (finite)."""
    from sgbrian.learning import TrainingDiverged
    with pytest.raises(TrainingDiverged, match="last good parameters"):
        learner.fit(samples, 3, progress=False)
    for name, p in learner.params.items():
        assert np.all(np.isfinite(p)), name
        np.testing.assert_array_equal(p, learner.last_good[name])
    np.testing.assert_array_equal(net.synapses[0].w[:], learner.params["w0"])


def itd_trained_here_and_on(client):
    """Two epochs of ITD (seed 3, 12 samples, batches of 4) trained in this process and
    with ``client`` summing each batch's gradients; asserts parameters, losses and test
    accuracy equal and returns the data-parallel run's result."""
    from sgbrian.experiments import train_task
    kwargs = dict(seed=3, epochs=2, task_kwargs=dict(n_train=12, n_test=4), batch_size=4,
                  progress=False)
    here = train_task("itd", **kwargs)
    there = train_task("itd", client=client, **kwargs)
    for name, p in here["learner"].params.items():
        np.testing.assert_allclose(there["learner"].params[name], p, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(there["history"]["loss"], here["history"]["loss"], rtol=1e-9)
    assert there["test"]["accuracy"] == here["test"]["accuracy"]
    return there
