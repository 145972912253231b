"""Coincidence detection, barn-owl style: two ears hear the same spike pattern, one
delayed by an interaural time difference (ITD) in 9 classes from -1 to +1 ms, dt = 0.05 ms.

2 -> 48 coincidence detectors (random axonal delays, a Jeffress-like delay array) -> 9
readout neurons, trained with rule 'adjoint' (exact gradients from the recorded events, one
update per batch of 32) and cross-entropy. Goal: test accuracy
>= 95%. Writes figures/out/model_itd.png and .pdf (tuning curves and confusion matrix).
Then the same experiment with seeds 0, 1, 2 (``--seeds``; ``--scheduler tcp://host:8786``
to run them on a Dask cluster): test score mean ± sd.
"""
import os

import matplotlib.pyplot as plt
import numpy as np

from sgbrian.analysis import class_tuning
from sgbrian.experiments import repeat, train_task
from sgbrian.parallel import script_arguments
from sgbrian.plotting import save, use_style

args = script_arguments(__doc__)
result = train_task("itd", record_outputs=True)
task, test = result["task"], result["test"]
print(f"test accuracy {test['accuracy']:.3f} (goal >= 0.95: {'met' if result['met'] else 'NOT met'}), "
      f"{test['events_per_neuron_per_s']:.0f} events/neuron/s, trained in {result['seconds']:.0f} s")

labels = np.array([s.target for s in task.test])
itds = np.linspace(-1, 1, task.n_outputs)
tuning = class_tuning(test["outputs"], labels, result["learner"].loss.start_step, task.n_outputs)
confusion = np.zeros((task.n_outputs, task.n_outputs))
np.add.at(confusion, (labels, test["predictions"]), 1)

use_style()
fig, axes = plt.subplots(1, 2, figsize=(9, 3.8))
colours = plt.cm.viridis(np.linspace(0, 1, task.n_outputs))
for j in range(task.n_outputs):
    axes[0].plot(itds, tuning[:, j], "o-", color=colours[j], ms=3, label=f"{itds[j]:+.2f} ms")
axes[0].set(xlabel="true ITD (ms)", ylabel="mean readout", title="Tuning curves of the readout neurons")
axes[0].legend(fontsize=6, ncol=2, title="preferred ITD", title_fontsize=7)
axes[1].imshow(confusion / confusion.sum(1, keepdims=True), cmap="Greys", vmin=0, vmax=1)
axes[1].set(xticks=range(task.n_outputs), yticks=range(task.n_outputs),
            xticklabels=[f"{x:+.2f}" for x in itds], yticklabels=[f"{x:+.2f}" for x in itds],
            xlabel="predicted ITD (ms)", ylabel="true ITD (ms)",
            title=f"Confusion (test accuracy {test['accuracy']:.3f})")
axes[1].tick_params(axis="x", rotation=90)
fig.tight_layout()
save(fig, os.path.join(os.path.dirname(__file__), "..", "figures", "out", "model_itd"))

# the same experiment with every seed (task, network and training order), as jobs
scores, mean, sd = repeat("itd", seeds=args.seeds, client=args.client)
print(f"test accuracy over seeds {args.seeds}: {mean:.3f} ± {sd:.3f} (mean ± sd), "
      f"per seed {[round(r['score'], 3) for r in scores]}")
