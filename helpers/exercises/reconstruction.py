"""Checkers for notebook 03's exercises: the round trip, a new picture's shapes, Fold as an inverse.

The truths are computed here: the round trip against tokens numbered by hand, the shapes by
running ``nn.Unfold`` and a ``TokenTransformer`` on a blank picture, the Fold question by
folding the running picture. No message gives the answer away.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..checks import finite_number, function, sequence, string
from ..image import mountain_at_dusk
from ..model.token_transformer import TokenTransformer
from .feedback import Feedback, right, wrong
from .soft_split import _unfold_grid

# Exercise 2: a colour picture, 96 rows x 128 columns, through T2T's soft splits 0 and 1.
PICTURE = (3, 96, 128)
CHAN = 64
FIRST, SECOND = (7, 4, 2), (3, 2, 1)
# Exercise 3: which settings make Fold(Unfold(x)) give back x on the 60 x 100 picture.
FOLD_SETTINGS = {"A": (4, 4, 0), "B": (7, 4, 2), "C": (7, 7, 0), "D": (10, 10, 0)}


def check_round_trip(inverse: object) -> Feedback:
    """Exercise 1: ``inverse(image)`` must turn ``(batch, chan, H', W')`` back into ``(batch, H' * W', chan)``."""
    function("inverse", inverse, "check_round_trip(tokens_again)")
    batch, rows, cols, chan = 2, 3, 4, 5
    # Token n of batch b holds the values 1000 b + 10 n + c: each value says where it belongs.
    b, n, c = torch.meshgrid(torch.arange(batch), torch.arange(rows * cols), torch.arange(chan), indexing="ij")
    tokens = (1000 * b + 10 * n + c).float()
    image = torch.empty(batch, chan, rows, cols)
    for i in range(rows):
        for j in range(cols):
            image[:, :, i, j] = tokens[:, i * cols + j, :]
    try:
        result = _as_tensor(inverse(image.clone()))
    except Exception as error:  # the learner's function failed: say how, don't crash the checker
        return wrong(f"your function raised {type(error).__name__}: {error}")
    if result is None:
        return wrong("your function should return a tensor (did you forget return?).")
    if torch.equal(result, tokens):
        return right("reconstruct and your function undo each other: no value is lost or moved.")
    shape = tuple(result.shape)
    if shape == (batch, chan, rows * cols):
        return wrong("that is (batch, chan, tokens): the channel axis must end up last.")
    if shape == (batch, chan, rows, cols):
        return wrong("the shape did not change: flatten the grid into one token axis.")
    if shape != tuple(tokens.shape):
        return wrong(f"the shape should be (batch, H' * W', chan) = (2, 12, 5) for this test, got {shape}.")
    if torch.equal(result, image.reshape(batch, rows * cols, chan)):
        return wrong("reshape alone only regroups the numbers in memory order: the axes must move too.")
    return wrong("right shape, but values sit in the wrong places: undo reconstruct's steps in reverse order.")


def _as_tensor(value: object) -> torch.Tensor | None:
    if value is None:
        return None
    return value if isinstance(value, torch.Tensor) else torch.as_tensor(value)


def _picture_shapes() -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Run the picture through soft split 0, a Token Transformer, reconstruction and soft split 1.

    Returns the reconstructed image's shape ``(1, chan, H', W')`` and soft split 1's token
    shape ``(1, num_tokens, length)``. The grid comes from the patches themselves.
    """
    chans, height, width = PICTURE
    k, s, p = FIRST
    x = torch.zeros(1, chans, height, width)
    tokens = nn.Unfold(k, stride=s, padding=p)(x).transpose(1, 2)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        block = TokenTransformer(dim=tokens.shape[-1], chan=CHAN, num_heads=1).eval()
    with torch.no_grad():
        tokens = block(tokens)
    rows, cols = _unfold_grid(height, width, k, s, p)
    image = tokens.transpose(1, 2).reshape(1, CHAN, rows, cols)
    k2, s2, p2 = SECOND
    second = nn.Unfold(k2, stride=s2, padding=p2)(image).transpose(1, 2)
    return tuple(image.shape), tuple(second.shape)


def _grid(n_rows: int, n_cols: int, k: int, s: int, p: int, rounding=math.floor) -> tuple[int, int]:
    return tuple(int(rounding((n + 2 * p - k) / s)) + 1 for n in (n_rows, n_cols))


def check_reconstructed_shape(shape: object) -> Feedback:
    """Exercise 2a: the shape ``reconstruct`` gives for the 3-channel 96 x 128 picture after soft split 0."""
    example = "check_reconstructed_shape((1, 64, 15, 25))"
    answer = tuple(finite_number("each entry of shape", n, example) for n in sequence("shape", shape, example=example))
    truth, _ = _picture_shapes()
    if answer == truth:
        return right("a 64-channel image at a quarter of the picture's height and width.")
    _, height, width = PICTURE
    k, s, p = FIRST
    rows, cols = truth[2:]
    if len(answer) == 3 and answer == truth[1:]:
        return wrong("almost: reconstruct keeps the batch axis in front, so the shape has four numbers.")
    if len(answer) != 4:
        return wrong("an image batch has four axes: (batch, chan, H', W').")
    if answer[1] in (PICTURE[0] * k * k, k * k, PICTURE[0]):
        return wrong("the channels are the values per token after the Token Transformer, not before it.")
    grid = answer[2:]
    if grid == (cols, rows):
        return wrong("H' and W' are swapped: H' counts the patches down the 96 rows.")
    if grid == _grid(height, width, k, s, 0):
        return wrong("did you forget the padding? Each axis grows by 2p before the window slides.")
    if grid == _grid(height, width, k, s, p, math.ceil):
        return wrong("round down, not up: a window that would stick out of the padded image is not taken.")
    if answer[0] != truth[0]:
        return wrong("one picture makes a batch of one.")
    return wrong("work out H' and W' with count_tokens(width, height, k, s, p): mind its order.")


def check_second_split(num_tokens: object, length: object) -> Feedback:
    """Exercise 2b: tokens and token length of soft split 1 (k 3, s 2, p 1) of that image."""
    n = finite_number("num_tokens", num_tokens, "num_tokens=100")
    m = finite_number("length", length, "length=100")
    image_shape, (_, true_n, true_m) = _picture_shapes()
    _, chan, rows, cols = image_shape
    k, s, p = SECOND
    notes = []
    if n != true_n:
        if n == rows * cols:
            notes.append("num_tokens: that is the count of soft split 0; soft split 1 cuts the 64-channel image.")
        elif n == math.prod(_grid(rows, cols, k, s, 0)):
            notes.append("num_tokens: did you forget the padding p = 1?")
        elif n == math.prod(_grid(rows, cols, k, s, p, math.ceil)):
            notes.append("num_tokens: round down, not up, on each axis.")
        else:
            notes.append("num_tokens: apply the token formula to the reconstructed image's H' and W'.")
    if m != true_m:
        if m == k * k:
            notes.append("length: every channel contributes its own k x k window to the token.")
        elif m == PICTURE[0] * k * k:
            notes.append("length: the image has as many channels now as the Token Transformer's output.")
        else:
            notes.append("length: channels times k x k.")
    if notes:
        return wrong(" ".join(notes))
    return right("fewer tokens than soft split 0 made, and each one longer than its 147 values.")


def _fold_gives_back_the_picture() -> set[str]:
    """The letters of :data:`FOLD_SETTINGS` for which ``Fold(Unfold(x)) == x`` on the running picture."""
    x = torch.tensor(mountain_at_dusk())[None, None]
    ok = set()
    for letter, (k, s, p) in FOLD_SETTINGS.items():
        folded = nn.Fold(x.shape[-2:], k, stride=s, padding=p)(nn.Unfold(k, stride=s, padding=p)(x))
        if torch.equal(folded, x):
            ok.add(letter)
    return ok


def check_fold_inverse(answer: object) -> Feedback:
    """Exercise 3: which of the settings A to D make ``Fold(Unfold(x))`` equal ``x``; ``answer`` lists letters."""
    example = "check_fold_inverse(['A', 'C'])"
    if isinstance(answer, str):  # "AD" or "A, D"
        answer = [letter for letter in answer if letter not in ", "]
    answer = sequence("answer", answer, of="letters", example=example, ordered=False)
    chosen = {string("each entry of answer", item, example).strip().upper() for item in answer}
    if chosen - set(FOLD_SETTINGS):
        return wrong(f"pick only from the letters {sorted(FOLD_SETTINGS)}.")
    truth = _fold_gives_back_the_picture()
    if chosen == truth:
        return right("Fold inverts Unfold only when the windows tile the picture: no overlap, no pixel left out.")
    notes = []
    for letter in sorted(chosen - truth):
        k, s, _ = FOLD_SETTINGS[letter]
        if s < k:
            notes.append(f"{letter}: its windows overlap, and Fold adds overlapping values.")
        else:
            notes.append(f"{letter}: look at the last rows and columns: does every pixel lie in some window?")
    if truth - chosen:
        missing = len(truth - chosen)
        which = "one setting you left out gives" if missing == 1 else f"{missing} settings you left out give"
        notes.append(f"{which} the picture back: which hard splits tile 60 x 100 exactly?")
    return wrong(" ".join(notes))


__all__ = ["check_fold_inverse", "check_reconstructed_shape", "check_round_trip", "check_second_split"]
