"""params.yaml: every name resolves, and bad input fails naming the key and valid names."""

from __future__ import annotations

import pytest
import yaml

from gan_core.config import ConfigError
from stages.params import load_params


def _write(tmp_path, params: dict):
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    return path


@pytest.fixture()
def default_params(repo_root) -> dict:
    return yaml.safe_load((repo_root / "params.yaml").read_text())


def test_every_variant_and_dataset_in_params_resolves(repo_root):
    params = load_params(repo_root / "params.yaml")
    assert params.runs(), "the default profile runs something"
    for dataset, variant, seed in params.runs():
        assert dataset in params.datasets and dataset in params.setups
        assert variant in params.variants and isinstance(seed, int)


def test_unknown_loss_lists_valid_names(tmp_path, default_params):
    default_params["variants"]["gan_ns"]["loss"] = "nonsaturating"
    with pytest.raises(
        ConfigError, match=r"variants\.gan_ns\.loss: unknown loss 'nonsaturating'; valid: .*ns"
    ):
        load_params(_write(tmp_path, default_params))


def test_unknown_key_is_rejected(tmp_path, default_params):
    default_params["variants"]["gan_ns"]["learning_rate"] = 1e-3
    with pytest.raises(ConfigError, match=r"variants\.gan_ns\.learning_rate: unknown key"):
        load_params(_write(tmp_path, default_params))


def test_unknown_dataset_kind_and_suite_entry(tmp_path, default_params):
    bad = {**default_params, "datasets": {**default_params["datasets"], "ring8": {"kind": "ringg"}}}
    with pytest.raises(ConfigError, match=r"datasets\.ring8\.kind: unknown dataset kind 'ringg'"):
        load_params(_write(tmp_path, bad))
    default_params["suites"]["toy"]["variants"] = ["gan_nss"]
    with pytest.raises(ConfigError, match=r"suites\.toy\.variants: unknown name 'gan_nss'"):
        load_params(_write(tmp_path, default_params))


def test_wrong_type_names_the_key(tmp_path, default_params):
    default_params["setups"]["ring8"]["steps"] = "many"
    with pytest.raises(ConfigError, match=r"setups\.ring8\.steps: expected int, got 'many'"):
        load_params(_write(tmp_path, default_params))


def test_cli_reports_bad_params_in_one_line(tmp_path, default_params, capsys):
    from stages.cli import main

    default_params["variants"]["gan_ns"]["loss"] = "nope"
    path = _write(tmp_path, default_params)
    with pytest.raises(SystemExit) as exit_info:
        main(["--params", str(path), "prepare", "ring8", "--out", str(tmp_path / "out")])
    message = str(exit_info.value.code)
    assert message.startswith("ganbench prepare: variants.gan_ns.loss: unknown loss 'nope'")
    assert "\n" not in message and not (tmp_path / "out").exists()


def test_the_floor_rows_variant_name_is_reserved(tmp_path, default_params):
    default_params["variants"]["real"] = {"loss": "ns"}
    with pytest.raises(ConfigError, match=r"variants\.real: the name is reserved for the real"):
        load_params(_write(tmp_path, default_params))


def test_evaluation_protocol_and_inception_weights(tmp_path, default_params):
    params = load_params(_write(tmp_path, default_params))
    assert params.metrics.kid_subsets == 100 and params.metrics.pr_k == 3
    assert params.inception.endswith("fid_inception/inception_pool3.pt")
    default_params["evaluation"]["inception_weights"] = "weights/mine.pt"
    assert load_params(_write(tmp_path, default_params)).inception == "weights/mine.pt"
    default_params["evaluation"]["metrics"]["pr_kk"] = 3
    with pytest.raises(ConfigError, match=r"evaluation\.metrics\.pr_kk: unknown key"):
        load_params(_write(tmp_path, default_params))


def test_the_gpu_profile_resolves_and_scores_in_inception_space(repo_root):
    gpu = load_params(repo_root / "profiles" / "gpu.yaml")
    default = load_params(repo_root / "params.yaml")
    assert gpu.evaluation.inception and not default.evaluation.inception
    assert len(gpu.runs()) > len(default.runs())
    assert gpu.suites.keys() == default.suites.keys()  # dvc.yaml expands the same suites


def test_diagnostics_section_is_checked(tmp_path, default_params):
    params = load_params(_write(tmp_path, default_params))
    assert params.diagnostics.data == "mix1d"
    assert params.diagnostics.vanishing_gradients.costs == ("minimax", "ns", "ml")
    bad_data = yaml.safe_load(yaml.safe_dump(default_params))
    bad_data["diagnostics"]["data"] = "ring8"
    with pytest.raises(ConfigError, match=r"diagnostics\.data: 'ring8' must name .* mix1d"):
        load_params(_write(tmp_path, bad_data))
    bad_cost = yaml.safe_load(yaml.safe_dump(default_params))
    bad_cost["diagnostics"]["vanishing_gradients"]["costs"] = ["minimax", "nss"]
    with pytest.raises(ConfigError, match=r"vanishing_gradients\.costs: unknown loss 'nss'"):
        load_params(_write(tmp_path, bad_cost))
    untrained = yaml.safe_load(yaml.safe_dump(default_params))
    untrained["diagnostics"]["training_dynamics"]["variants"] = ["wgan"]
    with pytest.raises(ConfigError, match=r"no suite trains wgan on mix1d"):
        load_params(_write(tmp_path, untrained))
    default_params["evaluation"]["checkpoint_samples"] = 1
    with pytest.raises(ConfigError, match=r"evaluation\.checkpoint_samples: expected .* >= 2"):
        load_params(_write(tmp_path, default_params))


def test_each_image_dataset_is_scored_by_a_trained_classifier(tmp_path, default_params):
    default_params["suites"]["images"]["datasets"] = ["mnist", "stacked_mnist"]
    default_params["setups"]["stacked_mnist"] = dict(default_params["setups"]["mnist"])
    params = load_params(_write(tmp_path, default_params))
    assert params.classifier_for("stacked_mnist") == "mnist"
    assert params.classifier_for("mnist") == "mnist"
    default_params["classifier"]["datasets"] = ["fashion_mnist"]
    with pytest.raises(ConfigError, match=r"^classifier: suites.images scores mnist with the"):
        load_params(_write(tmp_path, default_params))
    default_params["classifier"]["datasets"] = ["mnist", "fashion_mnist"]
    default_params["evaluation"]["classifier_of"] = {"stacked_mnist": "cifar10"}
    with pytest.raises(
        ConfigError, match=r"evaluation\.classifier_of\.stacked_mnist: .* no cifar10"
    ):
        load_params(_write(tmp_path, default_params))


def test_a_variant_changes_settings_on_one_dataset_only(tmp_path, default_params):
    params = load_params(_write(tmp_path, default_params))
    assert params.variant("dragan", "ring8").regularizers == {"dragan": 0.1}
    assert params.variant("dragan", "mnist").regularizers == {"dragan": 10.0}
    assert params.variant("dragan", "ring8").norm_d == "none"  # the rest is the variant's own
    assert params.variants["dragan"].regularizers == {"dragan": 10.0}
    default_params["variants"]["dragan"]["by_dataset"] = {"ring9": {"n_critic": 2}}
    with pytest.raises(
        ConfigError, match=r"^variants\.dragan\.by_dataset\.ring9: unknown dataset; valid: "
    ):
        load_params(_write(tmp_path, default_params))
    default_params["variants"]["dragan"]["by_dataset"] = {"ring8": {"n_critic": 0}}
    with pytest.raises(
        ConfigError, match=r"^variants\.dragan\.by_dataset\.ring8\.n_critic: expected an integer"
    ):
        load_params(_write(tmp_path, default_params))


def test_ranked_by_names_a_snapshot_score(tmp_path, default_params):
    default_params["evaluation"]["ranked_by"] = {"mnist": "accuracy"}
    with pytest.raises(
        ConfigError, match=r"^evaluation\.ranked_by\.mnist: unknown snapshot score 'accuracy'"
    ):
        load_params(_write(tmp_path, default_params))
    default_params["evaluation"]["ranked_by"] = {"cifar": "fid"}
    with pytest.raises(ConfigError, match=r"^evaluation\.ranked_by\.cifar: unknown dataset"):
        load_params(_write(tmp_path, default_params))
