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

import os
import pickle
from contextlib import nullcontext
from functools import partial
from typing import Any

import torch
from timm.data import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD
from timm.models import PretrainedCfg, build_model_with_cfg, generate_default_cfgs, register_model
from torch import nn

from .. import checks
from ..fast import make_fast
from .checkpoint import check_checkpoint, checkpoint_filter_fn, load_checkpoint_file, sniff_file
from .model import TimmT2TViT
from .variants import COMMON, OFFICIAL_FILES, OFFICIAL_TOP1, PAPER_PARAMS, T2T_DROP, VARIANTS


def official_token_scales(in_chans: int) -> tuple[float, float]:
    """The official token attention scales, ``(input token length) ** -0.5`` for each token transformer.

    One head, so the length is ``in_chans * 7 * 7`` for the first and ``64 * 3 * 3`` for the second.
    """
    (k0, k1, _), chan = COMMON["softsplit_kernels"], COMMON["token_chan"]
    return (in_chans * k0 * k0) ** -0.5, (chan * k1 * k1) ** -0.5


def variant_kwargs(name: str, in_chans: int = 3) -> dict[str, Any]:
    """Every :class:`~helpers.timm.model.TimmT2TViT` keyword argument of variant ``name`` but the sizes.

    ``in_chans`` is the channel count the token attention scales are set for (the official recipe).
    """
    if name not in VARIANTS:
        raise ValueError(f"unknown T2T-ViT variant {name!r}; pick one of {sorted(VARIANTS)}.")
    cfg = VARIANTS[name]
    return dict(**COMMON, **cfg, t2t_drop=T2T_DROP[cfg["token_module"]], t2t_qk_scales=official_token_scales(in_chans))


def _build_t2t_vit(
    variant: str,
    scale_chans: int | None = None,
    in_chans: int = 3,
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
    **kwargs: Any,
) -> TimmT2TViT:
    """Build variant ``variant`` from timm-style arguments (called by ``build_model_with_cfg``).

    ``device`` (``"meta"`` included) and ``dtype`` place every parameter and buffer as they are made.
    The token attention scales follow ``scale_chans`` (the pretrained weights' channels) when given.
    """
    if dtype is not None and not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise TypeError(f"dtype must be a floating torch.dtype such as torch.float32, got {dtype!r}.")
    in_chans = checks.positive_int("in_chans", in_chans, "in_chans=3 for RGB or in_chans=1 for grey")
    args = variant_kwargs(variant, scale_chans or in_chans)
    args.update(kwargs)
    with torch.device(device) if device is not None else nullcontext():
        model = make_fast(TimmT2TViT(in_chans=in_chans, **args))
    return model if dtype is None else model.to(dtype=dtype)


def _cfg(name: str, **kwargs: Any) -> dict[str, Any]:
    """timm pretrained config for the official ImageNet-1k weights of ``name``."""
    return dict(
        url="",
        num_classes=1000,
        input_size=(3, 224, 224),
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
        kwargs["img_size"] = checks.as_hw(kwargs["img_size"])
    for key in ("in_chans", "num_classes"):
        if checks.is_whole(kwargs.get(key)):
            kwargs[key] = int(kwargs[key])
    file, scale_chans = None, None
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
        remote = [k for k in ("url", "hf_hub_id") if overlay.get(k) or cfg.get(k)]
        if remote:
            raise ValueError(
                f"{variant} loads weights only from a file on this machine, through its own safe loader "
                f"(weights_only=True), not from a {remote[0]}: download the file yourself and pass "
                f"pretrained_cfg_overlay=dict(file='/path/to/{OFFICIAL_FILES[variant]}')."
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
        # Official recipe: the encoder blocks of the released weights use token_len ** -0.5, and the
        # token attention keeps the scale of the channels the weights were trained on (3, or the
        # overlay's input_size), so that a grey picture behaves like its RGB copy.
        kwargs.setdefault("qk_scale", VARIANTS[variant]["token_len"] ** -0.5)
        scale_chans = checks.positive_int("input_size channels", (overlay.get("input_size") or (3,))[0])
    # features_only=True: the last blocks' patch tokens as (B, token_len, h, w) maps.
    out_indices = kwargs.pop("out_indices", 3) if kwargs.get("features_only") else 3
    try:
        return build_model_with_cfg(
            partial(_build_t2t_vit, variant, scale_chans),
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


__all__ = [
    "COMMON",
    "OFFICIAL_FILES",
    "PAPER_PARAMS",
    "VARIANTS",
    "default_cfgs",
    "official_token_scales",
    "variant_kwargs",
    *VARIANTS,
]
