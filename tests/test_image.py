"""The running picture and the loader for a learner's own picture."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from helpers.image import load_image, mountain_at_dusk


def test_mountain_shape_dtype_and_range():
    image = mountain_at_dusk()
    assert image.shape == (60, 100)
    assert image.dtype == np.float64
    assert image.min() >= 0.0 and image.max() <= 1.0


def test_mountain_is_deterministic():
    first, second = mountain_at_dusk(), mountain_at_dusk()
    assert first is not second
    np.testing.assert_array_equal(first, second)
    assert first.tobytes() == second.tobytes()


def test_mountain_is_pixel_art_with_few_grey_levels():
    levels = np.unique(mountain_at_dusk())
    assert 5 <= len(levels) <= 10, levels


def test_mountain_composition():
    image = mountain_at_dusk()
    top = np.flatnonzero(image[0] == 1.0)
    assert 20 <= len(top) <= 40, "the moon should be about 30 px wide where the top edge clips it"
    assert np.all(np.diff(top) == 1), "the moon is one solid disc"
    assert 35 <= top.mean() < 50, "the moon sits a little left of the middle"
    assert image[-1, 0] == 0.0 and image[-1, -1] == 0.0, "the bottom corners are ground"
    sky = image[15:25, 0:30]
    assert np.all((sky >= 0.4) & (sky <= 0.55)), "the sky has mid values"
    assert len(np.unique(sky)) == 2, "the sky is dithered between two levels"
    assert image[45, 20] == pytest.approx(0.6), "the near face on the lower left is lighter"
    assert image[45, 95] < image[45, 20], "ridges on the right are darker than the near face"


def test_load_image_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(12, 17), dtype=np.uint8)
    path = tmp_path / "grey.png"
    Image.fromarray(pixels, mode="L").save(path)
    loaded = load_image(path)
    assert loaded.shape == (12, 17) and loaded.dtype == np.float64
    np.testing.assert_allclose(loaded, pixels / 255.0, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(load_image(str(path)), loaded)


def test_load_image_converts_rgb_with_luma_weights(tmp_path):
    rgb = np.zeros((4, 6, 3), dtype=np.uint8)
    rgb[..., 0], rgb[..., 1], rgb[..., 2] = 200, 100, 50
    path = tmp_path / "colour.png"
    Image.fromarray(rgb, mode="RGB").save(path)
    loaded = load_image(path)
    # ITU-R 601 luma by hand: 0.299 * 200 + 0.587 * 100 + 0.114 * 50 = 124.2, stored as 124.
    assert loaded.shape == (4, 6)
    np.testing.assert_allclose(loaded, 124 / 255.0, atol=1 / 255.0)


def test_load_image_resizes_to_block_means(tmp_path):
    pixels = np.arange(8 * 12, dtype=np.uint8).reshape(8, 12) * 2
    path = tmp_path / "ramp.png"
    Image.fromarray(pixels, mode="L").save(path)
    small = load_image(path, size=(2, 3))
    assert small.shape == (2, 3)
    blocks = (pixels / 255.0).reshape(2, 4, 3, 4).mean(axis=(1, 3))
    np.testing.assert_allclose(small, blocks, atol=1e-6)
    np.testing.assert_array_equal(small, load_image(path, size=[2, 3]))


def test_load_image_missing_file(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        load_image(tmp_path / "no_such_picture.png")


def test_load_image_corrupt_file(tmp_path):
    path = tmp_path / "broken.png"
    path.write_bytes(b"this is not a picture at all")
    with pytest.raises(ValueError, match="broken.png.*not an image Pillow can read"):
        load_image(path)


@pytest.mark.parametrize("size", [(0, 10), (10,), (10, -1), (2.5, 3), "60x100", (True, 3), 60])
def test_load_image_bad_size(tmp_path, size):
    path = tmp_path / "grey.png"
    Image.fromarray(np.zeros((5, 5), dtype=np.uint8), mode="L").save(path)
    with pytest.raises(ValueError, match="size must be"):
        load_image(path, size=size)
