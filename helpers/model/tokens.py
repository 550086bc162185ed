"""Token arithmetic for the soft split: how many tokens an ``nn.Unfold`` makes."""

from .. import checks


@checks.checked(checks.soft_split_params_args)
def soft_split_params(k: int) -> tuple[int, int, int]:
    """T2T's soft split settings for a kernel of size ``k``: ``(k, s, p)``.

    Stride ``s = ceil(k / 2)`` and padding ``p = ceil(k / 4)``, so neighbouring patches overlap
    by about half a kernel.
    """
    return k, (k + 1) // 2, (k + 3) // 4  # ceil(k / 2) and ceil(k / 4), exact for any int


@checks.checked(checks.count_tokens_args)
def count_tokens(w: int, h: int, k: int, s: int, p: int) -> tuple[int, int, int]:
    """Tokens made by ``nn.Unfold(kernel_size=k, stride=s, padding=p)`` (dilation 1).

    Along each axis of length ``n`` there are ``floor((n + 2p - (k - 1) - 1) / s + 1)``
    patches. Returns ``(new_w, new_h, total)`` with ``total = new_w * new_h``.
    """
    new_w = (w + 2 * p - (k - 1) - 1) // s + 1
    new_h = (h + 2 * p - (k - 1) - 1) // s + 1
    return new_w, new_h, new_w * new_h
