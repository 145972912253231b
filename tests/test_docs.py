"""Docs that cannot drift from the code: every call of a sgbrian function written in the
README and docs/ binds to that function's signature, every file path named there exists,
and the benchmarks page is what its generator makes of the measured JSON files."""
import ast
import importlib
import inspect
import pathlib
import pkgutil
import re
import subprocess
import sys

import numpy as np
import pytest

import sgbrian

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", ROOT / "CHANGELOG.md"] + sorted((ROOT / "docs").glob("*.md"))

#: Folders whose files the scripts write (ignored by git): named in the docs as outputs.
GENERATED = ("figures/out/", "benchmarks/out/", "mutants/", ".genn/", "analyses/out/genn/")


def public_callables():
    """{name: [callables]}: every public function and class of sgbrian's modules and
    every public method of those classes (a method once, unbound)."""
    index = {}
    for info in pkgutil.walk_packages(sgbrian.__path__, "sgbrian."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if name.startswith("_") or getattr(obj, "__module__", "").split(".")[0] != "sgbrian":
                continue
            if inspect.isfunction(obj) or inspect.isclass(obj):
                index.setdefault(name, []).append(obj)
            if inspect.isclass(obj):
                for attr, member in vars(obj).items():
                    if not attr.startswith("_") and inspect.isfunction(member):
                        index.setdefault(attr, []).append(member)
    return {name: list({id(o): o for o in objs}.values()) for name, objs in index.items()}


def code_snippets(text):
    """The code of ``text``: fenced blocks and inline spans, each as one string."""
    blocks = re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S)
    prose = re.sub(r"```[a-z]*\n.*?```", "", text, flags=re.S)
    return blocks + re.findall(r"`([^`\n]+)`", prose)


def calls(snippet):
    """``(name, positional count, keywords, called on an object)`` of every call in
    ``snippet`` that parses as Python (prose in backticks that does not parse is
    skipped). A call with ``...`` among its arguments (``fit(..., client=c)``) elides
    some: its positional count is None and only its keywords are checked; ``name()``
    names a function and is skipped."""
    try:
        tree = ast.parse(snippet)
    except SyntaxError:
        return []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute)):
            name = node.func.id if isinstance(node.func, ast.Name) else node.func.attr
            if any(isinstance(a, ast.Starred) for a in node.args) or \
                    any(k.arg is None for k in node.keywords):
                continue
            if not node.args and not node.keywords:     # `run()`: a name, not a call
                continue
            elided = any(isinstance(a, ast.Constant) and a.value is Ellipsis
                         for a in node.args + [k.value for k in node.keywords])
            found.append((name, None if elided else len(node.args),
                          tuple(k.arg for k in node.keywords), isinstance(node.func, ast.Attribute)))
    return found


def binds(obj, positional, keywords, via_attribute):
    """Whether ``obj`` accepts ``positional`` arguments (None: any) and ``keywords`` (a
    method called on an instance gets its ``self``)."""
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return True
    extra = 1 if via_attribute and "." in obj.__qualname__ and inspect.isfunction(obj) \
        and next(iter(signature.parameters), None) == "self" else 0
    try:
        if positional is None:
            signature.bind_partial(**{k: None for k in keywords})
        else:
            signature.bind(*([None] * (positional + extra)), **{k: None for k in keywords})
    except TypeError:
        return False
    return True


def mismatches(text, index):
    """Calls of sgbrian names in ``text`` that no function of that name accepts."""
    out = []
    for snippet in code_snippets(text):
        for name, positional, keywords, via_attribute in calls(snippet):
            candidates = index.get(name)
            if candidates and not any(binds(c, positional, keywords, via_attribute)
                                      for c in candidates):
                out.append(f"{name}({positional} positional, keywords {list(keywords)})")
    return out


def missing_paths(text):
    """Repository paths (``dir/file.ext``, ``dir/``) named in ``text`` that do not exist."""
    out = []
    for path in re.findall(r"(?<![\w./-])((?:[\w.-]+/)+[\w.-]+\.(?:py|md|json|csv|txt|cfg|h5|ini))",
                           text):
        if path.startswith(("../", "http")) or path.startswith(GENERATED) or "*" in path:
            continue
        if not (ROOT / path).exists():
            out.append(path)
    return out


@pytest.fixture(scope="module")
def index():
    return public_callables()


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_call_written_in_the_docs_binds_to_its_signature(doc, index):
    assert mismatches(doc.read_text(), index) == []


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_path_named_in_the_docs_exists(doc):
    assert missing_paths(doc.read_text()) == []


def test_the_checks_find_what_they_must(index):
    """Drift planted by hand is found: an unknown keyword, too many positional
    arguments, a missing file; calls of other libraries and valid calls pass."""
    planted = ("```python\nnet = sgbrian.feedforward([2, 8, 1], K=6, colour='red')\n```\n"
               "and `sgbrian.cascade_propagator(1, 2, 3, 4, 5, 6, 7)` and "
               "`np.zeros(3, nonsense=1)` and `connect(pre, post, w, delay=0.1 * ms)` and "
               "`fit(..., client=c)` and `feedforward(..., colour=1)` and `run()`")
    assert mismatches(planted, index) == [
        "feedforward(1 positional, keywords ['K', 'colour'])",
        "cascade_propagator(7 positional, keywords [])",
        "feedforward(None positional, keywords ['colour'])"]
    assert missing_paths("see `sgbrian/nonexistent.py` and sgbrian/network.py, "
                         "figures/out/x.png") == ["sgbrian/nonexistent.py"]


def test_the_benchmarks_page_is_generated_from_the_measured_files(tmp_path):
    """docs/benchmarks.md is exactly what benchmarks/make_page.py writes from
    benchmarks/out/*.json and benchmarks/recorded.md."""
    out = tmp_path / "benchmarks.md"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "make_page.py"), "--out", str(out)],
                   check=True, capture_output=True)
    assert out.read_text() == (ROOT / "docs" / "benchmarks.md").read_text()


@pytest.mark.skipif(not (ROOT.parent / "shared" / "MODEL.md").exists(),
                    reason="no ../shared/MODEL.md beside this clone: nothing to compare with")
def test_the_spec_page_is_the_projects_spec():
    """docs/spec.md is ../shared/MODEL.md with a note of four lines after its title."""
    spec = (ROOT.parent / "shared" / "MODEL.md").read_text().splitlines()
    page = (ROOT / "docs" / "spec.md").read_text().splitlines()
    assert page[0] == spec[0] and page[5:] == spec[1:]


def test_the_readmes_first_example_runs_as_written():
    """The README's first Python block, run as written (numpy target, 200 ms), builds and
    runs the network it describes: 8 hidden neurons whose bucket weight v_3 is 0.5."""
    block = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)[0]
    namespace = {}
    exec(compile(block, "README.md", "exec"), namespace)
    net = namespace["net"]
    assert len(net.layers[1].group) == 8 and np.all(net.layers[1].group.v_3[:] == 0.5)
    assert np.all(net.synapses[0].w[0, :] == 0.1)
    assert float(net.network.t / namespace["ms"]) == pytest.approx(200)


def test_the_reference_site_documents_every_module():
    """docs/api.rst has one ``automodule`` per module of the package (the entry points
    ``__main__`` and ``_version`` aside), so that a new module cannot be left out."""
    written = re.findall(r"^\.\. automodule:: (\S+)$", (ROOT / "docs" / "api.rst").read_text(),
                         flags=re.M)
    modules = ["sgbrian"] + [m.name for m in pkgutil.walk_packages(sgbrian.__path__, "sgbrian.")
                             if m.name.rsplit(".", 1)[-1] not in ("__main__", "_version")]
    assert sorted(written) == sorted(modules)


def test_the_gallery_shows_each_models_figure_under_the_name_its_script_saves():
    """The gallery's page of a model: title from its docstring, the figure named in its
    ``save(...)`` call when that file exists, otherwise the note that it was not run."""
    sys.path.insert(0, str(ROOT / "docs" / "_ext"))
    import model_gallery
    names = {s.stem: model_gallery.figure_name(ast.parse(s.read_text()))
             for s in (ROOT / "models").glob("*.py")}
    assert names["demo"] == "demo" and names["delay_learning"] == "model_delay"
    assert names["coincidence_detection"] == "model_itd" and names["shd"] == "model_shd"
    assert names["ssc"] == "model_ssc" and names["dvs_gesture"] == "model_dvs_gesture"
    assert model_gallery.figure_name(ast.parse("x = 1")) is None
    name, page = model_gallery.model_page(str(ROOT / "models" / "delay_learning.py"))
    assert page.startswith("delay_learning.py\n=================\n\n::\n\n    Delay learning: the "
                           "output must reproduce")
    assert "    by 7.3 ms, which is a multiple of neither dt" in page
    figure = ROOT / "figures" / "out" / "model_delay.png"
    shown = ".. image:: /../figures/out/model_delay.png" in page
    assert shown == figure.exists() and (shown or "not shown here" in page)
    assert ".. literalinclude:: /../models/delay_learning.py" in page
