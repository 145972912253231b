"""Compiled kernels (numba) for the learner's largest per-step work.

One kernel so far: a forward-mode trace of the exact rule, stepped and contracted with
the readout's error in one pass over its memory (:func:`trace_kernel`). Like Brian2's
code generation, the kernel is written as Python source for one number of buckets
(:func:`trace_kernel_source`, every bucket a named scalar, so that the loop over the
last axis becomes SIMD code), then compiled by numba on first use in a process (about
1 s per number of buckets). Single-threaded: a learner uses one core whatever its batch.
"""
import functools

import numba


def trace_kernel_source(K1):
    """Python source of ``kernel(P, Z, slope, tap, eps, out)`` for K1 = K+1 buckets::

        Z^k[b, h, i]  <-  sum_{m <= k} P[k, m] Z^m[b, h, i]      (k = 1..K)
        Z^0[b, h, i]  <-  slope[b, h] tap[b, h, i]                (the new tap)
        out[h, i]     +=  sum_{b, k} eps[b, h, k] Z^k[b, h, i]   (with the new Z)

    ``Z`` (K+1, B, H, I) is updated in place; ``P`` (K+1, K+1) is the cascade's
    propagator, lower triangular (bucket k is fed by buckets 0..k only; row 0, the
    held tap, is replaced by the new tap). Per value: K+1 loads, K+1 stores and the
    multiply-adds of the triangle, all on scalars that stay in registers.

    Parameters
    ----------
    K1 : int
        Buckets including the tap (K+1).

    Returns
    -------
    str
        The source, for numba to compile.
    """
    ks = range(K1)
    propagated = [" + ".join(f"p{k}_{m} * z{m}" for m in range(k + 1)) for k in ks]
    lines = ["def kernel(P, Z, slope, tap, eps, out):",
             "    _, B, H, I = Z.shape",
             *[f"    p{k}_{m} = P[{k}, {m}]" for k in ks[1:] for m in range(k + 1)],
             "    for b in range(B):",
             "        for h in range(H):",
             "            s = slope[b, h]",
             *[f"            e{k} = eps[b, h, {k}]" for k in ks],
             "            for i in range(I):",
             *[f"                z{m} = Z[{m}, b, h, i]" for m in ks],
             "                n0 = s * tap[b, h, i]",
             *[f"                n{k} = {propagated[k]}" for k in ks[1:]],
             *[f"                Z[{k}, b, h, i] = n{k}" for k in ks],
             "                out[h, i] += " + " + ".join(f"e{k} * n{k}" for k in ks)]
    return "\n".join(lines) + "\n"


@functools.lru_cache(maxsize=None)
def trace_kernel(K1):
    """The compiled kernel of :func:`trace_kernel_source` for ``K1`` buckets."""
    namespace = {}
    exec(compile(trace_kernel_source(K1), f"<sgbrian trace kernel, K+1={K1}>", "exec"), namespace)
    return numba.njit(boundscheck=False, fastmath=True)(namespace["kernel"])
