"""Data-parallel training on a Dask cluster: each batch cut into one share per worker,
every worker's replica of the network sums the exact gradients of its share, and the
driver adds the shares and makes one update (the same update as training the batch here).

Used by :func:`sgbrian.training.fit` with ``client=`` and ``replica=``; the job runner
for independent jobs is :mod:`sgbrian.parallel`.
"""
import hashlib

import cloudpickle
import numpy as np

from .metrics import Metrics, Progress

_REPLICAS = {}


def replica_learner(replica):
    """This worker's learner, built once per worker by ``replica()`` and kept.

    Parameters
    ----------
    replica : callable
        Builds a learner (same network and settings on every worker).

    Returns
    -------
    OnlineLearner
        The worker's learner.
    """
    key = hashlib.sha1(cloudpickle.dumps(replica)).hexdigest()
    if key not in _REPLICAS:
        _REPLICAS[key] = replica()
    return _REPLICAS[key]


def share_gradients(replica, params, samples, lr_scale=1.0):
    """On a worker: the summed gradients of ``samples`` (side by side, one batch).

    Parameters
    ----------
    replica : callable
        Builds the worker's learner.
    params : dict
        The driver's parameters, set first.
    samples : list of Sample
        This worker's share.
    lr_scale : float
        The schedule's multiplier (for the metrics).

    Returns
    -------
    grads : dict
        Summed gradients by parameter.
    metrics : Metrics
        The share's metrics.
    """
    learner = replica_learner(replica)
    for name, value in params.items():
        if learner.params[name].shape != value.shape:
            raise ValueError(f"the replica's parameter {name} has shape "
                             f"{learner.params[name].shape}, the driver's {value.shape}: "
                             "replica must build the same network")
        learner.params[name][:] = value
    learner.write_params()
    metrics = Metrics(learner.loss)
    learner.run_samples(samples, train=True, metrics=metrics, apply=False,
                        batch_size=len(samples), lr_scale=lr_scale)
    learner.flush_gradients()
    metrics.samples = metrics.data = None
    return {name: g.copy() for name, g in learner.grads.items()}, metrics


def batch_gradients(learner, batch, client, replica, workers=None):
    """The summed gradients of a batch, computed by the workers of ``client``: the batch is
    cut into one contiguous share per worker, each worker's replica sums the gradients of
    its share, and the driver adds the shares in order.

    Parameters
    ----------
    learner : OnlineLearner
        The driver's learner (its parameters are sent).
    batch : list of Sample
        The batch.
    client : distributed.Client
        The cluster.
    replica : callable
        Builds a worker's learner.
    workers : list of str, optional
        Workers to use (default: all).

    Returns
    -------
    grads : dict
        Summed gradients by parameter.
    metrics : Metrics
        The shares' metrics merged in the order of ``batch``.
    """
    workers = workers or sorted(client.scheduler_info()["workers"])
    shares = [list(s) for s in _split(batch, len(workers))]
    futures = [client.submit(share_gradients, replica, learner.params, share, pure=False,
                             workers=[worker], allow_other_workers=True)
               for share, worker in zip(shares, workers) if share]
    grads = {name: np.zeros_like(g) for name, g in learner.grads.items()}
    metrics = Metrics(learner.loss)
    for share_grads, share_metrics in client.gather(futures):
        for name, g in share_grads.items():
            grads[name] += g
        metrics.merge(share_metrics)
    return grads, metrics


def fit_epoch_on_client(learner, samples, metrics, lr_scale, batch_size, client, replica,
                        progress=None):
    """One epoch of data-parallel training: for every batch, :func:`batch_gradients`, then
    one update here (``learner.apply_gradients``).

    Parameters
    ----------
    learner : OnlineLearner
        The driver's learner.
    samples : list of Sample
        The epoch's samples, in order.
    metrics : Metrics
        Accumulates the epoch's numbers.
    lr_scale : float
        The schedule's multiplier.
    batch_size : int
        Samples per update.
    client : distributed.Client
        The cluster.
    replica : callable
        Builds a worker's learner.
    progress : callable, optional
        Called after each batch with a ``Progress``.
    """
    if learner.update_every != "sample":
        raise ValueError("data-parallel training (client=) needs update_every='sample' "
                         f"(one update per batch), got {learner.update_every!r}")
    if replica is None or not callable(replica):
        raise ValueError("client= needs replica=, a picklable function that builds the "
                         "learner's network and learner on a worker")
    workers = sorted(client.scheduler_info()["workers"])
    done = 0
    for start in range(0, len(samples), batch_size):
        grads, share_metrics = batch_gradients(learner, samples[start:start + batch_size],
                                               client, replica, workers)
        for name, g in grads.items():
            learner.grads[name][:] = g
        learner.apply_gradients(lr_scale)
        metrics.merge(share_metrics)
        done += len(samples[start:start + batch_size])
        if progress:
            progress(Progress(done=done, samples=samples, metrics=metrics))


def _split(items, parts):
    """``items`` cut into ``parts`` contiguous pieces whose sizes differ by at most one."""
    sizes = [len(items) // parts + (k < len(items) % parts) for k in range(parts)]
    starts = np.r_[0, np.cumsum(sizes)]
    return [items[a:b] for a, b in zip(starts[:-1], starts[1:])]
