"""Checkers for the exercises of notebook 04 (the T2T module and T2T-ViT).

Every checker works out the truth itself, by building the model or from the formula, and
compares it with the learner's answer. A wrong answer gets a hint aimed at the most likely
mistake; the message never contains the right numbers.
"""

from __future__ import annotations

import functools
import math

import torch
from torch.utils.flop_counter import FlopCounterMode

from ..checks import finite_number, sequence, whole_value
from ..model.tokens import count_tokens
from ..model.tokens2token import Tokens2Token
from .feedback import Feedback, right, wrong

SQUARE = (3, 384, 384)  # exercise 1: a 384 x 384 RGB picture
TOKEN_CHAN = 32  # exercise 1: the token transformers make tokens of this length
KERNELS = (7, 3, 3)


@functools.lru_cache(maxsize=1)
def _square_module() -> Tokens2Token:
    return Tokens2Token(img_size=SQUARE, softsplit_kernels=KERNELS, token_chan=TOKEN_CHAN, token_len=384)


def _counts(kernels, strides, paddings, side: int = SQUARE[1]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(tokens after each split, tokens per side after each split) with ``count_tokens``."""
    totals, sides = [], []
    for k, s, p in zip(kernels, strides, paddings):
        side, _, total = count_tokens(side, side, k, s, p)
        totals.append(total)
        sides.append(side)
    return tuple(totals), tuple(sides)


def check_token_counts(answer) -> Feedback:
    """Exercise 1a: ``(tokens after split 0, after split 1, after split 2)`` for 384 x 384 RGB."""
    example = "check_token_counts((n0, n1, n2))"
    answer = sequence("answer", answer, 3, "whole numbers", example)
    answer = tuple(whole_value(f"answer[{i}]", n, example=example) for i, n in enumerate(answer))
    t2t = _square_module()
    truth = tuple(h * w for h, w in t2t.grids)
    if answer == truth:
        return right(
            "split 0 keeps one position in 16 of the picture (stride 4 along both axes), splits 1 and 2 about a "
            "quarter of the tokens each (stride 2)."
        )
    sides = tuple(w for _, w in t2t.grids)
    if answer == sides:
        return wrong("these look like tokens along one side of the grid; the soft split makes a 2-D grid of them.")
    no_padding, _ = _counts(t2t.kernels, t2t.strides, (0, 0, 0))
    if answer == no_padding:
        return wrong("these are the counts without padding. T2T pads every split: see soft_split_params(k).")
    hard, _ = _counts(t2t.kernels, t2t.kernels, (0, 0, 0))
    if answer == hard:
        return wrong("these are the counts for patches that do not overlap (stride = kernel). Soft splits overlap.")
    if answer[0] == truth[0] and answer[1:] != truth[1:]:
        return wrong(
            "split 0 is right. Splits 1 and 2 start from the grid the previous split made, "
            "not from the original picture: chain count_tokens."
        )
    return wrong("chain count_tokens(w, h, *soft_split_params(k)) once per kernel, feeding each grid into the next.")


def check_token_lengths(answer) -> Feedback:
    """Exercise 1b: ``(length entering token transformer 1, length entering transformer 2)``, ``token_chan=32``."""
    example = "check_token_lengths((d1, d2))"
    answer = sequence("answer", answer, 2, "whole numbers", example)
    answer = tuple(whole_value(f"answer[{i}]", n, example=example) for i, n in enumerate(answer))
    t2t = _square_module()
    truth = (t2t.transformer1.norm1.normalized_shape[0], t2t.transformer2.norm1.normalized_shape[0])
    if answer == truth:
        return right("a token holds every channel of its k x k patch.")
    chans = SQUARE[0]
    if answer == (t2t.kernels[0] ** 2, t2t.kernels[1] ** 2):
        return wrong("that is k * k for each split; a token gathers the patch from every channel of the image.")
    if answer[0] == truth[0] and answer[1] == chans * t2t.kernels[1] ** 2:
        return wrong(
            "transformer 1 is right. Split 1 cuts the reconstructed image, whose channels are not the picture's."
        )
    if answer[0] == truth[0]:
        return wrong("transformer 1 is right; how many channels does the image that split 1 cuts have?")
    if answer[1] == truth[1]:
        return wrong("transformer 2 is right; the first split cuts the RGB picture itself.")
    return wrong("a token of a soft split has channels * k * k values; which image does each split cut?")


@functools.lru_cache(maxsize=4)
def _t2t_gmacs(name: str) -> tuple[float, float]:
    """(GMACs of the T2T module, GMACs of the whole model) of a registered variant at 224 x 224."""
    import timm  # the variants are registered with timm by importing helpers

    net = timm.create_model(name).eval().to("meta")
    x = torch.zeros(1, 3, 224, 224, device="meta")
    counts = []
    for part in (net.tokens2token, net):
        with FlopCounterMode(display=False) as counter:
            part(x)
        counts.append(counter.get_total_flops() / 2 / 1e9)
    return counts[0], counts[1]


def check_t2t_gmacs(answer) -> Feedback:
    """Exercise 2: GMACs of ``t2t_vit_t_14``'s T2T module alone, for one 224 x 224 RGB image."""
    answer = finite_number("answer", answer, "check_t2t_gmacs(1.5)")
    truth, whole = _t2t_gmacs("t2t_vit_t_14")
    close = lambda value: abs(answer - value) <= 0.02 * abs(value)  # noqa: E731  (2 %: rounding by hand)
    if close(truth):
        return right("compare it with the whole model's 6.1 GMACs and with t2t_vit_14's T2T module.")
    if answer > 1e3:
        return wrong("give the answer in GMACs (billions of multiply-accumulates), not in MACs.")
    if close(2 * truth):
        return wrong("FlopCounterMode counts floating point operations; one multiply-accumulate is two of them.")
    if close(whole):
        return wrong("that is the whole model. Run the counter on net.tokens2token only.")
    if close(_t2t_gmacs("t2t_vit_14")[0]):
        return wrong("that is the Performer variant t2t_vit_14. The exercise asks for t2t_vit_t_14.")
    if answer > whole:
        return wrong("that is more than the whole model costs; count one image of 224 x 224, batch 1.")
    return wrong("move a fresh model to 'meta' and count one forward pass of net.tokens2token only.")


def _truncated_std_factor(cut: float) -> float:
    """Std of a standard normal truncated to ``[-cut, cut]``: ``sqrt(1 - 2 cut phi(cut) / (2 Phi(cut) - 1))``."""
    density = math.exp(-cut * cut / 2) / math.sqrt(2 * math.pi)
    inside = math.erf(cut / math.sqrt(2))  # = 2 Phi(cut) - 1
    return math.sqrt(1 - 2 * cut * density / inside)


def check_truncation_factor(answer) -> Feedback:
    """Exercise 3: std after ``trunc_normal_(w, std=0.02, a=-0.04, b=0.04)`` divided by 0.02."""
    answer = finite_number("answer", answer, "check_truncation_factor(0.9)")
    std, bound = 0.02, 0.04
    truth = _truncated_std_factor(bound / std)
    close = lambda value: abs(answer - value) <= 0.02 * abs(value)  # noqa: E731  (2 %: rounding by hand)
    if close(truth):
        return right("the cut removes the largest values, so the spread of what is left shrinks.")
    if abs(answer / std - truth) <= 0.02 * truth:
        return wrong("that looks like the standard deviation itself; the exercise asks for it divided by 0.02.")
    if answer > 1:
        return wrong("cutting off the tails cannot make the spread larger than before.")
    if close(1.0):
        return wrong("that would mean nothing was cut; with bounds at 0.04 the cut is at two standard deviations.")
    if close(math.erf(math.sqrt(2))):
        return wrong("that is the share of the normal's mass kept inside two standard deviations, not the std.")
    if close(math.erfc(math.sqrt(2))):
        return wrong("that is the share of the mass cut off, not the standard deviation of what remains.")
    return wrong("measure the std of the re-initialised weights (in float64) and divide by 0.02.")


__all__ = ["check_t2t_gmacs", "check_token_counts", "check_token_lengths", "check_truncation_factor"]
