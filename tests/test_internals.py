"""The learner's internals, each against a term-by-term computation (fast: no Brian2 run).

Sender cascades and their delayed lookups, a connection's dense weights and drive, the
delay-gradient window, the layers' time constants and the metrics' bookkeeping. These
are the pieces the training tests exercise only as a whole.
"""
from types import SimpleNamespace

import numpy as np
import pytest
from brian2 import ms, second

import sgbrian
from sgbrian.datasets import Sample
from sgbrian.kernels import trace_kernel
from sgbrian.learning import (BucketMajorCascades, Connection, InPlaceTrace, SenderCascades,
                              WeightGradient, layer_taus)
from sgbrian.losses import CrossEntropyLoss, MSELoss
from sgbrian.metrics import Metrics


def _lower_triangular(rng, K1):
    return np.tril(rng.uniform(0.1, 0.9, (K1, K1)))


def _cascade_reference(P, signals, impulse):
    """u(t) = P u(t-1), then the tap set to s(t) (or s(t) added to bucket 1)."""
    u, out = np.zeros(signals.shape[1:] + (P.shape[0],)), []
    for s in signals:
        u = u @ P.T
        if impulse:
            u[..., 1] += s
        else:
            u[..., 0] = s
        out.append(u.copy())
    return np.array(out)


@pytest.mark.parametrize("impulse", [False, True])
def test_sender_cascades_follow_the_propagator_and_delays_are_lookups(impulse):
    rng = np.random.default_rng(0)
    P, T, max_delay = _lower_triangular(rng, 4), 12, 5
    signals = rng.normal(size=(T, 2, 3))
    reference = _cascade_reference(P, signals, impulse)
    cascades = SenderCascades((2, 3), max_delay, P, impulse=impulse)
    delays = np.array([0, 1, 3, 5])
    for t in range(T):
        cascades.step(signals[t])
        np.testing.assert_allclose(cascades.u, reference[t], rtol=1e-13)
        looked_up = cascades.delayed(delays)
        for d, value in zip(delays, looked_up):
            expected = reference[t - d] if t - d >= 0 else np.zeros_like(reference[0])
            np.testing.assert_allclose(value, expected, rtol=1e-13, atol=0)
    np.testing.assert_allclose(cascades.delayed([0])[0], reference[-1], rtol=1e-13)
    cascades.reset()
    assert cascades.t == 0 and not cascades.history.any()


@pytest.mark.parametrize("chunk", [5, 8192])
def test_bucket_major_cascades_hold_the_same_buckets_in_blocks_of_any_size(chunk, monkeypatch):
    """The exact rule's large trace: (K+1, *shape) per step, computed in blocks of
    ``chunk`` signals, equals the bucket-last recursion for every step and delay."""
    monkeypatch.setattr(BucketMajorCascades, "chunk", chunk)
    rng = np.random.default_rng(5)
    P, T = _lower_triangular(rng, 3), 9
    signals = rng.normal(size=(T, 2, 3, 4))
    reference = _cascade_reference(P, signals, impulse=False)
    cascades = BucketMajorCascades((2, 3, 4), 3, P)
    for t in range(T):
        if t % 2:
            cascades.step(signals[t])
        else:                                       # the tap written in place
            cascades.tap()[:] = signals[t]
            cascades.step()
        np.testing.assert_allclose(np.moveaxis(cascades.u, 0, -1), reference[t], rtol=1e-13)
        for d, value in zip([0, 2, 3], cascades.delayed([0, 2, 3])):
            expected = reference[t - d] if t >= d else 0 * reference[0]
            np.testing.assert_allclose(np.moveaxis(value, 0, -1), expected, rtol=1e-13)


@pytest.mark.parametrize("K1, shape", [(4, (2, 3, 5)), (9, (3, 2, 1))])
def test_in_place_trace_steps_and_contracts_like_the_recursion_and_the_sum(K1, shape):
    """The generated kernel: each step's trace equals the bucket-last recursion with tap
    slope[b, h] tap[b, h, i], and the contraction adds sum_{b,k} eps[b,h,k] Z^k[b,h,i]
    summed term by term. The kernel is compiled afresh from its source (the process-wide
    cache may hold one compiled before, e.g. in a mutation run's parent process)."""
    rng = np.random.default_rng(K1)
    (B, H, I), T = shape, 7
    P = _lower_triangular(rng, K1)
    slopes, taps = rng.normal(size=(T, B, H)), rng.normal(size=(T, B, H, I))
    reference = _cascade_reference(P, slopes[..., None] * taps, impulse=False)  # (T, B, H, I, K1)
    trace, out, expected = InPlaceTrace((B, H, I), P), np.zeros((H, I)), np.zeros((H, I))
    trace.kernel = trace_kernel.__wrapped__(K1)
    for t in range(T):
        eps = rng.normal(size=(B, H, K1))
        trace.step_and_contract(slopes[t], taps[t], eps, out)
        np.testing.assert_allclose(np.moveaxis(trace.Z, 0, -1), reference[t], rtol=1e-13)
        for b, h, i, k in np.ndindex(B, H, I, K1):
            expected[h, i] += eps[b, h, k] * reference[t, b, h, i, k]
        np.testing.assert_allclose(out, expected, rtol=1e-12)
    trace.reset()
    assert not trace.Z.any()


def _fake_connection(rng, n_pre=4, n_post=3, batch=2, K=3, tau=2 * ms, dt=0.5 * ms,
                     max_delay=4, spikes=False):
    pre, post = np.nonzero(rng.random((n_pre, n_post)) < 0.7)
    steps = rng.integers(0, max_delay + 1, len(pre))
    syn = _Synapses(i=np.tile(pre, batch), j=np.tile(post, batch),
                    delay=np.tile(steps, batch) * float(dt / second) * second)
    source = SimpleNamespace(n=n_pre * batch, kind="spikes" if spikes else "neurons")
    target = SimpleNamespace(n=n_post * batch, K=K,
                             group=SimpleNamespace(namespace={"tau_gamma": tau}))
    return Connection(syn, source, target, dt, batch, max_delay), pre, post, steps


class _Synapses(SimpleNamespace):
    """What Connection reads of a Brian2 Synapses: i, j, delay and its length."""
    def __len__(self):
        return len(self.i)


def test_a_connections_dense_weights_and_drive_equal_a_sum_over_its_synapses():
    """dense(w)[d, i, j] = w_s for the synapse (i, j) of delay d; dense_drive(v)[b, j, i]
    = sum_k v_j^k u_{b,i}^k(t - d_ij), with u the sender buckets d_ij steps ago."""
    rng = np.random.default_rng(1)
    conn, pre, post, steps = _fake_connection(rng)
    np.testing.assert_array_equal(conn.delays, np.unique(steps))
    w = rng.normal(size=len(pre))
    W = conn.dense(w)
    expected = np.zeros((len(conn.delays), conn.n_pre, conn.n_post))
    for s, (i, j, d) in enumerate(zip(pre, post, steps)):
        expected[list(conn.delays).index(d), i, j] = w[s]
    np.testing.assert_array_equal(W, expected)

    history, v = [], rng.normal(size=(conn.n_post, 4))
    for t in range(7):
        signal = rng.normal(size=(conn.batch, conn.n_pre))
        conn.senders.step(signal)
        history.append(conn.senders.u.copy())
    drive = conn.dense_drive(v)
    t = len(history) - 1
    for i, j, d in zip(pre, post, steps):
        u = history[t - d] if t >= d else np.zeros_like(history[0])
        np.testing.assert_allclose(drive[:, j, i], u[:, i] @ v[j], rtol=1e-12)
    # the time constants of the receiving layer made the propagator
    assert conn.taus == pytest.approx([2e-3] * 3)


def test_without_delays_the_drive_is_one_product_of_the_buckets_now():
    rng = np.random.default_rng(6)
    conn, pre, post, steps = _fake_connection(rng, max_delay=0)
    assert list(conn.delays) == [0]
    for _ in range(3):
        conn.senders.step(rng.normal(size=(conn.batch, conn.n_pre)))
    v = rng.normal(size=(conn.n_post, 4))
    np.testing.assert_allclose(conn.dense_drive(v), v @ conn.senders.u.transpose(0, 2, 1), rtol=1e-13)


def test_the_delay_gradient_window_uses_bucket_derivatives_times_the_weight_per_ms():
    """derivative=True: G_s = 1e-3 w_s sum_t sum_{b, k>=1} (u^k - u^{k-1})_{i}(t - d_s)
    / tau_k * vd_j^k(t)."""
    rng = np.random.default_rng(2)
    n_pre, n_post, B, K1, L, T = 3, 2, 2, 4, 3, 11
    pre, post = np.array([0, 1, 2, 2]), np.array([0, 1, 0, 1])
    delays_s = np.array([0, 3, 1, 3])
    delays, index = np.unique(delays_s, return_inverse=True)
    taus = np.array([1e-3, 2e-3, 4e-3])
    conn = SimpleNamespace(P=np.eye(K1), max_steps=L, n_pre=n_pre, n_post=n_post, batch=B,
                           pre=pre, post=post, delays=delays, delay_index=index, taus=taus)
    u, vd = rng.normal(size=(T, B, n_pre, K1)), rng.normal(size=(T, B, n_post, K1))
    w = rng.normal(size=len(pre))
    window, grad = WeightGradient(conn, size=4, derivative=True), np.zeros(len(pre))
    window.weights = w
    for t in range(T):
        window.add(u[t], vd[t], grad)
    window.flush(grad)
    du = (u[..., 1:] - u[..., :-1]) / taus
    expected = np.array([1e-3 * w[s] * sum(np.sum(du[t - d, :, i] * vd[t, :, j, 1:])
                                           for t in range(d, T))
                         for s, (i, j, d) in enumerate(zip(pre, post, delays_s))])
    np.testing.assert_allclose(grad, expected, rtol=1e-12, atol=1e-14)


def test_layer_time_constants_come_from_tau_gamma_or_one_per_bucket():
    group = SimpleNamespace(namespace={"tau_gamma": 3 * ms})
    assert layer_taus(SimpleNamespace(K=2, group=group)) == pytest.approx([3e-3, 3e-3])
    group = SimpleNamespace(namespace={"tau_1": 1 * ms, "tau_2": 2 * ms, "tau_3": 5 * ms})
    assert layer_taus(SimpleNamespace(K=3, group=group)) == pytest.approx([1e-3, 2e-3, 5e-3])


def _run_metrics(metrics, loss, samples, outputs):
    """Feed ``outputs[b]`` (n_steps, n_out) of each sample through one batch."""
    copies = len(samples) + 1                       # one empty copy, as in a short batch
    data = loss.prepare(samples, copies)
    metrics.start_batch(samples, copies, data)
    length = max(s.n_steps for s in samples)
    for n in range(length):
        y = np.zeros((copies, outputs[0].shape[1]))
        for b, out in enumerate(outputs):
            if n < len(out):
                y[b] = out[n]
        losses, _ = loss.batch_step(y, data, n)
        metrics.add(n, y, losses)
    metrics.end_batch()


def test_mse_metrics_weigh_steps_and_normalise_by_the_targets_spread():
    """NRMSE = sqrt(sum m>0 (y - t)^2 / sum m>0 (t - mean t)^2), over both samples and
    both outputs; a sample's loss is its weighted loss sum over its counted steps."""
    rng = np.random.default_rng(3)
    lengths, weights = (5, 3), [np.array([0, 1, 2, 1, 0.5]), None]
    samples = [Sample(np.zeros((n, 1)), rng.normal(3, 1, (n, 2)), n, w) for n, w in zip(lengths, weights)]
    outputs = [s.target + rng.normal(0, 0.3, s.target.shape) for s in samples]
    metrics = Metrics(MSELoss(), record_outputs=True)
    _run_metrics(metrics, MSELoss(), samples, outputs)
    summary = metrics.summary()
    errors, targets, losses = [], [], []
    for s, out in zip(samples, outputs):
        m = np.ones(s.n_steps) if s.weight is None else s.weight
        counted = m > 0
        errors.append((out - s.target)[counted])
        targets.append(s.target[counted])
        losses.append(np.sum(m * 0.5 * ((out - s.target) ** 2).sum(axis=1)) / counted.sum())
    errors, targets = np.concatenate(errors), np.concatenate(targets)
    nrmse = np.sqrt((errors ** 2).sum() / ((targets - targets.mean()) ** 2).sum())
    assert summary["nrmse"] == pytest.approx(nrmse, rel=1e-12)
    assert summary["loss"] == pytest.approx(np.mean(losses), rel=1e-12)
    assert summary["samples"] == 2
    for out, recorded in zip(outputs, summary["outputs"]):
        np.testing.assert_array_equal(recorded, out)


def test_cross_entropy_metrics_predict_the_argmax_of_the_mean_readout_from_the_start():
    """Before ``start_step`` nothing counts: a readout that is largest there for the wrong
    class does not change the prediction."""
    loss = CrossEntropyLoss()
    loss.start_step = 2
    samples = [Sample(np.zeros((n, 1)), label, n) for label, n in ((1, 4), (0, 4), (2, 3))]
    early = np.array([[9.0, 0, 0]] * 2)
    outputs = [np.r_[early, [[0, 1, 0.5], [0, 1, 0.2]]],          # -> 1 (correct)
               np.r_[early, [[0, 1, 0.5], [0, 0, 0.8]]],           # mean -> 1, 0.65: 2 (wrong)
               np.r_[early, [[0.1, 0, 0.3]]]]                       # -> 2 (correct)
    metrics = Metrics(loss)
    _run_metrics(metrics, loss, samples, outputs)
    summary = metrics.summary()
    np.testing.assert_array_equal(summary["predictions"], [1, 2, 2])
    assert summary["accuracy"] == pytest.approx(2 / 3)
    expected = []
    for s, out in zip(samples, outputs):
        z = out[2:]
        log_p = z[:, s.target] - np.log(np.exp(z).sum(axis=1))
        expected.append(-log_p.sum() / len(z))
    assert summary["loss"] == pytest.approx(np.mean(expected), rel=1e-12)


def test_merged_metrics_equal_one_pass_over_all_samples_and_event_rates_are_totals():
    rng = np.random.default_rng(4)
    samples = [Sample(np.zeros((4, 1)), rng.normal(size=(4, 1)), 4) for _ in range(4)]
    outputs = [rng.normal(size=(4, 1)) for _ in samples]
    whole, first, second_half = Metrics(MSELoss()), Metrics(MSELoss()), Metrics(MSELoss())
    _run_metrics(whole, MSELoss(), samples, outputs)
    _run_metrics(first, MSELoss(), samples[:2], outputs[:2])
    _run_metrics(second_half, MSELoss(), samples[2:], outputs[2:])
    first.add_events(10, 4.0, 2.0)
    second_half.add_events(30, 2.0, 3.0)
    first.merge(second_half)
    a, b = first.summary(), whole.summary()
    assert a["nrmse"] == pytest.approx(b["nrmse"], rel=1e-12)
    assert a["loss"] == pytest.approx(b["loss"], rel=1e-12)
    assert a["loss_sum"] == pytest.approx(b["loss_sum"], rel=1e-12)
    assert a["events_per_neuron_per_s"] == pytest.approx(40 / 5.0)
    assert a["quanta_per_neuron_per_s"] == pytest.approx(6 / 5.0)


def test_a_replicated_network_runs_each_copy_like_the_original_with_its_input():
    """replicate(3) of a network with per-synapse delays, per-neuron thresholds, biases
    and bucket weights, an extra state variable with its own parameter and namespace
    (adaptation), fed three different inputs side by side: every copy's final state
    (buckets, reconstruction, payload, adaptation) equals the original network's after
    the same input alone."""
    from brian2 import defaultclock
    import sgbrian
    defaultclock.dt = 0.5 * ms
    rng = np.random.default_rng(3)
    inputs = [rng.normal(size=(30, 2)) for _ in range(3)]

    def build(signal):
        net = sgbrian.feedforward([2, 3, 2], K=3, tau=2 * ms, theta=0.05, signal=signal,
                                  max_delay=2 * ms, random_delays=True, seed=5,
                                  drive="-g*a", extra="da/dt = (y - a)/tau_a : 1",
                                  parameters={"g": 0.7}, namespace={"tau_a": 3 * ms})
        layer = net.layers[1].group
        layer.theta = [0.05, 0.08, 0.11]
        layer.b = [0.1, -0.2, 0.3]
        layer.v_2 = [0.5, -0.4, 0.9]
        layer.g = [0.7, 0.2, 1.1]
        return net

    def final_state(net, copy=None):
        out = []
        for layer in net.layers[1:]:
            g, n = layer.group, layer.n if copy is None else layer.n // 3
            rows = slice(None) if copy is None else slice(copy * n, (copy + 1) * n)
            out += [np.asarray(getattr(g, name)[:])[rows] for name in
                    [f"U_{k}" for k in range(layer.K + 1)] + ["r", "q"] + (["a"] if "a" in g.variables else [])]
        return out

    alone = []
    for x in inputs:
        net = build(x)
        net.run(15 * ms)
        alone.append(final_state(net))
    batched = build(inputs[0]).replicate(3)
    batched.set_input(signal=np.concatenate(inputs, axis=1))
    batched.run(15 * ms)
    for c in range(3):
        for got, want in zip(final_state(batched, c), alone[c]):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    assert any(np.abs(a).max() > 0.01 for a in alone[0])
    with pytest.raises(ValueError, match="batch_size must be >= 1, got 0"):
        build(inputs[0]).replicate(0)


def test_a_payload_history_is_a_ring_of_max_lag_plus_one_rows_for_every_target():
    """PayloadHistory("L1", n=3, max_lag=2): slot = step mod 3, entry slot * n + i; the
    numpy, C++ and Cython implementations of payload_store / payload_read as written
    here by hand, on the one buffer."""
    from sgbrian.history import PayloadHistory
    h = PayloadHistory("L1", 3, 2)
    assert h.key == "L1" and h.slots == 3 and h.buffer.tolist() == [0.0] * 9
    assert h.namespace() == {"payload_store": h.store, "payload_read": h.read,
                             "payload_slots": 3}
    store, read = (f.implementations["numpy"].get_code(None) for f in (h.store, h.read))
    # the function's own code (Brian2's discard_units copy), not the unit-checking wrapper
    assert store.__code__ is h.store.pyfunc.__code__ and read.__code__ is h.read.pyfunc.__code__
    out = store(np.array([1, 2]), np.array([0, 2]), 4, 3, 3)        # step 4: slot 1
    assert out.dtype == np.float64 and out.tolist() == [1.0, 2.0]
    assert h.buffer.tolist() == [0, 0, 0, 1, 0, 2, 0, 0, 0]
    assert read(np.array([2, 0, 1]), 7, 3, 3).tolist() == [2.0, 1.0, 0.0]   # 7 mod 3 = 1
    assert read(np.array([0]), 5, 3, 3).tolist() == [0.0]
    h.reset()
    assert h.buffer.tolist() == [0.0] * 9
    for function, kind, types, stateless in (
            (h.store, "store", ["float", "integer", "integer", "integer", "integer"], False),
            (h.read, "read", ["integer"] * 4, True)):
        assert (function._arg_types, function._arg_units, function._return_type,
                function._return_unit, function.stateless) == (types, [1] * len(types),
                                                                "float", 1, stateless)
        for target in ("cpp", "cython"):
            impl = function.implementations[target]
            assert impl.name == f"_payload_{kind}_L1"
            namespace = impl.get_namespace(None)
            assert list(namespace) == ["L1_payloads"] and namespace["L1_payloads"] is h.buffer
    ring_cpp = "{\n    int s = step % slots;\n    if (s < 0) s += slots;\n    "
    assert h.store.implementations["cpp"].get_code(None) == {"support_code": (
        "static inline double _payload_store_L1(const double q, const int i, const int step, "
        "const int n, const int slots)\n" + ring_cpp
        + "_namespaceL1_payloads[s*n + i] = q;\n    return q;\n}\n")}
    assert h.read.implementations["cpp"].get_code(None) == {"support_code": (
        "static inline double _payload_read_L1(const int i, const int step, const int n, "
        "const int slots)\n" + ring_cpp + "return _namespaceL1_payloads[s*n + i];\n}\n")}
    ring_cython = ("    global _namespaceL1_payloads\n    cdef int s = step % slots\n"
                   "    if s < 0:\n        s += slots\n    ")
    assert h.store.implementations["cython"].get_code(None) == (
        "cdef double _payload_store_L1(double q, int i, int step, int n, int slots):\n"
        + ring_cython + "_namespaceL1_payloads[s*n + i] = q\n    return q\n")
    assert h.read.implementations["cython"].get_code(None) == (
        "cdef double _payload_read_L1(int i, int step, int n, int slots):\n"
        + ring_cython + "return _namespaceL1_payloads[s*n + i]\n")


def test_a_replica_keeps_every_layer_setting_and_the_delay_mode():
    """replicate(2) of networks built with non-default settings: binary payload, the GeNN
    schedule, distinct bucket time constants, extra equations integrated by Euler
    (method_options), one delay for all synapses (homogeneous mode) and seed 7; each
    setting is read back from the replica's layers and synapses."""
    from brian2 import defaultclock
    import sgbrian
    from sgbrian.learning import layer_taus
    defaultclock.dt = 0.5 * ms
    taus = np.array([1.0, 2.0, 3.0]) * ms
    net = sgbrian.feedforward([2, 3, 2], K=3, tau=taus, signal=np.zeros((4, 2)),
                              delay=1 * ms, homogeneous_delay=True, payload="binary",
                              schedule="genn", seed=7, extra="da/dt = -a/(4*ms) : 1",
                              method_options={"others": "euler"})
    replica = net.replicate(2)
    assert replica.seed == 7 and len(replica.layers) == 3
    assert replica.layers[0].kind == "analog" and replica.layers[0].n == 4
    assert replica.layers[0].payload == "binary"
    hidden = net.layers[1].group.state_updater.method_options
    assert hidden == {"others": "euler"}                 # extensions: hidden layers only
    for layer, original in zip(replica.layers[1:], net.layers[1:]):
        assert (layer.payload, layer.schedule, layer.K) == ("binary", "genn", 3)
        np.testing.assert_array_equal(layer_taus(layer), [1e-3, 2e-3, 3e-3])
        assert (layer.group.state_updater.method_options
                == original.group.state_updater.method_options)
    for original, copy in zip(net.synapses, replica.synapses):
        assert np.ndim(copy.delay[:]) == 0 and float(copy.delay[:] / ms) == 1.0
        assert len(copy) == 2 * len(original)


def test_feedforward_draws_masks_weights_and_delays_in_the_documented_order():
    """Per connection l, from one ``default_rng(seed)``: mask = U[0, 1) < p_connect, then
    w ~ N(0, weight_scale^2 / max(1, p_connect * sizes[l-1])), then (random_delays) whole
    steps uniform in [0, max_delay of the source]; synapses in row-major (pre, post)
    order. The output layer keeps no payload history."""
    from sgbrian import feedforward
    sizes, p, scale, lags = [1, 6, 3], 0.6, 1.7, [3, 2]
    net = feedforward(sizes, signal=np.zeros(5), p_connect=p, weight_scale=scale,
                      random_delays=True, max_delay=[lag * 0.1 * ms for lag in lags], seed=11)
    rng = np.random.default_rng(11)
    for l, (syn, lag) in enumerate(zip(net.synapses, lags), start=1):
        shape = (sizes[l - 1], sizes[l])
        mask = rng.random(shape) < p
        w = rng.normal(0.0, scale / np.sqrt(max(1.0, p * sizes[l - 1])), shape)
        steps = rng.integers(0, lag + 1, shape)
        pre, post = np.nonzero(mask)
        np.testing.assert_array_equal(syn.i[:], pre)
        np.testing.assert_array_equal(syn.j[:], post)
        np.testing.assert_allclose(syn.w[:], w[pre, post], rtol=1e-12)
        np.testing.assert_allclose(syn.delay[:] / ms, 0.1 * steps[pre, post], rtol=1e-9)
    assert [layer.max_lag for layer in net.layers] == [3, 2, 0]
    n_in, n_out, p, scale = 400, 30, 0.5, 2.0
    wide = feedforward([n_in, n_out], signal=np.zeros((2, n_in)), p_connect=p,
                       weight_scale=scale)
    w = wide.synapses[0].w[:]
    assert abs(len(w) / (n_in * n_out) - p) < 0.02          # binomial sd 0.0046
    assert abs(w.mean()) < 0.01 and abs(w.std() / (scale / np.sqrt(p * n_in)) - 1) < 0.05


def test_feedforward_defaults_and_settings_reach_every_layer():
    """Defaults: theta 0.05, weight_scale 1, seed 0, one delay per synapse (Brian2's
    per-synapse ``delay``) unless homogeneous_delay and not random_delays; bucket_weights
    and record reach the layers."""
    from sgbrian import feedforward
    signal = np.zeros((4, 2))
    plain = feedforward([2, 3, 1], signal=signal)
    given = feedforward([2, 3, 1], signal=signal, theta=0.05, weight_scale=1.0, seed=0)
    for a, b in zip(plain.synapses, given.synapses):
        np.testing.assert_array_equal(a.w[:], b.w[:])
        assert not a.pre.variables["delay"].scalar
    for layer in plain.layers[1:]:
        np.testing.assert_array_equal(layer.group.theta[:], 0.05)
    shared = feedforward([2, 3, 1], signal=signal, homogeneous_delay=True, delay=0.2 * ms,
                         max_delay=0.2 * ms)
    assert all(s.pre.variables["delay"].scalar for s in shared.synapses)
    assert float(shared.synapses[0].delay / ms) == pytest.approx(0.2)
    drawn = feedforward([2, 3, 1], signal=signal, homogeneous_delay=True, random_delays=True,
                        max_delay=0.2 * ms)
    assert not any(s.pre.variables["delay"].scalar for s in drawn.synapses)
    per_synapse = feedforward([2, 3, 1], signal=signal, bucket_weights="synapse", K=2,
                              record=("spikes", "signals", "buckets"))
    assert [layer.bucket_weights for layer in per_synapse.layers[1:]] == ["synapse"] * 2
    assert [sorted(m) for m in per_synapse.monitors] == [["signals", "spikes"],
                                                        ["signals", "spikes"], ["signals", "spikes"]]


@pytest.mark.parametrize("lag, derivative, max_bytes, size", [
    (0, False, 2 ** 30, 32),            # at least 32 steps
    (20, False, 2 ** 30, 80),           # 4 lags
    (300, False, 2 ** 30, 512),         # at most 512 steps
    (300, True, 192 * 400, 100),        # memory: (lag + size) rows of 3 * 2 * 4 * 8 bytes
    (300, True, 192 * 310, 32),         # ... but never under 32
])
def test_a_weight_gradient_buffers_as_many_steps_as_its_memory_allows(lag, derivative,
                                                                      max_bytes, size):
    """size = clip(4 L, 32, max(32, min(512, max_bytes // row - L))) with row = n_pre *
    batch * (K+1, or K for delays) * 8 bytes; the window holds L + size steps or more."""
    conn = SimpleNamespace(P=np.eye(5), max_steps=lag, n_pre=3, batch=2, n_post=4,
                           taus=np.ones(4))
    gradient = WeightGradient(conn, derivative=derivative, max_bytes=max_bytes)
    assert gradient.size == size
    n_pre, length, batch, buckets = gradient.window.shape
    assert (n_pre, batch, buckets) == (3, 2, 4 if derivative else 5)
    assert length >= lag + size
    assert gradient.vd.shape == (length, 2, buckets, 4)


def test_readout_is_the_last_layer_and_output_its_alias():
    net = sgbrian.feedforward([2, 3, 4], K=2, tau=1 * ms, theta=0.1,
                              signal=np.zeros((5, 2)), seed=0)
    assert net.readout is net.layers[2] and net.readout.n == 4
    assert net.output is net.readout
