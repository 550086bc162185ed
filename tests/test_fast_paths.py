"""Notebook 02's aside: the fast Token Transformer (fused attention, FastLinear/oneDNN) gives the
plain algorithm's numbers. The reference here is written with einsum and a loop over heads."""

from __future__ import annotations

import pytest
import torch

from helpers import TokenTransformer, make_fast
from helpers import fast as fast_linear

torch.set_num_threads(1)


def layer_norm(x: torch.Tensor, norm: torch.nn.LayerNorm) -> torch.Tensor:
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + norm.eps) * norm.weight + norm.bias


def linear(x: torch.Tensor, layer: torch.nn.Linear) -> torch.Tensor:
    y = torch.einsum("...i,oi->...o", x, layer.weight)
    return y if layer.bias is None else y + layer.bias


def plain_token_transformer(block: TokenTransformer, x: torch.Tensor) -> torch.Tensor:
    """norm1 -> attention with V residual -> norm2 -> NeuralNet -> residual, one head at a time."""
    attn = block.attn
    heads = attn.num_heads
    chan = heads * attn.head_dim
    width = chan // heads
    qkv = linear(layer_norm(x, block.norm1), attn.qkv)
    q, k, v = qkv[..., :chan], qkv[..., chan : 2 * chan], qkv[..., 2 * chan :]
    outs = []
    for h in range(heads):
        part = slice(h * width, (h + 1) * width)
        scores = torch.einsum("bnc,btc->bnt", q[..., part], k[..., part]) * attn.scale
        weights = torch.exp(scores - scores.amax(-1, keepdim=True))
        weights = weights / weights.sum(-1, keepdim=True)
        outs.append(torch.einsum("bnt,btc->bnc", weights, v[..., part]))
    y = linear(torch.cat(outs, dim=-1), attn.proj) + v
    hidden = linear(layer_norm(y, block.norm2), block.neuralnet.fc1)
    return y + linear(torch.nn.functional.gelu(hidden), block.neuralnet.fc2)


@pytest.mark.parametrize("onednn_everywhere", [False, True], ids=["default", "onednn-everywhere"])
@pytest.mark.parametrize("num_heads", [1, 4])
def test_fast_block_equals_plain_algorithm(onednn_everywhere, num_heads, monkeypatch):
    if onednn_everywhere:  # every FastLinear takes the oneDNN path, whatever its size
        monkeypatch.setattr(fast_linear, "MIN_ONEDNN_MACS", 0)
    torch.manual_seed(num_heads)
    block = make_fast(TokenTransformer(dim=49, chan=64, num_heads=num_heads).eval())
    x = torch.rand(1, 3136, 49)  # T2T's first stage on a 224 x 224 picture, as in the notebook
    with torch.no_grad():
        if onednn_everywhere:
            assert block.attn.qkv._can_use_onednn(x) == torch.backends.mkldnn.is_available()
        torch.testing.assert_close(block(x), plain_token_transformer(block, x), atol=1e-5, rtol=0)


def test_the_notebook_shape_sends_qkv_to_onednn():
    """3136 tokens x 49 x 192 multiply-adds pass the size threshold; the 64 x 64 layers do not."""
    block = make_fast(TokenTransformer(dim=49, chan=64, num_heads=1).eval())
    x = torch.rand(1, 3136, 49)
    with torch.no_grad():
        h = block.norm1(x)
        assert block.attn.qkv._can_use_onednn(h) == torch.backends.mkldnn.is_available()
        assert not block.attn.proj._can_use_onednn(torch.rand(1, 3136, 64))
        assert 3136 * 49 * 192 >= fast_linear.MIN_ONEDNN_MACS > 3136 * 64 * 64
