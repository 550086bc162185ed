"""Soft split arithmetic and figures, checked against ``nn.Unfold`` and numbers worked by hand."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from helpers import count_tokens, mountain_at_dusk, soft_split_params
from helpers.figures.softsplit import hand_tokens, patch_corners, plot_token_matrix_diagram, render_softsplit_gif

torch.set_num_threads(1)


def unfold_tokens(image: np.ndarray, k: int, s: int, p: int) -> torch.Tensor:
    """``nn.Unfold`` on one grey image: ``(num_tokens, k * k)``."""
    x = torch.from_numpy(image)[None, None]
    return nn.Unfold(kernel_size=k, stride=s, padding=p)(x)[0].T


def test_count_tokens_matches_unfold_on_random_sizes():
    rng = np.random.default_rng(1)
    for _ in range(60):
        h, w = (int(n) for n in rng.integers(1, 40, size=2))
        p = int(rng.integers(0, 5))
        k = int(rng.integers(1, min(h, w) + 2 * p + 1))
        s = int(rng.integers(1, 8))
        new_w, new_h, total = count_tokens(w, h, k, s, p)
        unfolded = nn.Unfold(kernel_size=k, stride=s, padding=p)(torch.zeros(1, 1, h, w))
        assert unfolded.shape == (1, k * k, total), (w, h, k, s, p)
        assert total == new_w * new_h


@pytest.mark.parametrize("k, expected", [(20, (20, 10, 5)), (7, (7, 4, 2)), (3, (3, 2, 1)), (1, (1, 1, 1))])
def test_soft_split_params_by_hand(k, expected):
    assert soft_split_params(k) == expected


def test_the_series_numbers():
    image = mountain_at_dusk()
    h, w = image.shape
    assert (h, w) == (60, 100)
    k, s, p = soft_split_params(20)
    assert (s, p) == (10, 5)
    assert (h + 2 * p, w + 2 * p) == (70, 110)
    assert count_tokens(w, h, k, s, p) == (10, 6, 60)
    assert unfold_tokens(image, k, s, p).shape == (60, 400)


@pytest.mark.parametrize("k", [20, 7, 3])
def test_numpy_tokens_equal_unfold(k):
    image = mountain_at_dusk()
    _, s, p = soft_split_params(k)
    expected = unfold_tokens(image, k, s, p).numpy()
    mine = hand_tokens(image, k)
    assert mine.shape == expected.shape
    np.testing.assert_array_equal(mine, expected)


def test_first_token_starts_in_the_padding():
    image = mountain_at_dusk()
    first = hand_tokens(image, 20)[0].reshape(20, 20)
    assert np.all(first[:5] == 0) and np.all(first[:, :5] == 0)
    np.testing.assert_array_equal(first[5:, 5:], image[:15, :15])
    assert patch_corners(60, 100, 20)[:3] == [(0, 0), (0, 10), (0, 20)]
    assert patch_corners(60, 100, 20)[10] == (10, 0)


@pytest.mark.parametrize(
    "args, words",
    [
        ((10, 10, 30, 1, 2), "larger than the padded image"),
        ((100, 8, 13, 1, 2), "larger than the padded image height"),
        ((0, 10, 3, 1, 0), "w must be a positive"),
        ((10, -3, 3, 1, 0), "h must be a positive"),
        ((10, 10, 0, 1, 0), "k must be a positive"),
        ((10, 10, 3, 0, 0), "s must be a positive"),
        ((10, 10, 3, -2, 0), "s must be a positive"),
        ((10, 10, 3, 1, -1), "padding p must be"),
    ],
)
def test_count_tokens_rejects_bad_input(args, words):
    with pytest.raises(ValueError, match=words):
        count_tokens(*args)


def test_softsplit_gif(tmp_path):
    path = render_softsplit_gif(mountain_at_dusk(), 20, tmp_path / "softsplit.gif")
    assert path == tmp_path / "softsplit.gif"
    with Image.open(path) as gif:
        assert gif.n_frames == 60
        assert gif.info["loop"] == 0
        durations = []
        for i in range(gif.n_frames):
            gif.seek(i)
            durations.append(gif.info["duration"])
    assert durations == [500] * 60
    assert path.stat().st_size < 1.5 * 1024 * 1024


def test_softsplit_gif_rejects_colour_arrays(tmp_path):
    with pytest.raises(ValueError, match="one grey channel"):
        render_softsplit_gif(np.zeros((60, 100, 3)), 20, tmp_path / "x.gif")
    with pytest.raises(TypeError, match="image must be an array of real numbers"):
        render_softsplit_gif("mountain.png", 20, tmp_path / "x.gif")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "picks, error, words",
    [
        ((1, 61), ValueError, r"picks\[1\] must be a whole number from 1 to 60, got 61"),  # k = 20: 6 x 10 tokens
        ((2, 1), ValueError, "picks must be increasing token numbers between 1 and 60"),
        ((1, 1), ValueError, "picks must be increasing"),
        ((), ValueError, "picks must be increasing"),
        ((1, 2.0), TypeError, r"picks\[1\] must be a whole number"),
        (5, TypeError, "picks must be a tuple or list of token numbers"),
        ((1, 2, 3, 4, 5), ValueError, "at most 4 picks fit the diagram"),
    ],
)
def test_token_matrix_diagram_refuses_bad_picks(picks, error, words):
    with pytest.raises(error, match=words):
        plot_token_matrix_diagram(mountain_at_dusk(), 20, picks=picks)
