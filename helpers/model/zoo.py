"""The paper's nine T2T-ViT variants, registered with timm's model registry.

``import helpers`` registers them, so ``timm.create_model("t2t_vit_t_14")`` works, and so does
every timm tool built on the registry (``train.py``, ``validate.py``, ``benchmark.py``).
Official release weights load with::

    timm.create_model("t2t_vit_t_14", pretrained=True,
                      pretrained_cfg_overlay=dict(file="81.7_T2T_ViTt_14.pth.tar"))

and any image size or channel count that the three soft splits accept works too
(``img_size=(H, W)``, ``in_chans=C``): the sinusoidal position table is regenerated for the new
token count. See ``docs/model_zoo.md``.
"""

from __future__ import annotations

import inspect
import os
import pickle
from collections.abc import Sequence
from contextlib import nullcontext
from functools import partial
from typing import Any

import numpy as np
import torch
from timm.data import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD
from timm.models import PretrainedCfg, build_model_with_cfg, generate_default_cfgs, register_model
from torch import nn

from .checkpoint import (
    check_checkpoint,
    checkpoint_filter_fn,
    load_checkpoint_file,
    set_token_attention_scales,
    sniff_file,
    token_attention_scales,
)
from .t2t_vit import T2TViT
from .tokens2token import smallest_side
from ..checks import given, is_whole, non_negative_int, positive_int, short
from .variants import COMMON, OFFICIAL_FILES, OFFICIAL_TOP1, PAPER_PARAMS, T2T_DROP, VARIANTS

# Keyword arguments that timm.create_model passes and this factory translates itself.
_TIMM_KWARGS = ("num_classes", "in_chans", "img_size", "global_pool", "device", "dtype")
_MODEL_KWARGS = tuple(
    p for p in inspect.signature(T2TViT.__init__).parameters if p not in ("self", "img_size", "preds")
)


def variant_kwargs(name: str, img_size: Sequence[int] = (3, 224, 224), preds: int = 1000) -> dict[str, Any]:
    """Every :class:`~helpers.model.t2t_vit.T2TViT` argument of variant ``name`` (``T2TViT(**kwargs)``).

    The token attention scale is not included: the model zoo sets it per token transformer
    (see :func:`~helpers.model.checkpoint.token_attention_scales`).
    """
    if name not in VARIANTS:
        raise ValueError(f"unknown T2T-ViT variant {name!r}; pick one of {sorted(VARIANTS)}.")
    cfg = VARIANTS[name]
    return dict(
        img_size=tuple(img_size),
        preds=preds,
        **COMMON,
        **cfg,
        t2t_drop=T2T_DROP[cfg["token_module"]],
    )


def as_hw(img_size: int | Sequence[int]) -> tuple[int, int]:
    """timm's ``img_size`` (an int or ``(H, W)``) as ``(H, W)``.

    ``TypeError`` for anything but a whole number or a pair of them, ``ValueError`` for a wrong
    count or a side below 1.
    """
    example = "img_size=224 or img_size=(224, 320); set the channels with in_chans"
    if is_whole(img_size):
        img_size = (img_size, img_size)
    if isinstance(img_size, np.ndarray) and img_size.ndim == 1:
        img_size = list(img_size)
    if isinstance(img_size, (str, bytes)) or not isinstance(img_size, Sequence):
        raise TypeError(
            f"img_size must be an int or a pair (height, width), got {given(img_size)}; for example {example}."
        )
    if len(img_size) != 2:
        raise ValueError(
            f"img_size must be a positive int or a pair (height, width) of positive ints, got "
            f"{short(tuple(img_size))}; for example {example}."
        )
    return positive_int("img_size height", img_size[0], example), positive_int("img_size width", img_size[1], example)


def _build_t2t_vit(
    variant: str,
    num_classes: int = 1000,
    in_chans: int = 3,
    img_size: int | Sequence[int] = 224,
    global_pool: str | None = "token",
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
    **kwargs: Any,
) -> T2TViT:
    """Build variant ``variant`` from timm-style arguments (called by ``build_model_with_cfg``).

    ``device`` (``"meta"`` included) and ``dtype`` place every parameter and buffer as they are made.
    """
    unknown = sorted(set(kwargs) - set(_MODEL_KWARGS))
    if unknown:
        raise TypeError(
            f"{variant} got unknown argument(s) {unknown}. It accepts {list(_TIMM_KWARGS)} and the "
            f"T2TViT arguments {list(_MODEL_KWARGS)}."
        )
    if dtype is not None and not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise TypeError(f"dtype must be a floating torch.dtype such as torch.float32, got {dtype!r}.")
    global_pool = "token" if global_pool is None else global_pool
    if global_pool not in ("token", ""):
        raise ValueError(
            f"{variant} reads its prediction from the class token: global_pool must be 'token' "
            f"(or left out), got {global_pool!r}."
        )
    in_chans = positive_int("in_chans", in_chans, "in_chans=3 for RGB or in_chans=1 for grey")
    num_classes = non_negative_int("num_classes", num_classes, "num_classes=1000 (0 gives no head)")
    height, width = as_hw(img_size)
    splits = ("softsplit_kernels", "softsplit_strides", "softsplit_paddings")
    side = smallest_side(*(COMMON[k] for k in splits))
    if min(height, width) < side and not any(k in kwargs for k in splits):  # T2TViT checks other splits itself
        raise ValueError(
            f"img_size {height} x {width} is too small for {variant}: its three soft splits need each side "
            f"to be at least {side} pixels. The smallest size that works is {side} x {side}; use "
            f"img_size=({max(height, side)}, {max(width, side)}) or larger."
        )
    args = variant_kwargs(variant, img_size=(in_chans, height, width), preds=num_classes)
    args.update(kwargs)
    with torch.device(device) if device is not None else nullcontext():
        model = T2TViT(**args)
    if dtype is not None:
        model.to(dtype=dtype)
    # The official token attention scale: (input token length) ** -0.5, one head.
    set_token_attention_scales(model, token_attention_scales(model))
    model.global_pool = global_pool
    model.in_chans = in_chans  # timm reads the channel count from here (get_model_traits)
    # checkpoint_filter_fn adapts the first layer to in_chans itself: an explicit first_conv=None
    # trait turns timm's own input-stem adaptation off (the cfg still names the layer for tools).
    model._traits = dict(first_conv=None)
    return model


def _cfg(name: str, **kwargs: Any) -> dict[str, Any]:
    """timm pretrained config for the official ImageNet-1k weights of ``name``."""
    return dict(
        url="",
        num_classes=1000,
        input_size=(3, 224, 224),
        pool_size=(1, 14 * 14 + 1),  # forward_features: the 197 tokens as a 1 x 197 map (NHWC)
        crop_pct=0.9,
        interpolation="bicubic",
        fixed_input_size=True,
        mean=IMAGENET_DEFAULT_MEAN,
        std=IMAGENET_DEFAULT_STD,
        first_conv="tokens2token.transformer1.attn.qkv",  # the first layer that multiplies pixels
        classifier="backbone.head",
        license="other",
        origin_url="https://github.com/yitu-opensource/T2T-ViT",
        paper_ids="arXiv:2101.11986",
        paper_name="Tokens-to-Token ViT: Training Vision Transformers from Scratch on ImageNet",
        description=f"official ImageNet-1k weights, top-1 {OFFICIAL_TOP1[name]} at 224 x 224 (bring your own file)",
        **kwargs,
    )


default_cfgs = generate_default_cfgs({f"{name}.in1k": _cfg(name) for name in VARIANTS})


def _create(variant: str, pretrained: bool = False, **kwargs: Any) -> nn.Module:
    """Build ``variant`` through timm, loading the official weights when ``pretrained``."""
    # Plain ints for timm, which reads these itself and does not know numpy integers.
    if kwargs.get("img_size") is not None:
        kwargs["img_size"] = as_hw(kwargs["img_size"])
    for key in ("in_chans", "num_classes"):
        if is_whole(kwargs.get(key)):
            kwargs[key] = int(kwargs[key])
    file = None
    if pretrained:
        overlay = kwargs.get("pretrained_cfg_overlay") or {}
        cfg = kwargs.get("pretrained_cfg")
        cfg = cfg.to_dict() if isinstance(cfg, PretrainedCfg) else cfg if isinstance(cfg, dict) else {}
        if not any(overlay.get(k) or cfg.get(k) for k in ("file", "url", "hf_hub_id", "state_dict")):
            raise ValueError(
                f"{variant} has no download location: the official weights are files you own. Pass "
                f"pretrained_cfg_overlay=dict(file='/path/to/{OFFICIAL_FILES[variant]}'), the release file "
                "from github.com/yitu-opensource/T2T-ViT."
            )
        file = overlay.get("file") or cfg.get("file")
        if file and not os.path.isfile(file):
            raise ValueError(
                f"pretrained_cfg_overlay file {str(file)!r} does not exist; pass the path of the downloaded "
                f"official checkpoint for {variant} (a .pth.tar file)."
            )
        problem = sniff_file(file) if file else None  # an HTML page, an empty or truncated file...
        if problem:  # ...is reported before the model is built
            raise ValueError(f"cannot load pretrained weights for {variant}: {problem}.")
        if overlay.get("state_dict") is not None:
            check_checkpoint(overlay["state_dict"], "pretrained_cfg_overlay's state_dict")
        # Official recipe: the encoder blocks of the released weights use token_len ** -0.5.
        kwargs.setdefault("qk_scale", VARIANTS[variant]["token_len"] ** -0.5)
    # features_only=True: the last blocks' patch tokens as (B, token_len, h, w) maps.
    out_indices = kwargs.pop("out_indices", 3) if kwargs.get("features_only") else 3
    try:
        return build_model_with_cfg(
            partial(_build_t2t_vit, variant),
            variant,
            pretrained,
            pretrained_filter_fn=checkpoint_filter_fn,
            feature_cfg=dict(out_indices=out_indices, feature_cls="getter"),
            **kwargs,
        )
    except (pickle.UnpicklingError, RuntimeError, AttributeError, EOFError, KeyError) as err:
        # timm's own loader failed on the file (a refused pickle, a list instead of a dict, a damaged
        # archive): load it again with ours, which says what is wrong, without torch's advice.
        if not (pretrained and file):
            raise
        try:
            load_checkpoint_file(file)
        except ValueError as reason:
            raise ValueError(f"cannot load pretrained weights for {variant}: {reason}") from None
        raise err


@register_model
def t2t_vit_7(pretrained: bool = False, **kwargs: Any) -> nn.Module:
    """T2T-ViT-7: Performer T2T module, token_len 256, 7 blocks, 4 heads (4.3M, 1.1G MACs)."""
    return _create("t2t_vit_7", pretrained, **kwargs)


@register_model
def t2t_vit_10(pretrained: bool = False, **kwargs: Any) -> nn.Module:
    """T2T-ViT-10: Performer T2T module, token_len 256, 10 blocks, 4 heads (5.9M, 1.5G MACs)."""
    return _create("t2t_vit_10", pretrained, **kwargs)


@register_model
def t2t_vit_12(pretrained: bool = False, **kwargs: Any) -> nn.Module:
    """T2T-ViT-12: Performer T2T module, token_len 256, 12 blocks, 4 heads (6.9M, 1.8G MACs)."""
    return _create("t2t_vit_12", pretrained, **kwargs)


@register_model
def t2t_vit_14(pretrained: bool = False, **kwargs: Any) -> nn.Module:
    """T2T-ViT-14: Performer T2T module, token_len 384, 14 blocks, 6 heads (21.5M, 4.8G MACs)."""
    return _create("t2t_vit_14", pretrained, **kwargs)


@register_model
def t2t_vit_19(pretrained: bool = False, **kwargs: Any) -> nn.Module:
    """T2T-ViT-19: Performer T2T module, token_len 448, 19 blocks, 7 heads (39.2M, 8.5G MACs)."""
    return _create("t2t_vit_19", pretrained, **kwargs)


@register_model
def t2t_vit_24(pretrained: bool = False, **kwargs: Any) -> nn.Module:
    """T2T-ViT-24: Performer T2T module, token_len 512, 24 blocks, 8 heads (64.1M, 13.8G MACs)."""
    return _create("t2t_vit_24", pretrained, **kwargs)


@register_model
def t2t_vit_t_14(pretrained: bool = False, **kwargs: Any) -> nn.Module:
    """T2T-ViT_t-14: Transformer T2T module, token_len 384, 14 blocks, 6 heads (21.5M, 6.1G MACs)."""
    return _create("t2t_vit_t_14", pretrained, **kwargs)


@register_model
def t2t_vit_t_19(pretrained: bool = False, **kwargs: Any) -> nn.Module:
    """T2T-ViT_t-19: Transformer T2T module, token_len 448, 19 blocks, 7 heads (39.2M, 9.8G MACs)."""
    return _create("t2t_vit_t_19", pretrained, **kwargs)


@register_model
def t2t_vit_t_24(pretrained: bool = False, **kwargs: Any) -> nn.Module:
    """T2T-ViT_t-24: Transformer T2T module, token_len 512, 24 blocks, 8 heads (64.1M, 15.0G MACs)."""
    return _create("t2t_vit_t_24", pretrained, **kwargs)


__all__ = ["COMMON", "OFFICIAL_FILES", "PAPER_PARAMS", "VARIANTS", "as_hw", "default_cfgs", "variant_kwargs", *VARIANTS]
