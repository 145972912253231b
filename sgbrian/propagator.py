"""The exact propagator of the gamma cascade (MODEL.md section 3).

The buckets obey ``tau_k du^k/dt = u^{k-1} - u^k`` (k = 1..K) and the tap ``u^0`` is
constant between events, so one step of length h is exact:

    u(t + h) = P(h) u(t),   P(h) = expm(G h)

with the bidiagonal generator ``G[k, k] = -1/tau_k``, ``G[k, k-1] = 1/tau_k`` and a zero
row for the tap. For equal time constants (``a = h / tau``) the entries are closed form:

    P[k, k-m] = exp(-a) a^m / m!                  (m = 0..k-1)
    P[k, 0]   = 1 - sum_{m<k} P[k, k-m]           (the regularised gamma P(k, a))

:class:`LinearPropagator` is a Brian2 state updater (registered as ``'gamma_cascade'``)
that writes ``P(dt)`` into the generated code as numbers. It handles any system of
linear ODEs with constant coefficients whose other inputs are held constant over a
step, which includes the cascade; it is not Euler (dt-dependent) and not Brian2's
symbolic ``'exact'`` method (whose build time grows steeply with K).
"""
import numpy as np
import scipy.linalg
import scipy.special
import sympy
from brian2 import StateUpdateMethod
from brian2.core.variables import Constant
from brian2.parsing.sympytools import str_to_sympy
from brian2.stateupdaters.base import UnsupportedEquationsException

from .validation import check_positive


def cascade_generator(taus):
    """Generator ``G`` of the cascade for bucket time constants ``taus`` (seconds).

    ``G`` is (K+1) x (K+1): row 0 (the tap) is zero, ``G[k, k] = -1/tau_k`` and
    ``G[k, k-1] = 1/tau_k``.
    """
    taus = check_positive("taus", taus).ravel()
    K = taus.size
    G = np.zeros((K + 1, K + 1))
    rows = np.arange(1, K + 1)
    G[rows, rows] = -1.0 / taus
    G[rows, rows - 1] = 1.0 / taus
    return G


def cascade_propagator(h, taus):
    """Exact one-step propagator ``P(h)`` of the cascade, shape (K+1, K+1).

    ``h`` and ``taus`` are in seconds (floats). Equal time constants use the closed
    form of MODEL.md section 3; distinct ones the matrix exponential of the generator.
    """
    taus = check_positive("taus", taus).ravel()
    h = float(check_positive("h", h))
    K = taus.size
    if np.all(taus == taus[0]):
        a = h / taus[0]
        P = np.zeros((K + 1, K + 1))
        P[0, 0] = 1.0
        m = np.arange(K)
        c = np.exp(-a + m * np.log(a) - scipy.special.gammaln(m + 1))  # e^-a a^m / m!
        for k in range(1, K + 1):
            P[k, k - m[:k]] = c[:k]
            P[k, 0] = scipy.special.gammainc(k, a)
        return P
    return scipy.linalg.expm(cascade_generator(taus) * h)


def _linear_system(equations, variables):
    """Coefficients of ``d(state)/dt = A state + B held``, as floats (SI units).

    Returns ``(state_names, held_names, A, B)``. Raises
    ``UnsupportedEquationsException`` if a right-hand side is not linear with
    constant coefficients, or depends on ``t``.
    """
    state = list(equations.diff_eq_names)
    substituted = dict(equations.get_substituted_expressions(variables))
    constants = {}
    for name, var in variables.items():
        if isinstance(var, Constant):
            constants[sympy.Symbol(name, real=True)] = float(np.asarray(var.value))
    rhs = {}
    held = []
    for name in state:
        expr = str_to_sympy(substituted[name].code, variables).xreplace(constants)
        rhs[name] = sympy.expand(expr)
        for sym in sorted(rhs[name].free_symbols, key=str):
            if sym.name == "t":
                raise UnsupportedEquationsException("explicit time dependence")
            if sym.name not in state and sym.name not in held:
                held.append(sym.name)
    names = state + held
    symbols = {n: sympy.Symbol(n, real=True) for n in names}
    A = np.zeros((len(state), len(names)))
    for i, name in enumerate(state):
        expr = rhs[name]
        for j, other in enumerate(names):
            coeff = expr.coeff(symbols[other])
            if coeff.free_symbols:
                raise UnsupportedEquationsException(
                    f"coefficient of {other} in d{name}/dt is not constant: {coeff}")
            A[i, j] = float(coeff)
        remainder = sympy.simplify(expr - sum(A[i, j] * symbols[n] for j, n in enumerate(names)))
        if remainder != 0 and (remainder.free_symbols or abs(float(remainder)) > 0):
            raise UnsupportedEquationsException(
                f"d{name}/dt is not linear in the state (remainder {remainder})")
    return state, held, A[:, :len(state)], A[:, len(state):]


class LinearPropagator(StateUpdateMethod):
    """Brian2 state updater: exact step ``expm(M dt)`` for linear ODEs with held inputs.

    Writes, for every state variable ``X``::

        _X = sum_j P[X, j] * j        (j over state and held variables)
        X = _X

    with ``P`` computed in Python from the current ``dt`` and the constants in the
    group's namespace. Time constants must therefore be constants (namespace or
    literal), not state variables; they may be changed between runs in runtime mode.
    """

    def can_integrate(self, equations, variables, method_options=None):
        try:
            _linear_system(equations, variables)
        except (UnsupportedEquationsException, KeyError, TypeError):
            return False
        return True

    def __call__(self, equations, variables=None, method_options=None):
        state, held, A, B = _linear_system(equations, variables)
        dt = float(np.asarray(variables["dt"].get_value()).ravel()[0])
        n, m = len(state), len(held)
        M = np.zeros((n + m, n + m))
        M[:n, :n] = A
        M[:n, n:] = B
        P = scipy.linalg.expm(M * dt)
        names = state + held
        lines = []
        for i, name in enumerate(state):
            terms = [f"{P[i, j]!r}*{other}" for j, other in enumerate(names) if P[i, j] != 0.0]
            lines.append(f"_{name} = " + (" + ".join(terms) if terms else "0.0"))
        lines += [f"{name} = _{name}" for name in state]
        return "\n".join(lines)


StateUpdateMethod.register("gamma_cascade", LinearPropagator())
