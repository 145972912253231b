"""The paper's event datasets as tasks: SHD, SSC and DVS Gesture, from the datasets' own
files or from seeded stand-ins of the same layout, and the networks that learn them.

- ``shd_task`` (20 classes) and ``ssc_task`` (35 classes): 700 audio channels in the
  HDF5 layout both datasets share (``spikes/times``, ``spikes/units``, ``labels``), read by
  :func:`~sgbrian.datasets.load_shd`; without files, :func:`~sgbrian.datasets.synthetic_shd`
  writes a set of that layout whose classes differ in spike timing only.
- ``dvs_gesture_task`` (11 classes): DVS Gesture's recordings through tonic's
  ``DVSGesture`` class, downsampled by tonic (128 x 128 -> ``sensor`` x ``sensor``, two
  polarities: ``2 sensor^2`` channels, ``x + W (y + H p)``), the first ``duration`` of
  each recording; without files, :func:`~sgbrian.standins.synthetic_dvs_gesture` (moving
  edges, one direction per class, the same event counts in every class).

Each returns a :class:`~sgbrian.samples.TaskData` on the given ``dt``. The networks:
``shd_network`` (one hidden layer of 256), ``ssc_network`` and ``dvs_gesture_network``
(two hidden layers of 256 by default; ``hidden`` takes one to three sizes, i.e. networks
of up to four layers of connections counting the readout's).
"""
import os
import tempfile

from brian2 import defaultclock, ms, second

from .builder import feedforward
from .datasets import load_shd, synthetic_shd
from .events import channel_count, tonic_samples
from .samples import TaskData
from .specs import NeuronSpec
from .standins import synthetic_dvs_gesture
from .validation import check_int

#: Classes of the datasets.
CLASSES = {"shd": 20, "ssc": 35, "dvs_gesture": 11}
#: The test set's samples are drawn with the seed ``seed + TEST_SEED_OFFSET``.
TEST_SEED_OFFSET = 10 ** 6


def _audio_task(name, n_train, n_test, duration, dt, seed, train_path, test_path, folder):
    """SHD's and SSC's shared reader: the files, or a synthetic pair of that layout."""
    if (train_path is None) != (test_path is None):
        raise ValueError(f"give both train_path and test_path (real {name.upper()}), or neither "
                         "(synthetic)")
    classes = CLASSES[name]
    if train_path is None:
        folder = folder or tempfile.mkdtemp(prefix=f"sgbrian_{name}_")
        os.makedirs(folder, exist_ok=True)
        train_path = synthetic_shd(os.path.join(folder, f"synthetic_{name}_train.h5"), n_train,
                                   classes=classes, duration=duration, seed=seed)
        test_path = synthetic_shd(os.path.join(folder, f"synthetic_{name}_test.h5"), n_test,
                                  classes=classes, duration=duration, seed=seed + TEST_SEED_OFFSET,
                                  template_seed=seed)
    train = load_shd(train_path, dt, duration, max_samples=n_train)
    test = load_shd(test_path, dt, duration, max_samples=n_test)
    source = "synthetic" if "synthetic" in os.path.basename(str(train_path)) else train_path
    return TaskData(name, train, test, dt, 700, classes, "cross_entropy",
                    f"{name.upper()} layout: 700 channels, {classes} classes, {duration} per "
                    f"sample ({source})")


def shd_task(n_train=256, n_test=64, duration=1 * second, dt=None, seed=0, train_path=None,
             test_path=None, folder=None):
    """SHD (700 channels, 20 classes) from the dataset's files, or a synthetic set of that
    layout written into ``folder`` by :func:`~sgbrian.datasets.synthetic_shd` and read back
    by :func:`~sgbrian.datasets.load_shd`.

    Parameters
    ----------
    n_train, n_test : int
        Samples (the first ones of the files).
    duration : Quantity
        Length of a sample.
    dt : Quantity, optional
        Time step (default: the clock's).
    seed : int
        Same seed, same samples.
    train_path, test_path : str, optional
        ``shd_train.h5`` and ``shd_test.h5``.
    folder : str, optional
        Where the synthetic files go (default: a temporary folder).

    Returns
    -------
    TaskData
        Train and test samples on ``dt``.
    """
    return _audio_task("shd", n_train, n_test, duration, dt or defaultclock.dt, seed,
                       train_path, test_path, folder)


def ssc_task(n_train=256, n_test=64, duration=1 * second, dt=None, seed=0, train_path=None,
             test_path=None, folder=None):
    """SSC, the Spiking Speech Commands (700 channels, 35 classes, SHD's HDF5 layout), from
    the dataset's files, or a synthetic set of that layout (as :func:`shd_task`).

    Parameters
    ----------
    n_train, n_test : int
        Samples (the first ones of the files).
    duration : Quantity
        Length of a sample.
    dt : Quantity, optional
        Time step (default: the clock's).
    seed : int
        Same seed, same samples.
    train_path, test_path : str, optional
        ``ssc_train.h5`` and ``ssc_test.h5`` (or ``ssc_valid.h5``).
    folder : str, optional
        Where the synthetic files go (default: a temporary folder).

    Returns
    -------
    TaskData
        Train and test samples on ``dt``.
    """
    return _audio_task("ssc", n_train, n_test, duration, dt or defaultclock.dt, seed,
                       train_path, test_path, folder)


def dvs_gesture_task(n_train=264, n_test=66, duration=1500 * ms, dt=None, seed=0, root=None,
                     sensor=32):
    """DVS Gesture (11 classes) on a ``sensor`` x ``sensor`` x 2 grid: tonic's
    ``DVSGesture`` read from ``root`` (no download: the files must be there) and
    downsampled by tonic's ``Downsample``, or, without ``root``, the moving-edge stand-in
    of that layout.

    Parameters
    ----------
    n_train, n_test : int
        Samples (the first ones of each split).
    duration : Quantity
        The window taken from the start of each recording (DVS Gesture's last about 6 s).
    dt : Quantity, optional
        Time step (default: the clock's).
    seed : int
        Seed of the stand-in (the test set uses ``seed + 10**6``).
    root : str, optional
        The folder that holds tonic's ``DVSGesture`` folder (``ibmGestureTrain``,
        ``ibmGestureTest``). Needs the ``datasets`` extra.
    sensor : int
        Side of the downsampled sensor, 1 to 128 (default 32: 2,048 inputs).

    Returns
    -------
    TaskData
        Train and test samples on ``dt``, ``2 sensor^2`` channels.

    Raises
    ------
    ValueError
        ``sensor`` outside 1..128, or what the adapter refuses.
    """
    dt = dt or defaultclock.dt
    sensor = check_int("sensor", sensor, 1, 128)
    size = (sensor, sensor, 2)
    if root is None:
        train = synthetic_dvs_gesture(n_train, size, CLASSES["dvs_gesture"], duration, seed=seed)
        test = synthetic_dvs_gesture(n_test, size, CLASSES["dvs_gesture"], duration,
                                     seed=seed + TEST_SEED_OFFSET)
        source = "moving-edge stand-in"
    else:
        import tonic
        downsample = tonic.transforms.Downsample(spatial_factor=sensor / 128)
        train, test = (tonic.datasets.DVSGesture(str(root), train=split, transform=downsample)
                       for split in (True, False))
        source = str(root)
    samples = [tonic_samples(split, dt, duration, size, max_samples=n)
               for split, n in ((train, n_train), (test, n_test))]
    return TaskData("dvs_gesture", *samples, dt, channel_count(size), CLASSES["dvs_gesture"],
                    "cross_entropy", f"DVS Gesture layout: {sensor} x {sensor} x 2 = "
                    f"{channel_count(size)} channels, 11 classes, {duration} windows ({source})")


def shd_network(task, hidden=256, K=8, tau=10 * ms, max_delay=25 * ms, theta=0.1, seed=0):
    """700 -> hidden (relu) -> 20: per-synapse delays of the inputs drawn in [0, max_delay]
    (learnable); the readout's synapses have none (its K buckets of ``tau`` already give
    it smoothed delays over K tau = 80 ms), which halves the Brian2 run's time: each of a
    hidden neuron's events is then delivered in the step it is sent. ``theta`` 0.1: on
    640 synthetic samples (6 epochs, rule 'adjoint') it reached the same test accuracy
    as 0.05 (0.975) with 51 instead of 84 events per neuron per second.

    Parameters
    ----------
    task : TaskData
        An SHD task.
    hidden : int
        Hidden neurons.
    K : int
        Buckets.
    tau : Quantity
        Bucket time constant.
    max_delay : Quantity
        Longest input delay.
    theta : float
        Threshold of the encoders.
    seed : int
        Seed of the weights and delays.

    Returns
    -------
    SGNetwork
        The network (input: the first training sample).
    """
    return deep_network(task, (hidden,), K, tau, max_delay, theta, seed)


def deep_network(task, hidden=(256, 256), K=8, tau=10 * ms, max_delay=25 * ms, theta=0.1,
                 seed=0, weight_scale=2.0):
    """``n_inputs -> hidden[0] -> ... -> n_outputs`` (relu hidden layers, linear readout),
    one to three hidden layers: per-synapse delays of the inputs drawn in [0, max_delay]
    (learnable), none on the deeper connections (the buckets of ``tau`` smooth over K tau);
    weights ``N(0, weight_scale^2 / fan_in)`` from ``default_rng(seed)``.

    Parameters
    ----------
    task : TaskData
        A task with spike inputs.
    hidden : sequence of int
        Hidden layer sizes, one to three.
    K : int
        Buckets.
    tau : Quantity
        Bucket time constant.
    max_delay : Quantity
        Longest input delay.
    theta : float
        Threshold of the encoders.
    seed : int
        Seed of the weights and delays.
    weight_scale : float
        Spread of the weights times the square root of the fan-in.

    Returns
    -------
    SGNetwork
        The network (input: the first training sample).

    Raises
    ------
    ValueError
        No hidden layer or more than three.
    """
    hidden = [check_int("hidden size", n, 1) for n in hidden]
    if not 1 <= len(hidden) <= 3:
        raise ValueError(f"hidden must list 1 to 3 layer sizes (up to four layers of "
                         f"connections), got {len(hidden)}")
    return feedforward([task.n_inputs, *hidden, task.n_outputs],
                       neuron=NeuronSpec(K=K, tau=tau, theta=theta), spikes=task.train[0].input,
                       max_delay=[max_delay] + [0 * ms] * len(hidden), random_delays=True,
                       weight_scale=weight_scale, seed=seed)


def ssc_network(task, hidden=(256, 256), K=8, tau=10 * ms, max_delay=25 * ms, theta=0.1, seed=0,
                weight_scale=2.0):
    """700 -> 256 -> 256 -> 35 (:func:`deep_network`, SHD's settings with a second hidden
    layer).

    Parameters
    ----------
    task : TaskData
        An SSC task.
    hidden : sequence of int
        Hidden layer sizes, one to three.
    K : int
        Buckets.
    tau : Quantity
        Bucket time constant.
    max_delay : Quantity
        Longest input delay.
    theta : float
        Threshold of the encoders.
    seed : int
        Seed of the weights and delays.
    weight_scale : float
        Spread of the weights times the square root of the fan-in.

    Returns
    -------
    SGNetwork
        The network.
    """
    return deep_network(task, hidden, K, tau, max_delay, theta, seed, weight_scale)


def dvs_gesture_network(task, hidden=(256, 256), K=8, tau=20 * ms, max_delay=25 * ms,
                        theta=0.1, seed=0, weight_scale=2.0):
    """2,048 -> 256 -> 256 -> 11 (:func:`deep_network`; buckets of 20 ms: an edge takes
    ``duration / 2`` = 750 ms to cross the sensor, and the readout's K tau = 160 ms spans
    a fifth of that).

    Parameters
    ----------
    task : TaskData
        A DVS Gesture task.
    hidden : sequence of int
        Hidden layer sizes, one to three.
    K : int
        Buckets.
    tau : Quantity
        Bucket time constant.
    max_delay : Quantity
        Longest input delay.
    theta : float
        Threshold of the encoders.
    seed : int
        Seed of the weights and delays.
    weight_scale : float
        Spread of the weights times the square root of the fan-in.

    Returns
    -------
    SGNetwork
        The network.
    """
    return deep_network(task, hidden, K, tau, max_delay, theta, seed, weight_scale)
