"""The paper's datasets as tasks (``sgbrian.event_tasks``): SSC and DVS Gesture from files in
their own layouts or from their stand-ins, the networks of up to four layers, the named
experiments and the dataset scripts' shared run (``sgbrian.dataset_runs``)."""
import json
import types

import numpy as np
import pytest
from brian2 import defaultclock, ms

from sgbrian import event_tasks
from sgbrian.analysis import spike_count_baseline
from sgbrian.dataset_runs import plot_curves, train_dataset
from sgbrian.datasets import load_shd, write_shd
from sgbrian.events import tonic_samples
from sgbrian.experiments import EXPERIMENTS, build_learner, make_task
from sgbrian.standins import synthetic_dvs_gesture
from test_events import NO_TONIC, write_dvs_gesture


def spikes(sample):
    return sorted(zip(np.asarray(sample.input[0]).tolist(),
                      np.round(np.asarray(sample.input[1] / ms)).astype(int).tolist()))


def test_the_ssc_stand_in_has_35_classes_shared_templates_and_no_count_information(tmp_path):
    task = event_tasks.ssc_task(n_train=140, n_test=70, duration=100 * ms, dt=1 * ms, seed=4,
                                folder=str(tmp_path))
    assert (task.name, task.n_inputs, task.n_outputs, task.loss) == ("ssc", 700, 35, "cross_entropy")
    assert np.bincount([s.target for s in task.train]).tolist() == [4] * 35
    assert np.bincount([s.target for s in task.test]).tolist() == [2] * 35
    again = load_shd(str(tmp_path / "synthetic_ssc_train.h5"), 1 * ms, 100 * ms)
    assert [spikes(s) for s in again] == [spikes(s) for s in task.train]
    # the test set draws its samples with seed + 10**6 around the training set's templates:
    # a test sample's spikes lie near those of a training sample of its own class
    first = {c: next(s for s in task.train if s.target == c) for c in range(35)}

    def distance(a, b):
        ta, tb = (np.full(700, np.nan) for _ in range(2))
        for t, s in ((ta, a), (tb, b)):
            i, steps = np.asarray(s.input[0]), np.asarray(s.input[1] / ms)
            t[i[::-1]] = steps[::-1]          # one spike per channel (the first)
        return np.nanmedian(np.abs(ta - tb))
    nearest = [min(range(35), key=lambda c: distance(s, first[c])) for s in task.test]
    assert np.mean(np.array(nearest) == [s.target for s in task.test]) == 1.0
    assert spike_count_baseline(task) < 0.1           # chance: 1/35 = 0.029
    assert "SSC layout: 700 channels, 35 classes" in task.description


def test_the_ssc_task_reads_files_in_shds_layout(tmp_path):
    rng = np.random.default_rng(1)
    times = [np.sort(rng.uniform(0, 0.05, 30)) for _ in range(4)]
    units = [rng.integers(0, 700, 30) for _ in range(4)]
    for name, labels in (("train", [34, 0, 7, 3]), ("test", [1, 2, 3, 4])):
        write_shd(str(tmp_path / f"ssc_{name}.h5"), times, units, np.array(labels))
    task = event_tasks.ssc_task(n_train=3, n_test=4, duration=40 * ms, dt=1 * ms,
                                train_path=str(tmp_path / "ssc_train.h5"),
                                test_path=str(tmp_path / "ssc_test.h5"))
    own = load_shd(str(tmp_path / "ssc_train.h5"), 1 * ms, 40 * ms, max_samples=3)
    assert [s.target for s in task.train] == [34, 0, 7] and len(task.test) == 4
    assert [spikes(s) for s in task.train] == [spikes(s) for s in own]
    assert str(tmp_path / "ssc_train.h5") in task.description
    with pytest.raises(ValueError, match="give both train_path and test_path .real SSC."):
        event_tasks.ssc_task(train_path=str(tmp_path / "ssc_train.h5"))


def test_the_dvs_gesture_stand_in_is_the_moving_edges_on_the_downsampled_grid():
    task = event_tasks.dvs_gesture_task(n_train=22, n_test=11, duration=60 * ms, dt=1 * ms,
                                        seed=2, sensor=4)
    assert (task.n_inputs, task.n_outputs) == (32, 11)
    train = tonic_samples(synthetic_dvs_gesture(22, (4, 4, 2), 11, 60 * ms, seed=2), 1 * ms, 60 * ms)
    test = tonic_samples(synthetic_dvs_gesture(11, (4, 4, 2), 11, 60 * ms, seed=2 + 10 ** 6),
                         1 * ms, 60 * ms)
    assert [spikes(s) for s in task.train] == [spikes(s) for s in train]
    assert [spikes(s) for s in task.test] == [spikes(s) for s in test]
    assert [s.target for s in task.test] != [s.target for s in task.train][:11] or \
        [spikes(s) for s in task.test] != [spikes(s) for s in task.train][:11]
    assert all(s.n_steps == 60 for s in task.train + task.test)
    assert "4 x 4 x 2 = 32 channels" in task.description
    for bad in (0, 129):
        with pytest.raises(ValueError, match="sensor"):
            event_tasks.dvs_gesture_task(n_train=1, n_test=1, sensor=bad)


def test_the_dvs_gesture_task_reads_tonics_files_downsampled(tmp_path):
    """Both splits (100 recordings each, the fewest tonic accepts) through tonic's
    DVSGesture class and its Downsample to 8 x 8: each sample's channels are
    ``x//16 + 8 (y//16 + 8 p)`` of one recording, by hand."""
    pytest.importorskip("tonic", reason=NO_TONIC)
    rng = np.random.default_rng(3)
    written = {split: write_dvs_gesture(tmp_path, split, rng)
               for split in ("ibmGestureTrain", "ibmGestureTest")}
    task = event_tasks.dvs_gesture_task(n_train=6, n_test=2, duration=25 * ms, dt=1 * ms,
                                        root=str(tmp_path), sensor=8)
    assert (len(task.train), len(task.test), task.n_inputs) == (6, 2, 128)
    by_events = {tuple(map(tuple, rows)): rows for rows in written["ibmGestureTrain"].values()}
    for sample in task.train:
        matches = []
        for rows in by_events.values():
            x, y, p, t = rows.T // np.array([[16], [16], [1], [1]])
            keep = t < 25
            expected = sorted(set(zip((x + 8 * (y + 8 * p))[keep].tolist(), t[keep].tolist())))
            matches.append(expected == spikes(sample))
        assert sum(matches) >= 1


def test_deep_networks_have_one_to_three_hidden_layers_and_delays_on_the_inputs_only():
    defaultclock.dt = 1 * ms
    task = event_tasks.dvs_gesture_task(n_train=2, n_test=1, duration=30 * ms, dt=1 * ms, sensor=3)
    net = event_tasks.deep_network(task, hidden=(5, 4, 3), K=3, tau=4 * ms, max_delay=6 * ms,
                                   theta=0.2, seed=1)
    assert [layer.n for layer in net.layers] == [18, 5, 4, 3, 11]
    delays = [np.asarray(s.delay / ms) for s in net.synapses]
    assert delays[0].max() <= 6 and np.unique(delays[0]).size > 3
    assert all(np.all(d == 0) for d in delays[1:])
    for layer in net.layers[1:]:
        assert (layer.K, float(layer.tau / ms), layer.spec.theta) == (3, 4.0, 0.2)
    w = np.asarray(net.synapses[0].w)
    assert abs(w.std() - 2 / np.sqrt(18)) < 0.25 * 2 / np.sqrt(18)
    for hidden in ((), (4, 4, 4, 4)):
        with pytest.raises(ValueError, match="hidden must list 1 to 3 layer sizes"):
            event_tasks.deep_network(task, hidden=hidden)
    dvs = event_tasks.dvs_gesture_network(task, hidden=(4, 4))
    assert (dvs.layers[1].K, float(dvs.layers[1].tau / ms), dvs.layers[1].spec.theta) == (8, 20.0, 0.1)
    ssc = event_tasks.ssc_network(task, hidden=(4, 4))
    assert (float(ssc.layers[2].tau / ms), len(ssc.layers)) == (10.0, 4)


def test_the_named_experiments_ssc_and_dvs_gesture(tmp_path):
    """Rule 'adjoint' (exact at any depth), delays trained, batches of 32, accuracy >= 0.9;
    the networks: two hidden layers of 256."""
    defaultclock.dt = 1 * ms
    for name, classes, start in (("ssc", 35, 100), ("dvs_gesture", 11, 200)):
        ex = EXPERIMENTS[name]
        assert (ex.rule, ex.batch_size, ex.metric, ex.goal) == ("adjoint", 32, "accuracy", 0.9)
        assert "d" in ex.train and float(ex.loss().start / ms) == start
    task = make_task("dvs_gesture", 0, dict(n_train=2, n_test=1, duration=10 * ms, sensor=2))
    net, learner = build_learner("dvs_gesture", task, 0)
    assert [layer.n for layer in net.layers] == [8, 256, 256, 11]
    assert learner.rule == "adjoint"


def test_a_dataset_run_trains_writes_its_curves_and_resumes_from_its_checkpoint(tmp_path):
    args = types.SimpleNamespace(samples=8, test_samples=4, epochs=1, dt=1.0, batch=4, workers=1,
                                 scheduler=None, bptt=False, output=str(tmp_path), seed=0,
                                 target="numpy")
    data = dict(root=None, sensor=2, duration=20 * ms)
    curves, task = train_dataset("dvs_gesture", args, data)
    saved = json.loads((tmp_path / "dvs_gesture_history.json").read_text())
    assert saved["samples"] == [8, 4] and saved["data"] == "synthetic"
    assert saved["sgbrian"] == curves["sgbrian"] and len(curves["sgbrian"]["test_accuracy"]) == 1
    assert (tmp_path / "dvs_gesture_checkpoint.npz").exists()
    again, _ = train_dataset("dvs_gesture", args, data)      # resumed: nothing left to train
    assert again["sgbrian"] == curves["sgbrian"]
    plot_curves(curves, 1 / 11, "stand-in", str(tmp_path / "curves"))
    assert (tmp_path / "curves.png").stat().st_size > 0 and (tmp_path / "curves.pdf").exists()
