"""T2T-ViT: the Tokens-to-Token module followed by a ViT backbone."""

from collections.abc import Sequence

import torch
from timm.layers import trunc_normal_
from torch import nn

from .. import checks
from .backbone import ViTBackbone
from .tokens2token import Tokens2Token


@checks.checked(checks.t2t_vit_args, checks.image_input)
class T2TViT(nn.Module):
    """Image ``(B, C, H, W)`` -> predictions ``(B, preds)``: the T2T module, then a ViT backbone.

    The defaults are the article's: a 1 x 1700 x 500 image, soft split kernels (31, 3, 3), one
    prediction. ``t2t_*`` arguments are the T2T module's; ``num_heads`` serves both parts
    unless ``t2t_num_heads`` is given.
    """

    def __init__(
        self, img_size: Sequence[int] = (1, 1700, 500), softsplit_kernels: Sequence[int] = (31, 3, 3),
        preds: int = 1, token_len: int = 768, token_chan: int = 64, num_heads: int = 1,
        t2t_hidden_chan_mul: float = 1.0, encoding_hidden_chan_mul: float = 4.0, depth: int = 12,
        qkv_bias: bool = False, qk_scale: float | None = None, act_layer: type[nn.Module] = nn.GELU,
        norm_layer: type[nn.Module] = nn.LayerNorm, token_module: str = "transformer",
        t2t_num_heads: int | None = None, t2t_qk_scales: tuple[float | None, float | None] = (None, None),
        softsplit_strides: Sequence[int] | None = None, softsplit_paddings: Sequence[int] | None = None,
        t2t_drop: float = 0.0, drop_rate: float = 0.0, attn_drop_rate: float = 0.0, drop_path_rate: float = 0.0,
    ) -> None:  # fmt: skip
        super().__init__()
        self.tokens2token = Tokens2Token(
            img_size=img_size, softsplit_kernels=softsplit_kernels, num_heads=t2t_num_heads or num_heads,
            token_chan=token_chan, token_len=token_len, hidden_chan_mul=t2t_hidden_chan_mul, qkv_bias=qkv_bias,
            qk_scales=t2t_qk_scales, act_layer=act_layer, norm_layer=norm_layer, token_module=token_module,
            softsplit_strides=softsplit_strides, softsplit_paddings=softsplit_paddings, drop=t2t_drop,
        )  # fmt: skip
        self.img_size, self.num_tokens = self.tokens2token.img_size, self.tokens2token.num_tokens
        self.token_len = token_len
        self.backbone = ViTBackbone(
            num_tokens=self.num_tokens, token_len=token_len, preds=preds, num_heads=num_heads,
            hidden_chan_mul=encoding_hidden_chan_mul, depth=depth, qkv_bias=qkv_bias, qk_scale=qk_scale,
            act_layer=act_layer, norm_layer=norm_layer, drop_rate=drop_rate, attn_drop_rate=attn_drop_rate,
            drop_path_rate=drop_path_rate,
        )  # fmt: skip
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

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.backbone(self.tokens2token(x))
