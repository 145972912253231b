"""Independent jobs (task, dt, seed, parameter point) on a Dask cluster.

``run_jobs(function, points, folder)`` calls ``function(**point)`` for every point and
writes each result, a JSON-serialisable dict, to its own file in ``folder`` as soon as it
finishes (written to a temporary file, then renamed: a file is whole or absent). Points
whose file exists are not run again, so a killed sweep resumes where it stopped. A job
that raises is run once more; if it fails again it is reported with its parameters and
the other results are kept. A progress bar shows jobs done and time left.

Where the jobs run (:func:`connect`):

- ``scheduler=None`` and no ``SGBRIAN_SCHEDULER`` in the environment: a ``LocalCluster``
  of processes, one single-threaded worker per core (``workers`` to choose);
- ``scheduler="tcp://host:8786"`` (or ``SGBRIAN_SCHEDULER``): an existing scheduler,
  whose workers were started with ``dask worker tcp://host:8786 --nthreads 1``;
- ``scheduler="serial"``: in this process, one job after the other (no Dask).

Every job takes its seed among its parameters, and the functions seed every draw from
it, so a result does not depend on where or in which order it ran. Brian2's Cython cache
is safe with several workers compiling at once: it takes a file lock per module
(``brian2.utils.filelock``) before building it.
"""
import json
import os
import re
import tempfile
import traceback


SCHEDULER_ENV = "SGBRIAN_SCHEDULER"
SERIAL = "serial"


class JobsFailed(RuntimeError):
    """Some jobs raised twice.

    Parameters
    ----------
    failed : list of tuple
        ``(point, traceback)`` of each.
    results : list
        The other results (None where a job failed).
    """

    def __init__(self, failed, results):
        self.failed, self.results = failed, results
        lines = [f"  {point}: {error.strip().splitlines()[-1]}" for point, error in failed]
        super().__init__(f"{len(failed)} of {len(results)} jobs failed twice "
                         f"(the other results are kept):\n" + "\n".join(lines))


def job_name(point):
    """A file name for a point: ``key=value`` pairs in key order; dicts among the values
    are written in key order too, so the name does not depend on the order in which
    anything was given.

    Parameters
    ----------
    point : dict
        The job's arguments.

    Returns
    -------
    str
        E.g. ``dt_ms=0.05_seed=1_task=itd``.
    """
    text = "_".join(f"{k}={_canonical(point[k])}" for k in sorted(point))
    return re.sub(r"[^A-Za-z0-9=._-]", "-", text)


def _canonical(value, top=True):
    """``str(value)`` (``repr`` inside containers, as ``str`` of a list writes them), with
    the keys of every dict in sorted order."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_canonical(value[k], False)}" for k in sorted(value)) + "}"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(_canonical(v, False) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner}{',' if len(value) == 1 else ''})"
    return str(value) if top else repr(value)


def write_json_atomic(path, data):
    """Write JSON through a temporary file in the same folder.

    Parameters
    ----------
    path : str
        The file.
    data : object
        JSON-serialisable data.
    """
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=1)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def scheduler_address(scheduler=None):
    """The scheduler to use.

    Parameters
    ----------
    scheduler : str, optional
        An address.

    Returns
    -------
    str or None
        ``scheduler``, else ``$SGBRIAN_SCHEDULER``, else None (a local cluster).
    """
    return scheduler or os.environ.get(SCHEDULER_ENV) or None


def connect(scheduler=None, workers=None):
    """A ``dask.distributed.Client``.

    Parameters
    ----------
    scheduler : str, optional
        An address, ``$SGBRIAN_SCHEDULER`` when not given; ``'serial'``: no client.
    workers : int, optional
        Processes of a new ``LocalCluster`` (default: one per core), each
        single-threaded.

    Returns
    -------
    distributed.Client or None
        The client (None for ``'serial'``).
    """
    address = scheduler_address(scheduler)
    workers = os.cpu_count() if workers is None else workers
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be an int >= 1, got {workers!r}")
    if address == SERIAL:
        return None
    from dask.distributed import Client, LocalCluster
    if address:
        return Client(address)
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                           dashboard_address=":0")
    return Client(cluster)


def add_arguments(parser):
    """``--scheduler`` and ``--workers`` for an analysis script.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The script's parser.
    """
    parser.add_argument("--scheduler", default=None,
                        help=f"Dask scheduler address (tcp://host:8786), or 'serial'; "
                             f"default ${SCHEDULER_ENV}, else a local cluster")
    parser.add_argument("--workers", type=int, default=None,
                        help="workers of the local cluster (default: one per core)")


def run_jobs(function, points, folder, client=None, progress=True, description="jobs"):
    """``[function(**p) for p in points]``, each result also in ``folder/<job_name>.json``
    (a result already there is read back, not run again).

    Parameters
    ----------
    function : callable
        The job.
    points : list of dict
        Its arguments.
    folder : str
        Where results are kept.
    client : distributed.Client, optional
        None: run here one job after the other.
    progress : bool
        Show a progress bar.
    description : str
        Its label.

    Returns
    -------
    list
        The results in the order of ``points``.

    Raises
    ------
    JobsFailed
        After every other job has finished and been written, if a job raised twice.
    """
    points = [dict(p) for p in points]
    names = [job_name(p) for p in points]
    if len(set(names)) != len(names):
        raise ValueError("points must be distinct (two points give the same job name)")
    os.makedirs(folder, exist_ok=True)
    paths = [os.path.join(folder, name + ".json") for name in names]
    results = [_read(path) for path in paths]
    todo = [k for k, r in enumerate(results) if r is None]
    bar = _progress(len(points), len(points) - len(todo), description, progress)
    failed = []

    def finished(k, result):
        write_json_atomic(paths[k], result)
        results[k] = result
        bar.update(1)

    if client is None:
        for k in todo:
            outcome = _call_twice(function, points[k])
            if isinstance(outcome, Exception):
                failed.append((points[k], "".join(traceback.format_exception(outcome))))
                bar.update(1)
            else:
                finished(k, outcome)
    else:
        failed = _run_on_client(client, function, points, todo, finished, bar)
    bar.close()
    if failed:
        raise JobsFailed(failed, results)
    return results


def kept_results(points, folder):
    """The results kept for points, without running anything: a sweep's state while it
    runs or after it was stopped.

    Parameters
    ----------
    points : list of dict
        The jobs' arguments.
    folder : str
        Where results are kept.

    Returns
    -------
    list
        The results (None where a job has not finished).
    """
    return [_read(os.path.join(folder, job_name(dict(p)) + ".json")) for p in points]


def _read(path):
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def _call(function, point):
    """``function(**point)`` (on a worker: the point's names cannot clash with
    ``Client.submit``'s own keywords)."""
    return function(**point)


def _call_twice(function, point):
    for attempt in range(2):
        try:
            return function(**point)
        except Exception as error:               # noqa: BLE001 - reported with its point
            last = error
    return last


def _run_on_client(client, function, points, todo, finished, bar):
    from dask.distributed import as_completed
    futures = {client.submit(_call, function, points[k], pure=False): (k, 1) for k in todo}
    failed = []
    pending = as_completed(list(futures))
    for future in pending:
        k, attempt = futures.pop(future)
        if future.status == "finished":
            finished(k, future.result())
        elif attempt == 1:
            retry = client.submit(_call, function, points[k], pure=False)
            futures[retry] = (k, 2)
            pending.add(retry)
        else:
            error, tb = future.exception(), future.traceback()
            text = "".join(traceback.format_exception(type(error), error, tb))
            failed.append((points[k], text))
            bar.update(1)
    return failed


class _Silent:
    def update(self, n):
        pass

    def close(self):
        pass


def _progress(total, done, description, show):
    if not show:
        return _Silent()
    from tqdm import tqdm
    return tqdm(total=total, initial=done, desc=description, unit="job")


# -- data-parallel training -------------------------------------------------------------
def script_arguments(doc, seeds=(0, 1, 2)):
    """``--seeds`` and ``--scheduler`` for a model script. Its repeats run here one after
    the other, or with ``--scheduler`` (or $SGBRIAN_SCHEDULER) as jobs on that cluster.
    (A local cluster is not started from a model script: its worker processes would
    import, and so run, the script itself.)

    Parameters
    ----------
    doc : str
        The script's docstring (its first line describes the script).
    seeds : sequence of int
        Default seeds.

    Returns
    -------
    argparse.Namespace
        ``seeds``, ``scheduler`` and ``client`` (None: here).
    """
    import argparse
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--seeds", nargs="+", type=int, default=list(seeds))
    parser.add_argument("--scheduler", default=None,
                        help=f"Dask scheduler address (default ${SCHEDULER_ENV}; none: here)")
    args = parser.parse_args()
    address = scheduler_address(args.scheduler)
    args.client = connect(address) if address and address != SERIAL else None
    return args
