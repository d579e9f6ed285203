"""``ganbench fetch``: fill the raw-data cache (``raw_dir`` in params) with verified files."""

from __future__ import annotations

import argparse
from pathlib import Path

from gan_core.data.sources import SHA256, fetch_raw
from stages.params import load_params


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "names", nargs="*", default=sorted(SHA256), help="raw datasets, networks (default: all)"
    )


def run(args: argparse.Namespace) -> None:
    raw_dir = Path(load_params(args.params).raw_dir)
    for name in args.names:
        print(f"{name}: verified in {fetch_raw(name, raw_dir)}")
