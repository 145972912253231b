"""The cascade propagator: closed form, Brian2 state updater, analytic gamma kernels."""
import numpy as np
import pytest
import scipy.linalg
import scipy.stats
from brian2 import ms, second, defaultclock

import sgbrian
from sgbrian.network import connect, monitors_for, neuron_layer, spike_layer, analog_layer
from brian2 import Network


def test_closed_form_equals_matrix_exponential():
    for K, a in [(1, 0.1), (8, 0.5), (32, 2.0), (32, 1e-3)]:
        G = sgbrian.propagator.cascade_generator(np.full(K, 1.0))
        P_expm = scipy.linalg.expm(G * a)
        P = sgbrian.cascade_propagator(a, np.full(K, 1.0))
        assert np.max(np.abs(P - P_expm)) < 1e-13
        assert np.allclose(P.sum(axis=1), 1.0, atol=1e-14)


def test_distinct_time_constants_use_the_generator():
    taus = np.array([1.0, 2.0, 3.5]) * 1e-3
    P = sgbrian.cascade_propagator(1e-4, taus)
    assert np.allclose(P, scipy.linalg.expm(sgbrian.propagator.cascade_generator(taus) * 1e-4),
                       atol=1e-15)


def _pulse_network(K, tau, t_spike, record=("buckets",)):
    inp = spike_layer(1, [0], [t_spike])
    layer = neuron_layer(1, K, tau, theta=1.0, output="linear")
    syn = connect(inp, layer, w=1.0)
    mons = monitors_for(layer, record)
    return Network(inp.group, layer.group, syn, *mons.values()), mons


def _step_network(K, tau, t_step, duration, sample_dt):
    n = int(round(duration / sample_dt))
    signal = (np.arange(n) * sample_dt >= t_step).astype(float)[:, None]
    inp = analog_layer(signal, sample_dt, theta=1.0)
    layer = neuron_layer(1, K, tau, theta=1.0, output="linear")
    syn = connect(inp, layer, w=1.0)
    mons = monitors_for(layer, ("buckets",))
    return Network(inp.group, layer.group, syn, *mons.values()), mons


def test_pulse_response_is_the_gamma_pdf():
    K, tau, t0 = 6, 3 * ms, 2 * ms
    net, mons = _pulse_network(K, tau, t0)
    net.run(60 * ms)
    mon = mons["buckets"]
    s = mon.t / second - t0 / second
    for k in range(1, K + 1):
        expected = np.where(s >= 0, float(tau / second) *
                            scipy.stats.gamma.pdf(np.maximum(s, 0), k, scale=float(tau / second)), 0)
        assert np.max(np.abs(getattr(mon, f"U_{k}")[0] - expected)) < 1e-9, k


def test_step_response_is_the_gamma_cdf():
    K, tau, t0 = 8, 2 * ms, 1 * ms
    net, mons = _step_network(K, tau, t0, 40 * ms, defaultclock.dt)
    net.run(40 * ms)
    mon = mons["buckets"]
    s = np.maximum(mon.t / second - t0 / second, 0)
    assert np.all(mon.U_0[0][mon.t >= t0] == 1.0)
    for k in range(1, K + 1):
        expected = scipy.stats.gamma.cdf(s, k, scale=float(tau / second))
        assert np.max(np.abs(getattr(mon, f"U_{k}")[0] - expected)) < 1e-9, k


def test_distinct_taus_step_response_is_the_hypoexponential_cdf():
    taus = np.array([1.0, 2.5, 4.0]) * 1e-3
    net, mons = _step_network(3, taus * second, 0 * ms, 30 * ms, defaultclock.dt)
    net.run(30 * ms)
    t = mons["buckets"].t / second
    # Step response of a chain of distinct first-order filters (partial fractions):
    # U_K(t) = 1 - sum_i e^{-t/tau_i} prod_{j != i} tau_i / (tau_i - tau_j)
    coeff = [np.prod([ti / (ti - tj) for tj in taus if tj != ti]) for ti in taus]
    expected = 1 - sum(c * np.exp(-t / ti) for c, ti in zip(coeff, taus))
    assert np.max(np.abs(mons["buckets"].U_3[0] - expected)) < 1e-9


@pytest.mark.parametrize("taus", [2 * ms, np.array([1.0, 1.5, 2.0, 3.0]) * ms])
def test_grid_aligned_events_give_identical_buckets_for_every_dt(taus):
    """dt = 1, 0.1, 0.01 ms: bucket values at common time points agree to 1e-12."""
    K = 4
    rng = np.random.default_rng(7)
    levels = np.round(rng.normal(size=30), 1)   # a new level every 1 ms, quantum 0.1
    results = {}
    for dt in [1 * ms, 0.1 * ms, 0.01 * ms]:
        defaultclock.dt = dt
        inp = analog_layer(levels[:, None], 1 * ms, theta=0.1)
        layer = neuron_layer(1, K, taus, theta=0.1, output="linear")
        syn = connect(inp, layer, w=0.7)
        mon = monitors_for(layer, ("buckets",))["buckets"]
        Network(inp.group, layer.group, syn, mon).run(30 * ms)
        every_ms = int(round(float(1 * ms / dt)))
        results[float(dt / ms)] = np.array([getattr(mon, f"U_{k}")[0][::every_ms]
                                            for k in range(K + 1)])
    assert results[1.0].shape == results[0.01].shape == (K + 1, 30)
    assert np.abs(results[1.0]).max() > 0.1          # the input did reach the buckets
    for dt_ms in (0.1, 0.01):
        assert np.max(np.abs(results[dt_ms] - results[1.0])) < 1e-12, dt_ms


def test_state_updater_refuses_nonlinear_equations():
    from brian2 import NeuronGroup
    G = NeuronGroup(1, "dv/dt = -v**2/(10*ms) : 1", method="gamma_cascade")
    with pytest.raises(Exception, match="linear|integrate|gamma_cascade"):
        Network(G).run(1 * ms)


def test_propagator_follows_dt_and_tau_changes_between_runs():
    """Brian2 caches state-update code; the propagator code must stay exact when dt or
    the time constant changes between runs of the same group."""
    layer = neuron_layer(1, 3, 1 * ms, 1.0, output="linear")
    g = layer.group
    net = Network(g)
    g.U_0 = 1.0
    expected = np.zeros(4)
    expected[0] = 1.0
    for dt, tau in [(0.1 * ms, 1 * ms), (0.5 * ms, 1 * ms), (0.5 * ms, 3 * ms)]:
        defaultclock.dt = dt
        g.namespace["tau_gamma"] = tau
        net.run(2 * ms)
        P = sgbrian.cascade_propagator(float(dt / second), np.full(3, float(tau / second)))
        expected = np.linalg.matrix_power(P, int(round(float(2 * ms / dt)))) @ expected
        got = np.array([getattr(g, f"U_{k}")[0] for k in range(4)])
        assert np.max(np.abs(got - expected)) < 1e-12, (dt, tau)


def test_close_distinct_time_constants_are_refused_or_exact():
    with pytest.raises(ValueError, match=r"tau must be one time, or K times different enough"):
        neuron_layer(1, 3, [1.0, 1.0000001, 2.0] * ms, 1.0)
    taus = np.array([1.0, 1.0001, 2.0]) * 1e-3      # amplification 1e4: accepted, and exact
    layer = neuron_layer(1, 3, taus * second, 1.0)
    layer.group.U_0 = 1.0
    Network(layer.group).run(1 * ms)
    P = sgbrian.cascade_propagator(float(defaultclock.dt / second), taus)
    expected = np.linalg.matrix_power(P, 10)[:, 0]
    got = np.array([getattr(layer.group, f"U_{k}")[0] for k in range(4)])
    assert np.max(np.abs(got - expected)) < 1e-10
    layer = neuron_layer(1, 3, [1.0, 1.0, 1.0] * ms, 1.0)      # K equal times: one tau
    assert layer.namespace == {"tau_gamma": 1 * ms}


@pytest.mark.parametrize("others, noise", [(None, False), ("euler", False), (None, True)])
def test_gamma_cascade_composes_with_other_equations(others, noise):
    """Extra equations in the group (linear; stochastic with xi) are integrated by a
    Brian2 method (default: Brian2's own choice for them alone; or method_options):
    the buckets still follow the gamma law to 1e-9, and the extra variables equal the
    same equations integrated by Brian2 in a group without the cascade (same seed)."""
    from brian2 import Equations, NeuronGroup, StateMonitor, seed
    from scipy.special import gammainc
    import sgbrian
    extra = "da/dt = (2 - a)/(20*ms) : 1"
    if noise:
        extra += "\ndn/dt = -n/(5*ms) + 0.3*xi/sqrt(ms) : 1"
    eqs, namespace = sgbrian.neuron_equations(4, 2 * ms)
    options = {"others": others} if others else {}
    G = NeuronGroup(3, eqs + Equations(extra), method="gamma_cascade", method_options=options,
                    namespace=namespace)
    H = NeuronGroup(3, extra, method=others or ("exact", "euler", "heun"))
    G.U_0 = 1.0
    monitors = [StateMonitor(G, ["U_4", "a"], record=True), StateMonitor(H, "a", record=True)]
    if noise:
        monitors += [StateMonitor(G, "n", record=True), StateMonitor(H, "n", record=True)]
    for group, mon in ((G, monitors[0]), (H, monitors[1])):
        seed(7)
        objects = [group, mon] + ([monitors[2]] if noise and group is G else
                                  [monitors[3]] if noise else [])
        Network(*objects).run(20 * ms)
    t = monitors[0].t / ms
    np.testing.assert_allclose(monitors[0].U_4[0], gammainc(4, t / 2.0), atol=1e-9)
    np.testing.assert_array_equal(monitors[0].a, monitors[1].a)
    if others == "euler":      # the chosen method is used: euler is not the exact solution
        assert np.abs(monitors[0].a[0, -1] - 2 * (1 - np.exp(-20 / 20 * 1))) > 1e-4
    if noise:
        np.testing.assert_array_equal(monitors[2].n, monitors[3].n)
        assert np.std(monitors[2].n[:, -1]) > 0


def test_a_chain_fed_by_a_continuous_variable_is_not_treated_as_buckets():
    """dX/dt = (a - X)/tau with a itself integrated is not a bucket chain (its input is
    not held over a step): it goes to the other method, not to the exact propagator."""
    from brian2 import Equations
    from sgbrian.propagator import _cascade_chains
    from brian2 import NeuronGroup
    import sgbrian
    eqs, namespace = sgbrian.neuron_equations(2, 1 * ms)
    eqs += Equations("da/dt = -a/(3*ms) : 1\ndz/dt = (a - z)/tau_gamma : 1")
    G = NeuronGroup(1, eqs, method="gamma_cascade", namespace=namespace)
    chains, others = _cascade_chains(G.equations, G.resolve_all(
        list(G.equations.identifiers) + list(G.equations.names), namespace))
    assert [tap for tap, _ in chains] == ["U_0"] and sorted(others) == ["a", "z"]


def test_method_option_then_runs_after_each_cascade_step():
    """``method_options={'then': code}`` appends code to the state update, after the
    buckets have stepped: c accumulates U_2(n dt) = P(2, n dt / tau) over the steps. The
    propagator names a bad argument."""
    from brian2 import Equations, NeuronGroup, StateMonitor
    from scipy.special import gammainc
    eqs, namespace = sgbrian.neuron_equations(2, 1 * ms)
    G = NeuronGroup(1, eqs + Equations("c : 1"), method="gamma_cascade",
                    method_options={"then": "c = c + U_2"}, namespace=namespace)
    G.U_0 = 1.0
    monitor = StateMonitor(G, "c", record=True)
    Network(G, monitor).run(5 * defaultclock.dt)
    a = np.arange(1, 5) * float(defaultclock.dt / (1 * ms))        # n dt / tau
    np.testing.assert_allclose(monitor.c[0], np.r_[0, np.cumsum(gammainc(2, a))],
                               rtol=1e-12)
    with pytest.raises(ValueError, match=r"^taus must be > 0"):
        sgbrian.cascade_propagator(1e-4, [1e-3, -1e-3])
    with pytest.raises(ValueError, match=r"^h must be > 0"):
        sgbrian.cascade_propagator(0.0, [1e-3])


@pytest.mark.parametrize("others", [None, "euler"])
def test_other_equations_read_the_buckets_at_the_start_of_the_step(others):
    """An extra equation that reads a bucket, dz/dt = U_2 / (5 ms), sees U_2 as it was at
    the start of each step (the other equations' code comes before the cascade's): after
    N steps z = dt / (5 ms) * sum_{n=0}^{N-1} P(2, n dt / tau), P the regularized lower
    incomplete gamma function (the step response of bucket 2). Code in the other order
    would sum n = 1 .. N instead."""
    from brian2 import Equations, NeuronGroup, StateMonitor
    from scipy.special import gammainc
    eqs, namespace = sgbrian.neuron_equations(2, 1 * ms)
    options = {"others": others} if others else {}
    G = NeuronGroup(1, eqs + Equations("dz/dt = U_2 / (5*ms) : 1"), method="gamma_cascade",
                    method_options=options, namespace=namespace)
    G.U_0 = 1.0
    monitor = StateMonitor(G, "z", record=True)
    Network(G, monitor).run(6 * defaultclock.dt)
    dt_ms = float(defaultclock.dt / ms)
    starts = gammainc(2, np.arange(6) * dt_ms)                     # U_2 at n dt, tau = 1 ms
    np.testing.assert_allclose(monitor.z[0], np.r_[0, np.cumsum(starts[:5])] * dt_ms / 5,
                               rtol=1e-12, atol=1e-15)
    assert monitor.z[0, 2] > 0        # U_2 > 0 from the second step on: the sum is not empty


def test_the_state_updater_says_which_equations_it_can_integrate():
    """``can_integrate``: equations holding a gamma cascade, with other equations that the
    chosen method (``method_options['others']``) can integrate; not equations without a
    cascade, nor others the method cannot integrate (noise under 'exact')."""
    from brian2 import NeuronGroup
    from sgbrian.propagator import GammaCascadePropagator
    updater = GammaCascadePropagator()

    def can(eqs, options=None):
        group = NeuronGroup(1, eqs, method="euler", namespace={"tau_gamma": 1 * ms, "tau": 2 * ms})
        names = set(group.equations.identifiers) | set(group.equations.names) | {"t", "dt"}
        variables = group.resolve_all(names, {})       # as Brian2 hands them to a state updater
        return updater.can_integrate(group.equations, variables, options)

    cascade = "U_0 : 1\ndU_1/dt = (U_0 - U_1)/tau_gamma : 1\ndU_2/dt = (U_1 - U_2)/tau_gamma : 1\n"
    assert can(cascade)
    assert can(cascade + "da/dt = -a/tau : 1")
    assert not can("dv/dt = -v/tau : 1")
    assert not can("U_0 : 1\ndU_1/dt = (U_0 - U_1)/tau_gamma + U_1**2/tau : 1")
    noisy = cascade + "da/dt = -a/tau + xi/sqrt(tau) : 1"
    assert not can(noisy, {"others": "exact"}) and can(noisy, {"others": "euler"})
