"""Every figure script runs in quick mode and writes a non-empty PNG and PDF."""
import os
import subprocess
import sys

import pytest

REPO = os.path.join(os.path.dirname(__file__), "..")
from sgbrian.baselines import INSTALL, available

FIGURES = ["fig1_kernels", "fig2_sigma_delta", "fig3_delay_learning", "fig4_coincidence",
           "fig5_temporal_precision", "fig6_memory", "fig7_genn", "fig8_vs_bptt", "fig9_activity"]
MARKS = {"fig7_genn": pytest.mark.genn,
         "fig8_vs_bptt": pytest.mark.skipif(not available(), reason=INSTALL)}


@pytest.mark.parametrize("name", [pytest.param(n, marks=MARKS.get(n, ())) for n in FIGURES])
def test_figure_script_writes_png_and_pdf(name, tmp_path):
    subprocess.run([sys.executable, os.path.join(REPO, "figures", f"{name}.py"), "--quick",
                    "--out", str(tmp_path)], check=True, capture_output=True, timeout=900,
                   cwd=os.path.join(REPO, "figures"))
    for ext in ("png", "pdf"):
        path = tmp_path / f"{name}.{ext}"
        assert path.exists() and path.stat().st_size > 1000, path


def test_the_sgbrian_command_lists_figures():
    out = subprocess.run([sys.executable, "-m", "sgbrian.cli", "--help"], capture_output=True,
                         text=True, check=True)
    assert "figures" in out.stdout and "demo" in out.stdout
