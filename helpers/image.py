"""The series' running picture, drawn in code, and a loader for a learner's own picture."""

from __future__ import annotations

import math
import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from . import checks

HEIGHT, WIDTH = 60, 100

# The eight flat grey levels of the picture, darkest to lightest.
GROUND, SHADOW, RIDGE, FAR_RIDGE = 0.0, 0.1, 0.2, 0.3
HAZE, SKY, FACE, MOON = 0.42, 0.5, 0.6, 1.0


def _under(cols: np.ndarray, rows: np.ndarray, xs: list[float], ys: list[float]) -> np.ndarray:
    """Pixels on or below the skyline through ``(xs[i], ys[i])``, for columns xs[0] to xs[-1]."""
    top = np.interp(cols, xs, ys)
    inside = (cols >= xs[0]) & (cols <= xs[-1])
    return inside & (rows >= np.round(top))


def mountain_at_dusk() -> np.ndarray:
    """The running example: mountains at dusk under a full moon, ``(60, 100)`` float64 in [0, 1].

    Pixel art with eight flat grey levels, painted back to front: a dithered sky, a moon
    clipped by the top edge, a far ridge, a light near face on the left, darker ridges rising
    to the right and black ground in the bottom corners. The same call always gives the
    same array. It recreates the look of "Mountain at Dusk Background" by Luis Zuno
    (@ansimuz, CC0, opengameart.org) with its own geometry.
    """
    rows, cols = np.mgrid[0:HEIGHT, 0:WIDTH]
    image = np.full((HEIGHT, WIDTH), SKY)

    # Sky: solid at the top, then dithered bands that grow denser towards the horizon.
    sparse = (rows >= 5) & (rows < 14) & (rows % 3 == 0) & ((cols + rows) % 4 == 0)
    medium = (rows >= 14) & (rows < 21) & (rows % 2 == 0) & ((cols + rows // 2) % 2 == 0)
    checker = (rows >= 21) & (rows < 36) & ((rows + cols) % 2 == 0)
    image[sparse | medium | checker] = HAZE
    image[rows >= 36] = HAZE

    # The full moon: a disc centred above the frame, so the top edge clips it (~30 px wide at row 0).
    moon = (rows + 10.5) ** 2 + (cols - 45.5) ** 2 <= 18.5**2
    image[moon] = MOON

    # A low hazy hill on the far left, then the far ridge behind everything on the right.
    image[_under(cols, rows, [0, 8, 18, 30], [31, 28, 30, 36])] = HAZE
    image[_under(cols, rows, [33, 40, 50, 58, 66, 76, 88, 100], [31, 28, 31, 34, 38, 37, 33, 29])] = FAR_RIDGE

    # The near mountain face, lit by the moon: a long slope up from the left to a peak, then a cliff.
    image[_under(cols, rows, [0, 8, 20, 31, 36, 40, 44, 47], [44, 39, 34, 28, 27, 33, 41, 60])] = FACE

    # Darker ridges in front, each rising towards the right edge.
    image[_under(cols, rows, [28, 38, 50, 62, 74, 86, 100], [60, 53, 49, 45, 38, 30, 22])] = RIDGE
    image[_under(cols, rows, [44, 58, 70, 82, 92, 100], [60, 57, 53, 47, 42, 38])] = SHADOW

    # Black ground in both bottom corners.
    image[_under(cols, rows, [0, 8, 18, 26, 33], [45, 48, 52, 56, 60])] = GROUND
    image[_under(cols, rows, [76, 86, 94, 100], [60, 54, 48, 44])] = GROUND
    return image


def _as_size(size) -> tuple[int, int]:
    """``size = (height, width)``, two positive whole numbers."""
    example = "size=(60, 100) for the series' picture size, or size=None to keep the original size"
    height, width = checks.sequence("size", size, 2, "whole numbers (height, width)", example)
    return checks.positive_int("size height", height, example), checks.positive_int("size width", width, example)


# Grey = (299 R + 587 G + 114 B) / 1000: ITU-R 601 luma, the weights Pillow's convert("L") uses.
LUMA = np.array([299, 587, 114])
SIXTEEN_BIT = ("I;16", "I;16L", "I;16B", "I;16N")


def _luma(rgb: np.ndarray) -> np.ndarray:
    """``(H, W, 3)`` 0..255 values -> ``(H, W)`` grey in 0..255, float64; exact for equal channels."""
    return (rgb.astype(np.float64) @ LUMA) / LUMA.sum()


STRIP_ROWS = 256  # rows converted at a time: the float64 arithmetic never sees more than this


def _grey_strip(strip: Image.Image, lo: float, hi: float) -> np.ndarray:
    """One grey channel in [0, 1], float64, from a few rows of a Pillow picture of any supported mode.

    32-bit integer and float pictures are mapped from ``lo..hi`` (the whole picture's range) to 0..1,
    unless the whole picture lies in [0, 1] already.
    """
    mode = strip.mode
    if mode in SIXTEEN_BIT:
        return np.asarray(strip, dtype=np.float64) / 65535.0
    if mode in ("I", "F"):
        values = np.asarray(strip, dtype=np.float64)
        if 0.0 <= lo and hi <= 1.0:
            return values
        if lo == hi:  # a flat picture has no range to stretch
            return np.full(values.shape, min(max(lo, 0.0), 1.0))
        return (values - lo) / (hi - lo)
    if mode == "CMYK":  # the naive conversion, no colour profile: R = (1 - C)(1 - K), and so on
        cmyk = np.asarray(strip, dtype=np.float64)
        return _luma((255.0 - cmyk[..., :3]) * (255.0 - cmyk[..., 3:]) / 255.0) / 255.0
    rgba = np.asarray(strip.convert("RGBA"))  # palette, grey, alpha and YCbCr modes, 8 bits each
    alpha = rgba[..., 3] / 255.0
    return _luma(rgba[..., :3]) / 255.0 * alpha + (1.0 - alpha)  # transparent parts over white


def _strips(picture: Image.Image):
    """The picture in strips of :data:`STRIP_ROWS` rows: ``(first_row, strip)``."""
    width, height = picture.size
    for top in range(0, height, STRIP_ROWS):
        yield top, picture.crop((0, top, width, min(height, top + STRIP_ROWS)))


def _grey(picture: Image.Image) -> np.ndarray:
    """One grey channel in [0, 1], float32, from an opened Pillow picture of any supported mode.

    Converted a strip of rows at a time into the float32 result, so the memory needed beyond the
    picture itself is the result (4 bytes a pixel) and one strip, not a float64 copy of every step.
    """
    lo = hi = 0.0
    if picture.mode in ("I", "F"):  # the whole picture's range, and no NaN or infinity anywhere
        lo, hi = math.inf, -math.inf
        for _, strip in _strips(picture):
            values = np.asarray(strip)
            if picture.mode == "F" and not np.isfinite(values).all():
                raise _RefusedError(
                    "holds NaN or infinite pixel values, which have no grey level; "
                    "replace them (e.g. with numpy.nan_to_num) and save the picture again."
                )
            if values.size:
                lo, hi = min(lo, float(values.min())), max(hi, float(values.max()))
    grey = np.empty((picture.height, picture.width), dtype=np.float32)
    for top, strip in _strips(picture):
        grey[top : top + strip.height] = _grey_strip(strip, lo, hi)
    return grey


class _RefusedError(Exception):
    """A picture Pillow reads but :func:`load_image` refuses; the message says why and what to do."""


# EXIF orientations that turn the picture by 90 degrees (its stored width becomes its height).
TURNED = (5, 6, 7, 8)


def _open_grey(path: Path, target: tuple[int, int] | None = None) -> np.ndarray:
    """Read ``path`` upright (EXIF orientation applied) as :func:`_grey` of it.

    With a ``target`` size, a JPEG is decoded at the smallest of 1/1, 1/2, 1/4 or 1/8 scale that is
    still at least as large (Pillow's ``draft``), so a phone photo never fills memory at full size.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(path) as picture:
            if target is not None and picture.format == "JPEG":
                height, width = target
                if picture.getexif().get(0x0112) in TURNED:
                    height, width = width, height
                picture.draft(picture.mode, (width, height))
            picture.load()
            ImageOps.exif_transpose(picture, in_place=True)  # no second copy of the picture
            if picture.mode == "LAB":
                raise _RefusedError(
                    "is a LAB colour picture, which load_image does not convert; "
                    "save it as an RGB or greyscale PNG (or JPEG) in an image editor and try again."
                )
            return _grey(picture)


def load_image(path: str | os.PathLike, size: tuple[int, int] | None = None) -> np.ndarray:
    """Read a picture from ``path`` as one grey channel, ``(height, width)`` float32 in [0, 1].

    - The picture is turned upright first, as a phone photo's EXIF orientation tag asks.
    - Colour becomes grey with Pillow's luma weights (0.299 R + 0.587 G + 0.114 B); palette
      and CMYK pictures are converted to RGB first (CMYK naively, without a colour profile).
    - Transparent parts are shown over white, as most image viewers do.
    - 8-bit pictures are divided by 255 and 16-bit ones by 65535. 32-bit integer and float
      pictures have no standard white: values already in [0, 1] are kept, any other picture
      is stretched from its own minimum (black) to its maximum (white), so a float TIFF
      holding 0..255 comes out as 0..1, not white.
    - Pictures holding NaN or infinite values, LAB pictures and pictures too large to open
      safely (Pillow's decompression-bomb limit) are refused with a ``ValueError``, and so is a
      path with no file; a ``path`` or ``size`` of the wrong type raises ``TypeError``.

    With ``size=(height, width)`` the picture is resized with a box filter: each output pixel
    is the mean of the input pixels it covers. A JPEG much larger than ``size`` is first decoded
    at 1/2, 1/4 or 1/8 scale (Pillow's ``draft``; still at least ``size``).

    Memory: the decoded picture plus the float32 result (about 8 bytes a pixel for colour, 5 for
    grey) and a strip of :data:`STRIP_ROWS` rows; Pillow's decompression-bomb limit bounds the rest.
    """
    target = None if size is None else _as_size(size)
    hint = "Check the spelling and the folder, e.g. put the picture next to the notebook and pass its name"
    path = checks.existing_file("path", path, "image file", hint)
    try:
        grey = _open_grey(path, target)
    except _RefusedError as err:
        raise ValueError(f"{str(path)!r} {err}") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise ValueError(
            f"{str(path)!r} is too large to open safely ({err}). Shrink it in an image editor first "
            "(the series works at 60 x 100 pixels), or, if you trust the file, raise PIL.Image.MAX_IMAGE_PIXELS."
        ) from None
    except Exception as err:  # Pillow raises many kinds of error for a broken file
        raise ValueError(
            f"{str(path)!r} is not an image Pillow can read ({type(err).__name__}); "
            "save it as PNG or JPEG and try again."
        ) from None
    if target is not None and grey.shape != target:
        picture = Image.fromarray(grey)
        del grey  # the float32 picture now lives in Pillow's copy only
        grey = np.asarray(picture.resize((target[1], target[0]), resample=Image.Resampling.BOX), dtype=np.float32)
    return np.clip(grey, 0.0, 1.0, out=grey if grey.flags.writeable else None)
