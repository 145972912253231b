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
    """Task ``name`` on the master grid, sized for the sweep (``mode``: full or quick)."""
    ex = EXPERIMENTS[name]
    return ex.make_task(seed=seed, dt=MASTER_DT, **SIZES[mode][name])


def transfer(learner, name, task, seed=0):
    """A network for ``task`` (on its dt) with ``learner``'s parameters: weights, bucket
    weights and biases as they are, delays rounded to the new grid."""
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
    """Outputs (samples x steps x n_out) sampled every ``COMMON_DT``."""
    stride = int(round(float(COMMON_DT / dt)))
    return np.concatenate([o[::stride] for o in outputs])


def task_data(task, dt_ms, seed, mode="full"):
    """The task of ``seed`` on ``dt_ms``: the master grid's task re-gridded."""
    return regrid(master_task(task, mode, seed), dt_ms * ms)


def train_at(task, dt_ms, seed, mode="full", target="numpy", data=None, rule=None):
    """``train_task`` of experiment ``task`` at ``dt_ms`` on ``task_data`` (``data``: that
    task, if already made), with the experiment's own settings (those of ``models/``:
    batch size, learning rate, epochs; quick mode 1 epoch), its update interval fixed in
    time (``update_interval``) and the sweeps' rule (``SWEEP_RULE``; ``rule`` another).
    Returns ``train_task``'s dict."""
    ex = EXPERIMENTS[task]
    data = data if data is not None else task_data(task, dt_ms, seed, mode)
    return train_task(task, seed=seed, dt=dt_ms * ms, epochs=EPOCHS[mode], target=target,
                      progress=False, task=data, update_every=update_interval(ex, dt_ms * ms),
                      rule=rule or SWEEP_RULE[task])


def fixed_point(task, seed, dts=DTS, mode="full", target="numpy"):
    """Job (a), (b), (d) of one task and seed: train once at the experiment's dt, then
    simulate that fixed network at every dt in ``dts``. Returns a list of rows (dicts)."""
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
    """Job (c): the test score of task ``task`` trained at ``dt_ms`` with ``seed``."""
    ex = EXPERIMENTS[task]
    result = train_at(task, dt_ms, seed, mode, target)
    return {"trained_score": float(result["test"][ex.metric]),
            "train_seconds": float(result["train_seconds"])}


def sweep(tasks, dts=DTS, mode="full", seeds=(0, 1, 2), target="numpy", client=None,
          folder=None, progress=False, run=True):
    """Rows (a)-(d) for every task in ``tasks``, dt in ``dts`` (ms) and seed in ``seeds``,
    one row per (task, dt, seed). The jobs (one fixed network per task and seed, one
    training per task, dt and seed) run through :func:`sgbrian.parallel.run_jobs` on
    ``client`` (None: here, one after the other); with ``folder``, each job's result is
    kept there and a sweep run again resumes where it stopped. ``run=False`` runs
    nothing: the rows of the points whose jobs are kept in ``folder`` (both of them)."""
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
    """The experiment's update interval at ``dt``, fixed in time ('sample' stays)."""
    if ex.update_every == "sample":
        return "sample"
    return max(1, int(round(ex.update_every * float(ex.dt / dt))))


def dt_effect_p(task_rows):
    """p-value of the effect of dt on the trained scores of one task's rows.

    When every dt was trained with the same seeds (at least 2 seeds, 2 dts), the seeds
    are blocks: a seed fixes the task data and the initial network at every dt, so a
    two-way ANOVA without interaction (score = mean + dt effect + seed effect + noise)
    compares the dts within each seed; ``F = MS_dt / MS_residual`` with ``(a - 1)`` and
    ``(a - 1)(b - 1)`` degrees of freedom (a dts, b seeds; for 2 dts the paired t-test,
    F = t^2). Otherwise a one-way ANOVA over dt (``scipy.stats.f_oneway``, seeds as
    replicates). NaN when neither can be computed."""
    import scipy.stats
    dts = sorted({r["dt_ms"] for r in task_rows})
    groups = [np.array([r["trained_score"] for r in task_rows if r["dt_ms"] == d]) for d in dts]
    if len(dts) < 2 or min(len(g) for g in groups) < 2:
        return float("nan")
    seeds = [[r.get("seed") for r in task_rows if r["dt_ms"] == d] for d in dts]
    if (any(None in s for s in seeds) or len(set(seeds[0])) != len(seeds[0])
            or any(sorted(s) != sorted(seeds[0]) for s in seeds)):
        return float(scipy.stats.f_oneway(*groups).pvalue)
    seeds[0] = sorted(seeds[0])
    by = {(r["dt_ms"], r["seed"]): r["trained_score"] for r in task_rows}
    Y = np.array([[by[d, seed] for seed in seeds[0]] for d in dts])       # (dts, seeds)
    a, b = Y.shape
    residual = Y - Y.mean(axis=1, keepdims=True) - Y.mean(axis=0, keepdims=True) + Y.mean()
    ms_dt = b * ((Y.mean(axis=1) - Y.mean()) ** 2).sum() / (a - 1)
    ms_residual = (residual ** 2).sum() / ((a - 1) * (b - 1))
    if ms_residual == 0:
        return 0.0 if ms_dt > 0 else float("nan")
    return float(scipy.stats.f.sf(ms_dt / ms_residual, a - 1, (a - 1) * (b - 1)))


def verdict(rows):
    """Per task, from every seed: the mean test score trained at each dt, and whether the
    means lie within 2 percentage points (accuracy) or 10% (NRMSE, max/min - 1) of each
    other; and the p-value of :func:`dt_effect_p`, which says whether the differences
    between dts exceed what the seeds alone produce (p < 0.05: a detectable effect of
    dt). Returns {task: (insensitive, spread, text, p_value)}."""
    out = {}
    for name in sorted({r["task"] for r in rows}):
        task_rows = [r for r in rows if r["task"] == name]
        metric = task_rows[0]["metric"]
        dts = sorted({r["dt_ms"] for r in task_rows})
        groups = [np.array([r["trained_score"] for r in task_rows if r["dt_ms"] == d]) for d in dts]
        means = np.array([g.mean() for g in groups])
        p = dt_effect_p(task_rows)
        if metric == "accuracy":
            spread = 100 * (means.max() - means.min())
            ok = spread <= 2.0
            text = f"mean accuracy spread {spread:.1f} percentage points over dt (limit 2)"
        else:
            spread = 100 * (means.max() / means.min() - 1)
            ok = spread <= 10.0
            text = f"mean NRMSE spread {spread:.1f}% over dt (limit 10%)"
        seeds = min(len(g) for g in groups)
        text += f"; {seeds} seed(s) per dt, effect of dt p = {p:.3g}"
        out[name] = (bool(ok), float(spread), text, p)
    return out
