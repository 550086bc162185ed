"""Byte-reproducible figures: fixed sizes and DPI, no volatile metadata, GIFs from the canvas.

Every figure is written atomically (see :mod:`helpers.atomic`): a reader polling ``figures/``
sees the previous file or the complete new one, never a partial one.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

import matplotlib.pyplot as plt
import numpy as np
from PIL import Image

from .. import checks
from ..atomic import atomic_write

CMAP = "Purples_r"
DPI = 200  # saved PNGs: sharp enough to project (the issue asks for at least 150)

# Okabe & Ito's categorical palette, safe for the common kinds of colour blindness
# (Okabe and Ito 2008, "Color Universal Design"). Use these for every categorical colour.
OKABE_ITO = {
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "black": "#000000",
}
FIGURES_ENV = "T2T_FIGURES"
MAX_GIF_FRAMES = 500  # a longer animation is a runaway loop, not a teaching figure
MAX_GIF_BYTES = 2**30  # the frames of one GIF, as RGB bytes (1 GiB)


class FiguresNotWritableError(OSError):
    """The figures folder cannot be written to; the message says how to pick another one.

    In a notebook the error shows as its one-line message, without a traceback: the cause is
    the folder, not the cell.
    """

    def _render_traceback_(self) -> list[str]:  # IPython's hook for an exception's own traceback
        return [f"{type(self).__name__}: {self}"]


def _not_writable(folder: Path, err: OSError) -> FiguresNotWritableError:
    reason = err.strerror or str(err) or type(err).__name__
    return FiguresNotWritableError(
        f"cannot write figures to {str(folder)!r}: {reason}; "
        f"set {FIGURES_ENV} to a writable folder, e.g. {FIGURES_ENV}=/tmp/t2t-figures, and restart the kernel."
    )


def figures_dir(default: str | os.PathLike = "../figures") -> Path:
    """Where figures go: ``$T2T_FIGURES`` if set, else ``default``; created if missing.

    Raises :class:`FiguresNotWritableError` if the folder cannot be created or written to.
    """
    default = checks.path("default", default, "default='../figures'")
    path = Path(os.environ.get(FIGURES_ENV, default))
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):  # a probe: fail now, not after the first figure is drawn
            pass
    except OSError as err:
        raise _not_writable(path, err) from None
    return path


@contextlib.contextmanager
def _figure_file(path: Path) -> Iterator[IO[bytes]]:
    """:func:`helpers.atomic.atomic_write`, with a short error naming ``$T2T_FIGURES`` on failure."""
    try:
        with atomic_write(path) as f:
            yield f
    except FiguresNotWritableError:
        raise
    except OSError as err:
        raise _not_writable(path.parent, err) from None


def _file_path(path: object, example: str) -> Path:
    """``path`` as a ``Path`` to a file (``TypeError`` for a wrong type, ``ValueError`` for a folder)."""
    path = checks.path("path", path, example)
    if path.is_dir():
        raise ValueError(f"path {str(path)!r} is a folder; give a file name inside it, for example {example}.")
    return path


def save_figure(fig: plt.Figure, path: str | os.PathLike) -> Path:
    """Save ``fig`` as a PNG whose bytes depend only on the drawing (no software or date tag).

    The file is written atomically; its format comes from the suffix (``.png`` if there is none).
    """
    checks.instance("fig", fig, plt.Figure, "fig, ax = plt.subplots()")
    path = _file_path(path, "path='figures/attention.png'")
    fmt = path.suffix.lstrip(".").lower() or "png"
    with _figure_file(path) as f:
        fig.savefig(f, format=fmt, dpi=DPI, metadata={"Software": None})
    return path


def save_array(array: np.ndarray, path: str | os.PathLike) -> Path:
    """Save ``array`` in NumPy's ``.npy`` format, atomically, exactly as :func:`numpy.save` would."""
    path = _file_path(path, "path='figures/errors.npy'")
    array = checks.array("array", array, dtype=None)
    with _figure_file(path) as f:
        np.save(f, np.asarray(array), allow_pickle=False)
    return path


def canvas_frame(fig: plt.Figure) -> np.ndarray:
    """Draw ``fig`` and return its pixels, ``(height, width, 3)`` uint8, without touching disk."""
    checks.instance("fig", fig, plt.Figure, "fig, ax = plt.subplots()")
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()


def save_gif(frames: Iterable[np.ndarray], path: str | os.PathLike, duration_ms: int = 500) -> Path:
    """Write RGB frames as a GIF that loops forever, ``duration_ms`` per frame.

    All frames share one palette, fitted to a fixed sample of them (the first, the last and
    about eight evenly spaced ones), so the same frames always give the same bytes. Pillow
    merges consecutive identical frames into one longer frame, so make each frame differ.
    The file is written atomically.

    Frames are ``(height, width, 3)`` RGB (or ``(height, width)`` grey), all of one size: uint8
    from 0 to 255, or floats from 0 to 1 (scaled by 255, as matplotlib draws them). Anything
    else, or more than :data:`MAX_GIF_FRAMES` frames, is a ``ValueError``/``TypeError``.
    """
    path = _file_path(path, "path='figures/soft_split.gif'")
    duration_ms = checks.positive_int("duration_ms", duration_ms, "duration_ms=500")
    if duration_ms > 655_350:  # a GIF stores the delay in hundredths of a second, in 16 bits
        raise ValueError(f"duration_ms must be at most 655350 (a GIF's longest delay), got {duration_ms}.")
    frames = _gif_frames(frames)
    sample = frames[:: max(1, len(frames) // 8)] + [frames[-1]]
    strip = Image.fromarray(np.concatenate(sample, axis=0))
    palette = strip.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    images = [Image.fromarray(f).quantize(palette=palette, dither=Image.Dither.NONE) for f in frames]
    with _figure_file(path) as f:
        images[0].save(
            f,
            format="GIF",
            save_all=True,
            append_images=images[1:],
            duration=duration_ms,
            loop=0,
            optimize=False,
            disposal=1,
        )
    return path


def _gif_frame(i: int, frame: object) -> np.ndarray:
    """Frame ``i`` as ``(height, width, 3)`` uint8: uint8 as given, floats in [0, 1] times 255."""
    name = f"frames[{i}]"
    values = checks.array(name, frame, axes="(height, width, 3) RGB", dtype=None)
    if values.ndim == 2:
        values = np.repeat(values[..., None], 3, axis=2)
    if values.ndim != 3 or values.shape[2] not in (3, 4) or 0 in values.shape:
        raise ValueError(
            f"{name} must be an RGB picture of shape (height, width, 3), got shape {values.shape}; "
            "for example canvas_frame(fig)."
        )
    values = values[..., :3]
    if values.dtype == np.uint8:
        return values
    if values.dtype.kind == "f":
        if not (np.isfinite(values).all() and values.min() >= 0 and values.max() <= 1):
            raise ValueError(
                f"{name} holds floats outside [0, 1] (or NaN); float frames are read as 0..1 "
                "(matplotlib's convention): divide by 255 for 0..255 values, or pass uint8."
            )
        return np.round(values * 255).astype(np.uint8)
    if values.size and (values.min() < 0 or values.max() > 255):
        raise ValueError(f"{name} holds whole numbers outside 0..255; pass uint8 pixels from 0 to 255.")
    return values.astype(np.uint8)


def _gif_frames(frames: object) -> list[np.ndarray]:
    """The frames of :func:`save_gif`, checked: at least one, at most :data:`MAX_GIF_FRAMES`, one size."""
    if isinstance(frames, (str, bytes)) or not hasattr(frames, "__iter__"):
        raise TypeError(
            f"frames must be a list of RGB pictures, got {checks.given(frames)}; for example [frame0, frame1]."
        )
    checked = []
    for i, frame in enumerate(frames):
        if i >= MAX_GIF_FRAMES:
            raise ValueError(
                f"frames holds more than {MAX_GIF_FRAMES} frames; an animation that long is a runaway loop: "
                "draw fewer frames (a larger kernel or stride, a smaller picture, or every n-th step)."
            )
        checked.append(_gif_frame(i, frame))
        if checked[-1].shape != checked[0].shape:
            raise ValueError(
                f"frames[{i}] has shape {checked[-1].shape} but frames[0] has {checked[0].shape}; "
                "every frame of a GIF must have the same size (draw them all on the same figure)."
            )
        if sum(f.nbytes for f in checked) > MAX_GIF_BYTES:
            raise ValueError(f"frames add up to more than {MAX_GIF_BYTES / 2**30:g} GiB; draw fewer or smaller frames.")
    if not checked:
        raise ValueError("save_gif needs at least one frame.")
    return checked


def show_image(
    ax: plt.Axes,
    image: np.ndarray,
    title: str | None = None,
    colorbar: bool = True,
    tick_step: int = 10,
    vmin: float = 0.0,
    vmax: float = 1.0,
):
    """Plot a single-channel image the series' way: ``Purples_r``, fixed limits, ticks every 10 px."""
    checks.instance("ax", ax, plt.Axes, "fig, ax = plt.subplots()")
    image = checks.array("image", image, 2, "(height, width)", dtype=None)
    if title is not None:
        checks.string("title", title)
    checks.boolean("colorbar", colorbar)
    tick_step = checks.positive_int("tick_step", tick_step, "tick_step=10")
    vmin = checks.finite_number("vmin", vmin, "vmin=0.0")
    vmax = checks.finite_number("vmax", vmax, "vmax=1.0")
    if not vmin < vmax:
        raise ValueError(f"vmin must be below vmax, got vmin={vmin} and vmax={vmax}; for example vmin=0.0, vmax=1.0.")
    im = ax.imshow(image, cmap=CMAP, vmin=vmin, vmax=vmax, extent=(0, image.shape[1], image.shape[0], 0))
    ax.set_xticks(np.arange(0, image.shape[1] + 1, tick_step))
    ax.set_yticks(np.arange(0, image.shape[0] + 1, tick_step))
    if title:
        ax.set_title(title)
    if colorbar:
        ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="pixel value")
    return im


def count_noun(n: int, noun: str) -> str:
    """``count_noun(1, "head") == "1 head"``, ``count_noun(6, "head") == "6 heads"``."""
    n = checks.whole_number("n", n, 0, "n=6")
    noun = checks.string("noun", noun, "noun='head'")
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def show_gif(path: str | os.PathLike, alt: str) -> object:
    """A GIF as a cell output embedded in the notebook, still until the reader presses Play.

    Embedded, the animation shows wherever the notebook is opened (JupyterLab started in any
    folder, Colab, GitHub, the course website), unlike a markdown link to ``../figures``. It
    starts as a still of its first frame with ``alt``, its description, and plays only on
    request: see :class:`helpers.figures.accessible.Animation`.
    """
    path = checks.existing_file("path", path, "GIF", "Save it first with save_gif, or check the folder")
    checks.string("alt", alt, "alt='what the animation shows'")
    from .accessible import animation

    return animation(path, alt)


def show_source(obj) -> object:
    """The source of ``obj`` from ``helpers``, for display in a notebook."""
    from IPython.display import Code

    try:
        source = inspect.getsource(obj)
    except TypeError:
        raise TypeError(
            f"obj must be a function, class, method or module, got {checks.given(obj)}; for example helpers.T2TViT."
        ) from None
    except OSError:
        raise ValueError(
            f"the source of {checks.short(obj)} is not available (it was not defined in a file)."
        ) from None
    return Code(source, language="python")
