"""The ``sgbrian`` command: ``sgbrian demo`` runs the demo script of the repository."""
import argparse
import os
import runpy

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="sgbrian", description="SpikingGamma in Brian2")
    parser.add_argument("command", choices=["demo"], help="what to run")
    args = parser.parse_args(argv)
    script = os.path.join(REPO, "models", f"{args.command}.py")
    if not os.path.exists(script):
        parser.error(f"{script} not found: the command needs the repository checkout")
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
