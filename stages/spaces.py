"""Which feature spaces score a dataset, and where their real features live."""

from __future__ import annotations

from pathlib import Path

from gan_core.device import pick_device
from gan_core.feature_spaces import ClassifierSpace, DigitSpace, FeatureSpace, InceptionSpace
from stages.params import Params


def feature_space(
    spec: str, classifier: str | Path | None, inception: str | Path, device: str = "auto"
) -> FeatureSpace:
    """The space named ``inception`` or ``classifier:<dataset>`` on params' ``device``; the
    classifier's weights from ``classifier`` (default ``models/classifier/<dataset>``),
    Inception's from ``inception``."""
    device = pick_device(device)
    if spec == "inception":
        if not Path(inception).is_file():
            raise ValueError(f"{inception}: Inception weights not found; run `ganbench fetch`")
        return InceptionSpace(inception, device)
    kind, _, dataset = spec.partition(":")
    if kind != "classifier" or not dataset:
        raise ValueError(f"--features: '{spec}'; expected inception or classifier:<dataset>")
    weights = Path(classifier or f"models/classifier/{dataset}") / "classifier.pt"
    if not weights.is_file():
        raise ValueError(f"{weights}: no classifier for '{dataset}'; run its classifier stage")
    return ClassifierSpace(dataset, weights, device)


def pipeline_spaces(params: Params, dataset: str, classifiers: str | Path) -> list[FeatureSpace]:
    """The spaces the pipeline scores an image dataset in: its classifier's (from the folder
    of the classifier stages' outputs, ``classifiers/<name>``); for a dataset read by another
    dataset's classifier (Stacked MNIST by MNIST's), that classifier's digit by digit too;
    and Inception's when ``evaluation.inception`` is on."""
    name = params.classifier_for(dataset)
    classifier = feature_space(
        f"classifier:{name}", Path(classifiers, name), params.inception, params.device
    )
    spaces = [classifier]
    if name != dataset:
        spaces.append(DigitSpace(classifier))
    if params.evaluation.inception:
        spaces.append(feature_space("inception", None, params.inception, params.device))
    return spaces


def real_features_file(folder: str | Path, space: FeatureSpace) -> Path:
    """``<folder>/<kind>.npz``, the kind of space (classifier, digits, inception)."""
    return Path(folder) / f"{space.name.partition(':')[0]}.npz"
