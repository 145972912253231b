"""Training the named experiments of :mod:`sgbrian.catalog` (each task with its network,
loss, rule, optimizer and target).

``train_task(name)`` generates the task, builds the network, trains it online and
evaluates it on the held-out samples. ``models/*.py``, the tests and the analyses all
go through it, so a number in the README comes from the same code as the figure.
"""
import functools
import inspect
import tempfile
import time

import numpy as np
from brian2 import defaultclock, ms, prefs

from .analysis import class_tuning
from .catalog import EXPERIMENTS, Experiment  # noqa: F401  (Experiment: kept importable here)
from .learning import OnlineLearner
from .optim import Adam, schedule
from .penalties import TotalVariation
from .parallel import run_jobs
from .validation import check_choice


def train_task(name, seed=0, dt=None, epochs=None, target="numpy", progress=True,
               record_outputs=False, task_kwargs=None, task=None, update_every=None,
               batch_size=None, lr=None, checkpoint=None, client=None, rule=None,
               penalty=None, network=None, **task_settings):
    """Generate, build, train and test a named experiment.

    ``dt`` changes the simulation step only: every physical time constant stays fixed.

    Parameters
    ----------
    name : str
        A key of ``EXPERIMENTS``.
    seed : int
        Seed of the task, the network and the sample order.
    dt : Quantity, optional
        Simulation time step (default: the experiment's).
    epochs : int, optional
        Default: the experiment's.
    target : str
        Code generation target ('numpy', 'cython').
    progress : bool
        Print progress.
    record_outputs : bool
        Keep the test samples' readouts.
    task_kwargs : dict, optional
        Settings of the task.
    task : TaskData, optional
        A prepared task on that dt (default: generated).
    update_every, batch_size, lr, rule, penalty : optional
        Override the experiment's update interval, samples side by side (one update
        per batch with update_every='sample'), learning rate, gradient method and
        activity penalty lambda.
    network : dict, optional
        Keywords of the experiment's network builder (such as ``theta``).
    checkpoint : str, optional
        A file written after every epoch and resumed from when it exists.
    client : distributed.Client, optional
        Each batch's gradients are summed by its workers (:func:`experiment_learner`
        builds their replicas; the task must be the generated one).
    **task_settings
        Task settings by name (``train_task("timing", jitter=3 * ms)``), merged into
        ``task_kwargs``.

    Returns
    -------
    dict
        task, net, learner, history, test (the ``evaluate`` summary), before (the first
        test sample before training, with ``record_outputs``), met (the stated level
        reached), seconds (training and test), train_seconds (training alone).

    Raises
    ------
    ValueError
        An unknown experiment or task setting (the allowed ones are listed).
    """
    check_choice("name", name, EXPERIMENTS)
    ex = EXPERIMENTS[name]
    if task_settings:
        allowed = [p for p in inspect.signature(ex.make_task).parameters if p not in ("dt", "seed")]
        for key in task_settings:
            check_choice("task setting", key, allowed)
        task_kwargs = {**(task_kwargs or {}), **task_settings}
    prefs.codegen.target = target
    defaultclock.dt = dt or ex.dt
    if task is None:
        task = make_task(name, seed, task_kwargs)
    elif abs(float(task.dt / defaultclock.dt) - 1) > 1e-9:
        raise ValueError(f"task.dt ({task.dt}) must equal dt ({defaultclock.dt})")
    epochs = epochs or ex.epochs
    batch_size = batch_size or ex.batch_size
    settings = dict(lr=lr, update_every=update_every, epochs=epochs, rule=rule, penalty=penalty,
                    network=network)
    net, learner = build_learner(name, task, seed, **settings)
    replica = None
    if client is not None:
        replica = functools.partial(experiment_learner, name, seed, float(defaultclock.dt / ms),
                                    task_kwargs, target, **settings)
    before = learner.evaluate(task.test[:1], record_outputs=True) if record_outputs else None
    start = time.perf_counter()
    history = learner.fit(task.train, epochs, progress=progress, batch_size=batch_size,
                          checkpoint=checkpoint, resume=checkpoint is not None, client=client,
                          replica=replica)
    trained = time.perf_counter()
    test = learner.evaluate(task.test, record_outputs=record_outputs, batch_size=batch_size)
    return dict(task=task, net=net, learner=learner, history=history, test=test, before=before,
                met=ex.met(test[ex.metric]), metric=ex.metric, goal=ex.goal,
                seconds=time.perf_counter() - start, train_seconds=trained - start)


def make_task(name, seed, task_kwargs=None):
    """A named experiment's task on ``defaultclock.dt``.

    Parameters
    ----------
    name : str
        The experiment.
    seed : int
        Seed of its generator.
    task_kwargs : dict, optional
        Settings over the experiment's own.

    Returns
    -------
    TaskData
        The task.
    """
    ex = EXPERIMENTS[name]
    return ex.make_task(seed=seed, dt=defaultclock.dt, **{**ex.task_kwargs, **(task_kwargs or {})})


def build_learner(name, task, seed, lr=None, update_every=None, epochs=None, rule=None,
                  penalty=None, network=None):
    """A named experiment's network for a task and its learner (loss, rule, Adam, cosine
    schedule).

    Parameters
    ----------
    name : str
        The experiment.
    task : TaskData
        The task.
    seed : int
        Seed of the network and the learner.
    lr, update_every, epochs, rule, penalty : optional
        Override the experiment's (``penalty``: lambda, 0 for none).
    network : dict, optional
        Keywords of the experiment's network builder (such as ``theta``).

    Returns
    -------
    net : SGNetwork
        The network.
    learner : OnlineLearner
        Its learner, attached.
    """
    ex = EXPERIMENTS[name]
    net = ex.make_network(task, seed=seed, **(network or {}))
    strength = ex.penalty if penalty is None else penalty
    learner = OnlineLearner(net, ex.loss(), rule=rule or ex.rule, optimizer=Adam(lr or ex.lr),
                            train=ex.train, update_every=update_every or ex.update_every,
                            seed=seed, lr_schedule=schedule("cosine", epochs=epochs or ex.epochs,
                                                            floor=0.1),
                            penalty=TotalVariation(strength) if strength > 0 else None)
    return net, learner


def experiment_learner(name, seed, dt_ms, task_kwargs=None, target="numpy", **settings):
    """The learner ``train_task`` builds, rebuilt from its settings: a worker's replica
    for data-parallel training (the same seeded task, network and connectivity; a
    replica only computes gradients, so the optimizer settings do not matter there).

    Parameters
    ----------
    name : str
        The experiment.
    seed : int
        Its seed.
    dt_ms : float
        Time step in ms.
    task_kwargs : dict, optional
        Settings of the task.
    target : str
        Code generation target.
    **settings
        ``build_learner``'s overrides.

    Returns
    -------
    OnlineLearner
        The learner.
    """
    prefs.codegen.target = target
    defaultclock.dt = dt_ms * ms
    return build_learner(name, make_task(name, seed, task_kwargs), seed, **settings)[1]


def score_point(task, seed, target="numpy", tuning=False, **overrides):
    """A job: train a named experiment and return its test numbers.

    Parameters
    ----------
    task : str
        The experiment.
    seed : int
        Its seed.
    target : str
        Code generation target.
    tuning : bool
        Also return the class tuning (mean readout per true class from the loss's start;
        :func:`sgbrian.analysis.class_tuning`) as nested lists.
    **overrides
        ``train_task`` keywords such as epochs or task_kwargs.

    Returns
    -------
    dict
        The metric, the loss, events and quanta per neuron per second, training seconds,
        goal met.
    """
    result = train_task(task, seed=seed, target=target, progress=False, record_outputs=tuning,
                        **overrides)
    test = result["test"]
    out = {"task": task, "seed": seed, "metric": result["metric"],
           "score": float(test[result["metric"]]), "loss": float(test["loss"]),
           "events_per_neuron_per_s": float(test["events_per_neuron_per_s"]),
           "quanta_per_neuron_per_s": float(test["quanta_per_neuron_per_s"]),
           "train_seconds": float(result["train_seconds"]), "met": bool(result["met"])}
    if tuning:
        data = result["task"]
        labels = [s.target for s in data.test]
        out["tuning"] = class_tuning(test["outputs"], labels, result["learner"].loss.start_step,
                                     data.n_outputs).tolist()
    return out


def repeat(name, seeds=(0, 1, 2), client=None, folder=None, progress=False, target="numpy",
           **overrides):
    """:func:`score_point` of a named experiment for every seed, as jobs.

    Parameters
    ----------
    name : str
        The experiment.
    seeds : sequence of int
        The seeds.
    client : distributed.Client, optional
        Where the jobs run (None: here).
    folder : str, optional
        The results are kept there and reused.
    progress : bool
        Show a progress bar.
    target : str
        Code generation target.
    **overrides
        ``train_task`` keywords.

    Returns
    -------
    scores : list of dict
        :func:`score_point`'s result per seed, in the order of ``seeds``.
    mean : float
        Their mean.
    sd : float
        Their sample standard deviation (ddof=1; 0 for one seed).
    """
    points = [dict(task=name, seed=int(s), target=target, **overrides) for s in seeds]
    scores = run_jobs(score_point, points, folder or tempfile.mkdtemp(prefix="sgbrian-repeat-"),
                      client, progress, f"{name} seeds")
    values = np.array([r["score"] for r in scores])
    return scores, float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else 0.0


#: Task sizes of the quick trained models for the GeNN export (tests, ``--quick`` analyses).
QUICK_TASKS = {"delay": dict(n_train=2, n_test=1, duration=60 * ms),
               "itd": dict(n_train=18, n_test=9, duration=5 * ms),
               "timing": dict(n_train=10, n_test=2, duration=30 * ms)}


def trained_for_export(name, quick=False, seed=0, target="numpy"):
    """Train a named experiment, detach the learner and give it its first test sample as
    input from the current time, with no events in flight: ready for
    :func:`sgbrian.genn.export_genn` or :func:`sgbrian.genn.compare_with_runtime`.

    Parameters
    ----------
    name : str
        The experiment.
    quick : bool
        Small task, one epoch (``QUICK_TASKS``).
    seed : int
        Its seed.
    target : str
        Code generation target.

    Returns
    -------
    result : dict
        ``train_task``'s result.
    duration : Quantity
        The sample's length.
    """
    kwargs = dict(epochs=1, task_kwargs=QUICK_TASKS[name]) if quick else {}
    result = train_task(name, seed=seed, progress=False, target=target, **kwargs)
    result["learner"].detach()
    net, sample = result["net"], result["task"].test[0]
    net.clear_spike_queues()
    net.set_input(**({"spikes": sample.input} if isinstance(sample.input, tuple)
                     else {"signal": sample.input}), start=net.network.t)
    return result, sample.n_steps * result["task"].dt
