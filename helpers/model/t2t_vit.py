"""T2T-ViT: the Tokens-to-Token module followed by a ViT backbone."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from timm.layers import trunc_normal_
from torch import nn

from .backbone import ViTBackbone
from .tokens2token import Tokens2Token, check_image
from .validation import (
    heads_divide,
    non_negative_int,
    optional_positive_float,
    positive_float,
    positive_int,
    probability,
)


class T2TViT(nn.Module):
    """Image ``(batch, C, H, W)`` -> predictions ``(batch, preds)``.

    The defaults are the article's: a 1 x 1700 x 500 image, soft split kernels (31, 3, 3),
    one prediction. ``num_heads`` is used by both parts unless ``t2t_num_heads`` is given;
    ``qk_scale`` sets the backbone's scale and ``t2t_qk_scale`` the token attention's
    (see :class:`~helpers.model.attention.Attention` for the defaults). ``token_module`` picks
    ``"transformer"`` or ``"performer"`` for the T2T module.
    """

    def __init__(
        self,
        img_size: Sequence[int] = (1, 1700, 500),
        softsplit_kernels: Sequence[int] = (31, 3, 3),
        preds: int = 1,
        token_len: int = 768,
        token_chan: int = 64,
        num_heads: int = 1,
        t2t_hidden_chan_mul: float = 1.0,
        encoding_hidden_chan_mul: float = 4.0,
        depth: int = 12,
        qkv_bias: bool = False,
        qk_scale: float | None = None,
        act_layer: type[nn.Module] = nn.GELU,
        norm_layer: type[nn.Module] = nn.LayerNorm,
        token_module: str = "transformer",
        t2t_num_heads: int | None = None,
        t2t_qk_scale: float | None = None,
        softsplit_strides: Sequence[int] | None = None,
        softsplit_paddings: Sequence[int] | None = None,
        t2t_drop: float = 0.0,
        drop_rate: float = 0.0,
        attn_drop_rate: float = 0.0,
        drop_path_rate: float = 0.0,
    ) -> None:
        super().__init__()
        # Checked here under this constructor's names; Tokens2Token checks img_size and the soft splits.
        preds = non_negative_int("preds", preds, "preds=10 (0 gives no head, only features)")
        heads_divide(token_len, num_heads, "token_len")  # the encoding blocks' heads
        if t2t_num_heads is not None:
            positive_int("t2t_num_heads", t2t_num_heads, "t2t_num_heads=1, or None to use num_heads")
        if token_module == "transformer":  # the Performer has no heads
            t2t_heads = ("num_heads", num_heads) if t2t_num_heads is None else ("t2t_num_heads", t2t_num_heads)
            heads_divide(token_chan, t2t_heads[1], "token_chan", t2t_heads[0])
        for name, value in (
            ("t2t_hidden_chan_mul", t2t_hidden_chan_mul),
            ("encoding_hidden_chan_mul", encoding_hidden_chan_mul),
        ):
            positive_float(name, value, f"{name}=2.0")
        non_negative_int("depth", depth, "depth=12 (0 gives no encoding blocks)")
        optional_positive_float("qk_scale", qk_scale)
        optional_positive_float("t2t_qk_scale", t2t_qk_scale)
        for name, rate in (("t2t_drop", t2t_drop), ("drop_rate", drop_rate), ("attn_drop_rate", attn_drop_rate)):
            probability(name, rate)
        probability("drop_path_rate", drop_path_rate)
        self.tokens2token = Tokens2Token(
            img_size=img_size,
            softsplit_kernels=softsplit_kernels,
            num_heads=num_heads if t2t_num_heads is None else t2t_num_heads,
            token_chan=token_chan,
            token_len=token_len,
            hidden_chan_mul=t2t_hidden_chan_mul,
            qkv_bias=qkv_bias,
            qk_scale=t2t_qk_scale,
            act_layer=act_layer,
            norm_layer=norm_layer,
            token_module=token_module,
            softsplit_strides=softsplit_strides,
            softsplit_paddings=softsplit_paddings,
            drop=t2t_drop,
        )
        self.img_size = self.tokens2token.img_size
        self.num_tokens = self.tokens2token.num_tokens
        self.token_len = token_len
        self.num_classes = preds
        self.num_features = token_len
        self.backbone = ViTBackbone(
            num_tokens=self.num_tokens,
            token_len=token_len,
            preds=preds,
            num_heads=num_heads,
            hidden_chan_mul=encoding_hidden_chan_mul,
            depth=depth,
            qkv_bias=qkv_bias,
            qk_scale=qk_scale,
            act_layer=act_layer,
            norm_layer=norm_layer,
            drop_rate=drop_rate,
            attn_drop_rate=attn_drop_rate,
            drop_path_rate=drop_path_rate,
        )
        trunc_normal_(self.backbone.cls_token, std=0.02)
        self.apply(self._init_weights)

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        """Linear: truncated normal (std 0.02), zero bias. LayerNorm: weight 1, bias 0."""
        if isinstance(module, nn.Linear):
            trunc_normal_(module.weight, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.LayerNorm):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)

    @torch.jit.ignore
    def no_weight_decay(self) -> set[str]:
        """Parameter names that an optimiser should not decay: the prediction token."""
        return {"backbone.cls_token"}

    def get_classifier(self) -> nn.Module:
        return self.backbone.head

    def reset_classifier(self, num_classes: int, global_pool: str | None = None) -> None:
        """Replace the head with a fresh one for ``num_classes`` outputs (0 for none)."""
        self.num_classes = num_classes
        head = nn.Linear(self.token_len, num_classes) if num_classes > 0 else nn.Identity()
        self._init_weights(head)
        self.backbone.head = head

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, H, W) -> (B, num_tokens + 1, token_len)``, after the final norm."""
        check_image(x, self.img_size, "T2TViT")
        return self.backbone.forward_features(self.tokens2token(x))

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """``(B, num_tokens + 1, token_len) -> (B, preds)`` from the prediction token."""
        x = x[:, 0]
        return x if pre_logits else self.backbone.head(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))
