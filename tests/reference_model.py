"""An independent numpy simulation of a layered SpikingGamma network.

Written from MODEL.md alone, without sgbrian's code paths, to check the Brian2
implementation event for event. One time step n (t = n*dt):
  1. every receiving layer's buckets advance by the exact propagator, tap held;
  2. layer by layer: events emitted d steps ago (d = synaptic delay) are added to the
     taps (sigma-delta senders: U_0 += w*theta*q) or to bucket 1 (raw spikes: U_1 += w);
     then x = b + sum_k v_k U_k, y = relu(x) or x, q = floor((y - r)/theta + 0.5)
     (clipped to [-1, 1] in binary mode), r += q*theta; an event is q != 0.
"""
from math import exp, factorial

import numpy as np


def propagator(a, K):
    """P[k, k-m] = e^-a a^m / m!, P[k, 0] = 1 - sum (equal time constants, a = dt/tau)."""
    P = np.zeros((K + 1, K + 1))
    P[0, 0] = 1.0
    for k in range(1, K + 1):
        for m in range(k):
            P[k, k - m] = exp(-a) * a ** m / factorial(m)
        P[k, 0] = 1.0 - P[k, 1:].sum()
    return P


class Receiver:
    def __init__(self, n, K, a, v, b, theta, relu, binary):
        self.U = np.zeros((n, K + 1))
        self.P = propagator(a, K)
        self.v, self.b, self.theta, self.relu, self.binary = v, b, theta, relu, binary
        self.r = np.zeros(n)

    def advance(self):
        self.U = self.U @ self.P.T

    def output(self):
        x = self.b + (self.U * self.v).sum(axis=1)
        return np.maximum(x, 0.0) if self.relu else x


def encode(y, r, theta, binary):
    q = np.floor((y - r) / theta + 0.5)
    if binary:
        q = np.clip(q, -1, 1)
    return q, r + q * theta


def simulate(steps, inputs, layers, connections, binary=False):
    """Run the network; return per-layer events [(step, index, q)] and state traces.

    inputs: ('analog', signal (steps x n), theta) or ('spikes', n, {step: [indices]}).
    layers: dicts with n, K, a, v (n x K+1), b, theta, relu.
    connections[l]: (pre, post, w, delay_steps) arrays for layer l -> l+1.
    """
    recv = [Receiver(L["n"], L["K"], L["a"], L["v"], L["b"], L["theta"], L["relu"], binary)
            for L in layers]
    kind = inputs[0]
    n_in = inputs[1].shape[1] if kind == "analog" else inputs[1]
    history = [np.zeros((steps, n_in))] + [np.zeros((steps, L["n"])) for L in layers]
    r_in = np.zeros(n_in)
    events = [[] for _ in range(len(layers) + 1)]
    trace = {"y": [[] for _ in layers], "r": [[] for _ in layers], "U": [[] for _ in layers]}
    for n in range(steps):
        for rc in recv:
            rc.advance()
        if kind == "analog":
            q, r_in = encode(inputs[1][n], r_in, inputs[2], binary)
        else:
            q = np.zeros(n_in)
            q[inputs[2].get(n, [])] = 1.0
        history[0][n] = q
        events[0] += [(n, i, q[i]) for i in np.flatnonzero(q)]
        for l, rc in enumerate(recv):
            pre, post, w, d = connections[l]
            src_theta = (inputs[2] if kind == "analog" else 1.0) if l == 0 else layers[l - 1]["theta"]
            for s in range(len(pre)):
                if n - d[s] < 0:
                    continue
                qs = history[l][n - d[s], pre[s]]
                if qs == 0:
                    continue
                if l == 0 and kind == "spikes":
                    rc.U[post[s], 1] += w[s]
                else:
                    th = src_theta if np.ndim(src_theta) == 0 else src_theta[pre[s]]
                    rc.U[post[s], 0] += w[s] * th * qs
            y = rc.output()
            q, rc.r = encode(y, rc.r, rc.theta, binary)
            history[l + 1][n] = q
            events[l + 1] += [(n, i, q[i]) for i in np.flatnonzero(q)]
            trace["y"][l].append(y)
            trace["r"][l].append(rc.r.copy())
            trace["U"][l].append(rc.U.copy())
    return events, {k: [np.array(v) for v in val] for k, val in trace.items()}


def randomize(net, rng):
    """Random bucket weights and biases for every neuron layer of a Brian2 SGNetwork."""
    for layer in net.layers[1:]:
        g = layer.group
        for k in range(layer.K + 1):
            setattr(g, f"v_{k}", rng.normal(0.5, 0.5, len(g)))
        g.b = rng.normal(0.0, 0.1, len(g))


def describe(net):
    """Read layers and connections of a Brian2 SGNetwork into simulate()'s format."""
    from brian2 import defaultclock, second
    dt = float(defaultclock.dt / second)
    layers, connections = [], []
    for l, (layer, syn) in enumerate(zip(net.layers[1:], net.synapses)):
        g = layer.group
        layers.append(dict(n=len(g), K=layer.K, a=dt / float(layer.tau / second),
                           v=np.array([getattr(g, f"v_{k}")[:] for k in range(layer.K + 1)]).T,
                           b=g.b[:].copy(), theta=g.theta[:].copy(),
                           relu=(l < len(net.synapses) - 1)))
        connections.append((syn.i[:].copy(), syn.j[:].copy(), syn.w[:].copy(),
                            np.rint(syn.delay[:] / defaultclock.dt).astype(int)))
    return layers, connections
