"""The ViT backbone: prediction token, fixed sinusoidal positions, encoding blocks, head."""

import torch
from timm.layers import DropPath
from torch import nn

from .. import checks
from .attention import Attention
from .neuralnet import NeuralNet


@checks.checked(checks.sinusoid_table_args)
def sinusoid_table(num_rows: int, width: int, first_row: int = 0) -> torch.Tensor:
    """Fixed position embedding ``(1, num_rows, width)`` for positions ``first_row, first_row + 1, ...``.

    Row ``pos``, column ``j`` holds ``pos / 10000 ** (2 * (j // 2) / width)`` through ``sin`` for
    even ``j`` and ``cos`` for odd ``j``; computed in float64 in place, returned as float32.
    """
    pos = torch.arange(first_row, first_row + num_rows, dtype=torch.float64)[:, None]
    angles = pos / 10000 ** (torch.arange(width, dtype=torch.float64) // 2 * 2 / width)
    angles[:, 0::2].sin_()
    angles[:, 1::2].cos_()
    return angles.float()[None]


@checks.checked(checks.encoding_block_args, checks.token_input)
class EncodingBlock(nn.Module):
    """A pre-norm transformer block, ``x + attn(norm1(x))`` then ``x + mlp(norm2(x))``: ``(B, N, dim)``."""

    def __init__(
        self, dim: int, num_heads: int, hidden_chan_mul: float = 4.0, qkv_bias: bool = False,
        qk_scale: float | None = None, act_layer: type[nn.Module] = nn.GELU,
        norm_layer: type[nn.Module] = nn.LayerNorm, drop: float = 0.0, attn_drop: float = 0.0, drop_path: float = 0.0,
    ) -> None:  # fmt: skip
        super().__init__()
        self.norm1 = norm_layer(dim)
        self.attn = Attention(
            dim, dim, num_heads=num_heads, qkv_bias=qkv_bias, qk_scale=qk_scale, v_residual=False,
            attn_drop=attn_drop, proj_drop=drop,
        )  # fmt: skip
        self.norm2 = norm_layer(dim)
        self.neuralnet = NeuralNet(dim, int(dim * hidden_chan_mul), dim, act_layer=act_layer, drop=drop)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.drop_path(self.attn(self.norm1(x)))
        return x + self.drop_path(self.neuralnet(self.norm2(x)))


@checks.checked(checks.vit_backbone_args, checks.token_input)
class ViTBackbone(nn.Module):
    """Prediction token + positions -> ``depth`` encoding blocks -> norm -> head: ``(B, N, D) -> (B, preds)``.

    The position embedding ``pos_embed`` (``1 x (N + 1) x D``) is a fixed sinusoid: a buffer, never
    trained or saved.
    """

    def __init__(
        self, num_tokens: int, token_len: int = 768, preds: int = 1, num_heads: int = 1, hidden_chan_mul: float = 4.0,
        depth: int = 12, qkv_bias: bool = False, qk_scale: float | None = None, act_layer: type[nn.Module] = nn.GELU,
        norm_layer: type[nn.Module] = nn.LayerNorm, drop_rate: float = 0.0, attn_drop_rate: float = 0.0,
        drop_path_rate: float = 0.0,
    ) -> None:  # fmt: skip
        super().__init__()
        self.cls_token = nn.Parameter(torch.zeros(1, 1, token_len))
        table = sinusoid_table(num_tokens + 1, token_len).to(self.cls_token.device)
        self.register_buffer("pos_embed", table, persistent=False)
        self.pos_drop = nn.Dropout(drop_rate)
        rates = [drop_path_rate * i / max(depth - 1, 1) for i in range(depth)]  # stochastic depth: 0 -> rate
        self.blocks = nn.ModuleList(
            EncodingBlock(
                token_len, num_heads, hidden_chan_mul=hidden_chan_mul, qkv_bias=qkv_bias, qk_scale=qk_scale,
                act_layer=act_layer, norm_layer=norm_layer, drop=drop_rate, attn_drop=attn_drop_rate, drop_path=rate,
            )
            for rate in rates
        )  # fmt: skip
        self.norm = norm_layer(token_len)
        self.head = nn.Linear(token_len, preds) if preds > 0 else nn.Identity()

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, N, D) -> (B, N + 1, D)``: prepend the prediction token, add the positions."""
        x = torch.cat((self.cls_token.expand(x.shape[0], -1, -1), x), dim=1)
        return self.pos_drop(x + self.pos_embed)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.embed(x)
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x)[:, 0])  # read the prediction token
