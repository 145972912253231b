"""Accuracy against activity: the sweep of the encoding threshold theta and of the activity
penalty lambda, and what it shows.

Every point trains a named experiment (:func:`~sgbrian.experiments.score_point`) with
the threshold of every encoder (input and hidden; the readout's as well) set to
``theta`` and the penalty ``lambda sum_t |y(t) - y(t - dt)|`` on the hidden outputs
(:mod:`sgbrian.penalties`), and records its test score and its quanta and events per
neuron per second. The points run as jobs (:func:`~sgbrian.parallel.run_jobs`: kept as
they finish, a stopped sweep resumes). The BPTT baselines' hidden spikes per neuron per
second on the same tasks are the reference (:func:`bptt_reference`).

Per task: theta at ``THETA_FACTORS`` times the network's default (1.5 decades) without a
penalty, and ``PENALTIES`` at the default theta. The delay network (1 -> 1) has no hidden
layer, so the penalty does not apply to it: its quanta are the input's and the readout's
and move with theta alone.
"""
import inspect

import numpy as np
from brian2 import ms

from .analysis import pareto_front
from .baselines import bptt_point
from .experiments import EXPERIMENTS, score_point
from .parallel import run_jobs

#: Thresholds swept, as factors of the network's default: 10^-0.5 .. 10^1.
THETA_FACTORS = tuple(float(f) for f in 10 ** np.array([-0.5, -0.25, 0.0, 0.25, 0.5, 1.0]))
#: Penalties swept (at the default threshold) on the tasks with hidden layers.
PENALTIES = (0.01, 0.03, 0.1)
#: The BPTT system of each task's reference point (the best of figure 8's at the
#: experiment's dt).
BPTT_SYSTEMS = {"delay": "delay_lif", "itd": "delay_lif", "timing": "lif"}


def default_theta(task):
    """The threshold an experiment's network is built with.

    Parameters
    ----------
    task : str
        The experiment.

    Returns
    -------
    float
        The ``theta`` default of its network builder.
    """
    return float(inspect.signature(EXPERIMENTS[task].make_network).parameters["theta"].default)


def has_hidden_layer(task):
    """Whether the experiment's network has a hidden layer (the penalty's reach).

    Parameters
    ----------
    task : str
        The experiment.

    Returns
    -------
    bool
        True for all but 'delay'.
    """
    return task != "delay"


def sweep_points(tasks, seeds, theta_factors=THETA_FACTORS, penalties=PENALTIES):
    """The sweep's jobs: per task and seed, each theta without a penalty, then each
    penalty at the default theta (tasks with a hidden layer).

    Parameters
    ----------
    tasks : sequence of str
        Experiments.
    seeds : sequence of int
        Seeds.
    theta_factors : sequence of float
        Thresholds as factors of the default.
    penalties : sequence of float
        The lambda values (> 0).

    Returns
    -------
    list of dict
        ``task, seed, theta, penalty``.
    """
    points = []
    for task in tasks:
        base = default_theta(task)
        settings = [(base * f, 0.0) for f in theta_factors]
        if has_hidden_layer(task):
            settings += [(base, float(p)) for p in penalties]
        points += [dict(task=task, seed=int(seed), theta=round(theta, 12), penalty=penalty)
                   for theta, penalty in settings for seed in seeds]
    return points


def tradeoff_point(task, seed, theta, penalty, target="numpy"):
    """A job: train the experiment at ``theta`` and ``penalty`` and score it.

    Parameters
    ----------
    task : str
        The experiment.
    seed : int
        Its seed.
    theta : float
        The encoders' threshold.
    penalty : float
        The lambda (0: none).
    target : str
        Code generation target.

    Returns
    -------
    dict
        :func:`~sgbrian.experiments.score_point`'s numbers with ``theta`` and ``penalty``.
    """
    row = score_point(task, seed, target=target, network={"theta": theta}, penalty=penalty)
    return {**row, "theta": theta, "penalty": penalty}


def sweep(tasks, seeds, folder, client=None, target="numpy", progress=True, **grid):
    """Run (or read back) every point of the sweep.

    Parameters
    ----------
    tasks, seeds : sequence
        Experiments and seeds.
    folder : str
        Where each job's result is kept.
    client : distributed.Client, optional
        Runs the jobs (default: in this process).
    target : str
        Code generation target.
    progress : bool
        Show progress.
    **grid
        ``theta_factors``, ``penalties`` of :func:`sweep_points`.

    Returns
    -------
    list of dict
        One row per point, in :func:`sweep_points`'s order.
    """
    points = [{**p, "target": target} for p in sweep_points(tasks, seeds, **grid)]
    rows = run_jobs(tradeoff_point, points, folder, client=client, progress=progress,
                    description="theta and lambda points")
    return [{k: v for k, v in row.items() if k != "tuning"} for row in rows]


def settings_summary(rows, task):
    """Mean and sample standard deviation over seeds of each setting of a task.

    Parameters
    ----------
    rows : list of dict
        The sweep's rows.
    task : str
        The task.

    Returns
    -------
    list of dict
        ``theta, penalty, seeds, score, score_sd, quanta, quanta_sd, events, events_sd,
        met`` (the mean score meets the experiment's goal), ``front`` (on the Pareto front
        of mean quanta against mean score), ordered by quanta.
    """
    ex = EXPERIMENTS[task]
    groups = {}
    for row in rows:
        if row["task"] == task:
            groups.setdefault((row["theta"], row["penalty"]), []).append(row)
    summary = []
    for (theta, penalty), group in groups.items():
        entry = dict(theta=theta, penalty=penalty, seeds=len(group))
        for key, column in (("score", "score"), ("quanta", "quanta_per_neuron_per_s"),
                            ("events", "events_per_neuron_per_s")):
            values = np.array([r[column] for r in group], dtype=float)
            entry[key] = float(values.mean())
            entry[f"{key}_sd"] = float(values.std(ddof=1)) if len(values) > 1 else 0.0
        entry["met"] = bool(ex.met(entry["score"]))
        summary.append(entry)
    summary.sort(key=lambda e: (e["quanta"], e["theta"], e["penalty"]))
    if summary:
        front = set(pareto_front([e["quanta"] for e in summary], [e["score"] for e in summary],
                                 higher_is_better=ex.metric == "accuracy").tolist())
        for k, entry in enumerate(summary):
            entry["front"] = k in front
    return summary


def fewest_quanta(summary):
    """The setting with the fewest mean quanta per neuron per second whose mean score still
    meets the task's goal.

    Parameters
    ----------
    summary : list of dict
        :func:`settings_summary` of one task.

    Returns
    -------
    dict or None
        That setting (None when no setting meets the goal).
    """
    met = [entry for entry in summary if entry["met"]]
    return min(met, key=lambda e: e["quanta"]) if met else None


def bptt_reference(task, seed):
    """A job: the task's BPTT baseline (``BPTT_SYSTEMS``) at the experiment's dt, with its
    hidden spikes per neuron per second on the test samples.

    Parameters
    ----------
    task : str
        The experiment.
    seed : int
        Its seed.

    Returns
    -------
    dict
        :func:`~sgbrian.baselines.bptt_point`'s numbers.
    """
    return bptt_point(BPTT_SYSTEMS[task], task, float(EXPERIMENTS[task].dt / ms), seed)
