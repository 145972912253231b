"""Build time of a SpikingGamma group against K (numpy target).

"Build" = create the NeuronGroup and run one step (which generates the state-update
code through the 'gamma_cascade' propagator). For comparison, Brian2's symbolic
method='exact' on the same equations (up to K=16; it grows steeply).

    python benchmarks/bench_build.py
"""
import time

from brian2 import Network, NeuronGroup, defaultclock, ms, prefs, start_scope

from sgbrian.network import neuron_layer

prefs.codegen.target = "numpy"


def build_and_step(K, method):
    start_scope()
    start = time.perf_counter()
    layer = neuron_layer(10, K, 5 * ms, 0.05)
    group = layer.group
    if method != "gamma_cascade":
        group = NeuronGroup(10, layer.group.equations, method=method,
                            namespace=layer.namespace)
    Network(group).run(defaultclock.dt)
    return time.perf_counter() - start


print(f"{'K':>4} {'gamma_cascade (s)':>18} {'exact (s)':>10}")
for K in (1, 4, 8, 16, 32):
    exact = f"{build_and_step(K, 'exact'):10.2f}" if K <= 16 else f"{'-':>10}"
    print(f"{K:>4} {build_and_step(K, 'gamma_cascade'):18.2f} {exact}")
