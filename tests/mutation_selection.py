"""Which fast tests can see each mutant: statement-level test selection for ``make mutation``.

mutmut runs, for a mutant, every fast test that calls the mutated *function*. A mutant
changes one statement, though, and a test that never executes that statement runs exactly
as it does on the unmutated package (its execution is the same up to the first execution
of the changed statement, which never comes), so it passes and cannot kill the mutant.
Running it costs time and decides nothing. This tool writes, for every mutant mutmut will
make, the fast tests that execute its changed statement; ``tests/conftest.py`` then runs
only those (and, where there are none, records the mutant as survived without running a
test: it is counted as survived in every kill rate, never as killed).

How the two halves are found:

- *Which test executes which statement*: the fast tests of ``setup.cfg`` run once under
  coverage.py with one coverage context per test (its setup, call and teardown), with
  Brian2's memo caches and sgbrian's compiled caches emptied before every test, so each
  test's lines are those it executes from cold caches (a mutant's tests run from cold
  caches too; see ``tests/conftest.py``). A statement is all the lines of a multi-line
  statement (coverage.py's parser).
- *Which statement a mutant changes*: mutmut's own generator (``mutate_file_contents``,
  the call ``mutmut run`` makes, so the names match) writes every variant of a function;
  the changed lines are the difference between the variant and the unmutated copy, placed
  on the original file by the function's ``def`` line.

Left to mutmut's function-level choice (the mutant is not in the file): a change in a
function's signature or decorators (a default value is used by every call that omits it,
wherever the call is), a statement executed outside any test (at import or collection),
and any function whose variant cannot be aligned with the source. Fast tests must run
sgbrian in their own process (the ones that start a subprocess are marked ``training``).

Usage: ``python tests/mutation_selection.py OUT.json`` (from the repository root).
"""
import ast
import configparser
import difflib
import fnmatch
import json
import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUTSIDE_TESTS = ""          # coverage.py's context for lines run outside any test


def mutmut_settings():
    """(test selection arguments, source files to mutate) as ``setup.cfg`` gives them."""
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    section = cfg["mutmut"]
    args = [a.strip() for a in section["pytest_add_cli_args_test_selection"].splitlines()
            if a.strip()]
    skip = [p.strip() for p in section.get("do_not_mutate", "").splitlines() if p.strip()]
    sources = []
    for folder in (p.strip() for p in section["source_paths"].splitlines() if p.strip()):
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if not any(fnmatch.fnmatch(relative, pattern) for pattern in skip):
                sources.append(relative)
    return args, sources


class PerTestContexts:
    """pytest plugin: a coverage context per test, from cold caches.

    Sets ``MUTANT_UNDER_TEST`` to a name of its own before each test, so that the
    conftest's fixture empties the caches as it does for a new mutant."""

    def __init__(self, cov):
        self.cov = cov

    def pytest_runtest_protocol(self, item, nextitem):
        os.environ["MUTANT_UNDER_TEST"] = "selection-coverage:" + item.nodeid
        self.cov.switch_context(item.nodeid)

    def pytest_runtest_logfinish(self, nodeid, location):
        self.cov.switch_context(OUTSIDE_TESTS)


def contexts_by_line(selection, sources):
    """{file: {line: test ids that executed it}}, by running the fast tests."""
    import coverage
    import pytest
    cov = coverage.Coverage(data_file=None, source=["sgbrian"])
    cov.start()
    try:
        code = pytest.main(["-q", "-p", "no:cacheprovider", "--rootdir", str(ROOT),
                            *selection], plugins=[PerTestContexts(cov)])
    finally:
        cov.stop()
        os.environ.pop("MUTANT_UNDER_TEST", None)
    if code != 0:
        raise SystemExit(f"the fast tests failed (pytest exit {code}); no selection written")
    data = cov.get_data()
    return {source: data.contexts_by_lineno(str(ROOT / source)) for source in sources}


def function_nodes(source_text):
    """{mutmut's mangled name without the ``x``/suffix: FunctionDef} for top-level
    functions (``name``) and methods (``ǁClassǁname``)."""
    tree = ast.parse(source_text)
    nodes = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            nodes["_" + node.name] = node
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    nodes[f"ǁ{node.name}ǁ{item.name}"] = item
    return nodes


def from_def_line(block):
    """The lines of a function's copy from its ``def`` line on (mutmut's spans start with
    the blank lines before it)."""
    for index, line in enumerate(block):
        if line.lstrip().startswith(("def ", "async def ")):
            return block[index:]
    return block


def changed_lines(original, variant):
    """Indices (0 = the ``def`` line) of the lines of ``original`` that ``variant``
    replaces or deletes, or next to which it inserts."""
    changed = set()
    opcodes = difflib.SequenceMatcher(None, original, variant, autojunk=False).get_opcodes()
    for tag, i1, i2, _, _ in opcodes:
        if tag == "equal":
            continue
        changed.update(range(i1, i2) if i2 > i1 else {max(i1 - 1, 0), min(i1, len(original) - 1)})
    return changed


def statement_contexts(parser, contexts_by_line):
    """{first line of a statement: test ids that executed any of its lines}."""
    by_statement = {}
    for line, contexts in contexts_by_line.items():
        by_statement.setdefault(parser.multiline_map.get(line, line), set()).update(contexts)
    return by_statement


def tests_by_mutant(source, text, by_statement, parser):
    """{mutmut key: sorted test ids that execute the changed statement} for the file
    ``source`` (relative path) holding ``text``; ``parser``: coverage.py's parsed file.

    Mutants left to mutmut's own selection are absent (see the module docstring)."""
    from mutmut.mutation.file_mutation import mutate_file_contents
    from mutmut.utils.format_utils import get_mutant_name
    lines = text.splitlines()
    mutated = mutate_file_contents(source, text, None, set())
    code = mutated.code.splitlines()
    spans = mutated.line_span_by_function_name
    nodes = function_nodes(text)
    first_line, statements = parser.multiline_map, parser.statements
    selection = {}
    for name in mutated.mutant_names:
        function, number = name.rsplit("__mutmut_", 1)
        node = nodes.get(function[1:])
        orig_span, span = spans.get(function + "__mutmut_orig"), spans.get(name)
        if node is None or orig_span is None or span is None:
            continue
        orig = from_def_line(code[orig_span.start - 1:orig_span.end])
        variant = from_def_line(code[span.start - 1:span.end])
        variant[0] = variant[0].replace(f"__mutmut_{number}(", "__mutmut_orig(", 1)
        if orig[1:] != lines[node.lineno:node.lineno - 1 + len(orig)]:
            continue                        # the copy does not line up with the source
        body_start = node.body[0].lineno
        tests, decided = set(), True
        for index in changed_lines(orig, variant):
            line = node.lineno + index
            statement = first_line.get(line, line)
            if line < body_start or statement not in statements:
                decided = False             # the signature, or not a statement of the body
                break
            contexts = by_statement.get(statement, set())
            if OUTSIDE_TESTS in contexts:
                decided = False
                break
            tests |= contexts
        if decided:
            selection[get_mutant_name(pathlib.Path(source), name)] = sorted(tests)
    return selection


def write_selection(out):
    """Run the fast tests under coverage and write the selection file ``out``:
    ``{"tests": [ids], "sets": [[indices]], "mutants": {key: set index}}``."""
    from coverage.python import PythonParser
    selection, sources = mutmut_settings()
    covered = contexts_by_line(selection, sources)
    test_index, set_index, mutants = {}, {}, {}
    for source in sources:
        text = (ROOT / source).read_text()
        parser = PythonParser(text=text)
        parser.parse_source()
        by_statement = statement_contexts(parser, covered[source])
        for key, ids in tests_by_mutant(source, text, by_statement, parser).items():
            indices = tuple(test_index.setdefault(t, len(test_index)) for t in ids)
            mutants[key] = set_index.setdefault(indices, len(set_index))
    tests = sorted(test_index, key=test_index.get)
    sets = [list(indices) for indices in sorted(set_index, key=set_index.get)]
    pathlib.Path(out).parent.mkdir(parents=True, exist_ok=True)
    pathlib.Path(out).write_text(json.dumps({"tests": tests, "sets": sets, "mutants": mutants}))
    unexecuted = sum(1 for i in mutants.values() if not sets[i])
    print(f"mutation selection: {len(mutants)} mutants placed on a statement "
          f"({unexecuted} on one no fast test executes), {len(tests)} tests, {len(sets)} "
          f"distinct test sets -> {out}")


def load_selection(path):
    """{mutmut key: frozenset of test ids} from a file written by ``write_selection``."""
    data = json.loads(pathlib.Path(path).read_text())
    sets = [frozenset(data["tests"][i] for i in indices) for indices in data["sets"]]
    return {key: sets[i] for key, i in data["mutants"].items()}


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__.rsplit("Usage: ", 1)[1])
    os.chdir(ROOT)
    write_selection(sys.argv[1])
