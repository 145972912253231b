"""Shared helpers of the figure scripts: output folder and the quick flag."""
import argparse
import os

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "out")


def arguments(doc):
    """Parse ``--quick`` (small settings, for CI) and ``--out`` (the folder)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small settings (CI)")
    parser.add_argument("--out", default=OUT)
    return parser.parse_args()
