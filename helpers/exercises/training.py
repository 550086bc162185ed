"""Checkers for the exercises of notebook 05 (training the tiny T2T-ViT on digits).

Every checker works out the truth itself, by building the model or the scheduler, and
compares it with the learner's answer. A wrong answer gets a hint aimed at the most likely
mistake; the message never contains the right numbers.
"""

from __future__ import annotations

import torch

from ..checks import finite_number, positive_float, whole_value
from ..training.loop import count_parameters, tiny_patch_vit, tiny_t2t_vit, warmup_cosine
from .feedback import Feedback, right, wrong

DEFAULT_STRIDES = (4, 2, 2)  # exercise 1: T2T's own stride rule, ceil(k / 2), on the last split
BATCHES_PER_EPOCH = 22  # exercise 3: 1,347 train images in batches of 64
WARMUP_EPOCHS = 1


def check_default_stride_tokens(answer) -> Feedback:
    """Exercise 1: tokens the backbone sees when the last soft split has stride 2 (32 x 32 digits)."""
    answer = whole_value("answer", answer, example="check_default_stride_tokens(9)")
    model = tiny_t2t_vit(softsplit_strides=DEFAULT_STRIDES)
    truth = model.num_tokens
    (h0, w0), (h1, w1), (h2, w2) = model.tokens2token.grids
    if answer == truth:
        return right("now train it for a few epochs and compare with the stride-1 model.")
    if answer == tiny_t2t_vit().num_tokens:
        return wrong("that is the notebook's model, whose last split has stride 1; redo only the last split, s = 2.")
    if answer == w2:
        return wrong("that is the number along one side of the grid; the backbone sees every cell of it.")
    if answer in (h0 * w0, h1 * w1):
        return wrong("that is the count after an earlier split; follow the grid through all three.")
    return wrong("chain count_tokens over the three splits from 32 x 32, with the last stride changed.")


def check_equal_parameters(hidden_chan_mul) -> Feedback:
    """Exercise 2: a ``hidden_chan_mul`` that gives the patch ViT the T2T-ViT's parameter count within 1 %."""
    example = "check_equal_parameters(3.0); the notebook's ViT uses 2.0"
    mul = positive_float("hidden_chan_mul", finite_number("hidden_chan_mul", hidden_chan_mul, example), example)
    target = count_parameters(tiny_t2t_vit())
    ours = count_parameters(tiny_patch_vit(hidden_chan_mul=mul))
    allowed = target // 100  # 1 % of the T2T-ViT's count, in whole parameters
    if abs(ours - target) <= allowed:
        return right("the two models now have the same size within 1 %; train both and compare the curves.")
    if abs(mul - 2.0) < 1e-9:
        return wrong("that is the notebook's setting, where the ViT is the smaller model; widen its MLP.")
    if ours < target:
        return wrong(
            f"the ViT has {target - ours:,} parameters fewer than the T2T-ViT's {target:,}, more than the "
            f"{allowed:,} (1 %) allowed; widen its MLP more."
        )
    return wrong(
        f"the ViT has {ours - target:,} parameters more than the T2T-ViT's {target:,}, more than the "
        f"{allowed:,} (1 %) allowed; you went too far."
    )


def _lr_factors() -> list[float]:
    """The factor ``warmup_cosine`` gives the learning rate at each step of the first epochs."""
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    steps = 6 * BATCHES_PER_EPOCH
    scheduler = warmup_cosine(optimizer, steps, WARMUP_EPOCHS * BATCHES_PER_EPOCH)
    factors = []
    for _ in range(steps):
        factors.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return factors


def check_warmup_factor(answer) -> Feedback:
    """Exercise 3: the learning rate factor (lr / 2e-3) used by the 11th optimiser step (step index 10)."""
    answer = finite_number("answer", answer, "check_warmup_factor(0.3)")
    factors = _lr_factors()
    truth = factors[10]
    close = lambda value: abs(answer - value) <= 0.02 * abs(value)  # noqa: E731  (2 %: rounding by hand)
    if close(truth):
        return right("the warmup ramp starts above zero, so the very first step already learns a little.")
    if close(10 / (WARMUP_EPOCHS * BATCHES_PER_EPOCH)) or close(factors[9]):
        return wrong("off by one step: read how factor(step) counts, starting from step 0.")
    if abs(answer - 2e-3 * truth) <= 0.02 * 2e-3 * truth:
        return wrong("that is the learning rate itself; the exercise asks for it divided by 2e-3.")
    if answer > 1:
        return wrong("the factor never exceeds 1: it ramps up to 1 and then decays.")
    if close(factors[11]):
        return wrong("off by one step: the 11th step is the one with index 10.")
    return wrong("during warmup the factor grows linearly over the first epoch's 22 steps; read warmup_cosine.")


__all__ = ["check_default_stride_tokens", "check_equal_parameters", "check_warmup_factor"]
