"""Spiking Speech Commands: 700 channels -> 256 -> 256 (relu) -> 35 classes.

SHD's settings with a second hidden layer: K = 8, tau = 10 ms, per-synapse input delays
learnable up to 25 ms, rule 'adjoint' (exact gradients at any depth, computed backwards
from the recorded events once per batch), batches of 32, cross-entropy from 100 ms on,
Adam with a cosine schedule. With the dataset's HDF5 files (SHD's layout)

    python models/ssc.py --train ssc_train.h5 --test ssc_test.h5 [--epochs 2]

it trains on them; without, on a synthetic set of SSC's layout (35 classes, class
information only in spike timing; ``--samples`` and ``--test-samples`` choose its size,
SSC's own is 75,466 and 20,382). ``--bptt`` also trains the snnTorch LIF (the
``baselines`` extra); ``--workers 2`` sums each batch's gradients on two Dask workers.
Progress, a checkpoint after every epoch (rerun to resume), the curves in
output/ssc_history.json and a figure (figures/out/model_ssc.png and .pdf).
"""
import os

from sgbrian.dataset_runs import dataset_arguments, plot_curves, train_dataset

parser = dataset_arguments(__doc__, samples=75466, test_samples=20382, epochs=2, data_options={
    "--train": "ssc_train.h5 (default: synthetic)", "--test": "ssc_test.h5 (default: synthetic)"})
args = parser.parse_args()
curves, task = train_dataset("ssc", args, dict(train_path=args.train, test_path=args.test))

plot_curves(curves, chance=1 / 35,
            title=f"SSC ({'files' if args.train else 'synthetic'}, {len(task.train):,} samples)",
            stem=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "figures", "out",
                              "model_ssc"))
