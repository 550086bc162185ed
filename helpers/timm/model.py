"""timm's model contract around the teaching :class:`~helpers.model.t2t_vit.T2TViT`.

:class:`TimmT2TViT` is the class the model zoo builds. It takes timm's constructor arguments
(``img_size`` as an int or ``(H, W)``, ``in_chans``, ``num_classes``, ``global_pool``) and adds
the methods timm's tools call: ``forward_features`` ``(B, N + 1, D)`` and ``forward_head``, as
timm's ``VisionTransformer`` has them, ``forward_intermediates`` and ``feature_info`` for
``features_only``, ``reset_classifier``, ``group_matcher`` for layer-wise learning-rate decay,
``set_grad_checkpointing`` and ``no_weight_decay``. The model's math is the parent's.
"""

from typing import Any

import torch
from timm.models._features import feature_take_indices
from torch import nn
from torch.utils.checkpoint import checkpoint

from .. import checks
from ..model.t2t_vit import T2TViT


@checks.checked(checks.timm_t2t_vit_args, checks.image_input)
class TimmT2TViT(T2TViT):
    """A :class:`T2TViT` built from timm's arguments, with timm's model methods.

    ``global_pool="token"`` reads the prediction token; ``""`` keeps every token. Any other
    :class:`T2TViT` argument may be passed by keyword.
    """

    def __init__(
        self,
        img_size: int | tuple[int, int] = 224,
        in_chans: int = 3,
        num_classes: int = 1000,
        global_pool: str = "token",
        **kwargs: Any,
    ) -> None:
        height, width = (img_size, img_size) if isinstance(img_size, int) else img_size
        super().__init__(img_size=(in_chans, height, width), preds=num_classes, **kwargs)
        self.in_chans, self.num_classes, self.global_pool = in_chans, num_classes, global_pool
        self.num_features = self.head_hidden_size = self.token_len
        self.grad_checkpointing = False
        self._traits = dict(first_conv=None)  # checkpoint_filter_fn adapts the first layer to in_chans
        reduction = 1
        for stride in self.tokens2token.strides:
            reduction *= stride  # pixels per step of the final token grid
        depth = len(self.backbone.blocks)
        self.feature_info = [
            dict(module=f"backbone.blocks.{i}", num_chs=self.token_len, reduction=reduction) for i in range(depth)
        ]

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, H, W) -> (B, num_tokens + 1, token_len)``: the encoded tokens after the final norm."""
        x = self.backbone.embed(self.tokens2token(x))
        for block in self.backbone.blocks:
            if self.grad_checkpointing and not torch.jit.is_scripting():
                x = checkpoint(block, x, use_reentrant=False)
            else:
                x = block(x)
        return self.backbone.norm(x)

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """``(B, N + 1, D) -> (B, num_classes)`` from the prediction token (``(B, D)`` with ``pre_logits``).

        With ``global_pool=""`` nothing is pooled: every token, ``(B, N + 1, num_classes)``.
        """
        if self.global_pool == "token":
            x = x[:, 0]
        return x if pre_logits else self.backbone.head(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))

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
        self.grad_checkpointing = checks.boolean("enable", enable)

    @torch.jit.ignore
    def get_classifier(self) -> nn.Module:
        return self.backbone.head

    def reset_classifier(self, num_classes: int, global_pool: str | None = None) -> None:
        """A fresh head for ``num_classes`` outputs (0: none), on the model's device and dtype.

        ``global_pool``: ``"token"`` or ``""`` (every token); ``None`` keeps the current one.
        """
        num_classes = checks.non_negative_int("num_classes", num_classes, "num_classes=10 (0 for no head)")
        if global_pool is not None:
            self.global_pool = checks.choice("global_pool", global_pool, ("token", ""))
        self.num_classes = num_classes
        ref = self.backbone.cls_token
        if num_classes > 0:
            head = nn.Linear(self.token_len, num_classes, device=ref.device, dtype=ref.dtype)
            self._init_weights(head)
        else:
            head = nn.Identity()
        self.backbone.head = head.train(self.training)

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
        if not torch.jit.is_scripting():
            x = checks.intermediates_args(self, x, indices, output_fmt)
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
        return backbone.norm(x), intermediates

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
