"""The floor of the adjoint method: its operation count, run as its compiled loops alone."""
import time

import numpy as np


def adjoint_floor(learner, samples, repeats=3):
    """The adjoint's operation count per sample (multiply-adds) and the time of its compiled
    loops alone on the events of ``samples`` (one batch, run once more to record them),
    per receiving layer: the injections and the cascade forward twice (Brian2's simulation
    and the rebuild), the cascade backward (with the delay derivative where delays learn),
    the weight and delay gathers, and, for hidden senders, the error sent down. The arrays
    are allocated once; each sample's loops are timed ``repeats`` times and the fastest
    counts. Means over the samples: ``floor_ms`` and ``macs_per_sample``."""
    from sgbrian.learning.adjoint_kernels import kernels
    from sgbrian.metrics import Metrics
    learner.run_samples(samples, train=True, metrics=Metrics(learner.loss), apply=False,
                        batch_size=len(samples))
    engine = learner.engine(len(samples))
    layers, params, T = learner.net.layers, learner.params, samples[0].n_steps
    macs, seconds = 0, 0.0
    for l in range(1, len(layers)):
        compiled, table, conn = kernels(layers[l].K + 1), engine.tables[l - 1], engine.connections[l - 1]
        n, K1, tap = engine.sizes[l], layers[l].K + 1, engine._tap(l)
        delays = learner.delay_trained[l - 1]
        inj, out, E = (np.zeros((T, n)) for _ in range(3))
        Ed = np.zeros((T, n)) if delays else None
        A = np.zeros((T + 1, table.n_pre))
        v, w = np.ascontiguousarray(params[f"v{l}"].T), table.csr(params[f"w{l - 1}"])
        gv, gb, gw = np.zeros((K1, n)), np.zeros(n), np.zeros(len(table.post))
        gd = np.zeros(len(table.post)) if delays else None
        for b in range(len(samples)):
            events = engine.last_events[l - 1].parts[b]
            best = np.inf
            for _ in range(repeats):
                began = time.perf_counter()
                for _ in range(2):                 # Brian2's simulation, then the rebuild
                    inj.fill(0.0)
                    compiled.scatter(*events, table.start, table.offset, w, inj)
                    compiled.forward(tap, conn.P, inj, v, params[f"b{l}"], out)
                compiled.backward(tap, conn.P, out, inj, v, 1.0 / conn.taus, E, Ed, gv, gb)
                compiled.gather(*events, table.start, table.offset, E, Ed, gw, gd)
                if l > 1:
                    table.error(E, w, compiled, A)
                best = min(best, time.perf_counter() - began)
            seconds += best
            fanout = int(np.diff(table.start)[events[1]].sum())
            triangle = K1 * (K1 + 1) // 2
            macs += 2 * (fanout + n * T * (triangle + K1))            # simulation and rebuild
            macs += n * T * (triangle + 2 * K1 + (K1 - 1) * delays)    # backward
            macs += fanout * (1 + delays)                              # gathers
            macs += len(table.post) * T if l > 1 else 0                # error sent down
    return {"floor_ms": 1e3 * seconds / len(samples), "macs_per_sample": macs / len(samples)}
