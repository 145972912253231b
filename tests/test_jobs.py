"""The Dask job runner and data-parallel training without a cluster: job names, resume,
retry, result files and the driver's share of data-parallel training, through a fake
client that runs every submitted call at once in this process (seconds, no workers)."""
import json
import os
import re
import sys

import numpy as np
import pytest
from brian2 import ms

from sgbrian import data_parallel, parallel
from sgbrian.parallel import (JobsFailed, job_name, kept_results, run_jobs,
                              write_json_atomic)

from checks import assert_gradients_equal, itd_trained_here_and_on


class FakeFuture:
    """What ``Client.submit`` returns, already finished (or failed)."""

    def __init__(self, function, args, kwargs):
        try:
            self._result, self.status, self._error = function(*args, **kwargs), "finished", None
        except Exception as error:                  # noqa: BLE001 - kept as a failed future
            self._result, self.status, self._error = None, "error", error

    def result(self):
        if self._error is not None:
            raise self._error
        return self._result

    def exception(self):
        return self._error

    def traceback(self):
        return self._error.__traceback__


class FakeClient:
    """``submit``, ``gather`` and ``scheduler_info`` of ``dask.distributed.Client``; it
    records each call's ``workers=`` so a test can read how work was placed."""

    def __init__(self, workers=("tcp://w2", "tcp://w1")):
        self.workers, self.placed = list(workers), []

    def submit(self, function, *args, pure=True, workers=None, allow_other_workers=False):
        assert pure is False                        # a job is never taken from Dask's cache
        self.placed.append(workers)
        return FakeFuture(function, args, {})

    def gather(self, futures):
        return [f.result() for f in futures]

    def scheduler_info(self):
        return {"workers": {w: {} for w in self.workers}}


class FakeAsCompleted:
    """``dask.distributed.as_completed`` over already finished futures: in order, with
    ``add`` appending (as a retry does)."""

    def __init__(self, futures):
        self.queue = list(futures)

    def add(self, future):
        self.queue.append(future)

    def __iter__(self):
        while self.queue:
            yield self.queue.pop(0)


@pytest.fixture
def fake_dask(monkeypatch):
    import dask.distributed          # imported before the patch, so that it keeps the real one
    monkeypatch.setattr(dask.distributed, "as_completed", FakeAsCompleted)
    return FakeClient()


def _counting(x, folder):
    """x squared; appends x to folder/calls.txt, so a test can count the calls."""
    with open(os.path.join(folder, "calls.txt"), "a") as f:
        f.write(f"{x}\n")
    if x == 5 or (x == 3 and _calls(folder).count(3) == 1):
        raise RuntimeError(f"job {x} failed")
    return {"x": x}


def _calls(folder):
    path = os.path.join(folder, "calls.txt")
    return [int(line) for line in open(path)] if os.path.exists(path) else []


def test_a_job_name_lists_the_parameters_in_key_order_whatever_the_order_given():
    assert job_name(dict(task="itd", seed=1, dt_ms=0.05)) == "dt_ms=0.05_seed=1_task=itd"
    assert job_name(dict(dt_ms=0.05, task="itd", seed=1)) == "dt_ms=0.05_seed=1_task=itd"
    assert job_name({"b": "x/y z", "a": [1, 2]}) == "a=-1--2-_b=x-y-z"    # [ , ] and spaces become -
    assert job_name({"Task": "ITD", "t": (1, 2), "u": (3,)}) == "Task=ITD_t=-1--2-_u=-3--"
    nested = [dict(task="itd", task_kwargs=dict(n_train=6, n_test=2), dts=[1.0, 0.5]),
              dict(dts=[1.0, 0.5], task_kwargs=dict(n_test=2, n_train=6), task="itd")]
    assert job_name(nested[0]) == job_name(nested[1]) == \
        "dts=-1.0--0.5-_task=itd_task_kwargs=--n_test---2---n_train---6-"
    for value in (0.05, "itd", [1.0, "a"], (3,), {"b": [1], "a": {"d": 1, "c": 2}}):
        with_sorted_keys = value if not isinstance(value, dict) else \
            {"a": {"c": 2, "d": 1}, "b": [1]}
        assert job_name({"k": value}) == job_name({"k": with_sorted_keys})
        assert job_name({"k": with_sorted_keys}) == \
            re.sub(r"[^A-Za-z0-9=._-]", "-", f"k={with_sorted_keys}")   # names kept so far stay


def test_a_sweep_given_its_points_in_another_key_order_is_read_back_not_run_again(tmp_path):
    """Resume: the second call names the same points with their keys in another order
    (and in another order of points); nothing runs, the kept results come back in the
    order asked, and ``kept_results`` reads them the same way."""
    folder = str(tmp_path)
    first = [dict(x=x, folder=folder) for x in (0, 1, 2)]
    assert run_jobs(_counting, first, tmp_path / "out", progress=False) == \
        [{"x": 0}, {"x": 1}, {"x": 2}]
    assert _calls(folder) == [0, 1, 2]
    again = [dict(folder=folder, x=x) for x in (2, 0, 1)] + [dict(folder=folder, x=4)]
    assert run_jobs(_counting, again, tmp_path / "out", progress=False) == \
        [{"x": 2}, {"x": 0}, {"x": 1}, {"x": 4}]
    assert _calls(folder) == [0, 1, 2, 4]
    assert kept_results([dict(folder=folder, x=1), dict(x=9, folder=folder)],
                        tmp_path / "out") == [{"x": 1}, None]
    assert sorted(os.listdir(tmp_path / "out")) == sorted(
        job_name(dict(x=x, folder=folder)) + ".json" for x in (0, 1, 2, 4))


@pytest.mark.parametrize("on_client", [False, True])
def test_a_failing_job_runs_once_more_then_is_reported_and_the_others_are_kept(
        tmp_path, fake_dask, on_client):
    """Job 3 fails once (its retry succeeds), job 5 always: 5 is reported with its
    parameters and last error after two calls; every other result is written."""
    folder = str(tmp_path)
    points = [dict(x=x, folder=folder) for x in range(7)]
    with pytest.raises(JobsFailed, match=r"(?s)^1 of 7 jobs failed twice \(the other "
                                         r"results are kept\):\n  \{'x': 5.*job 5 failed$") as info:
        run_jobs(_counting, points, tmp_path / "out", fake_dask if on_client else None,
                 progress=False)
    calls = _calls(folder)
    assert sorted(calls) == [0, 1, 2, 3, 3, 4, 5, 5, 6]
    assert [p["x"] for p, _ in info.value.failed] == [5]
    report = info.value.failed[0][1]
    assert report.startswith("Traceback (most recent call last):\n  File ")
    assert report.endswith("RuntimeError: job 5 failed\n")
    assert [r and r["x"] for r in info.value.results] == [0, 1, 2, 3, 4, None, 6]
    assert sorted(os.listdir(tmp_path / "out")) == sorted(
        job_name(p) + ".json" for p in points if p["x"] != 5)
    with open(tmp_path / "out" / (job_name(points[3]) + ".json")) as f:
        assert json.load(f) == {"x": 3}


def test_the_client_receives_every_point_as_keywords_of_the_function(fake_dask, tmp_path):
    points = [dict(key=k, workers=2, pure=True) for k in range(3)]
    assert run_jobs(_square_of_key, points, tmp_path, fake_dask, progress=False) == \
        [{"square": 0}, {"square": 1}, {"square": 4}]
    assert fake_dask.placed == [None, None, None]


def _square_of_key(key, workers, pure):
    return {"square": key * key}


def test_a_result_file_is_whole_or_absent(tmp_path):
    path = tmp_path / "r.json"
    write_json_atomic(path, {"a": [1, 2.5]})
    assert json.loads(path.read_text()) == {"a": [1, 2.5]}
    with pytest.raises(TypeError):
        write_json_atomic(path, {"a": object()})          # fails while writing
    assert json.loads(path.read_text()) == {"a": [1, 2.5]}  # the old file stays whole
    assert os.listdir(tmp_path) == ["r.json"]               # and no temporary file is left


def test_the_scheduler_comes_from_the_argument_then_the_environment(monkeypatch):
    monkeypatch.delenv(parallel.SCHEDULER_ENV, raising=False)
    assert parallel.scheduler_address() is None
    monkeypatch.setenv(parallel.SCHEDULER_ENV, "tcp://env:1")
    assert parallel.scheduler_address() == "tcp://env:1"
    assert parallel.scheduler_address("tcp://arg:2") == "tcp://arg:2"
    monkeypatch.setenv(parallel.SCHEDULER_ENV, "serial")
    assert parallel.connect() is None
    for bad in (0, -1, 1.5, "2"):
        with pytest.raises(ValueError, match=rf"^workers must be an int >= 1, got {bad!r}$"):
            parallel.connect(workers=bad)


def test_script_arguments_read_seeds_and_scheduler(monkeypatch):
    monkeypatch.delenv(parallel.SCHEDULER_ENV, raising=False)
    monkeypatch.setattr(sys, "argv", ["script.py", "--seeds", "4", "7", "--scheduler", "serial"])
    args = parallel.script_arguments("Title line\nmore")
    assert args.seeds == [4, 7] and args.scheduler == "serial" and args.client is None
    monkeypatch.setattr(sys, "argv", ["script.py"])
    args = parallel.script_arguments("Title", seeds=(5,))
    assert args.seeds == [5] and args.scheduler is None and args.client is None


@pytest.mark.parametrize("n, parts, sizes", [(5, 2, [3, 2]), (7, 3, [3, 2, 2]), (2, 3, [1, 1, 0]),
                                             (6, 3, [2, 2, 2])])
def test_a_batch_is_cut_into_contiguous_shares_differing_by_at_most_one(n, parts, sizes):
    shares = data_parallel._split(list(range(n)), parts)
    assert [len(s) for s in shares] == sizes
    assert sum(shares, []) == list(range(n))


def _itd_learner():
    from sgbrian.experiments import experiment_learner
    return experiment_learner("itd", 3, 0.05, dict(n_train=6, n_test=2), "numpy")


def test_the_driver_adds_the_workers_shares_to_the_batch_gradient(fake_dask):
    """A batch of 5 ITD samples cut into shares of 3 and 2 (one per worker, workers in
    sorted order): the shares' summed gradients equal the batch's gradient computed in
    one run (1e-10 relative), and the metrics count every sample once."""
    from sgbrian.experiments import EXPERIMENTS
    learner = _itd_learner()
    rng = np.random.default_rng(0)
    for p in learner.params.values():
        p += rng.normal(0, 0.05, p.shape)
    batch = EXPERIMENTS["itd"].make_task(seed=3, dt=0.05 * ms, n_train=6, n_test=2).train[:5]
    here = learner.gradients(batch, batch_size=5)
    there, metrics = data_parallel.batch_gradients(learner, batch, fake_dask, _itd_learner)
    assert fake_dask.placed == [["tcp://w1"], ["tcp://w2"]]
    assert_gradients_equal(there, here)
    assert metrics.summary()["samples"] == 5


def test_data_parallel_training_refuses_what_it_cannot_do(fake_dask):
    learner = _itd_learner()
    with pytest.raises(ValueError, match=r"^client= needs replica=, a picklable function"):
        data_parallel.fit_epoch_on_client(learner, [], None, 1.0, 4, fake_dask, None)
    learner.update_every = 10
    with pytest.raises(ValueError, match=r"needs update_every='sample' .* got 10$"):
        data_parallel.fit_epoch_on_client(learner, [], None, 1.0, 4, fake_dask, _itd_learner)


def test_a_replica_of_another_network_is_refused_by_its_parameter_shapes():
    learner = _itd_learner()
    params = {name: np.zeros(p.shape + (2,)) for name, p in learner.params.items()}
    name = next(iter(params))
    with pytest.raises(ValueError, match=rf"^the replica's parameter {name} has shape .*, the "
                                         r"driver's .*: replica must build the same network$"):
        data_parallel.share_gradients(_itd_learner, params, [])



def _fails_for_odd(x):
    if x % 2:
        raise ValueError(f"odd {x}")
    return {"x": x}


def test_two_failed_jobs_are_listed_one_per_line():
    with pytest.raises(JobsFailed) as info:
        run_jobs(_fails_for_odd, [dict(x=x) for x in range(4)], tempfile_folder(), progress=False)
    assert str(info.value) == ("2 of 4 jobs failed twice (the other results are kept):\n"
                               "  {'x': 1}: ValueError: odd 1\n  {'x': 3}: ValueError: odd 3")
    with pytest.raises(ValueError, match=r"^points must be distinct \(two points give the same "
                                         r"job name\)$"):
        run_jobs(_fails_for_odd, [dict(x=1), dict(x=1)], tempfile_folder(), progress=False)


def tempfile_folder():
    import tempfile
    return tempfile.mkdtemp(prefix="sgbrian-test-jobs-")


@pytest.mark.parametrize("on_client", [False, True])
def test_the_progress_bar_counts_jobs_from_those_kept(tmp_path, capsys, fake_dask, on_client):
    folder = str(tmp_path)
    run_jobs(_counting, [dict(x=x, folder=folder) for x in (0, 1)], tmp_path / "out",
             progress=False)
    capsys.readouterr()
    points = [dict(x=x, folder=folder) for x in (0, 1, 2, 4)]
    run_jobs(_counting, points, tmp_path / "out", fake_dask if on_client else None,
             description="sweep")
    err = capsys.readouterr().err
    counts = [int(n) for n in re.findall(r"\| (\d+)/4 \[", err)]
    assert counts[0] == 2 and counts[-1] == 4 and max(counts) == 4   # from the kept jobs, by 1
    assert "sweep:  50%" in err and "sweep: 100%" in err and "job/s]" in err
    run_jobs(_counting, points, tmp_path / "out", progress=False)
    assert capsys.readouterr().err == ""


def test_a_result_is_written_through_a_temporary_file_beside_it(tmp_path, monkeypatch):
    """While the JSON is written, a '.tmp-*.json' file exists in the result's folder (so
    that the final rename stays on one file system); the text is indented by 1."""
    seen = []
    dump = json.dump

    def spy(data, f, **kwargs):
        seen.append(sorted(os.listdir(tmp_path)))
        dump(data, f, **kwargs)
    monkeypatch.setattr(parallel.json, "dump", spy)
    write_json_atomic(str(tmp_path / "r.json"), {"a": [1, 2]})
    assert len(seen) == 1 and len(seen[0]) == 1
    assert seen[0][0].startswith(".tmp-") and seen[0][0].endswith(".json")
    assert (tmp_path / "r.json").read_text() == json.dumps({"a": [1, 2]}, indent=1)


def test_connect_starts_a_local_cluster_of_single_threaded_processes_or_joins_a_scheduler(
        monkeypatch):
    import dask.distributed
    made = []
    monkeypatch.setattr(dask.distributed, "LocalCluster", lambda **kw: made.append(kw) or "cluster")
    monkeypatch.setattr(dask.distributed, "Client", lambda target: ("client", target))
    monkeypatch.delenv(parallel.SCHEDULER_ENV, raising=False)
    assert parallel.connect(workers=1) == ("client", "cluster")
    assert made == [dict(n_workers=1, threads_per_worker=1, processes=True,
                         dashboard_address=":0")]
    parallel.connect()
    assert made[-1]["n_workers"] == os.cpu_count()
    assert parallel.connect("tcp://host:8786") == ("client", "tcp://host:8786")
    monkeypatch.setenv(parallel.SCHEDULER_ENV, "tcp://env:1")
    assert parallel.connect() == ("client", "tcp://env:1")
    assert len(made) == 2


_BUILT = []


def _replica():
    _BUILT.append(1)
    return object()


def _other_replica():
    return object()


def test_a_replica_is_built_once_per_worker_and_function():
    first = data_parallel.replica_learner(_replica)
    assert data_parallel.replica_learner(_replica) is first and len(_BUILT) == 1
    assert data_parallel.replica_learner(_other_replica) is not first


def test_data_parallel_training_through_the_client_equals_training_here(fake_dask):
    """Two epochs of ITD (12 samples, batches of 4) with each batch's gradient summed by
    the (fake) client's two workers: the parameters, losses and test accuracy equal
    training in this process, and progress is reported after every batch."""
    there = itd_trained_here_and_on(fake_dask)
    assert len(fake_dask.placed) == 2 * 3 * 2                 # epochs x batches x workers
    done = []
    learner = there["learner"]
    data_parallel.fit_epoch_on_client(learner, there["task"].train[:6], _metrics(learner), 1.0, 4,
                                 fake_dask, _itd_learner, progress=lambda plan: done.append(
                                     (plan.done, plan.metrics.summary()["samples"])))
    assert done == [(4, 4), (6, 6)]


def _metrics(learner):
    from sgbrian.metrics import Metrics
    return Metrics(learner.loss)


def test_add_arguments_gives_an_analysis_script_its_scheduler_and_workers():
    import argparse
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parallel.add_arguments(parser)
    assert vars(parser.parse_args([])) == {"quick": False, "scheduler": None, "workers": None}
    got = parser.parse_args(["--scheduler", "tcp://host:8786", "--workers", "3"])
    assert (got.scheduler, got.workers) == ("tcp://host:8786", 3)
    assert "SGBRIAN_SCHEDULER" in parser.format_help()
    with pytest.raises(SystemExit):
        parser.parse_args(["--workers", "two"])
