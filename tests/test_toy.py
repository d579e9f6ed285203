"""The Gaussian-mixture datasets follow their stated construction."""

from __future__ import annotations

import math

import numpy as np
from scipy import integrate

from gan_core.data.toy import (
    GridConfig,
    Mix1dConfig,
    RingConfig,
    build_grid,
    build_mix1d,
    build_ring,
    grid_centres,
    mixture_density,
    ring_centres,
)


def test_ring_centres_lie_on_the_circle():
    centres = ring_centres(8, 1.0)
    np.testing.assert_allclose(np.linalg.norm(centres, axis=1), 1.0)
    np.testing.assert_allclose(centres[2], [0.0, 1.0], atol=1e-12)


def test_grid_centres_are_the_pacgan_lattice():
    centres = grid_centres(5, 2.0)
    assert sorted(set(centres[:, 0].tolist())) == [-4.0, -2.0, 0.0, 2.0, 4.0]
    assert len(centres) == 25


def test_ring_samples_match_the_mixture():
    ds = build_ring("ring8", RingConfig("ring", n_train=40_000, n_test=100, seed=3), None)
    x, y = ds.train.x, ds.train.y
    assert x.dtype == np.float32 and x.shape == (40_000, 2)
    centres = np.asarray(ds.info["modes"])
    np.testing.assert_allclose(np.bincount(y) / len(y), 1 / 8, atol=0.01)
    residual = x - centres[y]
    np.testing.assert_allclose(residual.std(axis=0), 0.01, rtol=0.03)


def test_builders_are_deterministic_for_a_seed():
    cfg = GridConfig("grid", n_train=500, n_test=50, seed=7)
    a, b = build_grid("g", cfg, None), build_grid("g", cfg, None)
    np.testing.assert_array_equal(a.train.x, b.train.x)
    np.testing.assert_array_equal(a.test.y, b.test.y)


def test_mix1d_density_integrates_to_one_and_matches_samples():
    ds = build_mix1d("m", Mix1dConfig("mix1d", weights=(0.3, 0.7)), None)
    total, _ = integrate.quad(lambda t: mixture_density(np.array([t]), ds.info)[0], -10, 10)
    assert math.isclose(total, 1.0, rel_tol=1e-8)
    assert abs((ds.train.x[:, 0] > 0).mean() - 0.7) < 0.01
