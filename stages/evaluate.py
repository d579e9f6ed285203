"""Stage ``evaluate``: score one run's samples.

Writes a JSON list of result rows, one per feature space, each carrying the protocol
(feature_space, n_real, n_fake, ...) beside its metrics.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from gan_core.data import Dataset, load_dataset
from gan_core.io import sha256_file, write_json
from gan_core.metrics.modes import label_histogram_metrics, mixture_mode_metrics


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--variant", required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--data", required=True, help="prepared dataset folder")
    parser.add_argument("--model", required=True, help="train stage output folder")
    parser.add_argument("--samples", required=True, help="train stage samples .npz")
    parser.add_argument("--classifier", help="classifier stage output folder (image data)")
    parser.add_argument("--real-features", help="features stage output .npz (image data)")
    parser.add_argument("--out", required=True, help="output JSON of result rows")


def run(args: argparse.Namespace) -> None:
    summary = json.loads(Path(args.model, "run.json").read_text())
    dataset = load_dataset(args.data)
    with np.load(args.samples) as arrays:
        fake = arrays["x"]
    if dataset.is_image:
        if args.classifier is None or args.real_features is None:
            raise ValueError(
                f"--classifier and --real-features: required to score image dataset "
                f"'{args.dataset}'"
            )
        scored = [classifier_scores(dataset, fake, Path(args.classifier), Path(args.real_features))]
    else:
        scored = [mode_scores(dataset, fake)]
    protocol = {
        "dataset": args.dataset,
        "variant": args.variant,
        "seed": args.seed,
        "status": summary["status"],
        "steps": summary["steps"],
        "train_seconds": summary["train_seconds"],
        "n_fake": len(fake),
    }
    rows = [{**protocol, **entry} for entry in scored]
    write_json(args.out, rows)
    print(f"evaluated {args.dataset}/{args.variant}/seed{args.seed}: {rows}")


def mode_scores(dataset: Dataset, fake: np.ndarray) -> dict[str, Any]:
    """Mixture-mode metrics of generated points against the dataset's known modes."""
    info = dataset.info
    metrics = mixture_mode_metrics(
        fake, np.asarray(info["modes"]), np.asarray(info["stds"]), np.asarray(info["weights"])
    )
    return {"feature_space": "modes", "n_real": 0, **metrics}


def classifier_scores(
    dataset: Dataset, fake: np.ndarray, classifier_dir: Path, real_features: Path
) -> dict[str, Any]:
    """FID in the domain classifier's feature space against the test split (its features
    from the features stage), and coverage of the classes the classifier assigns to the
    samples."""
    from gan_core.classifier import extract, load_classifier
    from gan_core.device import default_device
    from gan_core.metrics.fid import fid_from_features

    device = default_device()
    weights = classifier_dir / "classifier.pt"
    digest = sha256_file(weights)
    with np.load(real_features) as real:
        real_feats, real_digest = real["feats"], str(real["weights_sha256"])
    if real_digest != digest:
        raise ValueError(
            f"{real_features}: computed with classifier sha256 {real_digest}, but {weights} "
            f"has {digest}; re-run its features stage"
        )
    model, _ = load_classifier(weights, device)
    fake_feats, fake_probs = extract(model, fake, 500, device)
    coverage = label_histogram_metrics(fake_probs.argmax(axis=1), dataset.n_classes)
    return {
        "feature_space": f"classifier:{dataset.name}",
        "n_real": len(real_feats),
        "weights_sha256": digest,
        "fid": fid_from_features(real_feats, fake_feats),
        **coverage,
    }
