"""The ViT backbone: prediction token, fixed sinusoidal positions, encoding blocks, head."""

from __future__ import annotations

import numpy as np
import torch
from timm.layers import DropPath
from torch import nn
from torch.utils.checkpoint import checkpoint

from .attention import Attention
from .neuralnet import NeuralNet
from ..checks import (
    MAX_DEPTH,
    heads_divide,
    layer_class,
    non_negative_int,
    positive_int,
    probability,
    scaled_width,
    tensor_size,
)


def sinusoid_table(num_rows: int, width: int) -> torch.Tensor:
    """Fixed position embedding, ``(1, num_rows, width)``.

    Row ``pos``, column ``j`` holds ``pos / 10000 ** (2 * (j // 2) / width)`` passed through
    ``sin`` for even ``j`` and ``cos`` for odd ``j``; computed in float64, returned as float32.
    """
    pos = np.arange(num_rows, dtype=np.float64)[:, None]
    j = np.arange(width)
    angles = pos / np.power(10000, 2 * (j // 2) / width)[None, :]
    table = np.where(j % 2 == 0, np.sin(angles), np.cos(angles))
    return torch.from_numpy(table).float().unsqueeze(0)


class EncodingBlock(nn.Module):
    """A standard pre-norm transformer block: ``x + attn(norm1(x))``, ``x + mlp(norm2(x))``.

    Shapes: ``(batch, num_tokens, dim) -> (batch, num_tokens, dim)``.
    """

    def __init__(
        self,
        dim: int,
        num_heads: int,
        hidden_chan_mul: float = 4.0,
        qkv_bias: bool = False,
        qk_scale: float | None = None,
        act_layer: type[nn.Module] = nn.GELU,
        norm_layer: type[nn.Module] = nn.LayerNorm,
        drop: float = 0.0,
        attn_drop: float = 0.0,
        drop_path: float = 0.0,
    ) -> None:
        super().__init__()
        dim = positive_int("dim", dim, "dim=768")
        tensor_size("the qkv weight (3 * dim x dim)", (3 * dim, dim), "use a smaller dim")
        hidden_chan = scaled_width("hidden_chan_mul", hidden_chan_mul, "dim", dim)
        layer_class("act_layer", act_layer, "act_layer=nn.GELU")
        layer_class("norm_layer", norm_layer, "norm_layer=nn.LayerNorm")
        probability("drop_path", drop_path)
        self.norm1 = norm_layer(dim)
        self.attn = Attention(
            dim, dim, num_heads, qkv_bias, qk_scale, v_residual=False, attn_drop=attn_drop, proj_drop=drop
        )
        self.norm2 = norm_layer(dim)
        self.neuralnet = NeuralNet(dim, hidden_chan, dim, act_layer=act_layer, drop=drop)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.drop_path(self.attn(self.norm1(x)))
        return x + self.drop_path(self.neuralnet(self.norm2(x)))


class ViTBackbone(nn.Module):
    """Prediction token + position embedding -> ``depth`` encoding blocks -> norm -> head.

    Shapes: tokens ``(batch, num_tokens, token_len)`` -> predictions ``(batch, preds)``.
    The position embedding ``pos_embed`` (``1 x (num_tokens + 1) x token_len``) is a fixed
    sinusoid, so it is a buffer recomputed from the sizes, never trained or saved.
    """

    def __init__(
        self,
        num_tokens: int,
        token_len: int = 768,
        preds: int = 1,
        num_heads: int = 1,
        hidden_chan_mul: float = 4.0,
        depth: int = 12,
        qkv_bias: bool = False,
        qk_scale: float | None = None,
        act_layer: type[nn.Module] = nn.GELU,
        norm_layer: type[nn.Module] = nn.LayerNorm,
        drop_rate: float = 0.0,
        attn_drop_rate: float = 0.0,
        drop_path_rate: float = 0.0,
    ) -> None:
        super().__init__()
        depth = non_negative_int("depth", depth, "depth=12 (0 gives no encoding blocks)")
        if depth > MAX_DEPTH:
            raise ValueError(
                f"depth={depth} encoding blocks is far more than any ViT uses (the paper's deepest has 24); "
                f"use a depth of at most {MAX_DEPTH}."
            )
        preds = non_negative_int("preds", preds, "preds=10 (0 gives no head, only features)")
        num_tokens = positive_int("num_tokens", num_tokens, "num_tokens=196")
        token_len = positive_int("token_len", token_len, "token_len=768")
        heads_divide(token_len, num_heads, "token_len")
        hidden = scaled_width("hidden_chan_mul", hidden_chan_mul, "token_len", token_len)
        layer_class("act_layer", act_layer, "act_layer=nn.GELU")
        layer_class("norm_layer", norm_layer, "norm_layer=nn.LayerNorm")
        for name, rate in (("drop_rate", drop_rate), ("attn_drop_rate", attn_drop_rate)):
            probability(name, rate)
        probability("drop_path_rate", drop_path_rate)
        tensor_size(
            "the position table pos_embed (num_tokens + 1 x token_len)",
            (num_tokens + 1, token_len),
            "use a smaller image, larger soft split strides or a shorter token_len",
        )
        per_block = 4 * token_len + 2 * hidden  # qkv, proj and the two NeuralNet weights, per row of token_len
        tensor_size("the weights of the encoding blocks", (depth, token_len, per_block), "use a smaller depth")
        tensor_size("the head weight (preds x token_len)", (preds, token_len), "use fewer preds")
        self.num_tokens = num_tokens
        self.token_len = token_len
        self.cls_token = nn.Parameter(torch.zeros(1, 1, token_len))
        table = sinusoid_table(num_tokens + 1, token_len).to(self.cls_token.device)  # "meta" too
        self.register_buffer("pos_embed", table, persistent=False)
        self.pos_drop = nn.Dropout(drop_rate)
        # Stochastic depth grows linearly from 0 to drop_path_rate over the blocks.
        rates = [drop_path_rate * i / max(depth - 1, 1) for i in range(depth)]
        self.blocks = nn.ModuleList(
            EncodingBlock(
                token_len,
                num_heads,
                hidden_chan_mul,
                qkv_bias,
                qk_scale,
                act_layer,
                norm_layer,
                drop_rate,
                attn_drop_rate,
                rate,
            )
            for rate in rates
        )
        self.norm = norm_layer(token_len)
        self.head = nn.Linear(token_len, preds) if preds > 0 else nn.Identity()
        self.grad_checkpointing = False  # recompute each block in backward to save memory (timm's switch)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, N, D) -> (B, N + 1, D)``: prepend the prediction token, add positions."""
        x = torch.cat((self.cls_token.expand(x.shape[0], -1, -1), x), dim=1)
        return self.pos_drop(x + self.pos_embed)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, N, D) -> (B, N + 1, D)``: prepend the prediction token, add positions, encode."""
        x = self.embed(x)
        for block in self.blocks:
            if self.grad_checkpointing and not torch.jit.is_scripting():
                x = checkpoint(block, x, use_reentrant=False)
            else:
                x = block(x)
        return self.norm(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.forward_features(x)[:, 0])
