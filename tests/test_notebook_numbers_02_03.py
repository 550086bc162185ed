"""The numbers notebooks 02 (Token Transformer, Performer) and 03 (reconstruction) print, checked
against second implementations written differently here (einsum, explicit loops) and hand arithmetic."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

import helpers
from helpers import Attention, PerformerAttention, TokenPerformer, Tokens2Token, TokenTransformer, count_tokens
from helpers.figures import attention as af
from helpers.figures import reconstruction as rf
from helpers.image import mountain_at_dusk

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def mountain_tokens() -> torch.Tensor:
    """The running picture soft split with k = 7, s = 4, p = 2: (1, 375, 49)."""
    image = torch.tensor(mountain_at_dusk(), dtype=torch.float32)[None, None]
    return nn.Unfold(7, stride=4, padding=2)(image).transpose(1, 2)


def reference_softmax(scores: torch.Tensor) -> torch.Tensor:
    """Softmax over the last axis, written out: exp of the shifted scores over their sum."""
    shifted = torch.exp(scores - scores.max(dim=-1, keepdim=True).values)
    return shifted / shifted.sum(dim=-1, keepdim=True)


def reference_attention(module: Attention, x: torch.Tensor, scale: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Multi-head attention with one explicit loop over heads and einsum; returns (output, weights)."""
    heads = module.num_heads
    chan = heads * module.head_dim
    width = chan // heads
    weight = module.qkv.weight.detach()
    bias = module.qkv.bias.detach() if module.qkv.bias is not None else torch.zeros(3 * chan)
    outputs, weights, values = [], [], []
    for h in range(heads):
        rows = slice(h * width, (h + 1) * width)
        q = torch.einsum("bnd,ed->bne", x, weight[:chan][rows]) + bias[:chan][rows]
        k = torch.einsum("bnd,ed->bne", x, weight[chan : 2 * chan][rows]) + bias[chan : 2 * chan][rows]
        v = torch.einsum("bnd,ed->bne", x, weight[2 * chan :][rows]) + bias[2 * chan :][rows]
        w = reference_softmax(torch.einsum("bne,bte->bnt", q, k) * scale)
        outputs.append(torch.einsum("bnt,bte->bne", w, v))
        weights.append(w)
        values.append(v)
    merged = torch.cat(outputs, dim=-1)
    projected = torch.einsum("bnc,ec->bne", merged, module.proj.weight.detach()) + module.proj.bias.detach()
    return projected + torch.cat(values, dim=-1), torch.stack(weights, dim=1)


# ---------------------------------------------------------------- notebook 02: the walk-through


def test_walkthrough_shapes_and_step_by_step_equals_module():
    torch.manual_seed(0)
    block = TokenTransformer(dim=7 * 7, chan=64, num_heads=4, hidden_chan_mul=1.5).eval()
    x = torch.rand(13, 100, 49)
    with torch.no_grad():
        normed = block.norm1(x)
        attended = block.attn(normed)
        normed2 = block.norm2(attended)
        mlp = block.neuralnet(normed2)
        out = attended + mlp
        assert normed.shape == (13, 100, 49)
        assert attended.shape == normed2.shape == mlp.shape == out.shape == (13, 100, 64)
        assert block.neuralnet.fc1.out_features == int(64 * 1.5) == 96
        assert torch.allclose(out, block(x), atol=1e-6)
        # The split into heads: 4 heads of 64 // 4 = 16 channels each.
        q, k, v = block.attn.split_heads(normed)
        assert q.shape == k.shape == v.shape == (13, 4, 100, 16)
        flat_q = normed @ block.attn.qkv.weight[:64].T
        assert torch.allclose(q[:, 2], flat_q[..., 32:48], atol=1e-6)


@pytest.mark.parametrize("num_heads", [1, 2, 4])
@pytest.mark.parametrize("scale_kind", ["standard", "official"])
def test_attention_matches_loop_over_heads(num_heads, scale_kind):
    dim, chan = 49, 64
    scale = (chan // num_heads) ** -0.5 if scale_kind == "standard" else (dim // num_heads) ** -0.5
    torch.manual_seed(num_heads)
    qk_scale = None if scale_kind == "standard" else scale
    module = Attention(dim, chan, num_heads=num_heads, qk_scale=qk_scale).eval()
    x = torch.randn(3, 20, dim)
    expected, expected_weights = reference_attention(module, x, scale)
    with torch.no_grad():
        assert math.isclose(module.scale, scale)
        assert torch.allclose(module(x), expected, atol=1e-5)
        assert torch.allclose(helpers.attention_weights(module, x), expected_weights, atol=1e-6)


def test_scale_numbers_printed_in_notebook():
    assert Attention(49, 64, num_heads=4).scale == 0.25  # (64 // 4) ** -0.5 = 1 / 4
    assert round(Attention(49, 64, num_heads=4, qk_scale=(49 // 4) ** -0.5).scale, 4) == round(1 / math.sqrt(12), 4)
    assert Attention(49, 64, num_heads=1).scale == 0.125  # 1 / 8
    assert round(Attention(49, 64, num_heads=1, qk_scale=49**-0.5).scale, 4) == round(1 / 7, 4)


def test_scales_give_different_outputs():
    x = torch.randn(2, 10, 49)
    torch.manual_seed(0)
    standard = Attention(49, 64, num_heads=4)
    official = Attention(49, 64, num_heads=4, qk_scale=(49 // 4) ** -0.5)
    official.load_state_dict(standard.state_dict())
    with torch.no_grad():
        assert not torch.allclose(standard(x), official(x))


# ---------------------------------------------------------------- notebook 02: attention map


def test_attention_map_row_is_a_distribution_over_the_grid(mountain_tokens):
    assert mountain_tokens.shape == (1, 375, 49)
    assert count_tokens(100, 60, 7, 4, 2) == (25, 15, 375)
    torch.manual_seed(0)
    block = TokenTransformer(49, 64, 1)
    with torch.no_grad():
        weights = helpers.attention_weights(block.attn, block.norm1(mountain_tokens))
    assert weights.shape == (1, 1, 375, 375)
    assert torch.allclose(weights.sum(-1), torch.ones(1, 1, 375), atol=1e-5)
    # A flat patch normalises to zeros, so with no qkv bias its query is zero: uniform weights.
    # Flat means all 49 pixels equal; float32 std() is not exactly 0 for every grey level (0.3: ~6e-8).
    flat = [n for n in range(375) if torch.unique(mountain_tokens[0, n]).numel() == 1]
    assert len(flat) == 55 and flat[0] == 201  # the numbers notebook 02 prints
    assert len([n for n in flat if mountain_tokens[0, n].std() == 0]) < len(flat)
    for n in flat:
        assert torch.allclose(weights[0, 0, n], torch.full((375,), 1 / 375), atol=1e-6)


def test_patch_box_matches_unfold(mountain_tokens):
    image = mountain_at_dusk()
    padded = np.pad(image, 2)
    for index in (0, 24, 183, 374):
        row, col, h, w = af.patch_box(index, (15, 25), 7, 4, 2)
        cut = padded[row + 2 : row + 2 + h, col + 2 : col + 2 + w].ravel()
        assert np.allclose(cut, mountain_tokens[0, index].numpy())
    with pytest.raises(ValueError, match="from 0 to 374"):
        af.patch_box(375, (15, 25), 7, 4, 2)


def test_attention_map_figure_rejects_wrong_weights_and_saves(tmp_path):
    image = mountain_at_dusk()
    with pytest.raises(ValueError, match="375"):
        af.attention_map_figure(image, np.ones(100), 3, (15, 25), 7, 4, 2)
    fig = af.attention_map_figure(image, np.full(375, 1 / 375), 3, (15, 25), 7, 4, 2)
    fig.savefig(tmp_path / "map.png")
    plt.close(fig)
    assert (tmp_path / "map.png").stat().st_size > 0


# ---------------------------------------------------------------- notebook 02: Performer


def reference_performer(module: PerformerAttention, x: torch.Tensor) -> torch.Tensor:
    """The Performer formula computed the quadratic way, feature by feature."""
    chan, m = module.chan, module.num_features
    weight, bias = module.qkv.weight.detach(), module.qkv.bias.detach()
    qkv = torch.einsum("bnd,ed->bne", x, weight) + bias
    q, k, v = qkv[..., :chan], qkv[..., chan : 2 * chan], qkv[..., 2 * chan :]

    def phi(t):
        feats = [torch.exp(torch.einsum("bnc,c->bn", t, module.w[i]) - 0.5 * (t**2).sum(-1)) for i in range(m)]
        return torch.stack(feats, dim=-1) / math.sqrt(m)

    kernel = torch.einsum("bnm,btm->bnt", phi(q), phi(k))
    y = torch.einsum("bnt,btc->bnc", kernel, v) / (kernel.sum(-1, keepdim=True) + 1e-8)
    return v + torch.einsum("bnc,ec->bne", y, module.proj.weight.detach()) + module.proj.bias.detach()


def test_performer_matches_formula_and_spec():
    torch.manual_seed(1)
    module = PerformerAttention(49, 64).eval()
    assert module.num_features == 32  # m = chan / 2
    assert not module.w.requires_grad
    # Orthogonal rows, each of length sqrt(m): W W^T = m I.
    assert torch.allclose(module.w @ module.w.T, 32 * torch.eye(32), atol=1e-4)
    x = torch.randn(2, 30, 49) * 0.3
    with torch.no_grad():
        assert torch.allclose(module(x), reference_performer(module, x), atol=1e-5, rtol=1e-4)
        q, k, _ = module.qkv(x).split(64, dim=-1)
        weights = module.kernel_weights(q, k)
        assert torch.allclose(weights.sum(-1), torch.ones(2, 30), atol=1e-5)


def test_token_performer_composition():
    torch.manual_seed(2)
    block = TokenPerformer(49, 64).eval()
    x = torch.rand(13, 100, 49)
    with torch.no_grad():
        attended = block.attn(block.norm1(x))
        out = attended + block.neuralnet(block.norm2(attended))
        assert out.shape == (13, 100, 64)
        assert torch.allclose(out, block(x), atol=1e-6)


def own_performer_weights(q: torch.Tensor, k: torch.Tensor, m: int, seed: int) -> torch.Tensor:
    """Performer weights from a module built here, normalised over keys."""
    torch.manual_seed(seed)
    module = PerformerAttention(q.shape[-1], q.shape[-1], kernel_ratio=m / q.shape[-1])
    assert module.num_features == m
    scores = module.features(q) @ module.features(k).transpose(1, 2)
    return scores / scores.sum(-1, keepdim=True)


def test_performer_error_shrinks_with_more_features():
    gen = torch.Generator().manual_seed(0)
    q = torch.randn(1, 60, 16, generator=gen) * 0.25
    k = torch.randn(1, 60, 16, generator=gen) * 0.25
    exact = reference_softmax(torch.einsum("bnc,btc->bnt", q, k))
    errors = []
    for m in (64, 1024, 16384):
        tv = [0.5 * (own_performer_weights(q, k, m, seed) - exact).abs().sum(-1).mean() for seed in range(6)]
        errors.append(float(torch.stack(tv).mean()))
    assert errors[1] < 0.6 * errors[0]
    assert errors[2] < 0.6 * errors[1]
    # The helper the notebook uses gives the same numbers.
    helper = af.approximation_errors(q, k, [64, 1024], seeds=range(6))
    assert np.allclose(helper, errors[:2], rtol=1e-3, atol=1e-6)


def test_mountain_performer_numbers(mountain_tokens):
    torch.manual_seed(0)
    perf = TokenPerformer(49, 64)
    with torch.no_grad():
        x = perf.norm1(mountain_tokens)
        q, k, _ = perf.attn.qkv(x).split(64, dim=-1)
        exact = reference_softmax(torch.einsum("bnc,btc->bnt", q, k))
        approx = perf.attn.kernel_weights(q, k)
        assert torch.allclose(af.exp_kernel_weights(q, k), exact, atol=1e-6)
        counts = [8, 64, 2048]
        for scale in (1.0, 64**-0.25):
            errors = af.approximation_errors(q * scale, k * scale, counts, seeds=range(3))
            assert errors[-1] < errors[0]
        # With m = 32 < chan the rows of W are only sqrt(32) long: the features then estimate
        # softmax((m / chan) q.k - (1 - m / chan) |k|^2 / 2), not softmax(q.k).
        ratio = 32 / 64
        tempered = reference_softmax(
            ratio * torch.einsum("bnc,btc->bnt", q, k) - (1 - ratio) * 0.5 * (k**2).sum(-1)[:, None]
        )
        assert af.total_variation(approx, tempered) < af.total_variation(approx, exact) / 3
        # The streak in the scatter plot: the 55 flat patches share one short key (the qkv bias), which
        # gets about 1/55 of every Performer row each, and together 88 % to 100 % of every row.
        flat = [n for n in range(375) if torch.unique(mountain_tokens[0, n]).numel() == 1]
        assert torch.equal(k[0, flat], perf.attn.qkv.bias[64:128].expand(len(flat), 64))
        assert (k[0, flat[0]] ** 2).sum() < 0.5 < 15 < (k[0] ** 2).sum(-1).mean()
        share = approx[0][:, flat].sum(-1)
        assert share.min() > 0.87 and share.max() <= 1.0 and exact[0][:, flat].sum(-1).max() < 0.16
        assert approx[0][:, flat].min() > 0.015 and approx[0][:, flat].max() < 1 / 55


def test_random_feature_helper_checks_and_restores_rng():
    q = torch.randn(1, 5, 8)
    with pytest.raises(ValueError, match="same shape"):
        af.random_feature_weights(q, torch.randn(1, 6, 8), 4, 0)
    torch.manual_seed(5)
    before = torch.rand(1)
    torch.manual_seed(5)
    af.random_feature_weights(q, q, 4, seed=123)
    assert torch.equal(torch.rand(1), before)


# ---------------------------------------------------------------- notebook 03: reconstruction


def test_reconstruct_matches_explicit_loop():
    rows, cols = 15, 25
    tokens = torch.randn(2, rows * cols, 5)
    image = Tokens2Token.reconstruct(tokens, (rows, cols))
    assert image.shape == (2, 5, 15, 25)
    for b in range(2):
        for c in range(5):
            for i in range(rows):
                for j in range(cols):
                    assert image[b, c, i, j] == tokens[b, i * cols + j, c]
    assert np.array_equal(rf.tokens_to_image(tokens[0].numpy(), (rows, cols)), image[0].numpy())


def test_mountain_reconstruction_shapes(mountain_tokens):
    new_w, new_h, total = count_tokens(100, 60, 7, 4, 2)
    assert (new_h, new_w, total) == (15, 25, 375)
    torch.manual_seed(0)
    with torch.no_grad():
        tokens = TokenTransformer(49, 64, 1)(mountain_tokens)
    image = Tokens2Token.reconstruct(tokens, (new_h, new_w))
    assert tokens.shape == (1, 375, 64)
    assert image.shape == (1, 64, 15, 25)
    # Row i * 25 + j of the token matrix is the column of channel values at pixel (i, j).
    assert torch.equal(image[0, :, 3, 7], tokens[0, 3 * 25 + 7])


def test_toy_reconstruction_printed_in_notebook():
    tokens = torch.arange(18.0).reshape(1, 6, 3)
    image = Tokens2Token.reconstruct(tokens, (2, 3))
    assert image[0, 0].tolist() == [[0, 3, 6], [9, 12, 15]]
    assert image[0, 2].tolist() == [[2, 5, 8], [11, 14, 17]]


def overlap_by_loops(height, width, k, s, p):
    """How many k x k patches cover each pixel, counted patch by patch."""
    count = np.zeros((height + 2 * p, width + 2 * p))
    new_w, new_h, _ = count_tokens(width, height, k, s, p)
    for i in range(new_h):
        for j in range(new_w):
            count[i * s : i * s + k, j * s : j * s + k] += 1
    return count[p : p + height, p : p + width]


def test_fold_sums_overlaps():
    image = torch.tensor(mountain_at_dusk(), dtype=torch.float32)[None, None]
    unfold = nn.Unfold(7, stride=4, padding=2)
    fold = nn.Fold((60, 100), 7, stride=4, padding=2)
    counts = fold(unfold(torch.ones_like(image)))
    assert np.array_equal(counts[0, 0].numpy(), overlap_by_loops(60, 100, 7, 4, 2))
    assert counts.min() == 1 and counts.max() == 4
    folded = fold(unfold(image))
    assert torch.allclose(folded, image * counts)
    assert not torch.allclose(folded, image)
    assert torch.allclose(folded / counts, image)


def test_reconstruction_figures_and_gif(tmp_path, mountain_tokens):
    torch.manual_seed(0)
    with torch.no_grad():
        tokens = TokenTransformer(49, 64, 1)(mountain_tokens)[0].numpy()
    with pytest.raises(ValueError, match="num_tokens"):
        rf.token_matrix_figure(tokens[:100], (15, 25), 82, [3])
    with pytest.raises(ValueError, match="channels"):
        rf.token_matrix_figure(tokens, (15, 25), 82, [64])
    with pytest.raises(ValueError, match="from 0 to 374"):
        rf.token_matrix_figure(tokens, (15, 25), 375, [3])
    with pytest.raises(ValueError, match="from 0 to 374"):
        rf.channel_stack_figure(tokens.T.reshape(64, 15, 25), -1, [3], 0.0, 1.0)
    frames = rf.reconstruction_frames(tokens, (15, 25), channels=(3, 22))
    assert len(frames) == 3 + 1 + 14 + 1
    assert all((a != b).any() for a, b in zip(frames, frames[1:]))
    path = tmp_path / "reconstruction.gif"
    from helpers.figures.plotting import save_gif

    save_gif(frames, path)
    assert path.stat().st_size < 1.5e6
    with Image.open(path) as gif:
        assert gif.n_frames == len(frames)
