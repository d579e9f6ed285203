"""The schema of ``params.yaml``, checked whole before any stage does work.

Every stage loads the full file through :func:`load_params`, so a typo in any variant,
dataset kind or architecture stops the first stage that runs, naming the key and listing
the valid names, before any training.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from gan_core.classifier import ClassifierConfig
from gan_core.config import ConfigError, parse
from gan_core.data import DATASET_KINDS
from gan_core.data.sources import INCEPTION_POOL3_FILE
from gan_core.diagnostics.optimal_discriminator import OptimalDConfig
from gan_core.diagnostics.vanishing_gradients import VanishingGradientsConfig
from gan_core.metrics.protocol import FLOOR_VARIANT, SNAPSHOT_RANKING, MetricProtocol
from gan_core.registry import UnknownNameError
from gan_core.training.losses import LOSSES
from gan_core.training.variants import SetupConfig, VariantConfig
from stages.profiles import merge_overlay, resolve_profile
from stages.validation import check_params

DEFAULT_PARAMS = "params.yaml"


@dataclasses.dataclass(frozen=True)
class TrackingConfig:
    uri: str
    experiment: str


@dataclasses.dataclass(frozen=True)
class SuiteConfig:
    """A block of the benchmark grid: every dataset x variant x seed is one run."""

    datasets: tuple[str, ...]
    variants: tuple[str, ...]
    seeds: tuple[int, ...]


@dataclasses.dataclass(frozen=True)
class ClassifierSection:
    """The domain classifiers: which datasets get one, and how they are trained."""

    datasets: tuple[str, ...]
    seed: int
    train: ClassifierConfig


@dataclasses.dataclass(frozen=True)
class EvaluationSection:
    """How runs are scored: image runs always in their dataset's classifier feature space,
    and in the Inception one too when ``inception`` is on; ``inception_weights`` (a file
    known by sha256) defaults to the one ``ganbench fetch`` verifies into the raw cache.
    ``checkpoint_samples``: samples drawn from each training snapshot to follow a run."""

    inception: bool
    metrics: MetricProtocol
    inception_weights: str | None = None
    checkpoint_samples: int = 1000
    # Image dataset -> the dataset whose domain classifier scores it, where that is another
    # one (Stacked MNIST: the MNIST classifier reads each colour channel); default: itself.
    classifier_of: Mapping[str, str] = dataclasses.field(
        default_factory=lambda: MappingProxyType({})
    )
    # Dataset -> the snapshot score whose ranking of the variants the report follows over
    # training (is the ranking at half the budget the ranking at the full budget?).
    ranked_by: Mapping[str, str] = dataclasses.field(default_factory=lambda: MappingProxyType({}))

    def validate(self, where: str) -> None:
        if self.checkpoint_samples < 2:
            raise ConfigError(
                f"{where}.checkpoint_samples: expected an integer >= 2 (a covariance needs "
                f"two samples), got {self.checkpoint_samples}"
            )
        for dataset, metric in self.ranked_by.items():
            if metric not in SNAPSHOT_RANKING:
                raise ConfigError(
                    f"{where}.ranked_by.{dataset}: unknown snapshot score '{metric}'; "
                    f"valid: {', '.join(SNAPSHOT_RANKING)}"
                )


@dataclasses.dataclass(frozen=True)
class TrainingDynamicsConfig:
    """Whose mode histograms the training-dynamics diagnostic follows over training."""

    datasets: tuple[str, ...]
    variants: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class DiagnosticsSection:
    """The theory diagnostics: ``data`` names the 1D mixture (known density) they use."""

    data: str
    optimal_discriminator: OptimalDConfig
    vanishing_gradients: VanishingGradientsConfig
    training_dynamics: TrainingDynamicsConfig


@dataclasses.dataclass(frozen=True)
class ReproductionSection:
    """A published result the report puts beside this profile's own (empty: none).
    ``published[dataset][variant][metric]``: the paper's value of a metric of
    ``results.csv`` for the row our ``variant`` reproduces, named ``labels[variant]`` in the
    paper; ``source``: paper and table; ``paper_steps``: the paper's budget in generator
    steps; ``notes``: where our protocol knowingly differs from the paper's."""

    source: str = ""
    paper_steps: int = 0
    notes: str = ""
    labels: Mapping[str, str] = dataclasses.field(default_factory=lambda: MappingProxyType({}))
    published: Mapping[str, Mapping[str, Mapping[str, float]]] = dataclasses.field(
        default_factory=lambda: MappingProxyType({})
    )


@dataclasses.dataclass(frozen=True)
class Params:
    profile: str  # the profile's name, shown in the report
    description: str  # what the profile is for and how to read its report, shown first
    report_dir: str  # where the report stage writes (dvc.yaml reads it too)
    tracking: TrackingConfig
    raw_dir: str
    datasets: MappingProxyType  # name -> kind-specific dataset config
    setups: MappingProxyType  # dataset name -> SetupConfig
    variants: MappingProxyType  # variant name -> VariantConfig (its own settings)
    # (variant, dataset) -> VariantConfig with the variant's ``by_dataset`` changes for it
    dataset_variants: MappingProxyType
    suites: MappingProxyType  # suite name -> SuiteConfig
    classifier: ClassifierSection
    evaluation: EvaluationSection
    diagnostics: DiagnosticsSection
    reproduction: ReproductionSection
    device: str  # auto (a GPU when present), cpu or cuda: see gan_core.device

    @property
    def inception(self) -> str:
        """The Inception weights file to use."""
        weights = self.evaluation.inception_weights
        return weights or str(Path(self.raw_dir) / "fid_inception" / INCEPTION_POOL3_FILE)

    @property
    def metrics(self) -> MetricProtocol:
        return self.evaluation.metrics

    @property
    def tracking_uri(self) -> str:
        """``MLFLOW_TRACKING_URI`` from the environment wins over params. A relative SQLite
        path is taken from the project's root, ``DVC_ROOT`` when DVC runs the stage: for an
        experiment of ``dvc queue`` that is the project it was queued from (not the
        temporary copy it runs in, which DVC deletes), so every run lands in one database."""
        uri = os.environ.get("MLFLOW_TRACKING_URI", self.tracking.uri)
        prefix = "sqlite:///"
        if uri.startswith(prefix) and not Path(uri.removeprefix(prefix)).is_absolute():
            root = Path(os.environ.get("DVC_ROOT", ".")).resolve()
            return prefix + str(root / uri.removeprefix(prefix))
        return uri

    def variant(self, name: str, dataset: str) -> VariantConfig:
        """Variant ``name`` as it trains on ``dataset``: with its ``by_dataset`` changes."""
        return self.dataset_variants.get((name, dataset), self.variants[name])

    def classifier_for(self, dataset: str) -> str:
        """The dataset whose domain classifier scores ``dataset``'s images."""
        return self.evaluation.classifier_of.get(dataset, dataset)

    def seeds_by_variant(self, dataset: str) -> dict[str, list[int]]:
        """The seeds each variant is trained with on ``dataset``, in params order."""
        seeds: dict[str, list[int]] = {}
        for run_dataset, variant, seed in self.runs():
            if run_dataset == dataset:
                seeds.setdefault(variant, []).append(seed)
        return seeds

    def datasets_in_suites(self) -> list[str]:
        """Every dataset some suite trains on, in params order, once."""
        return list(dict.fromkeys(d for suite in self.suites.values() for d in suite.datasets))

    def runs(self) -> list[tuple[str, str, int]]:
        """Every (dataset, variant, seed) of every suite, in params order."""
        return [
            (dataset, variant, seed)
            for suite in self.suites.values()
            for dataset in suite.datasets
            for variant in suite.variants
            for seed in suite.seeds
        ]


_TOP_LEVEL = (
    "profile", "description", "report_dir", "tracking", "raw_dir", "datasets", "setups",
    "variants", "suites", "classifier", "evaluation", "diagnostics", "reproduction", "device",
)  # fmt: skip


def load_params(path: str | os.PathLike[str] = DEFAULT_PARAMS) -> Params:
    """Read and check ``path`` (a complete params file, or a profile that ``extends`` one:
    see :mod:`stages.profiles`); raise :class:`ConfigError` naming the first bad key."""
    path = Path(path)
    raw = resolve_profile(path)
    for key in raw:
        if key not in _TOP_LEVEL:
            raise ConfigError(
                f"{path}: unknown key '{key}'; expected one of {', '.join(_TOP_LEVEL)}"
            )
    for key in _TOP_LEVEL:
        if key not in raw:
            raise ConfigError(f"{path}: required key '{key}' is missing")
    setups = _section(raw, "setups", lambda v, w: parse(SetupConfig, v, w))
    variants, dataset_variants = _parse_variants(raw)
    suites = _section(raw, "suites", lambda v, w: parse(SuiteConfig, v, w))
    params = Params(
        profile=str(raw["profile"]),
        description=str(raw["description"] or ""),
        report_dir=str(raw["report_dir"]),
        tracking=parse(TrackingConfig, raw["tracking"], "tracking"),
        raw_dir=str(raw["raw_dir"]),
        datasets=_section(raw, "datasets", _parse_dataset),
        setups=setups,
        variants=variants,
        dataset_variants=dataset_variants,
        suites=_check_suites(raw, suites, variants),
        classifier=parse(ClassifierSection, raw["classifier"], "classifier"),
        evaluation=parse(EvaluationSection, raw["evaluation"], "evaluation"),
        diagnostics=_check_diagnostics(
            raw, parse(DiagnosticsSection, raw["diagnostics"], "diagnostics"), suites
        ),
        reproduction=_check_reproduction(
            parse(ReproductionSection, raw["reproduction"], "reproduction"), suites
        ),
        device=str(raw["device"]),
    )
    _check_classifiers(params)
    check_params(params)
    return params


def _check_classifiers(params: Params) -> None:
    """Every image dataset a suite trains is scored by a classifier that is trained."""
    for suite_name, suite in params.suites.items():
        for dataset in suite.datasets if suite.variants else ():
            if not DATASET_KINDS.get(params.datasets[dataset].kind).is_image:
                continue
            name = params.classifier_for(dataset)
            if name not in params.classifier.datasets:
                where = f"evaluation.classifier_of.{dataset}" if name != dataset else "classifier"
                raise ConfigError(
                    f"{where}: suites.{suite_name} scores {dataset} with the classifier of "
                    f"{name}, but classifier.datasets "
                    f"({', '.join(params.classifier.datasets)}) has no {name}"
                )


def _section(raw: dict, key: str, parse_entry) -> MappingProxyType:
    entries = raw[key]
    if not isinstance(entries, dict):
        raise ConfigError(f"{key}: expected a mapping of names to settings")
    return MappingProxyType({name: parse_entry(v, f"{key}.{name}") for name, v in entries.items()})


def _parse_variants(raw: dict) -> tuple[MappingProxyType, MappingProxyType]:
    """Each variant's own settings, and for each dataset its ``by_dataset`` entry names,
    the variant with that entry merged in (as a profile merges: mappings key by key)."""
    if not isinstance(raw["variants"], dict):
        raise ConfigError("variants: expected a mapping of names to settings")
    variants, dataset_variants = {}, {}
    for name, value in raw["variants"].items():
        where = f"variants.{name}"
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping of settings, got {value!r}")
        own = {key: v for key, v in value.items() if key != "by_dataset"}
        variants[name] = parse(VariantConfig, own, where)
        changes = value.get("by_dataset", {})
        if not isinstance(changes, dict):
            raise ConfigError(f"{where}.by_dataset: expected a mapping of datasets to settings")
        for dataset, change in changes.items():
            if dataset not in raw["datasets"]:
                raise ConfigError(
                    f"{where}.by_dataset.{dataset}: unknown dataset; "
                    f"valid: {', '.join(sorted(raw['datasets']))}"
                )
            if not isinstance(change, dict):
                raise ConfigError(
                    f"{where}.by_dataset.{dataset}: expected a mapping of settings, got {change!r}"
                )
            dataset_variants[name, dataset] = parse(
                VariantConfig, merge_overlay(own, change), f"{where}.by_dataset.{dataset}"
            )
    return MappingProxyType(variants), MappingProxyType(dataset_variants)


def _parse_dataset(value: Any, where: str):
    if not isinstance(value, dict) or "kind" not in value:
        raise ConfigError(f"{where}.kind: required key is missing")
    try:
        kind = DATASET_KINDS.get(value["kind"])
    except UnknownNameError as err:
        raise ConfigError(f"{where}.kind: {err}") from None
    return parse(kind.config, value, where)


def _check_suites(
    raw: dict, suites: MappingProxyType, variants: MappingProxyType
) -> MappingProxyType:
    if FLOOR_VARIANT in variants:
        raise ConfigError(
            f"variants.{FLOOR_VARIANT}: the name is reserved for the real-versus-real floor rows"
        )
    for name, suite in suites.items():
        for field, known in (("datasets", raw["datasets"]), ("variants", raw["variants"])):
            for entry in getattr(suite, field):
                if entry not in known:
                    raise ConfigError(
                        f"suites.{name}.{field}: unknown name '{entry}'; "
                        f"valid: {', '.join(sorted(known))}"
                    )
        for dataset in suite.datasets:
            if dataset not in raw["setups"]:
                raise ConfigError(f"setups.{dataset}: required by suites.{name}, but missing")
    return suites


def _trained_pairs(suites: MappingProxyType) -> set[tuple[str, str]]:
    """Every (dataset, variant) some suite trains."""
    return {(d, v) for suite in suites.values() for d in suite.datasets for v in suite.variants}


def _check_diagnostics(
    raw: dict, diagnostics: DiagnosticsSection, suites: MappingProxyType
) -> DiagnosticsSection:
    kind = raw["datasets"].get(diagnostics.data, {}).get("kind")
    if kind != "mix1d":
        raise ConfigError(
            f"diagnostics.data: '{diagnostics.data}' must name a dataset of kind mix1d "
            f"(a 1D mixture with known density); got kind {kind}"
        )
    for cost in diagnostics.vanishing_gradients.costs:
        try:
            LOSSES.get(cost)
        except UnknownNameError as err:
            raise ConfigError(f"diagnostics.vanishing_gradients.costs: {err}") from None
    chosen = diagnostics.training_dynamics
    trained = _trained_pairs(suites)
    for dataset in chosen.datasets:
        for variant in chosen.variants:
            if (dataset, variant) not in trained:
                raise ConfigError(
                    f"diagnostics.training_dynamics: no suite trains {variant} on {dataset}"
                )
    return diagnostics


def _check_reproduction(
    reproduction: ReproductionSection, suites: MappingProxyType
) -> ReproductionSection:
    trained = _trained_pairs(suites)
    for dataset, rows in reproduction.published.items():
        for variant in rows:
            if (dataset, variant) not in trained:
                raise ConfigError(
                    f"reproduction.published.{dataset}.{variant}: no suite trains {variant} "
                    f"on {dataset}"
                )
            if variant not in reproduction.labels:
                raise ConfigError(
                    f"reproduction.labels.{variant}: required, the paper's name of the row"
                )
    return reproduction
