"""Checkers for notebook 01's exercises: a first kernel of 11, the overlap, uniform coverage.

Every truth is computed here from ``nn.Unfold`` / ``nn.Fold`` on the running picture's size, not
typed in, and no message gives the answer away. Unusable answers raise ``TypeError`` (a wrong type)
or ``ValueError`` (a wrong value) from :mod:`helpers.checks`.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..checks import finite_number, int_in_range, sequence, whole_value
from .feedback import Feedback, right, wrong

HEIGHT, WIDTH = 60, 100  # the running picture, helpers.mountain_at_dusk()
FIRST_KERNEL = 11  # exercise 1: a first soft split with k = 11 (T2T's own is 7, which the notebook shows)
COVERAGE_KERNEL, COVERAGE_STRIDE = 20, 10  # the article's example
MAX_PADDING = 100


def _unfold_grid(height: int, width: int, k: int, s: int, p: int) -> tuple[int, int]:
    """``(rows, columns)`` of ``nn.Unfold``'s patch grid, read off the patches themselves.

    Every pixel of the zero-padded picture gets its own number; the top-left number of each
    patch tells its row and column, and the grid is the number of distinct rows and columns.
    """
    padded_w = width + 2 * p
    ids = torch.arange((height + 2 * p) * padded_w, dtype=torch.float64).reshape(1, 1, height + 2 * p, padded_w)
    top_left = nn.Unfold(k, stride=s)(ids)[0, 0].long()  # padding done by hand, so no padding here
    return len(torch.unique(top_left // padded_w)), len(torch.unique(top_left % padded_w))


def _grid_with(n_rows: int, n_cols: int, k: int, s: float, p: float, rounding) -> tuple[float, float]:
    return tuple(rounding((n + 2 * p - k) / s) + 1 for n in (n_rows, n_cols))


def check_first_kernel(stride: object, padding: object, grid: object, length: object) -> Feedback:
    """Exercise 1: a first soft split with k = 11 on the 60 x 100 picture.

    ``stride`` and ``padding`` as T2T's rule picks them, ``grid = (rows, columns)`` of patches and the
    ``length`` of one token.
    """
    s = finite_number("stride", stride, "stride=3")
    p = finite_number("padding", padding, "padding=1")
    rows, cols = sequence("grid", grid, 2, "numbers (rows, columns)", "grid=(6, 10)")
    rows, cols = finite_number("grid[0]", rows, "grid=(6, 10)"), finite_number("grid[1]", cols, "grid=(6, 10)")
    n = finite_number("length", length, "length=10")
    k = FIRST_KERNEL
    true_s, true_p = math.ceil(k / 2), math.ceil(k / 4)
    true_grid = _unfold_grid(HEIGHT, WIDTH, k, true_s, true_p)
    true_length = nn.Unfold(k, stride=true_s, padding=true_p)(torch.zeros(1, 1, HEIGHT, WIDTH)).shape[1]

    notes = []
    if s != true_s:
        if s == k / 2:
            notes.append("stride: a stride is a whole number of pixels; which way does T2T round k/2?")
        elif s == k // 2:
            notes.append("stride: T2T rounds k/2 up, not down.")
        elif s == k:
            notes.append("stride: a stride of k is ViT's hard split; T2T moves the window by about half of it.")
        else:
            notes.append("stride: look again at the rule in 'T2T's stride and padding'.")
    if p != true_p:
        if p == k / 4:
            notes.append("padding: a padding is a whole number of pixels; which way does T2T round k/4?")
        elif p == k // 4:
            notes.append("padding: T2T rounds k/4 up, not down.")
        elif p == 0:
            notes.append("padding: T2T does pad the picture before it cuts.")
        else:
            notes.append("padding: look again at the rule in 'T2T's stride and padding'.")
    if (rows, cols) != true_grid:
        if (rows, cols) == true_grid[::-1]:
            notes.append("grid: rows and columns are swapped; rows run along the height (60 pixels).")
        elif (rows, cols) == _grid_with(HEIGHT, WIDTH, k, true_s, 0, math.floor):
            notes.append("grid: did you forget the padding? Each axis grows by 2p before the window slides.")
        elif (rows, cols) == _grid_with(HEIGHT, WIDTH, k, true_s, true_p, math.ceil):
            notes.append("grid: round down, not up: a window that would stick out of the padded image is not taken.")
        elif s > 0 and (rows, cols) == _grid_with(HEIGHT, WIDTH, k, s, p, math.floor):
            notes.append("grid: it follows from your stride and padding; fix those and it follows.")
        else:
            notes.append("grid: use the formula for n_out on each axis, the 60 rows and the 100 columns.")
    if n != true_length:
        if n == k:
            notes.append("length: a token holds the whole k x k window, not one row of it.")
        elif n == 2 * k or n == 4 * k:
            notes.append("length: the window is flattened, so its values multiply, they don't add.")
        else:
            notes.append("length: flatten one k x k window of a one-channel picture and count its values.")
    if notes:
        return wrong(" ".join(notes))
    total = true_grid[0] * true_grid[1]
    return right(
        f"{total} tokens of {true_length} values each. T2T's own k = 7 follows the same two rules and the same formula."
    )


def _window_columns(k: int, s: int, p: int, token: int) -> set[int]:
    """Columns of the padded picture that token ``token`` of the first grid row reads, via ``nn.Unfold``."""
    padded_width = WIDTH + 2 * p
    columns = torch.arange(padded_width, dtype=torch.float64).expand(k, padded_width)  # column index as value
    patches = nn.Unfold(k, stride=s)(columns[None, None])[0]  # no padding: we indexed the padded picture
    return {int(v) for v in patches[:, token]}


def check_overlap(answer: object, k: int = FIRST_KERNEL) -> Feedback:
    """Exercise 2: how many pixel columns two side-by-side windows share, for T2T's kernel ``k``."""
    k = int_in_range("k", k, 2, 50, "k=11 or k=20")
    a = finite_number("answer", answer, "check_overlap(5)")
    s, p = math.ceil(k / 2), math.ceil(k / 4)
    shared = len(_window_columns(k, s, p, 0) & _window_columns(k, s, p, 1))
    if a == shared:
        return right(
            f"for k = {k} the windows move {s} and share the rest. The paper calls this overlap s and "
            "writes the stride as k - s, so its formula and nn.Unfold's agree."
        )
    if a == s:
        return wrong("that is the stride, how far the window moves. The overlap is the part of the window left behind.")
    if a == k:
        return wrong("that is the whole window; only two windows with stride 0 would share all of it.")
    if a == p:
        return wrong("that is the padding. Compare the columns the first and the second window read.")
    if abs(a - shared) == 1:
        return wrong("off by one: list the column numbers of both windows and count those in both lists.")
    return wrong("the first window reads columns 0 to k - 1; where does the second one start and end?")


def _coverage_counts(k: int, s: int, p: int) -> torch.Tensor:
    """How many windows cover each pixel of the 60 x 100 picture: ``nn.Fold`` of unfolded ones."""
    ones = torch.ones(1, 1, HEIGHT, WIDTH, dtype=torch.float64)
    fold = nn.Fold((HEIGHT, WIDTH), k, stride=s, padding=p)
    return fold(nn.Unfold(k, stride=s, padding=p)(ones))[0, 0]


def check_uniform_coverage(padding: object, count: object) -> Feedback:
    """Exercise 3: a ``padding`` for k = 20, s = 10 that covers every pixel equally often, and that ``count``."""
    p = whole_value("padding", padding, 0, MAX_PADDING, "padding=3")
    c = finite_number("count", count, "count=1")
    counts = _coverage_counts(COVERAGE_KERNEL, COVERAGE_STRIDE, p)
    low, high = int(counts.min()), int(counts.max())
    if p == math.ceil(COVERAGE_KERNEL / 4):
        return wrong(
            f"that is T2T's own padding: its pixels are covered from {low} to {high} times. "
            "Look where the low counts sit in the explorer and let the windows reach further out."
        )
    if low != high:
        return wrong(
            f"with p = {p} the pixels are covered from {low} to {high} times, not equally often. "
            "Look where the low counts sit and change p until they disappear."
        )
    if c != low:
        return wrong(
            f"p = {p} does cover every pixel equally often, but not {c:g} times: count the windows "
            "along one axis that contain a pixel, then combine the two axes."
        )
    grid = _unfold_grid(HEIGHT, WIDTH, COVERAGE_KERNEL, COVERAGE_STRIDE, p)
    return right(
        f"every pixel is covered {low} times. The price: {grid[0]} x {grid[1]} = {grid[0] * grid[1]} tokens "
        "instead of 60, and the outermost windows hold mostly padding."
    )


__all__ = ["check_first_kernel", "check_overlap", "check_uniform_coverage"]
