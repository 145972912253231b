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
    (dict(record=("voltage",)),
     r"record must be one of \['buckets', 'signals', 'spikes'\], got 'voltage'"),
    (dict(spikes=([0], [1] * ms)), r"^give exactly one input: signal=\(samples x channels\) "
                                   r"or spikes=\(indices, times\)$"),
    (dict(max_delay=[1 * ms] * 3), r"^max_delay must be one time or 2 times \(one per "
                                   r"connection\), got 3$"),
    (dict(seed=-1), r"^seed must be >= 0, got -1$"),
    (dict(p_connect=1.5), r"^p_connect must be in \(0, 1\], got 1.5$"),
    (dict(signal=np.zeros(10)), r"^signal has 1 channels but sizes\[0\] = 2$"),
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
    with pytest.raises(ValueError, match=r"at most one spike per channel and time step"):
        spike_layer(3, [2, 0, 1, 2], [5, 1, 5, 5] * ms)       # the pair (2, 5 ms) apart
    spike_layer(3, [0, 1, 0, 2, 1], [1, 1, 2, 0, 0] * ms)     # same step or same channel: fine


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
    with pytest.raises(ValueError, match=r"^train must hold at least one sample$"):
        learner.fit([], 1, progress=False)
    for epochs in (0, 1.5):
        with pytest.raises(ValueError, match=rf"^epochs must be an int >= 1, got {epochs!r}$"):
            learner.fit([Sample(SIGNAL, np.zeros((10, 2)), 10)], epochs, progress=False)
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


def test_delay_steps_counts_whole_steps_to_a_relative_tolerance_of_1e_9():
    """delay_steps: round(delay / dt) as int, refused when |ratio - round| > 1e-9 max(1, ratio)."""
    from sgbrian.validation import delay_steps
    dt = 0.1 * ms
    steps = delay_steps("delay", np.array([0.0, 0.1, 2.5]) * ms, dt)
    assert steps.dtype.kind == "i" and steps.tolist() == [0, 1, 25]
    # 1e5 steps off by 1e-6 step: within 1e-9 of the ratio (1e-4), so accepted
    assert delay_steps("delay", (1e5 + 1e-6) * dt, dt) == 100000
    # 1 step off by 1.5e-9 step: past 1e-9 * max(1, 1)
    with pytest.raises(ValueError, match=r"^delay must be a whole number of time steps"):
        delay_steps("delay", (1 + 1.5e-9) * dt, dt)
    with pytest.raises(ValueError, match=r"^axon_delay must be >= 0"):
        delay_steps("axon_delay", -1 * ms, dt)


def test_check_finite_returns_floats_and_names_the_parameter_of_a_bad_value():
    """check_finite: a float array; times, text, NaN and inf refused with the name."""
    from brian2 import Quantity
    from sgbrian.validation import check_finite
    out = check_finite("gain", [1, 2])
    assert out.dtype == np.float64 and out.tolist() == [1.0, 2.0]
    assert check_finite("gain", Quantity(2.0)).tolist() == 2.0
    with pytest.raises(ValueError, match=r"^gain must be dimensionless, got 2\. \* msecond$"):
        check_finite("gain", 2 * ms)
    with pytest.raises(ValueError, match=r"^gain must be numeric, got \['a'\]$"):
        check_finite("gain", ["a"])
    with pytest.raises(ValueError, match=r"^gain must be finite .*1 bad entries, first at flat "
                                         r"index 1$"):
        check_finite("gain", [0.0, np.nan])


def test_neuron_layer_names_each_bad_argument_and_sets_its_defaults():
    """neuron_layer: each refused argument named in the message's first words; a
    namespace entry may redefine neither a cascade constant nor a reserved name; the
    defaults: group name layer<index>, bucket weights 1/(K+1) each."""
    tau = 1 * ms
    cases = [(dict(n=0), r"^n \(layer size\) must be >= 1, got 0$"),
             (dict(index=0), r"^index \(layer position\) must be >= 1, got 0$"),
             (dict(theta=-1.0), r"^theta must be > 0"),
             (dict(bias=[0.0, 1.0, 2.0]), r"^bias must have shape \(2,\)"),
             (dict(bias=[np.nan, 0.0]), r"^bias must be finite"),
             (dict(v=[1.0, 2.0]), r"^v must have shape \(3,\)"),
             (dict(v=np.ones((3, 3))), r"^v must have shape \(2, 3\)"),
             (dict(v=[np.inf, 0.0, 0.0]), r"^v must be finite"),
             (dict(namespace={"xi": 1.0}), r"^namespace may not redefine the package's names \['xi'\]"),
             (dict(namespace={"tau_gamma": tau}),
              r"^namespace may not redefine the package's names \['tau_gamma'\]"),
             (dict(max_delay=-1 * ms), r"^max_delay must be >= 0 ms"),
             (dict(max_delay=0.15 * ms), r"^max_delay must be a whole number of time steps"),
             (dict(schedule="fast"), r"^schedule must be one of \['exact', 'genn'\], got 'fast'$")]
    for change, message in cases:
        arguments = {**dict(n=2, K=2, tau=tau, theta=0.1), **change}
        with pytest.raises(ValueError, match=message):
            neuron_layer(**arguments)
    layer = neuron_layer(2, 2, tau, 0.1, index=3)
    assert layer.group.name.startswith("layer3")
    for k in range(3):
        np.testing.assert_array_equal(getattr(layer.group, f"v_{k}")[:], [1 / 3, 1 / 3])
    first = neuron_layer(2, 2, tau, 0.1)                        # index 1, bias 0
    assert first.index == 1 and first.group.name.startswith("layer1")
    np.testing.assert_array_equal(first.group.b[:], [0.0, 0.0])
    # slots: order 10 * index + position of the stage in the schedule's sequence
    for schedule, encoder_slot, threshold_slot in (("exact", 32, 33), ("genn", 30, 31)):
        placed = neuron_layer(2, 2, tau, 0.1, index=3, max_delay=0.2 * ms, schedule=schedule)
        assert placed.encoder.order == encoder_slot
        assert placed.group.thresholder["spike"].order == threshold_slot


def test_connect_names_each_bad_argument_and_keeps_a_given_name():
    """connect: a target that is not a neuron layer or not further on, a delay of the
    wrong shape, not a whole number of steps or an array with homogeneous_delay; a
    single-synapse homogeneous connection and the synapses' name."""
    tau = 1 * ms
    source = neuron_layer(2, 2, tau, 0.1, index=1, max_delay=0.3 * ms, name="src")
    target = neuron_layer(1, 2, tau, 0.1, index=2, name="tgt")
    same = neuron_layer(1, 2, tau, 0.1, index=1, name="same")
    inputs = spike_layer(1, [0], [1] * ms)
    with pytest.raises(ValueError, match=r"^target must be a neuron layer, got a spikes layer$"):
        connect(source, inputs, 1.0)
    with pytest.raises(ValueError, match=r"^target\.index \(1\) must be > source\.index \(1\): "
                                         r"the builder is feedforward$"):
        connect(source, same, 1.0)
    with pytest.raises(ValueError, match=r"^delay must have shape \(2, 1\)"):
        connect(source, target, 1.0, delay=[0.1, 0.2, 0.3] * ms)
    with pytest.raises(ValueError, match=r"^delay must be a whole number of time steps"):
        connect(source, target, 1.0, delay=0.15 * ms)
    with pytest.raises(ValueError, match=r"^delay must be a single time when "
                                         r"homogeneous_delay=True$"):
        connect(source, target, 1.0, delay=[[0.1], [0.2]] * ms, homogeneous_delay=True)
    one = connect(inputs, target, 0.5, delay=0.2 * ms, homogeneous_delay=True, name="one")
    assert one.name == "one" and len(one) == 1 and float(one.delay[:] / ms) == pytest.approx(0.2)
