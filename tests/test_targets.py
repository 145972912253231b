"""numpy, cython and cpp_standalone give the same events (each run in its own process)."""
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(__file__)


def _run(target, tmp_path):
    out = str(tmp_path / target)
    subprocess.run([sys.executable, os.path.join(HERE, "run_target.py"), target, out],
                   check=True, timeout=900, capture_output=True)
    return np.load(out + ".npz")


def test_numpy_cython_and_cpp_standalone_agree(tmp_path):
    results = {target: _run(target, tmp_path) for target in ("numpy", "cython", "cpp_standalone")}
    ref = results["numpy"]
    assert all(ref[f"i{l}"].size > 10 for l in range(3))
    for target in ("cython", "cpp_standalone"):
        for l in range(3):
            for key in ("i", "t", "q"):
                np.testing.assert_array_equal(results[target][f"{key}{l}"], ref[f"{key}{l}"],
                                              err_msg=f"{target} layer {l} {key}")
            assert np.max(np.abs(results[target][f"y{l}"] - ref[f"y{l}"])) < 1e-9
