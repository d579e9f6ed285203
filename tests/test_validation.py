"""Bad params values: each is refused before any work, in one line naming the key, the value
and what is allowed (table-driven: one case per rule)."""

from __future__ import annotations

import math
import re

import pytest
import yaml

from gan_core.config import ConfigError
from stages.params import load_params


def _set(path: str, value):
    """A change to the default params: ``value`` at dotted ``path``."""

    def change(params: dict) -> None:
        *parents, last = path.split(".")
        node = params
        for key in parents:
            node = node[key]
        node[last] = value

    return change


CASES = [
    (_set("device", "gpu"), r"device: expected one of auto, cpu, cuda, got 'gpu'"),
    (_set("setups.ring8.steps", -5), r"setups\.ring8\.steps: expected an integer >= 1, got -5"),
    (_set("setups.ring8.steps", 0), r"setups\.ring8\.steps: expected an integer >= 1, got 0"),
    (_set("setups.mnist.batch_size", 0), r"setups\.mnist\.batch_size: expected an integer >= 1"),
    (_set("setups.ring8.z_dim", 0), r"setups\.ring8\.z_dim: expected an integer >= 1, got 0"),
    (_set("setups.ring8.width", 0), r"setups\.ring8\.width: expected an integer >= 1"),
    (_set("setups.ring8.depth", 0), r"setups\.ring8\.depth: expected an integer >= 1"),
    (_set("setups.ring8.width_d", 0), r"setups\.ring8\.width_d: expected an integer >= 1"),
    (_set("setups.ring8.log_every", 0), r"setups\.ring8\.log_every: expected an integer >= 1"),
    (_set("setups.mnist.n_fake", 0), r"setups\.mnist\.n_fake: expected an integer >= 2 \(a cov"),
    (_set("setups.mnist.n_fake", 1), r"setups\.mnist\.n_fake: expected an integer >= 2"),
    (_set("setups.ring8.checkpoint_every", -1), r"setups\.ring8\.checkpoint_every: expected an"),
    (_set("setups.ring8.threads", -2), r"setups\.ring8\.threads: expected an integer >= 0"),
    (_set("setups.ring8.steps", "many"), r"setups\.ring8\.steps: expected int, got 'many'"),
    (_set("variants.gan_ns.lr_g", -0.001),
     r"variants\.gan_ns\.lr_g: expected a finite number > 0, got -0\.001"),
    (_set("variants.gan_ns.lr_d", 0.0), r"variants\.gan_ns\.lr_d: expected a finite number > 0"),
    (_set("variants.gan_ns.lr_d", math.inf), r"variants\.gan_ns\.lr_d: expected a finite number"),
    (_set("variants.gan_ns.betas", [0.5]),
     r"variants\.gan_ns\.betas: expected two numbers in \[0, 1\), got \(0\.5,\)"),
    (_set("variants.gan_ns.betas", [0.5, 1.0]), r"variants\.gan_ns\.betas: expected two numbers"),
    (_set("variants.gan_ns.betas", [-0.1, 0.9]), r"variants\.gan_ns\.betas: expected two numbers"),
    (_set("variants.wgan.weight_clip", -0.01), r"variants\.wgan\.weight_clip: expected a finite"),
    (_set("variants.gan_ns.instance_noise", -1.0), r"variants\.gan_ns\.instance_noise: expected"),
    (_set("variants.unrolled.unroll_steps", -1), r"variants\.unrolled\.unroll_steps: expected an"),
    (_set("variants.wgan_gp.regularizers", {"gradient_penalty": -10.0}),
     r"variants\.wgan_gp\.regularizers: expected penalty weights that are finite numbers >= 0"),
    (_set("variants.dragan.by_dataset", {"ring8": {"regularizers": {"dragan": -1.0}}}),
     r"variants\.dragan\.by_dataset\.ring8\.regularizers: expected penalty weights"),
    (_set("variants.gan_ns.n_critic", 0), r"variants\.gan_ns\.n_critic: expected an integer >= 1"),
    (_set("variants.gan_ns.g_steps", 0), r"variants\.gan_ns\.g_steps: expected an integer >= 1"),
    (_set("setups.mnist.latent", "cauchy"), r"setups\.mnist\.latent: expected one of"),
    (_set("variants.pacgan.pack", 0), r"variants\.pacgan\.pack: expected an integer >= 1"),
    (_set("variants.gan_ns.ema_decay", 1.0), r"variants\.gan_ns\.ema_decay: expected 0 <= decay"),
    (_set("setups.ring8.batch_size", 127),
     r"suites\.toy: ring8 x pacgan: batch_size 127 is not a multiple of pack=2"),
    (_set("suites.toy.seeds", []), r"suites\.toy\.seeds: expected at least one seed, got \[\]"),
    (_set("suites.toy.seeds", [0, 0]), r"suites\.toy\.seeds: expected each seed once, got \[0, 0"),
    (_set("suites.images.seeds", [0, -1]), r"suites\.images\.seeds: expected integers >= 0"),
    (_set("suites.toy.variants", ["gan_mm", "gan_ns", "unrolled", "cgan"]),
     r"suites\.toy: cgan is conditional and needs labels, but ring8 is unlabelled points"),
    (_set("suites.toy.variants", ["gan_nss"]), r"suites\.toy\.variants: unknown name 'gan_nss'"),
    (_set("datasets.ring8.n_train", 0), r"datasets\.ring8\.n_train: expected an integer >= 1"),
    (_set("datasets.ring8.n_test", 0), r"datasets\.ring8\.n_test: expected an integer >= 1"),
    (_set("datasets.ring8.n_modes", 0), r"datasets\.ring8\.n_modes: expected an integer >= 1"),
    (_set("datasets.grid25.side", 0), r"datasets\.grid25\.side: expected an integer >= 1"),
    (_set("datasets.mnist.max_train", 0), r"datasets\.mnist\.max_train: expected an integer >= 1"),
    (_set("datasets.stacked_mnist.n_train", -3), r"datasets\.stacked_mnist\.n_train: expected"),
    (_set("evaluation.metrics.kid_subset_size", 0),
     r"evaluation\.metrics\.kid_subset_size: expected an integer >= 1, got 0"),
    (_set("evaluation.metrics.kid_subsets", 0), r"evaluation\.metrics\.kid_subsets: expected"),
    (_set("evaluation.metrics.is_splits", 0), r"evaluation\.metrics\.is_splits: expected"),
    (_set("evaluation.metrics.pr_k", 0), r"evaluation\.metrics\.pr_k: expected an integer >= 1"),
    (_set("evaluation.metrics.dc_k", 0), r"evaluation\.metrics\.dc_k: expected an integer >= 1"),
    (_set("evaluation.checkpoint_samples", 1), r"evaluation\.checkpoint_samples: expected an"),
]  # fmt: skip


@pytest.fixture()
def default_params(repo_root) -> dict:
    return yaml.safe_load((repo_root / "params.yaml").read_text())


@pytest.mark.parametrize(("change", "message"), CASES)
def test_a_bad_value_is_refused_naming_key_value_and_what_is_allowed(
    tmp_path, default_params, change, message
):
    """Through the command line as a user meets it: exit status 1 with the one line, and
    nothing written (no output, no progress folder, no MLflow database)."""
    from stages.cli import main

    change(default_params)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(default_params))
    with pytest.raises(ConfigError, match=f"^{message}"):
        load_params(path)
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_info:
        main([
            "--params", str(path), "train", "--dataset", "ring8", "--variant", "gan_ns",
            "--data", str(tmp_path / "data"), "--seed", "0", "--out", str(out / "model"),
            "--samples", str(out / "samples.npz"), "--progress", str(out / "progress"),
        ])  # fmt: skip
    line = str(exit_info.value.code)  # SystemExit with a message: exit status 1
    assert re.match(f"^ganbench train: {message}", line) and "\n" not in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["params.yaml"]


def test_a_stage_refuses_bad_params_before_writing_anything(tmp_path, default_params):
    from stages.cli import main

    default_params["setups"]["ring8"]["steps"] = 0
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(default_params))
    out = tmp_path / "prepared"
    with pytest.raises(SystemExit) as exit_info:
        main(["--params", str(path), "prepare", "ring8", "--out", str(out)])
    assert str(exit_info.value.code) == (
        "ganbench prepare: setups.ring8.steps: expected an integer >= 1, got 0"
    )
    assert not out.exists()
