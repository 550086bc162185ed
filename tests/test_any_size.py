"""Official weights at any image size and channel count (issue 8).

The position table is a fixed sinusoid, so a model built for another size regenerates it; the
truth is the independent official-style forward of ``test_checkpoints`` run at that size.
"""

from __future__ import annotations

import math
import warnings

import pytest
import timm
import torch
import torch.nn.functional as F
from test_checkpoints import (
    TABLE,
    images,
    load,
    official_forward,
    official_state_dict,
    save_training_checkpoint,
    sinusoid,
)

import helpers
from helpers import count_tokens
from helpers.checks import smallest_side
from helpers.timm.checkpoint import checkpoint_filter_fn

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def seven(tmp_path_factory):
    """t2t_vit_7: (official weights, checkpoint path)."""
    sd = official_state_dict("t2t_vit_7", seed=5)
    return sd, save_training_checkpoint(tmp_path_factory.mktemp("seven") / "ckpt.pth.tar", "t2t_vit_7", sd, sd)


@pytest.fixture(scope="module")
def t14(tmp_path_factory):
    """t2t_vit_t_14 with the same LayerNorm for each colour: (official weights, checkpoint path)."""
    sd = official_state_dict("t2t_vit_t_14", seed=6, shared_colour_norm=True)
    return sd, save_training_checkpoint(tmp_path_factory.mktemp("t14") / "ckpt.pth.tar", "t2t_vit_t_14", sd)


def smallest_working_side() -> int:
    """Brute force with F.unfold: the smallest square side that leaves a token after three splits."""
    for side in range(1, 64):
        x = torch.zeros(1, 1, side, side)
        try:
            for k, s, p in ((7, 4, 2), (3, 2, 1), (3, 2, 1)):
                tokens = F.unfold(x, k, padding=p, stride=s).shape[-1]
                grid = math.isqrt(tokens)
                x = torch.zeros(1, 1, grid, grid)
            if tokens >= 1:
                return side
        except RuntimeError:
            continue
    raise AssertionError("no side up to 63 works")


@pytest.mark.parametrize("size", [(260, 260), (384, 384), (224, 320), (100, 400)])
def test_official_weights_at_other_sizes(seven, size):
    sd, path = seven
    model = load("t2t_vit_7", path, img_size=size)
    x = images(2, 3, *size, seed=1)
    with torch.no_grad():
        torch.testing.assert_close(model(x), official_forward(sd, "t2t_vit_7", x), atol=2e-4, rtol=1e-4)


def test_transformer_variant_at_a_non_square_size(t14):
    sd, path = t14
    model = load("t2t_vit_t_14", path, img_size=(100, 400))
    x = images(2, 3, 100, 400, seed=2)
    with torch.no_grad():
        torch.testing.assert_close(model(x), official_forward(sd, "t2t_vit_t_14", x), atol=2e-4, rtol=1e-4)


@pytest.mark.parametrize("size", [224, 260, (224, 320), (100, 400), (3, 3)])
def test_token_counts_follow_count_tokens(size):
    model = timm.create_model("t2t_vit_7", img_size=size)
    h, w = (size, size) if isinstance(size, int) else size
    grids = []
    for k, s, p in ((7, 4, 2), (3, 2, 1), (3, 2, 1)):
        w, h, total = count_tokens(w, h, k, s, p)
        grids.append((h, w))
    assert model.backbone.pos_embed.shape == (1, total + 1, TABLE["t2t_vit_7"][1])
    steps = helpers.t2t_steps(model.tokens2token, torch.zeros(1, 3, *((size, size) if isinstance(size, int) else size)))
    assert steps["reconstruct1"].shape[-2:] == grids[0] and steps["reconstruct2"].shape[-2:] == grids[1]
    assert steps["project"].shape[1] == total


def test_int_and_pair_sizes_agree(seven):
    sd, path = seven
    x = images(1, 3, 260, 260, seed=4)
    with torch.no_grad():
        torch.testing.assert_close(
            load("t2t_vit_7", path, img_size=260)(x), load("t2t_vit_7", path, img_size=(260, 260))(x)
        )


def test_grey_image_behaves_like_its_rgb_copy_performer(seven):
    """Performer: the LayerNorm affine folds into kqv exactly, whatever the colour LayerNorms are."""
    _, path = seven
    grey = torch.rand(2, 1, 96, 128, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        ours = load("t2t_vit_7", path, img_size=(96, 128), in_chans=1)(grey)
        rgb = load("t2t_vit_7", path, img_size=(96, 128))(grey.repeat(1, 3, 1, 1))
    torch.testing.assert_close(ours, rgb, atol=2e-4, rtol=1e-4)


def test_grey_image_behaves_like_its_rgb_copy_transformer(t14):
    """Transformer (no qkv bias): exact when the three colour LayerNorms agree."""
    _, path = t14
    grey = torch.rand(2, 1, 64, 64, generator=torch.Generator().manual_seed(8))
    with torch.no_grad():
        ours = load("t2t_vit_t_14", path, img_size=64, in_chans=1)(grey)
        rgb = load("t2t_vit_t_14", path, img_size=64)(grey.repeat(1, 3, 1, 1))
    torch.testing.assert_close(ours, rgb, atol=2e-4, rtol=1e-4)


@pytest.mark.parametrize("name", ["t2t_vit_7", "t2t_vit_t_14"])
def test_six_channels_repeat_and_rescale(seven, t14, name):
    """Six channels fed the colour image twice give the colour model's output."""
    _, path = seven if name == "t2t_vit_7" else t14
    x = torch.rand(1, 3, 64, 80, generator=torch.Generator().manual_seed(9))
    with torch.no_grad():
        six = load(name, path, img_size=(64, 80), in_chans=6)(torch.cat((x, x), dim=1))
        three = load(name, path, img_size=(64, 80))(x)
    torch.testing.assert_close(six, three, atol=2e-4, rtol=1e-4)


def test_two_channels_load_and_run(seven):
    sd, path = seven
    model = load("t2t_vit_7", path, img_size=64, in_chans=2)
    qkv = model.tokens2token.transformer1.attn.qkv.weight
    assert qkv.shape == (3 * 64, 2 * 49)
    # Column c * 49 + position repeats colour c, rescaled by 3 / 2 (official kqv rows are k, q, v).
    k, q, v = sd["tokens_to_token.attention1.kqv.weight"].chunk(3)
    torch.testing.assert_close(qkv[:64, 49:98], q[:, 49:98] * 1.5)
    with torch.no_grad():
        assert torch.isfinite(model(torch.rand(2, 2, 64, 64))).all()


def test_checkpoint_table_that_is_not_the_sinusoid_warns_at_any_size(tmp_path):
    sd = official_state_dict("t2t_vit_7", seed=5)
    sd["pos_embed"] = torch.randn(sd["pos_embed"].shape)
    path = save_training_checkpoint(tmp_path / "learned.pth.tar", "t2t_vit_7", sd)
    with pytest.warns(UserWarning, match=r"sinusoid_table\(197, 256\)"):
        load("t2t_vit_7", path, img_size=(224, 320))


@pytest.mark.parametrize("size", [2, (2, 400), (400, 1)])
@pytest.mark.parametrize("pretrained", [False, True])
def test_too_small_names_the_smallest_size(seven, size, pretrained):
    side = smallest_working_side()
    overlay = dict(file=seven[1]) if pretrained else None
    with pytest.raises(ValueError, match=f"smallest size that works is {side} x {side}"):
        timm.create_model("t2t_vit_7", pretrained=pretrained, pretrained_cfg_overlay=overlay, img_size=size)
    timm.create_model("t2t_vit_7", img_size=side)  # and that one does work


def test_a_384_checkpoint_table_is_replaced_silently(seven):
    """A checkpoint trained at 384 x 384 holds the 577-row sinusoid: nothing to warn about."""
    sd = dict(seven[0], pos_embed=sinusoid(24 * 24 + 1, 256))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = checkpoint_filter_fn(sd, timm.create_model("t2t_vit_7", img_size=384))
    assert not any("pos_embed" in k for k in out)


def unfold_side_works(side: int, splits) -> bool:
    """Whether F.unfold leaves at least one token after every split of a ``side x side`` image."""
    x = torch.zeros(1, 1, side, side)
    for k, s, p in splits:
        try:
            tokens = F.unfold(x, k, padding=p, stride=s).shape[-1]
        except RuntimeError:
            return False
        grid = math.isqrt(tokens)
        x = torch.zeros(1, 1, grid, grid)
    return True


@pytest.mark.parametrize(
    "splits",
    [
        ((7, 4, 2), (3, 2, 1), (3, 2, 1)),  # the official T2T module
        ((31, 16, 8), (3, 2, 1), (3, 2, 1)),  # the article's kernels
        ((9, 1, 0), (5, 5, 0), (4, 3, 0)),
        ((3, 3, 4), (6, 2, 3), (8, 1, 0)),  # padding larger than half the kernel
        ((1, 7, 0), (1, 1, 0), (2, 2, 0)),
        ((5, 2, 1), (7, 3, 0), (9, 4, 2)),
    ],
)
def test_smallest_side_formula_matches_unfold(splits):
    """The formula gives the first side that F.unfold accepts, found here by trying every side."""
    kernels, strides, paddings = zip(*splits)
    side = smallest_side(kernels, strides, paddings)
    assert unfold_side_works(side, splits)
    assert all(not unfold_side_works(n, splits) for n in range(1, side))
