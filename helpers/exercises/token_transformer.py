"""Checkers for notebook 02's exercises: the parameter count, valid head counts, the two scales.

The truths come from modules built here (``TokenTransformer``, ``Attention``), not from typed
numbers; the likely mistakes are recognised by counting layer by layer with one piece wrong.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
from torch import nn

from ..checks import finite_number, positive_int, sequence
from ..model.attention import Attention
from ..model.token_transformer import TokenTransformer
from .feedback import Feedback, right, wrong

# The walk-through block of notebook 02.
DIM, CHAN, HIDDEN_MUL = 7 * 7, 64, 1.5
HEAD_CANDIDATES = (1, 2, 3, 8, 12)
# Exercise 2: the second token transformer of a T2T module with token_chan = 32 (the paper uses 32 or 64), one head.
SCALE_CHAN = 32


def _stage2_dim(chan: int = SCALE_CHAN) -> int:
    """Token length entering T2T's second token transformer: 3 x 3 windows of a ``chan``-channel image."""
    return nn.Unfold(3, stride=2, padding=1)(torch.zeros(1, chan, 15, 25)).shape[1]


def _parameter_count(num_heads: int = 4) -> int:
    """Parameters of ``TokenTransformer(49, 64, num_heads, hidden_chan_mul=1.5)``, counted on the module."""
    block = TokenTransformer(dim=DIM, chan=CHAN, num_heads=num_heads, hidden_chan_mul=HIDDEN_MUL)
    return sum(p.numel() for p in block.parameters())


def _by_layer(qkv_bias: bool = False, norms: bool = True, hidden: int | None = None, projections: int = 3) -> int:
    """The count written out layer by layer, with switches for the usual slips."""
    hidden = int(CHAN * HIDDEN_MUL) if hidden is None else hidden
    total = projections * DIM * CHAN + (3 * CHAN if qkv_bias else 0)  # qkv
    total += CHAN * CHAN + CHAN  # proj
    total += CHAN * hidden + hidden + hidden * CHAN + CHAN  # NeuralNet: fc1, fc2
    if norms:
        total += 2 * DIM + 2 * CHAN  # norm1, norm2: a weight and a bias per value
    return total


def check_parameter_count(answer: object, num_heads: int = 4) -> Feedback:
    """Exercise 1: the number of parameters of the walk-through block with ``num_heads`` heads."""
    num_heads = positive_int("num_heads", num_heads, "num_heads=4")
    a = finite_number("answer", answer, "check_parameter_count(1000)")
    if CHAN % num_heads:  # say so without listing the head counts that work: exercise 1 asks for them
        raise ValueError(
            f"num_heads={num_heads} cannot be built with chan={CHAN}, so the block has no parameter count; "
            "which head counts can be built is the second half of exercise 1."
        )
    truth = _parameter_count(num_heads)
    if a == truth:
        return right(
            f"and the count is the same for every valid num_heads (here {num_heads}): heads only "
            "reshape the 64 channels into groups, they add no weights."
        )
    slips = {
        _by_layer(qkv_bias=True): "qkv has no bias here (qkv_bias=False); only proj and the NeuralNet have biases.",
        _by_layer(norms=False): "the two LayerNorms have parameters too: a weight and a bias per value they normalise.",
        _by_layer(hidden=CHAN): "the NeuralNet's hidden layer is wider than chan: hidden_chan_mul=1.5.",
        _by_layer(projections=1): "qkv makes three projections at once, q, k and v, each from dim to chan.",
        _by_layer() - (CHAN * CHAN + CHAN): "don't forget proj, the linear layer that mixes the heads.",
    }
    if a in slips:
        return wrong(slips[a])
    if num_heads > 1 and a in (truth * num_heads, truth / num_heads):
        return wrong("the count does not scale with num_heads: a head is a slice of the same qkv output.")
    return wrong(
        "count layer by layer: print(block) lists every layer; a Linear(a, b) holds a * b weights and, "
        "if it has a bias, b more; a LayerNorm(n) holds 2n."
    )


def _valid_heads(candidates: Iterable[int] = HEAD_CANDIDATES) -> set[int]:
    """The ``num_heads`` in ``candidates`` for which ``Attention(49, 64, num_heads)`` can be built."""
    ok = set()
    for heads in candidates:
        try:
            Attention(DIM, CHAN, num_heads=heads)
        except ValueError:
            continue
        ok.add(heads)
    return ok


def check_valid_heads(answer: object) -> Feedback:
    """Exercise 1: which of ``num_heads`` = 1, 2, 3, 8, 12 work with ``chan = 64``; ``answer`` lists them."""
    answer = sequence("answer", answer, of="head counts", example="check_valid_heads([1, 2])", ordered=False)
    picked = [finite_number("each head count", h, "check_valid_heads([1, 2])") for h in answer]
    if any(h not in HEAD_CANDIDATES for h in picked):
        return wrong(f"pick only from the candidates {list(HEAD_CANDIDATES)}.")
    truth = _valid_heads()
    chosen = {int(h) for h in picked}
    if chosen == truth:
        return right("a head count works exactly when it divides chan, so that every head gets the same slice.")
    notes = []
    extra, missing = len(chosen - truth), len(truth - chosen)
    if extra:
        which = "one you picked would raise" if extra == 1 else f"{extra} you picked would raise"
        notes.append(f"{which}: each head gets chan // num_heads channels, and 64 must split evenly.")
    if missing:
        which = "one you left out works" if missing == 1 else f"{missing} you left out work"
        notes.append(f"{which}: try building them.")
    return wrong(" ".join(notes))


def check_scales(standard: object, official: object) -> Feedback:
    """Exercise 2: the default and the official scale of stage 2 with ``token_chan = 32`` and one head.

    Stage 2 reads 3 x 3 windows of a 32-channel image (``dim = 288``) and maps them to ``chan = 32``.
    Answers within 2 % of the truth count as right (rounded by hand).
    """
    a = finite_number("standard", standard, "standard=0.5")
    b = finite_number("official", official, "official=0.5")
    dim = _stage2_dim()
    true_standard = Attention(dim, SCALE_CHAN, num_heads=1).scale
    true_official = (dim // 1) ** -0.5  # the official code: (input length // heads) ** -0.5

    def close(x: float, y: float) -> bool:
        return math.isclose(x, y, rel_tol=0.02)

    if close(a, true_standard) and close(b, true_official):
        return right(
            f"the official scale is {true_standard / true_official:.0f} times smaller here: with the same weights "
            "its softmax is flatter."
        )
    if close(a, true_official) and close(b, true_standard):
        return wrong("swapped: the project's default uses the length of q and k, the official code the input length.")
    if any(close(x, 1 / y) for x, y in ((a, true_standard), (b, true_official))):
        return wrong("a scale divides by the square root: it is a number below 1.")
    notes = []
    if not close(a, true_standard):
        if close(a, CHAN**-0.5):
            notes.append("standard: that is chan = 64's scale; this token transformer has token_chan = 32.")
        else:
            notes.append("standard: which length do q and k have, and how many heads share it?")
    if not close(b, true_official):
        if close(b, DIM**-0.5):
            notes.append("official: that is stage 1's dim; at stage 2 a token is a 3 x 3 patch of the rebuilt image.")
        elif close(b, _stage2_dim(CHAN) ** -0.5):
            notes.append("official: that is the dim for 64 channels; here the image has token_chan = 32 channels.")
        else:
            notes.append("official: which length does a token have when it enters stage 2's attention?")
    return wrong(" ".join(notes))


__all__ = ["check_parameter_count", "check_scales", "check_valid_heads"]
