"""tests/mutation_report.py against counts written by hand for a small, made-up mutmut run."""
import json

from mutation_report import kill_rates, read_records, report


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


def test_kill_rates_of_an_empty_run_are_zero():
    assert kill_rates({"killed": 0, "survived": 0, "no tests": 0}) == (0.0, 0.0)
