"""Byte-reproducible figures: fixed sizes and DPI, no volatile metadata, GIFs from the canvas."""

from __future__ import annotations

import inspect
import os
from collections.abc import Iterable
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from PIL import Image

CMAP = "Purples_r"
DPI = 100
FIGURES_ENV = "T2T_FIGURES"


def figures_dir(default: str | os.PathLike = "../figures") -> Path:
    """Where figures go: ``$T2T_FIGURES`` if set, else ``default``; created if missing."""
    path = Path(os.environ.get(FIGURES_ENV, default))
    path.mkdir(parents=True, exist_ok=True)
    return path


def save_figure(fig: plt.Figure, path: str | os.PathLike) -> Path:
    """Save ``fig`` as a PNG whose bytes depend only on the drawing (no software or date tag)."""
    path = Path(path)
    fig.savefig(path, dpi=DPI, metadata={"Software": None})
    return path


def canvas_frame(fig: plt.Figure) -> np.ndarray:
    """Draw ``fig`` and return its pixels, ``(height, width, 3)`` uint8, without touching disk."""
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()


def save_gif(frames: Iterable[np.ndarray], path: str | os.PathLike, duration_ms: int = 500) -> Path:
    """Write RGB frames as a GIF that loops forever, ``duration_ms`` per frame.

    All frames share one palette, fitted to a fixed sample of them (the first, the last and
    about eight evenly spaced ones), so the same frames always give the same bytes. Pillow
    merges consecutive identical frames into one longer frame, so make each frame differ.
    """
    frames = [np.asarray(f, dtype=np.uint8) for f in frames]
    if not frames:
        raise ValueError("save_gif needs at least one frame.")
    sample = frames[:: max(1, len(frames) // 8)] + [frames[-1]]
    strip = Image.fromarray(np.concatenate(sample, axis=0))
    palette = strip.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    images = [Image.fromarray(f).quantize(palette=palette, dither=Image.Dither.NONE) for f in frames]
    path = Path(path)
    images[0].save(
        path,
        save_all=True,
        append_images=images[1:],
        duration=duration_ms,
        loop=0,
        optimize=False,
        disposal=1,
    )
    return path


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
    im = ax.imshow(image, cmap=CMAP, vmin=vmin, vmax=vmax, extent=(0, image.shape[1], image.shape[0], 0))
    ax.set_xticks(np.arange(0, image.shape[1] + 1, tick_step))
    ax.set_yticks(np.arange(0, image.shape[0] + 1, tick_step))
    if title:
        ax.set_title(title)
    if colorbar:
        ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    return im


def count_noun(n: int, noun: str) -> str:
    """``count_noun(1, "head") == "1 head"``, ``count_noun(6, "head") == "6 heads"``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def show_source(obj) -> object:
    """The source of ``obj`` from ``helpers``, for display in a notebook."""
    from IPython.display import Code

    return Code(inspect.getsource(obj), language="python")
