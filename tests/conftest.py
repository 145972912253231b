import brian2
import numpy as np
import pytest
from brian2 import defaultclock, ms, prefs


def pytest_configure(config):
    config.addinivalue_line("markers", "genn: needs brian2genn (code generation)")
    config.addinivalue_line("markers", "slow: long-running; not part of the default run")
    config.addinivalue_line("markers", "training: trains a network or takes finite differences "
                                       "for seconds (in the default run; left out of make mutation)")


@pytest.fixture(autouse=True)
def fresh_brian():
    """Every test starts from Brian2's defaults: numpy target, dt = 0.1 ms."""
    brian2.start_scope()
    prefs.codegen.target = "numpy"
    defaultclock.dt = 0.1 * ms
    yield
    defaultclock.dt = 0.1 * ms


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
