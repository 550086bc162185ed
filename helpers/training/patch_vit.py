"""The plain ViT baseline: non-overlapping patches, one linear map, then the same backbone."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from timm.layers import trunc_normal_
from torch import nn

from .. import checks
from ..model.backbone import ViTBackbone
from ..model.t2t_vit import T2TViT


@checks.checked(checks.patch_embed_args, checks.image_input)
class PatchEmbed(nn.Module):
    """Cut the image into ``patch_size x patch_size`` tiles that do not overlap; project each.

    Shapes: ``(batch, C, H, W) -> (batch, (H / patch_size) * (W / patch_size), token_len)``.
    It is a soft split with ``k = s = patch_size`` and ``p = 0`` followed by a linear layer,
    which is exactly what a strided convolution computes.
    """

    def __init__(self, img_size: Sequence[int] = (1, 32, 32), patch_size: int = 8, token_len: int = 64) -> None:
        super().__init__()
        self.img_size = tuple(img_size)
        chans, height, width = self.img_size
        self.grid = (height // patch_size, width // patch_size)
        self.num_tokens = self.grid[0] * self.grid[1]
        self.split = nn.Unfold(patch_size, stride=patch_size, padding=0)
        self.project = nn.Linear(chans * patch_size**2, token_len)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.project(self.split(x).transpose(1, 2))


@checks.checked(checks.patch_vit_args, checks.image_input)
class PatchViT(nn.Module):
    """Image ``(batch, C, H, W)`` -> predictions ``(batch, preds)`` via plain patch tokens.

    The same :class:`~helpers.model.backbone.ViTBackbone` and weight initialisation as
    :class:`~helpers.model.t2t_vit.T2TViT`; only the tokenizer differs (:class:`PatchEmbed` instead of
    :class:`~helpers.model.tokens2token.Tokens2Token`), so a comparison isolates the tokenizer.
    """

    def __init__(
        self,
        img_size: Sequence[int] = (1, 32, 32),
        patch_size: int = 8,
        preds: int = 10,
        token_len: int = 64,
        num_heads: int = 4,
        hidden_chan_mul: float = 2.0,
        depth: int = 4,
        qkv_bias: bool = False,
        qk_scale: float | None = None,
        drop_rate: float = 0.0,
        attn_drop_rate: float = 0.0,
        drop_path_rate: float = 0.0,
    ) -> None:
        super().__init__()
        self.patch_embed = PatchEmbed(img_size, patch_size, token_len)
        self.img_size = self.patch_embed.img_size
        self.num_tokens = self.patch_embed.num_tokens
        self.token_len = token_len
        self.backbone = ViTBackbone(
            num_tokens=self.num_tokens,
            token_len=token_len,
            preds=preds,
            num_heads=num_heads,
            hidden_chan_mul=hidden_chan_mul,
            depth=depth,
            qkv_bias=qkv_bias,
            qk_scale=qk_scale,
            drop_rate=drop_rate,
            attn_drop_rate=attn_drop_rate,
            drop_path_rate=drop_path_rate,
        )
        trunc_normal_(self.backbone.cls_token, std=0.02)
        self.apply(T2TViT._init_weights)  # the same initialisation as T2TViT

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.backbone(self.patch_embed(x))
