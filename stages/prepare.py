"""Stage ``prepare``: build one dataset from its params and write it as arrays + manifest."""

from __future__ import annotations

import argparse
from pathlib import Path

from gan_core.data import DATASET_KINDS, save_dataset
from stages.params import load_params


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dataset", help="dataset name (a key of params.yaml 'datasets')")
    parser.add_argument("--out", required=True, help="output folder")


def run(args: argparse.Namespace) -> None:
    params = load_params(args.params)
    if args.dataset not in params.datasets:
        raise SystemExit(
            f"datasets.{args.dataset}: not in {args.params}; "
            f"valid: {', '.join(sorted(params.datasets))}"
        )
    cfg = params.datasets[args.dataset]
    dataset = DATASET_KINDS.get(cfg.kind).build(args.dataset, cfg, Path(params.raw_dir))
    manifest = save_dataset(args.out, dataset)
    counts = {split: entry["count"] for split, entry in manifest["splits"].items()}
    print(f"prepared {args.dataset} ({cfg.kind}): {counts} -> {args.out}")
