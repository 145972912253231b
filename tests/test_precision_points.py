"""The precision sweep's jobs on tiny tasks, here (no cluster; seconds): the master task
and its re-gridding, a trained network carried to another dt, the fixed-network job's
deviation and activity against the outputs and events computed again by hand, and a sweep
read back from its kept jobs."""
import numpy as np
import pytest
from brian2 import defaultclock, ms, prefs

from sgbrian import precision
from sgbrian.experiments import EXPERIMENTS


@pytest.fixture(autouse=True)
def numpy_target():
    previous, dt = prefs.codegen.target, defaultclock.dt
    prefs.codegen.target = "numpy"
    yield
    prefs.codegen.target, defaultclock.dt = previous, dt


def test_the_master_task_has_the_modes_sizes_and_each_dt_sees_its_spikes_on_its_grid():
    master = precision.master_task("timing", "quick", seed=4)
    assert master.dt == precision.MASTER_DT
    assert (len(master.train), len(master.test)) == (10, 10)
    assert master.train[0].n_steps == 3000                       # 30 ms of 0.01 ms
    data = precision.task_data("timing", 0.5, seed=4, mode="quick")
    assert data.dt == 0.5 * ms and data.train[0].n_steps == 60
    for fine, coarse in zip(master.train, data.train):
        indices, times = fine.input
        steps = np.floor(np.asarray(times / (0.5 * ms)) + 1e-9).astype(int)
        expected = sorted(set(zip(indices.tolist(), steps.tolist())))
        got_i, got_t = coarse.input
        assert sorted(zip(np.asarray(got_i).tolist(),
                          np.rint(np.asarray(got_t / (0.5 * ms))).astype(int).tolist())) == expected
        assert coarse.target == fine.target
    other = precision.master_task("timing", "quick", seed=5)
    assert not np.array_equal(other.train[0].input[1], master.train[0].input[1])


def test_a_trained_network_moves_to_another_dt_with_its_parameters_and_rounded_delays():
    data_fine = precision.task_data("itd", 0.05, seed=1, mode="quick")
    trained = precision.train_at("itd", 0.05, 1, "quick", data=data_fine)["learner"]
    data = precision.task_data("itd", 0.2, seed=1, mode="quick")
    moved = precision.transfer(trained, "itd", data, seed=1)
    assert defaultclock.dt == 0.2 * ms and moved.rule == precision.SWEEP_RULE["itd"]
    for name, value in trained.params.items():
        if name in moved.params:
            np.testing.assert_array_equal(moved.params[name], value)
    off_grid = 0
    for old, new in zip(trained.net.synapses, moved.net.synapses):
        old_steps = np.asarray(old.delay[:] / (0.2 * ms))
        np.testing.assert_allclose(np.asarray(new.delay[:] / (0.2 * ms)), np.rint(old_steps),
                                   atol=1e-9)
        off_grid += np.count_nonzero(np.abs(old_steps - np.rint(old_steps)) > 0.1)
    assert off_grid > 0                    # the 0.05 ms delays were not all on the 0.2 ms grid
    moved.detach()


def test_the_fixed_network_job_measures_deviation_and_activity_as_defined():
    """Job (a), (b): at each dt the rows' deviation is the RMS difference of the outputs
    on the 1 ms grid from those at the finest dt over the RMS of the latter, recomputed
    here from the network moved to each dt; the finest row's is 0."""
    dts = [1.0, 0.5]
    result = precision.fixed_point("timing", 2, dts=dts, mode="quick")
    rows = result["rows"]
    assert [r["dt_ms"] for r in rows] == dts and all(r["seed"] == 2 for r in rows)
    master = precision.master_task("timing", "quick", 2)
    trained = precision.train_at("timing", 1.0, 2, "quick",
                                 data=precision.regrid(master, 1 * ms))["learner"]
    outputs = {}
    for dt_ms, row in zip(dts, rows):
        data = precision.regrid(master, dt_ms * ms)
        net = precision.transfer(trained, "timing", data, seed=2)
        evaluated = net.evaluate(data.test, record_outputs=True, batch_size=1)
        net.detach()
        stride = int(round(1 / dt_ms))
        outputs[dt_ms] = np.concatenate([o[::stride] for o in evaluated["outputs"]])
        assert row["fixed_score"] == pytest.approx(evaluated["accuracy"])
        assert row["events_per_neuron_per_s"] == pytest.approx(
            evaluated["events_per_neuron_per_s"], rel=1e-12)
        assert row["wall_s_per_sim_s"] > 0
    finest = outputs[0.5]
    assert rows[1]["deviation"] == 0.0
    expected = np.sqrt(np.mean((outputs[1.0] - finest) ** 2)) / np.sqrt(np.mean(finest ** 2))
    assert rows[0]["deviation"] == pytest.approx(expected, rel=1e-9)
    assert rows[0]["deviation"] > 0


def test_a_kept_sweep_is_read_back_without_running(tmp_path):
    """A sweep run here keeps one file per job; read back with run=False (nothing runs)
    it gives the same rows; a folder without jobs gives none."""
    rows = precision.sweep(["timing"], dts=[1.0], mode="quick", seeds=[3], folder=str(tmp_path))
    assert len(rows) == 1 and rows[0]["task"] == "timing" and rows[0]["seed"] == 3
    assert 0 <= rows[0]["trained_score"] <= 1 and rows[0]["deviation"] == 0.0
    again = precision.sweep(["timing"], dts=[1.0], mode="quick", seeds=[3], folder=str(tmp_path),
                            run=False)
    strip = lambda rs: [{k: v for k, v in r.items() if "seconds" not in k} for r in rs]  # noqa: E731
    assert strip(again) == strip(rows)
    assert precision.sweep(["timing"], dts=[1.0], mode="quick", seeds=[3],
                           folder=str(tmp_path / "empty"), run=False) == []
    assert EXPERIMENTS["timing"].metric == rows[0]["metric"]
