"""Whether results depend on dt: the verdict of a temporal-precision sweep per task
(spread of the mean scores over dt) and the p-value of the effect of dt, seeds as
blocks (:mod:`sgbrian.precision` runs the sweep)."""
import numpy as np
import scipy.stats


def dt_effect_p(task_rows):
    """p-value of the effect of dt on the trained scores of one task's rows.

    When every dt was trained with the same seeds (at least 2 seeds, 2 dts), the seeds
    are blocks: a seed fixes the task data and the initial network at every dt, so a
    two-way ANOVA without interaction (score = mean + dt effect + seed effect + noise)
    compares the dts within each seed; ``F = MS_dt / MS_residual`` with ``(a - 1)`` and
    ``(a - 1)(b - 1)`` degrees of freedom (a dts, b seeds; for 2 dts the paired t-test,
    F = t^2). Otherwise a one-way ANOVA over dt (``scipy.stats.f_oneway``, seeds as
    replicates).

    Parameters
    ----------
    task_rows : list of dict
        One task's rows.

    Returns
    -------
    float
        The p-value (NaN when neither test can be computed).
    """
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
    """Per task, from every seed: the mean test score trained at each dt, whether the means
    lie within 2 percentage points (accuracy) or 10% (NRMSE, max/min - 1) of each other,
    and the p-value of :func:`dt_effect_p` (p < 0.05: a detectable effect of dt).

    Parameters
    ----------
    rows : list of dict
        The sweep's rows.

    Returns
    -------
    dict
        ``{task: (insensitive, spread, text, p_value)}``.
    """
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
