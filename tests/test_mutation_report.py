"""The tools of ``make mutation`` against results written by hand: tests/mutation_report.py
on a small, made-up mutmut run; tests/mutation_selection.py (which fast tests execute a
mutant's statement) and the conftest hook that applies it, on a small, made-up module."""
import json
import os
import types

from coverage.python import PythonParser

import conftest
from mutation_report import kill_rates, read_records, report
from mutation_selection import changed_lines, from_def_line, statement_contexts
from mutation_selection import tests_by_mutant as select_tests   # not collected as a test


def write_meta(folder, name, exit_codes, durations):
    path = folder / "sgbrian" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"exit_code_by_key": exit_codes, "hash_by_function_name": {},
                                "type_check_error_by_key": {}, "durations_by_key": durations,
                                "estimated_durations_by_key": {}}))


def test_counts_rates_and_costly_survivors(tmp_path):
    write_meta(tmp_path, "network.py.meta",
               {"sgbrian.network.x_layer__mutmut_1": 1, "sgbrian.network.x_layer__mutmut_2": 0,
                "sgbrian.network.x_layer__mutmut_3": 0, "sgbrian.network.x_wire__mutmut_1": 0,
                "sgbrian.network.x_wire__mutmut_2": 33, "sgbrian.network.x_wire__mutmut_3": -24},
               {"sgbrian.network.x_layer__mutmut_1": 0.5, "sgbrian.network.x_layer__mutmut_2": 10.0,
                "sgbrian.network.x_layer__mutmut_3": 12.0, "sgbrian.network.x_wire__mutmut_1": 30.0,
                "sgbrian.network.x_wire__mutmut_3": 99.0})
    write_meta(tmp_path, "optim.py.meta",
               {"sgbrian.optim.x_adam__mutmut_1": 3, "sgbrian.optim.x_adam__mutmut_2": -9,
                "sgbrian.optim.x_adam__mutmut_3": 5},
               {"sgbrian.optim.x_adam__mutmut_1": 1.0, "sgbrian.optim.x_adam__mutmut_2": 2.0})
    records = read_records(tmp_path)
    assert len(records) == 9
    text = report(records, top=2)
    # network: killed 1, survived 3, no tests 1, other (timeout) 1; 1 / 4 covered
    assert "| sgbrian.network | 1 | 3 | 1 | 1 | 25.0% |" in text
    # optim: exit code 3 (pytest's internal error) counts as killed, -9 (SIGKILL) as other
    assert "| sgbrian.optim | 1 | 0 | 1 | 1 | 100.0% |" in text
    # all: killed 2, survived 3, no tests 2: 2/5 and 2/7
    assert "| **all** | 2 | 3 | 2 | 2 | **40.0%** |" in text
    assert "covers: 40.0%; of every mutant run (no test counts as survived): 28.6%" in text
    assert "killed 2, survived 52, other 101" in text
    # survivors ranked by seconds: x_wire's one survivor (30 s) before x_layer's two (22 s)
    costly = text.split("cost the most (survivors, seconds):\n")[1].splitlines()
    assert costly == ["       30 s     1  sgbrian.network.x_wire",
                      "       22 s     2  sgbrian.network.x_layer"]
    # with a selection: 3 mutants placed on a statement, of the survivors x_layer 3's
    # statement runs in no fast test (x_wire 1 is left to mutmut, x_layer 2 has a test)
    selection = {"sgbrian.network.x_layer__mutmut_2": frozenset({"t"}),
                 "sgbrian.network.x_layer__mutmut_3": frozenset(),
                 "sgbrian.optim.x_adam__mutmut_1": frozenset()}
    assert ("tests chosen per changed statement for 3 of 9 mutants; 1 survivors change a "
            "statement no fast test executes") in report(records, top=2, selection=selection)
    assert "tests chosen" not in text


def test_kill_rates_of_an_empty_run_are_zero():
    assert kill_rates({"killed": 0, "survived": 0, "no tests": 0}) == (0.0, 0.0)


def test_changed_lines_are_the_replaced_deleted_or_neighbouring_lines_of_the_original():
    original = ["def f(x):", "    a = 1", "    b = 2", "    return a + b"]
    assert changed_lines(original, original) == set()
    assert changed_lines(original, ["def f(x):", "    a = 1", "    b = 3", "    return a + b"]) == {2}
    assert changed_lines(original, ["def f(x):", "    a = 1", "    return a + b"]) == {2}
    # an inserted line marks the lines on both sides of it
    assert changed_lines(original, original[:2] + ["    c = 0"] + original[2:]) == {1, 2}
    assert from_def_line(["", "", "def f(x):", "    return x"]) == ["def f(x):", "    return x"]


MODULE = """\
def scale(x, factor=2):
    y = x * factor
    if y > 10:
        return y - 10
    return (y +
            1)


class Box:
    def size(self):
        return self.n + 1
"""


def test_each_mutant_gets_the_tests_that_execute_its_statement():
    """mutmut's 9 mutants of scale() and 2 of Box.size(), with made-up coverage: test A and
    B run lines 2-3, A line 5 and B line 6 (one two-line statement), nobody line 4, and
    line 11 runs outside any test (as at import)."""
    parser = PythonParser(text=MODULE)
    parser.parse_source()
    by_statement = statement_contexts(parser, {1: {""}, 2: {"A", "B"}, 3: {"A", "B"},
                                               5: {"A"}, 6: {"B"}, 11: {"", "C"}})
    selection = select_tests("pkg/mod.py", MODULE, by_statement, parser)
    key = "pkg.mod.x_scale__mutmut_{}".format
    assert selection == {
        key(2): ["A", "B"], key(3): ["A", "B"],         # y = None; x / factor
        key(4): ["A", "B"], key(5): ["A", "B"],         # y >= 10; y > 11
        key(6): [], key(7): [],                         # y + 10; y - 11: line 4 never runs
        key(8): ["A", "B"], key(9): ["A", "B"],         # y - 1 and 2 in lines 5-6
    }
    # left to mutmut: mutant 1 (the default factor=3, used wherever a call omits it) and
    # Box.size's two (line 11 also runs outside any test)
    assert key(1) not in selection and not any("Box" in k for k in selection)


class FakeItem:
    def __init__(self, nodeid):
        self.nodeid, self.markers = nodeid, []

    def add_marker(self, marker):
        self.markers.append(marker)


def run_hook(monkeypatch, mutant, selection, ids):
    deselected = []
    config = types.SimpleNamespace(hook=types.SimpleNamespace(
        pytest_deselected=lambda items: deselected.extend(i.nodeid for i in items)))
    monkeypatch.setattr(conftest, "MUTATION_SELECTION", selection)
    monkeypatch.setitem(os.environ, "MUTANT_UNDER_TEST", mutant)
    items = [FakeItem(i) for i in ids]
    conftest.pytest_collection_modifyitems(config, items)
    return items, deselected


def test_the_hook_runs_a_mutants_executing_tests_and_skips_one_when_none_does(monkeypatch):
    selection = {"m.x_f__mutmut_1": frozenset({"t2", "t3"}), "m.x_f__mutmut_2": frozenset()}
    items, deselected = run_hook(monkeypatch, "m.x_f__mutmut_1", selection, ["t1", "t2", "t3"])
    assert [i.nodeid for i in items] == ["t2", "t3"] and deselected == ["t1"]
    assert not any(i.markers for i in items)
    items, deselected = run_hook(monkeypatch, "m.x_f__mutmut_2", selection, ["t1", "t2"])
    assert [i.nodeid for i in items] == ["t1"] and deselected == ["t2"]
    assert [m.name for m in items[0].markers] == ["skip"]
    assert "survived" in items[0].markers[0].kwargs["reason"]
    # a mutant the file leaves to mutmut, and runs without a selection file, are untouched
    for mutant, chosen in (("m.x_g__mutmut_1", selection), ("m.x_f__mutmut_1", None)):
        items, deselected = run_hook(monkeypatch, mutant, chosen, ["t1", "t2"])
        assert [i.nodeid for i in items] == ["t1", "t2"] and deselected == []
