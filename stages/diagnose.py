"""Stage ``diagnose``: the GAN theory, measured; one JSON per diagnostic.

- ``optimal_discriminator``: on the 1D mixture with known density, a discriminator trained
  against a fixed generator density, compared with D* = p / (p + q) and -log 4 + 2 JSD.
- ``vanishing_gradients``: the generator's gradient norm under the minimax, non-saturating
  and maximum-likelihood costs as the discriminator grows strong.
- ``training_dynamics``: from the benchmark's own runs scored over training, the Spearman
  correlation between the logged losses and FID across checkpoints (is the loss a measure
  of quality?), and the mode histogram over training of the chosen variants.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from gan_core.data import load_dataset
from gan_core.diagnostics.optimal_discriminator import measure_optimal_discriminator
from gan_core.diagnostics.vanishing_gradients import measure_vanishing_gradients
from gan_core.io import write_json
from gan_core.trajectory import histogram_shift, spearman
from stages.evaluate import checkpoint_table
from stages.params import Params, load_params

DIAGNOSTICS = ("optimal_discriminator", "vanishing_gradients", "training_dynamics")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", choices=DIAGNOSTICS)
    parser.add_argument("--out", required=True, help="output JSON")
    parser.add_argument("--data", help="prepared 1D mixture folder (the first two diagnostics)")
    parser.add_argument("--results", help="evaluate stage outputs (training_dynamics)")


def run(args: argparse.Namespace) -> None:
    params = load_params(args.params)
    if args.name == "training_dynamics":
        if args.results is None:
            raise ValueError("--results: required by training_dynamics")
        report = training_dynamics(params, Path(args.results))
    else:
        if args.data is None:
            raise ValueError(f"--data: required by {args.name}")
        report = _theory(args.name, params, Path(args.data))
    write_json(args.out, report)
    print(f"diagnose {args.name} -> {args.out}")


def _theory(name: str, params: Params, data: Path) -> dict[str, Any]:
    """Run a diagnostic on the 1D mixture ``data``; its figures and arrays as plain JSON."""
    info = load_dataset(data).info
    cfg = getattr(params.diagnostics, name)
    facts = {"data": params.diagnostics.data, "config": dataclasses.asdict(cfg)}
    if name == "optimal_discriminator":
        result = measure_optimal_discriminator(info, cfg)
        fake = cfg.fake_info()
        components = [
            f"N({m[0]:g}, {s:g}²)" for m, s in zip(fake["modes"], fake["stds"], strict=True)
        ]
        if len(components) > 1:
            components = [f"{w:g} {c}" for w, c in zip(fake["weights"], components, strict=True)]
        generator = " + ".join(components)
        return {
            **facts, "generator": generator,
            "max_abs_error": result.max_abs_error, "mean_abs_error": result.mean_abs_error,
            "value": result.value, "value_optimal": result.value_optimal, "jsd": result.jsd,
            "target": result.target, "value_gap": result.gap, "seconds": result.seconds,
            "grid": {
                "x": result.x.tolist(), "p": result.real_density.tolist(),
                "q": result.fake_density.tolist(), "d": result.d.tolist(),
                "d_star": result.d_star.tolist(), "mask": result.mask.tolist(),
            },
        }  # fmt: skip
    result = measure_vanishing_gradients(info, cfg)
    return {
        **facts, "steps": result.steps.tolist(), "mean_d_fake": result.mean_d_fake.tolist(),
        "grad_norms": {cost: norms.tolist() for cost, norms in result.grad_norms.items()},
        "seconds": result.seconds,
    }  # fmt: skip


def training_dynamics(params: Params, results: Path) -> dict[str, Any]:
    """Loss-versus-FID correlations of every run with checkpoints, and the mode histograms
    over training of ``diagnostics.training_dynamics``'s datasets x variants."""
    tables = {run: checkpoint_table(results, *run) for run in params.runs()}
    correlations = []
    for (dataset, variant, seed), table in tables.items():
        if "fid" not in table or table["fid"].notna().sum() < 3:
            continue
        correlations.append({
            "dataset": dataset, "variant": variant, "seed": seed,
            "fid_feature_space": table["fid_feature_space"].dropna().iloc[0],
            "n_checkpoints": int(table["fid"].notna().sum()),
            "rho_g_loss": spearman(table["g_loss"], table["fid"]),
            "rho_d_loss": spearman(table["d_loss"], table["fid"]),
        })  # fmt: skip
    chosen = params.diagnostics.training_dynamics
    histories = []
    for (dataset, variant, seed), table in tables.items():
        if dataset not in chosen.datasets or variant not in chosen.variants or table.empty:
            continue
        counts = table[[c for c in table if c.startswith("mode_")]].fillna(0).to_numpy(np.int64)
        histories.append({
            "dataset": dataset, "variant": variant, "seed": seed,
            "steps": table["step"].tolist(), "counts": counts.tolist(),
            "modes_captured": table["modes_captured"].tolist(),
            "histogram_shift": histogram_shift(counts),
        })  # fmt: skip
    return {
        "config": dataclasses.asdict(chosen),
        "loss_vs_quality": correlations,
        "mode_histories": histories,
    }
