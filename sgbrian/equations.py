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
import functools
from dataclasses import dataclass

import numpy as np
from brian2 import Equations, second
from brian2.units.fundamentalunits import DIMENSIONLESS, get_dimensions, get_unit
from brian2.utils.stringtools import get_identifiers

from .validation import check_choice, check_int, check_time

#: Largest number of buckets the package accepts (the issue asks for K <= 32 at least).
MAX_BUCKETS = 256

#: Functions a nonlinearity or drive term may use, with their numpy forms (the learner
#: evaluates them); Brian2 has each under the same name.
NUMPY_FUNCTIONS = {"exp": np.exp, "log": np.log, "tanh": np.tanh, "sqrt": np.sqrt,
                   "abs": np.abs, "sin": np.sin, "cos": np.cos, "clip": np.clip,
                   "int": lambda z: np.asarray(z, dtype=float), "inf": np.inf, "pi": np.pi}


@functools.lru_cache(maxsize=None)
def compiled_expression(code):
    """``code`` compiled once (the learner evaluates it at every step)."""
    return compile(code, "<nonlinearity>", "eval")


@dataclass(frozen=True)
class Nonlinearity:
    """An output nonlinearity ``y = f(x)``: ``expression`` and its ``derivative`` f'(x),
    both Brian2 expressions in ``x`` (functions: ``NUMPY_FUNCTIONS``). The neuron's
    equations use the expression; the learner evaluates both with numpy."""
    name: str
    expression: str
    derivative: str

    def __post_init__(self):
        for field_name in ("expression", "derivative"):
            code = getattr(self, field_name)
            unknown = get_identifiers(code) - {"x"} - set(NUMPY_FUNCTIONS)
            if not isinstance(code, str) or unknown:
                raise ValueError(f"output {field_name} must be an expression in x using "
                                 f"{sorted(NUMPY_FUNCTIONS)}; {code!r} uses {sorted(unknown)}")

    def _eval(self, code, x):
        with np.errstate(over="ignore"):
            value = np.asarray(eval(compiled_expression(code), {"__builtins__": {}},
                                    {**NUMPY_FUNCTIONS, "x": x}), dtype=float)
        return value if value.shape == np.shape(x) else value * np.ones_like(x)

    def __call__(self, x):
        """f(x) with numpy."""
        return self._eval(self.expression, x)

    def slope(self, x):
        """f'(x) with numpy."""
        return self._eval(self.derivative, x)


def leaky_relu(slope=0.01):
    """``y = x`` for x > 0, ``slope * x`` otherwise."""
    slope = float(slope)
    return Nonlinearity(f"leaky_relu({slope:g})", f"x*({slope!r} + {1 - slope!r}*int(x > 0))",
                        f"{slope!r} + {1 - slope!r}*int(x > 0)")


NONLINEARITIES = {
    "relu": Nonlinearity("relu", "clip(x, 0, inf)", "int(x > 0)"),
    "linear": Nonlinearity("linear", "x", "1 + 0*x"),
    "softplus": Nonlinearity("softplus", "log(1 + exp(x))", "1/(1 + exp(-x))"),
    "tanh": Nonlinearity("tanh", "tanh(x)", "1 - tanh(x)**2"),
    "sigmoid": Nonlinearity("sigmoid", "1/(1 + exp(-x))", "exp(-x)/(1 + exp(-x))**2"),
}
OUTPUTS = tuple(NONLINEARITIES)

#: Names the package's equations, encoder and builder use; extensions may not redefine them.
RESERVED = ("b", "x", "y", "theta", "r", "q", "I_syn", "tau_gamma", "t_offset", "stimulus",
            "payload_store", "payload_read", "payload_slots", "N", "i", "t", "dt", "xi",
            "t_in_timesteps", "lastspike", "not_refractory")


def nonlinearity(output, name="output"):
    """``output`` as a :class:`Nonlinearity`: one of ``OUTPUTS`` by name, or itself."""
    if isinstance(output, Nonlinearity):
        return output
    if isinstance(output, str) and output in NONLINEARITIES:
        return NONLINEARITIES[output]
    raise ValueError(f"{name} must be one of {list(OUTPUTS)} or a Nonlinearity(name, "
                     f"expression, derivative), got {output!r}")


def is_reserved(name):
    """True for the package's own names (including ``U_k``, ``v_k``, ``tau_k``, lags)."""
    import re
    return name in RESERVED or re.fullmatch(r"(U|v|u|tau|q_lag)_\d+", name) is not None


def unit_name(value):
    """The Brian2 unit of ``value`` as written in equations: '1' when dimensionless."""
    dims = get_dimensions(value)
    return "1" if dims is DIMENSIONLESS else repr(get_unit(dims))


def extension_equations(extra=None, parameters=None, K=None):
    """The user's ``extra`` equations (str or Equations) plus one declaration per extra
    parameter (``name : unit``, from the value's unit); clashes with the package's
    names are refused."""
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


def output_equations(drive, output="relu", extra_drive=None):
    """``x = b + drive (+ extra_drive)`` and ``y = f(x)`` (f: the output nonlinearity)."""
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
    """Receiver equations of a SpikingGamma neuron; returns ``(Equations, namespace)``.

    ``bucket_weights='neuron'`` (default): the neuron holds ``U_0..U_K`` and
    ``v_0..v_K``; ``x = b + sum_k v_k U_k``. ``bucket_weights='synapse'``: the buckets
    and weights live on the synapses (K+1 states per synapse) and reach the neuron
    through the summed variable ``I_syn``; ``x = b + I_syn``. ``output``: a name in
    ``OUTPUTS`` or a :class:`Nonlinearity`. Extensions: ``drive`` (terms added to x, a
    string), ``extra`` (equations: state variables, differential equations with a Brian2
    method of their own under ``'gamma_cascade'``, linked or summed inputs), and
    ``parameters`` ({name: value}; declared here, set by :func:`~sgbrian.network.neuron_layer`).
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
    """Per-synapse buckets ``u_k`` and weights ``v_k`` (``bucket_weights='synapse'``).

    The synapse contributes ``w * sum_k v_k u_k`` to the summed variable ``I_syn``.
    Returns ``(Equations, namespace)``.
    """
    cascade, namespace = cascade_equations(K, tau, prefix="u")
    weights = Equations("\n".join(f"v_{k} : 1" for k in range(K + 1)))
    summed = Equations(f"I_syn_post = w*({weighted_sum(K, 'v', 'u')}) : 1 (summed)")
    return cascade + weights + Equations("w : 1") + summed, namespace
