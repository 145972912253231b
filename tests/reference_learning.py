"""Gradients of the summed per-step loss, computed independently of sgbrian.

Instead of sgbrian's recursive traces, every bucket signal is rebuilt by explicit
convolution over the whole history with the kernels of P^n (O(T^2), fine for a test):
a tap that changes by D(m) at step m contributes P^(n-m) e_0 D(m) to u(n); an impulse
s(m) contributes P^(n-m) e_1 s(m). Formulas: MODEL.md section 5, rule 'exact'.
"""
import numpy as np

from reference_model import propagator


def kernels(P, T):
    """K[n] = P^n, n = 0..T-1."""
    out = np.empty((T, *P.shape))
    out[0] = np.eye(P.shape[0])
    for n in range(1, T):
        out[n] = P @ out[n - 1]
    return out


def filtered(signal, Kn, delay, impulse=False):
    """Buckets (T, n, K+1) of signal(t - delay): tap (changes) or impulses into bucket 1."""
    T, n = signal.shape
    shifted = np.zeros_like(signal)
    shifted[delay:] = signal[:T - delay]
    drive = shifted if impulse else np.diff(shifted, axis=0, prepend=0.0)
    col = 1 if impulse else 0
    out = np.zeros((T, n, Kn.shape[1]))
    for t in range(T):
        for m in range(t + 1):
            out[t] += np.outer(drive[m], Kn[t - m][:, col])
    return out


def exact_gradients(sim, layers, connections, sender_signals, target, input_impulse=False):
    """dL/dparams for L = sum_t 1/2 |y(t) - target(t)|^2 (3-layer network, rule 'exact').

    sim: trace dict of reference_model.simulate (U, y per layer); sender_signals[l]:
    (T, n_l) signal each sender of layer l transmits (r, or spikes for impulse inputs).
    """
    T = target.shape[0]
    (pre0, post0, w0, d0), (pre1, post1, w1, d1) = connections
    L1, L2 = layers
    K1n = kernels(propagator(L1["a"], L1["K"]), T)
    K2n = kernels(propagator(L2["a"], L2["K"]), T)
    U1, U2 = sim["U"][0], sim["U"][1]
    x1 = L1["b"] + np.einsum("tnk,nk->tn", U1, L1["v"])
    x2 = L2["b"] + np.einsum("tnk,nk->tn", U2, L2["v"])
    delta = x2 - target                                    # linear readout, MSE
    slope = (x1 > 0).astype(float)
    g = {"v2": np.einsum("tj,tjk->jk", delta, U2), "b2": delta.sum(0)}
    u1 = {d: filtered(sender_signals[1], K2n, d) for d in set(d1)}
    g["w1"] = np.array([np.sum(delta[:, j] * (u1[d][:, i] @ L2["v"][j]))
                        for i, j, d in zip(pre1, post1, d1)])
    u0 = {d: filtered(sender_signals[0], K1n, d, input_impulse) for d in set(d0)}
    z_w = np.stack([slope[:, i] * (u0[d][:, h] @ L1["v"][i]) for h, i, d in zip(pre0, post0, d0)], 1)
    z_v = (slope[:, :, None] * U1).reshape(T, -1)
    z_b = slope

    def hidden_gradient(z, owner):
        """sum_t sum_{s: pre_s = owner} delta_j w_s sum_k v_j^k [cascade of z(. - d_s)]^k(t)."""
        grad = np.zeros(z.shape[1])
        for i, j, w, d in zip(pre1, post1, w1, d1):
            Z = filtered(z, K2n, d)                        # (T, P, K+1)
            contribution = np.einsum("t,tpk,k->p", delta[:, j] * w, Z, L2["v"][j])
            grad += np.where(owner == i, contribution, 0.0)
        return grad

    g["w0"] = hidden_gradient(z_w, post0)
    g["v1"] = hidden_gradient(z_v, np.repeat(np.arange(L1["n"]), L1["K"] + 1)).reshape(L1["v"].shape)
    g["b1"] = hidden_gradient(z_b, np.arange(L1["n"]))
    return g
