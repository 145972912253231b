"""GeNN (CPU backend) against the runtime for 10,000 steps on six networks: a file of
its own (the slowest test of the suite) so that ``--dist loadfile`` runs it beside the
other GeNN tests (tests/test_genn.py) rather than after them."""
import numpy as np
import pytest
from brian2 import defaultclock

from sgbrian.genn import GENN_HINT, compare_with_runtime, genn_path

from genn_networks import check_rows, genn_networks

pytestmark = pytest.mark.genn
needs_genn = pytest.mark.skipif(genn_path() is None, reason=f"no GeNN 4.9 here: {GENN_HINT}")


@needs_genn
def test_random_networks_in_genn_equal_the_runtime_for_10000_steps(tmp_path):
    """GeNN (CPU backend) against the runtime: every layer's decoded events equal, on
    networks with hidden payloads of several bits, binary payloads, spike input exported
    mid-run, per-synapse and homogeneous delays, three layers."""
    steps = 10000
    nets = genn_networks(steps)
    result, rows = compare_with_runtime(nets, steps * defaultclock.dt, str(tmp_path))
    for n, net_rows in enumerate(rows):
        check_rows(net_rows, f"net {n}")
    hidden = np.array([q for _, _, q in result["events"][0][1]])
    assert np.abs(hidden).max() >= 4              # payloads wider than one bit crossed GeNN
    binary = np.array([q for _, _, q in result["events"][1][1]])
    assert set(np.unique(binary)) == {-1.0, 1.0}
    assert result["run_s"] > 0 and result["build_s"] > result["run_s"]
