"""The Tokens-to-Token module: soft split, token transformer, reconstruct, repeated."""

from collections.abc import Sequence

import torch
from torch import nn

from .. import checks
from .performer import TokenPerformer
from .token_transformer import TokenTransformer
from .tokens import count_tokens, soft_split_params


@checks.checked(checks.tokens2token_args, checks.image_input)
class Tokens2Token(nn.Module):
    """Image -> tokens: three soft splits with two token transformers between them.

    Shapes: ``(B, C, H, W) -> (B, num_tokens, token_len)``. Soft split ``i`` is
    ``nn.Unfold(k_i, s_i, p_i)``; strides and paddings default to :func:`soft_split_params`.
    ``token_module`` is ``"transformer"`` or ``"performer"``; ``qk_scales`` has one score scale
    per token transformer (``None``: the default ``head_dim ** -0.5``).
    """

    def __init__(
        self, img_size: Sequence[int] = (1, 1700, 500), softsplit_kernels: Sequence[int] = (7, 3, 3),
        num_heads: int = 1, token_chan: int = 64, token_len: int = 768, hidden_chan_mul: float = 1.0,
        qkv_bias: bool = False, qk_scales: tuple[float | None, float | None] = (None, None),
        act_layer: type[nn.Module] = nn.GELU, norm_layer: type[nn.Module] = nn.LayerNorm,
        token_module: str = "transformer", softsplit_strides: Sequence[int] | None = None,
        softsplit_paddings: Sequence[int] | None = None, kernel_ratio: float = 0.5, drop: float = 0.0,
    ) -> None:  # fmt: skip
        super().__init__()
        self.img_size, self.token_chan = tuple(img_size), token_chan
        params = [soft_split_params(k) for k in softsplit_kernels]
        self.kernels = tuple(softsplit_kernels)
        self.strides = tuple(softsplit_strides or [s for _, s, _ in params])
        self.paddings = tuple(softsplit_paddings if softsplit_paddings is not None else [p for *_, p in params])
        self.grids, h, w = [], img_size[1], img_size[2]  # grids: the (h, w) token grid after each split
        for k, s, p in zip(self.kernels, self.strides, self.paddings):
            w, h, _ = count_tokens(w, h, k, s, p)
            self.grids.append((h, w))
        self.num_tokens = h * w
        self.soft_split0, self.soft_split1, self.soft_split2 = (
            nn.Unfold(k, stride=s, padding=p) for k, s, p in zip(self.kernels, self.strides, self.paddings)
        )
        dims = (img_size[0] * self.kernels[0] ** 2, token_chan * self.kernels[1] ** 2)
        shared = dict(chan=token_chan, hidden_chan_mul=hidden_chan_mul, act_layer=act_layer, norm_layer=norm_layer)
        if token_module == "performer":
            blocks = [TokenPerformer(dim=d, kernel_ratio=kernel_ratio, drop=drop, **shared) for d in dims]
        else:
            blocks = [
                TokenTransformer(dim=d, num_heads=num_heads, qkv_bias=qkv_bias, qk_scale=scale, drop=drop, **shared)
                for d, scale in zip(dims, qk_scales)
            ]
        self.transformer1, self.transformer2 = blocks
        self.project = nn.Linear(token_chan * self.kernels[2] ** 2, token_len)

    @staticmethod
    def reconstruct(tokens: torch.Tensor, grid: tuple[int, int]) -> torch.Tensor:
        """Tokens ``(B, h * w, chan)`` -> image ``(B, chan, h, w)``: a pixel per token, a channel per value."""
        return tokens.transpose(1, 2).unflatten(2, grid)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.soft_split0(x).transpose(1, 2)  # T = SS(I): (B, tokens, C * k * k)
        x = self.transformer1(x)  # T' = T(T)
        x = self.reconstruct(x, self.grids[0])  # I = Reshape(T')
        x = self.soft_split1(x).transpose(1, 2)  # T = SS(I), and round 2 again
        x = self.transformer2(x)
        x = self.reconstruct(x, self.grids[1])
        x = self.soft_split2(x).transpose(1, 2)  # the last split goes straight to the projection
        return self.project(x)  # (B, num_tokens, token_len)
