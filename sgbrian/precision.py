"""Temporal precision: how results depend on the time step dt.

Every task is generated once on a fine master grid (0.01 ms) and re-gridded to each dt
(``tasks.regrid``), so all dts see the same signals and spike times; every physical time
constant (tau, delays in ms, durations) stays fixed. For each task and dt:

(a) ``deviation``: RMS difference between the output of one fixed trained network (trained
    at the experiment's own dt) simulated at dt and at the finest dt, on the 1 ms grid
    common to all, divided by the RMS of the finest output;
(b) events and quanta (sum |q|) per neuron per second of that network;
(c) the test score when the network is trained at dt on the same samples and epochs, with
    the update interval fixed in time (an experiment that updates every n steps at its own
    dt updates every n * its dt / dt steps);
(d) wall time per simulated second of (a)'s evaluation (a second, identical evaluation, so
    that code generation and compilation are not counted).

The verdict on "accuracy is insensitive to dt": the spread of (c) over dt must be within
2 percentage points (accuracy) or within 10% (NRMSE, max/min - 1).
"""
import time

import numpy as np
from brian2 import defaultclock, ms, prefs, second

from .experiments import EXPERIMENTS, train_task
from .learning import OnlineLearner
from .optim import Adam
from .tasks import regrid

DTS = (1.0, 0.5, 0.2, 0.1, 0.05, 0.02)       # ms
MASTER_DT = 0.01 * ms
COMMON_DT = 1 * ms
SIZES = {"full": {"delay": dict(n_train=10, n_test=3), "itd": dict(n_train=180, n_test=54),
                  "timing": dict(n_train=150, n_test=50)},
         "quick": {"delay": dict(n_train=2, n_test=1, duration=40 * ms),
                   "itd": dict(n_train=9, n_test=9, duration=5 * ms),
                   "timing": dict(n_train=10, n_test=10, duration=30 * ms)}}
EPOCHS = {"full": {"delay": 10, "itd": 4, "timing": 3}, "quick": {"delay": 1, "itd": 1, "timing": 1}}


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
    new = OnlineLearner(net, ex.loss(), rule=ex.rule, optimizer=Adam(ex.lr), seed=seed)
    for key, value in learner.params.items():
        if key in new.params:
            new.params[key][:] = value
    new.write_params()
    return new


def common_grid(outputs, dt):
    """Outputs (samples x steps x n_out) sampled every ``COMMON_DT``."""
    stride = int(round(float(COMMON_DT / dt)))
    return np.concatenate([o[::stride] for o in outputs])


#: The sweep trains one sample at a time with these learning rates (the settings its
#: committed results were measured with; the experiments' defaults now use batches).
ONE_SAMPLE = {"delay": dict(batch_size=1, lr=1e-2), "itd": dict(batch_size=1, lr=2e-2),
              "timing": dict(batch_size=1, lr=1e-2)}


def sweep(name, dts=DTS, mode="full", seed=0, target="numpy", progress=False):
    """Rows (a)-(d) for task ``name`` over ``dts`` (ms); see the module docstring."""
    ex = EXPERIMENTS[name]
    prefs.codegen.target = target
    master = master_task(name, mode, seed)
    native = regrid(master, ex.dt)
    trained = train_task(name, seed=seed, dt=ex.dt, epochs=EPOCHS[mode][name], target=target,
                         progress=progress, task=native, **ONE_SAMPLE[name])["learner"]
    rows, outputs = [], {}
    for dt_ms in dts:
        task = regrid(master, dt_ms * ms)
        fixed = transfer(trained, name, task, seed)
        result = fixed.evaluate(task.test, record_outputs=True)
        start = time.perf_counter()
        fixed.evaluate(task.test)                       # timed: code already generated
        wall = time.perf_counter() - start
        simulated = sum(s.n_steps for s in task.test) * float(task.dt / second)
        outputs[dt_ms] = common_grid(result["outputs"], task.dt)
        fixed.detach()
        retrained = train_task(name, seed=seed, dt=dt_ms * ms, epochs=EPOCHS[mode][name],
                               target=target, progress=progress, task=task,
                               update_every=update_interval(ex, dt_ms * ms), **ONE_SAMPLE[name])
        rows.append({"task": name, "dt_ms": dt_ms, "metric": ex.metric,
                     "fixed_score": result[ex.metric],
                     "events_per_neuron_per_s": result["events_per_neuron_per_s"],
                     "quanta_per_neuron_per_s": result["quanta_per_neuron_per_s"],
                     "trained_score": retrained["test"][ex.metric],
                     "wall_s_per_sim_s": wall / simulated})
    finest = outputs[min(dts)]
    scale = np.sqrt(np.mean(finest ** 2))
    for row in rows:
        diff = outputs[row["dt_ms"]] - finest
        row["deviation"] = float(np.sqrt(np.mean(diff ** 2)) / scale)
    return rows


def update_interval(ex, dt):
    """The experiment's update interval at ``dt``, fixed in time ('sample' stays)."""
    if ex.update_every == "sample":
        return "sample"
    return max(1, int(round(ex.update_every * float(ex.dt / dt))))


def verdict(rows):
    """Per task: is the score trained at each dt within 2 percentage points (accuracy) or
    10% (NRMSE) of the others? Returns {task: (insensitive, spread, text)}."""
    out = {}
    for name in sorted({r["task"] for r in rows}):
        scores = np.array([r["trained_score"] for r in rows if r["task"] == name])
        metric = next(r["metric"] for r in rows if r["task"] == name)
        if metric == "accuracy":
            spread = 100 * (scores.max() - scores.min())
            ok = spread <= 2.0
            text = f"accuracy spread {spread:.1f} percentage points over dt (limit 2)"
        else:
            spread = 100 * (scores.max() / scores.min() - 1)
            ok = spread <= 10.0
            text = f"NRMSE spread {spread:.1f}% over dt (limit 10%)"
        out[name] = (bool(ok), float(spread), text)
    return out
