"""SpikingGamma neurons as Brian2 ``Equations`` (MODEL.md sections 1 and 3).

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
"""
import numpy as np
from brian2 import Equations, second

from .validation import check_choice, check_int, check_time

#: Largest number of buckets the package accepts (the issue asks for K <= 32 at least).
MAX_BUCKETS = 256
OUTPUTS = ("relu", "linear")


def bucket_time_constants(K, tau):
    """Return ``(names, namespace)`` for the bucket time constants.

    ``tau`` is one time (all buckets share ``tau_gamma``) or K times (``tau_1..tau_K``).
    K equal times are treated as one. Distinct times must be pairwise distinct enough
    for the exact (Bateman) propagator to keep 1e-10 precision: its terms are
    amplified by ``max prod l_m / prod |l_m - l_i|`` (``l = 1/tau``), which must stay
    below 1e6. The values go into the group's namespace, where a user may change them
    between runs; the propagator code refers to them by name.
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
    """Largest term ``prod_{m=j+1..k} l_m / prod_{m=j..k, m!=i} |l_m - l_i|`` of the
    distinct-rate propagator (``l_0 = 0`` is the tap, ``l_k = 1/tau_k``); inf if two
    rates are equal."""
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

    Returns ``(Equations, namespace)``. ``{prefix}_0`` is a parameter (the tap, held
    constant between events).
    """
    names, namespace = bucket_time_constants(K, tau)
    lines = [f"{prefix}_0 : 1"]
    lines += [f"d{prefix}_{k}/dt = ({prefix}_{k-1} - {prefix}_{k})/{names[k-1]} : 1"
              for k in range(1, K + 1)]
    return Equations("\n".join(lines)), namespace


def weighted_sum(K, weight="v", bucket="U"):
    """The expression ``weight_0*bucket_0 + ... + weight_K*bucket_K``."""
    return " + ".join(f"{weight}_{k}*{bucket}_{k}" for k in range(K + 1))


def output_equations(drive, output="relu"):
    """``x = b + drive`` and ``y = relu(x)`` (or ``y = x`` for a linear readout)."""
    check_choice("output", output, OUTPUTS)
    y = "clip(x, 0, inf)" if output == "relu" else "x"
    return Equations(f"""
        b : 1
        x = b + {drive} : 1
        y = {y} : 1
    """)


def neuron_equations(K, tau, output="relu", bucket_weights="neuron"):
    """Receiver equations of a SpikingGamma neuron; returns ``(Equations, namespace)``.

    ``bucket_weights='neuron'`` (default): the neuron holds ``U_0..U_K`` and
    ``v_0..v_K``; ``x = b + sum_k v_k U_k``. ``bucket_weights='synapse'``: the buckets
    and weights live on the synapses (K+1 states per synapse) and reach the neuron
    through the summed variable ``I_syn``; ``x = b + I_syn``.
    """
    check_choice("bucket_weights", bucket_weights, ("neuron", "synapse"))
    if bucket_weights == "synapse":
        check_int("K", K, 1, MAX_BUCKETS)
        check_time("tau", tau)
        return Equations("I_syn : 1") + output_equations("I_syn", output), {}
    cascade, namespace = cascade_equations(K, tau)
    weights = Equations("\n".join(f"v_{k} : 1" for k in range(K + 1)))
    return cascade + weights + output_equations(weighted_sum(K), output), namespace


def synapse_bucket_equations(K, tau):
    """Per-synapse buckets ``u_k`` and weights ``v_k`` (``bucket_weights='synapse'``).

    The synapse contributes ``w * sum_k v_k u_k`` to the summed variable ``I_syn``.
    Returns ``(Equations, namespace)``.
    """
    cascade, namespace = cascade_equations(K, tau, prefix="u")
    weights = Equations("\n".join(f"v_{k} : 1" for k in range(K + 1)))
    summed = Equations(f"I_syn_post = w*({weighted_sum(K, 'v', 'u')}) : 1 (summed)")
    return cascade + weights + Equations("w : 1") + summed, namespace
