"""sgbrian: SpikingGamma neurons in Brian2 (see docs/spec.md and the README)."""
from ._version import __version__  # noqa: F401  (sgbrian.__version__)
from .builder import SGNetwork, feedforward
from .encoding import sigma_delta
from .equations import cascade_equations, neuron_equations
from .layers import Layer, analog_layer, neuron_layer, spike_layer
from .network import connect, monitors_for
from .propagator import GammaCascadePropagator, cascade_propagator

__all__ = ["SGNetwork", "feedforward", "sigma_delta", "cascade_equations", "neuron_equations",
           "Layer", "analog_layer", "connect", "monitors_for", "neuron_layer", "spike_layer",
           "GammaCascadePropagator", "cascade_propagator"]
