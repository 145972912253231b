"""Temporal precision: how results depend on the time step dt.

Every task is generated once on a fine master grid (0.01 ms) and re-gridded to each dt
(``tasks.regrid``), so all dts see the same signals and spike times; every physical time
constant (tau, delays in ms, durations) stays fixed. For each task and dt:

(a) ``deviation``: RMS difference between the output of one fixed trained network (trained
    at the experiment's own dt) simulated at dt and at the finest dt, on the 1 ms grid
    common to all, divided by the RMS of the finest output;
(b) events and quanta (sum ``|q|``) per neuron per second of that network;
(c) the test score when the network is trained at dt on the same samples with the
    experiment's own settings (those of ``models/``: batch size, learning rate, epochs),
    the update interval fixed in time (an experiment that updates every n steps at its own
    dt updates every n * its dt / dt steps; a batched one updates once per batch at any dt);
(d) wall time per simulated second of (a)'s test samples evaluated one at a time (after
    a first sample, so that code generation and compilation are not counted; (a) itself
    runs them side by side in the experiment's batch, which gives the same outputs).

Every point runs with several seeds (``sweep(..., seeds=(0, 1, 2))``; the seed draws the
task, the network and the training order), as independent jobs on a Dask cluster or here
(``sgbrian.parallel``). The verdict on "accuracy is insensitive to dt" uses the mean over
seeds of (c) at each dt: the spread of the means must be within 2 percentage points
(accuracy) or within 10% (NRMSE, max/min - 1); an ANOVA with the seeds as blocks
(:func:`dt_effect_p`) says whether what differs between dts exceeds what differs between
seeds.
Mode 'full' uses the tasks' own sizes (those of ``models/``); 'reduced' half of ITD's and
fewer of the others (delay 10 / 3, ITD 180 / 54, timing 150 / 50); 'quick' tiny ones.
"""
import os
import tempfile
import time

import numpy as np
from brian2 import defaultclock, ms, prefs, second

from .experiments import EXPERIMENTS, train_task
from .learning import OnlineLearner
from .optim import Adam
from .parallel import kept_results, run_jobs
from .datasets import regrid
from .dt_statistics import dt_effect_p, verdict

#: ``dt_effect_p`` and ``verdict`` are re-exported: ``sgbrian.precision.verdict`` works.
__all__ = ["DTS", "MASTER_DT", "COMMON_DT", "SIZES", "EPOCHS", "SWEEP_RULE", "master_task",
           "transfer", "common_grid", "task_data", "train_at", "fixed_point", "trained_point",
           "sweep", "update_interval", "dt_effect_p", "verdict"]

DTS = (1.0, 0.5, 0.2, 0.1, 0.05, 0.02)       # ms
MASTER_DT = 0.01 * ms
COMMON_DT = 1 * ms
SIZES = {"full": {"delay": {}, "itd": {}, "timing": {}},          # the tasks' own (models/)
         "reduced": {"delay": dict(n_train=10, n_test=3), "itd": dict(n_train=180, n_test=54),
                     "timing": dict(n_train=150, n_test=50)},
         "quick": {"delay": dict(n_train=2, n_test=1, duration=40 * ms),
                   "itd": dict(n_train=9, n_test=9, duration=5 * ms),
                   "timing": dict(n_train=10, n_test=10, duration=30 * ms)}}
#: Epochs per mode (None: the experiment's own, as in ``models/``).
EPOCHS = {"full": None, "reduced": None, "quick": 1}
#: The gradient method of the sweeps (and of figure 8's sgbrian points): the online rule
#: their kept results (analyses/out) were computed with. For ITD and timing it gives the
#: same gradients as the experiments' 'adjoint' (tests/test_adjoint.py), whose speed
#: benchmarks/bench_vs_bptt.py measures.
SWEEP_RULE = {"delay": "spatial", "itd": "exact", "timing": "exact"}


def master_task(name, mode="full", seed=0):
    """A task on the master grid, sized for the sweep.

    Parameters
    ----------
    name : str
        The experiment.
    mode : str
        'full' or 'quick' (the sweep's sizes).
    seed : int
        Seed of the task.

    Returns
    -------
    TaskData
        The task on ``MASTER_DT``.
    """
    ex = EXPERIMENTS[name]
    return ex.make_task(seed=seed, dt=MASTER_DT, **SIZES[mode][name])


def transfer(learner, name, task, seed=0):
    """A network for a task (on its dt) with a learner's parameters: weights, bucket weights
    and biases as they are, delays rounded to the new grid.

    Parameters
    ----------
    learner : OnlineLearner
        The trained learner.
    name : str
        The experiment.
    task : TaskData
        The task on the new dt.
    seed : int
        Seed of the network's draws (its parameters are then replaced).

    Returns
    -------
    SGNetwork
        The network.
    """
    ex = EXPERIMENTS[name]
    defaultclock.dt = task.dt
    net = ex.make_network(task, seed=seed)
    for l, syn in enumerate(net.synapses):
        old = learner.net.synapses[l]
        if len(old) != len(syn):
            raise ValueError("transfer needs the same connectivity at both time steps")
        syn.delay = np.rint(np.asarray(old.delay[:] / task.dt)) * task.dt
    new = OnlineLearner(net, ex.loss(), rule=SWEEP_RULE[name], optimizer=Adam(ex.lr), seed=seed)
    for key, value in learner.params.items():
        if key in new.params:
            new.params[key][:] = value
    new.write_params()
    return new


def common_grid(outputs, dt):
    """Outputs sampled every ``COMMON_DT``.

    Parameters
    ----------
    outputs : ndarray
        Samples x steps x n_out.
    dt : Quantity
        Their time step.

    Returns
    -------
    ndarray
        Samples x common steps x n_out.
    """
    stride = int(round(float(COMMON_DT / dt)))
    return np.concatenate([o[::stride] for o in outputs])


def task_data(task, dt_ms, seed, mode="full"):
    """The task of a seed on a dt: the master grid's task re-gridded.

    Parameters
    ----------
    task : str
        The experiment.
    dt_ms : float
        Time step in ms.
    seed : int
        Seed of the task.
    mode : str
        'full' or 'quick' (the sweep's sizes).

    Returns
    -------
    TaskData
        The task.
    """
    return regrid(master_task(task, mode, seed), dt_ms * ms)


def train_at(task, dt_ms, seed, mode="full", target="numpy", data=None, rule=None):
    """``train_task`` of an experiment at a dt on :func:`task_data`, with the experiment's
    own settings (those of ``models/``: batch size, learning rate, epochs; quick mode 1
    epoch), its update interval fixed in time (:func:`update_interval`).

    Parameters
    ----------
    task : str
        The experiment.
    dt_ms : float
        Time step in ms.
    seed : int
        Its seed.
    mode : str
        'full' or 'quick' (the sweep's sizes).
    target : str
        Code generation target.
    data : TaskData, optional
        That task, if already made.
    rule : str, optional
        Gradient method (default the sweeps' ``SWEEP_RULE``).

    Returns
    -------
    dict
        ``train_task``'s result.
    """
    ex = EXPERIMENTS[task]
    data = data if data is not None else task_data(task, dt_ms, seed, mode)
    return train_task(task, seed=seed, dt=dt_ms * ms, epochs=EPOCHS[mode], target=target,
                      progress=False, task=data, update_every=update_interval(ex, dt_ms * ms),
                      rule=rule or SWEEP_RULE[task])


def fixed_point(task, seed, dts=DTS, mode="full", target="numpy"):
    """Jobs (a), (b), (d) of one task and seed: train once at the experiment's dt, then
    simulate that fixed network at every dt.

    Parameters
    ----------
    task : str
        The experiment.
    seed : int
        Its seed.
    dts : sequence of float
        Time steps in ms.
    mode : str
        'full' or 'quick' (the sweep's sizes).
    target : str
        Code generation target.

    Returns
    -------
    list of dict
        One row per dt.
    """
    ex = EXPERIMENTS[task]
    prefs.codegen.target = target
    master = master_task(task, mode, seed)
    dt_own = float(ex.dt / ms)
    trained = train_at(task, dt_own, seed, mode, target, regrid(master, ex.dt))["learner"]
    rows, outputs = [], {}
    for dt_ms in dts:
        data = regrid(master, dt_ms * ms)
        fixed = transfer(trained, task, data, seed)
        # recorded side by side (the experiment's batch: same numbers as one at a time)
        result = fixed.evaluate(data.test, record_outputs=True, batch_size=ex.batch_size)
        fixed.evaluate(data.test[:1])      # generates the code of one sample at a time
        start = time.perf_counter()
        fixed.evaluate(data.test)          # timed one sample at a time, code already generated
        wall = time.perf_counter() - start
        simulated = sum(s.n_steps for s in data.test) * float(data.dt / second)
        outputs[dt_ms] = common_grid(result["outputs"], data.dt)
        fixed.detach()
        rows.append({"task": task, "dt_ms": dt_ms, "seed": seed, "metric": ex.metric,
                     "fixed_score": float(result[ex.metric]),
                     "events_per_neuron_per_s": float(result["events_per_neuron_per_s"]),
                     "quanta_per_neuron_per_s": float(result["quanta_per_neuron_per_s"]),
                     "wall_s_per_sim_s": wall / simulated})
    finest = outputs[min(dts)]
    scale = np.sqrt(np.mean(finest ** 2))
    for row in rows:
        diff = outputs[row["dt_ms"]] - finest
        row["deviation"] = float(np.sqrt(np.mean(diff ** 2)) / scale)
    return {"rows": rows}


def trained_point(task, dt_ms, seed, mode="full", target="numpy"):
    """Job (c): the test score of a task trained at a dt.

    Parameters
    ----------
    task : str
        The experiment.
    dt_ms : float
        Time step in ms.
    seed : int
        Its seed.
    mode : str
        'full' or 'quick' (the sweep's sizes).
    target : str
        Code generation target.

    Returns
    -------
    dict
        The score and its training's numbers.
    """
    ex = EXPERIMENTS[task]
    result = train_at(task, dt_ms, seed, mode, target)
    return {"trained_score": float(result["test"][ex.metric]),
            "train_seconds": float(result["train_seconds"])}


def sweep(tasks, dts=DTS, mode="full", seeds=(0, 1, 2), target="numpy", client=None,
          folder=None, progress=False, run=True):
    """Rows (a)-(d) for every task, dt and seed, one row per (task, dt, seed). The jobs (one
    fixed network per task and seed, one training per task, dt and seed) run through
    :func:`sgbrian.parallel.run_jobs`.

    Parameters
    ----------
    tasks : sequence of str
        The experiments.
    dts : sequence of float
        Time steps in ms.
    mode : str
        'full' or 'quick' (the sweep's sizes).
    seeds : sequence of int
        The seeds.
    target : str
        Code generation target.
    client : distributed.Client, optional
        Where the jobs run (None: here, one after the other).
    folder : str, optional
        Each job's result is kept there, and a sweep run again resumes where it stopped.
    progress : bool
        Show a progress bar.
    run : bool
        False runs nothing: the rows of the points whose jobs (both of them) are kept in
        ``folder``.

    Returns
    -------
    list of dict
        The rows.
    """
    tasks = [tasks] if isinstance(tasks, str) else list(tasks)
    dts, seeds = [float(d) for d in dts], [int(s) for s in seeds]
    folder = folder or tempfile.mkdtemp(prefix="sgbrian-sweep-")
    common = {"mode": mode, "target": target}
    fixed_points = [dict(task=t, seed=s, dts=dts, **common) for t in tasks for s in seeds]
    trained_points = [dict(task=t, dt_ms=d, seed=s, **common) for t in tasks for d in dts
                      for s in seeds]
    groups = [(fixed_point, fixed_points, os.path.join(folder, "fixed"), client, progress,
               "fixed networks"),
              (trained_point, trained_points, os.path.join(folder, "trained"), client, progress,
               "trainings")]
    if not run:
        fixed, trained = [kept_results(g[1], g[2]) for g in groups]
    elif client is None:            # here: one job after the other (Brian2 is not thread-safe)
        fixed, trained = [run_jobs(*group) for group in groups]
    else:                           # both groups queued on the cluster at once: no idle worker
        from concurrent.futures import ThreadPoolExecutor
        with ThreadPoolExecutor(2) as pool:
            fixed, trained = [f.result() for f in [pool.submit(run_jobs, *g) for g in groups]]
    scores = {(p["task"], p["dt_ms"], p["seed"]): r for p, r in zip(trained_points, trained)}
    rows = []
    for result in filter(None, fixed):
        for row in result["rows"]:
            score = scores[(row["task"], row["dt_ms"], row["seed"])]
            if score is not None:
                rows.append({**row, **score})
    return rows


def update_interval(ex, dt):
    """An experiment's update interval at a dt, fixed in time ('sample' stays).

    Parameters
    ----------
    ex : Experiment
        The experiment.
    dt : Quantity
        The time step.

    Returns
    -------
    str or int
        'sample', or steps at ``dt``.
    """
    if ex.update_every == "sample":
        return "sample"
    return max(1, int(round(ex.update_every * float(ex.dt / dt))))
