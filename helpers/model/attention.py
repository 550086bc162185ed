"""Multi-head attention that may change the token length (T2T's token attention)."""

import torch
import torch.nn.functional as F
from torch import nn

from .. import checks


@checks.checked(checks.attention_args, checks.token_input)
class Attention(nn.Module):
    """Multi-head attention from token length ``dim`` to ``chan``: ``(B, N, dim) -> (B, N, chan)``.

    With ``v_residual`` (T2T's token attention) the values V are the skip connection, since the
    token length changes; encoder blocks pass ``v_residual=False`` and add ``x`` outside.
    ``qk_scale`` defaults to ``(chan // num_heads) ** -0.5``. ``fused`` picks one torch kernel
    for the same formula; ``fused=False`` runs the formula step by step.
    """

    def __init__(
        self, dim: int, chan: int, num_heads: int = 1, qkv_bias: bool = False, qk_scale: float | None = None,
        v_residual: bool = True, attn_drop: float = 0.0, proj_drop: float = 0.0, fused: bool = True,
    ) -> None:  # fmt: skip
        super().__init__()
        self.num_heads, self.head_dim = num_heads, chan // num_heads
        self.scale = qk_scale or self.head_dim**-0.5
        self.v_residual, self.fused = v_residual, fused
        self.qkv = nn.Linear(dim, 3 * chan, bias=qkv_bias)
        self.attn_drop = nn.Dropout(attn_drop)
        self.proj = nn.Linear(chan, chan)
        self.proj_drop = nn.Dropout(proj_drop)

    def split_heads(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(B, N, dim) -> q, k, v``, each ``(B, num_heads, N, head_dim)``."""
        qkv = self.qkv(x).reshape(x.shape[0], x.shape[1], 3, self.num_heads, self.head_dim)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        return q, k, v

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = self.split_heads(x)
        if self.fused:  # the same formula in one kernel, without storing the N x N matrix
            drop = self.attn_drop.p if self.training else 0.0
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=drop, scale=self.scale)
        else:
            attn = (q @ k.transpose(-2, -1) * self.scale).softmax(dim=-1)  # (B, heads, N, N)
            y = self.attn_drop(attn) @ v
        y = self.proj_drop(self.proj(y.transpose(1, 2).flatten(2)))  # heads side by side: (B, N, chan)
        return y + v.transpose(1, 2).flatten(2) if self.v_residual else y
