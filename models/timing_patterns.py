"""Timing-only pattern classification (SHD-like, synthetic): 10 classes of spike patterns
over 100 channels. Every channel fires once per sample in every class (plus the same
Poisson noise), so spike counts carry no class information: only timing does.

100 -> 64 (relu) -> 10, K = 8, tau = 5 ms, rule 'adjoint', cross-entropy from 20 ms on.
Goal: test accuracy >= 90%. A spike-count classifier is printed as the control.
Writes figures/out/model_timing.png and .pdf.
Then the same experiment with seeds 0, 1, 2 (``--seeds``; ``--scheduler tcp://host:8786``
to run them on a Dask cluster): test score mean ± sd.
"""
import os

import matplotlib.pyplot as plt
from brian2 import ms

from sgbrian.analysis import spike_count_baseline
from sgbrian.experiments import repeat, train_task
from sgbrian.parallel import script_arguments
from sgbrian.plotting import PALETTE, save, use_style

args = script_arguments(__doc__)
result = train_task("timing")
task, test, history = result["task"], result["test"], result["history"]
print(f"test accuracy {test['accuracy']:.3f} (goal >= 0.90: {'met' if result['met'] else 'NOT met'}), "
      f"spike-count control {spike_count_baseline(task):.3f} (chance {1 / task.n_outputs:.2f}), "
      f"trained in {result['seconds']:.0f} s")

use_style()
fig, axes = plt.subplots(1, 3, figsize=(11, 3.5))
for ax, label in zip(axes[:2], (0, 1)):
    sample = next(s for s in task.test if s.target == label)
    indices, times = sample.input
    ax.scatter(times / ms, indices, s=3, color=PALETTE[label])
    ax.set(xlabel="time (ms)", ylabel="channel", title=f"class {label}: {len(indices)} spikes")
axes[2].plot(history["epoch"], history["loss"], "o-", color=PALETTE[0], label="train loss")
axes[2].set(xlabel="epoch", ylabel="cross-entropy", title=f"Test accuracy {test['accuracy']:.3f}")
axes[2].legend()
fig.tight_layout()
save(fig, os.path.join(os.path.dirname(__file__), "..", "figures", "out", "model_timing"))

# the same experiment with every seed (task, network and training order), as jobs
scores, mean, sd = repeat("timing", seeds=args.seeds, client=args.client)
print(f"test accuracy over seeds {args.seeds}: {mean:.3f} ± {sd:.3f} (mean ± sd), "
      f"per seed {[round(r['score'], 3) for r in scores]}")
