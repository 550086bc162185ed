"""Performer token attention: softmax attention approximated with positive random features."""

import math

import torch
from torch import nn

from .attention import check_tokens
from .fast_linear import FastLinear
from .neuralnet import NeuralNet
from .tracing import is_tracing
from ..checks import boolean, positive_int, probability, scaled_width, tensor_size, token_block_args


class PerformerAttention(nn.Module):
    """Linear-cost attention from token length ``dim`` to ``chan`` (one head).

    Shapes: ``(batch, num_tokens, dim) -> (batch, num_tokens, chan)``.

    With ``m = int(chan * kernel_ratio)`` random features
    ``phi(x) = exp(W x - |x|^2 / 2) / sqrt(m)`` and ``y = phi(Q) (phi(K)^T V) / (phi(Q) .
    sum_t phi(K_t) + eps)``, no ``N x N`` matrix is ever formed. For Gaussian rows of ``W``,
    ``E[phi(q) . phi(k)] = exp(q . k)`` and ``y`` approximates ``softmax(Q K^T) V``. Like the
    official code, ``W`` here has orthogonal rows scaled by ``sqrt(m)``; with ``m < chan``
    they are shorter than Gaussian rows, so the features estimate a softer kernel than
    ``exp(q . k)`` (notebook 02 measures this). ``W`` is a buffer: saved with the weights, never trained.
    As in :class:`~helpers.model.attention.Attention`, ``V`` is the skip connection.
    """

    eps = 1e-8
    __constants__ = ["eps"]  # TorchScript reads the class attribute as a constant

    def __init__(
        self,
        dim: int,
        chan: int,
        kernel_ratio: float = 0.5,
        qkv_bias: bool = True,
        proj_drop: float = 0.0,
    ) -> None:
        super().__init__()
        dim, chan = positive_int("dim", dim, "dim=49"), positive_int("chan", chan, "chan=64")
        boolean("qkv_bias", qkv_bias)
        probability("proj_drop", proj_drop)
        tensor_size("the qkv weight (3 * chan x dim)", (3 * chan, dim), "use a smaller chan or token length")
        self.dim = dim
        self.chan = chan
        self.num_features = scaled_width("kernel_ratio", kernel_ratio, "chan", chan)  # int(chan * kernel_ratio)
        tensor_size("the random features w", (self.num_features, chan), "use a smaller kernel_ratio")
        self.qkv = FastLinear(dim, chan * 3, bias=qkv_bias)  # an nn.Linear, see fast_linear.py
        self.proj = FastLinear(chan, chan)
        self.proj_drop = nn.Dropout(proj_drop)
        w = nn.init.orthogonal_(torch.empty(self.num_features, chan)) * math.sqrt(self.num_features)
        self.register_buffer("w", w)  # saved in the state dict (key "attn.w"), never trained

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Positive random features ``phi(x)``: ``(B, N, chan) -> (B, N, m)``."""
        half_sq_norm = 0.5 * (x * x).sum(dim=-1, keepdim=True)
        return torch.exp(x @ self.w.t() - half_sq_norm) / math.sqrt(self.num_features)

    def split_qkv(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(B, N, dim) -> q, k, v``, each ``(B, N, chan)``."""
        q, k, v = self.qkv(x).split(self.chan, dim=-1)
        return q, k, v

    def attention_weights(self, x: torch.Tensor) -> torch.Tensor:
        """The implied ``(B, N, N)`` attention matrix; for plots only (quadratic memory)."""
        q, k, _ = self.split_qkv(x)
        scores = self.features(q) @ self.features(k).transpose(1, 2)
        return scores / (scores.sum(dim=-1, keepdim=True) + self.eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not torch.jit.is_scripting() and not is_tracing():
            check_tokens(x, self.dim, "PerformerAttention")
        q, k, v = self.split_qkv(x)
        q_feat, k_feat = self.features(q), self.features(k)
        kv = k_feat.transpose(1, 2) @ v  # (B, m, chan): summed over tokens once
        normaliser = q_feat @ k_feat.sum(dim=1, keepdim=True).transpose(1, 2)  # (B, N, 1)
        y = (q_feat @ kv) / (normaliser + self.eps)
        return v + self.proj_drop(self.proj(y))


class TokenPerformer(nn.Module):
    """The Performer version of :class:`~helpers.model.token_transformer.TokenTransformer`.

    norm1 -> Performer attention (``dim`` -> ``chan``, V residual) -> norm2 -> NeuralNet ->
    residual. Shapes: ``(batch, num_tokens, dim) -> (batch, num_tokens, chan)``.
    """

    def __init__(
        self,
        dim: int,
        chan: int,
        kernel_ratio: float = 0.5,
        hidden_chan_mul: float = 1.0,
        qkv_bias: bool = True,
        act_layer: type[nn.Module] = nn.GELU,
        norm_layer: type[nn.Module] = nn.LayerNorm,
        drop: float = 0.0,
    ) -> None:
        super().__init__()
        dim, chan, hidden_chan = token_block_args(dim, chan, hidden_chan_mul, act_layer, norm_layer, drop)
        self.norm1 = norm_layer(dim)
        self.attn = PerformerAttention(dim, chan, kernel_ratio=kernel_ratio, qkv_bias=qkv_bias, proj_drop=drop)
        self.norm2 = norm_layer(chan)
        self.neuralnet = NeuralNet(chan, hidden_chan, chan, act_layer=act_layer, drop=drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.attn(self.norm1(x))
        return x + self.neuralnet(self.norm2(x))
