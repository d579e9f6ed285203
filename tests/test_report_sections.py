"""The results tables' legend: notes derived from the variants and the runs that failed."""

from __future__ import annotations

import pandas as pd

from gan_core.training.variants import VariantConfig
from stages.document import Paragraph
from stages.report_sections import FAILED_NOTE, results_tables, variant_notes
from stages.summary import summarize


def test_unrolling_is_labelled_first_order():
    notes = variant_notes(
        {"unrolled": VariantConfig(loss="ns", unroll_steps=5), "gan_ns": VariantConfig("ns")}
    )
    assert list(notes) == ["unrolled"]
    assert "first-order unrolling (5 D steps" in notes["unrolled"]


def test_a_variant_of_its_own_width_says_so():
    notes = variant_notes({"stylegan": VariantConfig("ns", arch="stylegan", width=8)})
    assert notes == {"stylegan": "stylegan: networks 8 wide (its own width, not the setup's)"}


def test_a_setting_changed_on_one_dataset_is_named_with_the_variants_own():
    own = VariantConfig(loss="ns", regularizers={"dragan": 10.0}, norm_d="none")
    here = VariantConfig(loss="ns", regularizers={"dragan": 0.1}, norm_d="none")
    notes = variant_notes({"dragan": own, "gan_ns": VariantConfig("ns")}, {"dragan": here})
    assert notes == {
        "dragan": "dragan: on this dataset regularizers {'dragan': 0.1} "
        "(elsewhere {'dragan': 10.0})"
    }


def _table(statuses: list[str]) -> pd.DataFrame:
    return pd.DataFrame({
        "dataset": "ring8", "variant": ["gan_ns", "gan_ns", "unrolled", "unrolled"],
        "seed": [0, 1, 0, 1], "feature_space": "modes", "status": statuses,
        "steps": 10, "batch_size": 8, "train_seconds": 1.0, "n_fake": 100, "n_real": 0,
        "modes_captured": [8, 7, 6, 5], "run_id": "abcdefgh12",
    })  # fmt: skip


def _legend(statuses: list[str]) -> str:
    table = _table(statuses)
    summary = summarize(table, {"modes_captured": "higher"})
    notes = {"unrolled": "unrolled: a note"}
    blocks = results_tables(table, summary, "ring8", {"modes_captured": "higher"}, notes)
    (legend,) = [b for b in blocks if isinstance(b, Paragraph) and "note" in b.text]
    return legend.text


def test_the_legend_carries_variant_notes_and_explains_failed_runs_only_when_some_failed():
    assert _legend(["ok"] * 4) == "unrolled: a note."
    assert _legend(["ok", "escaped", "ok", "ok"]) == f"unrolled: a note; {FAILED_NOTE}."


def test_the_last_third_of_a_curve_runs_from_two_thirds_of_the_last_step():
    from stages.report_reproduction import last_third_change

    steps, values = [300, 600, 900, 1200, 1500, 1800], [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]
    assert last_third_change(steps, values) == (0.3, 0.5)  # 1200 = 2/3 of 1800
