"""Sphinx configuration of sgbrian's reference site (``make docs``: ``sphinx-build -W``)."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "_ext"))

from sgbrian._version import __version__  # noqa: E402

project = "sgbrian"
author = "the sgbrian authors"
copyright = "2026, the sgbrian authors (GPL-2.0-or-later)"
release = version = __version__

extensions = ["sphinx.ext.autodoc", "sphinx.ext.intersphinx", "sphinx.ext.mathjax",
              "sphinx.ext.viewcode", "numpydoc", "myst_parser", "model_gallery"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "intersphinx"]
html_theme = "alabaster"
html_static_path = []

# The Markdown pages link to each other's sections (anchors from headings).
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "ignore-module-all": True}
numpydoc_show_class_members = False
numpydoc_xref_param_type = True
numpydoc_xref_aliases = {
    "Quantity": "brian2.units.fundamentalunits.Quantity",
    "NeuronGroup": "brian2.groups.neurongroup.NeuronGroup",
    "Synapses": "brian2.synapses.synapses.Synapses",
    "Equations": "brian2.equations.equations.Equations",
    "SpikeMonitor": "brian2.monitors.spikemonitor.SpikeMonitor",
    "StateMonitor": "brian2.monitors.statemonitor.StateMonitor",
    "Network": "brian2.core.network.Network",
    "ndarray": "numpy.ndarray",
    "bool": "bool",
    "sequence": "sequence",
    "NeuronSpec": "sgbrian.specs.NeuronSpec",
    "ConnectionSpec": "sgbrian.specs.ConnectionSpec",
    "SGNetwork": "sgbrian.sgnetwork.SGNetwork",
    "Layer": "sgbrian.layers.Layer",
    "Nonlinearity": "sgbrian.nonlinearities.Nonlinearity",
}
numpydoc_xref_ignore = {"or", "of", "optional", "default", "shape", "each", "per", "one",
                        "and", "a", "the", "in", "array", "array_like", "callable", "steps",
                        "channels", "x", "n", "K", "name", "names", "to", "values", "value",
                        "list", "tuple", "dict", "str", "int", "float", "bool", "None", "object"}

# Brian2's and numpy's inventories: read from their sites; where those cannot be reached
# (CI has no internet), from the copies in docs/intersphinx/ (make_inventories.py).
intersphinx_mapping = {
    "brian2": ("https://brian2.readthedocs.io/en/2.5.4/", (None, "intersphinx/brian2.inv")),
    "numpy": ("https://numpy.org/doc/1.26/", (None, "intersphinx/numpy.inv")),
}
intersphinx_timeout = 5
