"""Sample pictures drawn with NumPy: the 1D histogram picture's bars, the PNGs written, and
a conditional generator's samples laid out by class."""

from __future__ import annotations

import numpy as np
from PIL import Image

from gan_core.figures import (
    FAKE_COLOUR,
    REAL_COLOUR,
    class_rows,
    histogram_image,
    save_samples_figure,
    scatter_image,
)

SIDE = 400


def _half_over_white(colour: tuple[int, int, int]) -> tuple[int, ...]:
    return tuple(int(np.round(0.5 * 255 + 0.5 * c)) for c in colour)


def test_two_equal_spikes_draw_two_bars_of_the_same_height():
    """Half the points at 0, half at 1: two bins of equal density, each bar 1/1.05 of the
    picture's height (rounded to rows), in the generated colour at half opacity."""
    fake = np.repeat([[0.0], [1.0]], 50, axis=0)
    picture = histogram_image(fake, side=SIDE)
    height = round(SIDE - 1 / 1.05 * (SIDE - 1))  # the first coloured row
    colour = _half_over_white(FAKE_COLOUR)
    coloured = [col for col in range(SIDE) if tuple(picture[-1, col]) == colour]
    assert coloured and (picture[height:, coloured] == colour).all()
    assert (picture[:height, coloured] == 255).all()
    runs = np.split(coloured, np.flatnonzero(np.diff(coloured) > 1) + 1)
    assert len(runs) == 2  # one bar per spike
    others = [col for col in range(SIDE) if col not in set(coloured)]
    assert (picture[:, others] == 255).all()


def test_generated_bars_blend_over_the_real_ones():
    points = np.zeros((10, 1))
    picture = histogram_image(points, points + 0.0, side=SIDE)
    bottom = {tuple(p) for p in picture[-1]}
    pairs = zip(REAL_COLOUR, FAKE_COLOUR, strict=True)
    blended = tuple(int(np.round(0.5 * r + 0.5 * f)) for r, f in pairs)
    assert bottom == {(255, 255, 255), blended}


def test_samples_figure_of_1d_2d_and_image_samples(tmp_path):
    rng = np.random.default_rng(0)
    for name, fake, shape in (
        ("mix1d", rng.normal(size=(200, 1)), (SIDE, SIDE, 3)),
        ("ring8", rng.normal(size=(200, 2)), (SIDE, SIDE, 3)),
        ("mnist", rng.integers(0, 256, (16, 28, 28, 1), dtype=np.uint8), (2 * 30 + 2, 242)),
    ):
        save_samples_figure(tmp_path / f"{name}.png", fake, None)
        assert np.asarray(Image.open(tmp_path / f"{name}.png")).shape == shape


def test_non_finite_points_are_left_out_of_the_pictures():
    nan = np.full((50, 2), np.nan)
    assert (scatter_image(nan) == 255).all()  # nothing to draw, no warning
    real = np.zeros((10, 1))
    with_nan = histogram_image(np.full((50, 1), np.nan), real, side=SIDE)
    assert (with_nan == histogram_image(np.zeros((0, 1)), real, side=SIDE)).all()


def test_class_rows_put_each_class_on_its_own_row_and_leave_missing_tiles_dark():
    labels = np.array([2, 0, 1, 0, 2, 2, 0])
    images = (
        (10 * (np.arange(7) + 1)).astype(np.uint8)[:, None, None, None].repeat(3, 1).repeat(3, 2)
    )
    grid = class_rows(images, labels, per_class=2)  # 3 rows of 2 tiles of 3 px, 2 px borders
    assert grid.shape == (3 * 5 + 2, 2 * 5 + 2, 1)
    tiles = [[int(grid[2 + 5 * r, 2 + 5 * c, 0]) for c in range(2)] for r in range(3)]
    # class 0: images 1 and 3 (the first two of three); class 1: image 2 only; class 2: 0, 4
    assert tiles == [[20, 40], [30, 0], [10, 50]]
