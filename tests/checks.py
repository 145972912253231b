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
