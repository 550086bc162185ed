"""The one checks module: argument and input checks for every public function, one small function per kind.

Each check returns the value in plain Python form (``numpy.int64(3)`` becomes ``3``) or raises
``TypeError`` for a wrong type and ``ValueError`` for a wrong value. Every message names the
argument, shows what was given and says what to write instead.

Whole numbers are Python or numpy integers. ``bool`` is not one (``True`` is not a size), and
neither is a float, not even ``2.0``: a size of ``32.9`` must not be quietly cut to ``32``.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import math
import numbers
import os
import threading
from collections.abc import Callable, Sequence, Set
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.fx._symbolic_trace import is_fx_symbolic_tracing

# The most values one weight or table may hold (1 GiB of float32). The largest official model,
# T2T-ViT-24, has 64M parameters in all; a request for more than this is a typo, not a model.
MAX_TENSOR_VALUES = 2**28
# The most encoding blocks a backbone may have; the paper's deepest model has 24.
MAX_DEPTH = 256
# The most entries :func:`sequence` takes (seeds, feature counts, values): more is a runaway loop.
MAX_SEQUENCE = 10**6


def is_whole(value: Any) -> bool:
    """True for Python and numpy integers; False for ``bool``, floats (even ``2.0``) and the rest."""
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def is_real(value: Any) -> bool:
    """True for Python and numpy ints and floats; False for ``bool``, complex numbers and the rest."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def short(value: Any, limit: int = 60) -> str:
    """``repr(value)``, cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _head(values: Sequence) -> tuple:
    """The first entries of ``values`` as a tuple, for a message (a ``range(10**12)`` is not listed whole)."""
    head = tuple(itertools.islice(values, 8))
    return head if len(values) <= 8 else (*head, "...")


def given(value: Any) -> str:
    """``value`` as a message shows it: its repr (shortened) and its type."""
    return f"{short(value)} ({type(value).__name__})"


def whole_number(name: str, value: Any, minimum: int = 1, example: str | None = None) -> int:
    """``value`` as an ``int`` if it is a whole number ``>= minimum``, else ``TypeError``/``ValueError``."""
    example = example or f"{name}={max(minimum, 3)}"
    if not is_whole(value):
        if is_real(value) and abs(value) < 1e15 and float(value).is_integer():
            hint = f"write {int(value)} instead of {value!r}"
        elif is_real(value) and abs(value) < 1e15:
            hint = f"it cannot be fractional: pick a whole number such as {math.floor(value)} or {math.ceil(value)}"
        else:
            hint = f"for example {example}"
        raise TypeError(f"{name} must be a whole number (an int), got {given(value)}; {hint}.")
    if value < minimum:
        need = {1: "a positive integer (1 or more)", 0: "a whole number >= 0"}.get(minimum, f"an integer >= {minimum}")
        raise ValueError(f"{name} must be {need}, got {short(value)}; for example {example}.")
    return int(value)


def positive_int(name: str, value: Any, example: str | None = None) -> int:
    """A whole number ``>= 1`` (sizes, counts, kernels, strides)."""
    return whole_number(name, value, 1, example)


def non_negative_int(name: str, value: Any, example: str | None = None) -> int:
    """A whole number ``>= 0`` (paddings, depths, class counts)."""
    return whole_number(name, value, 0, example or f"{name}=0")


def real_number(
    name: str, value: Any, low: float, high: float = math.inf, include_low: bool = False, example: str = ""
) -> float:
    """A finite real number in ``(low, high)``, or ``[low, high)`` with ``include_low``."""
    example = example or f"{name}=1.0"
    if not is_real(value):
        raise TypeError(f"{name} must be a real number (int or float), got {given(value)}; for example {example}.")
    above = value >= low if include_low else value > low
    if not (_finite(value) and above and value < high):
        bound = f"{'>=' if include_low else '>'} {low:g}" + (f" and < {high:g}" if high < math.inf else "")
        raise ValueError(f"{name} must be a finite number {bound}, got {short(value)}; for example {example}.")
    return float(value)


def _finite(value: Any) -> bool:
    """``math.isfinite(value)``, False for an integer too large for a float (not an ``OverflowError``)."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def positive_float(name: str, value: Any, example: str = "") -> float:
    """A finite real number ``> 0`` (multipliers, ratios, scales)."""
    return real_number(name, value, 0.0, example=example)


def optional_positive_float(name: str, value: Any, example: str = "") -> float | None:
    """``None`` (use the default) or a finite real number ``> 0``."""
    return None if value is None else positive_float(name, value, example or f"{name}=None for the default")


def probability(name: str, value: Any) -> float:
    """A drop rate: a finite real number from 0 up to, not including, 1."""
    return real_number(name, value, 0.0, 1.0, include_low=True, example=f"{name}=0.1, or {name}=0.0 for none")


def boolean(name: str, value: Any) -> bool:
    """``True`` or ``False`` (numpy booleans too)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {given(value)}.")
    return bool(value)


def choice(name: str, value: Any, options: Sequence[str]) -> str:
    """One of the strings ``options``."""
    listed = " or ".join(repr(o) for o in options)
    if not isinstance(value, str):
        raise TypeError(f"{name} must be the string {listed}, got {given(value)}.")
    if value not in options:
        raise ValueError(f"{name} must be {listed}, got {value!r}.")
    return value


def layer_class(name: str, value: Any, example: str) -> Any:
    """A class (or factory) that builds a layer, such as ``nn.GELU``; not a layer already built."""
    if isinstance(value, nn.Module):
        raise TypeError(
            f"{name} must be a layer class, not a built layer: got the instance {given(value)}; "
            f"pass the class itself, for example {example} (no brackets)."
        )
    if not callable(value):
        raise TypeError(f"{name} must be a layer class such as {example}, got {given(value)}.")
    return value


def int_sequence(name: str, value: Any, length: int, minimum: int = 1, example: str = "") -> tuple[int, ...]:
    """A list, tuple or 1-D array of exactly ``length`` whole numbers, each ``>= minimum``."""
    example = example or f"{name}=({', '.join(['3'] * length)})"
    if isinstance(value, np.ndarray) and value.ndim == 1:
        value = list(value)
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise TypeError(
            f"{name} must be a tuple or list of {length} whole numbers, got {given(value)}; for example {example}."
        )
    if len(value) != length:
        raise ValueError(
            f"{name} must have exactly {length} entries, one per soft split, got {len(value)}: {short(_head(value))}; "
            f"for example {example}."
        )
    return tuple(whole_number(f"{name}[{i}]", v, minimum, example) for i, v in enumerate(value))


def image_size(value: Any, name: str = "img_size") -> tuple[int, int, int]:
    """``(channels, height, width)``, three positive whole numbers."""
    example = f"{name}=(1, 60, 100) for a 60 x 100 grey image"
    if isinstance(value, np.ndarray) and value.ndim == 1:
        value = list(value)
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise TypeError(f"{name} must be (channels, height, width), got {given(value)}; for example {example}.")
    if len(value) != 3:
        raise ValueError(f"{name} must be (channels, height, width), got {short(_head(value))}; for example {example}.")
    return tuple(positive_int(f"{name} {part}", n, example) for part, n in zip(("channels", "height", "width"), value))


def divisors(n: int) -> list[int] | None:
    """The divisors of ``n`` in increasing order; ``None`` above ``10**10`` (too slow to list)."""
    if n > 10**10:
        return None
    small = [d for d in range(1, math.isqrt(n) + 1) if n % d == 0]
    return sorted(set(small) | {n // d for d in small})


def heads_divide(chan: Any, num_heads: Any, chan_name: str = "chan", heads_name: str = "num_heads") -> tuple[int, int]:
    """``(chan, num_heads)`` when ``num_heads`` divides ``chan``: each head gets ``chan // num_heads``."""
    chan = positive_int(chan_name, chan, f"{chan_name}=64")
    num_heads = positive_int(heads_name, num_heads, f"{heads_name}=1")
    if chan % num_heads:  # the valid counts are not listed: notebook 02's exercise 1 asks for them
        raise ValueError(
            f"{heads_name}={num_heads} does not divide {chan_name}={chan}: each head gets "
            f"{chan_name} // {heads_name} channels, so {chan_name} % {heads_name} must be 0; pick another {heads_name}."
        )
    return chan, num_heads


def scaled_width(mul_name: str, mul: Any, chan_name: str, chan: int) -> int:
    """``int(chan * mul)`` for a positive multiplier ``mul``, refusing a product below 1."""
    mul = positive_float(mul_name, mul, f"{mul_name}=1.0")
    product = chan * mul
    if not product < MAX_TENSOR_VALUES:  # also catches an overflow to inf
        raise ValueError(
            f"{mul_name}={mul!r} gives {chan_name} * {mul_name} = {product:.3g} channels, more than the "
            f"{MAX_TENSOR_VALUES:.3g} a weight may hold; use a {mul_name} near 1 (the paper uses 1 to 4)."
        )
    if int(product) < 1:
        raise ValueError(
            f"{mul_name}={mul!r} gives int({chan_name} * {mul_name}) = int({chan} * {mul!r}) = 0 channels; "
            f"use {mul_name} >= {1 / chan:.3g} so at least one channel remains."
        )
    return int(product)


def tensor_size(what: str, shape: Sequence[int], hint: str) -> None:
    """Refuse a weight or table of more than :data:`MAX_TENSOR_VALUES` values before it is allocated."""
    count = math.prod(shape)
    if count > MAX_TENSOR_VALUES:
        raise ValueError(
            f"{what} would hold {' x '.join(short(n, 24) for n in shape)} = {_approx(count)} values "
            f"({_approx(4 * count // 2**30)} GiB of float32), more than the {MAX_TENSOR_VALUES:.3g} allowed; {hint}."
        )


def _approx(n: int) -> str:
    """A whole number in three digits, ``1.5e+12``; past a float's range, ``about 10**400``."""
    return f"{n:.3g}" if n < 1e300 else f"about 10**{len(str(n)) - 1}"


def token_block_args(
    dim: Any, chan: Any, hidden_chan_mul: Any, act_layer: Any, norm_layer: Any, drop: Any
) -> tuple[int, int, int]:
    """The checks a token block (transformer or performer) shares; returns ``(dim, chan, hidden_chan)``."""
    dim, chan = positive_int("dim", dim, "dim=49"), positive_int("chan", chan, "chan=64")
    tensor_size("the qkv weight (3 * chan x dim)", (3 * chan, dim), "use a smaller chan or token length")
    hidden_chan = scaled_width("hidden_chan_mul", hidden_chan_mul, "chan", chan)
    layer_class("act_layer", act_layer, "act_layer=nn.GELU")
    layer_class("norm_layer", norm_layer, "norm_layer=nn.LayerNorm")
    probability("drop", drop)
    return dim, chan, hidden_chan


# ---- checks around the model -------------------------------------------------------------------------
# The model classes hold only the model. ``@checked(args_check, input_check)`` puts their checks around
# them: the arguments are checked before the constructor runs, and the input before ``forward`` runs.
# Both happen once, at the outermost call: a model built inside a checked constructor (a block inside a
# backbone) was already checked through its parent's arguments, and a module called inside a checked
# forward was already given a checked input. Exported graphs (TorchScript, torch.jit.trace, torch.fx,
# torch.compile) hold only the model's math.


class _Depth(threading.local):
    building = 0  # how many checked constructors or functions are running in this thread
    calling = 0  # how many checked forwards are running in this thread


_DEPTH = _Depth()


def _exporting(x: Any) -> bool:
    """True while an exporter runs the model on stand-ins instead of real tensors."""
    return (
        torch.jit.is_tracing()
        or is_fx_symbolic_tracing()
        or torch.compiler.is_compiling()
        or isinstance(x, torch.fx.Proxy)
    )


def checked(args_check: Callable[[dict[str, Any]], None], input_check: Callable | None = None) -> Callable:
    """Decorate a model class (or a function) with its argument check and, for a class, its input check.

    ``args_check(args)`` gets every argument by name, defaults filled in, and may replace values in
    ``args`` by their plain Python form (``numpy.int64(3) -> 3``). ``input_check(module, x)`` gets the
    module and its input and returns the input to use (a picture cast to the model's dtype, say).
    """

    def decorate(obj: Any) -> Any:
        target = obj.__init__ if isinstance(obj, type) else obj
        signature = inspect.signature(target)

        @functools.wraps(target)
        def run_checked(*args: Any, **kwargs: Any) -> Any:
            if _DEPTH.building == 0:
                bound = signature.bind(*args, **kwargs)
                bound.apply_defaults()
                values = {name: value for name, value in bound.arguments.items() if name != "self"}
                args_check(values)
                bound.arguments.update(values)
                args, kwargs = bound.args, bound.kwargs
            _DEPTH.building += 1
            try:
                return target(*args, **kwargs)
            finally:
                _DEPTH.building -= 1

        if not isinstance(obj, type):
            return run_checked
        obj.__init__ = run_checked
        if input_check is not None:

            def __call__(self: nn.Module, x: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N807
                if _exporting(x) or _DEPTH.calling:
                    return nn.Module.__call__(self, x, *args, **kwargs)
                x = input_check(self, x)
                _DEPTH.calling += 1
                try:
                    return nn.Module.__call__(self, x, *args, **kwargs)
                finally:
                    _DEPTH.calling -= 1

            obj.__call__ = __call__
        return obj

    return decorate


# ---- the model's inputs --------------------------------------------------------------------------------


def _input_width(module: nn.Module) -> int | None:
    """The token length a module takes: the width of its first Linear or LayerNorm (None if unknown)."""
    for layer in module.modules():
        if isinstance(layer, nn.Linear):
            return layer.in_features
        if isinstance(layer, nn.LayerNorm):
            return layer.normalized_shape[-1]
        if next(layer.parameters(recurse=False), None) is not None and layer is not module:
            return None  # some other layer comes first
    return None


def _first_dtype(module: nn.Module) -> torch.dtype | None:
    tensor = next(module.parameters(), None)
    return None if tensor is None else tensor.dtype


def tensor(name: str, value: Any, shape_text: str) -> torch.Tensor:
    """A real-valued ``torch.Tensor``; ``TypeError`` for anything else."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(
            f"{name} must be a tensor of shape {shape_text}, got {type(value).__name__}; convert it with "
            "torch.as_tensor(x) (numpy: torch.from_numpy(x))."
        )
    if value.is_complex():
        raise TypeError(f"{name} must be real-valued, got dtype {value.dtype}; pass x.real or x.abs().")
    return value


def image_input(module: nn.Module, x: Any) -> torch.Tensor:
    """A batch of pictures of the module's ``img_size``, cast to its dtype (values unchanged).

    Any real dtype is accepted: ``uint8`` 0..255 stays 0..255, ``bool`` becomes 0 and 1. Any batch
    size works, 0 included. Not a tensor, or complex: ``TypeError``; a wrong shape: ``ValueError``.
    """
    who = type(module).__name__
    chans, height, width = module.img_size
    x = tensor(f"the picture given to {who}", x, f"(batch, {chans}, {height}, {width})")
    if x.ndim != 4 or tuple(x.shape[1:]) != (chans, height, width):
        raise ValueError(
            f"{who} was built for images of shape (batch, {chans}, {height}, {width}) but got {tuple(x.shape)}. "
            f"Resize the image to {height} x {width} with {chans} channel(s), add a batch axis with "
            f"x[None] if it is missing, or build the model with img_size=(C, H, W) of your image."
        )
    weight = next(module.parameters(), None)
    if x.device.type == "meta" and weight is not None and weight.device.type != "meta":
        raise ValueError(
            f"the picture given to {who} is on the meta device (shapes only, no values) but the model is on "
            f"{weight.device}; pass a real tensor, or move the model with .to('meta') to trace shapes."
        )
    dtype = _first_dtype(module)
    return x if dtype is None or x.dtype == dtype else x.to(dtype)


def token_input(module: nn.Module, x: Any) -> torch.Tensor:
    """Tokens ``(batch, num_tokens, dim)`` with the token length the module was built for."""
    who = type(module).__name__
    dim = _input_width(module)
    x = tensor(f"the tokens given to {who}", x, f"(batch, num_tokens, {dim or 'dim'})")
    if x.ndim != 3 or (dim is not None and x.shape[-1] != dim):
        raise ValueError(
            f"{who} expects tokens of shape (batch, num_tokens, {dim}), got {tuple(x.shape)}; "
            f"the last axis must be the token length dim={dim}."
        )
    dtype = _first_dtype(module)
    return x if dtype is None or x.dtype == dtype or not x.dtype.is_floating_point else x.to(dtype)


# ---- the model's arguments ------------------------------------------------------------------------------
# One function per public constructor or function, named after it. Each gets the arguments by name
# (see ``checked``) and writes back their plain Python form.

LAYER_EXAMPLES = {"act_layer": "act_layer=nn.GELU", "norm_layer": "norm_layer=nn.LayerNorm"}


def _layers(a: dict[str, Any]) -> None:
    for name, example in LAYER_EXAMPLES.items():
        if name in a:
            layer_class(name, a[name], example)


def soft_split_params_args(a: dict[str, Any]) -> None:
    a["k"] = positive_int("k", a["k"], "k=7")


def count_tokens_args(a: dict[str, Any]) -> None:
    for name in ("w", "h", "k", "s"):
        a[name] = positive_int(name, a[name])
    a["p"] = p = non_negative_int("padding p", a["p"], "p=0 for no padding")
    for axis, n in (("width", a["w"]), ("height", a["h"])):
        if a["k"] > n + 2 * p:
            raise ValueError(
                f"kernel k={a['k']} is larger than the padded image {axis} {n} + 2*{p} = {n + 2 * p}; "
                f"use a kernel of at most {n + 2 * p} or a larger image."
            )


def sinusoid_table_args(a: dict[str, Any]) -> None:
    a["num_rows"] = positive_int("num_rows", a["num_rows"], "num_rows=197")
    a["width"] = positive_int("width", a["width"], "width=768")
    a["first_row"] = non_negative_int("first_row", a["first_row"], "first_row=0")
    tensor_size(
        "the position table (num_rows x width)", (a["num_rows"], a["width"]), "use fewer rows or a smaller width"
    )


def neural_net_args(a: dict[str, Any]) -> None:
    a["in_chan"] = chan = positive_int("in_chan", a["in_chan"], "in_chan=64")
    for name in ("hidden_chan", "out_chan"):
        if a[name] is not None:
            a[name] = positive_int(name, a[name], f"{name}=None (as wide as in_chan)")
    hidden, out = a["hidden_chan"] or chan, a["out_chan"] or chan
    layer_class("act_layer", a["act_layer"], LAYER_EXAMPLES["act_layer"])
    a["drop"] = probability("drop", a["drop"])
    for name, shape in (("fc1", (hidden, chan)), ("fc2", (out, hidden))):
        tensor_size(f"the {name} weight", shape, "use fewer channels")


def attention_args(a: dict[str, Any]) -> None:
    a["dim"] = dim = positive_int("dim", a["dim"], "dim=49")
    a["chan"], a["num_heads"] = chan, _ = heads_divide(a["chan"], a["num_heads"])
    for name in ("qkv_bias", "v_residual", "fused"):
        a[name] = boolean(name, a[name])
    a["qk_scale"] = optional_positive_float("qk_scale", a["qk_scale"])
    for name in ("attn_drop", "proj_drop"):
        a[name] = probability(name, a[name])
    tensor_size("the qkv weight (3 * chan x dim)", (3 * chan, dim), "use a smaller chan or token length")
    tensor_size("the proj weight (chan x chan)", (chan, chan), "use a smaller chan")


def token_transformer_args(a: dict[str, Any]) -> None:
    a["dim"], a["chan"], _ = token_block_args(
        a["dim"], a["chan"], a["hidden_chan_mul"], a["act_layer"], a["norm_layer"], a["drop"]
    )
    a["chan"], a["num_heads"] = heads_divide(a["chan"], a["num_heads"])
    a["qkv_bias"] = boolean("qkv_bias", a["qkv_bias"])
    a["qk_scale"] = optional_positive_float("qk_scale", a["qk_scale"])


def performer_attention_args(a: dict[str, Any]) -> None:
    a["dim"], a["chan"] = dim, chan = (
        positive_int("dim", a["dim"], "dim=49"),
        positive_int("chan", a["chan"], "chan=64"),
    )
    a["qkv_bias"] = boolean("qkv_bias", a["qkv_bias"])
    a["proj_drop"] = probability("proj_drop", a["proj_drop"])
    tensor_size("the qkv weight (3 * chan x dim)", (3 * chan, dim), "use a smaller chan or token length")
    m = scaled_width("kernel_ratio", a["kernel_ratio"], "chan", chan)
    tensor_size("the random features w", (m, chan), "use a smaller kernel_ratio")


def token_performer_args(a: dict[str, Any]) -> None:
    a["dim"], a["chan"], _ = token_block_args(
        a["dim"], a["chan"], a["hidden_chan_mul"], a["act_layer"], a["norm_layer"], a["drop"]
    )
    a["qkv_bias"] = boolean("qkv_bias", a["qkv_bias"])
    performer_attention_args(
        dict(dim=a["dim"], chan=a["chan"], kernel_ratio=a["kernel_ratio"], qkv_bias=True, proj_drop=0.0)
    )


def smallest_side(kernels: Sequence[int], strides: Sequence[int], paddings: Sequence[int]) -> int:
    """The smallest image side that still leaves one token after every soft split.

    A soft split turns a side ``n`` into ``floor((n + 2p - k) / s) + 1`` tokens, so it leaves at
    least ``m`` tokens exactly when ``n >= (m - 1) * s + k - 2p`` (and ``n >= 1``). Going backwards
    from ``m = 1`` token after the last split, each split in turn gives the side it needs.
    """
    try:
        splits = len(kernels)  # any number of splits; int_sequence checks the types
    except TypeError:
        splits = 3
    kernels = int_sequence("kernels", kernels, splits, 1)
    strides = int_sequence("strides", strides, splits, 1)
    paddings = int_sequence("paddings", paddings, splits, 0)
    side = 1
    for k, s, p in reversed(list(zip(kernels, strides, paddings))):
        side = max(1, (side - 1) * s + k - 2 * p)
    return side


def soft_split_grids(img_size: tuple[int, int, int], kernels, strides, paddings) -> list[tuple[int, int]]:
    """The ``(h, w)`` token grid after each soft split; ``ValueError`` naming the smallest image that works."""
    height, width = img_size[1:]
    grids = []
    for k, s, p in zip(kernels, strides, paddings):
        if k > min(height, width) + 2 * p:
            side = smallest_side(kernels, strides, paddings)
            raise ValueError(
                f"image {img_size[1]} x {img_size[2]} is too small for soft splits with kernels {tuple(kernels)}, "
                f"strides {tuple(strides)} and paddings {tuple(paddings)} (kernel k={k} is larger than the "
                f"padded side {min(height, width)} + 2*{p} at split {len(grids)}). The smallest size that works "
                f"is {side} x {side}: use an image at least that large or smaller kernels."
            )
        height, width = (height + 2 * p - k) // s + 1, (width + 2 * p - k) // s + 1
        grids.append((height, width))
    return grids


def tokens2token_args(a: dict[str, Any]) -> list[tuple[int, int]]:
    a["img_size"] = chans, _, _ = image_size(a["img_size"])
    a["softsplit_kernels"] = kernels = int_sequence(
        "softsplit_kernels", a["softsplit_kernels"], 3, 1, "softsplit_kernels=(7, 3, 3)"
    )
    for name, low, example in (("softsplit_strides", 1, "(4, 2, 2)"), ("softsplit_paddings", 0, "(2, 1, 1)")):
        if a[name] is not None:
            a[name] = int_sequence(name, a[name], 3, low, f"{name}={example}")
    a["token_chan"] = token_chan = positive_int("token_chan", a["token_chan"], "token_chan=64")
    a["token_len"] = positive_int("token_len", a["token_len"], "token_len=768")
    a["num_heads"] = positive_int("num_heads", a["num_heads"], "num_heads=1")
    a["token_module"] = choice("token_module", a["token_module"], ("transformer", "performer"))
    if a["token_module"] == "transformer":
        heads_divide(token_chan, a["num_heads"], "token_chan")
    scaled_width("hidden_chan_mul", a["hidden_chan_mul"], "token_chan", token_chan)
    scaled_width("kernel_ratio", a["kernel_ratio"], "token_chan", token_chan)
    a["qkv_bias"] = boolean("qkv_bias", a["qkv_bias"])
    scales = a["qk_scales"]
    if isinstance(scales, (str, bytes)) or not isinstance(scales, Sequence):
        raise TypeError(
            f"qk_scales must be a pair, one score scale per token transformer, got {given(scales)}; for example "
            "qk_scales=(None, None) for the default (head_dim ** -0.5) or qk_scales=(147 ** -0.5, 576 ** -0.5)."
        )
    if len(scales) != 2:
        raise ValueError(f"qk_scales must have 2 entries, one per token transformer, got {short(tuple(scales))}.")
    a["qk_scales"] = tuple(optional_positive_float(f"qk_scales[{i}]", s) for i, s in enumerate(scales))
    _layers(a)
    a["drop"] = probability("drop", a["drop"])
    tensor_size(
        "the projection weight (token_len x token_chan * k * k)",
        (a["token_len"], token_chan * kernels[2] ** 2),
        "use a shorter token_len or a smaller last kernel",
    )
    strides = a["softsplit_strides"] or [(k + 1) // 2 for k in kernels]
    paddings = a["softsplit_paddings"] if a["softsplit_paddings"] is not None else [(k + 3) // 4 for k in kernels]
    grids = soft_split_grids(a["img_size"], kernels, strides, paddings)
    for dim in (chans * kernels[0] ** 2, token_chan * kernels[1] ** 2):
        tensor_size("the qkv weight (3 * token_chan x token length)", (3 * token_chan, dim), "use smaller kernels")
    tensor_size("the proj weight (token_chan x token_chan)", (token_chan, token_chan), "use a smaller token_chan")
    hidden = int(token_chan * a["hidden_chan_mul"])
    tensor_size("the NeuralNet weights (token_chan x hidden)", (token_chan, hidden), "use a smaller hidden_chan_mul")
    return grids


def encoding_block_args(a: dict[str, Any]) -> None:
    a["dim"] = dim = positive_int("dim", a["dim"], "dim=768")
    heads_divide(dim, a["num_heads"], "dim")
    tensor_size("the qkv weight (3 * dim x dim)", (3 * dim, dim), "use a smaller dim")
    scaled_width("hidden_chan_mul", a["hidden_chan_mul"], "dim", dim)
    a["qkv_bias"] = boolean("qkv_bias", a["qkv_bias"])
    a["qk_scale"] = optional_positive_float("qk_scale", a["qk_scale"])
    _layers(a)
    for name in ("drop", "attn_drop", "drop_path"):
        a[name] = probability(name, a[name])


def vit_backbone_args(a: dict[str, Any]) -> None:
    a["depth"] = depth = non_negative_int("depth", a["depth"], "depth=12 (0 gives no encoding blocks)")
    if depth > MAX_DEPTH:
        raise ValueError(
            f"depth={depth} encoding blocks is far more than any ViT uses (the paper's deepest has 24); "
            f"use a depth of at most {MAX_DEPTH}."
        )
    a["preds"] = preds = non_negative_int("preds", a["preds"], "preds=10 (0 gives no head, only features)")
    a["num_tokens"] = num_tokens = positive_int("num_tokens", a["num_tokens"], "num_tokens=196")
    a["token_len"] = token_len = positive_int("token_len", a["token_len"], "token_len=768")
    a["token_len"], a["num_heads"] = heads_divide(token_len, a["num_heads"], "token_len")
    hidden = scaled_width("hidden_chan_mul", a["hidden_chan_mul"], "token_len", token_len)
    a["qkv_bias"] = boolean("qkv_bias", a["qkv_bias"])
    a["qk_scale"] = optional_positive_float("qk_scale", a["qk_scale"])
    _layers(a)
    for name in ("drop_rate", "attn_drop_rate", "drop_path_rate"):
        a[name] = probability(name, a[name])
    tensor_size(
        "the position table pos_embed (num_tokens + 1 x token_len)",
        (num_tokens + 1, token_len),
        "use a smaller image, larger soft split strides or a shorter token_len",
    )
    per_block = 4 * token_len + 2 * hidden  # qkv, proj and the two NeuralNet weights, per row of token_len
    tensor_size(
        "the weights of the encoding blocks (depth x token_len x (4 * token_len + 2 * token_len * hidden_chan_mul))",
        (depth, token_len, per_block),
        "use a smaller hidden_chan_mul (the paper uses 1 to 4), token_len or depth",
    )
    tensor_size("the head weight (preds x token_len)", (preds, token_len), "use fewer preds")


def t2t_vit_args(a: dict[str, Any]) -> None:
    """T2TViT's own names first, then the T2T module's and the backbone's checks on what they get."""
    if a["t2t_num_heads"] is not None:
        a["t2t_num_heads"] = positive_int(
            "t2t_num_heads", a["t2t_num_heads"], "t2t_num_heads=1, or None to use num_heads"
        )
    a["num_heads"] = positive_int("num_heads", a["num_heads"], "num_heads=1")
    a["token_len"] = positive_int("token_len", a["token_len"], "token_len=768")
    heads_divide(a["token_len"], a["num_heads"], "token_len")
    a["token_chan"] = positive_int("token_chan", a["token_chan"], "token_chan=64")
    if a["token_module"] == "transformer":  # the Performer has no heads
        heads = ("num_heads", a["num_heads"]) if a["t2t_num_heads"] is None else ("t2t_num_heads", a["t2t_num_heads"])
        heads_divide(a["token_chan"], heads[1], "token_chan", heads[0])
    for name in ("t2t_hidden_chan_mul", "encoding_hidden_chan_mul"):
        a[name] = positive_float(name, a[name], f"{name}=2.0")
    for name in ("t2t_drop", "drop_rate", "attn_drop_rate", "drop_path_rate"):
        a[name] = probability(name, a[name])
    t2t = dict(
        img_size=a["img_size"],
        softsplit_kernels=a["softsplit_kernels"],
        num_heads=a["t2t_num_heads"] or a["num_heads"],
        token_chan=a["token_chan"],
        token_len=a["token_len"],
        hidden_chan_mul=a["t2t_hidden_chan_mul"],
        qkv_bias=a["qkv_bias"],
        qk_scales=a["t2t_qk_scales"],
        act_layer=a["act_layer"],
        norm_layer=a["norm_layer"],
        token_module=a["token_module"],
        softsplit_strides=a["softsplit_strides"],
        softsplit_paddings=a["softsplit_paddings"],
        kernel_ratio=0.5,
        drop=a["t2t_drop"],
    )
    try:
        grids = tokens2token_args(t2t)
    except (TypeError, ValueError) as err:  # name T2TViT's argument, not the T2T module's
        raise type(err)(str(err).replace("qk_scales", "t2t_qk_scales")) from None
    for name in ("img_size", "softsplit_kernels", "softsplit_strides", "softsplit_paddings", "token_module"):
        a[name] = t2t[name]
    a["t2t_qk_scales"] = t2t["qk_scales"]
    num_tokens = grids[-1][0] * grids[-1][1]
    vit_backbone_args(
        dict(
            num_tokens=num_tokens,
            token_len=a["token_len"],
            preds=a["preds"],
            num_heads=a["num_heads"],
            hidden_chan_mul=a["encoding_hidden_chan_mul"],
            depth=a["depth"],
            qkv_bias=a["qkv_bias"],
            qk_scale=a["qk_scale"],
            act_layer=a["act_layer"],
            norm_layer=a["norm_layer"],
            drop_rate=a["drop_rate"],
            attn_drop_rate=a["attn_drop_rate"],
            drop_path_rate=a["drop_path_rate"],
        )
    )
    a["preds"] = non_negative_int("preds", a["preds"])
    a["depth"] = non_negative_int("depth", a["depth"])
    a["qkv_bias"] = boolean("qkv_bias", a["qkv_bias"])
    a["qk_scale"] = optional_positive_float("qk_scale", a["qk_scale"])


def module(name: str, value: Any) -> nn.Module:
    """A ``torch.nn.Module`` (a model or a layer)."""
    if not isinstance(value, nn.Module):
        raise TypeError(f"{name} must be a torch.nn.Module such as a T2TViT, got {given(value)}.")
    return value


# ---- timm's arguments -----------------------------------------------------------------------------------


def as_hw(img_size: Any) -> tuple[int, int]:
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
            f"{short(_head(img_size))}; for example {example}."
        )
    return positive_int("img_size height", img_size[0], example), positive_int("img_size width", img_size[1], example)


def timm_t2t_vit_args(a: dict[str, Any]) -> None:
    """TimmT2TViT: timm's names, then :func:`t2t_vit_args` on the T2TViT arguments they become."""
    from .model.t2t_vit import T2TViT  # the signature gives the defaults and the accepted names

    params = inspect.signature(T2TViT.__init__).parameters
    accepted = [p for p in params if p not in ("self", "img_size", "preds")]
    unknown = sorted(set(a["kwargs"]) - set(accepted))
    if unknown:
        raise TypeError(
            f"unknown argument(s) {unknown}. A T2T-ViT accepts timm's "
            f"{['img_size', 'in_chans', 'num_classes', 'global_pool', 'device', 'dtype']} and the T2TViT "
            f"arguments {accepted}."
        )
    a["img_size"] = height, width = as_hw(a["img_size"])
    a["in_chans"] = positive_int("in_chans", a["in_chans"], "in_chans=3 for RGB or in_chans=1 for grey")
    a["num_classes"] = non_negative_int("num_classes", a["num_classes"], "num_classes=1000 (0 gives no head)")
    if a["global_pool"] is None:
        a["global_pool"] = "token"
    if a["global_pool"] not in ("token", ""):
        raise ValueError(
            "a T2T-ViT reads its prediction from the class token: global_pool must be 'token' "
            f"(or '' for every token), got {a['global_pool']!r}."
        )
    args = {name: p.default for name, p in params.items() if name not in ("self", "img_size", "preds")}
    args.update(a["kwargs"], img_size=(a["in_chans"], height, width), preds=a["num_classes"])
    t2t_vit_args(args)
    a["kwargs"] = {name: args[name] for name in a["kwargs"]}


@torch.jit.unused
def intermediates_args(module: nn.Module, x: Any, indices: Any, output_fmt: Any) -> Any:
    """``forward_intermediates``' picture (see :func:`image_input`), block indices and output format."""
    choice("output_fmt", output_fmt, ("NCHW", "NLC"))
    depth = len(module.backbone.blocks)
    if indices is not None:
        picks = [indices] if is_whole(indices) else indices
        if isinstance(picks, (str, bytes)) or not isinstance(picks, Sequence) or not all(map(is_whole, picks)):
            raise TypeError(f"indices must be an int, a list of ints or None, got {given(indices)}.")
        if is_whole(indices) and not 0 <= indices <= depth:
            raise ValueError(f"indices={indices} asks for the last {indices} blocks, but there are {depth}.")
        if not is_whole(indices) and not all(-depth <= i < depth for i in picks):
            raise ValueError(f"indices {short(list(picks))} must be block numbers from {-depth} to {depth - 1}.")
    return x if _exporting(x) else image_input(module, x)


# ---- checks for the helpers around the model: answers, sequences, tensors, arrays, files --------------


def _plain(value: Any) -> Any:
    """A one-element real tensor or numpy array as its Python number; anything else unchanged."""
    if isinstance(value, torch.Tensor) and value.numel() == 1 and not value.is_complex():
        return value.item()
    if isinstance(value, np.ndarray) and value.size == 1 and value.dtype.kind in "iuf":
        return value.item()
    return value


def _instead(value: Any, example: str) -> str:
    """The end of a message about a value of the wrong type: what to write instead."""
    return f"write it without quotes, for example {example}" if isinstance(value, str) else f"for example {example}"


def _given(value: Any) -> str:
    """:func:`given`, but a tensor or array of more than one value by its shape, not its many values."""
    if isinstance(value, torch.Tensor | np.ndarray) and value.ndim > 0:
        return f"a {type(value).__name__} of shape {tuple(value.shape)}"
    return given(value)


def finite_number(name: str, value: Any, example: str = "") -> float:
    """A finite real number as a ``float``; a one-element real tensor or array counts as its value.

    For numbers a learner computes and passes in, such as an exercise's answer: ``torch.tensor(3.5)``
    and ``numpy.float32(3.5)`` count as 3.5. ``bool`` and text are not numbers (``TypeError``); NaN
    and infinity are not finite (``ValueError``).
    """
    example = example or f"{name}=1.5"
    value = _plain(value)
    if not is_real(value):
        raise TypeError(
            f"{name} must be a real number (int or float), got {_given(value)}; {_instead(value, example)}."
        )
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float
        number = math.inf
    if not math.isfinite(number):
        raise ValueError(f"{name} must be a finite number, got {short(value)}; for example {example}.")
    return number


def _whole_range(low: int | None, high: int | None) -> str:
    """``"a whole number from 0 to 9"``, ``">= 0"`` or ``"<= 9"``."""
    if low is not None and high is not None:
        return f"a whole number from {low} to {high}"
    return f"a whole number >= {low}" if low is not None else f"a whole number <= {high}"


def whole_value(name: str, value: Any, low: int | None = None, high: int | None = None, example: str = "") -> int:
    """A whole number by its value, as an ``int``: ``3``, ``3.0``, ``numpy.int64(3)``, ``torch.tensor(3)``.

    Looser than :func:`whole_number`, for numbers a learner computes (``384 / 4`` is ``96.0``): the
    type does not matter, a fractional part does (``TypeError``, as in :func:`whole_number`).
    ``low`` and ``high`` bound it, both included (``ValueError``).
    """
    example = example or f"{name}={3 if low is None else low}"
    value = _plain(value)
    if not is_real(value) or not (is_whole(value) or float(value).is_integer()):
        fractional = is_real(value) and math.isfinite(value)
        end = f"it cannot be fractional, for example {example}" if fractional else _instead(value, example)
        raise TypeError(f"{name} must be a whole number, got {_given(value)}; {end}.")
    number = int(value)
    if (low is not None and number < low) or (high is not None and number > high):
        raise ValueError(f"{name} must be {_whole_range(low, high)}, got {short(value)}; for example {example}.")
    return number


def int_in_range(name: str, value: Any, low: int, high: int, example: str = "") -> int:
    """A whole number (an int, as in :func:`whole_number`) from ``low`` to ``high``, both included."""
    example = example or f"{name}={low}"
    if not is_whole(value):
        whole_number(name, value, low, example)  # raises its TypeError: not a whole number
    if not low <= value <= high:
        raise ValueError(f"{name} must be {_whole_range(low, high)}, got {short(value)}; for example {example}.")
    return int(value)


def random_seed(name: str, value: Any) -> int:
    """A seed that Python, NumPy, scikit-learn and torch all take: a whole number from 0 to 2**32 - 1."""
    return int_in_range(name, value, 0, 2**32 - 1, f"{name}=0")


def sequence(
    name: str, value: Any, length: int | None = None, of: str = "numbers", example: str = "", ordered: bool = True
) -> tuple:
    """The entries of a list or tuple (``torch.Size`` too), a 1-D array or a 1-D tensor, as a tuple.

    With ``length``, exactly that many (``ValueError`` otherwise); with ``ordered=False`` a set is
    welcome too (things listed in any order). Text is not a sequence here: ``"1, 2"`` is not two
    numbers. ``of`` names the entries in messages; check each entry with the check for its kind.
    """
    count = "" if length is None else f"{length} "
    example = example or f"{name}=({', '.join(['1'] * (length or 2))})"
    want = f"{'a tuple or list' if ordered else 'a list, tuple or set'} of {count}{of}"
    if isinstance(value, torch.Tensor | np.ndarray):
        if value.ndim != 1:
            raise TypeError(
                f"{name} must be {want}, got a {type(value).__name__} of shape {tuple(value.shape)}; "
                f"pass tuple(x.shape) for a tensor's shape, not the tensor itself, for example {example}."
            )
        value = value.tolist()
    kinds = (Sequence,) if ordered else (Sequence, Set)
    if isinstance(value, str | bytes) or not isinstance(value, kinds):
        raise TypeError(f"{name} must be {want}, got {_given(value)}; for example {example}.")
    if len(value) > MAX_SEQUENCE:
        raise ValueError(f"{name} holds {len(value):,} {of}, more than the {MAX_SEQUENCE:,} any helper takes.")
    if length is not None and len(value) != length:
        raise ValueError(f"{name} needs {length} {of}, got {len(value)}: {short(_head(value))}; for example {example}.")
    return tuple(value)


def grid(name: str, value: Any, example: str = "") -> tuple[int, int]:
    """A token grid ``(rows, columns)``: two whole numbers >= 1 whose product a figure can hold."""
    example = example or f"{name}=(6, 10)"
    rows, cols = sequence(name, value, 2, "whole numbers (rows, columns)", example)
    rows, cols = positive_int(f"{name} rows", rows, example), positive_int(f"{name} columns", cols, example)
    tensor_size(f"the token grid {name}", (rows, cols), "use the grid that count_tokens gives")
    return rows, cols


def string(name: str, value: Any, example: str = "") -> str:
    """Text: a ``str``."""
    if not isinstance(value, str):
        example = example or repr(name)
        raise TypeError(f"{name} must be a string (text in quotes), got {_given(value)}; for example {example}.")
    return value


def function(name: str, value: Any, example: str = "") -> Any:
    """Something to call (a function, a lambda, a class), not the result of calling it."""
    if not callable(value):
        raise TypeError(
            f"{name} must be a function, got {_given(value)}; pass the function itself, "
            f"for example {example or name + '=my_function'}, without calling it."
        )
    return value


def instance(name: str, value: Any, kinds: type | tuple[type, ...], example: str = "") -> Any:
    """An instance of the class ``kinds`` (or of one of the classes ``kinds``)."""
    kinds = kinds if isinstance(kinds, tuple) else (kinds,)
    if not isinstance(value, kinds):
        listed = " or ".join(kind.__name__ for kind in kinds)
        article = "an" if listed[0].lower() in "aeiou" else "a"
        end = f"; for example {example}." if example else "."
        raise TypeError(f"{name} must be {article} {listed}, got {_given(value)}{end}")
    return value


def array(
    name: str, value: Any, ndim: int | None = None, axes: str = "", hint: str = "", dtype: Any = np.float64
) -> np.ndarray:
    """Real numbers in an array (numpy, a tensor, nested lists) as a numpy array of ``dtype``.

    ``dtype=None`` keeps the array's own dtype. With ``ndim``, one with that many axes (``axes``
    names them in the message). Text, objects, complex numbers and ragged lists: ``TypeError``.
    """
    end = f"; {hint}." if hint else "."
    if isinstance(value, torch.Tensor) and not value.is_complex():
        value = value.detach().cpu()
        value = value.numpy() if value.dtype in (torch.float32, torch.float64) else value.to(torch.float64).numpy()
    if isinstance(value, Sequence) and not isinstance(value, str | bytes) and len(value) > MAX_TENSOR_VALUES:
        raise ValueError(f"{name} holds {len(value):,} entries, more than the {MAX_TENSOR_VALUES:,} allowed{end}")
    try:
        values = np.asarray(value)
    except (TypeError, ValueError, MemoryError):  # ragged nested lists, or more than numpy can hold
        values = np.asarray(None)
    if values.dtype.kind not in "biuf":  # booleans, integers, floats
        raise TypeError(f"{name} must be an array of real numbers, got {_given(value)}{end}")
    if ndim is not None and values.ndim != ndim:
        count = f"{ndim} {'axis' if ndim == 1 else 'axes'}" + (f", {axes}" if axes else "")
        raise ValueError(f"{name} must have {count}, got shape {values.shape}{end}")
    return values if dtype is None else values.astype(dtype)


def path(name: str, value: Any, example: str = "") -> Path:
    """A file system path (``str`` or ``os.PathLike``, such as ``pathlib.Path``) as a ``Path``."""
    if not isinstance(value, str | os.PathLike):
        raise TypeError(
            f"{name} must be a path, a str or a pathlib.Path, got {_given(value)}; "
            f"for example {example or name + '=' + repr('picture.png')}."
        )
    return Path(value)


def existing_file(name: str, value: Any, what: str = "file", hint: str = "Check the spelling and the folder") -> Path:
    """A :func:`path` to a file that exists (``ValueError`` for a missing file or a folder)."""
    file = path(name, value)
    if not file.is_file():
        raise ValueError(f"no {what} at {str(file)!r}: the path does not exist (or is a folder). {hint}.")
    return file


# The patch-ViT baseline of notebook 05 (helpers.training.patch_vit), checked like the model: one
# function per constructor, named after it, used with :func:`checked`.


def patch_embed_args(a: dict[str, Any]) -> None:
    """``PatchEmbed``: a picture size that ``patch_size`` tiles without a remainder."""
    a["img_size"] = chans, height, width = image_size(a["img_size"])
    a["patch_size"] = patch = positive_int("patch_size", a["patch_size"], "patch_size=8")
    a["token_len"] = token_len = positive_int("token_len", a["token_len"], "token_len=64")
    if height % patch or width % patch:
        options = divisors(math.gcd(height, width))
        pick = f"pick one of {options}" if options else "pick a common divisor of the height and the width"
        raise ValueError(
            f"patch_size={patch} does not tile a {height} x {width} image without a remainder; "
            f"{pick} or resize the image."
        )
    tensor_size(
        "the projection weight (token_len x channels * patch_size ** 2)",
        (token_len, chans * patch * patch),
        "use a smaller patch_size or token_len",
    )


def patch_vit_args(a: dict[str, Any]) -> None:
    """``PatchViT``: the patch embedding's checks, then the backbone's on the tokens it makes."""
    embed = {name: a[name] for name in ("img_size", "patch_size", "token_len")}
    patch_embed_args(embed)
    a.update(embed)
    _, height, width = a["img_size"]
    backbone = {name: a[name] for name in ("preds", "token_len", "num_heads", "hidden_chan_mul", "depth", "qkv_bias")}
    backbone |= {name: a[name] for name in ("qk_scale", "drop_rate", "attn_drop_rate", "drop_path_rate")}
    backbone["num_tokens"] = (height // a["patch_size"]) * (width // a["patch_size"])
    vit_backbone_args(backbone)
    a.update({name: value for name, value in backbone.items() if name in a})


def make_fast_args(a: dict[str, Any]) -> None:
    """``make_fast`` and ``make_plain``: a module, and the two switches."""
    module("model", a["model"])
    for name in ("soft_split", "linear"):
        if name in a:
            a[name] = boolean(name, a[name])
