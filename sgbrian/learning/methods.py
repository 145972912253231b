"""The gradient methods a learner can use, registered by name (``OnlineLearner(rule=...)``).

Each method is a small class over the shared machinery: which engine forms its gradients,
how deep a network it is exact for, whose delays it trains, whether it can update the
parameters within a sample, and what it refuses. ``register_method`` adds one;
``METHODS`` lists them:

- ``'exact'``: online, forward-mode traces; the exact gradient through one hidden layer.
- ``'spatial'``: online, any depth; exact at the readout, an approximation below it.
- ``'adjoint'``: after each sample or batch, backwards in time from the recorded events;
  the exact gradient at any depth, at a cost that follows the events.
"""
import numpy as np

from .adjoint import AdjointEngine
from .exact import ExactEngine
from .online import OnlineEngine

METHODS = {}


def register_method(method_class):
    """Class decorator: make a :class:`GradientMethod` available as ``rule=method_class.name``.

    Parameters
    ----------
    method_class : type
        The method.

    Returns
    -------
    type
        ``method_class``.
    """
    METHODS[method_class.name] = method_class
    return method_class


class GradientMethod:
    """A way of forming the gradients of the summed per-step loss."""
    name = None
    engine = None              # the Engine subclass that forms them
    per_step_updates = True    # may update every step or every n steps

    def delay_trained(self, net, connection):
        """Whether the delays of a connection learn (when 'd' is trained).

        Parameters
        ----------
        net : SGNetwork
            The network.
        connection : int
            Index of the connection.

        Returns
        -------
        bool
            True by default.
        """
        return True

    def check(self, net, update_every):
        """Refuse networks or settings the method cannot train.

        Parameters
        ----------
        net : SGNetwork
            The network.
        update_every : int or str
            The learner's update interval.

        Raises
        ------
        ValueError
            Naming what the method cannot train.
        """
        if not self.per_step_updates and update_every != "sample":
            raise ValueError(
                f"rule {self.name!r} computes a sample's gradient after the sample has run, so "
                f"it updates once per sample or batch: update_every must be 'sample', got "
                f"{update_every!r}; use rule 'exact' or 'spatial' for updates within a sample")


@register_method
class Exact(GradientMethod):
    """Forward-mode traces: exact through one hidden layer; trains the readout's delays."""
    name = "exact"
    engine = ExactEngine

    def delay_trained(self, net, connection):
        """Rule 'exact' trains the delays of the readout connection only.

        Parameters
        ----------
        net : SGNetwork
            The network.
        connection : int
            Index of the connection.

        Returns
        -------
        bool
            Whether ``connection`` is the readout's.
        """
        return connection == len(net.synapses) - 1

    def check(self, net, update_every):
        """Refuse networks the rule is not exact for: more or fewer than one hidden layer.

        Parameters
        ----------
        net : SGNetwork
            The network.
        update_every : int or str
            The learner's update interval.

        Raises
        ------
        ValueError
            Another depth.
        """
        super().check(net, update_every)
        if len(net.layers) != 3:
            raise ValueError(f"rule 'exact' needs exactly one hidden layer (3 layers), got "
                             f"{len(net.layers)}; use rule='adjoint' (exact at any depth) or "
                             f"rule='spatial' for deeper networks")


@register_method
class Spatial(GradientMethod):
    """The readout's exact error sent down without temporal filtering (any depth)."""
    name = "spatial"
    engine = OnlineEngine


@register_method
class Adjoint(GradientMethod):
    """Backwards in time from the recorded events, once per sample or batch (any depth)."""
    name = "adjoint"
    engine = AdjointEngine
    per_step_updates = False

    def delay_trained(self, net, connection):
        """Delays learn where they can move: a connection whose sender keeps no payload history
        (``max_delay`` 0) and whose delays are all 0 has them fixed at 0.

        Parameters
        ----------
        net : SGNetwork
            The network.
        connection : int
            Index of the connection.

        Returns
        -------
        bool
            Whether they learn.
        """
        syn, source = net.synapses[connection], net.layers[connection]
        return source.max_lag > 0 or bool(np.any(np.asarray(syn.delay[:]) > 0))

    def check(self, net, update_every):
        """Refuse drive terms, which the adjoint rule cannot rebuild from the recorded events.

        Parameters
        ----------
        net : SGNetwork
            The network.
        update_every : int or str
            The learner's update interval.

        Raises
        ------
        ValueError
            A layer with drive terms, or a schedule other than 'exact'.
        """
        super().check(net, update_every)
        for layer in net.layers[1:]:
            if layer.drive:
                raise ValueError(
                    f"layer {layer.index}: rule 'adjoint' rebuilds x from the recorded events "
                    f"and cannot evaluate the drive term {layer.drive!r} over a sample; use "
                    "rule 'exact' or 'spatial' with constant_drive=True")
            if layer.schedule != "exact":
                raise ValueError(
                    f"layer {layer.index}: rule 'adjoint' needs schedule='exact' (got "
                    f"{layer.schedule!r}); train with it, then net.set_schedule('genn') to export")
