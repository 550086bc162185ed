"""The running picture and the loader for a learner's own picture.

Every picture is made here, in ``tmp_path``, with Pillow or numpy; each expected array is computed
by hand from the pixels written (ITU-R 601 luma as floats, the EXIF orientation table, ...).
"""

from __future__ import annotations

import os
import struct
import zlib

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
    assert loaded.shape == (12, 17) and loaded.dtype == np.float32
    np.testing.assert_allclose(loaded, pixels / 255.0, rtol=0, atol=1e-7)
    np.testing.assert_array_equal(load_image(str(path)), loaded)


def test_load_image_converts_rgb_with_luma_weights(tmp_path):
    rgb = np.zeros((4, 6, 3), dtype=np.uint8)
    rgb[..., 0], rgb[..., 1], rgb[..., 2] = 200, 100, 50
    path = tmp_path / "colour.png"
    Image.fromarray(rgb, mode="RGB").save(path)
    loaded = load_image(path)
    # ITU-R 601 luma by hand: 0.299 * 200 + 0.587 * 100 + 0.114 * 50 = 124.2, not rounded to 124.
    assert loaded.shape == (4, 6) and loaded.dtype == np.float32
    np.testing.assert_allclose(loaded, 124.2 / 255.0, rtol=1e-6)


def test_load_image_resizes_to_block_means(tmp_path):
    pixels = np.arange(8 * 12, dtype=np.uint8).reshape(8, 12) * 2
    path = tmp_path / "ramp.png"
    Image.fromarray(pixels, mode="L").save(path)
    small = load_image(path, size=(2, 3))
    assert small.shape == (2, 3)
    blocks = (pixels / 255.0).reshape(2, 4, 3, 4).mean(axis=(1, 3))
    np.testing.assert_allclose(small, blocks, atol=1e-6)
    np.testing.assert_array_equal(small, load_image(path, size=[2, 3]))


def test_load_image_missing_file(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="does not exist"):
        load_image(tmp_path / "no_such_picture.png")
    (tmp_path / "a_folder").mkdir()
    with pytest.raises(ValueError, match="does not exist"):
        load_image(tmp_path / "a_folder")
    # The words notebook 01 prints for a missing picture.
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError) as raised:
        load_image("no_such_photo.jpg", size=(60, 100))
    assert str(raised.value) == (
        "no image file at 'no_such_photo.jpg': the path does not exist (or is a folder). Check the spelling and "
        "the folder, e.g. put the picture next to the notebook and pass its name."
    )


@pytest.mark.parametrize("path", [None, 3, b"picture.png"])
def test_load_image_path_of_the_wrong_type(path):
    with pytest.raises(TypeError, match="path must be a path, a str or a pathlib.Path"):
        load_image(path)


def test_load_image_corrupt_file(tmp_path):
    path = tmp_path / "broken.png"
    path.write_bytes(b"this is not a picture at all")
    with pytest.raises(ValueError, match="broken.png.*not an image Pillow can read"):
        load_image(path)


@pytest.mark.parametrize(
    "size, error, words",
    [
        ((0, 10), ValueError, "size height must be a positive integer"),
        ((10,), ValueError, r"size needs 2 whole numbers \(height, width\), got 1"),
        ((10, -1), ValueError, "size width must be a positive integer"),
        ((2.5, 3), TypeError, "size height must be a whole number"),
        ("60x100", TypeError, "size must be a tuple or list of 2 whole numbers"),
        ((True, 3), TypeError, "size height must be a whole number"),
        (60, TypeError, "size must be a tuple or list of 2 whole numbers"),
    ],
)
def test_load_image_bad_size(tmp_path, size, error, words):
    path = tmp_path / "grey.png"
    Image.fromarray(np.zeros((5, 5), dtype=np.uint8), mode="L").save(path)
    with pytest.raises(error, match=words):
        load_image(path, size=size)


def luma(rgb: np.ndarray) -> np.ndarray:
    """ITU-R 601 luma of 0..255 RGB, as 0..1."""
    rgb = rgb.astype(np.float64)
    return (0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]) / 255.0


def check(loaded: np.ndarray, expected: np.ndarray, atol: float = 1e-6) -> None:
    assert loaded.dtype == np.float32
    assert loaded.shape == expected.shape
    assert loaded.min() >= 0.0 and loaded.max() <= 1.0
    np.testing.assert_allclose(loaded, expected, rtol=0, atol=atol)


def test_one_bit_picture(tmp_path):
    bits = np.array([[True, False, True], [False, False, True]])
    Image.fromarray(bits).save(tmp_path / "bits.png")
    check(load_image(tmp_path / "bits.png"), bits.astype(np.float64))


def test_sixteen_bit_picture_is_divided_by_65535(tmp_path):
    values = np.array([[0, 1, 255, 256], [1000, 32768, 65534, 65535]], dtype=np.uint16)
    Image.fromarray(values).save(tmp_path / "deep.png")
    with Image.open(tmp_path / "deep.png") as picture:
        assert picture.mode == "I;16"
    check(load_image(tmp_path / "deep.png"), values / 65535.0, atol=1e-7)


def test_thirty_two_bit_integers_are_stretched_not_divided_by_65535(tmp_path):
    values = np.array([[0, 70_000, 140_000], [210_000, 280_000, 350_000]], dtype=np.int32)
    Image.fromarray(values).save(tmp_path / "counts.tif")
    with Image.open(tmp_path / "counts.tif") as picture:
        assert picture.mode == "I"
    loaded = load_image(tmp_path / "counts.tif")
    check(loaded, values / 350_000.0)
    assert 0.0 < loaded.mean() < 1.0 and len(np.unique(loaded)) == 6, "not clipped to white"


def test_negative_integers_map_minimum_to_black(tmp_path):
    values = np.array([[-100, 0, 100, 300]], dtype=np.int32)
    Image.fromarray(values).save(tmp_path / "signed.tif")
    check(load_image(tmp_path / "signed.tif"), np.array([[0.0, 0.25, 0.5, 1.0]]))


def test_thirty_two_bit_zero_one_mask_is_kept(tmp_path):
    mask = np.array([[0, 1, 1], [1, 0, 0]], dtype=np.int32)
    Image.fromarray(mask).save(tmp_path / "mask.tif")
    check(load_image(tmp_path / "mask.tif"), mask.astype(np.float64))


def test_float_picture_from_0_to_255_is_not_white(tmp_path):
    rng = np.random.default_rng(1)
    values = rng.uniform(0.0, 255.0, size=(9, 13)).astype(np.float32)
    values[0, 0], values[-1, -1] = 0.0, 255.0
    Image.fromarray(values).save(tmp_path / "float255.tif")
    loaded = load_image(tmp_path / "float255.tif")
    check(loaded, values.astype(np.float64) / 255.0)
    assert (loaded > 0.99).mean() < 0.05


def test_float_picture_in_unit_range_is_kept_exactly(tmp_path):
    values = np.linspace(0.0, 1.0, 24, dtype=np.float32).reshape(4, 6)
    Image.fromarray(values).save(tmp_path / "unit.tif")
    loaded = load_image(tmp_path / "unit.tif")
    check(loaded, values.astype(np.float64), atol=0)


def test_flat_float_picture_outside_unit_range_is_clipped(tmp_path):
    Image.fromarray(np.full((3, 3), 40.0, dtype=np.float32)).save(tmp_path / "flat.tif")
    check(load_image(tmp_path / "flat.tif"), np.ones((3, 3)))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_infinite_pixels_are_refused(tmp_path, bad):
    values = np.zeros((4, 4), dtype=np.float32)
    values[2, 1] = bad
    path = tmp_path / "holes.tif"
    Image.fromarray(values).save(path)
    with pytest.raises(ValueError, match=r"holes\.tif.*NaN or infinite.*nan_to_num"):
        load_image(path)


# EXIF orientation tag -> how the stored pixels must be turned to be upright (the EXIF 2.3 table:
# e.g. 6 = "row 0 is the visual right side, column 0 the visual top", a 90 degree clockwise turn).
UPRIGHT = {
    1: lambda a: a,
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1, :],
    5: lambda a: a.T,
    6: lambda a: np.rot90(a, -1),
    7: lambda a: a[::-1, ::-1].T,
    8: lambda a: np.rot90(a, 1),
}


@pytest.mark.parametrize("orientation", sorted(UPRIGHT))
def test_exif_orientation_is_applied(tmp_path, orientation):
    stored = np.arange(3 * 5, dtype=np.uint8).reshape(3, 5) * 17  # not square, no symmetry
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / "phone.png"
    Image.fromarray(stored).save(path, exif=exif)
    check(load_image(path), UPRIGHT[orientation](stored) / 255.0, atol=1e-7)


def test_phone_jpeg_turned_upright(tmp_path):
    stored = np.zeros((64, 96), dtype=np.uint8)
    stored[:32, :48] = 255  # the stored top-left quarter is white
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned 90 degrees clockwise: that quarter ends up top right
    path = tmp_path / "photo.jpg"
    Image.fromarray(stored).save(path, quality=95, exif=exif)
    loaded = load_image(path)
    assert loaded.shape == (96, 64)
    assert loaded[:48, 32:].mean() > 0.95 and loaded[48:, :].mean() < 0.05 and loaded[:48, :32].mean() < 0.05


def test_alpha_is_composited_over_white(tmp_path):
    rgba = np.zeros((2, 4, 4), dtype=np.uint8)
    rgba[..., 0], rgba[..., 1], rgba[..., 2] = 200, 100, 50
    rgba[..., 3] = [[0, 64, 128, 255], [255, 255, 0, 32]]
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "logo.png")
    a = rgba[..., 3] / 255.0
    check(load_image(tmp_path / "logo.png"), luma(rgba[..., :3]) * a + 1.0 * (1.0 - a))


def test_grey_with_alpha(tmp_path):
    la = np.array([[[0, 255], [0, 0], [100, 128]]], dtype=np.uint8)  # (1, 3, 2): grey, alpha
    Image.fromarray(la, mode="LA").save(tmp_path / "la.png")
    a = la[..., 1] / 255.0
    check(load_image(tmp_path / "la.png"), la[..., 0] / 255.0 * a + (1.0 - a))


def test_palette_picture_with_a_transparent_entry(tmp_path):
    palette = [10, 20, 30, 250, 0, 0, 0, 0, 255, 90, 90, 90]  # 4 colours
    indices = np.array([[0, 1, 2], [3, 2, 1]], dtype=np.uint8)
    picture = Image.fromarray(indices, mode="P")
    picture.putpalette(palette)
    picture.save(tmp_path / "palette.png", transparency=3)  # entry 3 is fully transparent
    colours = np.array(palette, dtype=np.float64).reshape(4, 3)
    expected = luma(colours[indices])
    expected[indices == 3] = 1.0  # transparent: white
    check(load_image(tmp_path / "palette.png"), expected)


def test_cmyk_picture(tmp_path):
    cmyk = np.array(
        [[[0, 0, 0, 0], [255, 0, 0, 0], [0, 0, 0, 255]], [[0, 128, 255, 0], [51, 102, 153, 64], [10, 200, 30, 128]]],
        dtype=np.uint8,
    )
    Image.fromarray(cmyk, mode="CMYK").save(tmp_path / "print.tif")
    c, m, y, k = (cmyk[..., i] / 255.0 for i in range(4))
    rgb = 255.0 * np.stack([(1 - c) * (1 - k), (1 - m) * (1 - k), (1 - y) * (1 - k)], axis=-1)
    expected = luma(rgb)
    assert expected[0, 0] == pytest.approx(1.0) and expected[0, 2] == 0.0  # no ink white, full black ink black
    check(load_image(tmp_path / "print.tif"), expected)


def test_lab_picture_is_refused(tmp_path):
    Image.new("LAB", (4, 3), (50, 128, 128)).save(tmp_path / "scan.tif")
    with pytest.raises(ValueError, match=r"scan\.tif.*LAB.*RGB or greyscale PNG"):
        load_image(tmp_path / "scan.tif")


def png_claiming(width: int, height: int) -> bytes:
    """A valid 1 x 1 grey PNG whose header claims ``width x height``: a decompression bomb's shape."""
    raw = zlib.compress(b"\x00\x00")  # one row: filter byte, one pixel

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def test_png_claiming_is_a_real_png(tmp_path):
    (tmp_path / "one.png").write_bytes(png_claiming(1, 1))
    check(load_image(tmp_path / "one.png"), np.zeros((1, 1)))


@pytest.mark.parametrize("side", [10_000, 20_000])  # 1e8 pixels: Pillow warns; 4e8: Pillow refuses
def test_decompression_bombs_are_refused(tmp_path, side):
    assert side * side > Image.MAX_IMAGE_PIXELS
    path = tmp_path / "bomb.png"
    path.write_bytes(png_claiming(side, side))
    with pytest.raises(ValueError, match=r"bomb\.png.*too large to open safely.*Shrink it"):
        load_image(path)


# ---- memory (issue 22): a small multiple of the picture's pixel count, not 45 bytes a pixel ----------


def _status(key: str) -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith(key + ":"))


def bytes_per_pixel(path, size) -> float:
    """How far this process's peak memory (VmHWM) rises above its resident size while loading ``path``, per pixel.

    Writing 5 to /proc/self/clear_refs resets the peak to the current resident size (Linux 4.0+).
    """
    with Image.open(path) as picture:
        pixels = picture.width * picture.height
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")
    before = _status("VmRSS")
    load_image(path, size)
    return (_status("VmHWM") - before) / pixels


needs_proc = pytest.mark.skipif(
    not os.path.exists("/proc/self/clear_refs"), reason="measures memory through Linux's /proc"
)


@needs_proc
@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA"])
def test_a_twelve_megapixel_png_needs_a_small_multiple_of_its_pixel_count(tmp_path, mode):
    path = tmp_path / "big.png"  # 4000 x 3000 of one colour: a few kilobytes on disk
    Image.new(mode, (4000, 3000), (200, 100, 50, 128)[: len(mode)] if mode != "L" else 120).save(path)
    # The decoded picture (1 or 4 bytes a pixel in Pillow) plus the float32 result: 5 to 8 bytes a pixel,
    # with room for the allocator; the loader that this replaced needed about 45-52.
    assert bytes_per_pixel(path, None) < 16
    assert bytes_per_pixel(path, (60, 100)) < 16


@needs_proc
def test_a_large_jpeg_is_decoded_at_a_reduced_scale_when_a_small_size_is_asked(tmp_path):
    rng = np.random.default_rng(0)
    smooth = np.kron(rng.integers(0, 256, (30, 40, 3)), np.ones((100, 100, 1))).astype(np.uint8)
    path = tmp_path / "photo.jpg"
    Image.fromarray(smooth).save(path, quality=95)
    assert bytes_per_pixel(path, (60, 100)) < 2  # 1/8 scale: far below one byte a full-size pixel
    full = load_image(path)
    blocks = full.reshape(60, 50, 100, 40).mean(axis=(1, 3))  # the box filter on the full decode
    error = np.abs(load_image(path, (60, 100)) - blocks)  # the reduced decode blurs only the squares' edges
    assert error.mean() < 0.01 and error.max() < 0.1
