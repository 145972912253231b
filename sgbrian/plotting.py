"""One figure style for the package: Okabe-Ito colours (colour-blind safe), PNG + PDF."""
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from brian2 import ms  # noqa: E402

#: Okabe & Ito (2008) palette, safe for the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442",
           "#000000"]


def use_style():
    """Apply the package style (call before creating figures)."""
    plt.rcParams.update({
        "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
        "axes.spines.top": False, "axes.spines.right": False,
        "font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9, "legend.fontsize": 8,
        "legend.frameon": False, "figure.dpi": 110, "savefig.bbox": "tight",
    })


def save(fig, stem):
    """Write ``stem.png`` and ``stem.pdf`` (creating the folder).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    stem : str
        Path without extension.

    Returns
    -------
    list of str
        Both paths.
    """
    os.makedirs(os.path.dirname(os.path.abspath(stem)), exist_ok=True)
    paths = [f"{stem}.png", f"{stem}.pdf"]
    for path in paths:
        fig.savefig(path, dpi=150 if path.endswith(".png") else None)
    plt.close(fig)
    return paths


def plot_kernels(ax, t, kernels, label="bucket"):
    """Plot kernels against t, one line per bucket.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    t : array_like
        Times in seconds.
    kernels : array_like
        K x len(t).
    label : str
        Prefix of each line's label.
    """
    for k, kernel in enumerate(kernels, start=1):
        ax.plot(t * 1e3, kernel, label=f"{label} {k}", color=plt.cm.viridis(k / (len(kernels) + 1)))
    ax.set_xlabel("time (ms)")


def plot_reconstruction(ax, t, y, r, theta, label="signal"):
    """A signal ``y`` and its sigma-delta reconstruction ``r`` (a staircase).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    t : array_like
        Times in seconds.
    y, r : array_like
        Signal and reconstruction.
    theta : float
        The threshold (named in the reconstruction's label).
    label : str
        Label of the signal.
    """
    ax.plot(t / ms, y, color=PALETTE[0], lw=1.2, label=label)
    ax.step(t / ms, r, where="post", color=PALETTE[3], lw=0.8,
            label=f"reconstruction (theta={theta:g})")
    ax.set_xlabel("time (ms)")
    ax.legend(loc="best")


def plot_raster(ax, spike_monitor, offset=0, color=None, label=None):
    """Raster of a SpikeMonitor; marker size grows with ``|payload|`` when recorded.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    spike_monitor : SpikeMonitor
        The monitor.
    offset : int
        Added to the neuron indices (to stack layers).
    color : str, optional
        Marker colour.
    label : str, optional
        Legend label.
    """
    q = spike_monitor.q[:] if "q" in spike_monitor.record_variables else np.ones(spike_monitor.num_spikes)
    ax.scatter(spike_monitor.t / ms, spike_monitor.i[:] + offset, s=2 + 3 * np.abs(q),
               marker="|", color=color, label=label)
    ax.set_xlabel("time (ms)")


def legend_below(fig, axes, bottom=0.1, **kwargs):
    """One legend for every labelled line of ``axes``, below the panels (never over data).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    axes : sequence of matplotlib.axes.Axes
        The panels.
    bottom : float
        The panels are laid out above it (a fraction of the figure height).
    **kwargs
        Passed to ``fig.legend``.
    """
    handles = {}
    for ax in np.ravel(axes):
        for handle, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, handle)
    fig.tight_layout(rect=(0, bottom, 1, 1))
    fig.legend(list(handles.values()), list(handles), loc="lower center", frameon=False,
               ncol=min(4, len(handles)), **kwargs)
