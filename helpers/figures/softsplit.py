"""Figures for notebook 01: the soft split as a GIF, one token, and the matrix of all tokens."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import patheffects
from matplotlib.patches import Rectangle

from .. import checks
from ..model.tokens import count_tokens, soft_split_params
from .plotting import CMAP, MAX_GIF_FRAMES, OKABE_ITO, _file_path, save_gif, show_image

# Okabe-Ito colours that stand out against the purple colour map, one per highlighted token.
HIGHLIGHTS = tuple(OKABE_ITO[name] for name in ("orange", "sky_blue", "bluish_green", "vermillion"))
MAX_PIXELS = 2**20  # pictures drawn here are for looking at: the series' is 60 x 100
MAX_TOKEN_VALUES = 2**24  # the token matrix, num_tokens x k * k


def grey_image(image: np.ndarray) -> np.ndarray:
    """``image`` as a ``(height, width)`` float64 array; ``TypeError``/``ValueError`` for anything else."""
    hint = "pass e.g. helpers.mountain_at_dusk(), or image[..., 0] for one channel of a colour picture"
    image = checks.array("image", image, 2, "(height, width): one grey channel", hint)
    if image.size > MAX_PIXELS:
        raise ValueError(
            f"image has {image.shape[0]} x {image.shape[1]} pixels, more than the {MAX_PIXELS:,} these figures draw; "
            "shrink it first, e.g. load_image(path, size=(60, 100))."
        )
    if not np.isfinite(image).all():
        raise ValueError("image holds NaN or infinite values, which have no colour; replace them (numpy.nan_to_num).")
    return image


def patch_corners(height: int, width: int, kernel: int) -> list[tuple[int, int]]:
    """Top-left ``(row, col)`` of every soft-split patch in the padded image, in ``nn.Unfold`` order."""
    height = checks.positive_int("height", height, "height=60")
    width = checks.positive_int("width", width, "width=100")
    k, s, p = soft_split_params(kernel)
    new_w, new_h, _ = count_tokens(width, height, k, s, p)
    if new_w * new_h > MAX_TOKEN_VALUES:
        raise ValueError(
            f"kernel={kernel} gives {new_h:,} x {new_w:,} patches on a {height} x {width} picture, more than the "
            f"{MAX_TOKEN_VALUES:,} listed here; use a smaller picture or a larger kernel."
        )
    return [(i * s, j * s) for i in range(new_h) for j in range(new_w)]


def hand_tokens(image: np.ndarray, kernel: int) -> np.ndarray:
    """Soft split with numpy slicing only: ``(num_tokens, k * k)``, one flattened patch per row."""
    image = grey_image(image)
    k, _, p = soft_split_params(kernel)
    tokens = len(patch_corners(*image.shape, kernel))
    if tokens * k * k > MAX_TOKEN_VALUES:
        raise ValueError(
            f"kernel={kernel} cuts this {image.shape[0]} x {image.shape[1]} picture into {tokens:,} tokens of {k * k} "
            f"values, more than the {MAX_TOKEN_VALUES:,} values drawn here; use a smaller picture or kernel."
        )
    padded = np.pad(image, p)
    return np.stack([padded[r : r + k, c : c + k].ravel() for r, c in patch_corners(*image.shape, kernel)])


def render_softsplit_gif(image: np.ndarray, kernel: int, path: str | os.PathLike) -> Path:
    """Animate T2T's soft split of ``image`` with a ``kernel`` x ``kernel`` window, one frame per patch.

    The zero-padded image is drawn once; each frame only moves the boxes: the current patch is
    a solid white box, earlier ones stay as faded dotted boxes. 500 ms per frame, loops forever.
    """
    image = grey_image(image)
    k, s, p = soft_split_params(kernel)
    corners = patch_corners(*image.shape, kernel)
    if len(corners) > MAX_GIF_FRAMES:
        raise ValueError(
            f"kernel={kernel} (k={k}, s={s}, p={p}) cuts this {image.shape[0]} x {image.shape[1]} picture into "
            f"{len(corners):,} patches, one frame each: more than the {MAX_GIF_FRAMES} frames an animation may have. "
            "Use a larger kernel (the series animates kernel=7) or a smaller picture."
        )
    path = _file_path(path, "path='figures/soft_split.gif'")
    padded = np.pad(image, p)

    fig, ax = plt.subplots(figsize=(7.2, 4.6))
    show_image(ax, padded)
    ax.add_patch(Rectangle((p, p), image.shape[1], image.shape[0], fill=False, ec="0.75", lw=0.8, ls=(0, (4, 3))))
    title = ax.set_title(f"Soft split k={k}, s={s}, p={p}: patch {len(corners)} of {len(corners)}")
    boxes = [ax.add_patch(Rectangle((c, r), k, k, fill=False, ec="white", lw=2.5)) for r, c in corners]
    fig.tight_layout()
    # Blitting: the image, axes and colour bar are drawn once; each frame restores that
    # background and draws only the boxes and the title on top of it.
    for artist in (title, *boxes):
        artist.set_animated(True)
    fig.canvas.draw()
    background = fig.canvas.copy_from_bbox(fig.bbox)
    frames = []
    for n in range(1, len(corners) + 1):
        fig.canvas.restore_region(background)
        if n > 1:
            boxes[n - 2].set(linestyle=":", linewidth=1.5, alpha=0.55)
        for box in boxes[:n]:
            ax.draw_artist(box)
        title.set_text(f"Soft split k={k}, s={s}, p={p}: patch {n} of {len(corners)}")
        ax.draw_artist(title)
        frames.append(np.asarray(fig.canvas.buffer_rgba())[..., :3].copy())
    plt.close(fig)
    return save_gif(frames, path, duration_ms=500)


def plot_token01(image: np.ndarray, kernel: int) -> plt.Figure:
    """The first patch of the padded image and the token it becomes: a row of ``k * k`` values."""
    token = hand_tokens(image, kernel)[0]  # checks the picture and the kernel first
    image = grey_image(image)
    k, _, p = soft_split_params(kernel)
    padded = np.pad(image, p)

    fig = plt.figure(figsize=(9.0, 4.6))
    grid = fig.add_gridspec(
        2,
        2,
        height_ratios=(4, 1.1),
        width_ratios=(1.65, 1),
        hspace=0.6,
        wspace=0.2,
        left=0.05,
        right=0.9,
        top=0.93,
        bottom=0.11,
    )
    ax_img, ax_patch, ax_tok = (
        fig.add_subplot(grid[0, 0]),
        fig.add_subplot(grid[0, 1]),
        fig.add_subplot(grid[1, :]),
    )
    show_image(ax_img, padded, title=f"Padded image, {padded.shape[0]} x {padded.shape[1]}", colorbar=False)
    ax_img.add_patch(Rectangle((0, 0), k, k, fill=False, ec="white", lw=2.5))
    show_image(ax_patch, padded[:k, :k], title=f"Patch 1, {k} x {k}", tick_step=5, colorbar=False)
    ax_patch.axhline(p, color=HIGHLIGHTS[0], lw=1.2, ls="--")
    ax_patch.axvline(p, color=HIGHLIGHTS[0], lw=1.2, ls="--")
    ax_patch.text(k - 0.5, p - 0.6, "padding", color=HIGHLIGHTS[0], ha="right", va="bottom", fontsize=9)

    im = ax_tok.imshow(token[None, :], cmap=CMAP, vmin=0, vmax=1, aspect="auto", extent=(0, k * k, 1, 0))
    for x in range(k, k * k, k):
        ax_tok.axvline(x, color="white", lw=0.5, alpha=0.5)
    ax_tok.set_xticks(np.arange(0, k * k + 1, 5 * k if k * k > 200 else k))
    ax_tok.set_yticks([])
    ax_tok.set_xlabel("Length of Tokens")
    ax_tok.set_title(f"Token 1: the patch's {k} rows laid end to end, length {k} x {k} = {k * k}")
    fig.colorbar(im, ax=[ax_img, ax_patch, ax_tok], fraction=0.03, pad=0.03, label="pixel value")
    return fig


def plot_tokens_matrix(image: np.ndarray, kernel: int, annotate: bool = True) -> plt.Figure:
    """All tokens stacked, one per row: ``(num_tokens, k * k)``, with the zero padding pointed out."""
    image = grey_image(image)
    tokens = hand_tokens(image, kernel)
    k, s, p = soft_split_params(kernel)
    new_w = count_tokens(image.shape[1], image.shape[0], k, s, p)[0]
    n, length = tokens.shape

    fig, ax = plt.subplots(figsize=(9.0, 5.6))
    im = ax.imshow(tokens, cmap=CMAP, vmin=0, vmax=1, aspect="auto", extent=(0, length, n, 0))
    ax.set_xticks(np.arange(0, length + 1, 50 if length > 200 else k))
    ax.set_yticks(np.arange(0, n + 1, new_w))
    ax.set_xlabel("Length of Tokens")
    ax.set_ylabel("Number of Tokens")
    ax.set_title(f"All {n} tokens of length {length}, one per row")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.03, label="pixel value")
    if annotate:
        color = HIGHLIGHTS[0]
        top = Rectangle((0, 0), p * k, new_w, fill=False, ec=color, lw=2)
        bottom = Rectangle((length - p * k, n - new_w), p * k, new_w, fill=False, ec=color, lw=2)
        ax.add_patch(top)
        ax.add_patch(bottom)
        box = {"boxstyle": "round", "fc": "white", "ec": color, "alpha": 0.9}
        arrow = {"arrowstyle": "->", "color": color, "lw": 1.5}
        ax.annotate(
            f"top padding: first {p} rows of the\npatches along the top edge",
            xy=(p * k, new_w / 2),
            xytext=(length * 0.42, 0.8 * new_w),
            fontsize=9,
            bbox=box,
            arrowprops=arrow,
            va="center",
        )
        ax.annotate(
            f"bottom padding: last {p} rows of the\npatches along the bottom edge",
            xy=(length - p * k, n - new_w / 2),
            xytext=(length * 0.25, n - 2.1 * new_w),
            fontsize=9,
            bbox=box,
            arrowprops=arrow,
            va="center",
        )
        ax.annotate(
            f"left padding: first {p} values of\nevery patch row, in tokens 1, {new_w + 1}, ...",
            xy=(2 * k + p / 2, 2 * new_w),
            xytext=(length * 0.42, 2.3 * new_w),
            fontsize=9,
            bbox=box,
            arrowprops=arrow,
            va="center",
        )
    fig.tight_layout()
    return fig


def plot_token_matrix_diagram(image: np.ndarray, kernel: int, picks: tuple[int, ...] = (1, 2, 25, 60)) -> plt.Figure:
    """Schematic of the token matrix: chosen patches in the image and their rows in the matrix.

    ``picks`` are 1-based token numbers. Each picked patch is boxed in the padded image in its
    own colour; on the right, its token is a strip of its real values, placed in matrix order
    (number of tokens down, length of tokens across), with the tokens in between elided.
    """
    image = grey_image(image)
    k, s, p = soft_split_params(kernel)
    corners = patch_corners(*image.shape, kernel)
    n = len(corners)
    example = "picks=(1, 2, 25, 60)"
    picks = checks.sequence("picks", picks, of="token numbers", example=example)
    picks = tuple(checks.int_in_range(f"picks[{i}]", t, 1, n, example) for i, t in enumerate(picks))
    if not picks or list(picks) != sorted(set(picks)):
        raise ValueError(
            f"picks must be increasing token numbers between 1 and {n}, got {picks!r}; for example {example}."
        )
    if len(picks) > len(HIGHLIGHTS):
        raise ValueError(f"at most {len(HIGHLIGHTS)} picks fit the diagram, got {len(picks)}.")
    tokens = hand_tokens(image, kernel)
    length = tokens.shape[1]

    fig = plt.figure(figsize=(11.0, 4.2))
    grid = fig.add_gridspec(1, 2, width_ratios=(1, 1.3), wspace=0.3, left=0.05, right=0.95, bottom=0.14)
    ax_img, ax_mat = fig.add_subplot(grid[0]), fig.add_subplot(grid[1])
    show_image(ax_img, np.pad(image, p), title=f"Padded image: {n} patches of {k} x {k}", colorbar=False)
    for t, color in zip(picks, HIGHLIGHTS, strict=False):
        r, c = corners[t - 1]
        ax_img.add_patch(Rectangle((c, r), k, k, fill=False, ec=color, lw=2.5))
        ax_img.text(
            c + 1.5,
            r + 1,
            str(t),
            color=color,
            ha="left",
            va="top",
            fontsize=11,
            fontweight="bold",
            path_effects=[patheffects.withStroke(linewidth=2.5, foreground="black")],
        )

    # Matrix side: one slot per picked token, an ellipsis slot wherever tokens are skipped.
    slots: list[int | None] = []
    previous = 0
    for t in picks:
        if t - previous > 1:
            slots.append(None)
        slots.append(t)
        previous = t
    if previous < n:
        slots.append(None)
    strip, gap = 1.0, 0.4
    centres, labels = [], []
    for i, slot in enumerate(slots):
        y = i * (strip + gap)
        centres.append(y + strip / 2)
        if slot is None:
            labels.append("\u22ee")
            ax_mat.text(length / 2, y + strip / 2, "\u22ee", ha="center", va="center", fontsize=16)
            continue
        labels.append(f"token {slot}")
        color = HIGHLIGHTS[picks.index(slot)]
        im = ax_mat.imshow(
            tokens[slot - 1][None, :],
            cmap=CMAP,
            vmin=0,
            vmax=1,
            aspect="auto",
            extent=(0, length, y + strip, y),
        )
        ax_mat.add_patch(Rectangle((0, y), length, strip, fill=False, ec=color, lw=2.5))
    ax_mat.set_xlim(0, length)
    ax_mat.set_ylim(len(slots) * (strip + gap) - gap, 0)
    ax_mat.set_yticks(centres, labels)
    ax_mat.tick_params(axis="y", length=0)
    for label, slot in zip(ax_mat.get_yticklabels(), slots, strict=True):
        if slot is not None:
            label.set(color=HIGHLIGHTS[picks.index(slot)], fontweight="bold", fontsize=11)
        else:
            label.set(fontsize=16)
    ax_mat.set_xticks(np.arange(0, length + 1, 5 * k if length > 200 else k))
    for side in ("left", "right", "top"):
        ax_mat.spines[side].set_visible(False)
    ax_mat.set_xlabel(f"Length of Tokens \u2192  ({k} x {k} = {length} values: the patch's rows end to end)")
    ax_mat.set_ylabel(f"Number of Tokens  ({n} rows, top to bottom)")
    ax_mat.set_title(f"Token matrix, {n} x {length}: one token per row")
    fig.colorbar(im, ax=ax_mat, fraction=0.03, pad=0.02, label="pixel value")
    return fig
