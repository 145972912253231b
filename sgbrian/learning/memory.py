"""How much memory a run of the learner needs, and the refusal when the machine lacks it.

A run of ``batch_size`` = B samples side by side, each batch T steps long, needs at most::

    network  = B x N_net                        (Brian2's arrays of the replica: groups,
                                                 synapses, payload histories)
    online   = B x S_1                          (rules 'exact', 'spatial': their buffers,
                                                 S_1 = ``engine(1).state_nbytes()``; flat in T)
    adjoint  = (B x T x n + s) x 20 x 2         (the events recorded in a batch: at most one
                                                 per neuron and step of every neuron layer and
                                                 analog input, n of them in one copy, and the
                                                 s raw input spikes of the batch with the most;
                                                 index 4 + time 8 + payload 8 bytes, doubled
                                                 for the monitors' growth)
             + T x m x 8 x 8                    (one sample's arrays over time: injections,
                                                 x, E, E', errors, ...; samples run one by
                                                 one; m the neurons of one copy, inputs too)

``estimate`` returns the sum for a run of given samples; ``check_memory`` refuses, before
anything is built or run, a run whose estimate exceeds the memory available now. The
events' term is a bound, not a guess: on SHD (dt 0.1 ms, batch 32) the estimate is
4.2 GiB (133 MiB a sample), where the run's events and arrays take 0.15 GiB (4.6 MiB a
sample) beside the network's 0.18 GiB (docs/learning.md).
"""
import numpy as np

#: Bytes recorded per event (i: int32, t: float64, q: float64) and the monitors' slack.
EVENT_BYTES, GROWTH = 20, 2
#: Arrays over (steps x neurons) that the adjoint method holds for one sample.
SAMPLE_ARRAYS = 8


def network_nbytes(net):
    """Bytes of the Brian2 arrays (state variables, synapse indices, histories) of a network.

    Parameters
    ----------
    net : SGNetwork
        The network.

    Returns
    -------
    int
        Bytes.
    """
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


def estimate(learner, samples, batch_size):
    """Bytes a run needs (module docstring).

    Parameters
    ----------
    learner : OnlineLearner
        The learner.
    samples : list of Sample
        The samples of the run.
    batch_size : int
        Samples side by side.

    Returns
    -------
    int
        Bytes.
    """
    net = learner.net
    steps = max(s.n_steps for s in samples) + learner.engines[1].gap()
    total = batch_size * network_nbytes(net)
    if learner.method.per_step_updates:
        return int(total + batch_size * learner.engines[1].state_nbytes())
    recorded = sum(layer.n for layer in net.layers if layer.kind != "spikes")
    spikes = 0
    if net.layers[0].kind == "spikes":
        counts = [len(s.input[0]) for s in samples]
        spikes = max(sum(counts[i:i + batch_size]) for i in range(0, len(counts), batch_size))
    total += (batch_size * steps * recorded + spikes) * EVENT_BYTES * GROWTH
    total += steps * sum(layer.n for layer in net.layers) * 8 * SAMPLE_ARRAYS
    return int(total)


def available_bytes():
    """Memory available to this process now (psutil).

    Returns
    -------
    int
        Bytes.
    """
    import psutil
    return psutil.virtual_memory().available


def check_memory(learner, samples, batch_size):
    """Refuse a run that needs more memory than is available (the network of that batch
    size counts only if it is not built yet).

    Parameters
    ----------
    learner : OnlineLearner
        The learner.
    samples : list of Sample
        The samples of the run.
    batch_size : int
        Samples side by side.

    Raises
    ------
    MemoryError
        Naming ``batch_size`` and the estimate.
    """
    steps = max(s.n_steps for s in samples) + learner.engines[1].gap()
    need = estimate(learner, samples, batch_size)
    if batch_size in learner.engines:
        need -= batch_size * network_nbytes(learner.net)          # already allocated
    have = available_bytes()
    if need > have:
        raise MemoryError(
            f"batch_size={batch_size}: this run needs an estimated {need / 2 ** 30:.2f} GiB "
            f"(rule {learner.rule!r}, {steps} steps per batch; see sgbrian.learning.memory), "
            f"more than the {have / 2 ** 30:.2f} GiB available; lower batch_size")
