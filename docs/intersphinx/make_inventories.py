"""Write docs/intersphinx/brian2.inv and numpy.inv: Sphinx inventories of the installed
Brian2 (2.5.4) and numpy (1.26) for the docs build when their sites cannot be reached.

``make docs`` reads the inventories from https://brian2.readthedocs.io/en/2.5.4/ and
https://numpy.org/doc/1.26/ first (``docs/conf.py``); this machine and CI have no
internet, so the build falls back to these files. They hold every public class and
function the two packages export at top level, each under the address its site gives
it: Brian2 documents ``module.Name`` on ``reference/module.Name.html`` (its
``generate_reference``), numpy on ``reference/generated/numpy.name.html``. Brian2's
names are also listed under their short form (``brian2.NeuronGroup``); numpy's glossary
term ``array_like`` is listed too.

Run: ``python docs/intersphinx/make_inventories.py`` (after changing those versions).
"""
import inspect
import os
import zlib

import brian2
import numpy

HERE = os.path.dirname(os.path.abspath(__file__))


def role(obj):
    """The Sphinx role of a class or function (None for anything else)."""
    if inspect.isclass(obj):
        return "py:class"
    if inspect.isfunction(obj) or inspect.isbuiltin(obj) or isinstance(obj, numpy.ufunc):
        return "py:function"
    return None


def brian2_entries():
    """(name, role, uri) of Brian2's top-level classes and functions."""
    for short in sorted(dir(brian2)):
        obj = getattr(brian2, short)
        module = getattr(obj, "__module__", None) or ""
        if short.startswith("_") or role(obj) is None or not module.startswith("brian2"):
            continue
        full = f"{module}.{obj.__qualname__}"
        for name in dict.fromkeys([full, f"brian2.{short}"]):
            yield name, role(obj), f"reference/{full}.html#{full}"


def numpy_entries():
    """(name, role, uri) of numpy's top-level classes and functions, and the glossary's
    ``array_like`` (numpydoc links that type to it)."""
    yield "array_like", "std:term", "glossary.html#term-array_like"
    for short in sorted(dir(numpy)):
        obj = getattr(numpy, short)
        if short.startswith("_") or role(obj) is None:
            continue
        name = f"numpy.{short}"
        yield name, role(obj), f"reference/generated/{name}.html#{name}"


def write(path, project, version, entries):
    """An inventory in Sphinx's version-2 format (header, then zlib-compressed lines)."""
    header = (f"# Sphinx inventory version 2\n# Project: {project}\n# Version: {version}\n"
              "# The remainder of this file is compressed using zlib.\n")
    lines = "".join(f"{name} {kind} 1 {uri} -\n" for name, kind, uri in entries)
    with open(path, "wb") as f:
        f.write(header.encode() + zlib.compress(lines.encode()))


if __name__ == "__main__":
    write(os.path.join(HERE, "brian2.inv"), "Brian 2", brian2.__version__, brian2_entries())
    write(os.path.join(HERE, "numpy.inv"), "NumPy", numpy.__version__, numpy_entries())
