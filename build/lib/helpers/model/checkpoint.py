"""Load the official T2T-ViT release checkpoints into :class:`~helpers.model.t2t_vit.T2TViT`.

The official files are training checkpoints written by timm's ``train.py``: a dict with
``state_dict``, often ``state_dict_ema``, ``epoch``, ``arch`` and ``args`` (an
``argparse.Namespace``). :func:`checkpoint_filter_fn` renames their keys to this package's
layout, reorders the Performer's ``k, q, v`` rows to ``q, k, v``, drops the (regenerated)
position table, adapts the first token transformer to another channel count and checks every
shape, raising ``ValueError`` with the mismatched keys instead of a generic ``RuntimeError``.
"""

from __future__ import annotations

import argparse
import math
import pickle
import re
import warnings
from collections.abc import Mapping
from os import PathLike
from typing import Any

import torch
from torch import nn

from .backbone import sinusoid_table
from .token_transformer import TokenTransformer
from .variants import VARIANTS

# Official key prefix -> ours; the first matching rule wins.
_RENAMES: list[tuple[str, str]] = [
    (r"^tokens_to_token\.attention([12])\.mlp\.0\.", r"tokens2token.transformer\1.neuralnet.fc1."),
    (r"^tokens_to_token\.attention([12])\.mlp\.2\.", r"tokens2token.transformer\1.neuralnet.fc2."),
    (r"^tokens_to_token\.attention([12])\.mlp\.", r"tokens2token.transformer\1.neuralnet."),
    (r"^tokens_to_token\.attention([12])\.kqv\.", r"tokens2token.transformer\1.attn.qkv."),
    (r"^tokens_to_token\.attention([12])\.proj\.", r"tokens2token.transformer\1.attn.proj."),
    (r"^tokens_to_token\.attention([12])\.w$", r"tokens2token.transformer\1.attn.w"),
    (r"^tokens_to_token\.attention([12])\.", r"tokens2token.transformer\1."),
    (r"^tokens_to_token\.project\.", r"tokens2token.project."),
    (r"^blocks\.(\d+)\.mlp\.", r"backbone.blocks.\1.neuralnet."),
    (r"^(cls_token$|pos_embed$|blocks\.|norm\.|head\.)", r"backbone.\1"),
]
_WRAPPERS = ("module.", "_orig_mod.")
FIRST = "tokens2token.transformer1."
POS_EMBED = "backbone.pos_embed"


def load_checkpoint_file(path: str | PathLike) -> dict[str, Any]:
    """``torch.load`` a checkpoint safely: tensors and plain containers only (``weights_only=True``).

    ``argparse.Namespace`` is allowed too, since timm's training script stores its ``args`` so.
    A file holding anything else (for example a pickle that would run code) raises ``ValueError``.
    """
    try:
        with torch.serialization.safe_globals([argparse.Namespace]):
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise ValueError(
            f"refused to load {path}: it holds objects other than tensors and plain containers, and loading "
            f"them could run code (torch.load weights_only=True said: {err})."
        ) from None


def unwrap_checkpoint(checkpoint: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """The weights inside a training checkpoint, with DDP / compile prefixes stripped.

    Prefers ``state_dict_ema`` (the official weights were trained with an EMA), then
    ``model_ema``, ``state_dict``, ``model``; a plain state dict is returned as is.
    """
    if not isinstance(checkpoint, Mapping):
        raise ValueError(f"a checkpoint must be a dict of tensors, got {type(checkpoint).__name__}.")
    for key in ("state_dict_ema", "model_ema", "state_dict", "model"):
        if isinstance(checkpoint.get(key), Mapping):
            checkpoint = checkpoint[key]
            break
    state_dict = {}
    for name, value in checkpoint.items():
        while name.startswith(_WRAPPERS):
            name = name.split(".", 1)[1]
        state_dict[name] = value
    return state_dict


def rename_official(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Official key layout -> this package's; keys already in our layout pass through unchanged.

    The Performer's ``kqv`` rows are stored in the order ``k, q, v``; ours are ``q, k, v``.
    """
    renamed = {}
    for name, value in state_dict.items():
        new = name
        for pattern, repl in _RENAMES:
            if re.match(pattern, name):
                new = re.sub(pattern, repl, name)
                break
        if re.match(r"^tokens_to_token\.attention[12]\.kqv\.", name) and isinstance(value, torch.Tensor):
            k, q, v = value.chunk(3, dim=0)
            value = torch.cat((q, k, v), dim=0)
        renamed[new] = value
    return renamed


def token_attention_scales(model: nn.Module, in_chans: int | None = None) -> tuple[float, float]:
    """The official token attention scales, ``(input token length) ** -0.5`` for each transformer.

    One head, so the length is ``in_chans * k0 * k0`` for the first transformer and
    ``token_chan * k1 * k1`` for the second. ``in_chans`` defaults to the model's own.
    """
    t2t = model.tokens2token
    chans = t2t.img_size[0] if in_chans is None else in_chans
    return (chans * t2t.kernels[0] ** 2) ** -0.5, (t2t.token_chan * t2t.kernels[1] ** 2) ** -0.5


def set_token_attention_scales(model: nn.Module, scales: tuple[float, float]) -> None:
    """Set the score scale of each token *transformer* (the Performer has no scale)."""
    for name, scale in zip(("transformer1", "transformer2"), scales):
        block = getattr(model.tokens2token, name)
        if isinstance(block, TokenTransformer):
            block.attn.scale = scale


def adapt_first_token_transformer(
    state_dict: dict[str, torch.Tensor], in_chans: int, kernel: int = 7
) -> dict[str, torch.Tensor]:
    """Adapt the first token transformer's input LayerNorm and ``qkv`` to ``in_chans`` channels.

    Its input is a soft-split token of length ``C * k * k``, ordered as ``nn.Unfold`` orders it:
    channel-major, index ``c * k * k + position``. This is the T2T version of timm's
    ``adapt_input_conv`` and, like it, an approximation.

    ``in_chans == 1``: a grey token ``x`` stands for the colour token ``[x, x, x]``. The
    LayerNorm of ``[x, x, x]`` is the LayerNorm of ``x`` repeated, so
    ``qkv([x, x, x]) = sum_c W_c (g_c * n + b_c)`` with ``n`` the normalised grey token and
    ``W_c, g_c, b_c`` the colour blocks of the weight, LayerNorm weight and bias. Simply
    summing ``W_c`` and averaging ``g_c, b_c`` is exact only when the three colour blocks of
    the LayerNorm agree. Instead we fold the LayerNorm weight into ``W``
    (``W' = sum_c W_c diag(g_c)``, new LayerNorm weight 1), which is exact for any ``g``; the bias
    goes into the ``qkv`` bias when there is one (Performer: exact), else into the LayerNorm bias
    by least squares (Transformer, no ``qkv`` bias: exact when the colour biases agree).

    Other counts: the colour blocks are repeated to ``in_chans`` channels and ``W`` is scaled by
    ``3 / in_chans``; the LayerNorm blocks are repeated unscaled (it normalises whatever comes in).
    For a multiple of 3 fed with a repeated colour image this is exact.
    """
    norm_w, norm_b, qkv_w = (state_dict[FIRST + n] for n in ("norm1.weight", "norm1.bias", "attn.qkv.weight"))
    qkv_b = state_dict.get(FIRST + "attn.qkv.bias")
    area = kernel * kernel
    src = norm_w.numel() // area
    if src == in_chans:
        return state_dict
    out = dict(state_dict)
    if in_chans == 1:
        blocks_w = qkv_w.reshape(qkv_w.shape[0], src, area).double()  # (3 * chan, C, area)
        g, b = norm_w.reshape(src, area).double(), norm_b.reshape(src, area).double()
        new_w = (blocks_w * g).sum(dim=1)  # (3 * chan, area)
        bias_out = (blocks_w * b).sum(dim=(1, 2))  # what sum_c W_c b_c adds to every token
        new_b = torch.zeros(area, dtype=torch.float64)
        if qkv_b is not None:
            out[FIRST + "attn.qkv.bias"] = (qkv_b.double() + bias_out).to(qkv_b.dtype)
        else:
            new_b = torch.linalg.lstsq(new_w, bias_out[:, None]).solution[:, 0]
        out[FIRST + "norm1.weight"] = torch.ones(area, dtype=norm_w.dtype)
        out[FIRST + "norm1.bias"] = new_b.to(norm_b.dtype)
        out[FIRST + "attn.qkv.weight"] = new_w.to(qkv_w.dtype)
        return out
    reps = math.ceil(in_chans / src)
    idx = torch.arange(src).repeat(reps)[:in_chans]  # colour block of each new channel
    cols = (idx[:, None] * area + torch.arange(area)).reshape(-1)  # channel-major columns
    out[FIRST + "norm1.weight"] = norm_w[cols].clone()
    out[FIRST + "norm1.bias"] = norm_b[cols].clone()
    out[FIRST + "attn.qkv.weight"] = qkv_w[:, cols] * (src / in_chans)
    return out


def guess_variant(state_dict: Mapping[str, torch.Tensor]) -> str | None:
    """The registered variant whose layout matches ``state_dict`` (our key layout), if any."""
    cls = state_dict.get("backbone.cls_token")
    if cls is None:
        return None
    depth = len({k.split(".")[2] for k in state_dict if k.startswith("backbone.blocks.")})
    module = "performer" if FIRST + "attn.w" in state_dict else "transformer"
    for name, cfg in VARIANTS.items():
        if (cfg["token_len"], cfg["depth"], cfg["token_module"]) == (cls.shape[-1], depth, module):
            return name
    return None


def _check_pos_embed(table: torch.Tensor, token_len: int) -> None:
    """Warn unless ``table`` is the fixed sinusoid the model regenerates in its place."""
    if table.ndim != 3 or table.shape[0] != 1 or table.shape[2] != token_len:
        return  # a width mismatch is reported with the other shapes
    expected = sinusoid_table(table.shape[1], token_len)
    if not torch.allclose(table.float().cpu(), expected, atol=1e-5):
        rows = table.shape[1]
        size = " (the table for 224 x 224)" if rows == 197 else ""
        warnings.warn(
            f"the checkpoint's pos_embed is not the fixed sinusoid sinusoid_table({rows}, {token_len}){size}: it "
            "was changed or trained. This model regenerates the sinusoid for its own token count and ignores "
            "the checkpoint's table, so its outputs will differ from the checkpoint's original model.",
            stacklevel=3,
        )


def checkpoint_filter_fn(state_dict: Mapping[str, Any], model: nn.Module) -> dict[str, torch.Tensor]:
    """Turn an official (or our own) checkpoint into a state dict for ``model``.

    Accepts a raw training checkpoint too (see :func:`unwrap_checkpoint`). Raises ``ValueError``
    naming every missing, unexpected or mis-shaped key, e.g. for a checkpoint of another variant.
    The classifier may differ in size only when the model was built with another ``num_classes``
    than its pretrained config (timm then drops it).
    """
    sd = rename_official(unwrap_checkpoint(state_dict))
    target = model.state_dict()
    t2t = model.tokens2token
    problems = []
    table = sd.pop(POS_EMBED, None)
    if table is not None:
        _check_pos_embed(table, model.token_len)
        if table.ndim != 3 or table.shape[-1] != model.token_len:
            problems.append(f"pos_embed: checkpoint {tuple(table.shape)}, model (1, N + 1, {model.token_len})")

    chans = t2t.img_size[0]
    norm_key = FIRST + "norm1.weight"
    area = t2t.kernels[0] ** 2
    qkv_key = FIRST + "attn.qkv.weight"
    src = sd[norm_key].numel() // area if norm_key in sd else chans
    if src != chans and FIRST + "norm1.bias" in sd and qkv_key in sd and sd[qkv_key].shape[-1] == src * area:
        sd = adapt_first_token_transformer(sd, chans, t2t.kernels[0])
        # Keep the scale the weights were trained with, so a grey image behaves like its RGB copy.
        set_token_attention_scales(model, token_attention_scales(model, in_chans=src))

    cfg = getattr(model, "pretrained_cfg", None) or {}
    classifier = cfg.get("classifier") or "backbone.head"
    new_head = cfg.get("num_classes") is not None and cfg.get("num_classes") != getattr(model, "num_classes", None)
    for name, value in sd.items():
        if not isinstance(value, torch.Tensor):
            problems.append(f"{name}: not a tensor but {type(value).__name__}")
        elif name not in target:
            problems.append(f"{name}: unexpected in this model (checkpoint {tuple(value.shape)})")
        elif tuple(value.shape) != tuple(target[name].shape):
            if new_head and name.startswith(classifier + "."):
                continue  # timm drops the old head and keeps a fresh one
            problems.append(f"{name}: checkpoint {tuple(value.shape)}, model {tuple(target[name].shape)}")
    for name, value in target.items():
        if name not in sd and not (new_head and name.startswith(classifier + ".")):
            problems.append(f"{name}: missing from the checkpoint (model {tuple(value.shape)})")
    if problems:
        raise ValueError(_mismatch_message(problems, sd, model))
    return sd


def _mismatch_message(problems: list[str], sd: Mapping[str, torch.Tensor], model: nn.Module) -> str:
    """A readable error: what does not fit, and which variant the checkpoint looks like."""
    shown = "\n  ".join(problems[:12]) + (f"\n  ... and {len(problems) - 12} more" if len(problems) > 12 else "")
    arch = (getattr(model, "pretrained_cfg", None) or {}).get("architecture", type(model).__name__)
    guess = guess_variant(sd)
    hint = f" It looks like a {guess} checkpoint: create that model instead." if guess and guess != arch else ""
    return (
        f"the checkpoint does not fit {arch}: {len(problems)} key(s) differ.{hint}\n  {shown}\n"
        "Check that the file is for this variant; the image size does not matter (positions are regenerated)."
    )
