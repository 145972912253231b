import functools
import gc
import os

import brian2
import numpy as np
import pytest
from brian2 import defaultclock, ms, prefs


def pytest_configure(config):
    config.addinivalue_line("markers", "genn: needs brian2genn (code generation)")
    config.addinivalue_line("markers", "slow: long-running; not part of the default run")
    config.addinivalue_line("markers", "training: trains a network or takes finite differences "
                                       "for seconds (in the default run; left out of make mutation)")


@functools.lru_cache(maxsize=None)
def _brian_memo_caches():
    """The dicts in which Brian2's ``@cached`` functions (state updaters, statement and
    expression parsing, code translation) keep their results within a process."""
    from brian2.utils import caching
    return tuple(f._cache for f in gc.get_objects()
                 if callable(f) and isinstance(getattr(f, "_cache", None), dict)
                 and isinstance(getattr(f, "_cache_statistics", None), caching._CacheStatistics))


@pytest.fixture(autouse=True)
def fresh_brian():
    """Every test starts from Brian2's defaults: numpy target, dt = 0.1 ms.

    Under ``make mutation`` (mutmut sets MUTANT_UNDER_TEST) also with Brian2's memo
    caches empty: mutmut forks each mutant's tests from a process that has already run
    them, so state-updater code cached from the unmutated package would otherwise hide
    mutants of code that Brian2 calls (the gamma_cascade state updater, the payload
    history's functions)."""
    if "MUTANT_UNDER_TEST" in os.environ:
        for cache in _brian_memo_caches():
            cache.clear()
    brian2.start_scope()
    prefs.codegen.target = "numpy"
    defaultclock.dt = 0.1 * ms
    yield
    defaultclock.dt = 0.1 * ms


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
