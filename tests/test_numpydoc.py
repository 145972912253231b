"""Reference docstrings: every public function, class and method of every module has
numpydoc sections that agree with its signature (numpydoc's own validator: each
parameter documented and none unknown, a Returns section where the function returns
something, sections in numpydoc's form)."""
import importlib
import inspect
import pkgutil

import pytest

import sgbrian

validate = pytest.importorskip("numpydoc.validate", reason="numpydoc is in the test and docs "
                               "extras: pip install -e '.[test]'").validate

#: Every module of the package (the entry point ``__main__`` aside).
CHECKED_MODULES = ["sgbrian"] + [m.name for m in pkgutil.walk_packages(sgbrian.__path__, "sgbrian.")
                                 if not m.name.endswith("__main__")]
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
    found = {name: problems(name) for name in names}
    assert {name: p for name, p in found.items() if p} == {}


def test_the_check_finds_a_missing_parameter_and_returns_section(tmp_path, monkeypatch):
    """A function written by hand with an undocumented parameter and return value."""
    (tmp_path / "numpydoc_probe.py").write_text(
        'def f(a, b):\n    """Add.\n\n    Parameters\n    ----------\n    a : int\n'
        '        The first.\n    """\n    return a + b\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    assert [p.split()[0] for p in problems("numpydoc_probe.f")] == ["PR01", "RT01"]
