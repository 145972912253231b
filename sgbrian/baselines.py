"""The methods a user would pick instead: snnTorch networks trained with BPTT, on the same
task data, splits and time steps as sgbrian's online learner.

Each task is generated on its fine master grid (``sgbrian.precision.master_task``) and
re-gridded to every dt (``tasks.regrid``), so all systems and all dts see the same
samples; the BPTT baselines get them as dense arrays (``TaskData.dense``). Baselines
(snnTorch ``Leaky`` neurons, fast-sigmoid surrogate gradient, Adam, batches of 32, the
same epochs as the sgbrian experiment):

- ``lif``: input -> Linear -> LIF hidden (64) -> Linear -> leaky readout (no reset);
- ``rlif``: the same with an all-to-all recurrent hidden layer (``RLeaky``);
- ``delay_lif``: ``lif`` fed through a fixed delay line: every input channel is copied
  with delays 0, s, 2 s, ... up to the sgbrian network's largest delay (ITD: s = 0.05 ms
  up to 1 ms; delay task: s = 1 ms up to 10 ms), rounded to whole steps, duplicates
  dropped. Only for the delay-based tasks (delay, ITD).

Membrane time constants are physical (beta = exp(-dt / tau_mem)), so a baseline's
dynamics are the same at every dt. Classification: cross-entropy of the readout's mean
membrane potential over the steps after the experiment's loss start; regression: MSE of
the readout membrane against the target at every weighted step (NRMSE as sgbrian's).
Light tuning, on a validation split (the last 20% of the training samples) at the
experiment's own dt with seed 0, never on the test set: learning rate in {2e-3, 1e-2, 5e-2}
and tau_mem in the task's two values below.
"""
import threading
import time

import numpy as np
from brian2 import defaultclock, ms, prefs

from .experiments import EXPERIMENTS, build_learner
from .comparison import (SUMMARY_ROWS, SYSTEM_NAMES, SYSTEMS, best_setting, memory_key, memory_per_sample,
                         over_seeds, summary_table, with_chosen_settings, with_learner_state)
from .precision import SWEEP_RULE, task_data, train_at, update_interval

#: The comparison's tables are re-exported: ``sgbrian.baselines.summary_table`` works.
__all__ = ["SYSTEMS", "DELAY_LINES", "TAU_MEM", "LEARNING_RATES", "HIDDEN", "BATCH", "LOSS_START",
           "INSTALL", "available", "systems_for", "delay_line_steps", "PeakRSS", "sgbrian_point",
           "sgbrian_state_point", "bptt_point", "BPTTNetwork", "SUMMARY_ROWS", "SYSTEM_NAMES",
           "best_setting", "memory_key", "memory_per_sample", "over_seeds", "summary_table",
           "with_chosen_settings", "with_learner_state"]

DELAY_LINES = {"delay": (1.0, 10.0), "itd": (0.05, 1.0)}      # (spacing, longest) in ms
TAU_MEM = {"delay": (2.0, 10.0), "itd": (0.2, 1.0), "timing": (5.0, 20.0)}   # ms
LEARNING_RATES = (2e-3, 1e-2, 5e-2)
HIDDEN = 64
BATCH = 32                                                     # BPTT batch, as sgbrian's
LOSS_START = {"delay": 0.0, "itd": 2.0, "timing": 20.0}       # ms, as the experiments'
INSTALL = ("the BPTT baselines need torch and snnTorch: pip install -e '.[baselines]' "
           "(the CPU build of torch where the local wheel folder offers it)")


def available():
    """Whether the baselines can run.

    Returns
    -------
    bool
        True if torch and snnTorch can be imported.
    """
    try:
        import snntorch  # noqa: F401
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def systems_for(task):
    """The BPTT systems run on a task: every one, less the delay-line LIF where the task has
    no delay line set (``DELAY_LINES``).

    Parameters
    ----------
    task : str
        The experiment.

    Returns
    -------
    list of str
        The systems.
    """
    return [s for s in SYSTEMS if s != "delay_lif" or task in DELAY_LINES]


def delay_line_steps(task, dt_ms):
    """Whole-step delays of the fixed delay line (duplicates dropped).

    Parameters
    ----------
    task : str
        The experiment (a key of ``DELAY_LINES``).
    dt_ms : float
        Time step in ms.

    Returns
    -------
    list of int
        The delays in steps.
    """
    spacing, longest = DELAY_LINES[task]
    return np.unique(np.rint(np.arange(0.0, longest + 1e-9, spacing) / dt_ms).astype(int))


class PeakRSS:
    """Peak resident memory above the start, sampled every 5 ms in a thread (bytes)."""

    def __enter__(self):
        import psutil
        self.process, self.peak, self.running = psutil.Process(), 0, True
        self.start = self.process.memory_info().rss
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def _sample(self):
        while self.running:
            self.peak = max(self.peak, self.process.memory_info().rss - self.start)
            time.sleep(0.005)

    def __exit__(self, *exc):
        self.running = False
        self.thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss - self.start)


def sgbrian_point(task, dt_ms, seed, mode="full", target="numpy", rule=None):
    """Train sgbrian's experiment at a dt with its own settings (batch, learning rate,
    epochs, update interval fixed in time: :func:`sgbrian.precision.train_at`, as in the
    temporal-precision sweep).

    Parameters
    ----------
    task : str
        The experiment ('delay', 'itd', 'timing').
    dt_ms : float
        Time step in ms.
    seed : int
        Seed of the task data and the network.
    mode : str
        'full' or 'quick' (the sweep's sizes).
    target : str
        Code generation target.
    rule : str, optional
        Gradient method (default the sweep's, ``SWEEP_RULE``).

    Returns
    -------
    dict
        Score, training seconds and peak RSS per sample (over the samples run side by
        side: the experiment's batch size).
    """
    data = task_data(task, dt_ms, seed, mode)
    with PeakRSS() as memory:
        result = train_at(task, dt_ms, seed, mode, target, data, rule)
    visited = len(data.train) * len(result["history"])
    return {"system": "sgbrian", "task": task, "dt_ms": dt_ms, "seed": seed,
            "steps": int(data.train[0].n_steps), "score": float(result["test"][result["metric"]]),
            "train_s_per_sample": result["train_seconds"] / visited,
            "peak_rss_mib_per_sample": memory.peak / 2 ** 20 / EXPERIMENTS[task].batch_size,
            "autograd_mib_per_sample": 0.0}


def sgbrian_state_point(task, dt_ms, seed, mode="full"):
    """The memory sgbrian's online rule keeps per sample: the bytes of the learner's
    buffers for the experiment's batch (``Engine.state_nbytes``: sender cascades, gradient
    windows, traces) over the batch size. The learner is built as ``sgbrian_point`` trains
    it; the buffers are allocated then, so nothing is run.

    Parameters
    ----------
    task : str
        The experiment ('delay', 'itd', 'timing').
    dt_ms : float
        Time step in ms.
    seed : int
        Seed of the task data and the network.
    mode : str
        'full' or 'quick' (the sweep's sizes).

    Returns
    -------
    dict
        The point and ``learner_state_mib_per_sample`` (MiB).
    """
    ex = EXPERIMENTS[task]
    prefs.codegen.target = "numpy"
    data = task_data(task, dt_ms, seed, mode)
    defaultclock.dt = dt_ms * ms
    _, learner = build_learner(task, data, seed, update_every=update_interval(ex, dt_ms * ms),
                               rule=SWEEP_RULE[task])
    return {"system": "sgbrian", "task": task, "dt_ms": dt_ms, "seed": seed,
            "learner_state_mib_per_sample":
                learner.engine(ex.batch_size).state_nbytes() / 2 ** 20 / ex.batch_size}


def bptt_point(system, task, dt_ms, seed, mode="full", lr=None, tau_mem=None, validation=False):
    """Train an snnTorch baseline on a task at a dt with BPTT.

    Parameters
    ----------
    system : str
        'lif', 'rlif' or 'delay_lif'.
    task : str
        The experiment ('delay', 'itd', 'timing').
    dt_ms : float
        Time step in ms.
    seed : int
        Seed of the task data and the network.
    mode : str
        'full' or 'quick' (the sweep's sizes).
    lr : float, optional
        Learning rate (default: the tuned one).
    tau_mem : float, optional
        Membrane time constant in ms (default: the tuned one).
    validation : bool
        Train on the first 80% of the training samples and score the rest.

    Returns
    -------
    dict
        Score, the hidden neurons' spikes per neuron per second on the test samples,
        training seconds per sample, peak RSS and autograd memory per sample (the bytes of
        the tensors autograd saved for the backward pass of one batch).
    """
    import torch
    torch.manual_seed(seed)
    torch.set_num_threads(1)
    lr = lr or LEARNING_RATES[0]
    tau_mem = tau_mem or TAU_MEM[task][0]
    ex = EXPERIMENTS[task]
    data = task_data(task, dt_ms, seed, mode)
    x_train, y_train, w_train, _ = data.dense("train")
    x_test, y_test, w_test, _ = data.dense("test")
    if validation:
        cut = int(0.8 * len(x_train))
        x_train, x_test = x_train[:cut], x_train[cut:]
        y_train, y_test = y_train[:cut], y_train[cut:]
        w_train, w_test = w_train[:cut], w_train[cut:]
    delays = delay_line_steps(task, dt_ms) if system == "delay_lif" else np.array([0])
    model = BPTTNetwork(system, data.n_inputs * len(delays), data.n_outputs, HIDDEN,
                        float(np.exp(-dt_ms / tau_mem)), delays)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    start = int(round(LOSS_START[task] / dt_ms))
    epochs = 1 if mode == "quick" else ex.epochs
    rng = np.random.default_rng(seed)
    saved = [0]
    start_time = time.perf_counter()
    with PeakRSS() as memory:
        for _ in range(epochs):
            order = rng.permutation(len(x_train))
            for b in range(0, len(order), BATCH):
                idx = order[b:b + BATCH]
                batch_saved = [0]
                with _count_saved(batch_saved):
                    out = model(torch.tensor(x_train[idx], dtype=torch.float32))
                    loss = _loss(out, y_train[idx], w_train[idx], start, data.loss)
                saved[0] = max(saved[0], batch_saved[0])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
    seconds = time.perf_counter() - start_time
    with torch.no_grad():
        out = model(torch.tensor(x_test, dtype=torch.float32)).numpy()
    seconds_tested = len(x_test) * x_test.shape[1] * dt_ms * 1e-3
    return {"system": system, "task": task, "dt_ms": dt_ms, "seed": seed,
            "steps": int(x_train.shape[1]), "score": _score(out, y_test, w_test, start, data.loss),
            "spikes_per_neuron_per_s": model.hidden_spikes / (HIDDEN * seconds_tested),
            "train_s_per_sample": seconds / (len(x_train) * epochs),
            "peak_rss_mib_per_sample": memory.peak / 2 ** 20 / BATCH,
            "autograd_mib_per_sample": saved[0] / 2 ** 20 / BATCH, "lr": lr, "tau_mem_ms": tau_mem}


def _count_saved(counter):
    """Add the bytes of every distinct tensor autograd saves to ``counter[0]``."""
    import torch
    seen = set()

    def pack(t):
        key = (t.data_ptr(), t.numel())
        if key not in seen:
            seen.add(key)
            counter[0] += t.numel() * t.element_size()
        return t
    return torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t)


def _loss(out, target, weight, start, kind):
    import torch
    if kind == "mse":
        w = torch.tensor(weight, dtype=torch.float32)[..., None]
        return (w * (out - torch.tensor(target, dtype=torch.float32)) ** 2).sum() / w.sum()
    logits = out[:, start:].mean(dim=1)
    return torch.nn.functional.cross_entropy(logits, torch.tensor(target))


def _score(out, target, weight, start, kind):
    if kind == "mse":
        counted = weight > 0
        error = out[counted] - target[counted]
        t = target[counted]
        return float(np.sqrt((error ** 2).sum() / ((t - t.mean()) ** 2).sum()))
    return float(np.mean(out[:, start:].mean(axis=1).argmax(axis=1) == target))


def _make_module():
    import snntorch as snn
    import torch
    from snntorch import surrogate

    class Network(torch.nn.Module):
        """Input (batch, steps, channels) -> [delay line] -> Linear -> (R)LIF -> Linear ->
        leaky readout without reset; returns the readout membrane (batch, steps, n_out)
        and keeps the hidden spikes of the call in ``hidden_spikes``."""

        def __init__(self, system, n_in, n_out, hidden, beta, delays):
            super().__init__()
            self.delays = [int(d) for d in delays]
            spike_grad = surrogate.fast_sigmoid()
            self.fc1 = torch.nn.Linear(n_in, hidden)
            self.recurrent = system == "rlif"
            if self.recurrent:
                self.lif1 = snn.RLeaky(beta=beta, linear_features=hidden, spike_grad=spike_grad,
                                       all_to_all=True)
            else:
                self.lif1 = snn.Leaky(beta=beta, spike_grad=spike_grad)
            self.fc2 = torch.nn.Linear(hidden, n_out)
            self.readout = snn.Leaky(beta=beta, reset_mechanism="none")

        def delay_line(self, x):
            if self.delays == [0]:
                return x
            copies = [torch.nn.functional.pad(x, (0, 0, d, 0))[:, :x.shape[1]] for d in self.delays]
            return torch.cat(copies, dim=2)

        def forward(self, x):
            x = self.delay_line(x)
            if self.recurrent:
                spk, mem1 = self.lif1.init_rleaky()
            else:
                mem1 = self.lif1.init_leaky()
            mem2 = self.readout.init_leaky()
            outputs = []
            # one product for every step, then one view per step: unbind's backward
            # stacks the steps' gradients once (indexing drive[:, t] would allocate a
            # zero tensor of drive's size per step: 6x slower at 1,000 steps)
            drive = self.fc1(x).unbind(1)
            spikes = []
            for t in range(x.shape[1]):
                if self.recurrent:
                    spk, mem1 = self.lif1(drive[t], spk, mem1)
                else:
                    spk, mem1 = self.lif1(drive[t], mem1)
                _, mem2 = self.readout(self.fc2(spk), mem2)
                outputs.append(mem2)
                spikes.append(spk.detach().sum())
            self.hidden_spikes = float(torch.stack(spikes).sum())
            return torch.stack(outputs, dim=1)
    return Network


def BPTTNetwork(system, n_in, n_out, hidden, beta, delays):       # noqa: N802 - a class factory
    """The snnTorch network of a baseline (torch is imported only here).

    Parameters
    ----------
    system : str
        'lif', 'rlif' or 'delay_lif'.
    n_in, n_out : int
        Input channels (after the delay line) and outputs.
    hidden : int
        Hidden neurons.
    beta : float
        ``exp(-dt / tau_mem)``.
    delays : list of int
        Delay line in steps (``delay_lif``; else empty).

    Returns
    -------
    torch.nn.Module
        The network.
    """
    return _make_module()(system, n_in, n_out, hidden, beta, delays)
