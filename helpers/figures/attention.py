"""Attention on the running picture: attention maps and the Performer's approximation error."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.colors import PowerNorm
from matplotlib.patches import Rectangle

from .. import checks
from ..model.performer import PerformerAttention
from .plotting import OKABE_ITO, show_image

HEAT_CMAP = "magma"
QUERY_COLOUR = OKABE_ITO["vermillion"]  # the query patch in the picture
CELL_COLOUR = OKABE_ITO["sky_blue"]  # the query's cell on a heat map


def check_grid_weights(weights: np.ndarray, grid: tuple[int, int], who: str) -> np.ndarray:
    """``weights`` as a ``(rows, cols)`` array; ``ValueError`` unless it has one value per token of ``grid``."""
    weights = checks.array("weights", weights)
    rows, cols = checks.grid("grid", grid)
    checks.string("who", who)
    if weights.ndim != 1 or weights.size != rows * cols:
        raise ValueError(
            f"{who} needs one attention weight per token, a 1-D array of {rows} x {cols} = {rows * cols} "
            f"values, got shape {weights.shape}; pick one query row, e.g. weights[0, 0, query]."
        )
    return weights.reshape(rows, cols)


def patch_box(index: int, grid: tuple[int, int], k: int, s: int, p: int) -> tuple[int, int, int, int]:
    """The pixel box ``(row, col, height, width)`` that token ``index`` of a soft split covers.

    Token ``index`` sits at grid position ``(index // cols, index % cols)``; its patch starts
    ``p`` pixels before ``stride * position`` because the image was zero-padded by ``p``.
    """
    rows, cols = checks.grid("grid", grid)
    k, s = checks.positive_int("k", k, "k=7"), checks.positive_int("s", s, "s=4")
    p = checks.non_negative_int("p", p, "p=2")
    index = checks.int_in_range("token index", index, 0, rows * cols - 1, f"0 for the first of the {rows} x {cols}")
    i, j = divmod(index, cols)
    return i * s - p, j * s - p, k, k


def attention_map_figure(
    image: np.ndarray, weights: np.ndarray, query: int, grid: tuple[int, int], k: int, s: int, p: int
) -> plt.Figure:
    """The picture with the query patch boxed, beside the query's attention weights on the token grid."""
    heat = check_grid_weights(weights, grid, "attention_map_figure")
    row, col, height, width = patch_box(query, grid, k, s, p)
    qi, qj = divmod(query, grid[1])
    fig, (ax_img, ax_map) = plt.subplots(1, 2, figsize=(7.5, 3.0), layout="constrained")
    show_image(
        ax_img,
        image,
        title=f"Query patch {query}:\nrows {row}..{row + height - 1}, cols {col}..{col + width - 1}",
        tick_step=20,
    )
    ax_img.add_patch(Rectangle((col, row), width, height, fill=False, edgecolor=QUERY_COLOUR, linewidth=2.5))
    ax_img.set_xlabel("pixel column")
    ax_img.set_ylabel("pixel row")

    im = ax_map.imshow(heat, cmap=HEAT_CMAP, vmin=0.0, vmax=heat.max())
    ax_map.add_patch(Rectangle((qj - 0.5, qi - 0.5), 1, 1, fill=False, edgecolor=CELL_COLOUR, linewidth=2.5))
    ax_map.set_title(f"Attention weights of query {query}\nover the {grid[0]} x {grid[1]} tokens")
    ax_map.set_xticks(np.arange(0, grid[1], 4))
    ax_map.set_yticks(np.arange(0, grid[0], 2))
    ax_map.set_xlabel("token column")
    ax_map.set_ylabel("token row")
    fig.colorbar(im, ax=ax_map, fraction=0.046, pad=0.04, label="weight (row sums to 1)")
    return fig


def exp_kernel_weights(q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """Exact attention with the unscaled kernel ``exp(q . k)``: ``softmax(Q K^T)``, ``(..., N, N)``."""
    check_queries_keys(q, k)
    return (q @ k.transpose(-2, -1)).softmax(dim=-1)


def check_queries_keys(q: torch.Tensor, k: torch.Tensor) -> None:
    """Raise unless ``q`` and ``k`` are tensors of one shape ``(batch, num_tokens, chan)``."""
    checks.tensor("q", q, "(batch, num_tokens, chan)")
    checks.tensor("k", k, "(batch, num_tokens, chan)")
    if q.ndim != 3 or q.shape != k.shape:
        raise ValueError(
            f"q and k must both be (batch, num_tokens, chan) with the same shape, got {tuple(q.shape)} "
            f"and {tuple(k.shape)}; use the queries and keys of one PerformerAttention."
        )


def random_feature_weights(q: torch.Tensor, k: torch.Tensor, num_features: int, seed: int) -> torch.Tensor:
    """The attention matrix a :class:`PerformerAttention` with ``num_features`` features implies for ``q, k``.

    ``q`` and ``k`` are ``(batch, N, chan)``. The random matrix ``W`` is drawn by the module's
    own constructor under ``torch.manual_seed(seed)`` (the global generator is restored after),
    and the matrix is the module's own :meth:`~helpers.model.performer.PerformerAttention.kernel_weights`.
    """
    check_queries_keys(q, k)
    num_features = checks.positive_int("num_features", num_features, "num_features=32")
    seed = checks.random_seed("seed", seed)
    chan = q.shape[-1]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        # +0.5 so that int(chan * kernel_ratio) lands exactly on num_features despite rounding.
        attn = PerformerAttention(chan, chan, kernel_ratio=(num_features + 0.5) / chan)
    return attn.kernel_weights(q, k)


def total_variation(a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean over query rows of ``0.5 * sum |a - b|``: the share of attention put in the wrong place."""
    checks.tensor("a", a, "(..., N, N) attention weights")
    checks.tensor("b", b, "(..., N, N) attention weights")
    if a.shape != b.shape or a.ndim == 0 or a.numel() == 0:
        raise ValueError(
            f"a and b must be attention matrices of one non-empty shape, got {tuple(a.shape)} and {tuple(b.shape)}."
        )
    if a.is_complex() or b.is_complex():
        raise TypeError("a and b must hold real attention weights, not complex numbers.")
    return float(0.5 * (a - b).abs().sum(dim=-1).mean())


def approximation_errors(
    q: torch.Tensor, k: torch.Tensor, feature_counts: Sequence[int], seeds: Sequence[int]
) -> np.ndarray:
    """Total variation between Performer and exact ``exp(q . k)`` attention for each feature count.

    Averaged over ``seeds``; returns an array with one error per entry of ``feature_counts``.
    """
    check_queries_keys(q, k)
    example = "feature_counts=[8, 64], seeds=range(3)"
    counts = checks.sequence("feature_counts", feature_counts, of="feature counts", example=example)
    feature_counts = [checks.positive_int(f"feature_counts[{i}]", m, example) for i, m in enumerate(counts)]
    seeds = checks.sequence("seeds", seeds, of="seeds", example=example)
    seeds = [checks.random_seed(f"seeds[{i}]", seed) for i, seed in enumerate(seeds)]
    if not seeds:
        raise ValueError(f"seeds must name at least one seed, got none; for example {example}.")
    exact = exp_kernel_weights(q, k)
    return np.array(
        [
            np.mean([total_variation(random_feature_weights(q, k, m, seed), exact) for seed in seeds])
            for m in feature_counts
        ]
    )


def performer_vs_softmax_figure(
    exact_row: np.ndarray,
    approx_row: np.ndarray,
    grid: tuple[int, int],
    exact_all: np.ndarray,
    approx_all: np.ndarray,
    feature_counts: Sequence[int],
    errors: dict[str, np.ndarray],
    num_features: int,
    query: int,
    chan: int,
) -> plt.Figure:
    """Four panels: one query row exact and approximate, a log-log scatter of all weights, error against m.

    The two heat maps share one colour scale, so equal colours mean equal weights; the scale is a
    square root, so the small weights that make up most of a row stay visible.
    """
    exact_map = check_grid_weights(exact_row, grid, "performer_vs_softmax_figure")
    approx_map = check_grid_weights(approx_row, grid, "performer_vs_softmax_figure")
    exact_all = checks.array("exact_all", exact_all, hint="pass exact.numpy(), every weight")
    approx_all = checks.array("approx_all", approx_all, hint="pass approx.numpy(), every weight")
    if exact_all.shape != approx_all.shape or exact_all.size == 0 or exact_all.size > 2**24:
        raise ValueError(
            f"exact_all and approx_all must hold the same weights, at least one and at most {2**24:,}, got shapes "
            f"{exact_all.shape} and {approx_all.shape}."
        )
    example = "feature_counts=[8, 64]"
    counts = checks.sequence("feature_counts", feature_counts, of="feature counts", example=example)
    feature_counts = [checks.positive_int(f"feature_counts[{i}]", m, example) for i, m in enumerate(counts)]
    if not 1 <= len(feature_counts) <= 64:
        raise ValueError(f"feature_counts must list 1 to 64 feature counts, got {len(feature_counts)}.")
    checks.instance("errors", errors, dict, "errors={'exp kernel': approximation_errors(...)}")
    for label, values in errors.items():
        checks.string("a label in errors", label)
        values = checks.array(f"errors[{label!r}]", values, 1, "one error per feature count")
        if len(values) != len(feature_counts):
            raise ValueError(f"errors[{label!r}] holds {len(values)} errors for {len(feature_counts)} feature counts.")
    num_features = checks.positive_int("num_features", num_features, "num_features=pattn.num_features")
    chan = checks.positive_int("chan", chan, "chan=64")
    query = checks.int_in_range("query", query, 0, exact_map.size - 1, "query=0")
    # Drawn at the width the website shows (7.5 in) with 8-point text: 11 px on screen.
    with plt.rc_context({"font.size": 8}):
        fig, axes = plt.subplots(2, 2, figsize=(7.5, 6.0), layout="constrained")
        qi, qj = divmod(query, grid[1])
        top = max(exact_map.max(), approx_map.max())
        for ax, heat, title in (
            (axes[0, 0], exact_map, f"Exact softmax(q.k), query {query}"),
            (axes[0, 1], approx_map, f"Performer, m = {num_features} features, query {query}"),
        ):
            im = ax.imshow(heat, cmap=HEAT_CMAP, norm=PowerNorm(0.5, vmin=0.0, vmax=top))
            ax.add_patch(Rectangle((qj - 0.5, qi - 0.5), 1, 1, fill=False, edgecolor=CELL_COLOUR, linewidth=2))
            ax.set_title(title)
            ax.set_xticks(np.arange(0, grid[1], 4))
            ax.set_yticks(np.arange(0, grid[0], 2))
            ax.set_xlabel("token column")
            ax.set_ylabel("token row")
            fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="weight (square-root scale)")

        ax = axes[1, 0]
        exact_all, approx_all = np.ravel(exact_all), np.ravel(approx_all)
        floor = 1e-12
        exact_all, approx_all = np.maximum(exact_all, floor), np.maximum(approx_all, floor)
        ax.scatter(exact_all, approx_all, s=2, alpha=0.2, color=OKABE_ITO["blue"], rasterized=True, linewidths=0)
        ax.plot([floor, 1], [floor, 1], color="black", linewidth=1, label="perfect agreement")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(floor, 1)
        ax.set_ylim(floor, 1)
        ax.set_xlabel(f"exact weight (values below {floor:.0e} drawn at {floor:.0e})")
        ax.set_ylabel(f"Performer weight (m = {num_features})")
        ax.set_title(f"All {exact_all.size} weights, log-log")
        ax.legend(loc="upper left")

        ax = axes[1, 1]
        lines = (OKABE_ITO["blue"], OKABE_ITO["orange"], OKABE_ITO["bluish_green"])
        for (label, values), marker, colour in zip(errors.items(), "os^", lines):
            ax.plot(feature_counts, values, marker=marker, color=colour, label=label)
        ax.axvline(chan, color="grey", linestyle="--", linewidth=1)
        ax.text(chan * 1.08, 0.02, f"m = chan = {chan}", color="grey", va="bottom")
        ax.axvline(num_features, color=OKABE_ITO["vermillion"], linestyle=":", linewidth=1)
        ax.text(
            num_features * 0.93,
            0.02,
            f"T2T default m = {num_features}",
            color=OKABE_ITO["vermillion"],
            va="bottom",
            ha="right",
        )
        ax.set_xscale("log", base=2)
        ax.set_xticks(list(feature_counts))
        ax.set_xticklabels([str(m) for m in feature_counts], rotation=45, ha="right", rotation_mode="anchor")
        ax.set_ylim(0, 1)
        ax.set_xlabel("number of random features m")
        ax.set_ylabel("mean total variation")
        ax.set_title("Error against exact attention (mean over seeds)")
        ax.grid(alpha=0.3)
        ax.legend(loc="center right")
    return fig


__all__ = [
    "approximation_errors",
    "attention_map_figure",
    "exp_kernel_weights",
    "patch_box",
    "performer_vs_softmax_figure",
    "random_feature_weights",
    "total_variation",
]
