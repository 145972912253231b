"""SpikingGamma neurons as Brian2 ``Equations`` (docs/spec.md sections 1 and 3).

A receiving neuron j keeps the aggregated buckets ``U_j^k = sum_i w_ij u_ij^k``
(k = 0..K) and computes

    x_j = b_j + sum_{k=0..K} v_j^k U_j^k          (unrectified signal)
    y_j = relu(x_j)  or  y_j = x_j                (hidden / linear readout)

The buckets spill into each other, ``tau_k dU^k/dt = U^{k-1} - U^k`` (k >= 1), and the
tap ``U^0`` only jumps when events arrive. The equations are ordinary Brian2
``Equations``: print them, add terms, or change parameters on the group.

Names used in every equation set (so that users and the learner can rely on them):
``U_k`` buckets, ``v_k`` bucket weights, ``b`` bias, ``x``, ``y``, ``tau_gamma`` (one
time constant) or ``tau_1..tau_K`` (one per bucket).

Extending the neuron (:func:`neuron_equations`): ``extra`` equations (state variables,
differential equations, linked or summed inputs from other Brian2 groups), ``drive``
terms added to x (``x = b + sum_k v_k U_k + drive``), extra per-neuron ``parameters``,
and any output nonlinearity ``y = f(x)`` given as a Brian2 expression with its
derivative (:class:`Nonlinearity`; built in: relu, linear, softplus, tanh, sigmoid,
:func:`leaky_relu`). The result is still plain ``Equations``.
"""

import numpy as np
from brian2 import Equations, second
from brian2.units.fundamentalunits import DIMENSIONLESS, get_dimensions, get_unit

from .nonlinearities import (NONLINEARITIES, NUMPY_FUNCTIONS, OUTPUTS, Nonlinearity,
                             compiled_expression, leaky_relu, nonlinearity)
from .validation import check_choice, check_int, check_time

#: The nonlinearities' names are re-exported: ``sgbrian.equations.Nonlinearity`` keeps working.
__all__ = ["NONLINEARITIES", "NUMPY_FUNCTIONS", "OUTPUTS", "Nonlinearity", "compiled_expression",
           "leaky_relu", "nonlinearity", "MAX_BUCKETS", "RESERVED", "is_reserved", "unit_name",
           "extension_equations", "bucket_time_constants", "bateman_amplification",
           "cascade_equations", "weighted_sum", "output_equations", "neuron_equations",
           "synapse_bucket_equations"]

#: Largest number of buckets the package accepts (the issue asks for K <= 32 at least).
MAX_BUCKETS = 256

#: Names the package's equations, encoder and builder use; extensions may not redefine them.
RESERVED = ("b", "x", "y", "theta", "r", "q", "I_syn", "tau_gamma", "t_offset", "stimulus",
            "payload_store", "payload_read", "payload_slots", "N", "i", "t", "dt", "xi",
            "t_in_timesteps", "lastspike", "not_refractory")


def is_reserved(name):
    """Whether a name is one of the package's own.

    Parameters
    ----------
    name : str
        A variable or constant name.

    Returns
    -------
    bool
        True for the package's names, including ``U_k``, ``v_k``, ``tau_k`` and lags.
    """
    import re
    return name in RESERVED or re.fullmatch(r"(U|v|u|tau|q_lag)_\d+", name) is not None


def unit_name(value):
    """The Brian2 unit of a value as written in equations.

    Parameters
    ----------
    value : Quantity or array_like
        A value.

    Returns
    -------
    str
        Its unit ('1' when dimensionless).
    """
    dims = get_dimensions(value)
    return "1" if dims is DIMENSIONLESS else repr(get_unit(dims))


def extension_equations(extra=None, parameters=None, K=None):
    """The user's extra equations plus one declaration per extra parameter.

    Parameters
    ----------
    extra : str or Equations, optional
        Extra equations.
    parameters : dict, optional
        {name: value}; each is declared ``name : unit`` from the value's unit.
    K : int, optional
        Number of buckets (to recognise the package's names).

    Returns
    -------
    Equations
        The extension.

    Raises
    ------
    ValueError
        A name that clashes with the package's.
    """
    eqs = Equations("")
    if extra is not None:
        eqs = extra if isinstance(extra, Equations) else Equations(str(extra))
    declared = list(eqs.names)
    for name in parameters or {}:
        if not name.isidentifier():
            raise ValueError(f"parameters: {name!r} is not a valid variable name")
        declared.append(name)
        eqs += Equations(f"{name} : {unit_name(parameters[name])}")
    clashes = sorted({n for n in declared if is_reserved(n)})
    if clashes:
        raise ValueError(f"extra equations and parameters may not redefine the package's "
                         f"names {clashes}; rename them")
    return eqs


def bucket_time_constants(K, tau):
    """Names and namespace of the bucket time constants.

    K equal times are treated as one. Distinct times must be pairwise distinct enough
    for the exact (Bateman) propagator to keep 1e-10 precision: its terms are
    amplified by ``max prod l_m / prod |l_m - l_i|`` (``l = 1/tau``), which must stay
    below 1e6. The values go into the group's namespace, where a user may change them
    between runs; the propagator code refers to them by name.

    Parameters
    ----------
    K : int
        Number of buckets.
    tau : Quantity
        One time (all buckets share ``tau_gamma``) or K times (``tau_1..tau_K``).

    Returns
    -------
    names : list of str
        The name of each bucket's time constant.
    namespace : dict
        The values by name.

    Raises
    ------
    ValueError
        Not a time > 0, not K times, or times too close for the exact propagator.
    """
    K = check_int("K", K, 1, MAX_BUCKETS)
    check_time("tau", tau)
    taus = np.atleast_1d(np.asarray(tau / second, dtype=float))
    if taus.size not in (1, K):
        raise ValueError(f"tau must be one time or K = {K} times, got {taus.size}")
    if np.all(taus == taus[0]):
        return ["tau_gamma"] * K, {"tau_gamma": float(taus[0]) * second}
    amplification = bateman_amplification(taus)
    if amplification > 1e6:
        raise ValueError("tau must be one time, or K times different enough from each other "
                         f"(propagator amplification {amplification:.2g} > 1e6); "
                         "use equal time constants or spread them further")
    names = [f"tau_{k}" for k in range(1, K + 1)]
    return names, {n: float(t) * second for n, t in zip(names, taus)}


def bateman_amplification(taus):
    """Largest term of the distinct-rate propagator,
    ``prod_{m=j+1..k} l_m / prod_{m=j..k, m!=i} |l_m - l_i|`` (``l_0 = 0`` is the tap,
    ``l_k = 1/tau_k``).

    Parameters
    ----------
    taus : array_like
        The K time constants in seconds.

    Returns
    -------
    float
        The amplification (inf if two rates are equal).
    """
    rates = np.r_[0.0, 1.0 / np.asarray(taus, dtype=float)]
    worst = 0.0
    K = rates.size - 1
    for k in range(1, K + 1):
        for j in range(k + 1):
            gain = np.prod(rates[j + 1:k + 1])
            for i in range(j, k + 1):
                diffs = np.abs(np.delete(rates[j:k + 1], i - j) - rates[i])
                worst = max(worst, np.inf if np.any(diffs == 0) else gain / np.prod(diffs))
    return worst


def cascade_equations(K, tau, prefix="U"):
    """The cascade ``d{prefix}_k/dt = ({prefix}_{k-1} - {prefix}_k)/tau_k``, k = 1..K.
    ``{prefix}_0`` is a parameter (the tap, held constant between events).

    Parameters
    ----------
    K : int
        Number of buckets (>= 1).
    tau : Quantity
        One time or K times.
    prefix : str
        Name of the buckets.

    Returns
    -------
    equations : Equations
        The cascade.
    namespace : dict
        Its time constants.
    """
    names, namespace = bucket_time_constants(K, tau)
    lines = [f"{prefix}_0 : 1"]
    lines += [f"d{prefix}_{k}/dt = ({prefix}_{k-1} - {prefix}_{k})/{names[k-1]} : 1"
              for k in range(1, K + 1)]
    return Equations("\n".join(lines)), namespace


def weighted_sum(K, weight="v", bucket="U"):
    """The expression ``weight_0*bucket_0 + ... + weight_K*bucket_K``.

    Parameters
    ----------
    K : int
        Number of buckets.
    weight, bucket : str
        Names of the weights and the buckets.

    Returns
    -------
    str
        The expression.
    """
    return " + ".join(f"{weight}_{k}*{bucket}_{k}" for k in range(K + 1))


def output_equations(drive, output="relu", extra_drive=None):
    """``x = b + drive (+ extra_drive)`` and ``y = f(x)``.

    Parameters
    ----------
    drive : str
        The expression of the synaptic drive.
    output : str or Nonlinearity
        The output nonlinearity f.
    extra_drive : str, optional
        The user's extra terms of x.

    Returns
    -------
    Equations
        ``b``, ``x`` and ``y``.
    """
    f = nonlinearity(output)
    if extra_drive is not None and (not isinstance(extra_drive, str) or not extra_drive.strip()):
        raise ValueError(f"drive must be a non-empty string of terms added to x, got {extra_drive!r}")
    x = f"b + {drive}" + (f" + ({extra_drive})" if extra_drive else "")
    return Equations(f"""
        b : 1
        x = {x} : 1
        y = {f.expression} : 1
    """)


def neuron_equations(K, tau, output="relu", bucket_weights="neuron", drive=None, extra=None,
                     parameters=None):
    """Receiver equations of a SpikingGamma neuron (docs/spec.md section 1).

    Parameters
    ----------
    K : int
        Number of buckets.
    tau : Quantity
        One time or K times.
    output : str or Nonlinearity
        A name in ``OUTPUTS`` or a :class:`Nonlinearity`.
    bucket_weights : str
        'neuron' (default): the neuron holds ``U_0..U_K`` and ``v_0..v_K``;
        ``x = b + sum_k v_k U_k``. 'synapse': the buckets and weights live on the
        synapses (K+1 states per synapse) and reach the neuron through the summed
        variable ``I_syn``; ``x = b + I_syn``.
    drive : str, optional
        Terms added to x.
    extra : str or Equations, optional
        Extra equations: state variables, differential equations with a Brian2 method
        of their own under ``'gamma_cascade'``, linked or summed inputs.
    parameters : dict, optional
        {name: value}; declared here, set by :func:`~sgbrian.layers.neuron_layer`.

    Returns
    -------
    equations : Equations
        The neuron's equations.
    namespace : dict
        Its constants (the time constants).
    """
    check_choice("bucket_weights", bucket_weights, ("neuron", "synapse"))
    extension = extension_equations(extra, parameters)
    if bucket_weights == "synapse":
        check_int("K", K, 1, MAX_BUCKETS)
        check_time("tau", tau)
        return Equations("I_syn : 1") + output_equations("I_syn", output, drive) + extension, {}
    cascade, namespace = cascade_equations(K, tau)
    weights = Equations("\n".join(f"v_{k} : 1" for k in range(K + 1)))
    return (cascade + weights + output_equations(weighted_sum(K), output, drive) + extension,
            namespace)


def synapse_bucket_equations(K, tau):
    """Per-synapse buckets ``u_k`` and weights ``v_k`` (``bucket_weights='synapse'``); the
    synapse contributes ``w * sum_k v_k u_k`` to the summed variable ``I_syn``.

    Parameters
    ----------
    K : int
        Number of buckets.
    tau : Quantity
        One time or K times.

    Returns
    -------
    equations : Equations
        The synapses' equations.
    namespace : dict
        Their time constants.
    """
    cascade, namespace = cascade_equations(K, tau, prefix="u")
    weights = Equations("\n".join(f"v_{k} : 1" for k in range(K + 1)))
    summed = Equations(f"I_syn_post = w*({weighted_sum(K, 'v', 'u')}) : 1 (summed)")
    return cascade + weights + Equations("w : 1") + summed, namespace
