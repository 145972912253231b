"""Summary of a mutmut run (``make mutation``): kill rates per module and where the time went.

Reads mutmut's per-file records (``mutants/**/*.meta``: an exit code and a duration per
mutant) and prints

- per module: killed, survived, no fast test, other (a timeout, a process killed by a signal
  (mutmut's "segfault": its CPU-time limit ends in SIGKILL), not run), and the kill rate of
  the mutants a test covers, ``killed / (killed + survived)``: "other" counts in neither,
  so a mutant that only hangs is not credited as killed;
- the two totals of docs/testing.md: of the covered mutants, and of every mutant run
  (a mutant no test reaches counts as survived);
- the seconds spent per outcome, and the functions whose surviving mutants cost the most
  (a survivor runs every fast test that covers its function; a killed mutant stops at the
  first failing test), which is where a new test or a cheaper covering test saves time.

With the run's ``selection.json`` (``tests/mutation_selection.py``) beside the records, it
also says for how many mutants the tests were chosen per changed statement, and how many
survivors change a statement that no fast test executes (they count as survived).

Usage: ``python tests/mutation_report.py [mutants] [--top N]``.
"""
import argparse
import collections
import json
import pathlib

KILLED = {1, 3}      # a failing test, or pytest's internal error (mutmut's table)
SURVIVED = {0}
NO_TESTS = {5, 33}


def outcome(exit_code):
    """'killed', 'survived', 'no tests' or 'other' for one of mutmut's exit codes."""
    if exit_code in KILLED:
        return "killed"
    if exit_code in SURVIVED:
        return "survived"
    if exit_code in NO_TESTS:
        return "no tests"
    return "other"


def read_records(folder):
    """(mutant key, outcome, seconds) of every mutant recorded under ``folder``."""
    records = []
    for meta in sorted(pathlib.Path(folder).rglob("*.meta")):
        data = json.loads(meta.read_text())
        durations = data.get("durations_by_key", {})
        for key, code in data["exit_code_by_key"].items():
            records.append((key, outcome(code), float(durations.get(key, 0.0))))
    return records


def module_of(key):
    """'sgbrian.network' for the key 'sgbrian.network.x_neuron_layer__mutmut_3'."""
    return key.rsplit("__mutmut_", 1)[0].rsplit(".", 1)[0]


def function_of(key):
    """'sgbrian.network.x_neuron_layer' for the key 'sgbrian.network.x_neuron_layer__mutmut_3'."""
    return key.rsplit("__mutmut_", 1)[0]


def kill_rates(counts):
    """(killed / covered, killed / every mutant run) in percent; 'other' counts in neither."""
    killed, survived, untested = counts["killed"], counts["survived"], counts["no tests"]
    covered = 100.0 * killed / max(1, killed + survived)
    every = 100.0 * killed / max(1, killed + survived + untested)
    return covered, every


def selection_counts(records, selection):
    """(mutants run on the tests that execute their statement, survivors that no fast test
    executes: recorded as survived without running one) for a selection of
    ``tests/mutation_selection.py`` ({mutant key: test ids})."""
    placed = sum(1 for key, _, _ in records if key in selection)
    unexecuted = sum(1 for key, result, _ in records
                     if result == "survived" and key in selection and not selection[key])
    return placed, unexecuted


def report(records, top=15, selection=None):
    """The text of the report for ``records`` (see the module's docstring); with
    ``selection`` (the statement-level test choice of the run), also how many mutants it
    placed and how many survivors no fast test executes."""
    per_module = collections.defaultdict(collections.Counter)
    seconds = collections.Counter()
    survivor_cost = collections.defaultdict(lambda: [0, 0.0])
    for key, result, duration in records:
        per_module[module_of(key)][result] += 1
        seconds[result] += duration
        if result == "survived":
            survivor_cost[function_of(key)][0] += 1
            survivor_cost[function_of(key)][1] += duration
    lines = ["| module | killed | survived | no fast test | other | killed / covered |",
             "|---|---|---|---|---|---|"]
    total = collections.Counter()
    for module in sorted(per_module):
        counts = per_module[module]
        total.update(counts)
        lines.append(f"| {module} | {counts['killed']} | {counts['survived']} | {counts['no tests']} "
                     f"| {counts['other']} | {kill_rates(counts)[0]:.1f}% |")
    covered, every = kill_rates(total)
    lines.append(f"| **all** | {total['killed']} | {total['survived']} | {total['no tests']} "
                 f"| {total['other']} | **{covered:.1f}%** |")
    lines += ["", f"kill rate of the mutants a test covers: {covered:.1f}%; of every mutant run "
                  f"(no test counts as survived): {every:.1f}%",
              "seconds of tests per outcome (sum over mutants, not wall time): "
              + ", ".join(f"{name} {seconds[name]:.0f}" for name in ("killed", "survived", "other"))]
    if selection is not None:
        placed, unexecuted = selection_counts(records, selection)
        lines.append(f"tests chosen per changed statement for {placed} of {len(records)} mutants; "
                     f"{unexecuted} survivors change a statement no fast test executes")
    lines += ["", "functions whose survivors cost the most (survivors, seconds):"]
    ranked = sorted(survivor_cost.items(), key=lambda item: -item[1][1])[:top]
    lines += [f"  {seconds_spent:7.0f} s  {count:4d}  {name}" for name, (count, seconds_spent) in ranked]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", default="mutants")
    parser.add_argument("--top", type=int, default=15, help="how many costly functions to list")
    args = parser.parse_args()
    path = pathlib.Path(args.folder) / "selection.json"
    selection = None
    if path.exists():
        from mutation_selection import load_selection
        selection = load_selection(path)
    print(report(read_records(args.folder), args.top, selection))


if __name__ == "__main__":
    main()
