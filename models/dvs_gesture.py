"""DVS Gesture: 32 x 32 x 2 = 2,048 event channels -> 256 -> 256 (relu) -> 11 classes.

The camera's 128 x 128 pixels downsampled by tonic to 32 x 32, ON and OFF events as
separate channels, the first 1.5 s of each recording on steps of 1 ms. K = 8, tau =
20 ms, per-synapse input delays learnable up to 25 ms, rule 'adjoint' (exact gradients
at any depth), batches of 32, cross-entropy from 200 ms on, Adam with a cosine schedule.
With the dataset where tonic keeps it (``<root>/DVSGesture/ibmGestureTrain`` and
``ibmGestureTest``; the ``datasets`` extra)

    python models/dvs_gesture.py --root data [--epochs 6]

it trains on it; without, on the moving-edge stand-in of that layout (1,077 training
and 264 test samples, DVS Gesture's own numbers; one direction per class, the same
event counts in every class). ``--bptt`` also trains the snnTorch LIF (the ``baselines``
extra); ``--workers 2`` sums each batch's gradients on two Dask workers. Progress, a
checkpoint after every epoch (rerun to resume), the curves in
output/dvs_gesture_history.json and a figure (figures/out/model_dvs_gesture.png and .pdf).
"""
import os

from sgbrian.dataset_runs import dataset_arguments, plot_curves, train_dataset

parser = dataset_arguments(__doc__, samples=1077, test_samples=264, epochs=6, data_options={
    "--root": "the folder holding tonic's DVSGesture folder (default: the stand-in)"})
args = parser.parse_args()
curves, task = train_dataset("dvs_gesture", args, dict(root=args.root))

plot_curves(curves, chance=1 / 11,
            title=f"DVS Gesture ({'files' if args.root else 'stand-in'}, "
                  f"{len(task.train):,} samples)",
            stem=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "figures", "out",
                              "model_dvs_gesture"))
