"""The T2T-ViT core against independent truths: nn.Unfold, hand-written attention, SERIES.md."""

from __future__ import annotations

import math

import pytest
import timm
import torch
from torch import nn

import helpers
from helpers import Attention, T2TViT, Tokens2Token, TokenTransformer

torch.set_num_threads(1)


def plain_attention(x, qkv_weight, proj_weight, proj_bias, num_heads, scale):
    """softmax(Q K^T * scale) V, one head at a time, with explicit einsums."""
    chan = qkv_weight.shape[0] // 3
    head = chan // num_heads
    qkv = torch.einsum("bnd,ed->bne", x, qkv_weight)
    q, k, v = qkv[..., :chan], qkv[..., chan : 2 * chan], qkv[..., 2 * chan :]
    outs = []
    for h in range(num_heads):
        sl = slice(h * head, (h + 1) * head)
        scores = torch.einsum("bic,bjc->bij", q[..., sl], k[..., sl]) * scale
        weights = torch.exp(scores - scores.amax(-1, keepdim=True))
        weights = weights / weights.sum(-1, keepdim=True)
        outs.append(torch.einsum("bij,bjc->bic", weights, v[..., sl]))
    y = torch.cat(outs, dim=-1) @ proj_weight.T + proj_bias
    return y + v


@pytest.mark.parametrize("num_heads", [1, 2, 4])
@pytest.mark.parametrize("official_scale", [False, True])
def test_multi_head_attention_matches_plain_softmax(num_heads, official_scale):
    torch.manual_seed(num_heads)
    dim, chan = 49, 64
    scale = (dim // num_heads) ** -0.5 if official_scale else (chan // num_heads) ** -0.5
    attn = Attention(dim, chan, num_heads=num_heads, qk_scale=scale if official_scale else None)
    x = torch.randn(3, 20, dim)
    expected = plain_attention(x, attn.qkv.weight, attn.proj.weight, attn.proj.bias, num_heads, scale)
    assert attn.fused  # the default: torch's one-kernel attention
    torch.testing.assert_close(attn(x), expected, rtol=1e-5, atol=1e-5)
    attn.fused = False  # the formula step by step: the same numbers
    torch.testing.assert_close(attn(x), expected, rtol=1e-5, atol=1e-5)


def test_attention_weights_rows_sum_to_one_and_match_plain_softmax():
    torch.manual_seed(0)
    attn = Attention(12, 8, num_heads=2)
    x = torch.randn(1, 5, 12)
    w = helpers.attention_weights(attn, x)
    assert w.shape == (1, 2, 5, 5) and attn.fused  # read from the plain path, the switch restored
    torch.testing.assert_close(w.sum(-1), torch.ones(1, 2, 5))
    q = x @ attn.qkv.weight[:4].T
    k = x @ attn.qkv.weight[8:12].T
    torch.testing.assert_close(w[0, 0], torch.softmax(q[0] @ k[0].T / 2.0, dim=-1))


def test_token_transformer_step_by_step_equals_module_call():
    torch.manual_seed(0)
    block = TokenTransformer(dim=49, chan=64, num_heads=4, hidden_chan_mul=1.5).eval()
    x = torch.randn(13, 100, 49)
    h = block.norm1(x)
    assert h.shape == (13, 100, 49)
    h = block.attn(h)
    assert h.shape == (13, 100, 64)
    out = h + block.neuralnet(block.norm2(h))
    assert out.shape == (13, 100, 64)
    assert block.neuralnet.fc1.out_features == 96
    torch.testing.assert_close(block(x), out)


def test_tokens2token_stage_counts_follow_series_and_unfold():
    model = Tokens2Token(img_size=(1, 400, 100), softsplit_kernels=(7, 3, 3), token_chan=64, token_len=768)
    steps = helpers.t2t_steps(model, torch.zeros(2, 1, 400, 100))
    # Independent truth: nn.Unfold on zero images of the sizes each stage sees.
    n0 = nn.Unfold(7, stride=4, padding=2)(torch.zeros(1, 1, 400, 100)).shape[-1]
    n1 = nn.Unfold(3, stride=2, padding=1)(torch.zeros(1, 64, 100, 25)).shape[-1]
    n2 = nn.Unfold(3, stride=2, padding=1)(torch.zeros(1, 64, 50, 13)).shape[-1]
    assert (n0, n1, n2) == (2500, 650, 175)
    assert steps["soft_split0"].shape == (2, 2500, 49)
    assert steps["transformer1"].shape == (2, 2500, 64)
    assert steps["reconstruct1"].shape == (2, 64, 100, 25)
    assert steps["soft_split1"].shape == (2, 650, 576)
    assert steps["transformer2"].shape == (2, 650, 64)
    assert steps["reconstruct2"].shape == (2, 64, 50, 13)
    assert steps["soft_split2"].shape == (2, 175, 576)
    assert steps["project"].shape == (2, 175, 768)
    assert model.num_tokens == 175


def test_forward_follows_the_papers_steps_and_non_square_multichannel_images_work():
    torch.manual_seed(0)
    model = Tokens2Token(
        img_size=(3, 37, 53), softsplit_kernels=(5, 3, 3), num_heads=2, token_chan=16, token_len=24
    ).eval()
    x = torch.randn(2, 3, 37, 53)
    # The paper's steps written out here with nn.Unfold and an explicit reshape of the token matrix.
    t = nn.Unfold(5, stride=3, padding=2)(x).transpose(1, 2)
    t = model.transformer1(t)
    image = t.transpose(1, 2).reshape(2, 16, 13, 18)
    t = model.transformer2(nn.Unfold(3, stride=2, padding=1)(image).transpose(1, 2))
    image = t.transpose(1, 2).reshape(2, 16, 7, 9)
    expected = model.project(nn.Unfold(3, stride=2, padding=1)(image).transpose(1, 2))
    torch.testing.assert_close(model(x), expected, atol=0, rtol=0)
    # 37 x 53 with k=5 (s=3, p=2): 13 x 18; then k=3 (s=2, p=1): 7 x 9; then 4 x 5.
    assert model.num_tokens == 4 * 5


def test_reconstruction_puts_token_values_in_grid_order():
    tokens = torch.arange(2 * 6 * 3, dtype=torch.float32).reshape(2, 6, 3)
    image = Tokens2Token.reconstruct(tokens, (2, 3))
    for b in range(2):
        for c in range(3):
            for i in range(2):
                for j in range(3):
                    assert image[b, c, i, j] == tokens[b, i * 3 + j, c]


def test_article_defaults_give_3286_then_216_tokens_and_a_prediction():
    model = T2TViT()
    assert model.tokens2token.grids[0] == (106, 31)
    assert 106 * 31 == 3286
    assert model.num_tokens == 216
    assert model.backbone.pos_embed.shape == (1, 217, 768)


def test_performer_t2t_and_full_model_run_on_small_images():
    torch.manual_seed(0)
    model = T2TViT(
        img_size=(1, 60, 100),
        softsplit_kernels=(7, 3, 3),
        preds=10,
        token_len=32,
        token_chan=16,
        num_heads=2,
        t2t_num_heads=1,
        depth=2,
        token_module="performer",
    ).eval()
    out = model(torch.rand(4, 1, 60, 100))
    assert out.shape == (4, 10)
    assert torch.isfinite(out).all()
    w = model.tokens2token.transformer1.attn.w
    assert w.shape == (8, 16) and not w.requires_grad
    # Orthogonal rows scaled by sqrt(m): W W^T = m I.
    torch.testing.assert_close(w @ w.T, 8 * torch.eye(8), rtol=1e-4, atol=1e-4)


def test_weight_initialisation_and_no_weight_decay():
    torch.manual_seed(0)
    model = T2TViT(img_size=(1, 60, 100), softsplit_kernels=(7, 3, 3), token_len=64, depth=2)
    zoo_model = timm.create_model("t2t_vit_7", img_size=32, depth=1)
    names = dict(zoo_model.named_parameters())
    assert zoo_model.no_weight_decay() == {"backbone.cls_token"} and "backbone.cls_token" in names
    for module in model.modules():
        if isinstance(module, nn.Linear):
            # timm's trunc_normal_ cuts at the absolute values +-2, as the official code uses it.
            assert module.weight.abs().max() <= 2.0
            assert module.bias is None or torch.all(module.bias == 0)
        if isinstance(module, nn.LayerNorm):
            assert torch.all(module.weight == 1) and torch.all(module.bias == 0)
    big = model.backbone.blocks[0].neuralnet.fc1.weight
    assert math.isclose(big.std().item(), 0.02, rel_tol=0.05)
    assert math.isclose(big.mean().item(), 0.0, abs_tol=0.002)


# ---- bad input: every one is a ValueError that says what to change -------------------------------


def small_model(**overrides):
    kwargs = dict(img_size=(1, 60, 100), softsplit_kernels=(7, 3, 3), token_len=32, token_chan=16, depth=1)
    kwargs.update(overrides)
    return T2TViT(**kwargs)


@pytest.mark.parametrize(
    "shape, words",
    [
        ((2, 1, 50, 100), "60 x 100"),
        ((2, 3, 60, 100), "1 channel"),
        ((1, 60, 100), "batch"),
    ],
)
def test_wrong_image_shape_is_a_clear_value_error(shape, words):
    with pytest.raises(ValueError, match=words):
        small_model()(torch.zeros(shape))


def test_kernel_larger_than_padded_image_is_a_clear_value_error():
    with pytest.raises(ValueError, match="smallest size that works"):
        small_model(img_size=(1, 10, 10), softsplit_kernels=(31, 3, 3))


def test_heads_that_do_not_divide_chan_are_a_clear_value_error():
    with pytest.raises(ValueError, match="does not divide chan=64"):
        TokenTransformer(dim=49, chan=64, num_heads=3)
    with pytest.raises(ValueError, match="num_heads"):
        small_model(token_len=30, num_heads=4)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(img_size=(1, 0, 100)),
        dict(img_size=(0, 60, 100)),
        dict(img_size=(1, -5, 100)),
        dict(softsplit_kernels=(0, 3, 3)),
        dict(softsplit_kernels=(7, -3, 3)),
        dict(token_chan=0),
        dict(token_len=-1),
        dict(img_size=(60, 100)),
    ],
)
def test_non_positive_sizes_are_clear_value_errors(kwargs):
    with pytest.raises(ValueError, match="must be"):
        small_model(**kwargs)


def test_public_names_are_exported():
    for name in (
        "count_tokens",
        "soft_split_params",
        "NeuralNet",
        "Attention",
        "TokenTransformer",
        "Tokens2Token",
        "ViTBackbone",
        "T2TViT",
    ):
        assert hasattr(helpers, name)
