"""Figures for image reconstruction: tokens ``(num_tokens, chan)`` -> image ``(chan, H', W')``."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import patheffects
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.lines import Line2D
from matplotlib.patches import ConnectionPatch, Rectangle

from .. import checks
from .plotting import OKABE_ITO, canvas_frame

# Token values are signed (a Token Transformer's output), so they get a diverging map centred on 0.
SIGNED_CMAP = "PuOr"
# Okabe-Ito colours: vermillion for the token; for the channels, the darker hues first (the first four
# contrast at least 2.9:1 with white), no yellow. Each box has a white halo, so it shows on dark cells too.
TOKEN_COLOUR = OKABE_ITO["vermillion"]
CHANNEL_NAMES = ("blue", "bluish_green", "black", "reddish_purple", "sky_blue", "orange")
CHANNEL_COLOURS = tuple(OKABE_ITO[name] for name in CHANNEL_NAMES)
HALO = [patheffects.withStroke(linewidth=4.5, foreground="white")]


def _colour_name(colour: str) -> str:
    """``"#0072B2"`` -> ``"blue"``: the words for a channel's colour, for titles and legends."""
    return CHANNEL_NAMES[CHANNEL_COLOURS.index(colour)].replace("_", " ")


def _signed_limits(values: np.ndarray) -> tuple[float, float]:
    """``(-m, m)`` with ``m`` the largest absolute value: 0 sits in the middle of the diverging map."""
    m = float(np.abs(values).max()) or 1.0
    return -m, m


def _box(ax, xy: tuple[float, float], width: float, height: float, colour: str, linewidth: float = 2.0) -> Rectangle:
    """An unfilled rectangle in ``colour`` with a white halo, so that it shows on light and dark cells."""
    box = Rectangle(xy, width, height, fill=False, edgecolor=colour, linewidth=linewidth)
    box.set_path_effects(HALO)
    return ax.add_patch(box)


def _frame_channel(ax, title: str, colour: str, rows: int, cols: int) -> None:
    """Title, coloured frame (its column's colour in the matrix) and sparse ticks for one channel panel."""
    ax.set_title(title, fontsize=11)  # black: yellow text on white is hard to read; the frame carries the colour
    for spine in ax.spines.values():
        spine.set_edgecolor(colour)
        spine.set_linewidth(3)
    ax.set_xticks(np.arange(0, cols, 4))
    ax.set_yticks(np.arange(0, rows, 7))


def check_tokens(tokens: np.ndarray, grid: tuple[int, int]) -> np.ndarray:
    """``tokens`` as an array; ``ValueError`` unless it is one batch ``(H' * W', chan)`` for ``grid = (H', W')``."""
    tokens = checks.array("tokens", tokens)
    rows, cols = checks.grid("grid", grid)
    if tokens.ndim != 2 or tokens.shape[0] != rows * cols:
        raise ValueError(
            f"tokens must be one batch of shape (num_tokens, chan) with num_tokens = {rows} x {cols} = "
            f"{rows * cols}, got {tokens.shape}; take one batch with tokens[0] and pass grid = (H', W') "
            "from count_tokens."
        )
    return tokens


def check_channels(channels: Sequence[int], chan: int, limit: int = len(CHANNEL_COLOURS)) -> list[int]:
    """``channels`` as a list: 1 to ``limit`` channel indices below ``chan``."""
    chan = checks.positive_int("chan", chan, "chan=64")
    limit = checks.positive_int("limit", limit, "limit=6")
    example = f"channels=(0, {min(1, chan - 1)})"
    channels = checks.sequence("channels", channels, of="channel indices", example=example)
    if not 1 <= len(channels) <= limit:
        raise ValueError(f"channels must list 1 to {limit} channels, got {len(channels)}; for example {example}.")
    return [checks.int_in_range(f"channels[{i}]", c, 0, chan - 1, example) for i, c in enumerate(channels)]


def check_token(token: int, num_tokens: int) -> int:
    """``token`` as an int, an index of one of ``num_tokens`` tokens."""
    num_tokens = checks.positive_int("num_tokens", num_tokens, "num_tokens=375")
    return checks.int_in_range("token", token, 0, num_tokens - 1, "token=0")


def tokens_to_image(tokens: np.ndarray, grid: tuple[int, int]) -> np.ndarray:
    """``(H' * W', chan) -> (chan, H', W')`` with numpy, the same rule as ``Tokens2Token.reconstruct``."""
    tokens = check_tokens(tokens, grid)
    return tokens.T.reshape(tokens.shape[1], *checks.grid("grid", grid))


def channel_grid_figure(image: np.ndarray, channels: Sequence[int], ncols: int = 4) -> plt.Figure:
    """A grid of single channels of a ``(chan, H', W')`` image, each with its own colour bar."""
    image = checks.array("image", image, 3, "(chan, H', W')", "drop the batch axis with [0]", dtype=None)
    channels = check_channels(channels, image.shape[0], limit=image.shape[0])
    ncols = checks.int_in_range("ncols", ncols, 1, 16, "ncols=4")
    nrows = -(-len(channels) // ncols)
    # Drawn at the width the website shows (7.5 in for 4 columns) with 8-point text: 11 px on screen.
    with plt.rc_context({"font.size": 8}):
        fig, axes = plt.subplots(
            nrows, ncols, figsize=(1.85 * ncols, 1.35 * nrows + 0.4), layout="constrained", squeeze=False
        )
        for ax in axes.flat[len(channels) :]:
            ax.axis("off")
        for ax, c in zip(axes.flat, channels):
            vmin, vmax = _signed_limits(image[c])
            im = ax.imshow(image[c], cmap=SIGNED_CMAP, vmin=vmin, vmax=vmax)
            ax.set_title(f"channel {c}")
            ax.set_xticks(np.arange(0, image.shape[2], 8))
            ax.set_yticks(np.arange(0, image.shape[1], 7))
            fig.colorbar(im, ax=ax, fraction=0.046, pad=0.03, label="value")
    return fig


def _token_matrix(ax: plt.Axes, tokens: np.ndarray, vmin: float, vmax: float, hidden: np.ndarray | None = None):
    """Draw a ``(num_tokens, chan)`` matrix, rows listed in ``hidden`` greyed out."""
    shown = np.ma.masked_array(tokens, mask=np.zeros_like(tokens, dtype=bool))
    if hidden is not None:
        shown.mask[hidden] = True
    cmap = plt.get_cmap(SIGNED_CMAP).with_extremes(bad="#bdbdbd")
    im = ax.imshow(shown, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto", interpolation="nearest")
    ax.set_xlabel("Length of Tokens / Channels")
    ax.set_ylabel("Number of Tokens")
    return im


def token_matrix_figure(tokens: np.ndarray, grid: tuple[int, int], token: int, channels: Sequence[int]) -> plt.Figure:
    """One batch of tokens as a ``num_tokens x chan`` matrix, one token row and a few channel columns boxed."""
    tokens = check_tokens(tokens, grid)
    channels = check_channels(channels, tokens.shape[1])
    num_tokens, chan = tokens.shape
    token = check_token(token, num_tokens)
    fig, ax = plt.subplots(figsize=(6.4, 6.6), layout="constrained")
    im = _token_matrix(ax, tokens, *_signed_limits(tokens))
    for c, colour in zip(channels, CHANNEL_COLOURS):
        _box(ax, (c - 0.5, -0.5), 1, num_tokens, colour)
    _box(ax, (-0.5, token - 2.5), chan, 5, TOKEN_COLOUR)
    row, col = divmod(token, grid[1])
    ax.set_title(f"A single batch of tokens: {num_tokens} x {chan}")
    ax.set_yticks(np.arange(0, num_tokens, 25))
    ax.set_xticks(np.arange(0, chan, 8))
    fig.colorbar(im, ax=ax, fraction=0.05, pad=0.02, label="token value")
    fig.legend(handles=_legend(token, f"(row {row}, column {col})", channels), loc="outside lower center", ncols=2)
    return fig


def _legend(token: int, where: str, channels: Sequence[int]) -> list[Line2D]:
    """Legend entries: the token's red-orange box, then each channel's colour, named in words."""
    handles = [Line2D([], [], color=TOKEN_COLOUR, lw=3, label=f"red-orange: token {token} {where}")]
    for c, colour in zip(channels, CHANNEL_COLOURS):
        handles.append(Line2D([], [], color=colour, lw=3, label=f"{_colour_name(colour)}: channel {c}"))
    return handles


def channel_stack_figure(
    image: np.ndarray, token: int, channels: Sequence[int], vmin: float, vmax: float, ncols: int = 2
) -> plt.Figure:
    """Chosen channels of a ``(chan, H', W')`` image in a grid, one colour scale, the token's pixel boxed.

    Each panel's frame has the colour of its column in :func:`token_matrix_figure`. The scale is the
    diverging one, symmetric about 0, that reaches the larger of ``|vmin|`` and ``|vmax|``.
    """
    image = checks.array("image", image, 3, "(chan, H', W')", "drop the batch axis with [0]", dtype=None)
    chan, rows, cols = image.shape
    channels = check_channels(channels, chan)
    i, j = divmod(check_token(token, rows * cols), cols)
    vmin, vmax = checks.finite_number("vmin", vmin, "vmin=-1.0"), checks.finite_number("vmax", vmax, "vmax=1.0")
    ncols = checks.int_in_range("ncols", ncols, 1, 16, "ncols=2")
    nrows = -(-len(channels) // ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(4.6 * ncols + 1.0, 2.7 * nrows + 0.8), layout="constrained", squeeze=False
    )
    for ax in axes.flat[len(channels) :]:
        ax.axis("off")
    vmin, vmax = _signed_limits(np.array([vmin, vmax], dtype=float))
    for ax, c, colour in zip(axes.flat, channels, CHANNEL_COLOURS):
        im = ax.imshow(image[c], cmap=SIGNED_CMAP, vmin=vmin, vmax=vmax)
        _box(ax, (j - 0.5, i - 0.5), 1, 1, TOKEN_COLOUR, linewidth=2.5)
        _frame_channel(ax, f"channel {c} ({_colour_name(colour)} frame)", colour, rows, cols)
    fig.suptitle(
        f"The reconstructed image: {chan} channels of {rows} x {cols}, channel c = value c of every token;\n"
        f"token {token} lands at row {i}, column {j} (red-orange box)"
    )
    fig.colorbar(im, ax=axes, fraction=0.04, pad=0.02, label="token value")
    return fig


def reconstruction_frames(
    tokens: np.ndarray, grid: tuple[int, int], channels: Sequence[int] = (0, 1), first_single: int = 3
) -> list[np.ndarray]:
    """GIF frames: tokens leave the matrix and fill their place in the ``H' x W'`` grid.

    The first ``first_single`` tokens move one per frame, then the rest of the first grid row,
    then one grid row per frame; a last frame shows the finished image. Every frame differs.
    """
    tokens = check_tokens(tokens, grid)
    channels = check_channels(channels, tokens.shape[1])
    rows, cols = grid
    first_single = checks.int_in_range("first_single", first_single, 0, cols - 1, "first_single=3")
    steps = [range(t, t + 1) for t in range(first_single)]
    steps.append(range(first_single, cols))
    steps += [range(r * cols, (r + 1) * cols) for r in range(1, rows)]
    steps.append(range(0))  # the finished image, nothing highlighted
    image = tokens_to_image(tokens, grid)
    vmin, vmax = _signed_limits(tokens)

    fig = plt.figure(figsize=(9.6, 5.2), layout="constrained")
    outer = fig.add_gridspec(1, 2, width_ratios=[1, 1.5])
    ax_matrix = fig.add_subplot(outer[0])
    right = outer[1].subgridspec(len(channels), 1)
    ax_grids = [fig.add_subplot(right[n]) for n in range(len(channels))]
    cmap = plt.get_cmap(SIGNED_CMAP).with_extremes(bad="#bdbdbd")
    scale = ScalarMappable(norm=Normalize(vmin, vmax), cmap=cmap)
    fig.colorbar(scale, ax=ax_grids, fraction=0.05, pad=0.02, label="token value (grey: not placed yet)")
    frames = []
    done = 0
    for step in steps:
        ax_matrix.clear()
        moved = np.arange(done)
        _token_matrix(ax_matrix, tokens, vmin, vmax, hidden=moved)
        ax_matrix.set_yticks(np.arange(0, len(tokens), 50))
        ax_matrix.set_xticks(np.arange(0, tokens.shape[1], 16))
        for c, colour in zip(channels, CHANNEL_COLOURS):
            _box(ax_matrix, (c - 0.5, -0.5), 1, len(tokens), colour)
        filled = np.zeros(rows * cols, dtype=bool)
        filled[: done + len(step)] = True
        if len(step):
            lo, hi = step.start, step.stop
            _box(ax_matrix, (-0.5, lo - 0.5), tokens.shape[1], max(hi - lo, 2), TOKEN_COLOUR)
            (i, j0), j1 = divmod(lo, cols), (hi - 1) % cols
            what = (
                f"token {lo} -> row {i}, column {j0}"
                if hi - lo == 1
                else (f"tokens {lo}-{hi - 1} -> row {i}, columns {j0}-{j1}")
            )
            ax_matrix.set_title(what, fontsize=11)
        else:
            ax_matrix.set_title("all tokens placed", fontsize=11)
        for ax, c, colour in zip(ax_grids, channels, CHANNEL_COLOURS):
            ax.clear()
            shown = np.ma.masked_array(image[c], mask=~filled.reshape(rows, cols))
            ax.imshow(shown, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
            _frame_channel(ax, f"channel {c} ({_colour_name(colour)} frame), {rows} x {cols}", colour, rows, cols)
            if len(step):
                i, j0 = divmod(step.start, cols)
                _box(ax, (j0 - 0.5, i - 0.5), len(step), 1, TOKEN_COLOUR)
        if len(step):
            arrow = ConnectionPatch(
                xyA=(tokens.shape[1] - 0.5, (step.start + step.stop - 1) / 2),
                coordsA=ax_matrix.transData,
                xyB=(step.start % cols - 0.5, step.start // cols),
                coordsB=ax_grids[0].transData,
                arrowstyle="->",
                color=TOKEN_COLOUR,
                linewidth=1.5,
            )
            fig.add_artist(arrow)
        frames.append(canvas_frame(fig))
        if len(step):
            arrow.remove()
        done += len(step)
    plt.close(fig)
    return frames
