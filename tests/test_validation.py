"""Every bad argument gets a TypeError (wrong type) or ValueError (wrong value) that names it.

The first half checks the small functions in ``helpers.checks`` one by one; the
second half replays the inputs listed in issue 14, each against the answer it must now give.
"""

from __future__ import annotations

import functools
import re

import numpy as np
import pytest
import timm
import torch
from torch import nn

import helpers  # noqa: F401  (registers the variants)
from helpers import checks as v
from helpers.checks import smallest_side
from helpers.model import (
    Attention,
    EncodingBlock,
    NeuralNet,
    PerformerAttention,
    T2TViT,
    TokenPerformer,
    Tokens2Token,
    TokenTransformer,
    ViTBackbone,
    count_tokens,
    soft_split_params,
)

torch.set_num_threads(1)

SMALL = dict(img_size=(1, 60, 100), softsplit_kernels=(7, 3, 3), token_len=32, token_chan=16, depth=1)


# ---- the checks themselves -------------------------------------------------------------------------


@pytest.mark.parametrize("value", [3, np.int64(3), np.int32(3), np.uint8(3)])
def test_whole_numbers_include_numpy_integers(value):
    out = v.positive_int("k", value)
    assert out == 3 and type(out) is int


@pytest.mark.parametrize(
    "value, words",
    [
        (True, "k must be a whole number (an int), got True (bool)"),
        (np.bool_(True), "got np.True_ (bool"),
        (2.0, "write 2 instead of 2.0"),
        (np.float64(4.0), "write 4 instead of"),
        (32.9, "pick a whole number such as 32 or 33"),
        (float("nan"), "got nan (float)"),
        (float("inf"), "got inf (float)"),
        ("3", "got '3' (str)"),
        (None, "got None (NoneType)"),
        (torch.tensor(3), "(Tensor)"),
        (3 + 0j, "(complex)"),
    ],
)
def test_whole_number_type_errors_name_the_argument_and_the_value(value, words):
    with pytest.raises(TypeError, match=re.escape(words)):
        v.positive_int("k", value)


def test_whole_number_value_errors():
    with pytest.raises(ValueError, match=re.escape("k must be a positive integer (1 or more), got 0")):
        v.positive_int("k", 0)
    with pytest.raises(ValueError, match=re.escape("p must be a whole number >= 0, got -1; for example p=0")):
        v.non_negative_int("p", -1)
    assert v.non_negative_int("p", 0) == 0
    with pytest.raises(ValueError, match=re.escape("must be an integer >= 5, got 4")):
        v.whole_number("n", 4, minimum=5)


def test_real_numbers():
    assert v.positive_float("mul", np.float32(1.5)) == 1.5
    assert v.positive_float("mul", 2) == 2.0
    for bad in (0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="mul must be a finite number > 0"):
            v.positive_float("mul", bad)
    for bad in ("1.0", True, None, [1.0]):
        with pytest.raises(TypeError, match="mul must be a real number"):
            v.positive_float("mul", bad)
    assert v.optional_positive_float("qk_scale", None) is None
    with pytest.raises(ValueError, match="qk_scale"):
        v.optional_positive_float("qk_scale", 0.0)


def test_probabilities():
    assert v.probability("drop", 0) == 0.0
    assert v.probability("drop", 0.99) == 0.99
    for bad in (1.0, -0.1, 2, float("nan")):
        with pytest.raises(ValueError, match=re.escape("drop must be a finite number >= 0 and < 1")):
            v.probability("drop", bad)


def test_booleans_and_choices():
    assert v.boolean("qkv_bias", np.bool_(False)) is False
    with pytest.raises(TypeError, match="qkv_bias must be True or False, got 1"):
        v.boolean("qkv_bias", 1)
    assert v.choice("token_module", "performer", ("transformer", "performer")) == "performer"
    with pytest.raises(ValueError, match="token_module must be 'transformer' or 'performer', got 'Performer'"):
        v.choice("token_module", "Performer", ("transformer", "performer"))
    with pytest.raises(TypeError, match="must be the string"):
        v.choice("token_module", 1, ("transformer", "performer"))


def test_layer_classes():
    assert v.layer_class("act_layer", nn.GELU, "nn.GELU") is nn.GELU
    factory = functools.partial(nn.LayerNorm, eps=1e-6)  # what timm passes
    assert v.layer_class("norm_layer", factory, "nn.LayerNorm") is factory
    with pytest.raises(TypeError, match=re.escape("not a built layer: got the instance GELU(")):
        v.layer_class("act_layer", nn.GELU(), "act_layer=nn.GELU")
    with pytest.raises(TypeError, match="act_layer must be a layer class"):
        v.layer_class("act_layer", "gelu", "act_layer=nn.GELU")


def test_int_sequences():
    assert v.int_sequence("s", [4, np.int64(2), 2], 3) == (4, 2, 2)
    assert v.int_sequence("s", np.array([4, 2, 2]), 3) == (4, 2, 2)
    with pytest.raises(ValueError, match=re.escape("s must have exactly 3 entries, one per soft split, got 2: (4, 2)")):
        v.int_sequence("s", (4, 2), 3)
    with pytest.raises(ValueError, match="got 4"):
        v.int_sequence("s", (4, 2, 2, 2), 3)
    with pytest.raises(TypeError, match=re.escape("s[2] must be a whole number (an int), got 2.0")):
        v.int_sequence("s", (4, 2, 2.0), 3)
    with pytest.raises(ValueError, match=re.escape("s[1] must be a positive integer (1 or more), got 0")):
        v.int_sequence("s", (4, 0, 2), 3)
    for bad in (7, "742", {4, 2, 1}, None, np.zeros((3, 1))):
        with pytest.raises(TypeError, match="s must be a tuple or list of 3 whole numbers"):
            v.int_sequence("s", bad, 3)


def test_image_sizes():
    assert v.image_size(np.array([1, 60, 100])) == (1, 60, 100)
    with pytest.raises(TypeError, match=re.escape("img_size height must be a whole number (an int), got 32.9")):
        v.image_size((1, 32.9, 32))
    with pytest.raises(ValueError, match=re.escape("img_size must be (channels, height, width), got (60, 100)")):
        v.image_size((60, 100))
    with pytest.raises(TypeError, match="img_size must be"):
        v.image_size(224)


def test_heads_divide_says_why_without_listing_the_answers():
    assert v.heads_divide(np.int64(64), 4) == (64, 4)
    with pytest.raises(ValueError, match=re.escape("num_heads=5 does not divide chan=12")) as info:
        v.heads_divide(12, 5)
    assert "chan % num_heads must be 0" in str(info.value)
    # notebook 02's exercise 1 asks which head counts work for chan = 64: the message must not list them
    with pytest.raises(ValueError) as info:
        v.heads_divide(64, 3)
    assert not re.search(r"\b(1|2|4|8|16|32)\b", str(info.value).replace("chan=64", ""))
    with pytest.raises(ValueError) as info:
        v.heads_divide(10**11 + 3, 2)
    assert "does not divide" in str(info.value)
    with pytest.raises(ValueError, match="chan must be a positive integer"):
        v.heads_divide(0, 1)
    with pytest.raises(ValueError, match="num_heads must be a positive integer"):
        v.heads_divide(8, 0)


def test_divisors_match_a_plain_search():
    for n in (1, 2, 12, 97, 360, 1001):
        assert v.divisors(n) == [d for d in range(1, n + 1) if n % d == 0]


def test_scaled_width_and_tensor_size():
    assert v.scaled_width("mul", 1.5, "chan", 64) == 96
    with pytest.raises(ValueError, match=re.escape("int(64 * 0.01) = 0 channels; use mul >= 0.0156")):
        v.scaled_width("mul", 0.01, "chan", 64)
    with pytest.raises(ValueError, match="more than the"):
        v.scaled_width("mul", 1e308, "chan", 64)  # chan * mul overflows to inf
    v.tensor_size("w", (2**14, 2**14), "smaller")
    with pytest.raises(ValueError, match=re.escape("w would hold 16384 x 16385 = 2.68e+08 values")):
        v.tensor_size("w", (2**14, 2**14 + 1), "smaller")


# ---- the public functions --------------------------------------------------------------------------


def test_count_tokens_and_soft_split_params_types():
    assert count_tokens(np.int64(100), 60, 20, 10, np.int32(5)) == (10, 6, 60)
    assert all(type(n) is int for n in count_tokens(np.int64(60), 100, 20, 10, 5))
    with pytest.raises(TypeError, match="w must be a whole number"):
        count_tokens(60.0, 100, 20, 10, 5)
    with pytest.raises(TypeError, match="padding p must be a whole number"):
        count_tokens(60, 100, 20, 10, 5.5)
    assert soft_split_params(np.int64(20)) == (20, 10, 5)
    assert soft_split_params(10**20 + 1) == (10**20 + 1, 5 * 10**19 + 1, 25 * 10**18 + 1)  # exact, no float
    with pytest.raises(TypeError, match="k must be a whole number"):
        soft_split_params(7.0)


def test_smallest_side_validates_its_arguments():
    with pytest.raises(ValueError, match=re.escape("strides[0] must be a positive integer (1 or more), got 0")):
        smallest_side((7, 3, 3), (0, 2, 2), (2, 1, 1))
    with pytest.raises(ValueError, match="paddings must have exactly 3 entries"):
        smallest_side((7, 3, 3), (4, 2, 2), (2, 1))
    with pytest.raises(TypeError, match=re.escape("strides[2] must be a whole number (an int), got 2.0")):
        smallest_side((16, 3, 3), (16, 2, 2.0), (4, 1, 1))


# ---- the inputs listed in issue 14 -----------------------------------------------------------------


def test_issue_stride_float_raises_type_error():
    with pytest.raises(TypeError, match=re.escape("softsplit_strides[2] must be a whole number (an int), got 2.0")):
        T2TViT(softsplit_strides=(16, 2, 2.0))


def test_issue_negative_padding_through_timm():
    with pytest.raises(ValueError, match=re.escape("softsplit_paddings[2] must be a whole number >= 0, got -1")):
        timm.create_model("t2t_vit_7", softsplit_paddings=(2, 1, -1))


@pytest.mark.parametrize("stride", [0, -1])
def test_issue_zero_or_negative_stride(stride):
    with pytest.raises(
        ValueError, match=re.escape(f"softsplit_strides[1] must be a positive integer (1 or more), got {stride}")
    ):
        T2TViT(**SMALL, softsplit_strides=(4, stride, 2))
    with pytest.raises(ValueError, match=re.escape("softsplit_strides[0] must be a positive integer")):
        timm.create_model("t2t_vit_7", softsplit_strides=(stride, 2, 2))


def test_issue_huge_kernel_names_the_smallest_image():
    # k = 10**7: s = 5 * 10**6, p = 2.5 * 10**6; the 3 x 3 splits need 1 pixel, so the first needs
    # (1 - 1) * s + k - 2p = 5 * 10**6 pixels.
    with pytest.raises(ValueError, match="The smallest size that works is 5000000 x 5000000"):
        T2TViT(softsplit_kernels=(10**7, 3, 3))


def test_issue_hidden_widths_of_zero_are_refused():
    with pytest.raises(ValueError, match=re.escape("hidden_chan must be a positive integer (1 or more), got 0")):
        NeuralNet(64, hidden_chan=0)
    with pytest.raises(ValueError, match=re.escape("hidden_chan_mul must be a finite number > 0, got 0")):
        TokenTransformer(49, 64, 1, hidden_chan_mul=0)
    with pytest.raises(ValueError, match=re.escape("t2t_hidden_chan_mul must be a finite number > 0, got 0")):
        T2TViT(**SMALL, t2t_hidden_chan_mul=0)
    with pytest.raises(ValueError, match=re.escape("encoding_hidden_chan_mul must be a finite number > 0")):
        T2TViT(**SMALL, encoding_hidden_chan_mul=0)
    with pytest.raises(ValueError, match="0 channels"):
        TokenPerformer(49, 64, hidden_chan_mul=0.01)
    assert NeuralNet(64).fc1.out_features == 64  # None still means "as wide as the input"
    assert NeuralNet(64, hidden_chan=np.int64(5)).fc1.out_features == 5


def test_issue_fractional_image_size_is_not_truncated():
    with pytest.raises(TypeError, match=re.escape("img_size height must be a whole number (an int), got 32.9")):
        T2TViT(img_size=(1, 32.9, 32), softsplit_kernels=(7, 3, 3))
    with pytest.raises(TypeError, match="write 32 instead of 32.0"):
        Tokens2Token(img_size=(1, 32.0, 32), softsplit_kernels=(7, 3, 3))


@pytest.mark.parametrize("strides", [(4, 2), (4, 2, 2, 2), ()])
def test_issue_two_or_four_strides(strides):
    with pytest.raises(
        ValueError, match=f"softsplit_strides must have exactly 3 entries, one per soft split, got {len(strides)}"
    ):
        T2TViT(**SMALL, softsplit_strides=strides)
    with pytest.raises(ValueError, match="softsplit_paddings must have exactly 3 entries"):
        T2TViT(**SMALL, softsplit_paddings=strides)
    with pytest.raises(ValueError, match="softsplit_kernels must have exactly 3 entries"):
        T2TViT(**{**SMALL, "softsplit_kernels": strides})


def test_issue_attention_with_zero_channels():
    with pytest.raises(ValueError, match=re.escape("chan must be a positive integer (1 or more), got 0")):
        Attention(27, chan=0)
    with pytest.raises(ValueError, match="does not divide chan=64"):
        Attention(27, chan=64, num_heads=3)


@pytest.mark.parametrize(
    "build, error, words",
    [
        (lambda: NeuralNet(0), ValueError, "in_chan must be a positive integer"),
        (lambda: NeuralNet(8, out_chan=-2), ValueError, "out_chan must be a positive integer"),
        (lambda: NeuralNet(8.0), TypeError, "in_chan must be a whole number"),
        (lambda: NeuralNet(8, act_layer=nn.GELU()), TypeError, "act_layer must be a layer class"),
        (lambda: NeuralNet(8, drop=1.5), ValueError, "drop must be a finite number >= 0 and < 1"),
        (lambda: ViTBackbone(0), ValueError, "num_tokens must be a positive integer"),
        (lambda: ViTBackbone(10, token_len=2.5), TypeError, "token_len must be a whole number"),
        (lambda: ViTBackbone(10, token_len=8, depth=2.0), TypeError, "depth must be a whole number"),
        (lambda: ViTBackbone(10, token_len=8, depth=10**6), ValueError, "use a depth of at most 256"),
        (lambda: ViTBackbone(10, token_len=8, num_heads=3), ValueError, "does not divide token_len=8"),
        (lambda: ViTBackbone(10, token_len=8, drop_path_rate=-1), ValueError, "drop_path_rate must be"),
        (lambda: ViTBackbone(10**7, token_len=64), ValueError, "position table pos_embed"),
        (lambda: ViTBackbone(10, token_len=8, qkv_bias="yes"), TypeError, "qkv_bias must be True or False"),
        (lambda: EncodingBlock(8, 2, drop_path=1.0), ValueError, "drop_path must be"),
        (lambda: EncodingBlock(8, 2, norm_layer=None), TypeError, "norm_layer must be a layer class"),
        (lambda: PerformerAttention(49, 64, kernel_ratio=0), ValueError, "kernel_ratio must be a finite number > 0"),
        (lambda: PerformerAttention(49, 64, kernel_ratio=0.001), ValueError, "kernel_ratio=0.001 gives"),
        (lambda: PerformerAttention(49, 64, kernel_ratio="half"), TypeError, "kernel_ratio must be a real number"),
        (lambda: TokenPerformer(49, 0), ValueError, "chan must be a positive integer"),
        (lambda: Attention(49, 64, qk_scale=-1.0), ValueError, "qk_scale must be a finite number > 0"),
        (lambda: Attention(49, 64, attn_drop=1.0), ValueError, "attn_drop must be"),
        (lambda: TokenTransformer(49, 64, 0), ValueError, "num_heads must be a positive integer"),
        (lambda: T2TViT(**SMALL, token_module="Performer"), ValueError, "token_module must be 'transformer' or"),
        (lambda: T2TViT(**SMALL, t2t_num_heads=0), ValueError, "t2t_num_heads must be a positive integer"),
        (lambda: T2TViT(**SMALL, t2t_num_heads=3), ValueError, "t2t_num_heads=3 does not divide token_chan=16"),
        (lambda: T2TViT(**SMALL, num_heads=3), ValueError, "num_heads=3 does not divide token_len=32"),
        (lambda: T2TViT(**SMALL, t2t_drop=1), ValueError, "t2t_drop must be"),
        (lambda: T2TViT(**SMALL, preds=2.0), TypeError, "preds must be a whole number"),
        (lambda: T2TViT(**{**SMALL, "img_size": (1, 10**6, 10**6)}), ValueError, "position table"),
        (lambda: T2TViT(**{**SMALL, "token_len": 10**8}), ValueError, "projection weight"),
        (lambda: Tokens2Token(img_size=(1, 60, 100), kernel_ratio=0), ValueError, "kernel_ratio must be"),
        (
            lambda: Tokens2Token(img_size=(1, 60, 100), softsplit_kernels=7),
            TypeError,
            "softsplit_kernels must be a tuple",
        ),
    ],
)
def test_every_constructor_checks_its_arguments(build, error, words):
    with pytest.raises(error, match=re.escape(words)):
        build()


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        (dict(img_size="large"), TypeError, "img_size must be an int or a pair (height, width), got 'large'"),
        (dict(img_size=(224, 224.0)), TypeError, "img_size width must be a whole number"),
        (dict(img_size=(224, 224, 3)), ValueError, "img_size must be a positive int or a pair"),
        (dict(in_chans=1.0), TypeError, "in_chans must be a whole number"),
        (dict(in_chans=0), ValueError, "in_chans must be a positive integer"),
        (dict(num_classes=-1), ValueError, "num_classes must be a whole number >= 0"),
        (dict(num_classes=10.0), TypeError, "num_classes must be a whole number"),
        (dict(drop_path_rate=2.0), ValueError, "drop_path_rate must be a finite number >= 0 and < 1"),
        (dict(softsplit_kernels=(7, 3)), ValueError, "softsplit_kernels must have exactly 3 entries"),
    ],
)
def test_zoo_factory_checks_its_keywords(kwargs, error, words):
    with pytest.raises(error, match=re.escape(words)):
        timm.create_model("t2t_vit_7", **kwargs)


def test_numpy_integers_work_everywhere():
    model = T2TViT(
        img_size=np.array([1, 60, 100]),
        softsplit_kernels=np.array([7, 3, 3]),
        token_len=np.int64(32),
        token_chan=np.int32(16),
        depth=np.int64(1),
        preds=np.int64(3),
        num_heads=np.int64(2),
    )
    assert model.img_size == (1, 60, 100) and model(torch.zeros(2, 1, 60, 100)).shape == (2, 3)
    zoo = timm.create_model("t2t_vit_7", img_size=np.int64(64), in_chans=np.int64(1), num_classes=np.int64(4))
    assert zoo.tokens2token.img_size == (1, 64, 64) and zoo.num_classes == 4
    assert zoo(torch.zeros(1, 1, 64, 64)).shape == (1, 4)


def test_performer_t2t_module_has_no_heads_to_check():
    """The Performer ignores num_heads, so only the encoding blocks' token_len must be divisible."""
    model = T2TViT(**{**SMALL, "token_chan": 6}, token_module="performer", num_heads=4)
    assert model(torch.zeros(1, 1, 60, 100)).shape == (1, 1)
    with pytest.raises(ValueError, match="num_heads=4 does not divide token_chan=6"):
        T2TViT(**{**SMALL, "token_chan": 6}, token_module="transformer", num_heads=4)
