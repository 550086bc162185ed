"""The checks in helpers.checks that the exercises, training, figures, image loader and train_ddp.py use.

A wrong type raises TypeError, a wrong value ValueError, and the message names the argument; a
value that passes comes back in plain Python form.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from helpers import checks


@pytest.mark.parametrize(
    "value, expected",
    [
        (3, 3.0),
        (-2.5, -2.5),
        (np.float32(0.5), 0.5),
        (np.int64(7), 7.0),
        (torch.tensor(1.5), 1.5),
        (np.array([4]), 4.0),
    ],
)
def test_finite_number_takes_numbers_by_their_value(value, expected):
    result = checks.finite_number("answer", value)
    assert result == expected and type(result) is float


@pytest.mark.parametrize(
    "value, error, words",
    [
        ("3", TypeError, r"answer must be a real number \(int or float\), got '3' \(str\); write it without quotes"),
        (True, TypeError, "answer must be a real number"),
        (None, TypeError, "answer must be a real number"),
        (1 + 2j, TypeError, "answer must be a real number"),
        (torch.zeros(2, 3), TypeError, r"got a Tensor of shape \(2, 3\)"),
        (float("nan"), ValueError, "answer must be a finite number, got nan"),
        (-math.inf, ValueError, "answer must be a finite number"),
        (10**400, ValueError, "answer must be a finite number"),
    ],
)
def test_finite_number_refuses(value, error, words):
    with pytest.raises(error, match=words):
        checks.finite_number("answer", value, "answer=2")


def test_whole_value_takes_whole_numbers_of_any_type_and_bounds_them():
    assert [checks.whole_value("n", v) for v in (96, 96.0, np.int32(96), torch.tensor(96))] == [96] * 4
    assert type(checks.whole_value("n", 96.0)) is int
    with pytest.raises(TypeError, match="n must be a whole number, got 2.5 .*cannot be fractional"):
        checks.whole_value("n", 2.5)
    with pytest.raises(TypeError, match="n must be a whole number, got '4' .*without quotes"):
        checks.whole_value("n", "4")
    with pytest.raises(TypeError, match="n must be a whole number"):
        checks.whole_value("n", math.inf)
    with pytest.raises(ValueError, match="p must be a whole number from 0 to 100, got -1"):
        checks.whole_value("p", -1, 0, 100)
    with pytest.raises(ValueError, match="p must be a whole number >= 1, got 0"):
        checks.whole_value("p", 0, low=1)
    assert checks.whole_value("p", 100.0, 0, 100) == 100


def test_int_in_range_wants_an_int_inside_both_bounds():
    assert checks.int_in_range("k", np.int64(2), 2, 50) == 2 and checks.int_in_range("k", 50, 2, 50) == 50
    for value in (1, 51):
        with pytest.raises(ValueError, match=f"k must be a whole number from 2 to 50, got {value}; for example k=7"):
            checks.int_in_range("k", value, 2, 50, "k=7")
    for value in (7.0, True, "7"):
        with pytest.raises(TypeError, match="k must be a whole number"):
            checks.int_in_range("k", value, 2, 50)


def test_random_seed_is_what_numpy_and_torch_both_take():
    assert checks.random_seed("seed", 2**32 - 1) == 2**32 - 1
    np.random.default_rng(2**32 - 1)  # numpy takes the largest
    with pytest.raises(ValueError):
        np.random.seed(2**32)  # and not one more
    with pytest.raises(ValueError, match="seed must be a whole number from 0 to 4294967295"):
        checks.random_seed("seed", 2**32)
    with pytest.raises(ValueError, match="seed must be a whole number from 0 to"):
        checks.random_seed("seed", -1)


@pytest.mark.parametrize(
    "value, expected",
    [([1, 2], (1, 2)), ((1, 2), (1, 2)), (torch.Size([1, 2]), (1, 2)), (np.array([1, 2]), (1, 2))],
)
def test_sequence_gives_the_entries_as_a_tuple(value, expected):
    assert checks.sequence("grid", value, 2) == expected
    assert checks.sequence("grid", torch.tensor([1.5, 2.0])) == (1.5, 2.0)
    assert set(checks.sequence("heads", {8, 1}, ordered=False)) == {1, 8}


@pytest.mark.parametrize(
    "value, kwargs, error, words",
    [
        ("1, 2", {}, TypeError, r"grid must be a tuple or list of numbers, got '1, 2' \(str\)"),
        (5, {"length": 2}, TypeError, "grid must be a tuple or list of 2 numbers"),
        ({1, 2}, {}, TypeError, "grid must be a tuple or list of numbers"),  # a set has no order
        ({1: 2}, {"ordered": False}, TypeError, "grid must be a list, tuple or set of numbers"),
        (torch.zeros(2, 2), {}, TypeError, r"got a Tensor of shape \(2, 2\); pass tuple\(x.shape\)"),
        ((1, 2, 3), {"length": 2, "of": "sides"}, ValueError, r"grid needs 2 sides, got 3: \(1, 2, 3\)"),
    ],
)
def test_sequence_refuses(value, kwargs, error, words):
    with pytest.raises(error, match=words):
        checks.sequence("grid", value, **kwargs)


def test_string_function_instance():
    assert checks.string("letter", "A") == "A"
    with pytest.raises(TypeError, match=r"letter must be a string \(text in quotes\), got 1 \(int\)"):
        checks.string("letter", 1)
    assert checks.function("build", len) is len
    with pytest.raises(TypeError, match="build must be a function, got 3 .*pass the function itself"):
        checks.function("build", 3)
    layer = torch.nn.Linear(1, 1)
    assert checks.instance("model", layer, (torch.nn.Conv2d, torch.nn.Linear)) is layer
    with pytest.raises(TypeError, match=r"model must be a Conv2d or ReLU, got Linear\(.*\(Linear\)"):
        checks.instance("model", layer, (torch.nn.Conv2d, torch.nn.ReLU))
    with pytest.raises(TypeError, match="optimizer must be an Optimizer"):
        checks.instance("optimizer", layer, torch.optim.Optimizer)


def test_array_converts_real_arrays_and_keeps_the_dtype_on_request():
    grads = torch.ones(2, 3, requires_grad=True)
    out = checks.array("weights", grads, ndim=2)
    assert out.dtype == np.float64 and out.shape == (2, 3) and (out == 1).all()
    assert checks.array("image", np.zeros((2, 2), np.float32), dtype=None).dtype == np.float32
    assert checks.array("image", [[True, False]]).tolist() == [[1.0, 0.0]]
    assert checks.array("image", torch.ones(2, dtype=torch.bfloat16)).tolist() == [1.0, 1.0]
    for bad in (["a", "b"], [[1], [1, 2]], np.array([1j]), torch.tensor([1j]), {"a": 1}):
        with pytest.raises(TypeError, match="image must be an array of real numbers"):
            checks.array("image", bad)
    with pytest.raises(ValueError, match=r"image must have 2 axes, \(height, width\), got shape \(2, 2, 3\); pass"):
        checks.array("image", np.zeros((2, 2, 3)), 2, "(height, width)", "pass image[..., 0]")


def test_path_and_existing_file(tmp_path):
    assert checks.path("path", "a/b.png") == Path("a/b.png")
    assert checks.path("path", tmp_path) == tmp_path
    for bad in (None, 3, b"a.png"):
        with pytest.raises(TypeError, match="path must be a path, a str or a pathlib.Path"):
            checks.path("path", bad)
    file = tmp_path / "x.pt"
    file.write_bytes(b"")
    assert checks.existing_file("--resume", str(file)) == file
    for missing in (tmp_path / "y.pt", tmp_path):  # no file, and a folder
        with pytest.raises(
            ValueError, match=r"no checkpoint at '.*': the path does not exist \(or is a folder\)\. Hi\.$"
        ):
            checks.existing_file("--resume", missing, "checkpoint", "Hi")


def patch_vit(**change) -> dict:
    args = dict(img_size=(1, 32, 32), patch_size=8, preds=10, token_len=64, num_heads=4, hidden_chan_mul=2.0)
    args |= dict(depth=4, qkv_bias=False, qk_scale=None, drop_rate=0.0, attn_drop_rate=0.0, drop_path_rate=0.0)
    return args | change


def test_patch_vit_args_write_back_plain_values_and_check_the_backbone():
    args = patch_vit(img_size=np.array([1, 32, 32]), patch_size=np.int64(8), num_heads=np.int64(4))
    checks.patch_vit_args(args)
    assert args["img_size"] == (1, 32, 32) and type(args["patch_size"]) is int and type(args["num_heads"]) is int
    with pytest.raises(ValueError, match=r"patch_size=15 does not tile a 30 x 40 image.*pick one of \[1, 2, 5, 10\]"):
        checks.patch_vit_args(patch_vit(img_size=(1, 30, 40), patch_size=15))
    with pytest.raises(ValueError, match="drop_rate must be a finite number"):
        checks.patch_vit_args(patch_vit(drop_rate=1.0))
    with pytest.raises(ValueError, match="depth must be a whole number >= 0"):
        checks.patch_vit_args(patch_vit(depth=-1))
