"""Load the official T2T-ViT release checkpoints into :class:`~helpers.model.t2t_vit.T2TViT`.

The official files are training checkpoints written by timm's ``train.py``: a dict with
``state_dict``, often ``state_dict_ema``, ``epoch``, ``arch`` and ``args`` (an
``argparse.Namespace``). :func:`checkpoint_filter_fn` renames their keys to this package's
layout, reorders the Performer's ``k, q, v`` rows to ``q, k, v``, drops the (regenerated)
position table, adapts the first token transformer to another channel count and checks every
shape, raising ``ValueError`` with the mismatched keys instead of a generic ``RuntimeError``. It
reads the model it is given and changes nothing in it.
"""

from __future__ import annotations

import argparse
import math
import os
import pickle
import re
import warnings
import zipfile
from collections.abc import Mapping
from os import PathLike
from typing import Any

import torch
from torch import nn

from ..checks import MAX_TENSOR_VALUES, soft_split_grids
from ..model.backbone import sinusoid_table
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
_WEIGHT_KEYS = ("state_dict_ema", "model_ema", "state_dict", "model")  # where training checkpoints keep weights
FIRST = "tokens2token.transformer1."
POS_EMBED = "backbone.pos_embed"
# The largest image side a checkpoint's position table may stand for (see max_pos_rows).
MAX_IMAGE_SIDE = 4096
# The most input channels the first token transformer is adapted from.
MAX_CHANNELS = 1024
_BLOCK = 4096  # rows of the sinusoid compared at a time


def sniff_file(path: str | PathLike) -> str | None:
    """What is wrong with ``path`` as a PyTorch checkpoint, judged from its size and first bytes.

    ``None`` when it may be one: a zip archive with a complete directory (``torch.save``'s format)
    or a pickle (the legacy format). Otherwise a sentence that says what the file is instead: an
    empty file, an HTML page (a failed download), a Git LFS pointer, a safetensors file, other
    text, a truncated zip archive or unknown bytes.
    """
    path = os.fsdecode(path)
    if not os.path.isfile(path):
        return f"{path!r} does not exist or is not a file"
    size = os.path.getsize(path)
    if size == 0:
        return f"{path!r} is empty (0 bytes), not a PyTorch checkpoint: the download or copy probably failed"
    with open(path, "rb") as file:
        head = file.read(512)
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(b"<"):  # <!DOCTYPE html>, <html>, <?xml ...>: what a web server sends instead
        return (
            f"{path!r} is an HTML page ({size} bytes), not a PyTorch checkpoint: the download probably failed "
            "(a login, error or redirect page saved under the checkpoint's name); download the file again"
        )
    if text.startswith(b"version https://git-lfs"):
        return f"{path!r} is a Git LFS pointer, not the checkpoint itself; fetch the real file with `git lfs pull`"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as archive:
                infos = archive.infolist()
                names = [info.filename for info in infos]
        except Exception:  # BadZipFile, or a damaged directory whose names do not even decode
            return (
                f"{path!r} is a damaged or truncated zip archive ({size} bytes), so not a readable PyTorch "
                "checkpoint: the download or copy was probably cut short; download the file again"
            )
        if not any(name.endswith("data.pkl") for name in names):
            return f"{path!r} is a zip archive but not a PyTorch checkpoint (it holds no data.pkl)"
        if any(info.compress_type != zipfile.ZIP_STORED for info in infos):
            return (
                f"{path!r} holds compressed entries, which torch.save never writes: it was repacked or "
                "crafted (a small compressed file can expand to gigabytes), so it is not loaded; re-save the "
                "weights with torch.save"
            )
        return None
    if head.startswith(b"\x80"):  # a pickle, protocol 2 or later: torch.save's legacy format
        return None
    if len(head) > 10 and head[8:10] == b'{"':
        return f"{path!r} looks like a safetensors file, not a torch.save checkpoint; load it with safetensors"
    if not any(byte < 9 or 13 < byte < 32 for byte in head):  # no control characters: text
        return f"{path!r} is a text file (it starts with {head[:40]!r}), not a PyTorch checkpoint"
    return (
        f"{path!r} is not a PyTorch checkpoint: it starts with the bytes {head[:8].hex(' ')}, which are "
        "neither a zip archive (torch.save) nor a pickle; check that this is the right file"
    )


def _torch_reason(err: BaseException) -> str:
    """The part of torch's ``weights_only`` refusal that names the cause, without its advice."""
    text = str(err)
    found = re.search(r"GLOBAL ([\w.]+)", text)
    if found:
        return f"it would import {found.group(1)}"
    found = re.search(r"WeightsUnpickler error:\s*(.+?)(?:\n|$)", text)
    if found and "weights_only" not in found.group(1):
        return found.group(1).strip()
    return type(err).__name__


def load_checkpoint_file(path: str | PathLike) -> dict[str, Any]:
    """``torch.load`` a checkpoint safely: tensors and plain containers only (``weights_only=True``).

    ``argparse.Namespace`` is allowed too, since timm's training script stores its ``args`` so.
    Raises ``ValueError`` for a file that is not a PyTorch checkpoint (see :func:`sniff_file`), a
    damaged one, one holding anything else (for example a pickle that would run code), and one
    whose content is not a dict.
    """
    if not isinstance(path, (str, bytes, PathLike)):
        raise TypeError(f"path must be a file path (str or pathlib.Path), got {type(path).__name__}.")
    path = os.fsdecode(path)
    problem = sniff_file(path)
    if problem:
        raise ValueError(problem + ".")
    try:
        with torch.serialization.safe_globals([argparse.Namespace]):
            checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        reason = _torch_reason(err)
        if reason.startswith("it would import"):
            raise ValueError(
                f"refused to load {os.fspath(path)!r}: it holds objects other than tensors and plain containers "
                f"({reason}), and loading them could run code. Only load such a file if you trust its source, "
                "and then re-save its state_dict with torch.save."
            ) from None
        raise ValueError(
            f"{os.fspath(path)!r} is damaged or not a PyTorch checkpoint: its pickle could not be read ({reason}); "
            "download the file again."
        ) from None
    except Exception as err:  # EOFError, zip and storage errors from a damaged file
        raise ValueError(
            f"{os.fspath(path)!r} is damaged or truncated, not a readable PyTorch checkpoint "
            f"({type(err).__name__}); download the file again."
        ) from None
    check_checkpoint(checkpoint, repr(os.fspath(path)))
    return checkpoint


def check_checkpoint(checkpoint: Any, where: str = "the checkpoint") -> None:
    """``ValueError`` unless ``checkpoint`` is a state dict or a training checkpoint.

    Both are dicts with string keys; in a training checkpoint the weights entry that
    :func:`unwrap_checkpoint` picks (``state_dict_ema``, ``model_ema``, ``state_dict``, ``model``)
    must be such a dict too.
    """
    _check_dict(checkpoint, where)
    for key in _WEIGHT_KEYS:
        if checkpoint.get(key) is not None:
            _check_dict(checkpoint[key], f"the {key!r} entry of {where}")
            return


def _check_dict(checkpoint: Any, where: str) -> None:
    if not isinstance(checkpoint, Mapping):
        raise ValueError(
            f"{where} holds a {type(checkpoint).__name__}, not a checkpoint: a checkpoint is a dict of tensors "
            "(a model's state_dict()) or a training checkpoint, a dict with a 'state_dict' entry."
        )
    bad = [key for key in checkpoint if not isinstance(key, str)]
    if bad:
        raise ValueError(
            f"{where} is a dict but not a checkpoint: its keys must be parameter names (strings), got {bad[:3]!r}."
        )


def unwrap_checkpoint(checkpoint: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """The weights inside a training checkpoint, with DDP / compile prefixes stripped.

    Prefers ``state_dict_ema`` (the official weights were trained with an EMA), then
    ``model_ema``, ``state_dict``, ``model``; a plain state dict is returned as is.
    """
    check_checkpoint(checkpoint)
    for key in _WEIGHT_KEYS:
        if checkpoint.get(key) is not None:
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
        if (
            re.match(r"^tokens_to_token\.attention[12]\.kqv\.", name)
            and isinstance(value, torch.Tensor)
            and value.ndim >= 1
            and value.shape[0] % 3 == 0
            and value.numel() <= MAX_TENSOR_VALUES  # a larger one is reported as a shape mismatch, not copied
        ):
            k, q, v = value.chunk(3, dim=0)
            value = torch.cat((q, k, v), dim=0)
        renamed[new] = value
    return renamed


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
    if not isinstance(cls, torch.Tensor) or cls.ndim == 0:
        return None
    depth = len({k.split(".")[2] for k in state_dict if k.startswith("backbone.blocks.")})
    module = "performer" if FIRST + "attn.w" in state_dict else "transformer"
    for name, cfg in VARIANTS.items():
        if (cfg["token_len"], cfg["depth"], cfg["token_module"]) == (cls.shape[-1], depth, module):
            return name
    return None


def max_pos_rows(model: nn.Module) -> int:
    """The most rows a checkpoint's position table may have: one per token, plus the prediction token.

    That is the table for a :data:`MAX_IMAGE_SIDE` square image under the model's soft splits, or
    the model's own table if that is larger. A checkpoint claiming more stands for no real image.
    """
    t2t = model.tokens2token
    try:
        rows, cols = soft_split_grids((1, MAX_IMAGE_SIDE, MAX_IMAGE_SIDE), t2t.kernels, t2t.strides, t2t.paddings)[-1]
    except ValueError:  # kernels too large for such an image: the model's own table is the largest
        rows = cols = 0
    return max(rows * cols, model.num_tokens) + 1


def _is_sinusoid(table: torch.Tensor, atol: float = 1e-5) -> bool:
    """Whether ``table`` (``1 x rows x width``) equals ``sinusoid_table(rows, width)``, compared in blocks.

    Row ``pos`` of :func:`~helpers.model.backbone.sinusoid_table` depends only on ``pos`` and the
    width, so each block of :data:`_BLOCK` rows is made on its own (``first_row``); the memory stays
    small however many rows the checkpoint claims.
    """
    rows, width = table.shape[1], table.shape[2]
    if not (table.is_floating_point() and torch.isfinite(table).all()):
        return False
    for start in range(0, rows, _BLOCK):
        stop = min(rows, start + _BLOCK)
        expected = sinusoid_table(stop - start, width, first_row=start)[0]
        if not torch.allclose(table[0, start:stop].float().cpu(), expected, atol=atol):
            return False
    return True


def _check_pos_embed(table: torch.Tensor, token_len: int) -> None:
    """Warn unless ``table`` is the fixed sinusoid the model regenerates in its place."""
    if table.ndim != 3 or table.shape[0] != 1 or table.shape[2] != token_len:
        return  # a width mismatch is reported with the other shapes
    if not _is_sinusoid(table):
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
    if isinstance(table, torch.Tensor):
        limit = max_pos_rows(model)
        if table.ndim == 3 and table.shape[1] > limit:  # refused before any table is built
            raise ValueError(
                f"the checkpoint's pos_embed has {table.shape[1]} rows, a table for {table.shape[1] - 1} tokens; "
                f"this model's soft splits make at most {limit - 1} tokens from any image up to "
                f"{MAX_IMAGE_SIDE} x {MAX_IMAGE_SIDE}, so no image needs it. The file is damaged or not a "
                "T2T-ViT checkpoint."
            )
        _check_pos_embed(table, model.token_len)
        if table.ndim != 3 or table.shape[-1] != model.token_len:
            problems.append(f"pos_embed: checkpoint {tuple(table.shape)}, model (1, N + 1, {model.token_len})")
    elif table is not None:
        problems.append(f"pos_embed: not a tensor but {type(table).__name__}")

    chans = t2t.img_size[0]
    norm_key = FIRST + "norm1.weight"
    area = t2t.kernels[0] ** 2
    qkv_key = FIRST + "attn.qkv.weight"
    tensors = all(isinstance(sd.get(k), torch.Tensor) for k in (norm_key, FIRST + "norm1.bias", qkv_key))
    src = sd[norm_key].numel() // area if tensors else chans
    rows = target[qkv_key].shape[0] if qkv_key in target else None
    if src != chans and src <= MAX_CHANNELS and tensors and tuple(sd[qkv_key].shape) == (rows, src * area):
        sd = adapt_first_token_transformer(sd, chans, t2t.kernels[0])

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
    broken = [name for name, value in sd.items() if value.is_floating_point() and not torch.isfinite(value).all()]
    if broken:
        raise ValueError(
            f"the checkpoint holds NaN or infinite values in {len(broken)} tensor(s), e.g. {broken[:3]}: the "
            "training run that wrote it diverged or the file is damaged; use an earlier checkpoint."
        )
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
