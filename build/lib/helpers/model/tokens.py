"""Token arithmetic for the soft split: how many tokens an ``nn.Unfold`` makes."""

from __future__ import annotations

import math


def check_positive(**values: int) -> None:
    """Raise ``ValueError`` unless every keyword value is an integer >= 1."""
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(
                f"{name} must be a positive integer (1 or more), got {value!r}; pass a whole number such as {name}=3."
            )


def soft_split_params(k: int) -> tuple[int, int, int]:
    """T2T's soft split settings for a kernel of size ``k``.

    Returns ``(k, s, p)`` with stride ``s = ceil(k / 2)`` and padding ``p = ceil(k / 4)``,
    so neighbouring patches overlap by about half a kernel.
    """
    check_positive(k=k)
    return k, math.ceil(k / 2), math.ceil(k / 4)


def count_tokens(w: int, h: int, k: int, s: int, p: int) -> tuple[int, int, int]:
    """Tokens made by ``nn.Unfold(kernel_size=k, stride=s, padding=p)`` (dilation 1).

    Along each axis of length ``n`` there are ``floor((n + 2p - (k - 1) - 1) / s + 1)``
    patches. Returns ``(new_w, new_h, total)`` with ``total = new_w * new_h``.

    Raises ``ValueError`` for non-positive sizes, kernel or stride, a negative padding,
    or a kernel that does not fit inside the zero-padded image.
    """
    check_positive(w=w, h=h, k=k, s=s)
    if isinstance(p, bool) or not isinstance(p, int) or p < 0:
        raise ValueError(f"padding p must be a whole number >= 0, got {p!r}; use p=0 for no padding.")
    for axis, n in (("width", w), ("height", h)):
        if k > n + 2 * p:
            raise ValueError(
                f"kernel k={k} is larger than the padded image {axis} {n} + 2*{p} = {n + 2 * p}; "
                f"use a kernel of at most {n + 2 * p} or a larger image."
            )
    new_w = (w + 2 * p - (k - 1) - 1) // s + 1
    new_h = (h + 2 * p - (k - 1) - 1) // s + 1
    return new_w, new_h, new_w * new_h
