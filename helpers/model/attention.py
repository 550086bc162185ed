"""Multi-head attention that may change the token length (T2T's token attention)."""

import torch
import torch.nn.functional as F
from torch import nn

from .fast_linear import FastLinear
from .tracing import is_tracing
from ..checks import boolean, heads_divide, optional_positive_float, positive_int, probability, tensor_size


@torch.jit.unused
def check_tokens(x: torch.Tensor, dim: int, who: str) -> None:
    """Raise ``ValueError`` unless ``x`` is ``(batch, num_tokens, dim)`` (eager mode only)."""
    if x.ndim != 3 or x.shape[-1] != dim:
        raise ValueError(
            f"{who} expects tokens of shape (batch, num_tokens, {dim}), got "
            f"{tuple(x.shape)}; the last axis must be the token length dim={dim}."
        )


class Attention(nn.Module):
    """Multi-head scaled dot-product attention from token length ``dim`` to ``chan``.

    Shapes: ``(batch, num_tokens, dim) -> (batch, num_tokens, chan)``.

    Queries, keys and values are projected to ``chan`` channels and split into ``num_heads``
    heads of ``chan // num_heads`` channels each. In T2T the token length changes, so ``x``
    itself cannot be added back; with ``v_residual=True`` (the default) the values ``V`` are
    the skip connection instead. Encoder blocks use ``v_residual=False`` and add ``x`` outside.

    Scale: by default the scores are scaled by ``(chan // num_heads) ** -0.5``, the standard
    choice (the length of the vectors in each dot product). The official T2T-ViT code scales
    the token attention by ``(dim // num_heads) ** -0.5`` instead; pass that number as
    ``qk_scale`` to reproduce it (the model zoo does so for the official variants).
    """

    def __init__(
        self,
        dim: int,
        chan: int,
        num_heads: int = 1,
        qkv_bias: bool = False,
        qk_scale: float | None = None,
        v_residual: bool = True,
        attn_drop: float = 0.0,
        proj_drop: float = 0.0,
    ) -> None:
        super().__init__()
        dim = positive_int("dim", dim, "dim=49")
        chan, num_heads = heads_divide(chan, num_heads)
        boolean("qkv_bias", qkv_bias)
        boolean("v_residual", v_residual)
        qk_scale = optional_positive_float("qk_scale", qk_scale)
        probability("attn_drop", attn_drop)
        probability("proj_drop", proj_drop)
        tensor_size("the qkv weight (3 * chan x dim)", (3 * chan, dim), "use a smaller chan or token length")
        self.dim = dim
        self.chan = chan
        self.num_heads = num_heads
        self.head_dim = chan // num_heads
        self.scale = qk_scale if qk_scale is not None else self.head_dim**-0.5
        self.v_residual = v_residual
        self.qkv = FastLinear(dim, chan * 3, bias=qkv_bias)  # an nn.Linear, see fast_linear.py
        self.attn_drop = attn_drop
        self.proj = FastLinear(chan, chan)
        self.proj_drop = nn.Dropout(proj_drop)

    def split_heads(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(B, N, dim) -> q, k, v``, each ``(B, num_heads, N, chan // num_heads)``."""
        batch, num_tokens, _ = x.shape
        qkv = self.qkv(x).reshape(batch, num_tokens, 3, self.num_heads, self.head_dim)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        return q, k, v

    def attention_weights(self, x: torch.Tensor) -> torch.Tensor:
        """The softmax matrix, ``(B, num_heads, N, N)``; for plots, not used by ``forward``."""
        q, k, _ = self.split_heads(x)
        return ((q @ k.transpose(-2, -1)) * self.scale).softmax(dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not torch.jit.is_scripting() and not is_tracing():
            check_tokens(x, self.dim, "Attention")
        batch, num_tokens, _ = x.shape
        q, k, v = self.split_heads(x)
        drop = self.attn_drop if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=drop, scale=self.scale)
        y = self.proj_drop(self.proj(y.transpose(1, 2).reshape(batch, num_tokens, self.chan)))
        if self.v_residual:
            y = y + v.transpose(1, 2).reshape(batch, num_tokens, self.chan)
        return y
