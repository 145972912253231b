"""Learning with exact error signals (docs/spec.md section 5), in the shape of Brian2's
``stateupdaters``: one small registered class per gradient method over shared machinery.

- :mod:`.learner`: :class:`OnlineLearner` (parameters, optimizer, updates, runs of samples);
- :mod:`.methods`: the registry of gradient methods (``rule=``): 'exact', 'spatial',
  'adjoint'; :func:`register_method` adds one;
- :mod:`.binding` and :mod:`.engine`: what every method shares (the connections' topology
  as the methods see it; the engine that binds a learner to a Brian2 network of
  ``batch`` copies, and :class:`RunPlan`);
- :mod:`.online`: the per-step engines of the online rules; :mod:`.cascades` and
  :mod:`.buffers` their sender cascades, traces and gradient windows;
- :mod:`.adjoint` (with :mod:`.adjoint_kernels`): the engine of rule 'adjoint', which
  records events during the run and computes each sample's gradients backwards in time;
- :mod:`.memory`: each method's memory and the refusal of runs that do not fit.

Gradients are those of the *analog model* (every spike train replaced by the signal it
encodes, r = y); with ``payload='analog'`` the Brian2 network *is* that model and the
gradients are exact (tests/test_learning.py and tests/test_adjoint.py check them against
finite differences).
"""
from ..layers import layer_taus
from .binding import Connection, TrainingDiverged, activation, activation_slope, drive_terms
from .engine import Engine, RunPlan
from .buffers import WeightGradient, owned_nbytes
from .cascades import BucketMajorCascades, InPlaceTrace, SenderCascades
from .learner import TRAINABLE, OnlineLearner
from .methods import METHODS, GradientMethod, register_method
from .exact import ExactEngine
from .online import OnlineEngine
from .adjoint import AdjointEngine

RULES = tuple(METHODS)

__all__ = ["AdjointEngine", "BucketMajorCascades", "Connection", "Engine", "ExactEngine",
           "GradientMethod", "InPlaceTrace", "METHODS", "OnlineEngine", "OnlineLearner",
           "RULES", "RunPlan", "SenderCascades", "TRAINABLE", "TrainingDiverged",
           "WeightGradient", "activation", "activation_slope", "drive_terms", "layer_taus",
           "owned_nbytes", "register_method"]
