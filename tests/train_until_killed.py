"""Train the checkpoint-test network for many epochs with a checkpoint after each (for
test_learning's SIGKILL test, which kills this process at a random moment).

    python train_until_killed.py CHECKPOINT EPOCHS
"""
import sys

from brian2 import defaultclock, ms, prefs

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from test_learning import _train  # noqa: E402

prefs.codegen.target = "numpy"          # as tests/conftest.py sets it for the test itself
defaultclock.dt = 0.1 * ms

_train(5, int(sys.argv[2]), checkpoint=sys.argv[1], resume=True)
