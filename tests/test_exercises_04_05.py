"""The exercise checkers of notebooks 04 and 05 against right answers, each targeted mistake and bad input.

The right answers are worked out here a second way: the ``nn.Unfold`` size formula by hand,
``nn.Unfold`` on zeros, the truncated normal's variance from its closed formula checked
against sampled weights, parameter counts of built models, and the warmup ramp by hand.
"""

from __future__ import annotations

import inspect
import math
import re
from pathlib import Path

import nbformat
import pytest
import torch
from torch import nn

from helpers.exercises import Feedback
from helpers.exercises import t2t_vit as ex04
from helpers.exercises import training as ex05
from helpers.training import count_parameters, tiny_patch_vit, tiny_t2t_vit

torch.set_num_threads(1)


def side(n: int, k: int, s: int, p: int) -> int:
    return (n + 2 * p - k) // s + 1


def assert_right(feedback: Feedback) -> None:
    assert isinstance(feedback, Feedback) and feedback.correct and str(feedback).startswith("Right"), feedback


def assert_wrong(feedback: Feedback, words: str, truth: tuple = ()) -> None:
    assert isinstance(feedback, Feedback) and not feedback.correct, feedback
    assert words in feedback.message, feedback.message
    for value in truth:  # the hint must not give the answer away
        assert not re.search(rf"(?<![\d.]){re.escape(str(value))}(?![\d])", feedback.message), (value, feedback)


# ---- 04, exercise 1: the square picture ------------------------------------------------------------

S0 = side(384, 7, 4, 2)
S1 = side(S0, 3, 2, 1)
S2 = side(S1, 3, 2, 1)
COUNTS = (S0 * S0, S1 * S1, S2 * S2)
LENGTHS = (3 * 7 * 7, 32 * 3 * 3)  # token_chan = 32


def test_square_picture_truth_by_hand_and_by_unfold():
    assert COUNTS == (9216, 2304, 576)
    assert nn.Unfold(7, stride=4, padding=2)(torch.zeros(1, 3, 384, 384)).shape == (1, LENGTHS[0], COUNTS[0])
    assert nn.Unfold(3, stride=2, padding=1)(torch.zeros(1, 32, S0, S0)).shape == (1, LENGTHS[1], COUNTS[1])


def test_token_counts_right_answer():
    assert_right(ex04.check_token_counts(COUNTS))
    # 384 * 384 / 9216 = 16 pixel positions per token after split 0; 9216 / 2304 = 2304 / 576 = 4 after splits 1, 2.
    assert (384 * 384 // COUNTS[0], COUNTS[0] // COUNTS[1], COUNTS[1] // COUNTS[2]) == (16, 4, 4)
    message = ex04.check_token_counts(COUNTS).message
    assert "one position in 16" in message and "a quarter of the tokens each" in message
    assert_right(ex04.check_token_counts([9216.0, 2304, 576]))  # floats that are whole numbers are fine


@pytest.mark.parametrize(
    "answer, words",
    [
        ((S0, S1, S2), "along one side"),
        ((COUNTS[0], COUNTS[0] // 4 + 1, COUNTS[2]), "split 0 is right"),
        ((1, 2, 3), "chain count_tokens"),
    ],
)
def test_token_counts_wrong_answers(answer, words):
    assert_wrong(ex04.check_token_counts(answer), words, COUNTS)


def test_token_counts_without_padding_and_without_overlap():
    a = side(384, 7, 4, 0)
    b = side(a, 3, 2, 0)
    no_pad = (a * a, b * b, side(b, 3, 2, 0) ** 2)
    assert_wrong(ex04.check_token_counts(no_pad), "without padding", COUNTS)
    a = side(384, 7, 7, 0)
    b = side(a, 3, 3, 0)
    hard = (a * a, b * b, side(b, 3, 3, 0) ** 2)
    assert_wrong(ex04.check_token_counts(hard), "do not overlap", COUNTS)


def test_token_lengths():
    assert_right(ex04.check_token_lengths(LENGTHS))
    assert_wrong(ex04.check_token_lengths((49, 9)), "every channel", LENGTHS)
    assert_wrong(ex04.check_token_lengths((147, 27)), "reconstructed image", LENGTHS)
    assert_wrong(ex04.check_token_lengths((147, 768)), "how many channels", LENGTHS)
    assert_wrong(ex04.check_token_lengths((49, LENGTHS[1])), "RGB picture itself", LENGTHS)
    assert_wrong(ex04.check_token_lengths((1, 2)), "channels * k * k", LENGTHS)


@pytest.mark.parametrize(
    "checker, answer, error, words",
    [
        (ex04.check_token_counts, "3136", TypeError, "answer must be a tuple or list of 3 whole numbers"),
        (ex04.check_token_counts, (1, 2), ValueError, "answer needs 3 whole numbers, got 2"),
        (ex04.check_token_counts, (1.5, 2, 3), TypeError, "answer[0] must be a whole number"),
        (ex04.check_token_lengths, None, TypeError, "tuple or list of 2"),
        (ex04.check_t2t_gmacs, "1.6", TypeError, "must be a real number"),
        (ex04.check_t2t_gmacs, float("nan"), ValueError, "finite"),
        (ex04.check_truncation_factor, True, TypeError, "must be a real number"),
        (ex05.check_default_stride_tokens, 2.5, TypeError, "answer must be a whole number"),
        (ex05.check_equal_parameters, -1.0, ValueError, "hidden_chan_mul must be a finite number > 0"),
        (ex05.check_equal_parameters, "2.5", TypeError, "hidden_chan_mul must be a real number"),
        (ex05.check_warmup_factor, [0.5], TypeError, "must be a real number"),
    ],
)
def test_bad_input_raises_a_clear_error(checker, answer, error, words):
    with pytest.raises(error, match=re.escape(words)):
        checker(answer)


# ---- 04, exercise 2: where the MACs go ------------------------------------------------------------


def attention_gmacs(tokens: int, chan: int) -> float:
    """QK^T and AV of full attention over ``tokens`` tokens of width ``chan``, in GMACs."""
    return 2 * tokens * tokens * chan / 1e9


def test_t2t_gmacs_truth_is_dominated_by_the_first_attention():
    t2t, whole = ex04._t2t_gmacs("t2t_vit_t_14")
    assert round(whole, 1) == 6.1  # the paper's table
    first = attention_gmacs(side(224, 7, 4, 2) ** 2, 64)  # 224 x 224: 56 x 56 tokens
    assert first < t2t < first + 0.5  # the rest: the second attention and the linear layers
    performer, _ = ex04._t2t_gmacs("t2t_vit_14")
    assert t2t - performer == pytest.approx(6.1 - 4.8, abs=0.05)


def test_t2t_gmacs_answers():
    t2t, whole = ex04._t2t_gmacs("t2t_vit_t_14")
    performer, _ = ex04._t2t_gmacs("t2t_vit_14")
    truth = (round(t2t, 2), round(t2t, 1))
    assert_right(ex04.check_t2t_gmacs(t2t + 0.02))
    assert_right(ex04.check_t2t_gmacs(round(t2t, 1)))  # rounded by hand: within 2 %
    assert not ex04.check_t2t_gmacs(t2t * 1.05).correct
    assert_wrong(ex04.check_t2t_gmacs(t2t * 1e9), "in GMACs", truth)
    assert_wrong(ex04.check_t2t_gmacs(2 * t2t), "multiply-accumulate is two", truth)
    assert_wrong(ex04.check_t2t_gmacs(whole), "whole model", truth)
    assert_wrong(ex04.check_t2t_gmacs(performer), "Performer variant", truth)
    assert_wrong(ex04.check_t2t_gmacs(50.0), "more than the whole model", truth)
    assert_wrong(ex04.check_t2t_gmacs(0.9), "net.tokens2token only", truth)


# ---- 04, exercise 3: truncation for real ----------------------------------------------------------


def test_truncated_std_factor_matches_sampled_weights():
    torch.manual_seed(0)
    w = torch.empty(400_000, dtype=torch.float64)
    nn.init.trunc_normal_(w, std=0.02, a=-0.04, b=0.04)
    assert w.abs().max().item() <= 0.04
    assert w.std().item() / 0.02 == pytest.approx(ex04._truncated_std_factor(2.0), abs=0.003)
    assert ex04._truncated_std_factor(50.0) == pytest.approx(1.0, abs=1e-9)  # no cut, no change


def test_truncation_factor_answers():
    truth = ex04._truncated_std_factor(2.0)
    shown = (round(truth, 2), round(truth, 3))
    assert_right(ex04.check_truncation_factor(truth + 0.005))
    assert_right(ex04.check_truncation_factor(0.87))  # rounded by hand: within 2 % of 0.8796
    assert not ex04.check_truncation_factor(0.85).correct
    assert_wrong(ex04.check_truncation_factor(0.02 * truth), "divided by 0.02", shown)
    assert_wrong(ex04.check_truncation_factor(1.2), "cannot make the spread larger", shown)
    assert_wrong(ex04.check_truncation_factor(1.0), "nothing was cut", shown)
    assert_wrong(ex04.check_truncation_factor(math.erf(math.sqrt(2))), "share of the normal's mass kept", shown)
    assert_wrong(ex04.check_truncation_factor(math.erfc(math.sqrt(2))), "share of the mass cut off", shown)
    assert_wrong(ex04.check_truncation_factor(0.5), "measure the std", shown)


# ---- 05, exercise 1: the default last stride ------------------------------------------------------


def test_default_stride_tokens():
    a = side(32, 7, 4, 2)
    b = side(a, 3, 2, 1)
    c = side(b, 3, 2, 1)
    truth = c * c
    assert truth == tiny_t2t_vit(softsplit_strides=(4, 2, 2)).num_tokens
    assert_right(ex05.check_default_stride_tokens(truth))
    assert_wrong(ex05.check_default_stride_tokens(side(b, 3, 1, 1) ** 2), "stride 1", (truth,))
    assert_wrong(ex05.check_default_stride_tokens(c), "one side", (truth,))
    assert_wrong(ex05.check_default_stride_tokens(a * a), "earlier split", (truth,))
    assert_wrong(ex05.check_default_stride_tokens(7), "chain count_tokens", (truth,))


# ---- 05, exercise 2: equal parameters -------------------------------------------------------------


def test_equal_parameters():
    target = count_parameters(tiny_t2t_vit())
    # Each extra hidden unit of the ViT's MLPs adds (64 + 1) + 64 parameters in each of the 4 blocks.
    extra = (target - count_parameters(tiny_patch_vit())) / (4 * (64 + 1 + 64))
    good = (2.0 * 64 + round(extra)) / 64
    assert abs(count_parameters(tiny_patch_vit(hidden_chan_mul=good)) / target - 1) <= 0.01
    assert_right(ex05.check_equal_parameters(good))
    assert_wrong(ex05.check_equal_parameters(2.0), "notebook's setting", (good,))
    assert_wrong(ex05.check_equal_parameters(good - 0.25), "widen its MLP more", (good,))
    assert_wrong(ex05.check_equal_parameters(good + 0.5), "too far", (good,))
    # The message gives the exact difference, never a rounded percentage that looks allowed.
    short = count_parameters(tiny_patch_vit(hidden_chan_mul=good - 0.25))
    message = ex05.check_equal_parameters(good - 0.25).message
    assert f"{target - short:,} parameters fewer than the T2T-ViT's {target:,}" in message
    assert f"{target // 100:,} (1 %) allowed" in message


# ---- 05, exercise 3: the warmup factor ------------------------------------------------------------


def test_warmup_factor():
    truth = (10 + 1) / 22  # warmup_cosine: factor(step) = (step + 1) / warmup_steps during warmup
    assert_right(ex05.check_warmup_factor(truth))
    assert_right(ex05.check_warmup_factor(0.495))  # rounded by hand: within 2 %
    shown = (round(truth, 2), round(truth, 3))
    assert_wrong(ex05.check_warmup_factor(10 / 22), "off by one", shown)
    assert_wrong(ex05.check_warmup_factor(12 / 22), "index 10", shown)
    assert_wrong(ex05.check_warmup_factor(2e-3 * truth), "divided by 2e-3", shown)
    assert_wrong(ex05.check_warmup_factor(1.5), "never exceeds 1", shown)
    assert_wrong(ex05.check_warmup_factor(0.1), "grows linearly", shown)


# ---- the solution notebooks work every checked exercise ------------------------------------------

SOLUTIONS = {
    "04_t2t_vit_solutions.ipynb": ex04,
    "05_training_solutions.ipynb": ex05,
}


@pytest.mark.parametrize("name", sorted(SOLUTIONS))
def test_solution_notebook_calls_every_checker_and_gets_right(name):
    nb = nbformat.read(Path(__file__).resolve().parents[1] / "solutions" / name, as_version=4)
    # the Colab bootstrap cell (tagged "bootstrap" by scripts/sync_links.py) comes before the setup cell
    code = [c for c in nb.cells if c.cell_type == "code" and "bootstrap" not in c.metadata.get("tags", [])]
    assert "set_num_threads(1)" in code[0].source and "manual_seed" in code[0].source
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# Solutions")
    checkers = [n for n, f in inspect.getmembers(SOLUTIONS[name], inspect.isfunction) if n.startswith("check_")]
    assert len(checkers) >= 3
    for checker in checkers:
        cells = [c for c in code if f"exercises.{checker}(" in c.source]
        assert cells, f"{name} never calls {checker}"
        printed = "".join(o.get("text", "") for c in cells for o in c.outputs)
        assert "Right:" in printed and "Not yet" not in printed, (checker, printed)


def test_tensor_and_numpy_answers_just_work():
    import numpy as np

    assert_right(ex04.check_token_counts(torch.tensor(COUNTS)))
    assert_right(ex04.check_token_lengths(np.array(LENGTHS)))
    assert_right(ex04.check_truncation_factor(torch.tensor(ex04._truncated_std_factor(2.0), dtype=torch.float64)))
    assert_right(ex05.check_default_stride_tokens(np.int64(tiny_t2t_vit(softsplit_strides=(4, 2, 2)).num_tokens)))
    assert_right(ex05.check_warmup_factor(np.float32(11 / 22)))


def _stdout(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)


def test_solution_05_quotes_the_notebooks_gaps_and_its_prose_matches_its_output():
    root = Path(__file__).resolve().parents[1]
    notebook = _stdout(root / "notebooks" / "05_training.ipynb")
    gaps = re.search(r"T2T-ViT minus ViT, test images right, per seed: (\[[-\d, ]+\])", notebook).group(1)
    solution = nbformat.read(root / "solutions" / "05_training_solutions.ipynb", as_version=4)
    code = "\n".join(c.source for c in solution.cells if c.cell_type == "code")
    prose = "\n".join(c.source for c in solution.cells if c.cell_type == "markdown")
    assert f"all_gaps = {gaps} + gaps" in code  # the seeds 0-2 gaps as notebook 05 printed them
    assert ", ".join(gaps.strip("[]").split(", ")) in prose.replace(" and ", ", ")
    out = _stdout(root / "solutions" / "05_training_solutions.ipynb")
    for shown in ("94.3% ± 1.3", "86.4% ± 4.9", "74.7% ± 8.9", "[117, -1, 42]", "[118, -16]", "= 0.19"):
        assert shown in out, shown
    # sign test: 4 or more wins of 5 fair coin flips = (5 + 1) / 32
    assert round((math.comb(5, 4) + math.comb(5, 5)) / 2**5, 2) == 0.19


def test_notebook_05_prints_the_variance_ratio_test_its_verdict_quotes():
    root = Path(__file__).resolve().parents[1]
    out = _stdout(root / "notebooks" / "05_training.ipynb")
    line = re.search(r"variance ratio ViT / T2T-ViT: ([\d.]+); one-sided F-test \(2 and 2 d.o.f.\): p = ([\d.]+)", out)
    ratio, p = float(line.group(1)), float(line.group(2))
    assert (ratio, p) == (4.4, 0.18)
    # F with 2 and 2 degrees of freedom: P(F > f) = 1 / (1 + f); the stds 10.3 and 4.9 are printed above it
    assert round((10.3 / 4.9) ** 2, 1) == 4.4 and round(1 / (1 + (10.3 / 4.9) ** 2), 2) == 0.18
