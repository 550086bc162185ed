"""Figures for image reconstruction: tokens ``(num_tokens, chan)`` -> image ``(chan, H', W')``."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.patches import ConnectionPatch, Rectangle

from .. import checks
from .plotting import CMAP, OKABE_ITO, canvas_frame

# Okabe-Ito colours: vermillion for the token, distinct hues (no orange beside it) for the channels.
TOKEN_COLOUR = OKABE_ITO["vermillion"]
CHANNEL_COLOURS = tuple(
    OKABE_ITO[name] for name in ("sky_blue", "bluish_green", "yellow", "blue", "reddish_purple", "black")
)


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
    rows, cols = grid
    if tokens.ndim != 2 or tokens.shape[0] != rows * cols:
        raise ValueError(
            f"tokens must be one batch of shape (num_tokens, chan) with num_tokens = {rows} x {cols} = "
            f"{rows * cols}, got {tokens.shape}; take one batch with tokens[0] and pass grid = (H', W') "
            "from count_tokens."
        )
    return tokens


def check_channels(channels: Sequence[int], chan: int, limit: int = len(CHANNEL_COLOURS)) -> list[int]:
    """``channels`` as a list: 1 to ``limit`` channel indices below ``chan``."""
    example = f"channels=(0, {min(1, chan - 1)})"
    channels = checks.sequence("channels", channels, of="channel indices", example=example)
    if not 1 <= len(channels) <= limit:
        raise ValueError(f"channels must list 1 to {limit} channels, got {len(channels)}; for example {example}.")
    return [checks.int_in_range(f"channels[{i}]", c, 0, chan - 1, example) for i, c in enumerate(channels)]


def check_token(token: int, num_tokens: int) -> int:
    """``token`` as an int, an index of one of ``num_tokens`` tokens."""
    return checks.int_in_range("token", token, 0, num_tokens - 1, "token=0")


def tokens_to_image(tokens: np.ndarray, grid: tuple[int, int]) -> np.ndarray:
    """``(H' * W', chan) -> (chan, H', W')`` with numpy, the same rule as ``Tokens2Token.reconstruct``."""
    tokens = check_tokens(tokens, grid)
    return tokens.T.reshape(tokens.shape[1], *grid)


def channel_grid_figure(image: np.ndarray, channels: Sequence[int], ncols: int = 4) -> plt.Figure:
    """A grid of single channels of a ``(chan, H', W')`` image, each with its own colour bar."""
    image = checks.array("image", image, 3, "(chan, H', W')", "drop the batch axis with [0]", dtype=None)
    channels = check_channels(channels, image.shape[0], limit=image.shape[0])
    nrows = -(-len(channels) // ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(3.3 * ncols, 1.95 * nrows + 0.4), layout="constrained", squeeze=False
    )
    for ax in axes.flat[len(channels) :]:
        ax.axis("off")
    for ax, c in zip(axes.flat, channels):
        im = ax.imshow(image[c], cmap=CMAP)
        ax.set_title(f"channel {c}")
        ax.set_xticks(np.arange(0, image.shape[2], 8))
        ax.set_yticks(np.arange(0, image.shape[1], 7))
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.03)
    return fig


def _token_matrix(ax: plt.Axes, tokens: np.ndarray, vmin: float, vmax: float, hidden: np.ndarray | None = None):
    """Draw a ``(num_tokens, chan)`` matrix, rows listed in ``hidden`` greyed out."""
    shown = np.ma.masked_array(tokens, mask=np.zeros_like(tokens, dtype=bool))
    if hidden is not None:
        shown.mask[hidden] = True
    cmap = plt.get_cmap(CMAP).with_extremes(bad="#e8e8e8")
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
    im = _token_matrix(ax, tokens, tokens.min(), tokens.max())
    for c, colour in zip(channels, CHANNEL_COLOURS):
        ax.add_patch(Rectangle((c - 0.5, -0.5), 1, num_tokens, fill=False, edgecolor=colour, linewidth=2))
    ax.add_patch(Rectangle((-0.5, token - 2.5), chan, 5, fill=False, edgecolor=TOKEN_COLOUR, linewidth=2))
    row, col = divmod(token, grid[1])
    ax.set_title(
        f"A single batch of tokens: {num_tokens} x {chan}\n"
        f"red-orange: token {token} (row {row}, column {col} of the grid)\n"
        f"coloured: channels {', '.join(map(str, channels))}"
    )
    ax.set_yticks(np.arange(0, num_tokens, 25))
    ax.set_xticks(np.arange(0, chan, 8))
    fig.colorbar(im, ax=ax, fraction=0.05, pad=0.02, label="token value")
    return fig


def channel_stack_figure(
    image: np.ndarray, token: int, channels: Sequence[int], vmin: float, vmax: float, ncols: int = 2
) -> plt.Figure:
    """Chosen channels of a ``(chan, H', W')`` image in a grid, one colour scale, the token's pixel boxed.

    Each panel's frame has the colour of its column in :func:`token_matrix_figure`.
    """
    image = checks.array("image", image, 3, "(chan, H', W')", "drop the batch axis with [0]", dtype=None)
    chan, rows, cols = image.shape
    channels = check_channels(channels, chan)
    i, j = divmod(check_token(token, rows * cols), cols)
    nrows = -(-len(channels) // ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(4.6 * ncols + 1.0, 2.7 * nrows + 0.8), layout="constrained", squeeze=False
    )
    for ax in axes.flat[len(channels) :]:
        ax.axis("off")
    for ax, c, colour in zip(axes.flat, channels, CHANNEL_COLOURS):
        im = ax.imshow(image[c], cmap=CMAP, vmin=vmin, vmax=vmax)
        ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor=TOKEN_COLOUR, linewidth=2.5))
        _frame_channel(ax, f"channel {c} = value {c} of every token", colour, rows, cols)
    fig.suptitle(
        f"The reconstructed image: {chan} channels of {rows} x {cols}; "
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
    vmin, vmax = tokens.min(), tokens.max()

    fig = plt.figure(figsize=(9.6, 5.2), layout="constrained")
    outer = fig.add_gridspec(1, 2, width_ratios=[1, 1.5])
    ax_matrix = fig.add_subplot(outer[0])
    right = outer[1].subgridspec(len(channels), 1)
    ax_grids = [fig.add_subplot(right[n]) for n in range(len(channels))]
    cmap = plt.get_cmap(CMAP).with_extremes(bad="#e8e8e8")
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
            ax_matrix.add_patch(Rectangle((c - 0.5, -0.5), 1, len(tokens), fill=False, edgecolor=colour, linewidth=2))
        filled = np.zeros(rows * cols, dtype=bool)
        filled[: done + len(step)] = True
        if len(step):
            lo, hi = step.start, step.stop
            ax_matrix.add_patch(
                Rectangle(
                    (-0.5, lo - 0.5), tokens.shape[1], max(hi - lo, 2), fill=False, edgecolor=TOKEN_COLOUR, linewidth=2
                )
            )
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
            _frame_channel(ax, f"channel {c} of the {rows} x {cols} image", colour, rows, cols)
            if len(step):
                i, j0 = divmod(step.start, cols)
                ax.add_patch(
                    Rectangle((j0 - 0.5, i - 0.5), len(step), 1, fill=False, edgecolor=TOKEN_COLOUR, linewidth=2)
                )
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
