import functools
import gc
import os

import brian2
import numpy as np
import pytest
from brian2 import defaultclock, ms, prefs

from sgbrian.nonlinearities import compiled_expression
from sgbrian.kernels import trace_kernel
from sgbrian.learning.adjoint_kernels import kernels as adjoint_kernels


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


_caches_emptied_for = None


def _empty_brian_caches_once_per_mutant():
    """Empty Brian2's memo caches the first time a test runs under a new mutant.

    mutmut forks one process per mutant, and every test in it sees the same mutated
    package, so what the caches gain (Brian2's, and sgbrian's compiled
    nonlinearities and kernels) after the first test is built from that mutant
    and may be kept for its other tests. The compiled kernels (the adjoint rule's
    generated Cython module, the numba trace kernel) are memoized per process: filled in
    mutmut's parent while it collects its statistics, they hid every mutant of the
    code that generates them (the 196 mutants of ``adjoint_kernels`` all survived a run
    of 2026-12-07 for that reason)."""
    global _caches_emptied_for
    mutant = os.environ.get("MUTANT_UNDER_TEST")
    if mutant is not None and mutant != _caches_emptied_for:
        for cache in _brian_memo_caches():
            cache.clear()
        for memoized in (compiled_expression, adjoint_kernels, trace_kernel):
            getattr(memoized, "cache_clear", lambda: None)()
        _caches_emptied_for = mutant


def _mutation_selection():
    """{mutant: ids of the fast tests that execute its changed statement}, from the file
    ``make mutation`` writes with ``tests/mutation_selection.py`` and names in
    SGBRIAN_MUTATION_SELECTION; None outside it. Read once, in mutmut's parent process
    (its warm-up collection), so that the forked runs of the mutants share it."""
    path = os.environ.get("SGBRIAN_MUTATION_SELECTION")
    if not path:
        return None
    from mutation_selection import load_selection
    return load_selection(path)


MUTATION_SELECTION = _mutation_selection()


#: The files whose tests take longest, longest first (``make test``, 2026-12-07: figures
#: 412 s, GeNN export 330 s, GeNN build 355 s before its unity build, learning 221 s,
#: targets 125 s, tasks 93 s; every other file under 50 s). ``make test`` runs files
#: whole in one process each (``--dist loadfile``) in collection order
#: (``--no-loadscope-reorder``; xdist's own order puts files with most tests first, and
#: the one-test GeNN build last): the long files start at once and the short ones fill
#: in behind them.
LONGEST_FILES_FIRST = ["test_figures.py", "test_genn.py", "test_genn_build.py",
                       "test_learning.py", "test_targets.py", "test_tasks.py"]


def _file_rank(item):
    name = os.path.basename(item.nodeid.split("::")[0])
    return LONGEST_FILES_FIRST.index(name) if name in LONGEST_FILES_FIRST else len(LONGEST_FILES_FIRST)


def pytest_collection_modifyitems(config, items):
    """The longest files first (a stable sort: the order within a file is kept); then,
    under ``make mutation``: of the tests mutmut gives for a mutant (those that call the
    mutated function), run those that execute the changed statement; the others run as on
    the unmutated package and cannot kill it. Where none does, one test is reported skipped
    and the run passes: the mutant is recorded as survived."""
    items.sort(key=_file_rank)
    mutant = os.environ.get("MUTANT_UNDER_TEST")
    if MUTATION_SELECTION is None or mutant not in MUTATION_SELECTION:
        return
    executing = MUTATION_SELECTION[mutant]
    keep = [item for item in items if item.nodeid in executing]
    if not keep and items:
        keep = items[:1]
        keep[0].add_marker(pytest.mark.skip(
            reason=f"no fast test executes the statement {mutant} changes: survived"))
    kept = {id(item) for item in keep}
    dropped = [item for item in items if id(item) not in kept]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


@pytest.fixture(autouse=True)
def fresh_brian():
    """Every test starts from Brian2's defaults: numpy target, dt = 0.1 ms.

    Under ``make mutation`` (mutmut sets MUTANT_UNDER_TEST) also with Brian2's memo
    caches emptied once per mutant: mutmut forks each mutant's tests from a process that has already run
    them, so state-updater code cached from the unmutated package would otherwise hide
    mutants of code that Brian2 calls (the gamma_cascade state updater, the payload
    history's functions)."""
    _empty_brian_caches_once_per_mutant()
    brian2.start_scope()
    prefs.codegen.target = "numpy"
    defaultclock.dt = 0.1 * ms
    yield
    defaultclock.dt = 0.1 * ms


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
