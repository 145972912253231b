"""Compiled loops of the adjoint method, one sample at a time (C, through Cython).

Two kinds of loop. Per step and neuron, a gamma cascade run forward or backward in time
(:func:`cascade_source`), written out for one number of buckets (every bucket a named
scalar) with the neurons innermost, in blocks of 64 that stay in the L1 cache, so that
the compiler turns them into SIMD code; ``__restrict__`` and ``GCC ivdep`` tell it that
no two arrays overlap. Per event and synapse, a scatter or a gather over the sender's
outgoing synapses (:data:`EVENT_SOURCE`; CSR by sender: sender i's synapses are
positions ``start[i]:start[i + 1]`` of ``offset`` = delay x n_post + post, int32, and of
the weights).

Arrays over time are (steps, neurons), C order, float64; indices int64. The module of
one number of buckets is compiled the first time it is used (a few seconds) by Brian2's
Cython machinery, with Brian2's compiler and flags, and cached on disk with Brian2's
Cython modules, so that every later process loads it at once. Single-threaded.
"""
import functools

import numpy as np

#: Neurons per block of the cascade loops (state, weights and gradients of a block stay in
#: L1), and steps per chunk of time (every block of a chunk runs before the next chunk, so
#: that the chunk's rows of the arrays over time stay in L2 however long the sample).
BLOCK, CHUNK = 64, 64

HEADER = r"""
#include <stdint.h>
#define RESTRICT __restrict__
#define IVDEP _Pragma("GCC ivdep")
"""

EVENT_SOURCE = r"""
/* inject[m + d, post] += w a for every event (m, i, a) and synapse of i arriving before T;
   offset[k] = d_k N + post_k, so that the arrival is row m, column offset: one index per
   synapse. */
static void scatter_events(int64_t n_events, const int64_t *steps, const int64_t *senders,
                           const double *amounts, const int64_t *start, const int32_t *offset,
                           const double *weights, int64_t T, int64_t N,
                           double *RESTRICT inject) {
    const int64_t end = T * N;
    for (int64_t e = 0; e < n_events; e++) {
        const int64_t base = steps[e] * N, i = senders[e];
        const double a = amounts[e];
        for (int64_t k = start[i]; k < start[i + 1]; k++) {
            const int64_t at = base + offset[k];
            if (at < end) inject[at] += weights[k] * a;
        }
    }
}

/* grad[k] += a E[m + d_k, post_k] (and grad_d[k] += a Ed[...] when Ed is given). */
static void gather_events(int64_t n_events, const int64_t *steps, const int64_t *senders,
                          const double *amounts, const int64_t *start, const int32_t *offset,
                          int64_t T, int64_t N, const double *RESTRICT E,
                          const double *RESTRICT Ed, double *RESTRICT grad,
                          double *RESTRICT grad_d) {
    const int64_t end = T * N;
    for (int64_t e = 0; e < n_events; e++) {
        const int64_t base = steps[e] * N, i = senders[e];
        const double a = amounts[e];
        if (Ed) {
            for (int64_t k = start[i]; k < start[i + 1]; k++) {
                const int64_t at = base + offset[k];
                if (at < end) {
                    grad[k] += a * E[at];
                    grad_d[k] += a * Ed[at];
                }
            }
        } else {
            for (int64_t k = start[i]; k < start[i + 1]; k++) {
                const int64_t at = base + offset[k];
                if (at < end) grad[k] += a * E[at];
            }
        }
    }
}

/* A[i, t] = sum_{k of i} w_k ET[post_k, t + d_k], t < T1 (ET: n_post rows of length L). */
static void send_error(int64_t n_pre, const int64_t *start, const int64_t *post,
                       const double *weights, const int64_t *delays, int64_t L,
                       const double *RESTRICT ET, int64_t T1, double *RESTRICT A) {
    for (int64_t i = 0; i < n_pre; i++) {
        double *RESTRICT row = A + i * T1;
        for (int64_t t = 0; t < T1; t++) row[t] = 0.0;
        for (int64_t k = start[i]; k < start[i + 1]; k++) {
            const double w = weights[k];
            const double *RESTRICT source = ET + post[k] * L + delays[k];
            IVDEP
            for (int64_t t = 0; t < T1; t++) row[t] += w * source[t];
        }
    }
}
"""


def cascade_source(K1, backward, tap, derivative=False):
    """C source of one cascade loop, events entering bucket ``tap``. Forward, t = 0 .. T-1,
    every neuron j::

        U_j(t) = P U_j(t-1) + e_tap inject[t, j];   out[t, j] = b_j + v_j . U_j(t)

    Backward, t = T-1 .. 0 (the adjoint of the cascade is the cascade run backwards; the
    loop's step s = 0 .. T-1 is t = T-1-s)::

        mu_j(t) = P mu_j(t+1) + e_tap drive[t, j]
        out[t, j] = v_j . mu_j(t),  Ed[t, j] = sum_{k>=1} v_j^k (mu^{k-1} - mu^k) rates[k-1]
        grad_v[k, j] += inject[t, j] mu_j^k(t),   grad_b[j] += drive[t, j]

    ``v``, ``grad_v`` and the scratch state ``S`` are (K+1, N); ``P`` is lower triangular.
    One function per variant: no branch in the loop.

    Parameters
    ----------
    K1 : int
        Buckets including the tap.
    backward : bool
        The backward loop.
    tap : int
        Bucket the events enter (0, or 1 for raw spikes).
    derivative : bool
        Also ``Ed`` (the delay derivative's error).

    Returns
    -------
    str
        C source.
    """
    ks = range(K1)
    source = "d" if backward else "in"
    lines = [f"static void {cascade_name(K1, backward, tap, derivative)}(int64_t T, int64_t N, "
             "const double *P, const double *RESTRICT drive, const double *RESTRICT inject, "
             "const double *RESTRICT v, const double *RESTRICT b, const double *RESTRICT rates, "
             "double *RESTRICT out, double *RESTRICT Ed, double *RESTRICT grad_v, "
             "double *RESTRICT grad_b, double *RESTRICT S) {",
             *[f"    const double p{k}_{m} = P[{k * K1 + m}];" for k in ks for m in range(k + 1)],
             *[f"    const double r{k} = rates[{k - 1}];" for k in ks[1:] if derivative],
             f"    for (int64_t c0 = 0; c0 < T; c0 += {CHUNK}) {{",
             f"      const int64_t c1 = c0 + {CHUNK} < T ? c0 + {CHUNK} : T;",
             f"      for (int64_t j0 = 0; j0 < N; j0 += {BLOCK}) {{",
             f"        const int64_t j1 = j0 + {BLOCK} < N ? j0 + {BLOCK} : N;",
             "        for (int64_t s = c0; s < c1; s++) {",
             f"            const int64_t t = {'T - 1 - s' if backward else 's'};",
             "            const double *RESTRICT in = inject + t * N;",
             *(["            const double *RESTRICT d = drive + t * N;"] if backward else []),
             *(["            double *RESTRICT ed = Ed + t * N;"] if derivative else []),
             "            double *RESTRICT o = out + t * N;",
             "            IVDEP",
             "            for (int64_t j = j0; j < j1; j++) {",
             *[f"                const double s{m} = S[{m} * N + j];" for m in ks],
             *[f"                double n{k} = " + " + ".join(f"p{k}_{m} * s{m}" for m in range(k + 1))
               + ";" for k in ks],
             f"                n{tap} += {source}[j];",
             *[f"                S[{k} * N + j] = n{k};" for k in ks]]
    dot = " + ".join(f"v[{k} * N + j] * n{k}" for k in ks)
    if not backward:
        lines.append(f"                o[j] = b[j] + {dot};")
    else:
        lines += [f"                o[j] = {dot};",
                  *([ "                ed[j] = " + " + ".join(
                      f"v[{k} * N + j] * (n{k - 1} - n{k}) * r{k}" for k in ks[1:]) + ";"]
                    if derivative else []),
                  "                const double a = in[j];",
                  *[f"                grad_v[{k} * N + j] += a * n{k};" for k in ks],
                  "                grad_b[j] += d[j];"]
    lines += ["            }", "        }", "      }", "    }", "}"]
    return "\n".join(lines) + "\n"


def cascade_name(K1, backward, tap, derivative=False):
    """The C name of a cascade loop variant.

    Parameters
    ----------
    K1 : int
        Buckets including the tap.
    backward : bool
        The backward loop.
    tap : int
        Bucket the events enter.
    derivative : bool
        With ``Ed``.

    Returns
    -------
    str
        The name.
    """
    return f"cascade_{'backward' if backward else 'forward'}_{K1}_{tap}{'_d' if derivative else ''}"


VARIANTS = [(False, tap, False) for tap in (0, 1)] + \
    [(True, tap, derivative) for tap in (0, 1) for derivative in (False, True)]


def module_source(K1):
    """The Cython module of ``K1`` buckets: the C loops and their Python wrappers.

    Parameters
    ----------
    K1 : int
        Buckets including the tap.

    Returns
    -------
    str
        Cython source.
    """
    loops = "".join(cascade_source(K1, *variant) for variant in VARIANTS)
    signature = ("(int64_t, int64_t, const double*, const double*, const double*, const double*, "
                 "const double*, const double*, double*, double*, double*, double*, double*)")
    declarations = "\n".join(f"    void {cascade_name(K1, *variant)}{signature}" for variant in VARIANTS)

    def call(variant, args):
        return f"{cascade_name(K1, *variant)}({args})"
    forward_args = ("out.shape[0], out.shape[1], &P[0, 0], dummy, &inject[0, 0], &v[0, 0], &b[0], "
                    "dummy, &out[0, 0], dummy, dummy, dummy, &S[0, 0]")
    backward_args = ("E.shape[0], E.shape[1], &P[0, 0], &drive[0, 0], &inject[0, 0], &v[0, 0], "
                     "dummy, &rates[0], &E[0, 0], {ed}, &grad_v[0, 0], &grad_b[0], &S[0, 0]")
    backward_calls = "\n".join(
        f"    {'if' if k == 0 else 'elif'} tap == {tap} and (Ed is not None) == {derivative}:\n"
        f"        {call((True, tap, derivative), backward_args.format(ed='&Ed[0, 0]' if derivative else 'dummy'))}"
        for k, (_, tap, derivative) in enumerate(v for v in VARIANTS if v[0]))
    return f'''
# cython: language_level=3, boundscheck=False, wraparound=False
import numpy as np
from libc.stdint cimport int32_t, int64_t

cdef extern from *:
    """{HEADER}{EVENT_SOURCE}{loops}"""
    void scatter_events(int64_t, const int64_t*, const int64_t*, const double*, const int64_t*,
                        const int32_t*, const double*, int64_t, int64_t, double*)
    void gather_events(int64_t, const int64_t*, const int64_t*, const double*, const int64_t*,
                       const int32_t*, int64_t, int64_t, const double*, const double*, double*,
                       double*)
    void send_error(int64_t, const int64_t*, const int64_t*, const double*, const int64_t*,
                    int64_t, const double*, int64_t, double*)
{declarations}

cdef double dummy[1]

def scatter(const int64_t[::1] steps, const int64_t[::1] senders, const double[::1] amounts,
            const int64_t[::1] start, const int32_t[::1] offset, const double[::1] weights,
            double[:, ::1] inject):
    if steps.shape[0] == 0 or inject.shape[0] == 0 or offset.shape[0] == 0:
        return
    scatter_events(steps.shape[0], &steps[0], &senders[0], &amounts[0], &start[0], &offset[0],
                   &weights[0], inject.shape[0], inject.shape[1], &inject[0, 0])

def gather(const int64_t[::1] steps, const int64_t[::1] senders, const double[::1] amounts,
           const int64_t[::1] start, const int32_t[::1] offset, const double[:, ::1] E,
           const double[:, ::1] Ed, double[::1] grad, double[::1] grad_d):
    if steps.shape[0] == 0 or E.shape[0] == 0 or offset.shape[0] == 0:
        return
    gather_events(steps.shape[0], &steps[0], &senders[0], &amounts[0], &start[0], &offset[0],
                  E.shape[0], E.shape[1], &E[0, 0], &Ed[0, 0] if Ed is not None else NULL,
                  &grad[0], &grad_d[0] if grad_d is not None else NULL)

def error(const int64_t[::1] start, const int64_t[::1] post, const double[::1] weights,
          const int64_t[::1] delays, const double[:, ::1] ET, double[:, ::1] A):
    if A.shape[0] == 0 or A.shape[1] == 0:
        return
    if post.shape[0] == 0:
        A[:, :] = 0.0
        return
    send_error(A.shape[0], &start[0], &post[0], &weights[0], &delays[0], ET.shape[1], &ET[0, 0],
               A.shape[1], &A[0, 0])

def forward(int64_t tap, const double[:, ::1] P, const double[:, ::1] inject,
            const double[:, ::1] v, const double[::1] b, double[:, ::1] out):
    cdef double[:, ::1] S = np.zeros((P.shape[0], out.shape[1]))
    if out.shape[0] == 0 or out.shape[1] == 0:
        return
    if tap == 0:
        {call((False, 0, False), forward_args)}
    else:
        {call((False, 1, False), forward_args)}

def backward(int64_t tap, const double[:, ::1] P, const double[:, ::1] drive,
             const double[:, ::1] inject, const double[:, ::1] v, const double[::1] rates,
             double[:, ::1] E, double[:, ::1] Ed, double[:, ::1] grad_v, double[::1] grad_b):
    cdef double[:, ::1] S = np.zeros((P.shape[0], E.shape[1]))
    if E.shape[0] == 0 or E.shape[1] == 0:
        return
{backward_calls}
'''


@functools.lru_cache(maxsize=None)
def kernels(K1):
    """The compiled module for ``K1`` buckets (functions ``scatter``, ``gather``, ``error``,
    ``forward``, ``backward``), built or loaded from Brian2's Cython cache."""
    from brian2 import prefs
    from brian2.codegen.cpp_prefs import get_compiler_and_args
    from brian2.codegen.runtime.cython_rt.extension_manager import cython_extension_manager
    compiler, flags = get_compiler_and_args()
    return cython_extension_manager.create_extension(
        module_source(K1), compiler=compiler, extra_compile_args=flags,
        extra_link_args=prefs["codegen.cpp.extra_link_args"],
        include_dirs=[np.get_include(), *prefs["codegen.cpp.include_dirs"]],
        owner_name=f"sgbrian adjoint kernels K+1={K1}")
