"""Spiking Heidelberg Digits: 700 channels -> 256 (relu) -> 20 classes.

K = 8, tau = 10 ms, per-synapse delays learnable up to 25 ms, rule 'spatial', batches
of 32 side by side, cross-entropy from 100 ms on. With the dataset's HDF5 files

    python models/shd.py --train shd_train.h5 --test shd_test.h5 [--epochs 20]

it trains on them; without, on a synthetic set of the same size and layout (class
information only in spike timing). Progress per batch, a checkpoint after every epoch
(rerun the same command to resume), and a figure of the loss and test accuracy
(figures/out/model_shd.png and .pdf).
"""
import argparse
import os

import matplotlib.pyplot as plt
from brian2 import ms

from sgbrian.experiments import train_task
from sgbrian.plotting import PALETTE, save, use_style

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--train", help="shd_train.h5 (default: synthetic)")
parser.add_argument("--test", help="shd_test.h5 (default: synthetic)")
parser.add_argument("--samples", type=int, default=1024, help="training samples (test: a quarter)")
parser.add_argument("--epochs", type=int, default=4)
parser.add_argument("--dt", type=float, default=1.0, help="time step in ms")
parser.add_argument("--batch", type=int, default=32)
parser.add_argument("--checkpoint", default=os.path.join("output", "shd_checkpoint.npz"))
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

os.makedirs(os.path.dirname(args.checkpoint) or ".", exist_ok=True)
result = train_task("shd", seed=args.seed, dt=args.dt * ms, epochs=args.epochs, target="cython",
                    batch_size=args.batch, checkpoint=args.checkpoint,
                    task_kwargs=dict(n_train=args.samples, n_test=max(1, args.samples // 4),
                                     train_path=args.train, test_path=args.test))
history, test = result["history"], result["test"]
print(f"test accuracy {test['accuracy']:.3f} (chance 0.05) after {len(history)} epochs; "
      f"training {result['train_seconds']:.0f} s "
      f"({args.samples * len(history) / result['train_seconds']:.2f} samples/s)")

use_style()
fig, ax = plt.subplots(figsize=(5, 3.5))
ax.plot(history["epoch"], history["loss"], "o-", color=PALETTE[0])
ax.set(xlabel="epoch", ylabel="training cross-entropy",
       title=f"SHD ({'files' if args.train else 'synthetic'}): test accuracy {test['accuracy']:.3f}")
fig.tight_layout()
save(fig, os.path.join(os.path.dirname(__file__), "..", "figures", "out", "model_shd"))
