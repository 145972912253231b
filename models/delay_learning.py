"""Delay learning: the output must reproduce its band-limited input (50 Hz cutoff) delayed
by 7.3 ms, which is a multiple of neither dt (1 ms) nor tau (1 ms).

A 1 -> 1 network (K = 8 buckets, linear readout) learns w, v and b online (rule
'spatial', which is exact for a single layer). Goal: test NRMSE < 0.1 on held-out
signals. Writes figures/out/model_delay.png and .pdf.
Then the same experiment with seeds 0, 1, 2 (``--seeds``; ``--scheduler tcp://host:8786``
to run them on a Dask cluster): test score mean ± sd.
"""
import os

import matplotlib.pyplot as plt
import numpy as np
from brian2 import ms

from sgbrian.analysis import delay_kernel
from sgbrian.experiments import repeat, train_task
from sgbrian.parallel import script_arguments
from sgbrian.plotting import PALETTE, save, use_style

args = script_arguments(__doc__)
result = train_task("delay", record_outputs=True)
task, learner, test = result["task"], result["learner"], result["test"]
print(f"test NRMSE {test['nrmse']:.4f} (goal < 0.1: {'met' if result['met'] else 'NOT met'}), "
      f"{test['events_per_neuron_per_s']:.0f} events/neuron/s, trained in {result['seconds']:.0f} s")

layer = result["net"].layers[1]
v = learner.params["v1"][0] * learner.params["w0"][0]
t = np.arange(0, 25e-3, 1e-4)
kernel, v0, mean, spread = delay_kernel(v, layer.K, layer.tau, t)
print(f"learned kernel: mean delay {mean * 1e3:.2f} ms, spread {spread * 1e3:.2f} ms, tap {v0:.3f}")

use_style()
fig, axes = plt.subplots(2, 1, figsize=(7, 5.5))
sample = task.test[0]
steps = np.arange(sample.n_steps) * float(task.dt / ms)
axes[0].plot(steps, sample.target[:, 0], color=PALETTE[7], lw=2, label="target (input delayed 7.3 ms)")
axes[0].plot(steps, result["before"]["outputs"][0][:, 0], color=PALETTE[1], lw=1, label="output before training")
axes[0].plot(steps, test["outputs"][0][:, 0], color=PALETTE[0], lw=1, ls="--", label="output after training")
axes[0].set(xlabel="time (ms)", ylabel="signal", title=f"Held-out signal (test NRMSE {test['nrmse']:.3f})")
axes[0].legend(loc="upper right", ncol=3)
axes[1].plot(t * 1e3, kernel, color=PALETTE[0])
axes[1].axvline(7.3, color=PALETTE[3], ls=":", label="7.3 ms")
axes[1].set(xlabel="lag (ms)", ylabel="weight", title=f"Learned kernel w * sum_k v_k gamma_k (mean {mean * 1e3:.1f} ms)")
axes[1].legend()
fig.tight_layout()
save(fig, os.path.join(os.path.dirname(__file__), "..", "figures", "out", "model_delay"))

# the same experiment with every seed (task, network and training order), as jobs
scores, mean, sd = repeat("delay", seeds=args.seeds, client=args.client)
print(f"test NRMSE over seeds {args.seeds}: {mean:.3f} ± {sd:.3f} (mean ± sd), "
      f"per seed {[round(r['score'], 3) for r in scores]}")
