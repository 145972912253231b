"""Choosing where Brian2 runs: the runtime targets (numpy, cython) or cpp_standalone."""
import os

from brian2 import prefs, set_device
from brian2.devices.device import RuntimeDevice, get_device

from .validation import check_choice

TARGETS = ("numpy", "cython", "cpp_standalone")


def use_target(target, directory=None):
    """Make ``target`` the code-generation target for what is built next.

    'numpy' and 'cython' are runtime targets (``prefs.codegen.target``);
    'cpp_standalone' selects the standalone device, built into ``directory`` on the
    first ``run()`` (call this before creating any Brian2 object).

    Parameters
    ----------
    target : str
        'numpy', 'cython' or 'cpp_standalone'.
    directory : str, optional
        The standalone project's folder.
    """
    check_choice("target", target, TARGETS)
    if target == "cpp_standalone":
        if directory is None:
            raise ValueError("directory must be given for target='cpp_standalone'")
        set_device("cpp_standalone", directory=os.fspath(directory), build_on_run=True)
        prefs.devices.cpp_standalone.openmp_threads = 0
    else:
        set_device("runtime")
        prefs.codegen.target = target


def is_standalone():
    """Whether the active Brian2 device generates standalone code.

    Returns
    -------
    bool
        True under cpp_standalone and GeNN.
    """
    return not isinstance(get_device(), RuntimeDevice)
