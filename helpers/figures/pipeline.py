"""One picture per step of the Tokens-to-Token module, for the pipeline animation.

Each frame shows the tensor one step produces for the first image of a batch: the image,
a token matrix (tokens down, token length across) or a few channels of a reconstructed
image, with a strip of step names on top and the tensor's shape underneath.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.patches import FancyBboxPatch

from .. import checks
from ..model.tokens2token import Tokens2Token
from ..probe import t2t_steps
from .diagrams import PALETTE, shape_text, token_module
from .plotting import CMAP, _gif_frames, canvas_frame, count_noun

FIGSIZE = (9.0, 5.0)
SIGNED_CMAP = "PuOr"

# (key of Tokens2Token.forward_steps, short label for the progress strip, kind of picture)
STEPS = [
    ("image", "image", "image"),
    ("soft_split0", "split 0", "tokens"),
    ("transformer1", "transf. 1", "tokens"),
    ("reconstruct1", "reshape 1", "channels"),
    ("soft_split1", "split 1", "tokens"),
    ("transformer2", "transf. 2", "tokens"),
    ("reconstruct2", "reshape 2", "channels"),
    ("soft_split2", "split 2", "tokens"),
    ("project", "project", "tokens"),
]


def describe(t2t: Tokens2Token, key: str, shape: tuple[int, ...]) -> str:
    """A one-line caption for step ``key`` whose output has ``shape``."""
    checks.instance("t2t", t2t, Tokens2Token, "t2t=model.tokens2token")
    checks.choice("key", key, [name for name, _, _ in STEPS])
    rank = 4 if key in ("image",) or key.startswith("reconstruct") else 3
    shape = checks.sequence("shape", shape, rank, "whole numbers", f"shape={(1,) * rank}")
    shape = tuple(checks.non_negative_int(f"shape[{i}]", n) for i, n in enumerate(shape))
    if key == "image":
        return f"input image: {count_noun(shape[1], 'channel')}, {shape[2]} x {shape[3]} pixels"
    if key.startswith("soft_split"):
        i = int(key[-1])
        k, s, p = t2t.kernels[i], t2t.strides[i], t2t.paddings[i]
        return f"soft split {i} (k={k}, s={s}, p={p}): {shape[1]} tokens of length {shape[2]}"
    if key.startswith("transformer"):
        return f"token {token_module(t2t)} {key[-1]}: {shape[1]} tokens, now of length {shape[2]}"
    if key.startswith("reconstruct"):
        return f"reconstructed image: {shape[1]} channels of {shape[2]} x {shape[3]} (8 shown)"
    return f"linear projection: {shape[1]} tokens of length {shape[2]}, ready for the ViT backbone"


def _progress(fig: plt.Figure, current: int) -> None:
    """A strip of step names across the top; the current one is filled."""
    ax = fig.add_axes((0.01, 0.9, 0.98, 0.09))
    ax.set_xlim(0, len(STEPS))
    ax.set_ylim(0, 1)
    ax.axis("off")
    for i, (_, label, kind) in enumerate(STEPS):
        colour = "transformer" if label.startswith("transf") else ("data" if kind == "image" else "op")
        fill, edge = PALETTE[colour]
        done = i <= current
        ax.add_patch(
            FancyBboxPatch(
                (i + 0.05, 0.1),
                0.9,
                0.8,
                boxstyle="round,pad=0,rounding_size=0.1",
                facecolor=edge if i == current else (fill if done else "white"),
                edgecolor=edge,
                linewidth=1.2,
            )
        )
        ax.text(
            i + 0.5,
            0.5,
            label,
            ha="center",
            va="center",
            fontsize=10,
            color="white" if i == current else "#333333",
            fontweight="bold" if i == current else None,
        )


def _limits(values: np.ndarray, signed: bool) -> tuple[float, float]:
    """Colour limits: [0, 1] for pixels, else symmetric around 0, the largest |value| rounded up to 0.1."""
    if not signed:
        return 0.0, 1.0
    top = max(0.1, float(np.ceil(np.abs(values).max() * 10) / 10))
    return -top, top


def stage_figure(t2t: Tokens2Token, steps: dict[str, torch.Tensor], index: int, channels: int = 8) -> plt.Figure:
    """The figure for ``STEPS[index]``, from the tensors ``steps`` of :func:`helpers.probe.t2t_steps`."""
    checks.instance("t2t", t2t, Tokens2Token, "t2t=model.tokens2token")
    index = checks.int_in_range("index", index, 0, len(STEPS) - 1, "index=0 for the image")
    channels = checks.int_in_range("channels", channels, 1, 16, "channels=8")
    key, _, kind = STEPS[index]
    checks.instance("steps", steps, dict, "steps=helpers.probe.t2t_steps(t2t, x)")
    if key not in steps:
        raise ValueError(f"steps has no {key!r}: pass the whole dict of helpers.probe.t2t_steps(t2t, x).")
    tensor = checks.tensor(f"steps[{key!r}]", steps[key], "the step's output")
    want = 4 if kind != "tokens" else 3
    if tensor.ndim != want or 0 in tensor.shape or tensor.is_complex():
        raise ValueError(
            f"steps[{key!r}] must be a real {want}-D tensor with a batch, got shape {tuple(tensor.shape)}."
        )
    values = tensor[0].detach().cpu().numpy()
    signed = key not in ("image", "soft_split0")
    vmin, vmax = _limits(values, signed)
    cmap = SIGNED_CMAP if signed else CMAP
    fig = plt.figure(figsize=FIGSIZE)
    _progress(fig, index)
    fig.text(
        0.5,
        0.025,
        f"{describe(t2t, key, tuple(tensor.shape))}      shape {shape_text(tensor.shape)}",
        ha="center",
        va="bottom",
        fontsize=12,
    )
    if kind == "image":
        ax = fig.add_axes((0.2, 0.14, 0.55, 0.7))
        im = ax.imshow(values[0], cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
        ax.set_xlabel("width (pixels)")
        ax.set_ylabel("height (pixels)")
    elif kind == "tokens":
        ax = fig.add_axes((0.1, 0.21, 0.72, 0.63))
        im = ax.imshow(values, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto", interpolation="nearest")
        ax.set_xlabel("position along the token (token length)")
        ax.set_ylabel("token number")
    else:
        shown = min(channels, values.shape[0])
        cols = (shown + 1) // 2
        for c in range(shown):
            ax = fig.add_axes((0.06 + (c % cols) * 0.2, 0.5 - (c // cols) * 0.34, 0.17, 0.3))
            im = ax.imshow(values[c], cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
            ax.set_title(f"channel {c}", fontsize=10)
            ax.set_xticks([0, values.shape[2] - 1])
            ax.set_yticks([0, values.shape[1] - 1])
            ax.tick_params(labelsize=8)
    cax = fig.add_axes((0.87, 0.21, 0.02, 0.63))
    fig.colorbar(im, cax=cax, label="value" if signed else "pixel value")
    return fig


@torch.no_grad()
def pipeline_frames(t2t: Tokens2Token, x: torch.Tensor, channels: int = 8) -> list[np.ndarray]:
    """RGB frames, one per step of ``t2t`` on the first image of ``x`` (run in eval mode)."""
    checks.instance("t2t", t2t, Tokens2Token, "t2t=model.tokens2token")
    checks.tensor("x", x, "(batch, C, H, W)")
    was_training = t2t.training
    t2t.eval()
    try:
        steps = t2t_steps(t2t, x[:1])
    finally:
        t2t.train(was_training)
    frames = []
    for index in range(len(STEPS)):
        fig = stage_figure(t2t, steps, index, channels)
        frames.append(canvas_frame(fig))
        plt.close(fig)
    return frames


def contact_sheet(frames: list[np.ndarray], cols: int = 3) -> plt.Figure:
    """All frames side by side, small, for a quick look in a notebook."""
    frames = _gif_frames(frames)
    cols = checks.int_in_range("cols", cols, 1, 16, "cols=3")
    cols = min(cols, len(frames))
    rows = -(-len(frames) // cols)
    width = 9.0
    height = width * rows * frames[0].shape[0] / (cols * frames[0].shape[1])
    fig, axes = plt.subplots(rows, cols, figsize=(width, height))
    for ax in np.ravel(axes):
        ax.axis("off")
    for ax, frame in zip(np.ravel(axes), frames):
        ax.imshow(frame, interpolation="antialiased")
    fig.subplots_adjust(left=0, right=1, top=1, bottom=0, wspace=0.02, hspace=0.02)
    return fig
