"""Jobs and data-parallel training on a 2-worker Dask LocalCluster, against serial runs."""
import os
import signal
import sys
import time

import cloudpickle
import numpy as np
import pytest
from brian2 import ms

from sgbrian import parallel, precision
from sgbrian.experiments import EXPERIMENTS, experiment_learner
from sgbrian.data_parallel import batch_gradients
from sgbrian.parallel import JobsFailed, job_name, run_jobs

from checks import assert_gradients_equal, itd_trained_here_and_on

cloudpickle.register_pickle_by_value(sys.modules[__name__])   # workers get these functions
TIMES = {"train_seconds"}                                      # wall times differ, nothing else


@pytest.fixture(scope="module")
def client():
    c = parallel.connect(workers=2)
    yield c
    c.close()


def _numbers(result):
    return {k: v for k, v in result.items() if k not in TIMES}


def test_a_sweep_on_two_workers_equals_the_same_sweep_run_serially(client, tmp_path):
    points = [dict(task="delay", dt_ms=dt, seed=seed, mode="quick") for dt in (1.0, 0.5)
              for seed in (0, 1)]
    serial = run_jobs(precision.trained_point, points, tmp_path / "serial", progress=False)
    cluster = run_jobs(precision.trained_point, points, tmp_path / "cluster", client,
                       progress=False)
    assert [_numbers(r) for r in cluster] == [_numbers(r) for r in serial]
    assert len({r["trained_score"] for r in serial}) == 4          # seeds and dts differ
    files = sorted(os.listdir(tmp_path / "cluster"))
    assert files == sorted(job_name(p) + ".json" for p in points)


def test_the_precision_sweep_on_the_cluster_equals_it_run_here(client, tmp_path):
    """Both job groups (fixed networks, trainings) queued at once on the cluster: every
    row's numbers equal the serial sweep's, wall times aside."""
    kwargs = dict(dts=(1.0, 0.5), mode="quick", seeds=(0,))
    here = precision.sweep("delay", folder=str(tmp_path / "here"), **kwargs)
    there = precision.sweep("delay", client=client, folder=str(tmp_path / "there"), **kwargs)
    strip = lambda row: {k: v for k, v in row.items() if k not in TIMES | {"wall_s_per_sim_s"}}  # noqa: E731
    assert [strip(r) for r in there] == [strip(r) for r in here]
    assert [r["dt_ms"] for r in here] == [1.0, 0.5] and here[0]["deviation"] > 0
    # run=False reads the kept jobs only: all rows, then without a training removed
    assert precision.sweep("delay", folder=str(tmp_path / "here"), run=False, **kwargs) == here
    trained = tmp_path / "here" / "trained"
    os.remove(trained / sorted(os.listdir(trained))[0])              # dt 0.5 sorts first
    assert precision.sweep("delay", folder=str(tmp_path / "here"), run=False, **kwargs) == here[:1]


def _slow_square(x, pause=0.3):
    time.sleep(pause)
    return {"x": x, "square": x * x, "pid": os.getpid()}


def test_a_killed_worker_loses_nothing_and_a_finished_sweep_is_not_run_again(client, tmp_path):
    points = [dict(x=x) for x in range(12)]
    pids = client.run(os.getpid)
    victim = sorted(pids.values())[0]
    future = client.submit(lambda: (time.sleep(0.6), os.kill(victim, signal.SIGKILL)), pure=False,
                           workers=[a for a, p in pids.items() if p != victim])
    results = run_jobs(_slow_square, points, tmp_path, client, progress=False)
    future.cancel()
    assert [r["square"] for r in results] == [x * x for x in range(12)]
    assert victim not in client.run(os.getpid).values()             # it really died
    stamp = os.path.getmtime(tmp_path / (job_name(points[0]) + ".json"))
    again = run_jobs(_failing_everywhere, points, tmp_path, client, progress=False)
    assert again == results                                         # read back, none rerun
    assert os.path.getmtime(tmp_path / (job_name(points[0]) + ".json")) == stamp


def _failing_everywhere(x):
    raise AssertionError("must not run")


def _fails_once_for_3_always_for_5(x, folder):
    marker = os.path.join(folder, f"tried-{x}")
    if x == 5 or (x == 3 and not os.path.exists(marker)):
        open(marker, "w").close()
        raise ValueError(f"job {x} failed")
    return {"x": x}


@pytest.mark.parametrize("on_cluster", [False, True])
def test_a_failing_job_is_retried_once_then_reported_with_its_parameters(client, tmp_path,
                                                                        on_cluster):
    points = [dict(x=x, folder=str(tmp_path)) for x in range(7)]
    with pytest.raises(JobsFailed, match=r"(?s)1 of 7 jobs failed twice.*'x': 5.*job 5 failed") as info:
        run_jobs(_fails_once_for_3_always_for_5, points, tmp_path / "out",
                 client if on_cluster else None, progress=False)
    assert [p["x"] for p, _ in info.value.failed] == [5]
    assert [r and r["x"] for r in info.value.results] == [0, 1, 2, 3, 4, None, 6]
    assert len(os.listdir(tmp_path / "out")) == 6


def test_bad_runner_arguments_are_refused(tmp_path):
    with pytest.raises(ValueError, match="points must be distinct"):
        run_jobs(_slow_square, [dict(x=1), dict(x=1)], tmp_path, progress=False)
    with pytest.raises(ValueError, match="workers must be an int >= 1"):
        parallel.connect(workers=0)
    assert parallel.connect("serial") is None


def _itd_learner():
    return experiment_learner("itd", 3, 0.05, dict(n_train=6, n_test=2), "numpy")


def test_workers_sum_a_batch_to_the_single_process_gradient(client):
    """A batch of 5 ITD samples cut into shares of 3 and 2 on two workers: the summed
    gradients equal the gradient of the batch computed here (1e-10 relative)."""
    learner = _itd_learner()
    rng = np.random.default_rng(0)
    for name, p in learner.params.items():
        p += rng.normal(0, 0.05, p.shape)
    task = EXPERIMENTS["itd"].make_task(seed=3, dt=0.05 * ms, n_train=6, n_test=2)
    batch = task.train[:5]
    here = learner.gradients(batch, batch_size=5)
    there, metrics = batch_gradients(learner, batch, client, _itd_learner)
    assert_gradients_equal(there, here)
    assert metrics.summary()["samples"] == 5


def test_data_parallel_training_equals_training_here(client):
    itd_trained_here_and_on(client)


def _compile_and_run(cache, decay_ms):
    """Build and run one Cython-generated group with Brian2's cache in ``cache``."""
    from brian2 import NeuronGroup, Network, prefs as p
    p.codegen.target = "cython"
    p.codegen.runtime.cython.cache_dir = cache
    group = NeuronGroup(2, f"dv/dt = -v / ({decay_ms} * ms) : 1", method="exact")
    group.v = 1
    Network(group).run(1 * ms)
    return {"v": group.v[:].tolist()}


@pytest.mark.slow
def test_two_workers_compiling_the_same_cython_code_at_once_agree(client, tmp_path):
    """Both workers build the same new module into one empty cache at the same moment
    (Brian2 locks each module's build); both runs give exp(-1 ms / 3.21 ms)."""
    futures = [client.submit(_compile_and_run, str(tmp_path / "cache"), 3.21, pure=False,
                             workers=[w]) for w in sorted(client.scheduler_info()["workers"])]
    for result in client.gather(futures):
        np.testing.assert_allclose(result["v"], np.exp(-1 / 3.21), rtol=1e-12)


def _echo(**point):
    return point


def test_point_names_may_be_those_of_dask_submit_keywords(client, tmp_path):
    points = [dict(key=k, workers=2, pure=True, retries=5) for k in range(2)]
    assert run_jobs(_echo, points, tmp_path, client, progress=False) == points
