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
from .precision import SWEEP_RULE, task_data, train_at, update_interval

SYSTEMS = ("sgbrian", "lif", "rlif", "delay_lif")
DELAY_LINES = {"delay": (1.0, 10.0), "itd": (0.05, 1.0)}      # (spacing, longest) in ms
TAU_MEM = {"delay": (2.0, 10.0), "itd": (0.2, 1.0), "timing": (5.0, 20.0)}   # ms
LEARNING_RATES = (2e-3, 1e-2, 5e-2)
HIDDEN = 64
BATCH = 32                                                     # BPTT batch, as sgbrian's
LOSS_START = {"delay": 0.0, "itd": 2.0, "timing": 20.0}       # ms, as the experiments'
INSTALL = ("the BPTT baselines need torch and snnTorch: pip install -e '.[baselines]' "
           "(the CPU build of torch where the local wheel folder offers it)")


def available():
    """True if torch and snnTorch can be imported."""
    try:
        import snntorch  # noqa: F401
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def systems_for(task):
    """The BPTT systems run on ``task``: every one, less the delay-line LIF where the task has
    no delay line set (``DELAY_LINES``)."""
    return [s for s in SYSTEMS if s != "delay_lif" or task in DELAY_LINES]


def delay_line_steps(task, dt_ms):
    """Whole-step delays of the fixed delay line at ``dt_ms`` (duplicates dropped)."""
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
    """Train sgbrian's experiment ``task`` at ``dt_ms`` (its own settings: batch, learning
    rate, epochs, update interval fixed in time: ``precision.train_at``, as in the
    temporal-precision sweep; the sweep's rule ``SWEEP_RULE``, or ``rule``). Returns score,
    training seconds and peak RSS per sample (over the samples run side by side: the
    experiment's batch size)."""
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
    """The memory sgbrian's online rule keeps per sample on ``task`` at ``dt_ms``: the bytes
    of the learner's buffers for the experiment's batch (``Engine.state_nbytes``: sender
    cascades, gradient windows, traces) over the batch size, in MiB. The learner is built
    as ``sgbrian_point`` trains it; the buffers are allocated then, so nothing is run."""
    ex = EXPERIMENTS[task]
    prefs.codegen.target = "numpy"
    data = task_data(task, dt_ms, seed, mode)
    defaultclock.dt = dt_ms * ms
    _, learner = build_learner(task, data, seed, update_every=update_interval(ex, dt_ms * ms),
                               rule=SWEEP_RULE[task])
    return {"system": "sgbrian", "task": task, "dt_ms": dt_ms, "seed": seed,
            "learner_state_mib_per_sample":
                learner.engine(ex.batch_size).state_nbytes() / 2 ** 20 / ex.batch_size}


def with_learner_state(rows, states):
    """``rows`` with each sgbrian row's ``learner_state_mib_per_sample`` taken from the
    ``sgbrian_state_point`` result of the same task, dt and seed in ``states``."""
    key = lambda r: (r["task"], float(r["dt_ms"]), int(r["seed"]))      # noqa: E731
    by_point = {key(s): s["learner_state_mib_per_sample"] for s in states}
    return [{**r, "learner_state_mib_per_sample": by_point[key(r)]}
            if r["system"] == "sgbrian" and key(r) in by_point else r for r in rows]


def bptt_point(system, task, dt_ms, seed, mode="full", lr=None, tau_mem=None, validation=False):
    """Train snnTorch baseline ``system`` on ``task`` at ``dt_ms`` with BPTT. With
    ``validation``: train on the first 80% of the training samples and score the rest.
    Returns score, training seconds per sample, peak RSS and autograd memory per sample
    (the bytes of the tensors autograd saved for the backward pass of one batch)."""
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
    return {"system": system, "task": task, "dt_ms": dt_ms, "seed": seed,
            "steps": int(x_train.shape[1]), "score": _score(out, y_test, w_test, start, data.loss),
            "train_s_per_sample": seconds / (len(x_train) * epochs),
            "peak_rss_mib_per_sample": memory.peak / 2 ** 20 / BATCH,
            "autograd_mib_per_sample": saved[0] / 2 ** 20 / BATCH, "lr": lr, "tau_mem_ms": tau_mem}


def best_setting(rows, system, task):
    """The row of ``rows`` (tuning results of ``bptt_point(..., validation=True)``, as
    dicts or CSV rows) with the best validation score of ``system`` on ``task`` (lowest
    NRMSE, highest accuracy); None if there is none. Ties (and NaN scores, which count as
    worst) go to the smallest learning rate, then the smallest tau_mem, so that the choice
    does not depend on the order of ``rows``."""
    mine = [r for r in rows if r["system"] == system and r["task"] == task]
    if not mine:
        return None
    sign = 1.0 if EXPERIMENTS[task].metric == "nrmse" else -1.0

    def rank(r):
        score = float(r["score"])
        return (sign * score if np.isfinite(score) else np.inf, float(r["lr"]),
                float(r.get("tau_mem_ms", 0.0)))
    return min(mine, key=rank)


def with_chosen_settings(rows, tuning):
    """The rows of ``rows`` that sgbrian produced or that a BPTT baseline produced with
    the setting :func:`best_setting` chooses from ``tuning`` now (points of a setting
    that a later tuning replaced are left out)."""
    def chosen(row):
        if row["system"] == "sgbrian":
            return True
        best = best_setting(tuning, row["system"], row["task"])
        return best is not None and (float(best["lr"]), float(best["tau_mem_ms"])) == (
            float(row["lr"]), float(row["tau_mem_ms"]))
    return [r for r in rows if chosen(r)]


SUMMARY_ROWS = (("score", "score", 3), ("train_s_per_sample", "s / sample", 3),
                ("memory", "MiB / sample", 3), ("peak_rss_mib_per_sample", "MiB / sample (peak RSS)", 2))
SYSTEM_NAMES = {"sgbrian": "sgbrian", "lif": "BPTT LIF", "rlif": "BPTT recurrent LIF",
                "delay_lif": "BPTT LIF + delay line"}


def memory_per_sample(row):
    """The memory a learning method keeps per sample, MiB: for BPTT the tensors autograd
    saves for the backward pass (``autograd_mib_per_sample``), for sgbrian the learner's
    buffers (``learner_state_mib_per_sample``, :func:`sgbrian_state_point`)."""
    return float(row[memory_key(row["system"])])


def memory_key(system):
    """The CSV column of the memory ``system`` keeps for learning (see :func:`memory_per_sample`)."""
    return "learner_state_mib_per_sample" if system == "sgbrian" else "autograd_mib_per_sample"


def over_seeds(rows, task, system, key):
    """``{dt_ms: (steps, mean, sd, n)}`` of ``key`` (a column of the CSV, or "memory":
    :func:`memory_per_sample`) over the seeds of ``system`` on ``task`` at each dt; sd is the
    sample standard deviation (ddof = 1; 0 for one seed). Rows without the value (an
    empty CSV cell: not measured) are left out."""
    by_dt = {}
    for r in rows:
        if r["task"] == task and r["system"] == system:
            try:
                value = memory_per_sample(r) if key == "memory" else float(r[key])
            except (KeyError, TypeError, ValueError):
                continue
            by_dt.setdefault(float(r["dt_ms"]), (int(r["steps"]), []))[1].append(value)
    out = {}
    for dt, (steps, values) in by_dt.items():
        sd = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
        out[dt] = (steps, float(np.mean(values)), sd, len(values))
    return out


def summary_table(rows, task, seeds=3):
    """Markdown table of ``task``: one column per dt (coarsest first), one row per system
    and quantity (score, training seconds per sample, memory kept for learning per sample,
    peak RSS per sample), each cell
    "mean ± sd", with "(n)" where fewer than ``seeds`` seeds ran and "-" where none did.
    The first line gives the time steps per sample at each dt."""
    systems = [s for s in SYSTEMS if any(r["task"] == task and r["system"] == s for r in rows)]
    dts = sorted({float(r["dt_ms"]) for r in rows if r["task"] == task}, reverse=True)
    steps = {dt: int(r["steps"]) for r in rows if r["task"] == task for dt in [float(r["dt_ms"])]}
    lines = [f"{task}: steps " + " / ".join(str(steps[dt]) for dt in dts),
             "| system | " + " | ".join(f"{dt:g} ms" for dt in dts) + " |",
             "|---|" + "---|" * len(dts)]
    for key, label, digits in SUMMARY_ROWS:
        for system in systems:
            summary = over_seeds(rows, task, system, key)
            cells = []
            for dt in dts:
                if dt not in summary:
                    cells.append("-")
                    continue
                _, mean, sd, n = summary[dt]
                cells.append(f"{mean:.{digits}f} ± {sd:.{digits}f}" + (f" ({n})" if n < seeds else ""))
            kind = "" if key != "memory" else " (learner state)" if system == "sgbrian" else " (autograd)"
            lines.append(f"| {SYSTEM_NAMES[system]} {label}{kind} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


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
        leaky readout without reset; returns the readout membrane (batch, steps, n_out)."""

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
            for t in range(x.shape[1]):
                if self.recurrent:
                    spk, mem1 = self.lif1(drive[t], spk, mem1)
                else:
                    spk, mem1 = self.lif1(drive[t], mem1)
                _, mem2 = self.readout(self.fc2(spk), mem2)
                outputs.append(mem2)
            return torch.stack(outputs, dim=1)
    return Network


def BPTTNetwork(system, n_in, n_out, hidden, beta, delays):       # noqa: N802 - a class factory
    """The snnTorch network of baseline ``system`` (torch is imported only here)."""
    return _make_module()(system, n_in, n_out, hidden, beta, delays)
