"""Spiking Heidelberg Digits: 700 channels -> 256 (relu) -> 20 classes.

K = 8, tau = 10 ms, per-synapse input delays learnable up to 25 ms, rule 'adjoint' (exact
gradients computed backwards from the recorded events once per batch), batches of 32
side by side, cross-entropy from 100 ms on, Adam with a cosine schedule. With the
dataset's HDF5 files

    python models/shd.py --train shd_train.h5 --test shd_test.h5 [--epochs 6]

it trains on them; without, on a synthetic set of SHD's size and layout (8,156 training
and 2,264 test samples; class information only in spike timing). ``--bptt`` also
trains the snnTorch LIF network (BPTT, the ``baselines`` extra) on the same samples for
the same epochs; ``--workers 2`` sums each batch's gradients on two Dask workers.
Progress per tenth of an epoch, the test accuracy after every epoch, a checkpoint after
every epoch (rerun the same command to resume), the curves in output/shd_history.json
and a figure (figures/out/model_shd.png and .pdf).
"""
import os

from sgbrian.dataset_runs import dataset_arguments, plot_curves, train_dataset

parser = dataset_arguments(__doc__, samples=8156, test_samples=2264, epochs=6, data_options={
    "--train": "shd_train.h5 (default: synthetic)", "--test": "shd_test.h5 (default: synthetic)"})
args = parser.parse_args()
curves, task = train_dataset("shd", args, dict(train_path=args.train, test_path=args.test))

plot_curves(curves, chance=1 / 20,
            title=f"SHD ({'files' if args.train else 'synthetic'}, {len(task.train):,} samples)",
            stem=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "figures", "out",
                              "model_shd"))
