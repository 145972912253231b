"""The examples in the docstrings of the pure functions run and print what they show
(``cascade_propagator``, ``sigma_delta``, ``schedule``, ``bucket_kernels``, ``regrid``,
the GeNN emitter copies, the specs)."""
import doctest
import importlib

import pytest

MODULES = ["sgbrian.propagator", "sgbrian.encoding", "sgbrian.optim", "sgbrian.analysis",
           "sgbrian.samples", "sgbrian.events", "sgbrian.genn.spec", "sgbrian.specs"]


@pytest.mark.parametrize("name", MODULES)
def test_the_docstring_examples_run(name):
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0 and result.failed == 0
