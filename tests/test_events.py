"""The event adapter (``sgbrian.events``) against hand-built event arrays (channel order,
polarity, merging, the duration cut, refusals), and through tonic's own dataset classes
on tiny files written here in each dataset's on-disk layout (no download; skipped with a
message without the ``datasets`` extra)."""
import os

import numpy as np
import pytest
from brian2 import ms

from sgbrian.datasets import load_shd, write_shd
from sgbrian.events import channel_count, event_channels, event_sample, tonic_samples

CAMERA = [("x", np.int16), ("y", np.int16), ("p", bool), ("t", np.int64)]
AUDIO = [("t", np.int64), ("x", np.int64), ("p", np.int64)]
NO_TONIC = "tonic is in the datasets extra: pip install -e '.[datasets]'"


def camera_events(rows):
    return np.array([tuple(r) for r in rows], dtype=CAMERA)


def spikes(sample):
    indices, times = sample.input
    return list(zip(np.asarray(indices).tolist(), np.rint(np.asarray(times / ms)).astype(int).tolist()))


def test_camera_channels_are_x_then_rows_then_polarities():
    """c = x + W (y + H p) on a 4 x 3 x 2 sensor, by hand; 'ignore' drops p."""
    ev = camera_events([(0, 0, 0, 0), (3, 0, 0, 0), (0, 1, 0, 0), (3, 2, 0, 0), (0, 0, 1, 0),
                        (3, 2, 1, 0)])
    assert event_channels(ev, (4, 3, 2)).tolist() == [0, 3, 4, 11, 12, 23]
    assert event_channels(ev, (4, 3, 2), "ignore").tolist() == [0, 3, 4, 11, 0, 11]
    assert channel_count((4, 3, 2)) == 24 and channel_count((4, 3, 2), "ignore") == 12


def test_a_sample_bins_merges_and_cuts_events_on_the_grid():
    """Steps floor(t / dt) (t in us); two events of a channel in one step make one spike,
    in two steps two; events at or after the duration are dropped; the spikes sit at
    their steps' starts, sorted by channel then step; ON and OFF events of a pixel are
    different channels unless polarity is ignored."""
    ev = camera_events([(1, 0, 1, 2500), (1, 0, 1, 2900), (1, 0, 1, 3100), (0, 0, 0, 999),
                        (2, 1, 0, 9999), (2, 1, 0, 10000), (1, 0, 0, 2600)])
    sample = event_sample(ev, 4, (3, 2, 2), 1 * ms, 10 * ms)
    assert sample.target == 4 and sample.n_steps == 10
    # channels: (1,0,ON) = 1 + 3*(0 + 2*1) = 7; (0,0,OFF) = 0; (2,1,OFF) = 5; (1,0,OFF) = 1
    assert spikes(sample) == [(0, 0), (1, 2), (5, 9), (7, 2), (7, 3)]
    merged = event_sample(ev, 4, (3, 2, 2), 1 * ms, 10 * ms, polarity="ignore")
    assert spikes(merged) == [(0, 0), (1, 2), (1, 3), (5, 9)]
    coarse = event_sample(ev, 4, (3, 2, 2), 5 * ms, 15 * ms)
    assert spikes(coarse) == [(0, 0), (1, 0), (5, 5), (5, 10), (7, 0)]
    in_ms = event_sample(np.array([(1, 0, 1, 3)], dtype=CAMERA), 0, (3, 2, 2), 1 * ms, 10 * ms,
                         time_unit=1 * ms)
    assert spikes(in_ms) == [(7, 3)]


def test_audio_events_are_channel_x_and_a_single_polarity_is_not_read():
    """tonic's SHD events (t, x, p) with p = 1 on a (700, 1, 1) sensor: channel x."""
    ev = np.array([(1500, 699, 1), (200, 3, 1), (1999, 3, 1)], dtype=AUDIO)
    assert spikes(event_sample(ev, 7, (700, 1, 1), 1 * ms, 3 * ms)) == [(3, 0), (3, 1), (699, 1)]


def test_bad_events_and_choices_are_refused_by_name():
    ev = camera_events([(1, 0, 1, 10)])
    with pytest.raises(ValueError, match=r"x must lie in \[0, 0\]"):
        event_channels(ev, (1, 2, 2))
    three_polarities = np.array([(0, 0, 2, 0)], dtype=[("x", int), ("y", int), ("p", int),
                                                       ("t", int)])
    with pytest.raises(ValueError, match=r"p must lie in \[0, 1\]"):
        event_channels(three_polarities, (2, 2, 2))
    with pytest.raises(ValueError, match="lack the field 'y'"):
        event_channels(np.array([(0, 0)], dtype=[("x", int), ("t", int)]), (2, 2, 1))
    with pytest.raises(ValueError, match="payloads other than 1"):
        event_sample(ev, 0, (2, 1, 2), 1 * ms, 5 * ms, polarity="signed")
    with pytest.raises(ValueError, match="payloads other than 1"):
        event_sample(ev, 0, (2, 1, 2), 1 * ms, 5 * ms, merge="count")
    with pytest.raises(ValueError, match="polarity must be one of"):
        event_sample(ev, 0, (2, 1, 2), 1 * ms, 5 * ms, polarity="both")
    with pytest.raises(ValueError, match="t must be finite and >= 0"):
        event_sample(camera_events([(0, 0, 0, -1)]), 0, (2, 1, 2), 1 * ms, 5 * ms)
    with pytest.raises(ValueError, match="sensor_size must be"):
        tonic_samples([(ev, 0)], 1 * ms, 5 * ms)


def test_tonic_samples_take_the_datasets_sensor_and_order():
    class Stub(list):
        sensor_size = (3, 2, 2)
    data = Stub([(camera_events([(2, 1, 1, 1000)]), 3), (camera_events([(0, 0, 0, 0)]), 1)])
    got = tonic_samples(data, 1 * ms, 4 * ms)
    assert [(s.target, spikes(s)) for s in got] == [(3, [(11, 1)]), (1, [(0, 0)])]
    assert len(tonic_samples(data, 1 * ms, 4 * ms, max_samples=1)) == 1
    assert spikes(tonic_samples(data, 1 * ms, 4 * ms, sensor_size=(3, 2, 1))[0]) == [(5, 1)]


def write_shd_for_tonic(folder, name, times, units, labels):
    """An SHD file where tonic's SHD class looks for it (its zip present, unread)."""
    os.makedirs(folder, exist_ok=True)
    write_shd(os.path.join(folder, name), times, units, labels,
              extra={"keys": np.array([b"zero", b"one"]), "speaker": np.zeros(len(labels), int)})
    open(os.path.join(folder, name + ".zip"), "wb").close()


def test_tonics_shd_class_and_the_own_reader_give_the_same_samples(tmp_path):
    tonic = pytest.importorskip("tonic", reason=NO_TONIC)
    rng = np.random.default_rng(2)
    times = [np.sort(rng.uniform(0, 0.06, 40)) for _ in range(3)]
    units = [rng.integers(0, 700, 40) for _ in range(3)]
    labels = np.array([1, 0, 1])
    write_shd_for_tonic(tmp_path / "SHD", "shd_train.h5", times, units, labels)
    dataset = tonic.datasets.SHD(str(tmp_path), train=True)
    via_tonic = tonic_samples(dataset, 1 * ms, 50 * ms)
    own = load_shd(str(tmp_path / "SHD" / "shd_train.h5"), 1 * ms, 50 * ms)
    assert [s.target for s in via_tonic] == [s.target for s in own] == [1, 0, 1]
    for a, b in zip(via_tonic, own):
        assert spikes(a) == spikes(b) and a.n_steps == b.n_steps == 50
        assert len(spikes(a)) > 20


def write_dvs_gesture(path, split, rng, users=10, labels=10, events=6):
    """Tiny recordings where tonic's DVSGesture class looks for them (per user and
    lighting, ``<label>.npy`` rows of x, y, p, t in ms; its archive present, unread).
    Returns the rows by ``(user, label)``."""
    root = path / "DVSGesture"
    recordings = {}
    for user in range(users):
        folder = root / split / f"user{user + 1:02d}_fluorescent"
        os.makedirs(folder)
        for label in range(labels):
            rows = np.stack([rng.integers(0, 128, events), rng.integers(0, 128, events),
                             rng.integers(0, 2, events), np.sort(rng.integers(0, 30, events))],
                            axis=1)
            np.save(folder / f"{label}.npy", rows)
            recordings[(user + 1, label)] = rows
    open(root / f"{split}.tar.gz", "wb").close()
    return recordings


def test_dvs_gesture_through_tonic_with_its_downsample(tmp_path):
    """Tonic's DVSGesture class reads 100 tiny recordings in its on-disk layout (per
    user and lighting, ``<label>.npy`` rows of x, y, p, t in ms); with tonic's
    ``Downsample`` to 32 x 32 the channels are ``x//4 + 32 (y//4 + 32 p)``, by hand."""
    tonic = pytest.importorskip("tonic", reason=NO_TONIC)
    recordings = write_dvs_gesture(tmp_path, "ibmGestureTrain", np.random.default_rng(0))
    downsample = tonic.transforms.Downsample(spatial_factor=0.25)
    dataset = tonic.datasets.DVSGesture(str(tmp_path), train=True, transform=downsample)
    got = tonic_samples(dataset, 1 * ms, 20 * ms, sensor_size=(32, 32, 2), max_samples=12)
    assert len(got) == 12
    for k, sample in enumerate(got):
        rows = recordings[(dataset.users[k], dataset.targets[k])]
        x, y, p, t = rows.T // np.array([[4], [4], [1], [1]])
        keep = t < 20
        expected = sorted(set(zip((x + 32 * (y + 32 * p))[keep].tolist(), t[keep].tolist())))
        assert sample.target == dataset.targets[k] and spikes(sample) == expected
