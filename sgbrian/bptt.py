"""The BPTT library a user would pick instead, on event datasets of any size.

:func:`train_lif` trains the feedforward snnTorch LIF network of
:mod:`sgbrian.baselines` (input -> Linear -> LIF hidden -> Linear -> leaky readout
without reset; cross-entropy of the readout's mean membrane over the steps from
``loss_start``; Adam) on lists of spike-train samples such as ``sgbrian.tasks.shd_task``
gives sgbrian's learner, turning each batch into dense spike counts per step only when it
runs (a whole SHD epoch as dense float32 at dt = 0.1 ms would take 230 GB). Torch runs on
one thread. Needs the ``baselines`` extra (torch, snnTorch).
"""
import time

import numpy as np
from brian2 import second

from .baselines import BATCH, BPTTNetwork, PeakRSS


def dense_spikes(samples, dt, channels):
    """Spike counts per step and channel (a spike at time t is in step floor(t / dt);
    samples shorter than the longest end in zeros).

    Parameters
    ----------
    samples : list of Sample
        Spike samples.
    dt : Quantity
        Time step.
    channels : int
        Input channels.

    Returns
    -------
    ndarray
        (len(samples), steps, channels), float32.
    """
    steps = max(s.n_steps for s in samples)
    x = np.zeros((len(samples), steps, channels), np.float32)
    for k, s in enumerate(samples):
        bins = np.floor(np.asarray(s.input[1] / second) / float(dt / second) + 1e-9).astype(int)
        np.add.at(x[k], (bins, np.asarray(s.input[0], int)), 1.0)
    return x


def _batches(samples, order, size):
    return [[samples[i] for i in order[a:a + size]] for a in range(0, len(order), size)]


def train_lif(task, epochs, hidden=256, lr=2e-3, tau_mem=20.0, loss_start=0.0, batch=BATCH,
              seed=0, warm_up=True, stream=None, train=None, test=None):
    """Train the snnTorch LIF network with BPTT on the spike samples of a task, testing
    after every epoch.

    Parameters
    ----------
    task : TaskData
        With class labels: its ``dt``, inputs and outputs.
    epochs : int
        Epochs.
    hidden : int
        Hidden neurons.
    lr : float
        Adam's learning rate.
    tau_mem : float
        Membrane time constant in ms.
    loss_start : float
        Time in ms from which the loss counts.
    batch : int
        Batch size.
    seed : int
        Seed of torch and of the order of samples.
    warm_up : bool
        One untimed batch first (torch's first allocations).
    stream : file, optional
        Where progress goes.
    train, test : list of Sample, optional
        Other lists of the task's samples.

    Returns
    -------
    dict
        ``accuracy`` per epoch, ``train_s_per_sample`` (training only, after the
        warm-up), ``peak_rss_mib`` (above the start, whole run), ``epoch_seconds``.
    """
    import torch
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    train = task.train if train is None else train
    test = task.test if test is None else test
    dt, n_in, n_out = task.dt, task.n_inputs, task.n_outputs
    dt_ms = float(dt / second) * 1e3
    model = BPTTNetwork("lif", n_in, n_out, hidden, float(np.exp(-dt_ms / tau_mem)), np.array([0]))
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    start = int(round(loss_start / dt_ms))
    rng = np.random.default_rng(seed)

    def step(samples):
        x = torch.from_numpy(dense_spikes(samples, dt, n_in))
        labels = torch.tensor([int(s.target) for s in samples])
        out = model(x)
        loss = torch.nn.functional.cross_entropy(out[:, start:].mean(dim=1), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    def accuracy():
        correct = 0
        with torch.no_grad():
            for samples in _batches(test, np.arange(len(test)), batch):
                out = model(torch.from_numpy(dense_spikes(samples, dt, n_in)))
                predicted = out[:, start:].mean(dim=1).argmax(dim=1).numpy()
                correct += int(np.sum(predicted == [int(s.target) for s in samples]))
        return correct / len(test)

    with PeakRSS() as memory:
        if warm_up:
            step(train[:batch])
        seconds, accuracies, epoch_seconds = 0.0, [], []
        for epoch in range(epochs):
            began = time.perf_counter()
            for samples in _batches(train, rng.permutation(len(train)), batch):
                step(samples)
            spent = time.perf_counter() - began
            seconds += spent
            accuracies.append(accuracy())
            epoch_seconds.append(spent)
            if stream is not None:
                stream.write(f"BPTT LIF epoch {epoch}: test accuracy {accuracies[-1]:.3f}, "
                             f"{len(train) / spent:.1f} samples/s\n")
                stream.flush()
    return {"accuracy": accuracies, "train_s_per_sample": seconds / (epochs * len(train)),
            "peak_rss_mib": memory.peak / 2 ** 20, "epoch_seconds": epoch_seconds}
