"""How many soft-split windows cover each pixel, and a map of it with one colour per count."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.colors import BoundaryNorm, ListedColormap
from torch import nn

from .. import checks
from ..model.tokens import count_tokens

COUNT_CMAP = "cividis"  # sequential and readable with the common colour-vision deficiencies
UNCOVERED = "#d9d9d9"  # pixels that no window reads (possible when the stride exceeds the kernel)


def coverage_map(height: int, width: int, k: int, s: int, p: int) -> np.ndarray:
    """``(height, width)`` integer counts: the windows of ``nn.Unfold(k, s, p)`` that contain each pixel.

    Computed as ``nn.Fold`` of unfolded ones: Fold adds every window back in place, so each
    pixel receives 1 from every window that read it. Raises ``ValueError`` (from
    :func:`count_tokens`) when the kernel does not fit the padded image.
    """
    new_w, new_h, _ = count_tokens(width, height, k, s, p)  # validates the arguments with a clear message
    hint = "use a smaller picture or kernel: this map is for looking at"
    checks.tensor_size("the coverage map (height x width)", (height, width), hint)
    checks.tensor_size("the unfolded windows (k * k x windows)", (k * k, new_w * new_h), hint)
    ones = torch.ones(1, 1, height, width, dtype=torch.float64)
    counts = nn.Fold((height, width), k, stride=s, padding=p)(nn.Unfold(k, stride=s, padding=p)(ones))
    return counts[0, 0].round().numpy().astype(np.int64)


MAX_LEVELS = 256  # distinct counts that one discrete colour bar can show


def _counts(counts: object, name: str = "counts") -> np.ndarray:
    """A ``(height, width)`` array of whole counts >= 0 (such as :func:`coverage_map` gives)."""
    counts = checks.array(name, counts, 2, "(height, width)", "pass coverage_map(...)", dtype=None)
    if 0 in counts.shape:
        raise ValueError(f"{name} must have at least one pixel, got shape {counts.shape}.")
    if counts.dtype.kind == "f" and not (np.isfinite(counts).all() and (counts == np.round(counts)).all()):
        raise ValueError(f"{name} must hold whole numbers of windows, got fractions, NaN or infinity.")
    if counts.min() < 0:
        raise ValueError(f"{name} must be >= 0 (windows covering a pixel), got {counts.min()}.")
    if len(np.unique(counts)) > MAX_LEVELS:
        raise ValueError(f"{name} holds more than {MAX_LEVELS} distinct values, too many for one colour bar.")
    return counts


def discrete_colours(values: np.ndarray) -> tuple[ListedColormap, BoundaryNorm, np.ndarray]:
    """One colour per distinct value of ``values``: the colour map, its norm and the sorted values.

    The colours are evenly spaced on :data:`COUNT_CMAP`; a count of 0 is drawn in light grey.
    """
    levels = np.unique(_counts(np.atleast_2d(checks.array("values", values, dtype=None)), "values"))
    base = plt.get_cmap(COUNT_CMAP)
    positive = levels[levels > 0]
    spots = np.linspace(0.15, 0.95, len(positive)) if len(positive) > 1 else np.array([0.85])
    colours = ([UNCOVERED] if levels[0] == 0 else []) + [base(x) for x in spots]
    edges = np.concatenate([[levels[0] - 0.5], (levels[:-1] + levels[1:]) / 2, [levels[-1] + 0.5]])
    return ListedColormap(colours), BoundaryNorm(edges, len(colours)), levels


def draw_coverage(ax: plt.Axes, counts: np.ndarray, title: str | None = None, tick_step: int = 10):
    """Draw a coverage map on ``ax`` with a discrete colour bar labelled by the counts it holds."""
    checks.instance("ax", ax, plt.Axes, "fig, ax = plt.subplots()")
    counts = _counts(counts)
    if title is not None:
        checks.string("title", title)
    tick_step = checks.positive_int("tick_step", tick_step, "tick_step=10")
    cmap, norm, levels = discrete_colours(counts)
    im = ax.imshow(counts, cmap=cmap, norm=norm, extent=(0, counts.shape[1], counts.shape[0], 0))
    ax.set_xticks(np.arange(0, counts.shape[1] + 1, tick_step))
    ax.set_yticks(np.arange(0, counts.shape[0] + 1, tick_step))
    if title:
        ax.set_title(title)
    # Every count as a tick while they fit; past 8 counts, 6 of them spread over the range.
    ticks = levels if len(levels) <= 8 else levels[np.linspace(0, len(levels) - 1, 6).round().astype(int)]
    bar = ax.figure.colorbar(im, ax=ax, ticks=ticks, fraction=0.046, pad=0.04)
    bar.set_label("windows covering the pixel")
    bar.ax.tick_params(length=0)
    return im


def coverage_figure(counts: np.ndarray, title: str) -> plt.Figure:
    """A coverage map on its own, in a figure of the series' usual width."""
    counts = _counts(counts)
    checks.string("title", title)
    fig, ax = plt.subplots(figsize=(7.2, 3.6), layout="constrained")
    draw_coverage(ax, counts, title=title)
    return fig


__all__ = ["coverage_figure", "coverage_map", "discrete_colours", "draw_coverage"]
