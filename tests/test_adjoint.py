"""Rule 'adjoint': exact gradients at any depth from the recorded events, backwards in time.

Checked against the online rule 'exact' (one hidden layer: the same gradient, computed
forward at every step, to 1e-10), against central differences of the Brian2 network's
loss (two and three hidden layers, analog payloads, per-synapse delays; the loss read by
an online learner from Brian2's own buckets, not from the adjoint's rebuilt ones), and,
for the delays of every layer, against central differences along a parallel pathway that
injects the delay derivative's events (see ``_delay_pathway``).
"""
import re

import numpy as np
import pytest
from brian2 import Synapses, defaultclock, ms, second

import sgbrian
from sgbrian.datasets import Sample
from sgbrian.encoding import payload_expression
from sgbrian.learning import OnlineLearner, memory
from sgbrian.losses import CrossEntropyLoss, MSELoss
from sgbrian.network import place_arrivals
from sgbrian.optim import SGD

from checks import assert_divergence_restores
from reference_model import randomize

T = 40
ALL = ("w", "v", "b", "d")


def _net(rng, sizes=(3, 4, 2), payload="integer", spikes=None, theta=0.1, K=4,
         max_delay=0.3 * ms, **kwargs):
    """relu hidden layers, linear readout, per-synapse delays of 0-3 steps, hidden units
    biased into their active range."""
    signal = None if spikes else rng.normal(0, 1, (T, sizes[0]))
    net = sgbrian.feedforward(list(sizes), K=K, tau=0.5 * ms, theta=theta, signal=signal,
                              spikes=spikes, max_delay=max_delay, random_delays=True,
                              payload=payload, seed=2, **kwargs)
    randomize(net, rng)
    for layer in net.layers[1:-1]:
        layer.group.b = rng.uniform(0.2, 0.5, layer.n)
    return net, signal


def _spikes(rng, channels, count, steps=T):
    flat = rng.choice(channels * steps, count, replace=False)   # distinct (channel, step)
    return flat % channels, (flat // channels) * defaultclock.dt


def _gradients(net, loss, rule, samples, batch_size=1, train=ALL):
    learner = OnlineLearner(net, loss, rule=rule, train=train)
    grads = learner.gradients(samples, batch_size=batch_size)
    learner.detach()
    return grads


def _relative(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


@pytest.mark.parametrize("case", ["integer analog input, MSE", "spikes, cross-entropy",
                                  "binary payloads", "no readout delays"])
def test_adjoint_equals_the_online_exact_rule_through_one_hidden_layer(rng, case):
    """Same sample(s), same spikes: every gradient (w, v, b, the readout's delays d1)
    equal to 1e-10, one sample at a time and in batches (two samples of different
    lengths side by side, and a batch of one). 'adjoint' also trains the delays of the
    first connection, and no delays where they cannot move (a readout connection built
    without delays: no payload history to hold them)."""
    if case.startswith("spikes"):
        spikes = _spikes(rng, 3, 30)
        net, _ = _net(rng, spikes=spikes, theta=0.05)
        short = (spikes[0][spikes[1] < 30 * defaultclock.dt], spikes[1][spikes[1] < 30 * defaultclock.dt])
        samples = [Sample(spikes, 1, T), Sample(short, 0, 30)]
        loss = CrossEntropyLoss(start=1 * ms)
    else:
        payload = "binary" if case.startswith("binary") else "integer"
        net, signal = _net(rng, payload=payload, max_delay=[0.3 * ms, (case != "no readout delays") * 0.3 * ms])
        samples = [Sample(signal, np.cumsum(rng.normal(0, 0.3, (T, 2)), axis=0), T),
                   Sample(signal[:30] * 0.5, rng.normal(0, 1, (30, 2)), 30)]
        loss = MSELoss()
    exact = _gradients(net, loss, "exact", samples)
    assert sorted(exact) == ["b1", "b2", "d1", "v1", "v2", "w0", "w1"]
    fixed = case == "no readout delays"          # the readout's delays cannot move from 0
    for batch_size in (1, 2):
        adjoint = _gradients(net, loss, "adjoint", samples, batch_size)
        assert "d0" in adjoint and ("d1" in adjoint) != fixed   # every delay that can move
        for name, value in exact.items():
            if name == "d1" and fixed:
                continue
            assert np.linalg.norm(value) > 1e-3, name
            assert _relative(adjoint[name], value) < 1e-10, (case, batch_size, name)


@pytest.mark.parametrize("delays", [1, 4])
def test_the_error_sent_down_equals_a_sum_over_synapses(rng, delays):
    """SynapseTable.error, ``A[t, i] = sum_{s of i} w_s E[t + d_s, post_s]`` (E zero from
    T on), by matrix products per delay (dense weights: one delay) and by the compiled
    pass over each sender's synapses (sparse: four delays), against the sum written out."""
    from sgbrian.learning.adjoint_data import SynapseTable
    from sgbrian.learning.adjoint_kernels import kernels
    from types import SimpleNamespace
    n_pre, n_post, steps = 6, 5, 9
    pre, post = np.nonzero(rng.random((n_pre, n_post)) < 0.6)
    order = rng.permutation(len(pre))                      # synapses not sorted by sender
    pre, post = pre[order], post[order]
    d = rng.integers(0, delays, len(pre))
    values, index = np.unique(d, return_inverse=True)
    conn = SimpleNamespace(pre=pre, post=post, n_pre=n_pre, n_post=n_post, delays=values,
                           delay_index=index)
    table = SynapseTable(conn)
    w, E = rng.normal(size=len(pre)), rng.normal(size=(steps, n_post))
    expected = np.zeros((steps + 1, n_pre))
    for s in range(len(pre)):
        for t in range(steps + 1):
            if t + d[s] < steps:
                expected[t, pre[s]] += w[s] * E[t + d[s], post[s]]
    dense = len(values) * n_pre * n_post <= 2 * len(pre)
    assert dense == (delays == 1)
    A = table.error(E, table.csr(w), kernels(3), np.full((steps + 1, n_pre), np.nan))
    np.testing.assert_allclose(A, expected, rtol=1e-13, atol=1e-13)


def test_the_adjoints_loss_and_events_equal_the_runtimes(rng):
    """evaluate() under 'adjoint' (x rebuilt from the recorded events) and under 'spatial'
    (x read from Brian2's buckets at every step) give the same loss, outputs, event and
    quanta rates."""
    net, signal = _net(rng, sizes=(3, 5, 4, 2))
    sample = Sample(signal, rng.normal(0, 1, (T, 2)), T)
    results = {}
    for rule in ("spatial", "adjoint"):
        learner = OnlineLearner(net, MSELoss(), rule=rule)
        results[rule] = learner.evaluate([sample], record_outputs=True)
        learner.detach()
    a, b = results["adjoint"], results["spatial"]
    assert a["loss_sum"] == pytest.approx(b["loss_sum"], rel=1e-12)
    np.testing.assert_allclose(a["outputs"][0], b["outputs"][0], rtol=1e-12, atol=1e-12)
    assert a["events_per_neuron_per_s"] == b["events_per_neuron_per_s"] > 0
    assert a["quanta_per_neuron_per_s"] == b["quanta_per_neuron_per_s"] > 0


def _loss(net, sample, loss):
    """The summed loss of ``sample`` as Brian2 computes it (an online learner reads the
    network's own buckets at every step)."""
    learner = OnlineLearner(net, loss, rule="spatial", train=())
    value = learner.evaluate([sample])["loss_sum"]
    learner.detach()
    return value


def _directional_difference(net, sample, loss, set_offset, eps=1e-6):
    """(L(+eps) - L(-eps)) / (2 eps) with ``set_offset(h)`` moving the network by h."""
    values = []
    for h in (eps, -eps):
        set_offset(h)
        values.append(_loss(net, sample, loss))
    set_offset(0.0)
    return (values[0] - values[1]) / (2 * eps)


def _parameter_setter(net, name, direction):
    """``set(h)``: parameter ``name`` (w{l}, v{l}, b{l}) of ``net`` at its value + h * direction."""
    kind, l = name[0], int(name[1:])
    if kind == "w":
        base = net.synapses[l].w[:].copy()

        def set_w(h):
            net.synapses[l].w = base + h * direction
        return set_w
    group = net.layers[l].group
    names = ["b"] if kind == "b" else [f"v_{k}" for k in range(net.layers[l].K + 1)]
    base = np.stack([getattr(group, n)[:] for n in names], axis=1)
    direction = direction.reshape(base.shape)

    def set_vb(h):
        for k, n in enumerate(names):
            setattr(group, n, base[:, k] + h * direction[:, k])
    return set_vb


@pytest.mark.training
@pytest.mark.parametrize("sizes", [(3, 5, 4, 2), (2, 5, 4, 3, 2)])
def test_adjoint_gradients_equal_central_differences_at_depth(rng, sizes):
    """Two and three hidden layers, analog payloads (the network is the analog model),
    per-synapse delays in every connection: the gradient of every parameter along two
    random directions equals central differences of the loss to 1e-5."""
    net, signal = _net(rng, sizes=sizes, payload="analog", theta=0.05, K=3)
    sample = Sample(signal, np.cumsum(rng.normal(0, 0.3, (T, sizes[-1])), axis=0), T)
    assert all(len(np.unique(syn.delay[:])) > 1 for syn in net.synapses)
    grads = _gradients(net, MSELoss(), "adjoint", [sample], train=("w", "v", "b"))
    assert len(grads) == 3 * (len(sizes) - 1)
    for name, g in grads.items():
        for _ in range(2):
            direction = rng.normal(size=g.shape)
            fd = _directional_difference(net, sample, MSELoss(),
                                         _parameter_setter(net, name, direction.ravel()))
            assert abs(fd) > 1e-3, name
            assert abs(np.sum(g * direction) - fd) < 1e-5 * abs(fd), (name, np.sum(g * direction), fd)


def _delay_pathway(net, l, direction):
    """A Synapses object parallel to connection ``l`` (same pairs, same delays) whose
    events inject ``eps_s G e_c a`` (G the cascade's generator, e_c the bucket the events
    enter, a what they carry), with ``eps_s = h w_s u_s tau_1`` (tau_1 in seconds: the
    injections are of the order of h w a). A continuous delay shift moves the delivered
    buckets by ``-G u``, so d/dh of the loss is ``-1e3 tau_1 sum_s u_s dL/dD_s`` (D in
    ms). Returns ``set(h)`` and ``tau_1``."""
    syn, source, target = net.synapses[l], net.layers[l], net.layers[l + 1]
    taus = target.taus()
    if source.kind == "spikes":          # G e_1 = -e_1 / tau_1 + e_2 / tau_2
        code = f"U_1_post += -eps/{taus[0]!r}\nU_2_post += eps/{taus[1]!r}"
    else:                                # G e_0 = e_1 / tau_1
        code = ("_lag_steps = int(delay/dt + 0.5)\n" if source.max_lag else "") + \
            f"U_1_post += eps*theta_pre*({payload_expression(None, source.max_lag)})/{taus[0]!r}"
    extra = Synapses(source.group, target.group, "eps : 1", on_pre=code,
                     namespace=source.history.namespace() if source.history else {})
    extra.connect(i=syn.i[:], j=syn.j[:])
    extra.delay = syn.delay[:]
    place_arrivals(extra, target.index, "exact")
    net.network.add(extra)
    scale = syn.w[:] * direction * taus[0]

    def set_eps(h):
        extra.eps = h * scale
    return set_eps, taus[0]


@pytest.mark.training
@pytest.mark.parametrize("input_kind", ["analog", "spikes"])
def test_adjoint_delay_gradients_of_every_layer_equal_central_differences(rng, input_kind):
    """Two hidden layers, analog payloads, per-synapse delays: each connection's delay
    gradient along a random direction equals central differences along the parallel
    pathway of its derivative (``_delay_pathway``), to 1e-5. (A pathway 1/tau_1 times
    stronger, 2000 here, moved relu units across their kink within the difference's
    step and missed by 0.4% on the first connection.)"""
    spikes = _spikes(rng, 3, 40) if input_kind == "spikes" else None
    net, signal = _net(rng, sizes=(3, 5, 4, 2), payload="analog", theta=0.05, K=3,
                       spikes=spikes)
    sample = Sample(spikes or signal, np.cumsum(rng.normal(0, 0.3, (T, 2)), axis=0), T)
    grads = _gradients(net, MSELoss(), "adjoint", [sample], train=("d",))
    assert sorted(grads) == ["d0", "d1", "d2"]
    for l in range(3):
        direction = rng.normal(size=grads[f"d{l}"].shape)
        set_eps, tau_1 = _delay_pathway(net, l, direction)
        fd = _directional_difference(net, sample, MSELoss(), set_eps)
        expected = -1e3 * tau_1 * np.sum(grads[f"d{l}"] * direction)
        assert abs(fd) > 1e-3, l
        assert abs(expected - fd) < 1e-5 * abs(fd), (l, expected, fd)


def test_adjoint_refuses_updates_within_a_sample_and_what_it_cannot_rebuild(rng):
    net, _ = _net(rng)
    with pytest.raises(ValueError, match=re.escape(
            "rule 'adjoint' computes a sample's gradient after the sample has run, so it "
            "updates once per sample or batch: update_every must be 'sample', got 5; use rule "
            "'exact' or 'spatial' for updates within a sample")):
        OnlineLearner(net, MSELoss(), rule="adjoint", update_every=5)
    driven, _ = _net(rng, drive="c", parameters={"c": np.ones(4)})
    with pytest.raises(ValueError, match=re.escape(
            "layer 1: rule 'adjoint' rebuilds x from the recorded events and cannot evaluate "
            "the drive term 'c' over a sample; use rule 'exact' or 'spatial' with "
            "constant_drive=True")):
        OnlineLearner(driven, MSELoss(), rule="adjoint", constant_drive=True)
    genn, _ = _net(rng, schedule="genn")
    with pytest.raises(ValueError, match=re.escape(
            "layer 1: rule 'adjoint' needs schedule='exact' (got 'genn'); train with it, then "
            "net.set_schedule('genn') to export")):
        OnlineLearner(genn, MSELoss(), rule="adjoint")
    with pytest.raises(ValueError, match="rule 'exact' needs exactly one hidden layer"):
        OnlineLearner(_net(rng, sizes=(3, 4, 4, 2))[0], MSELoss(), rule="exact")


def test_a_run_that_does_not_fit_in_memory_is_refused_before_it_starts(rng, monkeypatch):
    """The estimate (sgbrian.learning.memory) by hand for rule 'adjoint': the replica's
    Brian2 arrays, at most one recorded event (20 bytes, doubled) per neuron and step,
    8 arrays of one sample over (steps x neurons); over the memory available, the run
    is refused naming batch_size, before any replica is built or anything runs."""
    net, signal = _net(rng)
    learner = OnlineLearner(net, MSELoss(), rule="adjoint")
    sample = Sample(signal, np.zeros((T, 2)), T)
    neurons = 3 + 4 + 2
    expected = 7 * memory.network_nbytes(net) + 7 * T * neurons * 40 + T * neurons * 64
    assert learner.memory_estimate([sample], batch_size=7) == expected
    monkeypatch.setattr(memory, "available_bytes", lambda: expected - 1)
    with pytest.raises(MemoryError, match=re.escape(
            f"batch_size=7: this run needs an estimated {expected / 2 ** 30:.2f} GiB (rule "
            f"'adjoint', {T} steps per batch; see sgbrian.learning.memory), more than the")):
        learner.evaluate([sample] * 7, batch_size=7)
    assert sorted(learner.engines) == [1]                  # nothing was built
    monkeypatch.setattr(memory, "available_bytes", lambda: expected)
    learner.evaluate([sample] * 7, batch_size=7)
    assert sorted(learner.engines) == [1, 7]
    spikes = _spikes(rng, 3, 30)                     # raw spikes: their count, not a bound
    net, _ = _net(rng, spikes=spikes)
    learner = OnlineLearner(net, MSELoss(), rule="adjoint")
    short = Sample((spikes[0][:10], spikes[1][:10]), np.zeros((T, 2)), T)
    samples = [short, Sample(spikes, np.zeros((T, 2)), T), short]
    steps = T + int(np.rint(np.max(net.synapses[0].delay[:]) / defaultclock.dt))   # the gap
    assert learner.memory_estimate(samples, batch_size=2) == (
        2 * memory.network_nbytes(net) + (2 * steps * 6 + 40) * 40 + steps * neurons * 64)


def test_adjoint_training_lowers_the_loss_and_resumes_runs_at_any_time(rng):
    """SGD steps with the adjoint's gradients lower the loss; runs of different lengths
    one after the other (the batch clock re-aligned each time) give the same gradient
    as a fresh learner."""
    net, signal = _net(rng)
    target = np.cumsum(rng.normal(0, 0.3, (T, 2)), axis=0)
    samples = [Sample(signal, target, T), Sample(signal[:25], target[:25], 25)]
    learner = OnlineLearner(net, MSELoss(), rule="adjoint", optimizer=SGD(2e-3))
    before = learner.evaluate(samples)["loss"]
    first = learner.gradients(samples[:1])
    learner.fit(samples, 4, progress=False, batch_size=2)
    after = learner.evaluate(samples)["loss"]
    assert after < 0.8 * before
    fresh = OnlineLearner(net, MSELoss(), rule="adjoint")
    net_time = float(net.network.t / second)
    assert net_time > 0
    again = learner.gradients(samples[:1])
    for name, value in fresh.gradients(samples[:1]).items():
        assert _relative(again[name], value) < 1e-12, name
    assert not np.allclose(first["w0"], again["w0"])      # the parameters did move


def test_adjoint_divergence_stops_with_a_clear_error_and_resumes_to_the_same_numbers(rng, tmp_path):
    """A learning rate of 1e12 stops training with TrainingDiverged and the last good
    parameters in the learner and in Brian2; with a sane one, a run interrupted after one
    epoch and resumed from its checkpoint ends with the parameters and losses of an
    uninterrupted run (batches of 2, delays trained)."""
    from sgbrian.optim import Adam
    net, signal = _net(rng)
    samples = [Sample(signal, np.cumsum(rng.normal(0, 0.3, (T, 2)), axis=0), T) for _ in range(3)]
    learner = OnlineLearner(net, MSELoss(), rule="adjoint", optimizer=SGD(1e12))
    assert_divergence_restores(learner, net, samples)

    def train(epochs, **kwargs):
        net, _ = _net(np.random.default_rng(5))
        learner = OnlineLearner(net, MSELoss(), rule="adjoint", optimizer=Adam(1e-2), seed=4,
                                train=ALL)
        return learner, learner.fit(samples, epochs, progress=False, batch_size=2, **kwargs)
    path = str(tmp_path / "ckpt.npz")
    full, full_history = train(3)
    train(1, checkpoint=path)
    resumed, history = train(3, checkpoint=path, resume=True)
    for name, p in full.params.items():
        np.testing.assert_array_equal(resumed.params[name], p)
    np.testing.assert_array_equal(history["loss"], full_history["loss"])
