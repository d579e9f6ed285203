"""Ranges and cross-field rules of params, checked once the sections are parsed (types and
names are checked by parsing) and before any stage does work: every rule names the key, the
value and what is allowed, in one line.

The rules are data: :data:`FIELD_RULES` gives, per section whose entries are named
(``setups.<dataset>``, ``variants.<name>``, ...), the allowed values of a field;
:func:`check_params` adds the rules that involve several fields or sections.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable
from typing import Any

from gan_core.config import ConfigError
from gan_core.data import DATASET_KINDS
from gan_core.device import DEVICES
from gan_core.training.variants import check_pairing


@dataclasses.dataclass(frozen=True)
class Rule:
    field: str
    allowed: Callable[[Any], bool]
    expected: str


def _at_least(low: int, names: str) -> list[Rule]:
    return [Rule(name, lambda v: v >= low, f"an integer >= {low}") for name in names.split()]


def _number(low: float, strict: bool, names: str) -> list[Rule]:
    expected = f"a finite number {'>' if strict else '>='} {low:g}"
    allowed = (lambda v: v > low) if strict else (lambda v: v >= low)
    return [
        Rule(name, lambda v: math.isfinite(v) and allowed(v), expected) for name in names.split()
    ]


def _betas(values: tuple[float, ...]) -> bool:
    return len(values) == 2 and all(0 <= b < 1 for b in values)


def _weights(values: Any) -> bool:
    return all(math.isfinite(w) and w >= 0 for w in values.values())


FIELD_RULES: dict[str, list[Rule]] = {
    "setups": [
        *_at_least(1, "steps batch_size z_dim width depth width_d depth_d log_every"),
        *_at_least(0, "checkpoint_every threads"),
        Rule("n_fake", lambda v: v >= 2, "an integer >= 2 (a covariance needs two samples)"),
    ],
    "variants": [
        *_number(0, True, "lr_g lr_d"),
        *_number(0, False, "weight_clip instance_noise"),
        *_at_least(0, "unroll_steps"),
        Rule("betas", _betas, "two numbers in [0, 1)"),
        Rule("regularizers", _weights, "penalty weights that are finite numbers >= 0"),
    ],
    "datasets": _at_least(1, "n_train n_test max_train max_test n_modes side"),
    "metrics": _at_least(1, "kid_subsets kid_subset_size is_splits pr_k dc_k"),
}


def _check_fields(where: str, entries: Iterable[tuple[str, Any]], rules: list[Rule]) -> None:
    for name, entry in entries:
        for rule in rules:
            value = getattr(entry, rule.field, None)
            if value is not None and not rule.allowed(value):
                raise ConfigError(
                    f"{where}.{name}.{rule.field}: expected {rule.expected}, got {value!r}"
                )


def check_params(params: Any) -> None:
    """Raise :class:`ConfigError` for the first value of ``params`` (a
    :class:`stages.params.Params`) out of its range or in conflict with another."""
    if params.device not in DEVICES:
        raise ConfigError(f"device: expected one of {', '.join(DEVICES)}, got {params.device!r}")
    _check_fields("setups", params.setups.items(), FIELD_RULES["setups"])
    variants = [*params.variants.items()]
    variants += [(f"{v}.by_dataset.{d}", c) for (v, d), c in params.dataset_variants.items()]
    _check_fields("variants", variants, FIELD_RULES["variants"])
    _check_fields("datasets", params.datasets.items(), FIELD_RULES["datasets"])
    _check_fields("evaluation", [("metrics", params.metrics)], FIELD_RULES["metrics"])
    for name, suite in params.suites.items():
        where = f"suites.{name}.seeds"
        if suite.datasets and suite.variants and not suite.seeds:
            raise ConfigError(f"{where}: expected at least one seed, got []")
        if len(set(suite.seeds)) != len(suite.seeds):
            raise ConfigError(f"{where}: expected each seed once, got {list(suite.seeds)}")
        if any(seed < 0 for seed in suite.seeds):
            raise ConfigError(f"{where}: expected integers >= 0, got {list(suite.seeds)}")
        for dataset in suite.datasets:
            labelled = DATASET_KINDS.get(params.datasets[dataset].kind).is_image
            for variant in suite.variants:
                trained = params.variant(variant, dataset)
                check_pairing(
                    params.setups[dataset], trained, f"suites.{name}: {dataset} x {variant}"
                )
                if trained.conditional and not labelled:
                    raise ConfigError(
                        f"suites.{name}: {variant} is conditional and needs labels, but "
                        f"{dataset} is unlabelled points; list it in an image suite only"
                    )
    for dataset in params.evaluation.ranked_by:
        if dataset not in params.datasets:
            raise ConfigError(
                f"evaluation.ranked_by.{dataset}: unknown dataset; "
                f"valid: {', '.join(params.datasets)}"
            )
