"""Profiles: one definition of every variant reaches every profile; a profile says only what
it changes; ``ganbench profile`` writes a complete, checked params file or nothing."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from gan_core.config import ConfigError
from gan_core.training.variants import batch_size
from stages.params import load_params
from stages.profiles import merge_overlay, read_mapping, resolve_profile

PROFILES = sorted(p.stem for p in (Path(__file__).parent.parent / "profiles").glob("*.yaml"))


def test_merge_overlay_merges_mappings_replaces_the_rest_and_null_removes():
    base = {"a": {"x": 1, "y": [1, 2]}, "b": 2, "c": {"z": 3}}
    overlay = {"a": {"y": [3], "w": 4}, "b": {"new": 1}, "c": None, "d": 5}
    assert merge_overlay(base, overlay) == {
        "a": {"x": 1, "y": [3], "w": 4}, "b": {"new": 1}, "d": 5,
    }  # fmt: skip
    assert base == {"a": {"x": 1, "y": [1, 2]}, "b": 2, "c": {"z": 3}}  # unchanged


@pytest.mark.parametrize("name", PROFILES)
def test_every_variant_of_the_default_reaches_the_profile(repo_root, name):
    path = repo_root / "profiles" / f"{name}.yaml"
    overlay = read_mapping(path)
    base = resolve_profile(path.parent / overlay["extends"])  # the default, or a profile
    resolved = resolve_profile(path)
    changed = overlay.get("variants", {})
    for variant, settings in base["variants"].items():
        expected = merge_overlay(settings, changed.get(variant, {}))
        assert resolved["variants"][variant] == expected
    params = load_params(repo_root / "profiles" / f"{name}.yaml")
    assert params.profile == name and params.report_dir == f"reports/{name}"


def test_a_variant_changed_in_the_base_changes_in_every_profile(tmp_path, repo_root):
    base = read_mapping(repo_root / "params.yaml")
    base["variants"]["gan_mm"]["lr_g"] = 3.0e-4
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(base))
    (tmp_path / "profiles").mkdir()
    for name in PROFILES:
        text = (repo_root / "profiles" / f"{name}.yaml").read_text()
        (tmp_path / "profiles" / f"{name}.yaml").write_text(text)
        assert load_params(tmp_path / "profiles" / f"{name}.yaml").variants["gan_mm"].lr_g == 3.0e-4


def test_the_pacgan_profile_follows_the_paper(repo_root):
    params = load_params(repo_root / "profiles" / "pacgan.yaml")
    assert {(d, v) for d, v, _ in params.runs()} == {
        (d, v) for d in ("ring8", "grid25") for v in ("gan_ns", "pacgan", "pacgan4")
    }
    assert params.suites["toy"].seeds == tuple(range(10))
    for dataset in ("ring8", "grid25"):
        setup = params.setups[dataset]
        assert (setup.arch, setup.z_dim, setup.width, setup.depth) == ("pacgan_mlp", 2, 400, 4)
        assert (setup.width_d, setup.depth_d, setup.batch_size, setup.n_fake) == (200, 3, 100, 2500)
    for variant, pack in (("gan_ns", 1), ("pacgan", 2), ("pacgan4", 4)):
        v = params.variants[variant]
        assert (v.loss, v.lr_g, v.lr_d, v.betas, v.pack) == ("ns", 1e-4, 1e-4, (0.8, 0.999), pack)
        assert v.updates == "simultaneous"  # both players at once, as ALI's code
        assert (v.batch_size or 100) == 100 * pack  # 100 packs a batch
    published = params.reproduction.published
    assert published["ring8"]["gan_ns"]["modes_captured"] == 6.3
    assert published["grid25"]["pacgan4"]["reverse_kl_hq"] == 0.04


def test_the_stacked_pacgan_profile_follows_the_paper(repo_root):
    params = load_params(repo_root / "profiles" / "pacgan_stacked.yaml")
    assert {(d, v) for d, v, _ in params.runs()} == {
        ("stacked_mnist", "gan_ns"), ("stacked_mnist", "pacgan")
    }  # fmt: skip
    setup = params.setups["stacked_mnist"]
    assert (setup.arch, setup.z_dim, setup.latent, setup.width) == ("dcgan_tf", 100, "uniform", 64)
    assert (setup.batch_size, setup.n_fake) == (64, 26000)
    assert params.datasets["stacked_mnist"].n_train == 128000
    for variant, pack in (("gan_ns", 1), ("pacgan", 2)):
        v = params.variant(variant, "stacked_mnist")
        expected = ("ns", 2e-4, 2e-4, (0.5, 0.999), pack, 2, 1)
        assert (v.loss, v.lr_g, v.lr_d, v.betas, v.pack, v.g_steps, v.n_critic) == expected
        assert (v.batch_size or 64) == 64 * pack
    assert params.evaluation.classifier_of["stacked_mnist"] == "mnist"
    assert params.reproduction.published["stacked_mnist"]["pacgan"]["modes_captured"] == 1000


def test_extends_loop_and_duplicate_keys_are_refused(tmp_path):
    (tmp_path / "a.yaml").write_text("extends: b.yaml\nprofile: a\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\nprofile: b\n")
    with pytest.raises(ConfigError, match="loops back"):
        resolve_profile(tmp_path / "a.yaml")
    (tmp_path / "dup.yaml").write_text("variants:\n  gan_ns: {loss: ns}\n  gan_ns: {loss: mm}\n")
    with pytest.raises(ConfigError, match=r"dup\.yaml: not valid YAML .*duplicate key 'gan_ns'"):
        read_mapping(tmp_path / "dup.yaml")


def test_a_merge_key_brings_in_an_anchor_and_yields_to_the_keys_given(tmp_path):
    (tmp_path / "merge.yaml").write_text(
        "variants:\n  a: &a {loss: ns, lr_g: 1.0}\n  b: {<<: *a, lr_g: 2.0, pack: 2}\n"
    )
    variants = read_mapping(tmp_path / "merge.yaml")["variants"]
    assert variants["b"] == {"loss": "ns", "lr_g": 2.0, "pack": 2}
    assert variants["a"] == {"loss": "ns", "lr_g": 1.0}
    (tmp_path / "dup.yaml").write_text("a: &a {x: 1}\nb: {<<: *a, y: 1, y: 2}\n")
    with pytest.raises(ConfigError, match="duplicate key 'y'"):
        read_mapping(tmp_path / "dup.yaml")


def _ganbench_profile(cwd, name):
    return subprocess.run(
        [sys.executable, "-c", "from stages.cli import main; main()", "profile", name],
        cwd=cwd, capture_output=True, text=True,
    )  # fmt: skip


@pytest.fixture()
def workspace(tmp_path, repo_root):
    (tmp_path / "profiles").mkdir()
    (tmp_path / "params.yaml").write_text((repo_root / "params.yaml").read_text())
    for name in PROFILES:
        text = (repo_root / "profiles" / f"{name}.yaml").read_text()
        (tmp_path / "profiles" / f"{name}.yaml").write_text(text)
    return tmp_path


def test_ganbench_profile_writes_the_complete_profile_and_refuses_to_stack(workspace):
    done = _ganbench_profile(workspace, "pacgan")
    assert done.returncode == 0, done.stderr
    written = read_mapping(workspace / "params.yaml")
    assert "extends" not in written
    assert written == resolve_profile(workspace / "profiles" / "pacgan.yaml")
    before = (workspace / "params.yaml").read_text()
    # settings shared through anchors (the profile's, the default's variants') are written
    # out in full wherever they occur, for a reader of params.yaml
    assert "&id" not in before and "*id" not in before
    again = _ganbench_profile(workspace, "pacgan")  # the same profile again: no change
    assert again.returncode == 0 and (workspace / "params.yaml").read_text() == before
    refused = _ganbench_profile(workspace, "gpu")
    assert refused.returncode != 0
    assert "holds profile 'pacgan'" in refused.stderr and len(refused.stderr.splitlines()) == 1
    assert (workspace / "params.yaml").read_text() == before


def test_a_bad_profile_leaves_params_untouched(workspace):
    before = (workspace / "params.yaml").read_text()
    (workspace / "profiles" / "bad.yaml").write_text(
        "extends: ../params.yaml\nprofile: bad\nvariants: {gan_ns: {loss: nonsaturating}}\n"
    )
    refused = _ganbench_profile(workspace, "bad")
    assert refused.returncode != 0
    assert "variants.gan_ns.loss: unknown loss 'nonsaturating'" in refused.stderr
    assert (workspace / "params.yaml").read_text() == before
    assert sorted(p.name for p in workspace.iterdir()) == ["params.yaml", "profiles"]


# Twice the default's budgets, split in three for time (see their descriptions).
DOUBLE_PROFILES = {
    "double.yaml": {"ring8", "fashion_mnist"},
    "double_fashion.yaml": {"ring8", "mix1d", "mnist", "stacked_mnist"},
    "double_ring8.yaml": {"fashion_mnist", "mix1d", "mnist", "stacked_mnist"},
}


@pytest.mark.parametrize(("profile", "left_out"), DOUBLE_PROFILES.items())
def test_the_double_profiles_double_the_budgets_they_train_and_nothing_else(
    repo_root, profile, left_out
):
    default = load_params(repo_root / "params.yaml")
    double = load_params(repo_root / "profiles" / profile)
    # every other pair, on the same seeds
    assert set(double.runs()) == {run for run in default.runs() if run[0] not in left_out}
    # the Karras et al. generators' budgets of their own are doubled too, and nothing else
    doubled = {
        name: dataclasses.replace(default.variants[name], steps=2 * default.variants[name].steps)
        for name in ("progan", "stylegan")
    }
    assert double.variants == {**default.variants, **doubled}
    for dataset in double.datasets_in_suites():
        ours, theirs = default.setups[dataset], double.setups[dataset]
        assert theirs.steps == 2 * ours.steps, dataset
        assert dataclasses.replace(theirs, steps=ours.steps) == ours, dataset
        # the default's budget is one of the double run's snapshots
        assert ours.steps % theirs.checkpoint_every == 0, dataset
    for dataset, name, _ in double.runs():
        if name in doubled:
            assert doubled[name].steps // 2 % double.setups[dataset].checkpoint_every == 0
    # the same scores, each trained dataset's ranking followed by the default's metric
    trained = double.datasets_in_suites()
    assert {d: double.evaluation.ranked_by[d] for d in trained} == {
        d: default.evaluation.ranked_by[d] for d in trained
    }
    assert dataclasses.replace(double.evaluation, ranked_by={}) == dataclasses.replace(
        default.evaluation, ranked_by={}
    )
    assert double.report_dir != default.report_dir


def test_the_double_profiles_together_train_every_dataset_once(repo_root):
    trained = [
        load_params(repo_root / "profiles" / name).datasets_in_suites() for name in DOUBLE_PROFILES
    ]
    default = load_params(repo_root / "params.yaml").datasets_in_suites()
    assert sorted(sum(trained, [])) == sorted(default)


def test_the_lineage_profile_trains_both_karras_generators_on_both_image_datasets(repo_root):
    lineage = load_params(repo_root / "profiles" / "lineage.yaml")
    runs = set(lineage.runs())
    for dataset in ("mnist", "fashion_mnist"):
        for variant in ("gan_ns", "cgan_projection", "progan", "stylegan"):
            assert {(dataset, variant, seed) for seed in (0, 1, 2)} <= runs
        assert lineage.setups[dataset].steps == 2000
    assert {dataset for dataset, _, _ in runs} == {"mnist", "fashion_mnist", "mix1d"}


def test_the_gpu_profile_gives_the_karras_generators_their_schedules(repo_root):
    gpu = load_params(repo_root / "profiles" / "gpu.yaml")
    for suite in ("images", "fashion"):
        assert {"progan", "stylegan"} <= set(gpu.suites[suite].variants)
    progan = gpu.variants["progan"]
    # 4 phases of 600k images (7 -> 14 -> 28 px), then as many at full size, in the
    # paper's minibatches of 16
    images = progan.steps * batch_size(gpu.setups["mnist"], progan)
    assert (progan.growth_images, images, progan.batch_size) == (600_000, 8 * 600_000, 16)


# More seeds of the default's Stacked MNIST, at the default's budget and at twice it:
# profile -> the profile whose Stacked MNIST runs it adds seeds to.
SEED_PROFILES = {
    "stacked_seeds.yaml": "params.yaml",
    "double_stacked_seeds.yaml": "profiles/double.yaml",
}


@pytest.mark.parametrize(("profile", "base"), SEED_PROFILES.items())
def test_the_seed_profiles_add_seeds_to_their_base_and_change_nothing_else(
    repo_root, profile, base
):
    ours, theirs = load_params(repo_root / "profiles" / profile), load_params(repo_root / base)
    base_runs = {run for run in theirs.runs() if run[0] == "stacked_mnist"}
    assert ours.datasets_in_suites() == ["stacked_mnist"]
    # the same pairs on new seeds
    assert {run[:2] for run in ours.runs()} == {run[:2] for run in base_runs}
    assert {run[2] for run in ours.runs()}.isdisjoint({run[2] for run in base_runs})
    # trained and scored alike, so `ganbench rankings` may pool their seeds
    assert ours.setups["stacked_mnist"] == theirs.setups["stacked_mnist"]
    assert ours.variants == theirs.variants
    assert (
        ours.evaluation.ranked_by["stacked_mnist"] == theirs.evaluation.ranked_by["stacked_mnist"]
    )
    assert dataclasses.replace(ours.evaluation, ranked_by={}) == dataclasses.replace(
        theirs.evaluation, ranked_by={}
    )
    assert ours.report_dir not in (
        theirs.report_dir,
        load_params(repo_root / "params.yaml").report_dir,
    )
