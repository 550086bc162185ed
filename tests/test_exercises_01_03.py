"""The exercise checkers of notebooks 01-03: right answers pass, each likely slip gets its own hint,
no hint gives the answer away, and unusable input raises TypeError/ValueError naming it.

The right answers are worked out here by hand (arithmetic in comments) and, where it helps, with
a second computation independent of the checkers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from helpers import exercises
from helpers.exercises import Feedback
from helpers.exercises import reconstruction as rec
from helpers.exercises import soft_split as ss
from helpers.exercises import token_transformer as tt

torch.set_num_threads(1)


def is_right(feedback: Feedback) -> bool:
    assert isinstance(feedback, Feedback)
    assert str(feedback).startswith("Right" if feedback.correct else "Not yet")
    return feedback.correct


def hint(feedback: Feedback) -> str:
    assert isinstance(feedback, Feedback) and not feedback.correct, f"expected a wrong answer, got {feedback}"
    return feedback.message


# ---------------------------------------------------------------- 01: a first kernel of 11

# k = 11: s = ceil(11/2) = 6, p = ceil(11/4) = 3; rows (60 + 6 - 11) // 6 + 1 = 10, cols (100 + 6 - 11) // 6 + 1 = 16.
FIRST = {"stride": 6, "padding": 3, "grid": (10, 16), "length": 121}


def first(**changes):
    return ss.check_first_kernel(**{**FIRST, **changes})


def test_first_kernel_right_in_several_spellings():
    assert is_right(first())
    assert is_right(first(stride=6.0, grid=[10, 16], length=np.int64(121)))
    assert is_right(first(grid=torch.Size([10, 16])))
    assert "160 tokens of 121 values" in first().message


@pytest.mark.parametrize(
    "changes, words",
    [
        ({"stride": 5.5}, "whole number of pixels"),
        ({"stride": 5}, "rounds k/2 up"),
        ({"stride": 11}, "hard split"),
        ({"stride": 7}, "look again"),
        ({"padding": 2.75}, "whole number of pixels"),
        ({"padding": 2}, "rounds k/4 up"),
        ({"padding": 0}, "does pad"),
        ({"padding": 4}, "look again"),
        ({"grid": (16, 10)}, "swapped"),
        ({"grid": (9, 15)}, "forget the padding"),  # (60 - 11) // 6 + 1, (100 - 11) // 6 + 1
        ({"grid": (11, 17)}, "round down, not up"),  # ceil(55 / 6) + 1, ceil(95 / 6) + 1
        ({"grid": (20, 20)}, "formula for n_out"),
        ({"length": 11}, "whole k x k window"),
        ({"length": 22}, "multiply"),
        ({"length": 50}, "flatten one"),
    ],
)
def test_first_kernel_targets_each_slip(changes, words):
    message = hint(first(**changes))
    assert words in message
    for truth in ("160", "(10, 16)", "10 x 16", "121"):
        assert truth not in message


def test_first_kernel_grid_follows_a_wrong_stride():
    # With s = 5, p = 3: (60 + 6 - 11) // 5 + 1 = 12, (100 + 6 - 11) // 5 + 1 = 20.
    message = hint(first(stride=5, grid=(12, 20)))
    assert "rounds k/2 up" in message and "follows from your stride" in message


def test_first_kernel_reports_every_wrong_part():
    message = hint(ss.check_first_kernel(stride=5, padding=2, grid=(16, 10), length=11))
    assert all(part in message for part in ("stride:", "padding:", "grid:", "length:"))


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"stride": "4"}, TypeError, "stride must be a real number.*without quotes"),
        ({"padding": True}, TypeError, "padding must be a real number"),
        ({"grid": 15}, TypeError, r"grid must be a tuple or list of 2 numbers \(rows, columns\)"),
        ({"grid": (15, 25, 1)}, ValueError, r"grid needs 2 numbers \(rows, columns\), got 3"),
        ({"grid": (15, "25")}, TypeError, r"grid\[1\] must be a real number"),
        ({"length": None}, TypeError, "length must be a real number"),
        ({"stride": float("nan")}, ValueError, "stride must be a finite number"),
    ],
)
def test_first_kernel_rejects_unusable_input(kwargs, error, words):
    with pytest.raises(error, match=words):
        first(**kwargs)


def test_unfold_grid_reads_the_grid_off_the_patches():
    for h, w, k, s, p in [(60, 100, 7, 4, 2), (60, 100, 20, 10, 15), (9, 13, 3, 2, 1), (5, 5, 5, 1, 0)]:
        rows, cols = ss._unfold_grid(h, w, k, s, p)
        assert rows * cols == nn.Unfold(k, stride=s, padding=p)(torch.zeros(1, 1, h, w)).shape[-1]
        assert (rows, cols) == ((h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1)


# ---------------------------------------------------------------- 01: the overlap


def test_overlap_right_for_t2t_kernels():
    # Windows at columns 0..k-1 and s..s+k-1 share k - s columns: 11 - 6 = 5, 7 - 4 = 3, 20 - 10 = 10, 3 - 2 = 1.
    assert is_right(ss.check_overlap(5))
    assert is_right(ss.check_overlap(3, k=7))
    assert is_right(ss.check_overlap(10, k=20))
    assert is_right(ss.check_overlap(1, k=3))


@pytest.mark.parametrize(
    "answer, k, words",
    [
        (6, 11, "that is the stride"),
        (11, 11, "whole window"),
        (3, 11, "that is the padding"),
        (0, 11, "columns 0"),
        (4, 7, "that is the stride"),
        (11, 20, "off by one"),  # the overlap is 20 - 10 = 10
        (9, 20, "off by one"),
    ],
)
def test_overlap_targets_each_slip(answer, k, words):
    message = hint(ss.check_overlap(answer, k=k))
    assert words in message and str(k - math.ceil(k / 2)) not in message


def test_overlap_rejects_unusable_input():
    with pytest.raises(TypeError, match="answer must be a real number"):
        ss.check_overlap("3")
    with pytest.raises(ValueError, match="k must be a whole number from 2 to 50"):
        ss.check_overlap(3, k=1)
    with pytest.raises(TypeError, match="k must be a whole number"):
        ss.check_overlap(3, k=7.0)


# ---------------------------------------------------------------- 01: uniform coverage


def coverage_by_loops(height: int, width: int, k: int, s: int, p: int) -> np.ndarray:
    count = np.zeros((height + 2 * p, width + 2 * p), dtype=int)
    for r in range(0, height + 2 * p - k + 1, s):
        for c in range(0, width + 2 * p - k + 1, s):
            count[r : r + k, c : c + k] += 1
    return count[p : p + height, p : p + width]


def test_uniform_coverage_right_answers():
    # k = 20, s = 10: with p a multiple of 10 (and > 0) every pixel row lies in exactly 2 windows, so 2 x 2 = 4.
    for p in (10, 20):
        assert np.all(coverage_by_loops(60, 100, 20, 10, p) == 4)
        assert is_right(ss.check_uniform_coverage(padding=p, count=4))


def test_uniform_coverage_targets_each_slip():
    assert "T2T's own padding" in hint(ss.check_uniform_coverage(padding=5, count=4))
    message = hint(ss.check_uniform_coverage(padding=0, count=4))
    assert "from 1 to 4 times" in message and "p = 10" not in message
    assert "but not 2 times" in hint(ss.check_uniform_coverage(padding=10, count=2))
    assert "not equally often" in hint(ss.check_uniform_coverage(padding=7, count=4))


def test_uniform_coverage_rejects_unusable_input():
    with pytest.raises(ValueError, match="padding must be a whole number from 0 to 100"):
        ss.check_uniform_coverage(padding=-1, count=4)
    with pytest.raises(TypeError, match="padding must be a whole number.*cannot be fractional"):
        ss.check_uniform_coverage(padding=2.5, count=4)
    with pytest.raises(TypeError, match="count must be a real number"):
        ss.check_uniform_coverage(padding=10, count="4")
    assert is_right(ss.check_uniform_coverage(padding=10.0, count=torch.tensor(4)))  # a number counts by its value


def test_checker_coverage_counts_match_loops():
    for p in (0, 5, 10):
        assert np.array_equal(ss._coverage_counts(20, 10, p).numpy().astype(int), coverage_by_loops(60, 100, 20, 10, p))


# ---------------------------------------------------------------- 02: parameters and heads

# norm1 2*49 + qkv 49*192 + proj 64*64+64 + norm2 2*64 + fc1 64*96+96 + fc2 96*64+64 = 26242.
PARAMS = 98 + 9408 + 4160 + 128 + 6240 + 6208


def test_parameter_count_right_for_every_valid_head_count():
    assert PARAMS == 26242
    for heads in (1, 2, 4, 8):
        assert tt._parameter_count(heads) == PARAMS
        assert is_right(tt.check_parameter_count(PARAMS, num_heads=heads))


@pytest.mark.parametrize(
    "answer, words",
    [
        (PARAMS + 192, "qkv has no bias"),
        (PARAMS - 226, "LayerNorms have parameters"),
        (PARAMS - 12448 + 8320, "hidden layer is wider"),  # NeuralNet with 64 hidden values
        (PARAMS - 2 * 49 * 64, "three projections"),
        (PARAMS - 4160, "don't forget proj"),
        (4 * PARAMS, "does not scale with num_heads"),
        (12345, "count layer by layer"),
    ],
)
def test_parameter_count_targets_each_slip(answer, words):
    message = hint(tt.check_parameter_count(answer))
    assert words in message and str(PARAMS) not in message


def test_parameter_count_rejects_unusable_input():
    with pytest.raises(ValueError, match="num_heads=3 cannot be built with chan=64") as error:
        tt.check_parameter_count(PARAMS, num_heads=3)
    assert "1, 2" not in str(error.value) and "8" not in str(error.value)  # exercise 1 asks which heads work
    with pytest.raises(TypeError, match="num_heads must be a whole number"):
        tt.check_parameter_count(PARAMS, num_heads=4.0)
    with pytest.raises(TypeError, match="answer must be a real number"):
        tt.check_parameter_count("26242")


def test_valid_heads():
    # 64 = 2**6: 1, 2 and 8 divide it; 3 and 12 do not.
    assert tt._valid_heads() == {1, 2, 8}
    assert is_right(tt.check_valid_heads([8, 2, 1]))
    assert is_right(tt.check_valid_heads((1, 2, 8.0)))
    assert "would raise" in hint(tt.check_valid_heads([1, 2, 3, 8]))
    assert "one you left out works" in hint(tt.check_valid_heads([1, 2]))
    assert "2 you left out work" in hint(tt.check_valid_heads([1]))
    assert "2 you picked would raise" in hint(tt.check_valid_heads([1, 2, 3, 8, 12]))
    both = hint(tt.check_valid_heads([1, 2, 12]))
    assert "would raise" in both and "left out works" in both
    assert "only from the candidates" in hint(tt.check_valid_heads([1, 2, 4]))
    assert is_right(tt.check_valid_heads({1, 2, 8}))
    with pytest.raises(TypeError, match="answer must be a list, tuple or set of head counts"):
        tt.check_valid_heads("1, 2, 8")
    with pytest.raises(TypeError, match="answer must be a list"):
        tt.check_valid_heads(8)
    with pytest.raises(TypeError, match="each head count must be a real number"):
        tt.check_valid_heads([1, "2"])


# ---------------------------------------------------------------- 02: scales

# Stage 2 with token_chan = 32: dim = 32 * 3 * 3 = 288, chan 32, one head:
# standard 32**-0.5 = 0.1768, official 288**-0.5 = 0.0589 (3 times smaller).
STANDARD, OFFICIAL = 32**-0.5, 288**-0.5


def test_scales():
    assert tt._stage2_dim() == 32 * 3 * 3 == 288 and tt._stage2_dim(64) == 576
    assert is_right(tt.check_scales(standard=STANDARD, official=OFFICIAL))
    assert is_right(tt.check_scales(standard=0.177, official=0.0589))
    assert is_right(tt.check_scales(standard=0.18, official=0.06))  # rounded by hand: within 2 %
    assert not tt.check_scales(standard=0.19, official=0.0589).correct  # 7 % off
    assert "3 times smaller" in tt.check_scales(STANDARD, OFFICIAL).message
    assert "swapped" in hint(tt.check_scales(standard=OFFICIAL, official=STANDARD))
    assert "below 1" in hint(tt.check_scales(standard=1 / STANDARD, official=1 / OFFICIAL))
    assert "stage 1's dim" in hint(tt.check_scales(standard=STANDARD, official=1 / 7))
    assert "dim for 64 channels" in hint(tt.check_scales(standard=STANDARD, official=1 / 24))
    assert "chan = 64's scale" in hint(tt.check_scales(standard=1 / 8, official=OFFICIAL))
    assert "which length" in hint(tt.check_scales(standard=STANDARD, official=0.3))
    message = hint(tt.check_scales(standard=0.25, official=OFFICIAL))
    assert "standard:" in message and "0.17" not in message and "0.18" not in message
    with pytest.raises(TypeError, match="official must be a real number"):
        tt.check_scales(standard=0.125, official="1/24")


# ---------------------------------------------------------------- 03: round trip


def test_round_trip():
    assert is_right(rec.check_round_trip(lambda image: image.flatten(2).transpose(1, 2)))
    channels_last = lambda image: image.permute(0, 2, 3, 1).reshape(image.shape[0], -1, image.shape[1])  # noqa: E731
    assert is_right(rec.check_round_trip(channels_last))
    assert is_right(rec.check_round_trip(lambda image: image.flatten(2).transpose(1, 2).numpy()))  # numpy is fine
    assert "(batch, chan, tokens)" in hint(rec.check_round_trip(lambda image: image.flatten(2)))
    assert "did not change" in hint(rec.check_round_trip(lambda image: image))
    assert "reshape alone" in hint(rec.check_round_trip(lambda image: image.reshape(2, 12, 5)))
    assert "wrong places" in hint(rec.check_round_trip(lambda image: image.transpose(2, 3).flatten(2).transpose(1, 2)))
    assert "forget return" in hint(rec.check_round_trip(lambda image: None))
    assert "raised ZeroDivisionError" in hint(rec.check_round_trip(lambda image: 1 / 0))
    assert "should be" in hint(rec.check_round_trip(lambda image: image[:, 0]))
    with pytest.raises(TypeError, match="inverse must be a function.*pass the function itself"):
        rec.check_round_trip(torch.zeros(2, 5, 3, 4))


# ---------------------------------------------------------------- 03: a colour picture

# 3 x 96 x 128, k 7, s 4, p 2: rows (96 + 4 - 7) // 4 + 1 = 24, cols (128 + 4 - 7) // 4 + 1 = 32 -> (1, 64, 24, 32).
# Soft split 1, k 3, s 2, p 1: (24 + 2 - 3) // 2 + 1 = 12, (32 + 2 - 3) // 2 + 1 = 16 -> 192 tokens of 64 * 9 = 576.


def test_picture_shapes_match_an_independent_run():
    x = torch.rand(1, 3, 96, 128)
    conv = nn.Conv2d(3, 1, 7, stride=4, padding=2)  # a conv visits the same windows as the soft split
    assert conv(x).shape[-2:] == (24, 32)
    assert rec._picture_shapes() == ((1, 64, 24, 32), (1, 192, 576))


@pytest.mark.parametrize(
    "shape, words",
    [
        ((64, 24, 32), "batch axis"),
        ((1, 147, 24, 32), "after the Token Transformer"),
        ((1, 49, 24, 32), "after the Token Transformer"),
        ((1, 64, 32, 24), "swapped"),
        ((1, 64, 23, 31), "forget the padding"),  # (96 - 7) // 4 + 1, (128 - 7) // 4 + 1
        ((1, 64, 25, 33), "round down"),  # ceil(93 / 4) + 1, ceil(125 / 4) + 1
        ((2, 64, 24, 32), "batch of one"),
        ((1, 64, 20, 20), "count_tokens(width"),
        ((1, 768, 64), "four axes"),
    ],
)
def test_reconstructed_shape_targets_each_slip(shape, words):
    message = hint(rec.check_reconstructed_shape(shape))
    assert words in message and "24, 32" not in message


def test_reconstructed_shape_right_and_input_checks():
    assert is_right(rec.check_reconstructed_shape((1, 64, 24, 32)))
    assert is_right(rec.check_reconstructed_shape(torch.Size([1, 64, 24, 32])))
    with pytest.raises(TypeError, match="not the tensor itself"):
        rec.check_reconstructed_shape(torch.zeros(1, 64, 24, 32))
    with pytest.raises(TypeError, match="shape must be a tuple or list of numbers"):
        rec.check_reconstructed_shape("1, 64, 24, 32")


@pytest.mark.parametrize(
    "num_tokens, length, words",
    [
        (768, 576, "count of soft split 0"),
        (11 * 15, 576, "forget the padding"),  # (24 - 3) // 2 + 1, (32 - 3) // 2 + 1
        (13 * 17, 576, "round down"),  # ceil(23 / 2) + 1, ceil(31 / 2) + 1
        (100, 576, "apply the token formula"),
        (192, 9, "every channel"),
        (192, 27, "as many channels now"),
        (192, 100, "channels times"),
    ],
)
def test_second_split_targets_each_slip(num_tokens, length, words):
    message = hint(rec.check_second_split(num_tokens=num_tokens, length=length))
    assert words in message and "192" not in message and "576" not in message


def test_second_split_right():
    assert is_right(rec.check_second_split(num_tokens=192, length=576))
    with pytest.raises(TypeError, match="length must be a real number"):
        rec.check_second_split(num_tokens=192, length=[576])


# ---------------------------------------------------------------- 03: Fold as an inverse


def test_fold_inverse():
    # A (4,4,0) and D (10,10,0) tile 60 x 100 exactly; B overlaps; C (7,7,0) leaves rows 56-59, cols 98-99 unread.
    assert (60 % 4, 100 % 4, 60 % 10, 100 % 10) == (0, 0, 0, 0) and 60 % 7 and 100 % 7
    assert rec._fold_gives_back_the_picture() == {"A", "D"}
    for answer in (["A", "D"], ["d", "a"], "AD", "A, D", ("D", "A")):
        assert is_right(rec.check_fold_inverse(answer))
    assert "overlap" in hint(rec.check_fold_inverse(["A", "B", "D"]))
    assert "some window" in hint(rec.check_fold_inverse(["A", "C", "D"]))
    assert "one setting you left out gives" in hint(rec.check_fold_inverse(["A"]))
    both = hint(rec.check_fold_inverse(["B"]))
    assert "B: its windows overlap" in both and "2 settings you left out give" in both
    assert "only from the letters" in hint(rec.check_fold_inverse(["A", "E"]))
    with pytest.raises(TypeError, match="each entry of answer must be a string"):
        rec.check_fold_inverse([1, 2])
    with pytest.raises(TypeError, match="answer must be a list, tuple or set of letters"):
        rec.check_fold_inverse(4)


def test_no_checker_message_is_long_or_empty():
    messages = [
        first(stride=3).message,
        ss.check_overlap(4).message,
        tt.check_parameter_count(1).message,
        rec.check_fold_inverse(["B"]).message,
    ]
    assert all(0 < len(m) < 400 for m in messages)
    assert math.isclose(tt.check_scales(STANDARD, OFFICIAL).correct, 1)


@pytest.mark.parametrize("name", ["soft_split", "token_transformer", "reconstruction", "t2t_vit", "training"])
def test_exercise_modules_expose_only_checkers(name):
    """Tab completion on a checker module shows no function that computes an answer."""
    module = getattr(exercises, name)
    own = [n for n, v in vars(module).items() if callable(v) and getattr(v, "__module__", "") == module.__name__]
    public = [n for n in own if not n.startswith("_")]
    assert public and all(n.startswith("check_") for n in public), public
    assert sorted(module.__all__) == sorted(public)
