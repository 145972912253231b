"""Tables of the comparison with BPTT: each baseline's tuned setting, statistics over
seeds, the memory a method keeps for learning, and the markdown summary
(``analyses/baselines.py``, figure 8). The runs themselves: :mod:`sgbrian.baselines`."""
import numpy as np

from .experiments import EXPERIMENTS

#: sgbrian and the BPTT baselines (:mod:`sgbrian.baselines`).
SYSTEMS = ("sgbrian", "lif", "rlif", "delay_lif")

def with_learner_state(rows, states):
    """Rows with each sgbrian row's ``learner_state_mib_per_sample`` taken from the
    ``sgbrian_state_point`` result of the same task, dt and seed.

    Parameters
    ----------
    rows : list of dict
        Results of the comparison.
    states : list of dict
        ``sgbrian_state_point`` results.

    Returns
    -------
    list of dict
        The rows, completed.
    """
    key = lambda r: (r["task"], float(r["dt_ms"]), int(r["seed"]))      # noqa: E731
    by_point = {key(s): s["learner_state_mib_per_sample"] for s in states}
    return [{**r, "learner_state_mib_per_sample": by_point[key(r)]}
            if r["system"] == "sgbrian" and key(r) in by_point else r for r in rows]


def best_setting(rows, system, task):
    """The tuning row with the best validation score of a system on a task (lowest NRMSE,
    highest accuracy). Ties (and NaN scores, which count as worst) go to the smallest
    learning rate, then the smallest tau_mem, so that the choice does not depend on the
    order of the rows.

    Parameters
    ----------
    rows : list of dict
        Tuning results of ``bptt_point(..., validation=True)``, as dicts or CSV rows.
    system : str
        The baseline.
    task : str
        The experiment.

    Returns
    -------
    dict or None
        The row (None if there is none).
    """
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
    """The rows that sgbrian produced or that a BPTT baseline produced with the setting
    :func:`best_setting` chooses now (points of a setting that a later tuning replaced
    are left out).

    Parameters
    ----------
    rows : list of dict
        Results.
    tuning : list of dict
        Tuning results.

    Returns
    -------
    list of dict
        The rows kept.
    """
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
    """The memory a learning method keeps per sample: for BPTT the tensors autograd saves for
    the backward pass (``autograd_mib_per_sample``), for sgbrian the learner's buffers
    (``learner_state_mib_per_sample``).

    Parameters
    ----------
    row : dict
        A result.

    Returns
    -------
    float
        MiB (NaN where not measured).
    """
    return float(row[memory_key(row["system"])])


def memory_key(system):
    """The CSV column of the memory a system keeps for learning (:func:`memory_per_sample`).

    Parameters
    ----------
    system : str
        The system.

    Returns
    -------
    str
        The column.
    """
    return "learner_state_mib_per_sample" if system == "sgbrian" else "autograd_mib_per_sample"


def over_seeds(rows, task, system, key):
    """Statistics of one quantity over the seeds of a system on a task at each dt. Rows
    without the value (an empty CSV cell: not measured) are left out.

    Parameters
    ----------
    rows : list of dict
        Results.
    task : str
        The experiment.
    system : str
        The system.
    key : str
        A column of the CSV, or "memory" (:func:`memory_per_sample`).

    Returns
    -------
    dict
        ``{dt_ms: (steps, mean, sd, n)}``; sd is the sample standard deviation (ddof =
        1; 0 for one seed).
    """
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
    """Markdown table of a task: one column per dt (coarsest first), one row per system and
    quantity (score, training seconds per sample, memory kept for learning per sample,
    peak RSS per sample), each cell "mean ± sd", with "(n)" where fewer than ``seeds``
    seeds ran and "-" where none did. The first line gives the time steps per sample at
    each dt.

    Parameters
    ----------
    rows : list of dict
        Results.
    task : str
        The experiment.
    seeds : int
        Seeds expected.

    Returns
    -------
    str
        The table.
    """
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
