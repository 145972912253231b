"""Regenerate every publication figure into figures/out/ (PNG and PDF).

    python figures/make_all.py [--quick]

Full mode trains the models and needs analyses/out/temporal_precision.csv and
analyses/out/genn_report.json (make figures runs the analyses first).
"""
import importlib
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from style import arguments  # noqa: E402

FIGURES = ["fig1_kernels", "fig2_sigma_delta", "fig3_delay_learning", "fig4_coincidence",
           "fig5_temporal_precision", "fig6_memory", "fig7_genn", "fig8_vs_bptt", "fig9_activity"]


def main(argv=None):
    sys.argv = [sys.argv[0]] + list(argv or sys.argv[1:])
    args = arguments(__doc__)
    from sgbrian.baselines import INSTALL, available
    for name in FIGURES:
        if name == "fig8_vs_bptt" and not available():
            print(f"[{name}] skipped: {INSTALL}")
            continue
        start = time.perf_counter()
        paths = importlib.import_module(name).main(args)
        print(f"[{name}] {time.perf_counter() - start:.0f} s -> {' '.join(paths)}", flush=True)


if __name__ == "__main__":
    main()
