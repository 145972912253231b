"""How much memory a run of the learner needs, and the refusal when the machine lacks it.

A run of ``batch_size`` = B samples side by side, each batch T steps long, needs at most

    network  = B x N_net                        (Brian2's arrays of the replica: groups,
                                                 synapses, payload histories)
    online   = B x S_1                          (rules 'exact', 'spatial': their buffers,
                                                 S_1 = ``engine(1).state_nbytes()``; flat in T)
    adjoint  = B x T x n x 20 x 2               (the events recorded in a batch, at most one
                                                 per neuron and step: index 4 + time 8 +
                                                 payload 8 bytes, doubled for the monitors'
                                                 growth)
             + T x n x 8 x 8                    (one sample's arrays over time: injections,
                                                 x, E, E', errors, ...; samples run one by one)

with n the number of neurons of one copy (every layer, inputs included). ``estimate``
returns the sum for a list of batches; ``check_memory`` refuses, before anything is
built or run, a run whose estimate exceeds the memory available now.
"""
import numpy as np

#: Bytes recorded per event (i: int32, t: float64, q: float64) and the monitors' slack.
EVENT_BYTES, GROWTH = 20, 2
#: Arrays over (steps x neurons) that the adjoint method holds for one sample.
SAMPLE_ARRAYS = 8


def network_nbytes(net):
    """Bytes of the Brian2 arrays (state variables, synapse indices, histories) of ``net``."""
    from brian2.core.variables import ArrayVariable
    total = 0
    for obj in net.network.objects:
        for var in getattr(obj, "variables", {}).values():
            if isinstance(var, ArrayVariable) and var.owner is not None \
                    and var.owner.name == obj.name:        # not other objects' variables
                total += np.asarray(var.get_value()).nbytes
    for layer in net.layers:
        if layer.history is not None:
            total += layer.history.buffer.nbytes
    return total


def estimate(learner, batch_size, steps):
    """Bytes a run at ``batch_size`` with batches of ``steps`` steps needs (module docstring)."""
    net = learner.net
    neurons = sum(layer.n for layer in net.layers)
    total = batch_size * network_nbytes(net)
    if learner.method.per_step_updates:
        total += batch_size * learner.engines[1].state_nbytes()
    else:
        total += batch_size * steps * neurons * EVENT_BYTES * GROWTH
        total += steps * neurons * 8 * SAMPLE_ARRAYS
    return int(total)


def available_bytes():
    """Memory available to this process now (psutil)."""
    import psutil
    return psutil.virtual_memory().available


def check_memory(learner, batch_size, steps):
    """Raise ``MemoryError`` naming ``batch_size`` and the estimate if a run needs more
    memory than is available (the network of that batch size counts only if not built)."""
    need = estimate(learner, batch_size, steps)
    if batch_size in learner.engines:
        need -= batch_size * network_nbytes(learner.net)          # already allocated
    have = available_bytes()
    if need > have:
        raise MemoryError(
            f"batch_size={batch_size}: this run needs an estimated {need / 2 ** 30:.2f} GiB "
            f"(rule {learner.rule!r}, {steps} steps per batch; see sgbrian.learning.memory), "
            f"more than the {have / 2 ** 30:.2f} GiB available; lower batch_size")
