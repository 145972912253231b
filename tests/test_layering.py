"""The package's architecture as a contract: layers without cycles, imports at the top of
modules, modules of at most 400 lines. Read from the source with ``ast`` (nothing is
imported), so a violation fails here whatever the import order at run time."""
import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "sgbrian"

#: Lowest layer first. A module may import modules of its own layer or of lower ones,
#: never of a higher one. Within a layer the imports must not form a cycle.
LAYERS = [
    # pure helpers: arguments, numbers, kernels
    {"_version", "validation", "kernels", "history", "signals", "targets", "optim",
     "losses", "metrics", "parallel", "specs", "nonlinearities",
     "samples", "events", "standins", "penalties"},
    # the model in Brian2: equations, encoder, propagator
    {"equations", "encoding", "propagator"},
    # layers and connections, whole networks, data
    {"layers"},
    {"network"},
    {"sgnetwork"},
    {"builder", "datasets"},
    {"event_tasks"},
    # the GeNN export: the spec as data, its Brian2 objects, brian2genn in a process
    {"genn.spec"}, {"genn.objects"}, {"genn.build"}, {"genn", "genn.__main__"},
    # learning: gradient methods, then training loops over them
    {"data_parallel"},
    {"training"},
    {"learning", "learning.binding", "learning.engine", "learning.buffers",
     "learning.cascades", "learning.exact",
     "learning.memory", "learning.online", "learning.adjoint", "learning.adjoint_data",
     "learning.adjoint_kernels",
     "learning.methods", "learning.learner"},
    # tasks, experiments, analyses built on all of the above
    {"tasks"},
    {"catalog"},
    {"analysis"},
    {"experiments"},
    {"dt_statistics"},
    {"precision"},
    {"comparison"},
    {"baselines"},
    {"tradeoff"},
    {"bptt"},
    # front ends
    {"plotting", "cli", "__init__", "dataset_runs"},
]
LAYER_OF = {name: level for level, names in enumerate(LAYERS) for name in names}
MAX_LINES = 400


def module_name(path):
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def resolve(module, node):
    """The package modules an import statement of ``module`` names (relative or absolute),
    as names relative to the package: ``from ..network import x`` in ``learning.binding``
    is ``network``; ``from . import tasks`` in ``experiments`` is ``tasks``."""
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
        return [n[len("sgbrian."):] if n != "sgbrian" else "__init__"
                for n in names if n == "sgbrian" or n.startswith("sgbrian.")]
    is_package = MODULES.get(module, PACKAGE).name == "__init__.py"
    if node.level == 0:
        if node.module is None or not (node.module + ".").startswith("sgbrian."):
            return []
        base = node.module[len("sgbrian."):].split(".") if node.module != "sgbrian" else []
    else:
        parts = module.split(".") if module != "__init__" else []
        keep = len(parts) - node.level + (1 if is_package else 0)
        base = parts[:keep] + (node.module.split(".") if node.module else [])
    found = []
    for alias in node.names:
        candidate = ".".join(base + [alias.name])
        if candidate in MODULES:            # from . import tasks
            found.append(candidate)
        else:
            found.append(".".join(base) or "__init__")
    return found


def imports(module, source=None):
    """[(imported module, line, inside a function or class)] of ``module`` (its file, or
    ``source`` in its place)."""
    tree = ast.parse(MODULES[module].read_text() if source is None else source)
    out = []

    def visit(node, nested):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                out.extend((name, child.lineno, nested) for name in resolve(module, child))
            visit(child, nested or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                      ast.ClassDef)))
    visit(tree, False)
    return [(name, line, nested) for name, line, nested in out if name != module]


def test_every_module_has_a_layer():
    assert sorted(set(MODULES) - set(LAYER_OF)) == []


def violations(module, source=None):
    """What ``module`` (or ``source`` in its place) breaks of the contract, one message each."""
    found = []
    for name, line, nested in imports(module, source):
        if name not in MODULES:
            found.append(f"{module}:{line} imports {name}, not a module of sgbrian")
        elif nested:
            found.append(f"{module}:{line} imports {name} inside a function or class: "
                         "import at the top of the module (a lower layer) instead")
        elif LAYER_OF[name] > LAYER_OF[module]:
            found.append(f"{module}:{line} imports {name}, a higher layer "
                         f"({LAYER_OF[name]} > {LAYER_OF[module]})")
    return found


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_only_from_its_own_or_lower_layers_at_the_top(module):
    assert violations(module) == []


def find_cycle(graph):
    """One import cycle of ``graph`` ({module: imported modules}) as a list, or None."""
    state = {}

    def visit(m, stack):
        state[m] = "open"
        for n in sorted(graph.get(m, ())):
            if state.get(n) == "open":
                return stack[stack.index(n):] + [n]
            if n not in state:
                cycle = visit(n, stack + [n])
                if cycle:
                    return cycle
        state[m] = "done"
        return None
    for m in sorted(graph):
        if m not in state:
            cycle = visit(m, [m])
            if cycle:
                return cycle
    return None


def test_no_import_cycles():
    assert find_cycle({m: {name for name, _, _ in imports(m)} for m in MODULES}) is None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_at_most_400_lines(module):
    lines = len(MODULES[module].read_text().splitlines())
    assert lines <= MAX_LINES, f"{module}: {lines} lines (at most {MAX_LINES}: split by concern)"


def test_the_checker_sees_what_it_must():
    """The resolver on statements written by hand: relative, absolute, package-level."""
    def names(module, text):
        return resolve(module, ast.parse(text).body[0])
    assert names("learning.binding", "from ..network import layer_taus") == ["network"]
    assert names("learning.binding", "from .cascades import X") == ["learning.cascades"]
    assert names("learning", "from .learner import X") == ["learning.learner"]
    assert names("learning", "from ..network import X") == ["network"]
    assert names("experiments", "from . import tasks") == ["tasks"]
    assert names("training", "import sgbrian") == ["__init__"]
    assert names("training", "from sgbrian.metrics import Metrics") == ["metrics"]
    assert names("training", "import numpy") == []


def test_the_contract_fails_on_planted_violations():
    """Each kind of violation, planted in a module's place, is found and named."""
    assert violations("network", "from .learning import OnlineLearner\n") == [
        f"network:1 imports learning, a higher layer ({LAYER_OF['learning']} > {LAYER_OF['network']})"]
    assert violations("experiments", "def f():\n    from .analysis import class_tuning\n") == [
        "experiments:2 imports analysis inside a function or class: import at the top of "
        "the module (a lower layer) instead"]
    assert violations("training", "import sgbrian.nonexistent\n") == [
        "training:1 imports nonexistent, not a module of sgbrian"]
    assert violations("experiments", "from .analysis import class_tuning\n") == []
