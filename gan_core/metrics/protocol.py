"""The sample-level protocol of the metrics: the papers' numbers, in one place, and the
settings a profile may change. Light to import (no NumPy), so params can be checked cheaply.
"""

from __future__ import annotations

import dataclasses

KID_SUBSETS = 100  # Binkowski et al. 2018; clean-fid and torch-fidelity defaults
KID_SUBSET_SIZE = 1000
IS_SPLITS = 10  # Salimans et al. 2016
PR_NEIGHBOURS = 3  # Kynkaanniemi et al. 2019
DC_NEIGHBOURS = 5  # Naeem et al. 2020
FLOOR_VARIANT = "real"  # the variant name of real-versus-real floor rows

# The scores of a training snapshot (gan_core.trajectory) that rank variants, and which
# direction is better.
SNAPSHOT_RANKING = {
    "fid": "lower", "modes_captured": "higher", "high_quality_fraction": "higher",
    "reverse_kl": "lower", "reverse_kl_hq": "lower", "kl_to_uniform": "lower",
}  # fmt: skip


@dataclasses.dataclass(frozen=True)
class MetricProtocol:
    """What a profile chooses about scoring; the defaults are the papers'. ``seed`` draws
    KID's subsets, the Inception Score's shuffle and the floor's train subset."""

    kid_subsets: int = KID_SUBSETS
    kid_subset_size: int = KID_SUBSET_SIZE
    is_splits: int = IS_SPLITS
    pr_k: int = PR_NEIGHBOURS
    dc_k: int = DC_NEIGHBOURS
    fid_infinity: bool = False
    seed: int = 0


PAPERS = MetricProtocol()  # every setting at the papers' value
