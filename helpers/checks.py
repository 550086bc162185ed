"""The one checks module: argument and input checks for every public function, one small function per kind.

Each check returns the value in plain Python form (``numpy.int64(3)`` becomes ``3``) or raises
``TypeError`` for a wrong type and ``ValueError`` for a wrong value. Every message names the
argument, shows what was given and says what to write instead.

Whole numbers are Python or numpy integers. ``bool`` is not one (``True`` is not a size), and
neither is a float, not even ``2.0``: a size of ``32.9`` must not be quietly cut to ``32``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
from torch import nn

# The most values one weight or table may hold (1 GiB of float32). The largest official model,
# T2T-ViT-24, has 64M parameters in all; a request for more than this is a typo, not a model.
MAX_TENSOR_VALUES = 2**28
# The most encoding blocks a backbone may have; the paper's deepest model has 24.
MAX_DEPTH = 256


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
    if not (math.isfinite(value) and above and value < high):
        bound = f"{'>=' if include_low else '>'} {low:g}" + (f" and < {high:g}" if high < math.inf else "")
        raise ValueError(f"{name} must be a finite number {bound}, got {short(value)}; for example {example}.")
    return float(value)


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
            f"{name} must have exactly {length} entries, one per soft split, got {len(value)}: {short(tuple(value))}; "
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
        raise ValueError(f"{name} must be (channels, height, width), got {short(tuple(value))}; for example {example}.")
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
    if chan % num_heads:
        options = divisors(chan)
        pick = f" Pick {heads_name} from {options}." if options else ""
        raise ValueError(
            f"{heads_name}={num_heads} does not divide {chan_name}={chan}: each head gets "
            f"{chan_name} // {heads_name} channels.{pick}"
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
            f"{what} would hold {' x '.join(str(n) for n in shape)} = {count:.3g} values "
            f"({4 * count / 2**30:.3g} GiB of float32), more than the {MAX_TENSOR_VALUES:.3g} allowed; {hint}."
        )


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
