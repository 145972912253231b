"""The exact propagator of the gamma cascade (docs/spec.md section 3).

The buckets obey ``tau_k du^k/dt = u^{k-1} - u^k`` (k = 1..K) and the tap ``u^0`` is
constant between events, so one step of length h is exact:

    u(t + h) = P(h) u(t),   P(h) = expm(G h)

with the bidiagonal generator ``G[k, k] = -1/tau_k``, ``G[k, k-1] = 1/tau_k`` and a zero
row for the tap. For equal time constants (``a = h / tau``) the entries are closed form:

    P[k, k-m] = exp(-a) a^m / m!                  (m = 0..k-1)
    P[k, 0]   = 1 - sum_{m<k} P[k, k-m]           (the regularised gamma P(k, a))

:class:`GammaCascadePropagator` is a Brian2 state updater (registered as
``'gamma_cascade'``) that writes this propagator into the generated code. It is not
Euler (dt-dependent) and not Brian2's symbolic ``'exact'`` method (whose build time
grows steeply with K).
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
    """Generator ``G`` of the cascade: row 0 (the tap) is zero, ``G[k, k] = -1/tau_k`` and
    ``G[k, k-1] = 1/tau_k``.

    Parameters
    ----------
    taus : array_like
        The K time constants in seconds.

    Returns
    -------
    ndarray
        (K+1) x (K+1).
    """
    taus = check_positive("taus", taus).ravel()
    K = taus.size
    G = np.zeros((K + 1, K + 1))
    rows = np.arange(1, K + 1)
    G[rows, rows] = -1.0 / taus
    G[rows, rows - 1] = 1.0 / taus
    return G


def cascade_propagator(h, taus):
    """Exact one-step propagator ``P(h)`` of the cascade.

    Equal time constants use the closed form of docs/spec.md section 3; distinct ones
    the matrix exponential of the generator.

    Parameters
    ----------
    h : float
        The step in seconds.
    taus : array_like
        The K time constants in seconds.

    Returns
    -------
    ndarray
        (K+1) x (K+1): the buckets after a step are ``P @ U``.

    Examples
    --------
    >>> P = cascade_propagator(0.5, [1.0, 1.0])      # K = 2, a step of half a tau
    >>> P.round(4).tolist()     # rows: the tap, 1 - e^-a and e^-a, then the gamma terms
    [[1.0, 0.0, 0.0], [0.3935, 0.6065, 0.0], [0.0902, 0.3033, 0.6065]]
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


def _chain_link(name, equations, variables):
    """``(input, tau)`` if ``dname/dt = (input - name)/tau`` with ``tau`` the name of a
    constant, else None."""
    expr = str_to_sympy(equations[name].expr.code, variables)
    x = sympy.Symbol(name, real=True)
    numer, denom = sympy.fraction(sympy.together(expr))
    taus = list(denom.free_symbols)
    if len(taus) != 1 or denom != taus[0]:
        return None
    rest = sympy.expand(numer + x)
    if len(rest.free_symbols) != 1 or not rest.is_Symbol:
        return None
    if not isinstance(variables.get(taus[0].name), Constant):
        return None
    return rest.name, taus[0].name


def _cascade_chains(equations, variables):
    """Split the differential equations into bucket chains and the rest.

    A chain is ``dX_k/dt = (X_{k-1} - X_k)/tau_k`` (k = 1..K) whose tap ``X_0`` is a
    state variable without a differential equation (it only jumps, e.g. when events
    arrive) and each ``tau_k`` the *name* of a constant (so the generated code stays valid
    when the constant or ``dt`` changes). Returns ``(chains, others)``: a list of
    ``(tap, [(X_1, tau_1), ..., (X_K, tau_K)])`` and the names of every other
    differential equation.
    """
    links = {name: _chain_link(name, equations, variables) for name in equations.diff_eq_names}
    feeds = {name: link for name, link in links.items() if link is not None}
    is_tap = lambda name: (name not in equations.diff_eq_names and name in variables  # noqa: E731
                           and name not in equations.subexpr_names)
    chains, used = [], set()
    for tap in sorted({src for src, _ in feeds.values()} - set(feeds)):
        if not is_tap(tap):
            continue
        chain, current = [], tap
        while True:
            nxt = [name for name, (src, _) in feeds.items() if src == current]
            if len(nxt) != 1:
                break
            chain.append((nxt[0], feeds[nxt[0]][1]))
            current = nxt[0]
        chains.append((tap, chain))
        used |= {name for name, _ in chain}
    return chains, [name for name in equations.diff_eq_names if name not in used]


def _equal_tau_code(tap, chain, tmp):
    """``X_k' = tap + sum_{m<k} c_m (X_{k-m} - tap)``, ``c_m = e^-a a^m/m!``, ``a = dt/tau``."""
    lines = [f"{tmp}a = dt/{chain[0][1]}", f"{tmp}c0 = exp(-{tmp}a)"]
    lines += [f"{tmp}c{m} = {tmp}c{m-1}*{tmp}a/{m}" for m in range(1, len(chain))]
    for k in range(len(chain), 0, -1):
        terms = [f"{tmp}c{m}*({chain[k - m - 1][0]} - {tap})" for m in range(k)]
        lines.append(f"{chain[k - 1][0]} = {tap} + " + " + ".join(terms))
    return lines


def _distinct_tau_code(tap, chain, tmp):
    """Bateman solution for distinct rates ``l_i = 1/tau_i`` (tap: rate 0)::

        P[k, j] = prod_{m=j+1..k} l_m * sum_{i=j..k} e^{-l_i dt} / prod_{m=j..k, m!=i} (l_m - l_i)
    """
    K = len(chain)
    lines = [f"{tmp}l0 = 0", f"{tmp}e0 = 1"]
    for i, (_, tau) in enumerate(chain, start=1):
        lines += [f"{tmp}l{i} = 1/{tau}", f"{tmp}e{i} = exp(-dt/{tau})"]
    for k in range(1, K + 1):
        for j in range(k + 1):
            gain = "*".join(f"{tmp}l{m}" for m in range(j + 1, k + 1)) or "1"
            terms = []
            for i in range(j, k + 1):
                denom = "*".join(f"({tmp}l{m} - {tmp}l{i})" for m in range(j, k + 1) if m != i)
                terms.append(f"{tmp}e{i}/({denom})" if denom else f"{tmp}e{i}")
            lines.append(f"{tmp}P{k}_{j} = {gain}*(" + " + ".join(terms) + ")")
    names = [tap] + [name for name, _ in chain]
    for k in range(K, 0, -1):
        terms = [f"{tmp}P{k}_{j}*{names[j]}" for j in range(k + 1)]
        lines.append(f"{names[k]} = " + " + ".join(terms))
    return lines


class GammaCascadePropagator(StateUpdateMethod):
    """Brian2 state updater ``'gamma_cascade'``: the exact step of bucket chains,
    composed with a Brian2 method for every other differential equation of the group.

    Bucket chains ``dX_k/dt = (X_{k-1} - X_k)/tau_k`` whose tap is held constant over a
    step are integrated exactly: the generated code computes the propagator from ``dt``
    and the *names* of the time constants, so it stays exact when dt or a time constant
    changes between runs (Brian2 caches state-update code). Equal time constants use
    docs/spec.md's closed form (K scalar statements per step); distinct ones the Bateman
    solution (O(K^3) scalar terms per step, computed once per step, not per neuron).
    Buckets are updated from K down to 1 so that each update reads the old values of the
    buckets below it.

    Every other differential equation (an adaptation variable, a membrane, a noise term
    with ``xi``) is handed, with the group's subexpressions, to a Brian2 method:
    ``method_options={'others': 'euler'}`` (any registered name, or a list to try in
    order); by default the one Brian2 would choose for them alone (``'exact'``, then
    ``'euler'``, then ``'heun'``). Its code runs first, so it reads the buckets at the
    start of the step, as every explicit method reads every variable. The buckets do not
    depend on the other variables (their taps only jump), so the composition is exact
    for the buckets and as accurate as the chosen method for the rest.
    ``method_options={'then': code}`` appends ``code`` after both (used by the GeNN
    export for the encoder).
    """

    DEFAULT_OTHERS = ("exact", "euler", "heun")

    def can_integrate(self, equations, variables, method_options=None):
        """Whether the equations hold at least one gamma cascade (``dU_k/dt = (U_{k-1} -
        U_k)/tau_k``) and their other equations can be integrated by the chosen method.

        Parameters
        ----------
        equations : Equations
            The group's equations.
        variables : dict
            Brian2's variables of the group.
        method_options : dict, optional
            ``'others'``: the method for the other equations.

        Returns
        -------
        bool
            Whether this state updater applies.
        """
        try:
            chains, others = _cascade_chains(equations, variables)
        except (UnsupportedEquationsException, KeyError, TypeError, ValueError):
            return False
        if not chains:
            return False
        if not others:
            return True
        try:
            self._others_code(equations, variables, others, method_options)
        except (UnsupportedEquationsException, KeyError, TypeError, ValueError):
            return False
        return True

    def _others_code(self, equations, variables, others, method_options):
        """Abstract code of the non-cascade equations under the chosen Brian2 method."""
        from brian2 import Equations
        chain_names = set(equations.diff_eq_names) - set(others)
        rest = Equations([eq for name, eq in equations.items() if name not in chain_names])
        method = (method_options or {}).get("others", self.DEFAULT_OTHERS)
        methods = [method] if isinstance(method, str) else list(method)
        if "gamma_cascade" in methods:
            raise UnsupportedEquationsException("'others' cannot be 'gamma_cascade'")
        return StateUpdateMethod.apply_stateupdater(rest, variables, methods)

    def __call__(self, equations, variables=None, method_options=None):
        chains, others = _cascade_chains(equations, variables)
        if not chains:
            raise UnsupportedEquationsException(
                "'gamma_cascade' found no bucket chain dX_k/dt = (X_{k-1} - X_k)/tau_k with a "
                "tap that only jumps; use a Brian2 method (e.g. 'exact' or 'euler') instead")
        lines = [self._others_code(equations, variables, others, method_options)] if others else []
        for n, (tap, chain) in enumerate(chains):
            tmp = f"_g{n}_"
            same = len({tau for _, tau in chain}) == 1
            lines += (_equal_tau_code if same else _distinct_tau_code)(tap, chain, tmp)
        then = (method_options or {}).get("then")
        return "\n".join(lines + ([then] if then else []))


StateUpdateMethod.register("gamma_cascade", GammaCascadePropagator())
