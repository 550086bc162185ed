"""Token arithmetic for the soft split: how many tokens an ``nn.Unfold`` makes."""

from __future__ import annotations

from ..checks import non_negative_int, positive_int


def check_positive(**values: int) -> None:
    """Raise unless every keyword value is a whole number >= 1 (see :func:`.validation.positive_int`)."""
    for name, value in values.items():
        positive_int(name, value)


def soft_split_params(k: int) -> tuple[int, int, int]:
    """T2T's soft split settings for a kernel of size ``k``.

    Returns ``(k, s, p)`` with stride ``s = ceil(k / 2)`` and padding ``p = ceil(k / 4)``,
    so neighbouring patches overlap by about half a kernel.
    """
    k = positive_int("k", k, "k=7")
    return k, (k + 1) // 2, (k + 3) // 4  # ceil(k / 2) and ceil(k / 4), exact for any int


def count_tokens(w: int, h: int, k: int, s: int, p: int) -> tuple[int, int, int]:
    """Tokens made by ``nn.Unfold(kernel_size=k, stride=s, padding=p)`` (dilation 1).

    Along each axis of length ``n`` there are ``floor((n + 2p - (k - 1) - 1) / s + 1)``
    patches. Returns ``(new_w, new_h, total)`` with ``total = new_w * new_h``.

    Raises ``TypeError`` for anything but whole numbers and ``ValueError`` for non-positive
    sizes, kernel or stride, a negative padding, or a kernel that does not fit inside the
    zero-padded image.
    """
    w, h, k, s = (positive_int(name, n) for name, n in (("w", w), ("h", h), ("k", k), ("s", s)))
    p = non_negative_int("padding p", p, "p=0 for no padding")
    for axis, n in (("width", w), ("height", h)):
        if k > n + 2 * p:
            raise ValueError(
                f"kernel k={k} is larger than the padded image {axis} {n} + 2*{p} = {n + 2 * p}; "
                f"use a kernel of at most {n + 2 * p} or a larger image."
            )
    new_w = (w + 2 * p - (k - 1) - 1) // s + 1
    new_h = (h + 2 * p - (k - 1) - 1) // s + 1
    return new_w, new_h, new_w * new_h
