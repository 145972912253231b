"""The BPTT library baseline on event datasets (sgbrian.bptt) and the SHD experiment's network."""
import numpy as np
import pytest
from brian2 import defaultclock, ms

from sgbrian import baselines
from sgbrian.datasets import Sample, TaskData
from sgbrian.experiments import EXPERIMENTS


def test_dense_spikes_counts_spikes_per_step_and_channel():
    """A spike at t goes to step floor(t / dt) of its channel; two in one step count 2;
    a shorter sample ends in zeros."""
    from sgbrian.bptt import dense_spikes
    a = Sample((np.array([0, 2, 2, 1]), np.array([0.0, 0.4, 0.7, 2.9]) * ms), 0, 3)
    b = Sample((np.array([1]), np.array([0.99]) * ms), 1, 2)
    x = dense_spikes([a, b], 1 * ms, 3)
    expected = np.zeros((2, 3, 3), np.float32)
    expected[0, 0, 0] = 1
    expected[0, 0, 2] = 2
    expected[0, 2, 1] = 1
    expected[1, 0, 1] = 1
    assert x.dtype == np.float32
    np.testing.assert_array_equal(x, expected)


@pytest.mark.skipif(not baselines.available(), reason=baselines.INSTALL)
def test_the_lif_baseline_learns_which_channel_fires_on_the_tasks_own_grid():
    """Two classes told apart by the channel that fires (three spikes in 20 steps at
    1 ms): the snnTorch LIF reaches test accuracy 1 within 8 epochs, and reports one
    accuracy and one time per epoch."""
    from sgbrian.bptt import train_lif
    rng = np.random.default_rng(0)
    dt = 1 * ms

    def sample(label):
        steps = np.sort(rng.choice(np.arange(2, 18), 3, replace=False))
        return Sample((np.full(3, label), steps * dt), label, 20)
    samples = [sample(k % 2) for k in range(96)]
    task = TaskData("which", samples[:64], samples[64:], dt, 2, 2, "cross_entropy")
    result = train_lif(task, 8, hidden=16, lr=2e-2, tau_mem=10.0, batch=16)
    assert len(result["accuracy"]) == len(result["epoch_seconds"]) == 8
    assert result["accuracy"][-1] == 1.0
    assert result["train_s_per_sample"] > 0 and result["peak_rss_mib"] >= 0


def test_the_shd_network_delays_its_inputs_only_and_the_experiment_batches_32():
    """700 -> 256 -> 20: input delays whole steps in [0, 25 ms] drawn per synapse, the
    readout's all 0 with no payload history; theta 0.1; rule 'adjoint', batch 32."""
    from sgbrian.tasks import shd_network
    defaultclock.dt = 1 * ms
    spikes = (np.array([0, 699]), np.array([0.0, 3.0]) * ms)
    task = TaskData("shd", [Sample(spikes, 3, 10)], [], defaultclock.dt, 700, 20, "cross_entropy")
    net = shd_network(task)
    steps = np.rint(net.synapses[0].delay[:] / defaultclock.dt)
    assert len(net.synapses[0]) == 700 * 256 and len(net.synapses[1]) == 256 * 20
    assert steps.min() == 0 and steps.max() == 25 and len(np.unique(steps)) == 26
    assert np.all(net.synapses[1].delay[:] == 0 * ms) and net.layers[1].max_lag == 0
    assert np.all(net.layers[1].group.theta[:] == 0.1)
    ex = EXPERIMENTS["shd"]
    assert (ex.rule, ex.batch_size, ex.train) == ("adjoint", 32, ("w", "v", "b", "d"))
