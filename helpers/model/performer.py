"""Performer token attention: softmax attention approximated with positive random features."""

import math

import torch
from torch import nn

from .. import checks
from .neuralnet import NeuralNet


@checks.checked(checks.performer_attention_args, checks.token_input)
class PerformerAttention(nn.Module):
    """Attention at linear cost, from token length ``dim`` to ``chan``: ``(B, N, dim) -> (B, N, chan)``.

    With ``m = int(chan * kernel_ratio)`` features ``phi(x) = exp(W x - |x|^2 / 2) / sqrt(m)``,
    ``y = phi(Q) (phi(K)^T V) / (phi(Q) sum_t phi(K_t) + eps)`` approximates ``softmax(Q K^T) V``
    without an N x N matrix. ``W`` has orthogonal rows of length sqrt(m): a buffer, never trained.
    """

    def __init__(
        self, dim: int, chan: int, kernel_ratio: float = 0.5, qkv_bias: bool = True, proj_drop: float = 0.0
    ) -> None:
        super().__init__()
        self.chan, self.num_features, self.eps = chan, int(chan * kernel_ratio), 1e-8
        self.qkv = nn.Linear(dim, 3 * chan, bias=qkv_bias)
        self.proj = nn.Linear(chan, chan)
        self.proj_drop = nn.Dropout(proj_drop)
        w = nn.init.orthogonal_(torch.empty(self.num_features, chan)) * math.sqrt(self.num_features)
        self.register_buffer("w", w)  # saved with the weights (key "attn.w"), never trained

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """``phi(x)``: ``(B, N, chan) -> (B, N, m)``, all positive."""
        return torch.exp(x @ self.w.t() - 0.5 * (x * x).sum(-1, keepdim=True)) / math.sqrt(self.num_features)

    def kernel_weights(self, q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
        """The ``(B, N, N)`` attention matrix the features stand for (forward never builds it)."""
        scores = self.features(q) @ self.features(k).transpose(1, 2)
        return scores / (scores.sum(dim=-1, keepdim=True) + self.eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = self.qkv(x).split(self.chan, dim=-1)
        q, k = self.features(q), self.features(k)  # (B, N, m)
        kv = k.transpose(1, 2) @ v  # (B, m, chan): summed over the tokens once
        normaliser = q @ k.sum(dim=1, keepdim=True).transpose(1, 2)  # (B, N, 1)
        return v + self.proj_drop(self.proj((q @ kv) / (normaliser + self.eps)))


@checks.checked(checks.token_performer_args, checks.token_input)
class TokenPerformer(nn.Module):
    """:class:`TokenTransformer` with Performer attention: ``(B, N, dim) -> (B, N, chan)``."""

    def __init__(
        self, dim: int, chan: int, kernel_ratio: float = 0.5, hidden_chan_mul: float = 1.0, qkv_bias: bool = True,
        act_layer: type[nn.Module] = nn.GELU, norm_layer: type[nn.Module] = nn.LayerNorm, drop: float = 0.0,
    ) -> None:  # fmt: skip
        super().__init__()
        self.norm1 = norm_layer(dim)
        self.attn = PerformerAttention(dim, chan, kernel_ratio=kernel_ratio, qkv_bias=qkv_bias, proj_drop=drop)
        self.norm2 = norm_layer(chan)
        self.neuralnet = NeuralNet(chan, int(chan * hidden_chan_mul), chan, act_layer=act_layer, drop=drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.attn(self.norm1(x))
        return x + self.neuralnet(self.norm2(x))
