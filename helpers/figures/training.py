"""The figures of notebook 05: digits, training curves over seeds, confusion matrices, attention.

Categorical colours come from the Okabe-Ito palette (one colour per model, the same in every
figure); panels that are compared share their colour limits.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np
import torch

from .. import checks
from .plotting import CMAP, OKABE_ITO

MAX_PANELS = 20  # digits, models or blocks side by side

# One colour per model, in every figure of notebook 05.
MODEL_COLOURS = {"T2T-ViT": OKABE_ITO["blue"], "ViT": OKABE_ITO["orange"]}
OUTLINE = OKABE_ITO["bluish_green"]  # the digit's outline over the attention maps
ATTENTION_CMAP = "Greys"  # white = no attention; not the pixels' purple, whose dark end means 0


def model_colour(name: str) -> str:
    """The colour of a model, by the start of its name (``"ViT (patches)"`` -> the ViT's)."""
    checks.string("name", name, "name='T2T-ViT'")
    for key, colour in MODEL_COLOURS.items():
        if name.startswith(key):
            return colour
    return OKABE_ITO["black"]


def digits_figure(raw: np.ndarray, upsample, size: int = 32) -> plt.Figure:
    """Top row: the ``8 x 8`` digits ``raw`` (values in [0, 1]); bottom row: ``upsample``-d to ``size``."""
    raw = checks.array("raw", raw, 3, "(digits, 8, 8)", "pass digits.images[:6] / 16")
    n = len(raw)
    if not 1 <= n <= MAX_PANELS or 0 in raw.shape or not np.isfinite(raw).all():
        raise ValueError(f"raw must hold 1 to {MAX_PANELS} finite digits, got shape {raw.shape}.")
    checks.function("upsample", upsample, "upsample=helpers.training.data.upsample")
    size = checks.int_in_range("size", size, 1, 512, "size=32")
    fig, axes = plt.subplots(2, n, figsize=(7.5, 2.9), constrained_layout=True, squeeze=False)
    for i in range(n):
        axes[0, i].imshow(raw[i], cmap=CMAP, vmin=0, vmax=1)
        axes[0, i].set_title(f"{raw[i].shape[0]} x {raw[i].shape[1]}")
        try:
            big = upsample(torch.tensor(raw[i], dtype=torch.float32)[None, None], size)[0, 0]
        except TypeError as err:
            raise TypeError(
                f"upsample must take (images, size) and return a tensor, as helpers.training.data.upsample "
                f"does; calling it failed: {err}"
            ) from None
        im = axes[1, i].imshow(big, cmap=CMAP, vmin=0, vmax=1)
        axes[1, i].set_title(f"{big.shape[0]} x {big.shape[1]}")
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(im, ax=axes, fraction=0.02, pad=0.02, label="pixel value")
    return fig


def curves_figure(runs: Sequence, baseline: float) -> plt.Figure:
    """Train loss and test accuracy per epoch: the mean over seeds as a line, min to max as a band.

    ``runs`` are :class:`~helpers.training.seeds.SeedRuns`, one per model.
    """
    from ..training.seeds import SeedRuns

    runs = checks.sequence("runs", runs, of="SeedRuns", example="runs=[t2t_runs, vit_runs]")
    if not 1 <= len(runs) <= MAX_PANELS:
        raise ValueError(f"runs must hold 1 to {MAX_PANELS} SeedRuns, one per model, got {len(runs)}.")
    for i, run in enumerate(runs):
        checks.instance(f"runs[{i}]", run, SeedRuns, "train_over_seeds(...)")
        lengths = {len(h.get(key, ())) for h in run.histories for key in ("train_loss", "test_acc")}
        if not run.histories or len(lengths) != 1 or 0 in lengths:
            raise ValueError(f"runs[{i}] needs at least one run, each with train_loss and test_acc for every epoch.")
    baseline = checks.finite_number("baseline", baseline, "baseline=0.1")
    if not 0 <= baseline <= 1:
        raise ValueError(f"baseline is an accuracy from 0 to 1, got {baseline}.")
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(7.5, 3.3), constrained_layout=True)
    epochs = None
    for run in runs:
        colour = model_colour(run.name)
        label = f"{run.name} (mean of {len(run.seeds)} seeds, band: min to max)"
        for ax, key, scale in ((ax_loss, "train_loss", 1.0), (ax_acc, "test_acc", 100.0)):
            values = scale * np.array([h[key] for h in run.histories])  # (seeds, epochs)
            epochs = np.arange(1, values.shape[1] + 1)
            ax.fill_between(epochs, values.min(0), values.max(0), color=colour, alpha=0.25, linewidth=0)
            ax.plot(epochs, values.mean(0), "o-", color=colour, label=label)
    ax_acc.axhline(100 * baseline, color=OKABE_ITO["black"], ls="--", lw=1, label="majority class")
    ax_loss.set(xlabel="epoch", ylabel="train loss (cross-entropy, log scale)", yscale="log", title="Training loss")
    # plain decimals (0.4, 0.6, 1, 2, ...) instead of 4 x 10^-1 on the log axis
    ax_loss.yaxis.set_major_locator(mticker.LogLocator(base=10, subs=(1.0, 2.0, 4.0, 6.0)))
    ax_loss.yaxis.set_major_formatter(mticker.FormatStrFormatter("%g"))
    ax_loss.yaxis.set_minor_formatter(mticker.NullFormatter())
    ax_acc.set(xlabel="epoch", ylabel="test accuracy (%)", ylim=(0, 100), title="Test accuracy")
    for ax in (ax_loss, ax_acc):
        ax.set_xticks(epochs)
        ax.grid(alpha=0.3)
    ax_loss.legend(fontsize=8, loc="upper right")
    ax_acc.legend(handles=ax_acc.get_lines()[-1:], fontsize=8, loc="lower right")  # the models: see the left panel
    return fig


def confusion_figure(counts: Sequence[torch.Tensor], titles: Sequence[str]) -> plt.Figure:
    """Confusion matrices side by side, on one shared colour scale so the panels compare."""
    counts = checks.sequence("counts", counts, of="confusion matrices", example="counts=[confusion_matrix(...)]")
    titles = checks.sequence("titles", titles, len(counts), "titles", "titles=['T2T-ViT']")
    if not 1 <= len(counts) <= MAX_PANELS:
        raise ValueError(f"counts must hold 1 to {MAX_PANELS} confusion matrices, got {len(counts)}.")
    for i, (matrix, title) in enumerate(zip(counts, titles)):
        checks.tensor(f"counts[{i}]", matrix, "(10, 10)")
        checks.string(f"titles[{i}]", title)
        if matrix.shape != (10, 10) or matrix.is_floating_point() or matrix.is_complex() or matrix.min() < 0:
            raise ValueError(
                f"counts[{i}] must be a 10 x 10 tensor of counts >= 0 (confusion_matrix), got {matrix.dtype} "
                f"of shape {tuple(matrix.shape)}."
            )
    top = max(int(c.max()) for c in counts)
    fig, axes = plt.subplots(1, len(counts), figsize=(3.75 * len(counts), 3.7), constrained_layout=True, squeeze=False)
    for ax, matrix, title in zip(axes[0], counts, titles):
        im = ax.imshow(matrix, cmap="Purples", vmin=0, vmax=top)
        for i, j in zip(*np.nonzero(matrix.numpy())):
            value = int(matrix[i, j])
            colour = "white" if value > top / 2 else "black"
            ax.text(j, i, value, ha="center", va="center", fontsize=8, color=colour)
        ax.set(xticks=range(10), yticks=range(10), xlabel="predicted digit", ylabel="true digit", title=title)
    fig.colorbar(im, ax=axes[0].tolist(), fraction=0.03, pad=0.02, label="test images (all seeds)")
    return fig


def attention_figure(pixels: torch.Tensor, maps: dict[str, list[torch.Tensor]], label: int) -> plt.Figure:
    """Per model (row): the digit, then the prediction token's attention grid of each block.

    ``maps[name]`` holds one ``(h, w)`` grid per block; all grids share one colour scale, and
    the digit's outline (pixel value 0.5) is drawn over each. The digit uses the series' pixel map
    (dark = 0), the attention a grey map (dark = much attention), so no colour means two things.
    """
    checks.tensor("pixels", pixels, "(side, side)")
    if pixels.ndim != 2 or pixels.shape[0] != pixels.shape[1] or 0 in pixels.shape or pixels.is_complex():
        raise ValueError(f"pixels must be one square digit (side, side), got shape {tuple(pixels.shape)}.")
    checks.instance("maps", maps, dict, "maps={'T2T-ViT': grids}")
    if not 1 <= len(maps) <= MAX_PANELS:
        raise ValueError(f"maps must hold 1 to {MAX_PANELS} models, got {len(maps)}.")
    for name, grids in maps.items():
        checks.string("a name in maps", name)
        grids = checks.sequence(f"maps[{name!r}]", grids, of="attention grids")
        if not 1 <= len(grids) <= MAX_PANELS:
            raise ValueError(f"maps[{name!r}] must hold 1 to {MAX_PANELS} grids, one per block, got {len(grids)}.")
        for b, grid in enumerate(grids):
            checks.tensor(f"maps[{name!r}][{b}]", grid, "(h, w)")
            if grid.ndim != 2 or 0 in grid.shape or grid.is_complex() or not grid.isfinite().all():
                raise ValueError(f"maps[{name!r}][{b}] must be a finite (h, w) grid, got shape {tuple(grid.shape)}.")
    label = checks.whole_number("label", label, 0, "label=3")
    side = pixels.shape[-1]
    top = np.ceil(max(m.max().item() for grids in maps.values() for m in grids) * 20) / 20
    blocks = max(len(grids) for grids in maps.values())
    fig, axes = plt.subplots(len(maps), blocks + 1, figsize=(7.5, 1.8 * len(maps) + 0.2), constrained_layout=True)
    axes = np.atleast_2d(axes)
    extent = (0, side, side, 0)
    for row, (name, grids) in enumerate(maps.items()):
        shown = axes[row, 0].imshow(pixels, cmap=CMAP, vmin=0, vmax=1, extent=extent)
        axes[row, 0].set_title(f"{name}: test digit {label}", fontsize=9)
        for b, grid in enumerate(grids, start=1):
            im = axes[row, b].imshow(grid, cmap=ATTENTION_CMAP, vmin=0, vmax=top, extent=extent)
            axes[row, b].contour(pixels, levels=[0.5], colors=OUTLINE, linewidths=1.5, extent=(0, side, 0, side))
            axes[row, b].set_title(f"{name} block {b}", fontsize=9)
        for ax in axes[row]:
            ax.set_xticks(range(0, side + 1, 16))
            ax.set_yticks(range(0, side + 1, 16))
    fig.colorbar(shown, ax=axes[-1, 0], location="bottom", fraction=0.08, pad=0.02, label="pixel value")
    fig.colorbar(
        im, ax=axes[:, 1:].ravel().tolist(), fraction=0.02, pad=0.02, label="attention of the prediction token"
    )
    return fig
