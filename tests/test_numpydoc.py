"""Reference docstrings: every public function, class and method of the modules a Brian2
user builds models with has numpydoc sections that agree with its signature (numpydoc's
own validator: each parameter documented and none unknown, a Returns section where the
function returns something, sections in numpydoc's form). The other modules are counted
in docs/testing.md until they are converted and listed here."""
import importlib
import inspect

import pytest

validate = pytest.importorskip("numpydoc.validate", reason="numpydoc is in the test and docs "
                               "extras: pip install -e '.[test]'").validate

#: Modules whose public definitions must pass (the model and building networks).
CHECKED_MODULES = ["sgbrian.specs", "sgbrian.nonlinearities", "sgbrian.equations",
                   "sgbrian.encoding", "sgbrian.propagator", "sgbrian.layers", "sgbrian.network",
                   "sgbrian.sgnetwork", "sgbrian.builder"]
#: numpydoc's checks that apply: parameters missing (PR01), unknown (PR02), without a
#: type (PR04) or a description (PR07), descriptions not sentences (PR08, PR09); no
#: Returns section (RT01), its form (RT02, RT03); no docstring (GL08).
CODES = {"PR01", "PR02", "PR04", "PR07", "PR08", "PR09", "RT01", "RT02", "RT03", "GL08"}


def public_definitions(module_name):
    """Qualified names of a module's own public functions, classes and methods."""
    module = importlib.import_module(module_name)
    for name, obj in vars(module).items():
        if name.startswith("_") or getattr(obj, "__module__", None) != module_name:
            continue
        if inspect.isfunction(obj) or inspect.isclass(obj):
            yield f"{module_name}.{name}"
        if inspect.isclass(obj):
            yield from (f"{module_name}.{name}.{attr}" for attr, member in vars(obj).items()
                        if not attr.startswith("_") and inspect.isfunction(member))


def problems(qualified_name):
    return [f"{code} {message}" for code, message in validate(qualified_name)["errors"]
            if code in CODES]


@pytest.mark.parametrize("module_name", CHECKED_MODULES)
def test_public_definitions_have_numpydoc_sections(module_name):
    names = list(public_definitions(module_name))
    assert names
    found = {name: problems(name) for name in names}
    assert {name: p for name, p in found.items() if p} == {}


def test_the_check_finds_a_missing_parameter_and_returns_section(tmp_path, monkeypatch):
    """A function written by hand with an undocumented parameter and return value."""
    (tmp_path / "numpydoc_probe.py").write_text(
        'def f(a, b):\n    """Add.\n\n    Parameters\n    ----------\n    a : int\n'
        '        The first.\n    """\n    return a + b\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    assert [p.split()[0] for p in problems("numpydoc_probe.f")] == ["PR01", "RT01"]
