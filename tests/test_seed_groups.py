"""Seed groups: several seeds trained as one stacked model give each seed the result it gets
alone, whatever seeds share its group; a group resumes to the bits of an uninterrupted run;
every toy variant of params.yaml stacks."""

from __future__ import annotations

import dataclasses
import io

import pytest
import torch
from torch.testing import assert_close

from gan_core.config import parse
from gan_core.data.toy import Mix1dConfig, RingConfig, build_mix1d, build_ring
from gan_core.models import ModelConfig, build_networks
from gan_core.models.stacked import NotStackableError, member_state, stack_networks
from gan_core.training.loop import GANTrainer
from gan_core.training.variants import SetupConfig, VariantConfig, plan_run, to_model_range
from stages.params import load_params

CPU = torch.device("cpu")
pytestmark = pytest.mark.usefixtures("one_thread")
RING = build_ring("ring8", RingConfig("ring", n_train=20_000, n_test=100), None)
SETUP = SetupConfig(arch="mlp", z_dim=2, width=32, depth=2, steps=20, batch_size=64, n_fake=500)
MIX1D = build_mix1d("mix1d", Mix1dConfig("mix1d", n_train=20_000, n_test=100), None)
SETUP_1D = dataclasses.replace(SETUP, z_dim=1, batch_size=128)
SEED, GROUP = 3, tuple(range(10))  # seed 3 alone, and among seeds 0-9
# Every stochastic piece that stacks: penalty draws, instance noise, EMA, unrolling,
# spectral norm's power iteration, a minibatch layer, packing, several critic steps.
EVERYTHING = {
    "loss": "ns", "regularizers": {"gradient_penalty": 1.0, "dragan": 1.0}, "n_critic": 2,
    "instance_noise": 0.1, "ema_decay": 0.9, "unroll_steps": 2, "spectral_norm_d": True,
    "minibatch": "minibatch_std", "pack": 2,
}  # fmt: skip
# The toy variants that cannot train as a seed group (none: every toy network stacks).
SEQUENTIAL: frozenset[str] = frozenset()


def _toy_variants(repo_root, suites=("toy", "toy_1d")) -> dict[str, VariantConfig]:
    params = load_params(repo_root / "params.yaml")
    names = [v for suite in suites for v in params.suites[suite].variants]
    return {name: params.variants[name] for name in dict.fromkeys(names)}


def _trainer(
    variant: VariantConfig,
    seeds: int | tuple[int, ...],
    dtype=torch.float32,
    dataset=RING,
    setup: SetupConfig = SETUP,
):
    """One model for an int seed, else a stacked group, in ``dtype``."""
    default = torch.get_default_dtype()
    torch.set_default_dtype(dtype)  # networks, latents and penalty draws in dtype
    try:
        group = seeds if isinstance(seeds, tuple) else (seeds,)
        plans = [plan_run(dataset, setup, variant, seed) for seed in group]
        gens, discs = [p.gen for p in plans], [p.disc for p in plans]
        if isinstance(seeds, tuple):
            gens, discs = [stack_networks(gens)], [stack_networks(discs)]
        data = to_model_range(dataset.train.x).to(dtype)
        plan, z_dim = plans[0], setup.z_dim
        return GANTrainer(gens[0], discs[0], plan.loss, data, None, plan.train, z_dim, seeds, CPU)
    finally:
        torch.set_default_dtype(default)


def _train(trainer: GANTrainer, dtype=torch.float32) -> None:
    default = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        trainer.train()
    finally:
        torch.set_default_dtype(default)


def test_a_seed_trains_in_a_group_as_it_does_alone(repo_root):
    """Every toy variant of params.yaml: seed 3 trained alone (one model) and trained among
    seeds 0-9 (one stacked model) end with the same weights and history.

    In float64, so that the comparison sees the mathematics: the member's arithmetic is the
    same operations, only the batched matmuls' summation order (and the fused optimizer's
    vector lanes) differ, ~1e-16 relative per operation; after 20 steps the differences
    stay below 1e-12 (measured: <= 1e-15 absolute), while anything shared between seeds
    (noise, batch statistics, a minibatch layer across seeds, a penalty's std) would move
    a weight by 1e-3 or more. In float32 the same roundings are ~1e-7, but minibatch
    discrimination's L1 kernel has a discontinuous gradient (the sign of M_i - M_j), so a
    1-ulp difference can flip a term: float32 runs agree to ~1e-6 for most variants and
    drift apart for that one (see the float32 test below)."""
    for name, variant in _toy_variants(repo_root).items():
        if name not in SEQUENTIAL:
            _assert_trains_in_a_group_as_alone(name, variant)


def test_simultaneous_updates_train_in_a_group_as_alone():
    """PacGAN's reproduction updates both players at once: with every stochastic piece that
    such a round allows, seed 3 in a group of 10 ends as it does alone (float64, as above)."""
    options = {key: value for key, value in EVERYTHING.items()
               if key not in ("n_critic", "unroll_steps")}  # fmt: skip
    variant = parse(VariantConfig, {**options, "updates": "simultaneous"}, "variant")
    _assert_trains_in_a_group_as_alone("simultaneous", variant)


def _assert_trains_in_a_group_as_alone(name: str, variant: VariantConfig) -> None:
    dtype = torch.float64
    alone, group = _trainer(variant, SEED, dtype), _trainer(variant, GROUP, dtype)
    _train(alone, dtype)
    _train(group, dtype)
    (result,), results = alone.results(), group.results()
    index = GROUP.index(SEED)
    assert results[index].status == result.status == "ok", name
    assert results[index].steps_done == result.steps_done == SETUP.steps, name
    ours, theirs = alone.member_states(0), group.member_states(index)
    for network in ("gen", "disc"):
        assert ours[network].keys() == theirs[network].keys(), name
        for key, value in ours[network].items():
            assert_close(theirs[network][key], value, rtol=1e-9, atol=1e-12, msg=name)
    for key, values in result.history.items():
        assert_close(results[index].history[key], values, rtol=1e-9, atol=1e-12, msg=name)


def test_a_seeds_result_is_the_same_bits_in_any_group(repo_root):
    """Every toy variant of params.yaml, float32: seed 3 trained in a group of its own and
    among seeds 0-9 ends with bit-identical weights and history. Each stacked operation
    computes a member from that member's data only, in an order that does not depend on the
    group's size (the optimizer's per-operation implementation, layers with one input or
    output per member), so adding a seed to a suite leaves the other seeds' results as
    they were. The 1D suite's variants on 1D data (layers with one input)."""
    cases = [(name, variant, RING, SETUP) for name, variant in _toy_variants(repo_root).items()]
    cases += [(name, variant, MIX1D, SETUP_1D)
              for name, variant in _toy_variants(repo_root, ("toy_1d",)).items()]  # fmt: skip
    for name, variant, dataset, setup in cases:
        if name in SEQUENTIAL:
            continue
        small = _trainer(variant, (SEED,), dataset=dataset, setup=setup)
        large = _trainer(variant, GROUP, dataset=dataset, setup=setup)
        small.train()
        large.train()
        index = GROUP.index(SEED)
        assert small.results()[0] == large.results()[index], name
        ours, theirs = small.member_states(0), large.member_states(index)
        for network in ("gen", "disc"):
            for key, value in ours[network].items():
                assert torch.equal(theirs[network][key], value), (name, network, key)


def test_a_seed_trains_in_a_float32_group_close_to_alone():
    """The default dtype: the same comparison for gan_ns, within float32 rounding (~1e-7
    per operation, 20 steps)."""
    variant = parse(VariantConfig, {"loss": "ns"}, "variant")
    alone, group = _trainer(variant, SEED), _trainer(variant, GROUP)
    alone.train()
    group.train()
    ours, theirs = alone.member_states(0), group.member_states(GROUP.index(SEED))
    for network in ("gen", "disc"):
        for key, value in ours[network].items():
            assert_close(theirs[network][key], value, rtol=1e-5, atol=1e-6)


def test_resuming_a_seed_group_gives_the_weights_of_an_uninterrupted_run():
    variant = parse(VariantConfig, EVERYTHING, "variant")
    seeds = (0, 4, 7)
    uninterrupted = _trainer(variant, seeds)
    uninterrupted.train()
    interrupted = _trainer(variant, seeds)
    interrupted.train(until=13)
    saved = io.BytesIO()
    torch.save(interrupted.state_dict(), saved)
    del interrupted
    resumed = _trainer(variant, seeds)
    torch.manual_seed(12345)  # a fresh process: the global stream is elsewhere
    saved.seek(0)
    resumed.load_state_dict(torch.load(saved, weights_only=True))
    assert resumed.step == 13
    resumed.train()
    for index in range(len(seeds)):
        ours, theirs = uninterrupted.member_states(index), resumed.member_states(index)
        for network in ("gen", "disc"):
            for key, value in ours[network].items():
                assert torch.equal(theirs[network][key], value), (index, network, key)
    assert uninterrupted.results() == resumed.results()


def test_every_toy_variant_stacks(repo_root):
    variants = _toy_variants(repo_root)
    assert set(variants) >= SEQUENTIAL
    for name, variant in variants.items():
        plans = [plan_run(RING, SETUP, variant, seed) for seed in (0, 1)]
        if name in SEQUENTIAL:
            with pytest.raises(NotStackableError):
                stack_networks([p.disc for p in plans])
            continue
        for kind in ("gen", "disc"):
            networks = [getattr(p, kind) for p in plans]
            stacked = stack_networks(networks)
            # a member's state is the copy's, and the stacked network computes what it does
            for index, network in enumerate(networks):
                assert member_state(stacked, index).keys() == network.state_dict().keys()
                for key, value in network.state_dict().items():
                    assert torch.equal(member_state(stacked, index)[key], value), (name, key)


@pytest.mark.parametrize(
    ("arch", "options", "layer"),
    [
        ("dcgan", {"data_shape": (1, 28, 28)}, "DCGANGenerator has no stacked form"),
        ("mlp", {"data_shape": (2,), "norm_d": "batch"}, "BatchNorm1d"),
        ("mlp", {"data_shape": (2,), "norm_d": "layer"}, "LayerNorm"),
    ],
)
def test_networks_without_a_stacked_form_are_refused(arch, options, layer):
    cfg = ModelConfig(z_dim=2, width=8, **options)
    copies = [build_networks(arch, cfg) for _ in range(2)]
    networks = [disc for _, disc in copies] if "norm_d" in options else [g for g, _ in copies]
    with pytest.raises(NotStackableError, match=layer):
        stack_networks(networks)


@pytest.mark.parametrize(
    "options",
    [
        {"spectral_norm_d": True, "minibatch": "minibatch_discrimination", "pack": 2},
        {"spectral_norm_g": True, "minibatch": "minibatch_std", "n_classes": 3},
    ],
    ids=["sn-minibatch-pack", "conditional"],
)
def test_a_stacked_network_computes_each_copys_output(options):
    torch.manual_seed(0)
    cfg = ModelConfig((2,), z_dim=2, width=8, **options)
    copies = [build_networks("mlp", cfg) for _ in range(3)]
    labels = torch.randint(3, (3, 16)) if cfg.n_classes else None  # [S, N]
    for kind in (0, 1):
        networks = [pair[kind] for pair in copies]
        stacked = stack_networks(networks)
        inputs = torch.randn(3, 16, 2)
        outputs = stacked(inputs, labels)
        for index, network in enumerate(networks):
            expected = network(inputs[index], None if labels is None else labels[index])
            assert_close(outputs[index], expected, rtol=1e-6, atol=1e-6)


def test_a_tuple_of_seeds_needs_stacked_networks():
    plan = plan_run(RING, SETUP, parse(VariantConfig, {"loss": "ns"}, "variant"), 0)
    data = to_model_range(RING.train.x)
    with pytest.raises(ValueError, match="stacked networks"):
        GANTrainer(plan.gen, plan.disc, plan.loss, data, None, plan.train, 2, (0, 1), CPU)


def test_a_diverging_seed_stops_alone_and_its_group_goes_on():
    """gan_ml at a learning rate where seeds 0, 1, 2 and 5 diverge (a loss becomes
    infinite) within 5 steps and seeds 3, 4 do not: in a group, each seed stops at the step
    it stops at alone, keeps the networks it had then, and the others train to the end."""
    variant = parse(VariantConfig, {"loss": "ml", "lr_g": 0.5, "lr_d": 0.5}, "variant")
    seeds = tuple(range(6))
    group = _trainer(variant, seeds)
    results = group.train()
    for index, seed in enumerate(seeds):
        alone = _trainer(variant, seed)
        (result,) = alone.train()
        assert (results[index].status, results[index].steps_done) == (
            result.status, result.steps_done,
        ), seed  # fmt: skip
        ours, theirs = alone.member_states(0), group.member_states(index)
        for network in ("gen", "disc"):
            for key, value in ours[network].items():
                assert_close(theirs[network][key], value, rtol=1e-4, atol=1e-5, equal_nan=True)
    assert [r.status for r in results] == ["diverged"] * 3 + ["ok"] * 2 + ["diverged"]
    assert group.step == SETUP.steps
