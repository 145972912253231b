"""Extending the neuron (3/3): a leaky-relu hidden layer trained on the delay task.

1 -> 8 (leaky relu, slope 0.1) -> 1, K = 8, tau = 1 ms; the learner uses the derivative
the nonlinearity states (0.1 below 0, 1 above). Same task as models/delay_learning.py:
reproduce the input delayed by 7.3 ms (test NRMSE). Writes figures/out/model_leaky_relu.png
and .pdf.
"""
import os

import matplotlib.pyplot as plt
import numpy as np
from brian2 import defaultclock, ms, prefs

import sgbrian
from sgbrian import tasks
from sgbrian.equations import leaky_relu
from sgbrian.learning import OnlineLearner
from sgbrian.losses import MSELoss
from sgbrian.optim import Adam
from sgbrian.plotting import PALETTE, save, use_style

prefs.codegen.target = "numpy"
defaultclock.dt = 1 * ms
task = tasks.delay_task(seed=0)
net = sgbrian.feedforward([1, 8, 1], K=8, tau=1 * ms, theta=0.02, signal=task.train[0].input,
                          hidden=leaky_relu(0.1), seed=0)
learner = OnlineLearner(net, MSELoss(), rule="exact", optimizer=Adam(1e-2), update_every=10)
history = learner.fit(task.train, 15, progress=False)
test = learner.evaluate(task.test, record_outputs=True)
print(f"leaky relu 1 -> 8 -> 1: test NRMSE {test['nrmse']:.4f}")

use_style()
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
axes[0].semilogy(history["epoch"], history["loss"], "o-", color=PALETTE[0])
axes[0].set(xlabel="epoch", ylabel="training loss (MSE)")
sample = task.test[0]
t = np.arange(sample.n_steps)
axes[1].plot(t, sample.target[:, 0], color=PALETTE[7], lw=2, label="target")
axes[1].plot(t, test["outputs"][0][:, 0], color=PALETTE[0], ls="--", label="output")
axes[1].set(xlabel="time (ms)", ylabel="signal", title=f"test NRMSE {test['nrmse']:.3f}")
axes[1].legend(loc="lower left", ncol=2, frameon=False)
fig.tight_layout()
save(fig, os.path.join(os.path.dirname(__file__), "..", "figures", "out", "model_leaky_relu"))
