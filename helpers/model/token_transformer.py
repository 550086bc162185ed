"""The Token Transformer: one transformer block whose attention changes the token length."""

import torch
from torch import nn

from .. import checks
from .attention import Attention
from .neuralnet import NeuralNet


@checks.checked(checks.token_transformer_args, checks.token_input)
class TokenTransformer(nn.Module):
    """norm1 -> attention (``dim`` -> ``chan``, V residual) -> norm2 -> NeuralNet -> residual.

    Shapes: ``(B, N, dim) -> (B, N, chan)``.
    """

    def __init__(
        self, dim: int, chan: int, num_heads: int, hidden_chan_mul: float = 1.0, qkv_bias: bool = False,
        qk_scale: float | None = None, act_layer: type[nn.Module] = nn.GELU,
        norm_layer: type[nn.Module] = nn.LayerNorm, drop: float = 0.0,
    ) -> None:  # fmt: skip
        super().__init__()
        self.norm1 = norm_layer(dim)
        self.attn = Attention(dim, chan, num_heads=num_heads, qkv_bias=qkv_bias, qk_scale=qk_scale)
        self.norm2 = norm_layer(chan)
        self.neuralnet = NeuralNet(chan, int(chan * hidden_chan_mul), chan, act_layer=act_layer, drop=drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.attn(self.norm1(x))
        return x + self.neuralnet(self.norm2(x))
