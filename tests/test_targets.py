"""numpy, cython and cpp_standalone give the same events (each run in its own process)."""
import os
import subprocess
import sys

import numpy as np
import pytest

HERE = os.path.dirname(__file__)


def _run(target, tmp_path, network):
    out = str(tmp_path / f"{target}_{network}")
    subprocess.run([sys.executable, os.path.join(HERE, "run_target.py"), target, out, network],
                   check=True, timeout=900, capture_output=True)
    return np.load(out + ".npz")


@pytest.mark.parametrize("network", ["short", "long", "extended"])
def test_numpy_cython_and_cpp_standalone_agree(tmp_path, network):
    """Same events, payloads and outputs; 'long' has per-synapse delays up to 4,096 steps."""
    results = {target: _run(target, tmp_path, network)
               for target in ("numpy", "cython", "cpp_standalone")}
    ref = results["numpy"]
    assert int(ref["max_delay_steps"]) > (4000 if network == "long" else 2)
    assert all(ref[f"i{l}"].size > 10 for l in range(3))
    for target in ("cython", "cpp_standalone"):
        for l in range(3):
            for key in ("i", "t", "q"):
                np.testing.assert_array_equal(results[target][f"{key}{l}"], ref[f"{key}{l}"],
                                              err_msg=f"{target} layer {l} {key}")
            assert np.max(np.abs(results[target][f"y{l}"] - ref[f"y{l}"])) < 1e-9
