"""Shared helpers of the figure scripts: output folder and the quick flag."""
import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "out")
ANALYSES = os.path.join(HERE, "..", "analyses")


def arguments(doc):
    """Parse ``--quick`` (small settings, for CI), ``--out`` (the folder), ``--seeds`` and
    ``--scheduler`` (repeats as Dask jobs: a local cluster unless quick or given)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small settings (CI)")
    parser.add_argument("--out", default=OUT)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--scheduler", default=None,
                        help="Dask scheduler address, or 'serial' (default: $SGBRIAN_SCHEDULER, "
                             "else a local cluster; quick mode: serial)")
    args = parser.parse_args()
    args.client = None
    if not args.quick or args.scheduler:
        from sgbrian.parallel import connect
        args.client = connect("serial" if args.quick and not args.scheduler else args.scheduler)
    return args


def analysis_folder(args, script, name):
    """Where an analysis wrote its results: analyses/out, or in quick mode a small run of
    ``analyses/<script> --quick`` into ``<out>/<name>``."""
    if not args.quick:
        return os.path.join(ANALYSES, "out")
    folder = os.path.join(args.out, name)
    subprocess.run([sys.executable, os.path.join(ANALYSES, script), "--quick", "--out", folder],
                   check=True, capture_output=True)
    return folder
