"""``ganbench``: the command line of the pipeline stages and of standalone use.

Each subcommand is one module of ``stages``; it is imported only when called, so a command
pays only for the libraries it uses.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

COMMANDS = {
    "profile": "write a profile's complete params over params.yaml (see profiles/)",
    "fetch": "download and verify raw dataset files into the raw-data cache",
    "prepare": "build one dataset as arrays + manifest",
    "train": "train one (dataset, variant, seed), or a suite's seeds together, and draw samples",
    "classifier": "train the domain classifier of a labelled dataset (a feature space)",
    "features": "compute the real data's features in a classifier feature space, once",
    "metrics": "score a set of images against another (standalone, prints JSON)",
    "evaluate": "score generated samples",
    "diagnose": "measure a claim of GAN theory (optimal D, vanishing gradients, dynamics)",
    "report": "collect results into the comparison report",
    "rankings": "check whether the rankings of reports hold in reports at a longer budget",
    "launch": "reproduce the pipeline on many workers (Ray or local processes) via a DVC remote",
    "repro": "reproduce the pipeline on this machine's cores (what `make repro` runs)",
}
# The commands dvc.yaml runs. A convolution's or a matrix product's float sums depend on how
# many threads share them, so these compute on one thread unless OMP_NUM_THREADS says
# otherwise (or a setup's ``threads``): a stage then gives the same bits on any machine, from
# a serial ``dvc repro`` or from ``ganbench launch`` (one CPU a stage by default).
STAGES = {"prepare", "classifier", "features", "train", "evaluate", "diagnose", "report"}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="ganbench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--params", default="params.yaml", help="params file (default: %(default)s)"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    argv = sys.argv[1:] if argv is None else argv
    chosen = next((a for a in argv if a in COMMANDS), None)
    for name, help_text in COMMANDS.items():
        sub = commands.add_parser(name, help=help_text)
        if name == chosen:
            if name in STAGES:
                os.environ.setdefault("OMP_NUM_THREADS", "1")  # read when torch is imported
            module = importlib.import_module(f"stages.{name}")
            module.add_arguments(sub)
            sub.set_defaults(run=module.run)
    args = parser.parse_args(argv)
    try:
        args.run(args)
    except (ValueError, FileNotFoundError) as err:  # bad input: one line, no traceback
        raise SystemExit(f"ganbench {args.command}: {err}") from None
