"""``python -m sgbrian.genn spec.json directory``: the process that runs brian2genn."""
import sys

from .build import _main

_main(sys.argv[1:])
