"""Figure 4: coincidence detection (ITD), tuning curves of the readout neurons: mean and
sd over seeds (each seed draws its own task, network and training order)."""
import os

import matplotlib.pyplot as plt
import numpy as np
from brian2 import ms

from sgbrian.experiments import repeat
from sgbrian.plotting import save, use_style
from style import arguments


def main(args):
    quick = dict(epochs=1, task_kwargs=dict(n_train=18, n_test=9, duration=5 * ms)) if args.quick else {}
    scores, mean, sd = repeat("itd", seeds=args.seeds, client=args.client, tuning=True, **quick)
    tuning = np.array([r["tuning"] for r in scores])            # (seeds, true class, readout)
    n = tuning.shape[1]
    itds = np.linspace(-1, 1, n)
    use_style()
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    colours = plt.cm.viridis(np.linspace(0, 1, n))
    for j in range(n):
        ax.errorbar(itds, tuning.mean(0)[:, j], yerr=tuning.std(0)[:, j], fmt="o-", ms=3,
                    capsize=2, color=colours[j], label=f"{itds[j]:+.2f}")
    ax.set(xlabel="interaural time difference (ms)", ylabel="mean readout",
           title=f"ITD tuning, mean ± sd over {len(scores)} seeds "
                 f"(test accuracy {mean:.3f} ± {sd:.3f})")
    ax.legend(title="preferred ITD (ms)", fontsize=6, ncol=3, title_fontsize=7,
              loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return save(fig, os.path.join(args.out, "fig4_coincidence"))


if __name__ == "__main__":
    print(*main(arguments(__doc__)))
