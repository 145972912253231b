"""Bad input raises ValueError naming the parameter and the allowed range, before any run."""
import numpy as np
import pytest
from brian2 import ms, mV

import sgbrian
from sgbrian.network import analog_layer, connect, neuron_layer, spike_layer

SIGNAL = np.zeros((10, 2))


@pytest.mark.parametrize("kwargs, pattern", [
    (dict(K=0), r"K must be in \[1, 256\], got 0"),
    (dict(K=2.5), r"K must be an integer"),
    (dict(tau=0 * ms), r"tau must be > 0 ms"),
    (dict(tau=-1 * ms), r"tau must be > 0 ms"),
    (dict(tau=5), r"tau must be a time with units"),
    (dict(tau=5 * mV), r"tau must be a time with units"),
    (dict(theta=0.0), r"theta must be > 0"),
    (dict(theta=-0.1), r"theta must be > 0"),
    (dict(theta=np.nan), r"theta must be finite"),
    (dict(delay=0.15 * ms), r"delay must be a whole number of time steps"),
    (dict(max_delay=0.25 * ms, random_delays=True), r"max_delay must be a whole number"),
    (dict(delay=-1 * ms), r"delay must be >= 0 ms"),
    (dict(sizes=[3, 4, 1]), r"signal has 2 channels but sizes\[0\] = 3"),
    (dict(sizes=[2]), r"sizes must list at least 2 layers"),
    (dict(sizes=[2, 0, 1]), r"sizes\[1\] must be >= 1"),
    (dict(signal=np.full((10, 2), np.nan)), r"signal must be finite"),
    (dict(signal=np.r_[np.zeros((9, 2)), [[np.inf, 0]]]), r"signal must be finite"),
    (dict(p_connect=0.0), r"p_connect must be in \(0, 1\]"),
    (dict(record=("voltage",)), r"record must be one of"),
    (dict(hidden="tan"), r"hidden must be one of \['relu', 'linear', 'softplus'"),
    (dict(output=None), r"output must be one of"),
    (dict(sample_dt=0 * ms), r"sample_dt must be > 0 ms"),
    (dict(tau=[1, 2] * ms), r"tau must be one time or K = 8 times"),
])
def test_feedforward_rejects_bad_input(kwargs, pattern):
    args = dict(sizes=[2, 4, 1], signal=SIGNAL)
    args.update(kwargs)
    with pytest.raises(ValueError, match=pattern):
        sgbrian.feedforward(**args)


def test_connect_rejects_mismatched_shapes_and_long_delays():
    src = analog_layer(SIGNAL, 0.1 * ms, 0.1, max_delay=0.3 * ms)
    dst = neuron_layer(3, 2, 1 * ms, 0.1)
    with pytest.raises(ValueError, match=r"w must have shape \(2, 3\)"):
        connect(src, dst, np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"delay must be <= the source layer's max_delay \(3 steps\)"):
        connect(src, dst, 1.0, delay=0.5 * ms)
    with pytest.raises(ValueError, match=r"w must be finite"):
        connect(src, dst, np.full((2, 3), np.inf))
    with pytest.raises(ValueError, match=r"connectivity must have shape"):
        connect(src, dst, 1.0, connectivity=np.ones((2, 2), bool))
    with pytest.raises(ValueError, match=r"theta must have shape \(3,\)"):
        neuron_layer(3, 2, 1 * ms, [0.1, 0.2])


def test_spike_input_rejects_bad_trains():
    with pytest.raises(ValueError, match=r"indices must be integers in \[0, 1\]"):
        spike_layer(2, [0, 2], [1, 2] * ms)
    with pytest.raises(ValueError, match=r"times must have units of time"):
        spike_layer(2, [0, 1], [1, 2])
    with pytest.raises(ValueError, match=r"same length"):
        spike_layer(2, [0, 1], [1] * ms)
    with pytest.raises(ValueError, match=r"times must be finite"):
        spike_layer(2, [0], [np.nan] * ms)
    with pytest.raises(ValueError, match=r"at most one spike per channel and time step"):
        spike_layer(2, [0, 0], [1.0, 1.04] * ms)


def test_run_rejects_a_delay_changed_beyond_the_payload_history():
    net = sgbrian.feedforward([2, 3, 1], signal=SIGNAL, max_delay=0.2 * ms, random_delays=True)
    net.synapses[0].delay = 0.5 * ms
    with pytest.raises(ValueError, match=r"syn0to1.delay must be <= 2 steps"):
        net.run(1 * ms)
    with pytest.raises(ValueError, match=r"duration must be > 0 ms"):
        net.run(0 * ms)


def test_the_learner_checks_its_inputs_before_running():
    """clip_norm, the loss object, targets of the wrong width, labels out of range,
    and a time constant made negative through the namespace between runs."""
    from sgbrian.datasets import Sample
    from sgbrian.learning import OnlineLearner
    from sgbrian.losses import CrossEntropyLoss, MSELoss
    net = sgbrian.feedforward([2, 3, 2], signal=SIGNAL)
    for bad in (-1, 0, np.nan):
        with pytest.raises(ValueError, match="clip_norm must be None or a finite number > 0"):
            OnlineLearner(net, MSELoss(), clip_norm=bad)
    for loss in ("mse", None):
        with pytest.raises(ValueError, match="loss must be a loss object"):
            OnlineLearner(net, loss)
    learner = OnlineLearner(net, MSELoss())
    wide = Sample(SIGNAL, np.zeros((10, 3)), 10)
    with pytest.raises(ValueError, match=r"samples\[0\].target must have shape \(n_steps, 2\)"):
        learner.fit([wide], 1, progress=False)
    learner.detach()
    spikes = ([0, 1], [1, 2] * ms)
    spiking = sgbrian.feedforward([2, 3, 2], spikes=spikes)
    learner = OnlineLearner(spiking, CrossEntropyLoss())
    with pytest.raises(ValueError, match=r"samples\[1\].target must be a class label in \[0, 1\]"):
        learner.evaluate([Sample(spikes, 1, 10), Sample(spikes, 2, 10)])
    spiking.layers[1].group.namespace["tau_gamma"] = -5 * ms
    with pytest.raises(ValueError, match=r"tau_gamma of layer 1 .* must be finite times > 0 ms"):
        learner.evaluate([Sample(spikes, 1, 10)])
    learner.detach()
    with pytest.raises(ValueError, match=r"tau_gamma of layer 1"):
        spiking.run(1 * ms)


def test_malformed_shd_files_are_named(tmp_path):
    h5py = pytest.importorskip("h5py")
    from sgbrian.datasets import load_shd, write_shd
    not_hdf5 = tmp_path / "x.h5"
    not_hdf5.write_text("hello")
    with pytest.raises(ValueError, match="x.h5 is not a readable HDF5 file"):
        load_shd(str(not_hdf5), 1 * ms, 10 * ms)
    with h5py.File(tmp_path / "empty.h5", "w") as f:
        f["labels"] = np.zeros(2)
    with pytest.raises(ValueError, match=r"empty.h5 lacks \['spikes/times', 'spikes/units'\]"):
        load_shd(str(tmp_path / "empty.h5"), 1 * ms, 10 * ms)
    write_shd(str(tmp_path / "nan.h5"), [[0.001, np.nan]], [[0, 1]], [0])
    with pytest.raises(ValueError, match="nan.h5: sample 0 has spike times that are NaN"):
        load_shd(str(tmp_path / "nan.h5"), 1 * ms, 10 * ms)
