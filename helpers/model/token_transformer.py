"""The Token Transformer: one transformer block whose attention changes the token length."""

from __future__ import annotations

import torch
from torch import nn

from .attention import Attention
from .neuralnet import NeuralNet
from ..checks import token_block_args


class TokenTransformer(nn.Module):
    """norm1 -> attention (``dim`` -> ``chan``, V residual) -> norm2 -> NeuralNet -> residual.

    Shapes: ``(batch, num_tokens, dim) -> (batch, num_tokens, chan)``.
    See :class:`~helpers.model.attention.Attention` for the ``qk_scale`` default.
    """

    def __init__(
        self,
        dim: int,
        chan: int,
        num_heads: int,
        hidden_chan_mul: float = 1.0,
        qkv_bias: bool = False,
        qk_scale: float | None = None,
        act_layer: type[nn.Module] = nn.GELU,
        norm_layer: type[nn.Module] = nn.LayerNorm,
        drop: float = 0.0,
    ) -> None:
        super().__init__()
        dim, chan, hidden_chan = token_block_args(dim, chan, hidden_chan_mul, act_layer, norm_layer, drop)
        self.norm1 = norm_layer(dim)
        self.attn = Attention(dim, chan, num_heads=num_heads, qkv_bias=qkv_bias, qk_scale=qk_scale)
        self.norm2 = norm_layer(chan)
        self.neuralnet = NeuralNet(chan, hidden_chan, chan, act_layer=act_layer, drop=drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.attn(self.norm1(x))
        return x + self.neuralnet(self.norm2(x))
