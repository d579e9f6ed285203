"""``ganbench rankings``: the ranking of reports at a shorter budget against reports at a
longer one, on the results tables' final scores, with seeds pooled over reports."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stages.cli import main
from stages.rankings import paired_scores, ranking_rows, read_side, tau_interval

METRIC_OF = {"mnist": "fid"}


def _results(path: Path, steps: int, fids: dict[str, list[float]], seeds=(0, 1, 2), **protocol):
    """A results.csv of MNIST runs: variant -> FID per seed, plus the floor row and a second
    feature space that must not be read."""
    rows = [{"dataset": "mnist", "variant": "real", "seed": 0, "fid": 1.0, "steps": None}]
    for variant, values in fids.items():
        for seed, fid in zip(seeds, values, strict=True):
            rows.append({"dataset": "mnist", "variant": variant, "seed": seed, "fid": fid,
                         "steps": steps})  # fmt: skip
    table = pd.DataFrame(rows).assign(
        feature_space="classifier:mnist", n_fake=protocol.get("n_fake", 5000), batch_size=64
    )
    other_space = table.assign(feature_space="inception", fid=table.fid * 100)
    pd.concat([table, other_space]).to_csv(path, index=False)
    return path


def test_one_adjacent_swap_among_four_gives_tau_four_sixths(tmp_path):
    base = _results(tmp_path / "a.csv", 5000, {
        "a": [10, 11, 12], "b": [20, 21, 22], "c": [30, 31, 32], "d": [40, 41, 42]})  # fmt: skip
    longer = _results(tmp_path / "b.csv", 10000, {
        "a": [5, 6, 7], "b": [16, 17, 18], "c": [14, 15, 16], "d": [30, 30, 30]})  # fmt: skip
    (row,) = ranking_rows(read_side([base], METRIC_OF), read_side([longer], METRIC_OF), METRIC_OF)
    dataset, metric, steps, variants, seeds, tau, interval, verdict, kept, before, after = row
    assert (dataset, steps, variants, seeds) == ("mnist", "5000 → 10000", "4", "3")
    assert tau == f"{4 / 6:.2f}" and verdict == "held"
    # every pair is separated at the shorter budget (spread 1 against gaps of 10); b-c flips
    assert kept == "5 of 6"
    assert before == "a > b > c > d" and after == "a > c > b > d"
    assert metric == "fid (lower is better)"
    low, high = (float(x) for x in interval.strip("[]").split(", "))
    assert low <= round(4 / 6, 2) <= high


def test_the_interval_collapses_when_the_seeds_agree():
    # No seed-to-seed spread: every resample has the same means, so the same tau.
    before = {"a": np.array([1.0, 1.0]), "b": np.array([2.0, 2.0]), "c": np.array([3.0, 3.0])}
    after = {"a": np.array([1.0, 1.0]), "b": np.array([3.0, 3.0]), "c": np.array([2.0, 2.0])}
    assert tau_interval(before, after) == pytest.approx((1 / 3, 1 / 3))
    one_seed = {v: s[:1] for v, s in before.items()}
    assert all(math.isnan(x) for x in tau_interval(one_seed, one_seed))


def test_seeds_pool_over_reports_and_only_shared_seeds_are_compared(tmp_path):
    fids = {"a": [10, 11], "b": [20, 21], "c": [30, 31]}
    first = _results(tmp_path / "first.csv", 5000, fids, seeds=(0, 1))
    more = _results(tmp_path / "more.csv", 5000, {v: [f[1], f[1] + 5] for v, f in fids.items()},
                    seeds=(1, 2))  # fmt: skip  # seed 1 again, with the same scores
    base = read_side([first, more], METRIC_OF)
    assert sorted(base[base.variant == "a"].seed) == [0, 1, 2]
    longer = _results(tmp_path / "long.csv", 10000, {v: [1, 2] for v in fids}, seeds=(1, 2))
    steps, before, after = paired_scores(base, read_side([longer], METRIC_OF), "mnist")
    assert steps == {"a": (5000, 10000), "b": (5000, 10000), "c": (5000, 10000)}
    # seeds 1 and 2, in the classifier space (the inception rows are left out)
    np.testing.assert_array_equal(before["a"], [11, 16])
    np.testing.assert_array_equal(after["a"], [1, 2])


def test_a_seed_scored_differently_by_two_reports_is_refused(tmp_path):
    first = _results(tmp_path / "first.csv", 5000, {"a": [10, 11, 12]})
    other = _results(tmp_path / "other.csv", 5000, {"a": [10, 99, 12]})
    with pytest.raises(ValueError, match=r"first\.csv, .*other\.csv: mnist a seed 1 scores"):
        read_side([first, other], METRIC_OF)


def test_pooled_reports_must_share_the_budget_and_both_budgets_the_protocol(tmp_path):
    first = _results(tmp_path / "first.csv", 5000, {"a": [10, 11, 12]})
    longer = _results(tmp_path / "longer.csv", 10000, {"a": [10, 11, 12]}, seeds=(3, 4, 5))
    with pytest.raises(ValueError, match=r"mnist a has steps \['10000', '5000'\]"):
        read_side([first, longer], METRIC_OF)
    fewer = _results(tmp_path / "fewer.csv", 10000, {"a": [1, 2, 3]}, n_fake=1000)
    with pytest.raises(ValueError, match="n_fake is 5000 at the shorter budget and 1000"):
        paired_scores(read_side([first], METRIC_OF), read_side([fewer], METRIC_OF), "mnist")


def test_the_command_writes_the_table_and_refuses_a_missing_file(tmp_path, repo_root):
    base = _results(tmp_path / "a.csv", 5000, {"a": [1, 2, 3], "b": [4, 5, 6], "c": [7, 8, 9]})
    longer = _results(tmp_path / "b.csv", 10000, {"a": [1, 1, 2], "b": [3, 4, 4], "c": [5, 6, 6]})
    out = tmp_path / "rankings.md"
    params = str(repo_root / "params.yaml")
    main(["--params", params, "rankings", "--base", str(base), "--longer", str(longer),
          "--out", str(out)])  # fmt: skip
    text = out.read_text()
    assert "| mnist | fid (lower is better) | 5000 → 10000 | 3 | 3 | 1.00 | [1.00, 1.00] |" in text
    with pytest.raises(SystemExit, match=r"ganbench rankings: .*missing\.csv: no such results"):
        main(["--params", params, "rankings", "--base", str(tmp_path / "missing.csv"),
              "--longer", str(longer), "--out", str(out)])  # fmt: skip
    assert out.read_text() == text  # the table already written is kept


def _make_variable(makefile: Path, name: str) -> list[str]:
    text = makefile.read_text().replace("\\\n", " ")
    (value,) = re.findall(rf"^{name} := (.*)$", text, flags=re.MULTILINE)
    return value.split()


@pytest.mark.parametrize(
    "base_variable, longer_variable, name",
    [
        ("RANKINGS_BASE", "RANKINGS_LONGER", "rankings.md"),
        ("RANKINGS_DOUBLE", "RANKINGS_QUADRUPLE", "rankings_double.md"),
    ],
)
def test_the_committed_rankings_are_what_the_committed_reports_give(
    repo_root, tmp_path, monkeypatch, base_variable, longer_variable, name
):
    monkeypatch.chdir(repo_root)  # the paths as `make rankings` names them
    base = _make_variable(repo_root / "Makefile", base_variable)
    longer = _make_variable(repo_root / "Makefile", longer_variable)
    out = tmp_path / name
    main(["rankings", "--base", *base, "--longer", *longer, "--out", str(out)])
    assert out.read_text() == (repo_root / "reports" / name).read_text()
