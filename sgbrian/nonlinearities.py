"""Output nonlinearities ``y = f(x)`` of a SpikingGamma neuron, as Brian2 expressions
with their derivatives (the learner evaluates both with numpy): relu, linear, softplus,
tanh, sigmoid, :func:`leaky_relu`, or the user's own :class:`Nonlinearity`."""
import functools
from dataclasses import dataclass

import numpy as np
from brian2.utils.stringtools import get_identifiers

#: Functions a nonlinearity or drive term may use, with their numpy forms (the learner
#: evaluates them); Brian2 has each under the same name.
NUMPY_FUNCTIONS = {"exp": np.exp, "log": np.log, "tanh": np.tanh, "sqrt": np.sqrt,
                   "abs": np.abs, "sin": np.sin, "cos": np.cos, "clip": np.clip,
                   "int": lambda z: np.asarray(z, dtype=float), "inf": np.inf, "pi": np.pi}


@functools.lru_cache(maxsize=None)
def compiled_expression(code):
    """``code`` compiled once (the learner evaluates it at every step)."""
    return compile(code, "<nonlinearity>", "eval")


@dataclass(frozen=True)
class Nonlinearity:
    """An output nonlinearity ``y = f(x)``. The neuron's equations use the expression; the
    learner evaluates both with numpy.

    Parameters
    ----------
    name : str
        Its name (shown in the equations' comments and in exports).
    expression : str
        The expression f(x), in ``x`` (functions: ``NUMPY_FUNCTIONS``).
    derivative : str
        The derivative f'(x), the same kind of expression.

    Raises
    ------
    ValueError
        An expression that uses anything but ``x`` and those functions.
    """
    name: str
    expression: str
    derivative: str

    def __post_init__(self):
        for field_name in ("expression", "derivative"):
            code = getattr(self, field_name)
            unknown = get_identifiers(code) - {"x"} - set(NUMPY_FUNCTIONS)
            if not isinstance(code, str) or unknown:
                raise ValueError(f"output {field_name} must be an expression in x using "
                                 f"{sorted(NUMPY_FUNCTIONS)}; {code!r} uses {sorted(unknown)}")

    def _eval(self, code, x):
        with np.errstate(over="ignore"):
            value = np.asarray(eval(compiled_expression(code), {"__builtins__": {}},
                                    {**NUMPY_FUNCTIONS, "x": x}), dtype=float)
        return value if value.shape == np.shape(x) else value * np.ones_like(x)

    def __call__(self, x):
        """f(x) with numpy."""
        return self._eval(self.expression, x)

    def slope(self, x):
        """f'(x) with numpy.

        Parameters
        ----------
        x : array_like
            The neuron's drive.

        Returns
        -------
        ndarray
            f'(x), same shape as ``x``.
        """
        return self._eval(self.derivative, x)


def leaky_relu(slope=0.01):
    """The leaky relu ``y = x`` for x > 0, ``slope * x`` otherwise.

    Parameters
    ----------
    slope : float
        Slope for x <= 0.

    Returns
    -------
    Nonlinearity
        Named ``leaky_relu(<slope>)``.
    """
    slope = float(slope)
    return Nonlinearity(f"leaky_relu({slope:g})", f"x*({slope!r} + {1 - slope!r}*int(x > 0))",
                        f"{slope!r} + {1 - slope!r}*int(x > 0)")


NONLINEARITIES = {
    "relu": Nonlinearity("relu", "clip(x, 0, inf)", "int(x > 0)"),
    "linear": Nonlinearity("linear", "x", "1 + 0*x"),
    "softplus": Nonlinearity("softplus", "log(1 + exp(x))", "1/(1 + exp(-x))"),
    "tanh": Nonlinearity("tanh", "tanh(x)", "1 - tanh(x)**2"),
    "sigmoid": Nonlinearity("sigmoid", "1/(1 + exp(-x))", "exp(-x)/(1 + exp(-x))**2"),
}
OUTPUTS = tuple(NONLINEARITIES)

def nonlinearity(output, name="output"):
    """An output nonlinearity given by name or as itself.

    Parameters
    ----------
    output : str or Nonlinearity
        One of ``OUTPUTS`` by name, or a ``Nonlinearity``.
    name : str
        The argument's name, for the message.

    Returns
    -------
    Nonlinearity
        The nonlinearity.

    Raises
    ------
    ValueError
        An unknown name (the allowed ones are listed).
    """
    if isinstance(output, Nonlinearity):
        return output
    if isinstance(output, str) and output in NONLINEARITIES:
        return NONLINEARITIES[output]
    raise ValueError(f"{name} must be one of {list(OUTPUTS)} or a Nonlinearity(name, "
                     f"expression, derivative), got {output!r}")
