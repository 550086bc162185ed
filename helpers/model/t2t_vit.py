"""T2T-ViT: the Tokens-to-Token module followed by a ViT backbone."""

from collections.abc import Sequence

import torch
from timm.layers import trunc_normal_
from timm.models._features import feature_take_indices
from torch import nn

from .backbone import ViTBackbone
from .tokens2token import Tokens2Token, check_image
from .tracing import is_tracing
from ..checks import (
    heads_divide,
    non_negative_int,
    optional_positive_float,
    positive_float,
    positive_int,
    probability,
)

GLOBAL_POOLS = ("token", "")


class T2TViT(nn.Module):
    """Image ``(batch, C, H, W)`` -> predictions ``(batch, preds)``.

    The defaults are the article's: a 1 x 1700 x 500 image, soft split kernels (31, 3, 3),
    one prediction. ``num_heads`` is used by both parts unless ``t2t_num_heads`` is given;
    ``qk_scale`` sets the backbone's scale and ``t2t_qk_scale`` the token attention's
    (see :class:`~helpers.model.attention.Attention` for the defaults). ``token_module`` picks
    ``"transformer"`` or ``"performer"`` for the T2T module.

    Input: a picture tensor of any real dtype is cast to the model's dtype and used as given,
    with no rescaling (``uint8`` stays 0..255, ``bool`` becomes 0/1); complex tensors and
    non-tensors raise ``TypeError``. Any batch size works (0 gives ``(0, preds)``), and so do
    non-contiguous and channels-last tensors. Scripted, traced and fx-traced models skip these
    checks and expect the model's dtype.

    timm's model contract: :meth:`forward_features` returns the encoded tokens as a one-row
    feature map ``(B, 1, N + 1, token_len)`` (``output_fmt = "NHWC"``), :meth:`forward_head`
    pools the prediction token (``global_pool="token"``; ``""`` keeps every token), and
    :meth:`forward_intermediates` returns the blocks' patch tokens as ``(B, token_len, h, w)``
    maps on the final T2T grid, as timm's ViTs do (``feature_info`` lists them).
    """

    output_fmt = "NHWC"

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
        self.num_features = self.head_hidden_size = token_len
        self.global_pool = "token"
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
        reduction = 1
        for stride in self.tokens2token.strides:
            reduction *= stride  # pixels per token step on the final T2T grid
        self.feature_info = [
            dict(module=f"backbone.blocks.{i}", num_chs=token_len, reduction=reduction) for i in range(depth)
        ]

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

    @torch.jit.ignore
    def group_matcher(self, coarse: bool = False) -> dict:
        """Parameter groups in depth order, for timm's layer-wise learning-rate decay.

        The T2T module and the prediction token come first (the "stem"), then one group per
        encoding block, then the final norm; timm puts the head in the last group.
        """
        return dict(
            stem=r"^tokens2token|^backbone\.cls_token",
            blocks=[(r"^backbone\.blocks\.(\d+)", None), (r"^backbone\.norm", (99999,))],
        )

    @torch.jit.ignore
    def set_grad_checkpointing(self, enable: bool = True) -> None:
        """Recompute each encoding block in the backward pass instead of storing its activations."""
        self.backbone.grad_checkpointing = enable

    @torch.jit.ignore
    def get_classifier(self) -> nn.Module:
        return self.backbone.head

    def reset_classifier(self, num_classes: int, global_pool: str | None = None) -> None:
        """Replace the head with a fresh one for ``num_classes`` outputs (0 for none).

        ``global_pool``: ``"token"`` (read the prediction token) or ``""`` (no pooling: every
        token); ``None`` keeps the current one. The new head has the model's device and dtype.
        """
        if global_pool is not None:
            if global_pool not in GLOBAL_POOLS:
                raise ValueError(
                    f"global_pool must be 'token' (the prediction token) or '' (every token), got {global_pool!r}."
                )
            self.global_pool = global_pool
        self.num_classes = num_classes
        ref = self.backbone.cls_token
        if num_classes > 0:
            head = nn.Linear(self.token_len, num_classes, device=ref.device, dtype=ref.dtype)
            self._init_weights(head)
        else:
            head = nn.Identity()
        self.backbone.head = head.train(self.training)

    def forward_tokens(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, H, W) -> (B, num_tokens + 1, token_len)``: the encoded tokens, after the final norm."""
        if not torch.jit.is_scripting() and not is_tracing():
            x = check_image(x, self.img_size, "T2TViT", self.backbone.cls_token.dtype)
        return self.backbone.forward_features(self.tokens2token(x))

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, H, W) -> (B, 1, num_tokens + 1, token_len)``: :meth:`forward_tokens` as a one-row map."""
        return self.forward_tokens(x).unsqueeze(1)

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """``(B, 1, num_tokens + 1, token_len) -> (B, preds)`` from the prediction token.

        With ``global_pool=""`` nothing is pooled: the head maps every token, ``(B, 1, N + 1, preds)``.
        """
        if self.global_pool == "token":
            x = x[:, 0, 0]
        return x if pre_logits else self.backbone.head(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))

    def forward_intermediates(
        self,
        x: torch.Tensor,
        indices: int | list[int] | None = None,
        norm: bool = False,
        stop_early: bool = False,
        output_fmt: str = "NCHW",
        intermediates_only: bool = False,
    ) -> list[torch.Tensor] | tuple[torch.Tensor, list[torch.Tensor]]:
        """The outputs of encoding blocks ``indices`` (timm's convention), and the final features.

        ``indices``: an int ``n`` takes the last ``n`` blocks, a list takes those blocks, ``None``
        all. Each is the patch tokens (prediction token dropped), after the final norm if
        ``norm``: ``(B, token_len, h, w)`` on the final T2T grid for ``output_fmt="NCHW"``,
        ``(B, h * w, token_len)`` for ``"NLC"``. ``stop_early`` skips the blocks after the last
        one taken. Returns the list (``intermediates_only``) or ``(forward_features(x), list)``.
        """
        if output_fmt not in ("NCHW", "NLC"):
            raise ValueError(f"output_fmt must be 'NCHW' or 'NLC', got {output_fmt!r}.")
        if not torch.jit.is_scripting() and not is_tracing():
            x = check_image(x, self.img_size, "T2TViT", self.backbone.cls_token.dtype)
        backbone = self.backbone
        take_indices, max_index = feature_take_indices(len(backbone.blocks), indices)
        blocks = backbone.blocks if torch.jit.is_scripting() or not stop_early else backbone.blocks[: max_index + 1]
        height, width = self.tokens2token.grids[-1]
        x = backbone.embed(self.tokens2token(x))
        intermediates = []
        for i, block in enumerate(blocks):
            x = block(x)
            if i in take_indices:
                y = (backbone.norm(x) if norm else x)[:, 1:]  # the patch tokens
                if output_fmt == "NCHW":
                    y = y.reshape(y.shape[0], height, width, y.shape[2]).permute(0, 3, 1, 2).contiguous()
                intermediates.append(y)
        if intermediates_only:
            return intermediates
        return backbone.norm(x).unsqueeze(1), intermediates

    def prune_intermediate_layers(
        self, indices: int | list[int] = 1, prune_norm: bool = False, prune_head: bool = True
    ) -> list[int]:
        """Drop the blocks after the last of ``indices`` (and the norm / head); returns the block indices."""
        take_indices, max_index = feature_take_indices(len(self.backbone.blocks), indices)
        self.backbone.blocks = self.backbone.blocks[: max_index + 1]
        if prune_norm:
            self.backbone.norm = nn.Identity()
        if prune_head:
            self.reset_classifier(0, "")
        return take_indices
