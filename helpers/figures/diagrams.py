"""Block diagrams of the T2T module and of T2T-ViT, drawn with matplotlib patches.

Every tensor shape written on an arrow is measured by running the model on the input it is
given, never typed in by hand, so the diagrams stay true when the sizes change.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.colors import to_hex, to_rgb
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Rectangle

from .. import checks
from ..model.backbone import sinusoid_table
from ..model.performer import TokenPerformer
from ..model.t2t_vit import T2TViT
from ..model.tokens2token import Tokens2Token
from ..probe import t2t_steps
from .plotting import CMAP, OKABE_ITO, count_noun


def tint(colour: str, amount: float) -> str:
    """``colour`` mixed with white: ``amount`` 0 is white, 1 is the colour itself."""
    checks.string("colour", colour, "colour='#0072B2'")
    amount = checks.finite_number("amount", amount, "amount=0.5")
    if not 0 <= amount <= 1:
        raise ValueError(f"amount must be from 0 (white) to 1 (the colour itself), got {amount}.")
    try:
        rgb = np.array(to_rgb(colour))
    except ValueError:
        raise ValueError(
            f"colour {colour!r} is not a colour matplotlib knows; for example '#0072B2' or 'tab:blue'."
        ) from None
    return to_hex(1 - amount * (1 - rgb))


# One palette for every diagram: (fill, edge) per kind of block, every hue from Okabe-Ito.
_KINDS = {
    "data": "bluish_green",  # images and tokens
    "op": "blue",  # fixed operations: soft split, reshape, norm, linear layers
    "transformer": "reddish_purple",  # blocks with attention
    "module": "orange",  # the Tokens-to-Token module frame
    "pred": "vermillion",  # the prediction token and the prediction
}
PALETTE = {kind: (tint(OKABE_ITO[name], 0.22), OKABE_ITO[name]) for kind, name in _KINDS.items()}
PALETTE["pred"] = (tint(OKABE_ITO["vermillion"], 0.45), OKABE_ITO["vermillion"])  # darker: beside the tokens
ARROW = "#333333"
SHAPE = OKABE_ITO["blue"]
CONNECTOR = PALETTE["transformer"][1]
FONT = 11
SHAPE_FONT = 10


def shape_text(shape) -> str:
    """``torch.Size([1, 375, 49])`` -> ``"(1, 375, 49)"``."""
    shape = [checks.non_negative_int(f"shape[{i}]", n) for i, n in enumerate(checks.sequence("shape", shape))]
    return "(" + ", ".join(str(int(n)) for n in shape) + ")"


def token_module(t2t: Tokens2Token) -> str:
    """``"performer"`` or ``"transformer"``: the kind of the module's token transformers."""
    checks.instance("t2t", t2t, Tokens2Token, "t2t=model.tokens2token")
    return "performer" if isinstance(t2t.transformer1, TokenPerformer) else "transformer"


@torch.no_grad()
def t2t_shapes(t2t: Tokens2Token, x: torch.Tensor) -> dict[str, tuple[int, ...]]:
    """The shape of every intermediate tensor of ``t2t`` on ``x``, keyed by step name (see :func:`t2t_steps`)."""
    checks.instance("t2t", t2t, Tokens2Token, "t2t=model.tokens2token")
    was_training = t2t.training
    t2t.eval()
    try:
        steps = t2t_steps(t2t, x)
    finally:
        t2t.train(was_training)
    return {name: tuple(value.shape) for name, value in steps.items()}


@torch.no_grad()
def t2t_vit_shapes(model: T2TViT, x: torch.Tensor) -> dict[str, tuple[int, ...]]:
    """Shapes through the whole T2T-ViT on ``x``, step by step, keyed by step name.

    Every shape is read off a tensor the model itself makes or holds: the T2T module's tokens,
    the prediction token ``cls_token``, the table ``pos_embed``, ``backbone.embed``'s output (the
    tokens with the prediction token in front and the positions added: concatenating and adding
    change no shape), and what enters and leaves the final norm and the head as the backbone runs.
    """
    checks.instance("model", model, T2TViT, "model=helpers.T2TViT()")
    backbone, seen = model.backbone, {}

    def keep(name: str, given: bool = False):
        def hook(module, args, out=None):
            seen[name] = tuple((args[0] if given else out).shape)

        return hook

    was_training = model.training
    model.eval()
    handles = [
        backbone.norm.register_forward_pre_hook(keep("blocks", given=True)),
        backbone.norm.register_forward_hook(keep("norm")),
        backbone.head.register_forward_pre_hook(keep("pred_row", given=True)),
        backbone.head.register_forward_hook(keep("head")),
    ]
    try:
        tokens = model.tokens2token(x)
        embedded = tuple(backbone.embed(tokens).shape)
        backbone(tokens)  # the second half of model(x)
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    return {
        "image": tuple(x.shape),
        "tokens": tuple(tokens.shape),
        "pred_token": (x.shape[0], *backbone.cls_token.shape[1:]),
        "concat": embedded,
        "pos_embed": tuple(backbone.pos_embed.shape),
        "pos_added": embedded,
        "blocks": seen["blocks"],
        "norm": seen["norm"],
        "pred_row": seen["pred_row"],
        "head": seen["head"],
    }


def _box(
    ax, x: float, y: float, w: float, h: float, text: str, kind: str, size: int = FONT, sub: str | None = None
) -> None:
    """A rounded block centred at ``(x, y)``; ``sub`` is a smaller second line."""
    fill, edge = PALETTE[kind]
    ax.add_patch(
        FancyBboxPatch(
            (x - w / 2, y - h / 2),
            w,
            h,
            boxstyle="round,pad=0,rounding_size=0.08",
            facecolor=fill,
            edgecolor=edge,
            linewidth=1.5,
            zorder=2,
        )
    )
    if sub is None:
        ax.text(x, y, text, ha="center", va="center", fontsize=size, zorder=3)
    else:
        ax.text(x, y + 0.1, text, ha="center", va="center", fontsize=size, zorder=3)
        ax.text(x, y - 0.15, sub, ha="center", va="center", fontsize=max(size - 2, 9), color="#444444", zorder=3)


def _frame(ax, x0: float, y0: float, x1: float, y1: float, kind: str, title: str, title_x: float | None = None) -> None:
    """A large rounded frame from ``(x0, y0)`` to ``(x1, y1)`` with a title in its top-left corner.

    ``title_x`` moves the title's left end, e.g. to the right of an arrow that enters the frame.
    """
    fill, edge = PALETTE[kind]
    ax.add_patch(
        FancyBboxPatch(
            (x0, y0),
            x1 - x0,
            y1 - y0,
            boxstyle="round,pad=0,rounding_size=0.15",
            facecolor=fill,
            edgecolor=edge,
            linewidth=1.8,
            zorder=0,
        )
    )
    x = x0 + 0.15 if title_x is None else title_x
    ax.text(x, y1 - 0.12, title, ha="left", va="top", fontsize=FONT, fontweight="bold", color=edge, zorder=1)


def _arrow(
    ax,
    start,
    end,
    label: str | None = None,
    color: str = ARROW,
    style: str = "-|>",
    dashed: bool = False,
    label_dx: float = 0.12,
    rad: float = 0.0,
    label_at: float = 0.5,
) -> None:
    """An arrow from ``start`` to ``end``, with an optional shape label beside it (``label_at`` of the way)."""
    ax.add_patch(
        FancyArrowPatch(
            start,
            end,
            arrowstyle=style,
            mutation_scale=14,
            color=color,
            linewidth=1.4,
            linestyle="--" if dashed else "-",
            zorder=1,
            shrinkA=0,
            shrinkB=0,
            connectionstyle=f"arc3,rad={rad}",
        )
    )
    if label:
        mx = start[0] + label_at * (end[0] - start[0])
        my = start[1] + label_at * (end[1] - start[1])
        ax.text(
            mx + label_dx,
            my,
            label,
            ha="left",
            va="center",
            fontsize=SHAPE_FONT,
            color=SHAPE,
            family="monospace",
            zorder=3,
        )


def _shape_above(ax, x: float, y: float, shape) -> None:
    """A tensor shape written above a horizontal arrow, centred on ``x``."""
    ax.text(x, y, shape_text(shape), ha="center", va="bottom", fontsize=SHAPE_FONT, color=SHAPE, family="monospace")


def _path(ax, points, color: str = ARROW) -> None:
    """A polyline ending in an arrow head (for skip connections)."""
    xs, ys = zip(*points[:-1])
    ax.plot(xs, ys, color=color, linewidth=1.4, zorder=1)
    _arrow(ax, points[-2], points[-1], color=color)


def _add_node(ax, x: float, y: float, r: float = 0.14) -> None:
    """A circled plus: element-wise addition."""
    ax.add_patch(Circle((x, y), r, facecolor="white", edgecolor=ARROW, linewidth=1.4, zorder=2))
    ax.plot([x - r * 0.6, x + r * 0.6], [y, y], color=ARROW, linewidth=1.4, zorder=3)
    ax.plot([x, x], [y - r * 0.6, y + r * 0.6], color=ARROW, linewidth=1.4, zorder=3)


def _token_strip(
    ax, x: float, y: float, count: int, first: str | None = None, cell: float = 0.16, most: int = 16
) -> tuple[float, float]:
    """A row of small squares, one per token (at most ``most``, then an ellipsis), centred at x.

    ``first="pred"`` draws the first square in the prediction token's colour.
    Returns the strip's left and right x.
    """
    shown = min(count, most)
    gap = 0.03
    width = shown * (cell + gap) + (0.35 if count > most else 0.0)
    left = x - width / 2
    for i in range(shown):
        kind = first if (i == 0 and first) else "data"
        fill, edge = PALETTE[kind]
        cx = left + i * (cell + gap)
        if count > most and i == shown - 1:
            ax.text(cx + 0.05, y, "…", ha="left", va="center", fontsize=FONT)
            cx += 0.35
        ax.add_patch(Rectangle((cx, y - cell / 2), cell, cell, facecolor=fill, edgecolor=edge, linewidth=1, zorder=2))
    return left, left + width


def _thumbnail(
    ax,
    image: np.ndarray,
    x: float,
    y: float,
    height: float,
    vmin: float = 0.0,
    vmax: float = 1.0,
    cmap: str = CMAP,
    width: float | None = None,
) -> tuple[float, ...]:
    """Draw ``image`` centred at ``(x, y)`` (width follows the aspect unless given); returns its extent."""
    width = width or height * image.shape[1] / image.shape[0]
    extent = (x - width / 2, x + width / 2, y - height / 2, y + height / 2)
    ax.imshow(image, cmap=cmap, vmin=vmin, vmax=vmax, extent=extent, zorder=2, interpolation="nearest")
    ax.add_patch(
        Rectangle(
            (extent[0], extent[2]), width, height, fill=False, edgecolor=PALETTE["data"][1], linewidth=1.2, zorder=3
        )
    )
    return extent


def _token_transformer_panel(
    ax,
    x: float,
    top: float,
    dim_shape,
    chan_shape,
    title: str,
    attention: str = "Attention",
    sub: str | None = None,
    v_skip: bool = True,
    width: float = 2.4,
) -> tuple[float, float]:
    """The inside of a (token) transformer block as a framed column; returns (left, y of title).

    With ``v_skip`` the first skip carries the values V (T2T's token attention changes the
    token length, so the input cannot be added); otherwise it carries the block's input.
    """
    step, box_w, box_h = 0.74, 1.9, 0.52
    ys = [top - 0.9 - i * step for i in range(7)]
    left, right = x - width / 2 - 0.45, x + width / 2 + 0.55
    _frame(ax, left, ys[-1] - 0.45, right, top, "transformer", title)
    _arrow(ax, (x, top - 0.35), (x, ys[0] + box_h / 2), label=shape_text(dim_shape))
    branch_y = ys[0] + box_h / 2 + 0.13
    _box(ax, x, ys[0], box_w, box_h, "Norm", "op")
    _arrow(ax, (x, ys[0] - box_h / 2), (x, ys[1] + box_h / 2))
    sub = sub or f"token length {dim_shape[-1]} → {chan_shape[-1]}"
    _box(ax, x, ys[1], box_w, box_h, attention, "transformer", sub=sub)
    _arrow(ax, (x, ys[1] - box_h / 2), (x, ys[2] + 0.14), label=shape_text(chan_shape))
    _add_node(ax, x, ys[2])
    side = x - box_w / 2 - 0.25
    if v_skip:
        _path(
            ax, [(x - box_w / 2, ys[1] - 0.05), (side, ys[1] - 0.05), (side, ys[2]), (x - 0.14, ys[2])], color=CONNECTOR
        )
        ax.text(
            side - 0.07,
            (ys[1] + ys[2]) / 2 - 0.05,
            "V",
            ha="right",
            va="center",
            fontsize=SHAPE_FONT,
            color=CONNECTOR,
            fontweight="bold",
        )
    else:
        ax.plot([x], [branch_y], marker="o", markersize=4, color=ARROW, zorder=3)
        _path(ax, [(x, branch_y), (side, branch_y), (side, ys[2]), (x - 0.14, ys[2])])
        ax.text(
            side - 0.07,
            (branch_y + ys[2]) / 2,
            "skip",
            ha="right",
            va="center",
            fontsize=SHAPE_FONT - 1,
            rotation=90,
            color=ARROW,
        )
    _arrow(ax, (x, ys[2] - 0.14), (x, ys[3] + box_h / 2))
    fork = ys[2] - 0.27
    ax.plot([x], [fork], marker="o", markersize=4, color=ARROW, zorder=3)
    _box(ax, x, ys[3], box_w, box_h, "Norm", "op")
    _arrow(ax, (x, ys[3] - box_h / 2), (x, ys[4] + box_h / 2))
    _box(ax, x, ys[4], box_w, box_h, "Neural net", "op", sub="Linear, GELU, Linear")
    _arrow(ax, (x, ys[4] - box_h / 2), (x, ys[5] + 0.14))
    _add_node(ax, x, ys[5])
    side = x + box_w / 2 + 0.25
    _path(ax, [(x, fork), (side, fork), (side, ys[5]), (x + 0.14, ys[5])])
    ax.text(
        side + 0.07,
        (fork + ys[5]) / 2,
        "skip",
        ha="left",
        va="center",
        fontsize=SHAPE_FONT - 1,
        color=ARROW,
        rotation=90,
    )
    _arrow(ax, (x, ys[5] - 0.14), (x, ys[6] - 0.1), label=shape_text(chan_shape))
    return left, top - 0.3


def _canvas(width: float, height: float, y0: float = 0.0) -> tuple[plt.Figure, plt.Axes]:
    """A figure whose data units are inches (y from ``y0``), with no axes drawn."""
    fig = plt.figure(figsize=(width, height))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(y0, y0 + height)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig, ax


def t2t_module_diagram(t2t: Tokens2Token, x: torch.Tensor) -> plt.Figure:
    """The Tokens-to-Token module as a block diagram, with the shapes it produces on ``x``.

    The main column runs image -> soft split -> token transformer -> reconstruct -> soft split
    -> token transformer -> reconstruct -> soft split -> linear projection -> tokens; a panel
    on the right opens up a token transformer (its shapes are ``transformer1``'s). Soft splits are
    numbered from 0 and the token transformers carry the code's names, ``transformer1`` and
    ``transformer2`` (the official code's ``attention1``, ``attention2``).
    """
    shapes = t2t_shapes(t2t, x)
    fig, ax = _canvas(10.0, 11.1, y0=0.6)
    cx, box_w, box_h, step = 2.3, 2.6, 0.56, 0.93

    def tt_sub(i: int) -> str:
        before, after = shapes[f"soft_split{i}"][-1], shapes[f"transformer{i + 1}"][-1]
        kind = "" if token_module(t2t) == "transformer" else " (performer)"
        return f"transformer{i + 1}{kind}: length {before} → {after}"

    ks = [(k, s, p) for k, s, p in zip(t2t.kernels, t2t.strides, t2t.paddings)]
    blocks = [
        ("soft_split0", "Soft split 0", "op", "k={}, s={}, p={}".format(*ks[0])),
        ("transformer1", "Token transformer", "transformer", tt_sub(0)),
        ("reconstruct1", "Reconstruct 2-D image", "op", "transpose + reshape"),
        ("soft_split1", "Soft split 1", "op", "k={}, s={}, p={}".format(*ks[1])),
        ("transformer2", "Token transformer", "transformer", tt_sub(1)),
        ("reconstruct2", "Reconstruct 2-D image", "op", "transpose + reshape"),
        ("soft_split2", "Soft split 2", "op", "k={}, s={}, p={}".format(*ks[2])),
        ("project", "Linear projection", "op", f"{shapes['soft_split2'][-1]} → {shapes['project'][-1]}"),
    ]
    top = 10.0
    ys = [top - 0.75 - i * step for i in range(len(blocks))]
    _frame(
        ax,
        cx - box_w / 2 - 0.35,
        ys[-1] - 0.55,
        cx + box_w / 2 + 1.75,
        top + 0.05,
        "module",
        "Tokens-to-Token module",
        title_x=cx + 0.2,  # right of the input arrow, which enters the frame at cx
    )

    image = x[0, 0].detach().cpu().numpy()
    extent = _thumbnail(ax, image, cx, top + 1.0, 1.0)
    ax.text(extent[1] + 0.15, top + 1.0, "input image", ha="left", va="center", fontsize=FONT)
    _arrow(ax, (cx, extent[2]), (cx, ys[0] + box_h / 2), label=shape_text(shapes["image"]), label_at=0.2)
    for i, (key, title, kind, sub) in enumerate(blocks):
        _box(ax, cx, ys[i], box_w, box_h, title, kind, sub=sub)
        end = ys[i + 1] + box_h / 2 if i + 1 < len(blocks) else ys[i] - 1.2
        _arrow(ax, (cx, ys[i] - box_h / 2), (cx, end), label=shape_text(shapes[key]))

    num_tokens, token_len = shapes["project"][1:]
    strip_y = ys[-1] - 1.35
    _token_strip(ax, cx, strip_y, num_tokens)
    ax.text(
        cx, strip_y - 0.33, f"{num_tokens} tokens, each of length {token_len}", ha="center", va="top", fontsize=FONT
    )

    # The inside of a token transformer, tied to both token transformer boxes.
    px = 7.55
    panel_top = ys[1] + 0.55
    left, _ = _token_transformer_panel(
        ax, px, panel_top, shapes["soft_split0"], shapes["transformer1"], "Inside a token transformer"
    )
    for i in (1, 4):
        _arrow(
            ax,
            (cx + box_w / 2, ys[i]),
            (left, panel_top - 0.45 - (i == 4) * 3.4),
            color=CONNECTOR,
            dashed=True,
            rad=-0.15 if i == 1 else 0.15,
        )
    batch, chans, height, width = shapes["image"]
    note = (
        f"shapes for batch {batch}, one {height} x {width} image with {count_noun(chans, 'channel')};\n"
        "panel shapes are transformer1's"
    )
    ax.text(px, ys[-1] - 0.9, note, ha="center", va="top", fontsize=SHAPE_FONT - 1, color="#555555")
    return fig


def t2t_vit_diagram(model: T2TViT, x: torch.Tensor) -> plt.Figure:
    """The whole T2T-ViT as a block diagram, with the shapes it produces on ``x``."""
    shapes = t2t_vit_shapes(model, x)
    t2t = model.tokens2token
    depth = len(model.backbone.blocks)
    fig, ax = _canvas(10.0, 14.8, y0=-0.6)
    cx, box_w, box_h = 2.6, 2.8, 0.56
    y = 13.3
    image = x[0, 0].detach().cpu().numpy()
    extent = _thumbnail(ax, image, cx, y, 1.0)
    ax.text(extent[1] + 0.15, y, "input image", ha="left", va="center", fontsize=FONT)

    # The T2T module, compressed to one framed block listing its steps.
    y_t2t = 11.2
    _frame(
        ax, cx - box_w / 2 - 0.2, y_t2t - 0.8, cx + box_w / 2 + 0.2, y_t2t + 0.85, "module", "Tokens-to-Token module"
    )
    kernels = ", ".join(str(k) for k in t2t.kernels)
    ax.text(
        cx,
        y_t2t - 0.12,
        f"3 soft splits (k = {kernels})\n2 token {token_module(t2t)}s\nlinear projection",
        ha="center",
        va="center",
        fontsize=FONT - 1,
    )
    _arrow(ax, (cx, extent[2]), (cx, y_t2t + 0.85), label=shape_text(shapes["image"]))

    y_strip1 = 9.55
    _arrow(ax, (cx, y_t2t - 0.8), (cx, y_strip1 + 0.25), label=shape_text(shapes["tokens"]))
    _token_strip(ax, cx, y_strip1, shapes["tokens"][1])
    ax.text(cx - 1.75, y_strip1, "image\ntokens", ha="right", va="center", fontsize=FONT - 1)

    y_cat = 8.55
    _box(ax, cx, y_cat, 1.9, 0.5, "Concatenate", "op")
    _arrow(ax, (cx, y_strip1 - 0.2), (cx, y_cat + 0.25))
    px = 7.2
    _box(ax, px, y_cat, 2.6, 0.62, "Prediction token", "pred", sub="learned, starts near 0")
    _arrow(ax, (px - 1.3, y_cat), (cx + 0.95, y_cat), label=None)
    _shape_above(ax, (px - 1.3 + cx + 0.95) / 2, y_cat + 0.12, shapes["pred_token"])

    y_strip2 = 7.55
    _arrow(ax, (cx, y_cat - 0.25), (cx, y_strip2 + 0.25), label=shape_text(shapes["concat"]))
    _token_strip(ax, cx, y_strip2, shapes["concat"][1], first="pred")

    y_add = 6.75
    _add_node(ax, cx, y_add, r=0.18)
    _arrow(ax, (cx, y_strip2 - 0.2), (cx, y_add + 0.18))
    table = model.backbone.pos_embed[0].detach().cpu().numpy()
    table = np.concatenate((table[:, 0::2], table[:, 1::2]), axis=1)  # regrouped: even (sin), then odd (cos)
    ext = _thumbnail(ax, table, px, y_add, 0.8, vmin=-1, vmax=1, cmap="PuOr", width=2.4)
    ax.text(
        px,
        ext[3] + 0.08,
        "position embedding: fixed sinusoid\n(drawn regrouped: even sin columns | odd cos columns)",
        ha="center",
        va="bottom",
        fontsize=FONT - 1,
    )
    _arrow(ax, (ext[0] - 0.05, y_add), (cx + 0.18, y_add))
    _shape_above(ax, (ext[0] + cx) / 2, y_add + 0.12, shapes["pos_embed"])

    # The encoding blocks, with one opened up on the right.
    y_b1, y_dots, y_bn = 5.6, 4.85, 4.1
    _arrow(ax, (cx, y_add - 0.18), (cx, y_b1 + box_h / 2), label=shape_text(shapes["pos_added"]))
    _box(ax, cx, y_b1, box_w, box_h, "Encoding block 1", "transformer")
    ax.text(cx, y_dots, "⋮", ha="center", va="center", fontsize=16)
    _box(ax, cx, y_bn, box_w, box_h, f"Encoding block {depth}", "transformer")
    _arrow(ax, (cx, y_b1 - box_h / 2), (cx, y_dots + 0.25))
    _arrow(ax, (cx, y_dots - 0.25), (cx, y_bn + box_h / 2))
    bx = cx - box_w / 2 - 0.25
    ax.plot(
        [bx + 0.12, bx, bx, bx + 0.12],
        [y_b1 + box_h / 2, y_b1 + box_h / 2, y_bn - box_h / 2, y_bn - box_h / 2],
        color=CONNECTOR,
        linewidth=2,
    )
    ax.text(bx - 0.1, y_dots, f"depth\n= {depth}", ha="right", va="center", fontsize=FONT, color=CONNECTOR)

    y_norm, y_sel, y_head, y_pred = 3.0, 2.05, 1.1, 0.3
    _arrow(ax, (cx, y_bn - box_h / 2), (cx, y_norm + box_h / 2), label=shape_text(shapes["blocks"]))
    _box(ax, cx, y_norm, box_w, box_h, "Norm", "op")
    _arrow(ax, (cx, y_norm - box_h / 2), (cx, y_sel + box_h / 2), label=shape_text(shapes["norm"]))
    _box(ax, cx, y_sel, box_w, box_h, "Keep the prediction token", "pred", size=FONT - 1, sub="row 0")
    _arrow(ax, (cx, y_sel - box_h / 2), (cx, y_head + box_h / 2), label=shape_text(shapes["pred_row"]))
    _box(ax, cx, y_head, box_w, box_h, "Head (Linear)", "op")
    _arrow(ax, (cx, y_head - box_h / 2), (cx, y_pred + 0.2), label=shape_text(shapes["head"]))
    ax.text(
        cx, y_pred, "prediction", ha="center", va="center", fontsize=FONT, color=PALETTE["pred"][1], fontweight="bold"
    )

    dim = shapes["pos_added"]
    panel_top = 5.95
    left, _ = _token_transformer_panel(
        ax,
        7.5,
        panel_top,
        dim,
        dim,
        "Inside an encoding block",
        sub=count_noun(model.backbone.blocks[0].attn.num_heads, "head"),
        v_skip=False,
    )
    _arrow(ax, (cx + box_w / 2, y_b1), (left, panel_top - 0.45), color=CONNECTOR, dashed=True, rad=-0.1)
    _arrow(ax, (cx + box_w / 2, y_bn), (left, panel_top - 1.6), color=CONNECTOR, dashed=True, rad=0.1)
    batch, chans, height, width = shapes["image"]
    note = f"shapes for batch {batch}, one {height} x {width} image with {count_noun(chans, 'channel')}"
    ax.text(7.5, -0.35, note, ha="center", va="center", fontsize=SHAPE_FONT - 1, color="#555555")
    return fig


def sinusoid_figure(num_rows: int, width: int) -> plt.Figure:
    """The position table ``sinusoid_table(num_rows, width)``: sine columns and cosine columns apart.

    Interleaved, the two halves make a striped picture; side by side each shows its waves.
    """
    table = sinusoid_table(num_rows, width)[0].numpy()
    fig, axes = plt.subplots(1, 2, figsize=(7.5, 3.0), sharey=True, layout="constrained")
    for ax, start, name in ((axes[0], 0, "even columns j = 2i: sin"), (axes[1], 1, "odd columns j = 2i + 1: cos")):
        im = ax.imshow(table[:, start::2], cmap="PuOr", vmin=-1, vmax=1, aspect="auto", interpolation="nearest")
        ax.set_title(name, fontsize=11)
        ax.set_xlabel("pair index i")
    axes[0].set_ylabel("row = token position")
    fig.suptitle(f"sinusoid_table({num_rows}, {width})", fontsize=12)
    fig.colorbar(im, ax=axes, fraction=0.03, pad=0.02, label="table value")
    return fig
