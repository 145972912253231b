"""Dense export of the tasks, the BPTT baselines' pieces, and a quick side-by-side run."""
import os
import subprocess
import sys

import numpy as np
import pytest
from brian2 import ms

from sgbrian import baselines, tasks
from sgbrian.datasets import Sample, TaskData

REPO = os.path.join(os.path.dirname(__file__), "..")


def test_dense_export_bins_spikes_and_pads_by_hand():
    s1 = Sample((np.array([0, 1, 1, 0]), np.array([0.0, 0.04, 0.06, 0.19]) * ms), 2, 4)
    s2 = Sample((np.array([1]), np.array([0.1]) * ms), 0, 3, weight=np.array([0.0, 1.0, 0.5]))
    task = TaskData("t", [s1, s2], [s2], 0.05 * ms, 2, 3, "cross_entropy")
    x, y, w, lengths = task.dense("train")
    expected = np.zeros((2, 4, 2))
    expected[0, 0, 0] = expected[0, 0, 1] = expected[0, 1, 1] = expected[0, 3, 0] = 1
    expected[1, 2, 1] = 1
    np.testing.assert_array_equal(x, expected)
    np.testing.assert_array_equal(y, [2, 0])
    np.testing.assert_array_equal(w, [[1, 1, 1, 1], [0, 1, 0.5, 0]])
    np.testing.assert_array_equal(lengths, [4, 3])
    coarse, _, _, n = task.dense("train", dt=0.1 * ms)             # 2 steps: [0, 0.1), [0.1, 0.2)
    np.testing.assert_array_equal(coarse[0], [[1, 1], [1, 0]])     # one channel's two spikes merge
    np.testing.assert_array_equal(n, [2, 1])
    with pytest.raises(ValueError, match="split"):
        task.dense("validation")


def test_dense_export_of_an_analog_task_samples_the_signal_and_the_target():
    task = tasks.delay_task(n_train=2, n_test=1, duration=40 * ms, dt=1 * ms, seed=4)
    x, y, w, _ = task.dense("test")
    np.testing.assert_array_equal(x[0], task.test[0].input)
    np.testing.assert_array_equal(y[0], task.test[0].target)
    np.testing.assert_array_equal(w[0], task.test[0].weight)
    x2, y2, _, n = task.dense("test", dt=2 * ms)
    np.testing.assert_array_equal(x2[0], task.test[0].input[::2])
    assert n[0] == 20


def test_delay_line_steps_are_whole_steps_without_duplicates():
    np.testing.assert_array_equal(baselines.delay_line_steps("itd", 0.05), np.arange(21))
    np.testing.assert_array_equal(baselines.delay_line_steps("itd", 0.2), [0, 1, 2, 3, 4, 5])
    np.testing.assert_array_equal(baselines.delay_line_steps("delay", 0.5), np.arange(0, 21, 2))
    assert baselines.systems_for("timing") == ["sgbrian", "lif", "rlif"]


def test_the_baselines_score_nrmse_and_accuracy_like_sgbrian():
    target = np.array([[[1.0], [2.0], [3.0], [4.0]]])
    out = target + np.array([[[9.0], [0.5], [-0.5], [0.0]]])
    weight = np.array([[0.0, 1.0, 1.0, 1.0]])                      # first step not counted
    expected = np.sqrt(0.5 / ((2 - 3) ** 2 + 0 + (4 - 3) ** 2))
    assert baselines._score(out, target, weight, 0, "mse") == pytest.approx(expected)
    logits = np.array([[[5.0, 0.0], [0.0, 1.0], [0.0, 1.0]], [[0.0, 5.0], [1.0, 0.0], [1.0, 0.0]]])
    assert baselines._score(logits, np.array([1, 0]), None, 1, "cross_entropy") == 1.0
    assert baselines._score(logits, np.array([1, 0]), None, 0, "cross_entropy") == 0.0


needs_torch = pytest.mark.skipif(not baselines.available(), reason=baselines.INSTALL)


@needs_torch
def test_the_delay_line_shifts_each_copy_by_its_delay():
    import torch
    net = baselines.BPTTNetwork("delay_lif", 2 * 3, 2, 4, 0.9, [0, 1, 3])
    x = torch.arange(10.0).reshape(1, 5, 2)
    lined = net.delay_line(x)
    np.testing.assert_array_equal(lined[0, :, 0:2].numpy(), x[0].numpy())
    np.testing.assert_array_equal(lined[0, 1:, 2:4].numpy(), x[0, :-1].numpy())
    np.testing.assert_array_equal(lined[0, 3:, 4:6].numpy(), x[0, :-3].numpy())
    assert float(lined[0, :3, 4:6].abs().sum()) == 0.0


@pytest.mark.training
@needs_torch
def test_quick_side_by_side_run_writes_every_system_task_and_dt(tmp_path):
    subprocess.run([sys.executable, os.path.join(REPO, "analyses", "baselines.py"), "--quick",
                    "--scheduler", "serial", "--out", str(tmp_path)], check=True,
                   capture_output=True, timeout=600)
    import csv
    with open(tmp_path / "baselines.csv") as f:
        rows = list(csv.DictReader(f))
    got = {(r["system"], r["task"], float(r["dt_ms"])) for r in rows}
    want = {(s, t, d) for t in ("delay", "itd", "timing") for s in baselines.systems_for(t)
            for d in (1.0, 0.5)}
    assert got == want
    for r in rows:                                  # twice the steps at half the dt
        if float(r["dt_ms"]) == 0.5:
            coarse = next(c for c in rows if c["system"] == r["system"] and c["task"] == r["task"]
                          and float(c["dt_ms"]) == 1.0)
            assert int(r["steps"]) == 2 * int(coarse["steps"])
        assert (float(r["autograd_mib_per_sample"]) > 0) == (r["system"] != "sgbrian")
        # the learner's buffers, measured for sgbrian's points only
        assert (r["learner_state_mib_per_sample"] != "") == (r["system"] == "sgbrian")
        if r["system"] == "sgbrian":
            assert float(r["learner_state_mib_per_sample"]) > 0
    # --collect rewrites the same CSV from the kept job results, running nothing (a job
    # result removed first: its row goes, and it is not rerun)
    first = (tmp_path / "baselines.csv").read_text()
    (tmp_path / "baselines.csv").unlink()
    collect = [sys.executable, os.path.join(REPO, "analyses", "baselines.py"), "--quick", "--collect",
               "--out", str(tmp_path)]
    subprocess.run(collect, check=True, capture_output=True, timeout=300)
    assert (tmp_path / "baselines.csv").read_text() == first
    jobs = tmp_path / "baseline_jobs" / "quick" / "sgbrian_point"
    removed = sorted(jobs.glob("*.json"))[0]
    removed.unlink()
    subprocess.run(collect, check=True, capture_output=True, timeout=300)
    with open(tmp_path / "baselines.csv") as f:
        assert len(list(csv.DictReader(f))) == len(rows) - 1
    assert not removed.exists()


def test_train_task_takes_task_settings_by_name_and_reports_training_time_alone():
    from sgbrian.experiments import train_task
    result = train_task("delay", epochs=1, n_train=2, n_test=1, duration=40 * ms, progress=False)
    assert len(result["task"].train) == 2 and result["task"].test[0].n_steps == 40
    assert 0 < result["train_seconds"] < result["seconds"]
    assert result["train_seconds"] == pytest.approx(result["history"]["seconds"].sum(), rel=0.5)
    with pytest.raises(ValueError, match=r"task setting must be one of \[.*'jitter'.*\], got 'jiter'"):
        train_task("timing", jiter=3 * ms)


def test_best_setting_takes_the_lowest_nrmse_and_the_highest_accuracy():
    rows = [{"system": "lif", "task": "delay", "score": "0.3", "lr": "1"},
            {"system": "lif", "task": "delay", "score": "0.2", "lr": "2"},
            {"system": "lif", "task": "itd", "score": 0.5, "lr": 3},
            {"system": "lif", "task": "itd", "score": 0.7, "lr": 4}]
    assert baselines.best_setting(rows, "lif", "delay")["lr"] == "2"
    assert baselines.best_setting(rows, "lif", "itd")["lr"] == 4
    assert baselines.best_setting(rows, "rlif", "itd") is None
    # ties and NaN: the smallest learning rate, then tau_mem, in any order of the rows
    tied = [{"system": "lif", "task": "timing", "score": s, "lr": lr, "tau_mem_ms": tau}
            for s, lr, tau in ((0.1, 1e-2, 20.0), (0.1, 1e-2, 5.0), (float("nan"), 1e-3, 5.0),
                               (0.1, 5e-2, 5.0))]
    for order in (tied, tied[::-1]):
        best = baselines.best_setting(order, "lif", "timing")
        assert (best["lr"], best["tau_mem_ms"]) == (1e-2, 5.0)


def test_only_points_of_the_chosen_setting_reach_the_csv():
    """A later tuning that picks another learning rate leaves the earlier setting's
    points out; sgbrian's points all stay."""
    tuning = [{"system": "lif", "task": "itd", "score": 0.4, "lr": 1e-2, "tau_mem_ms": 1.0},
              {"system": "lif", "task": "itd", "score": 0.8, "lr": 5e-2, "tau_mem_ms": 0.2}]
    rows = [{"system": "lif", "task": "itd", "dt_ms": 0.1, "lr": 1e-2, "tau_mem_ms": 1.0},
            {"system": "lif", "task": "itd", "dt_ms": 0.1, "lr": 5e-2, "tau_mem_ms": 0.2},
            {"system": "lif", "task": "itd", "dt_ms": 0.1, "lr": 5e-2, "tau_mem_ms": 1.0},
            {"system": "rlif", "task": "itd", "dt_ms": 0.1, "lr": 5e-2, "tau_mem_ms": 0.2},
            {"system": "sgbrian", "task": "itd", "dt_ms": 0.1}]
    kept = baselines.with_chosen_settings(rows, tuning)
    assert kept == [rows[1], rows[4]]


def test_summary_table_gives_mean_and_sample_sd_over_seeds_by_hand():
    def row(system, dt, seed, score, seconds, rss, kept, steps):
        return {"system": system, "task": "itd", "dt_ms": str(dt), "seed": str(seed), "score": str(score),
                "train_s_per_sample": str(seconds), "peak_rss_mib_per_sample": str(rss),
                "autograd_mib_per_sample": str(kept if system != "sgbrian" else 0.0), "steps": str(steps),
                "learner_state_mib_per_sample": str(kept) if system == "sgbrian" else ""}
    rows = [row("sgbrian", 0.5, 0, 0.80, 0.010, 2.0, 0.5, 30), row("sgbrian", 0.5, 1, 0.90, 0.020, 4.0, 0.5, 30),
            row("sgbrian", 0.5, 2, 1.00, 0.030, 6.0, "", 30), row("sgbrian", 1.0, 0, 0.40, 0.005, 1.0, 0.25, 15),
            row("lif", 0.5, 0, 0.30, 0.002, 9.0, 0.125, 30), row("lif", 0.5, 1, 0.20, 0.004, 9.0, 0.375, 30),
            {**row("lif", 0.5, 0, 0.1, 0.1, 0.1, 0.1, 30), "task": "timing"}]      # another task: left out
    states = [{"task": "itd", "dt_ms": 0.5, "seed": 2, "learner_state_mib_per_sample": 0.75}]
    merged = baselines.with_learner_state(rows, states)         # fills seed 2 at 0.5 ms only
    assert [r["learner_state_mib_per_sample"] for r in merged[:4]] == ["0.5", "0.5", 0.75, "0.25"]
    assert merged[4:] == rows[4:]                                # BPTT rows unchanged
    summary = baselines.over_seeds(rows, "itd", "sgbrian", "score")
    # mean 0.9, sample sd sqrt(((0.1)^2 + 0 + (0.1)^2) / 2) = 0.1; one seed at 1 ms: sd 0
    assert summary[0.5][0] == 30 and summary[0.5][3] == 3
    assert np.isclose(summary[0.5][1], 0.9) and np.isclose(summary[0.5][2], 0.1)
    assert summary[1.0] == (15, 0.4, 0.0, 1)
    # memory kept: the learner's buffers for sgbrian (two seeds measured: 0.5, sd 0), autograd's
    # tensors for BPTT (mean 0.25, sd 0.1768); peak RSS of every run (sgbrian: mean 4, sd 2)
    assert baselines.over_seeds(rows, "itd", "sgbrian", "memory")[0.5] == (30, 0.5, 0.0, 2)
    assert np.allclose(baselines.over_seeds(rows, "itd", "lif", "memory")[0.5][1:3], (0.25, 0.125 * 2 ** 0.5))
    assert np.allclose(baselines.over_seeds(rows, "itd", "sgbrian", "peak_rss_mib_per_sample")[0.5][1:3],
                       (4.0, 2.0))
    table = baselines.summary_table(rows, "itd").splitlines()
    assert table[:3] == ["itd: steps 15 / 30", "| system | 1 ms | 0.5 ms |", "|---|---|---|"]
    assert "| sgbrian score | 0.400 ± 0.000 (1) | 0.900 ± 0.100 |" in table
    assert "| BPTT LIF score | - | 0.250 ± 0.071 (2) |" in table
    assert "| sgbrian s / sample | 0.005 ± 0.000 (1) | 0.020 ± 0.010 |" in table
    assert "| sgbrian MiB / sample (learner state) | 0.250 ± 0.000 (1) | 0.500 ± 0.000 (2) |" in table
    assert "| BPTT LIF MiB / sample (autograd) | - | 0.250 ± 0.177 (2) |" in table
    assert "| sgbrian MiB / sample (peak RSS) | 1.00 ± 0.00 (1) | 4.00 ± 2.00 |" in table
    assert "| BPTT LIF MiB / sample (peak RSS) | - | 9.00 ± 0.00 (2) |" in table
    assert len(table) == 3 + 4 * 2


def test_the_learner_state_is_flat_without_delays_and_grows_with_delays_in_steps():
    """sgbrian_state_point: timing's network has no synaptic delays, so its learner keeps
    the same bytes at any dt; ITD's delays (up to 1 ms) span twice the steps at half the
    dt, so its sender cascades and gradient windows grow (without doubling: the readout's
    buffers and the traces do not depend on dt)."""
    timing = [baselines.sgbrian_state_point("timing", dt, 0, mode="quick")["learner_state_mib_per_sample"]
              for dt in (1.0, 0.5)]
    assert timing[0] == timing[1] > 0
    itd = [baselines.sgbrian_state_point("itd", dt, 0, mode="quick")["learner_state_mib_per_sample"]
           for dt in (0.1, 0.05)]
    assert itd[0] < itd[1] < 2 * itd[0]


def test_peak_rss_sees_an_allocation_inside_the_block_and_not_one_before():
    import time
    before = np.ones(20 * 2 ** 20 // 8)                              # 20 MiB, outside
    with baselines.PeakRSS() as memory:
        inside = np.ones(120 * 2 ** 20 // 8)                         # 120 MiB, touched
        time.sleep(0.1)                                              # sampled (every 5 ms)
        del inside                                                   # freed before the end
    assert 110 * 2 ** 20 <= memory.peak <= 200 * 2 ** 20
    assert not memory.thread.is_alive()
    del before


def test_each_systems_memory_is_read_from_its_own_column():
    assert baselines.memory_key("sgbrian") == "learner_state_mib_per_sample"
    for system in ("lif", "rlif", "delay_lif"):
        assert baselines.memory_key(system) == "autograd_mib_per_sample"
    assert baselines.memory_per_sample({"system": "sgbrian", "learner_state_mib_per_sample": "1.5",
                                        "autograd_mib_per_sample": 0.0}) == 1.5
    assert baselines.memory_per_sample({"system": "lif", "learner_state_mib_per_sample": 9.0,
                                        "autograd_mib_per_sample": 0.25}) == 0.25


@needs_torch
def test_the_saved_tensor_count_adds_each_distinct_tensor_once():
    """y = (a * b).sum() + (a * a).sum() saves a and b for the first product and a (twice,
    one tensor) for the second: a and b once each, 2 x 1000 float32 = 8000 bytes."""
    import torch
    a = torch.ones(1000, requires_grad=True)
    b = torch.full((1000,), 2.0, requires_grad=True)
    counter = [0]
    with baselines._count_saved(counter):
        y = (a * b).sum() + (a * a).sum()
    assert counter[0] == 2 * 1000 * 4
    y.backward()
    assert float(a.grad[0]) == 2.0 + 2.0


def test_the_baselines_losses_equal_the_formulas():
    """MSE weighted per step (sum w (out - target)^2 / sum w, every output), cross-entropy
    of the mean readout from ``start`` on, against numpy."""
    torch = pytest.importorskip("torch", reason=baselines.INSTALL)
    rng = np.random.default_rng(3)
    out, target = rng.normal(size=(2, 5, 3)), rng.normal(size=(2, 5, 3))
    weight = np.array([[1, 0, 2, 1, 0], [0.5, 1, 1, 0, 0]])
    got = baselines._loss(torch.tensor(out, dtype=torch.float32), target, weight, 0, "mse")
    expected = (weight[..., None] * (out - target) ** 2).sum() / weight.sum()
    assert float(got) == pytest.approx(expected, rel=1e-5)
    labels = np.array([2, 0])
    got = baselines._loss(torch.tensor(out, dtype=torch.float32), labels, None, 2, "cross_entropy")
    logits = out[:, 2:].mean(axis=1)
    log_softmax = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    assert float(got) == pytest.approx(-log_softmax[[0, 1], labels].mean(), rel=1e-5)


def tiny_classification(n_train=40, n_test=6, steps=7, channels=3, dt=1 * ms):
    """A hand-made spike task: sample k fires channel k % channels at step k % steps."""
    def sample(k):
        return Sample((np.array([k % channels]), np.array([k % steps]) * dt), k % 2, steps)
    return TaskData("tiny", [sample(k) for k in range(n_train)],
                    [sample(100 + k) for k in range(n_test)], dt, channels, 2, "cross_entropy")


@needs_torch
@pytest.mark.parametrize("system,validation", [("lif", False), ("delay_lif", True)])
def test_bptt_point_trains_in_seeded_batches_and_scores_the_held_out_samples(
        system, validation, monkeypatch):
    """``bptt_point`` with the task data and the network replaced by stand-ins (a linear
    readout of the input, recording what it is given): the network gets the delay line's
    width and ``beta = exp(-dt/tau_mem)``; one epoch (quick) visits the training samples
    in batches of 32 in the order ``default_rng(seed).permutation`` gives (validation:
    the first 80%); the score is the nearest-class score, from the loss start, of the
    trained stand-in's output on the test samples (validation: the last 20%); the
    autograd bytes are those of the largest batch's saved tensors."""
    import torch
    task = tiny_classification()
    monkeypatch.setattr(baselines, "task_data", lambda *args: task)
    built, built_models, seen = [], [], []

    class Readout(torch.nn.Module):
        def __init__(self, system_, n_in, n_out, hidden, beta, delays):
            super().__init__()
            built.append((system_, n_in, n_out, hidden, beta, list(delays)))
            built_models.append(self)
            torch.manual_seed(0)
            self.w = torch.nn.Parameter(torch.randn(n_in, n_out))

        def forward(self, x):
            if torch.is_grad_enabled():
                seen.append(x.numpy().copy())
            self.hidden_spikes = float(x.sum())      # a count to follow through
            return x @ self.w[:x.shape[-1]]          # the first channels (no delay line here)

    monkeypatch.setattr(baselines, "BPTTNetwork", Readout)
    dt_ms = 1.0
    got = baselines.bptt_point(system, "itd", dt_ms, seed=4, mode="quick", lr=0.01, tau_mem=0.5,
                               validation=validation)
    delays = baselines.delay_line_steps("itd", dt_ms) if system == "delay_lif" else [0]
    assert built == [(system, 3 * len(delays), 2, baselines.HIDDEN, pytest.approx(np.exp(-2.0)),
                      list(delays))]
    x, labels, _, _ = task.dense("train")
    x_test, test_labels, _, _ = task.dense("test")
    if validation:
        x, x_test, test_labels = x[:32], x[32:], labels[32:]
        labels = labels[:32]
    order = np.random.default_rng(4).permutation(len(x))
    batches = [order[b:b + 32] for b in range(0, len(order), 32)]
    assert len(seen) == len(batches)
    for batch, inputs in zip(batches, seen):
        np.testing.assert_array_equal(inputs, x[batch])
    model = built_models[0]
    start = int(round(baselines.LOSS_START["itd"] / dt_ms))
    with torch.no_grad():
        out = model(torch.tensor(x_test, dtype=torch.float32)).numpy()
    assert got["score"] == np.mean(out[:, start:].mean(axis=1).argmax(axis=1) == test_labels)
    assert got["steps"] == 7 and (got["lr"], got["tau_mem_ms"]) == (0.01, 0.5)
    tested_seconds = len(x_test) * 7 * dt_ms * 1e-3
    assert got["spikes_per_neuron_per_s"] == pytest.approx(
        x_test.sum() / (baselines.HIDDEN * tested_seconds))
    assert got["train_s_per_sample"] > 0 and got["peak_rss_mib_per_sample"] >= 0
    largest = max(batches, key=len)
    saved = [0]
    with baselines._count_saved(saved):
        baselines._loss(model(torch.tensor(x[largest], dtype=torch.float32)), labels[largest],
                        None, start, "cross_entropy")
    assert got["autograd_mib_per_sample"] == saved[0] / 2 ** 20 / 32 > 0


@needs_torch
def test_the_baseline_network_counts_its_hidden_spikes():
    """``hidden_spikes`` after a call equals the spikes of the hidden LIF stepped by hand
    over the same drive (snnTorch's Leaky: reset by subtraction, threshold 1)."""
    import torch
    torch.manual_seed(3)
    model = baselines.BPTTNetwork("lif", 4, 2, 6, 0.8, [0])
    x = torch.rand(3, 20, 4) * 3
    with torch.no_grad():
        model(x)
        drive = model.fc1(x)
        mem, count = torch.zeros(3, 6), 0.0
        for t in range(20):
            reset = (mem > 1.0).float()
            mem = 0.8 * mem + drive[:, t] - reset
            count += float((mem > 1.0).sum())
    assert model.hidden_spikes == count > 10


def test_sgbrian_point_reports_the_training_it_ran_per_sample(monkeypatch):
    """``sgbrian_point`` with ``train_at`` replaced by a stand-in that records its call:
    the task data of the point go to ``train_at`` with its settings; the score is the
    test metric named by the result; seconds per sample count every epoch's samples."""
    task = tiny_classification(n_train=10, steps=9)
    monkeypatch.setattr(baselines, "task_data", lambda *args: task)
    calls = []

    def train_at(*args):
        calls.append(args)
        return {"history": [{}, {}, {}], "metric": "accuracy", "train_seconds": 6.0,
                "test": {"accuracy": 0.625, "nrmse": 9.0}}

    monkeypatch.setattr(baselines, "train_at", train_at)
    got = baselines.sgbrian_point("itd", 0.5, 3, mode="quick", target="cython", rule="spatial")
    assert calls == [("itd", 0.5, 3, "quick", "cython", task, "spatial")]
    assert (got["system"], got["task"], got["dt_ms"], got["seed"]) == ("sgbrian", "itd", 0.5, 3)
    assert got["steps"] == 9 and got["score"] == 0.625
    assert got["train_s_per_sample"] == pytest.approx(6.0 / (10 * 3))
    assert got["autograd_mib_per_sample"] == 0.0 and got["peak_rss_mib_per_sample"] >= 0
