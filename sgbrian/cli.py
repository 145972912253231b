"""The ``sgbrian`` command.

    sgbrian demo                 the demo network (models/demo.py)
    sgbrian figures [--quick]    every publication figure into figures/out/
"""
import argparse
import os
import runpy
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main(argv=None):
    """``sgbrian demo`` runs models/demo.py; ``sgbrian figures [--quick]`` runs
    figures/make_all.py (in a clone of the repository).

    Parameters
    ----------
    argv : list of str, optional
        The arguments (default: the command line's).
    """
    parser = argparse.ArgumentParser(prog="sgbrian", description="SpikingGamma in Brian2")
    parser.add_argument("command", choices=["demo", "figures"], help="what to run")
    parser.add_argument("--quick", action="store_true", help="figures: small settings")
    args = parser.parse_args(argv)
    script = {"demo": os.path.join(REPO, "models", "demo.py"),
              "figures": os.path.join(REPO, "figures", "make_all.py")}[args.command]
    if not os.path.exists(script):
        parser.error(f"{script} not found: the command needs the repository checkout")
    sys.argv = [script] + (["--quick"] if args.quick else [])
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
