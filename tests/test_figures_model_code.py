"""The figures measure and draw what the model itself computes, with no second copy of its maths,
and refuse unusable arguments with helpers.checks' TypeError (wrong type) or ValueError (wrong value)."""

from __future__ import annotations

import pytest
import torch

import helpers
from helpers.figures import attention as af
from helpers.figures import diagrams
from helpers.figures import reconstruction as rf
from helpers.model.performer import PerformerAttention


def side(n: int, k: int) -> int:
    """Tokens along a side of ``n`` pixels for T2T's soft split ``k`` (s = ceil(k/2), p = ceil(k/4))."""
    s, p = -(-k // 2), -(-k // 4)
    return (n + 2 * p - k) // s + 1


@pytest.fixture
def model() -> helpers.T2TViT:
    torch.manual_seed(0)
    return helpers.T2TViT(img_size=(1, 40, 56), softsplit_kernels=(7, 3, 3), token_len=32, depth=2, preds=3)


def test_t2t_vit_shapes_for_a_batch_of_two(model):
    rows, cols = 40, 56
    for k in (7, 3, 3):
        rows, cols = side(rows, k), side(cols, k)
    n = rows * cols
    shapes = diagrams.t2t_vit_shapes(model.train(), torch.zeros(2, 1, 40, 56))
    assert shapes == {
        "image": (2, 1, 40, 56),
        "tokens": (2, n, 32),
        "pred_token": (2, 1, 32),
        "concat": (2, n + 1, 32),
        "pos_embed": (1, n + 1, 32),
        "pos_added": (2, n + 1, 32),
        "blocks": (2, n + 1, 32),
        "norm": (2, n + 1, 32),
        "pred_row": (2, 32),
        "head": (2, 3),
    }
    assert model.training, "the model is handed back in the mode it came in"
    assert not model.backbone.norm._forward_hooks and not model.backbone.head._forward_pre_hooks


def test_t2t_vit_shapes_follow_the_models_own_embedding(model, monkeypatch):
    """An embed that puts two tokens in front: the shapes must say so (a copy of embed would not)."""
    bb = model.backbone

    def embed_two_in_front(x):
        cls = bb.cls_token.expand(x.shape[0], 2, -1)
        return torch.cat((cls, x), dim=1) + torch.cat((bb.pos_embed[:, :1], bb.pos_embed), dim=1)

    monkeypatch.setattr(bb, "embed", embed_two_in_front)
    shapes = diagrams.t2t_vit_shapes(model, torch.zeros(1, 1, 40, 56))
    n = shapes["tokens"][1]
    assert shapes["concat"] == shapes["pos_added"] == shapes["blocks"] == (1, n + 2, 32)


def test_t2t_vit_shapes_refuses_what_is_not_a_t2t_vit():
    with pytest.raises(TypeError, match="model must be a T2TViT"):
        diagrams.t2t_vit_shapes(torch.nn.Linear(2, 2), torch.zeros(1, 2))


def test_random_feature_weights_are_the_modules_kernel_weights(monkeypatch):
    """The implied matrix comes from PerformerAttention.kernel_weights of the module built with the seed."""
    gen = torch.Generator().manual_seed(0)
    q, k = torch.randn(2, 6, 8, generator=gen), torch.randn(2, 6, 8, generator=gen)
    calls = []
    original = PerformerAttention.kernel_weights

    def spy(self, q_, k_):
        calls.append((self.num_features, self.w.clone()))
        return original(self, q_, k_)

    monkeypatch.setattr(PerformerAttention, "kernel_weights", spy)
    weights = af.random_feature_weights(q, k, num_features=5, seed=3)
    torch.manual_seed(3)
    module = PerformerAttention(8, 8, kernel_ratio=5 / 8)
    ((num_features, w),) = calls
    assert num_features == 5 and torch.equal(w, module.w)
    # The matrix written out: phi(q) phi(k)^T, phi(x) = exp(W x - |x|^2 / 2) / sqrt(m), rows normalised (+ eps 1e-8).
    phi = lambda x: torch.exp(x @ w.T - 0.5 * (x * x).sum(-1, keepdim=True)) / 5**0.5  # noqa: E731
    scores = phi(q) @ phi(k).transpose(1, 2)
    torch.testing.assert_close(weights, scores / (scores.sum(-1, keepdim=True) + 1e-8))


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda q: af.random_feature_weights(q.numpy(), q, 4, 0), TypeError, "q must be a tensor"),
        (lambda q: af.random_feature_weights(q, q[0], 4, 0), ValueError, "same shape"),
        (lambda q: af.random_feature_weights(q, q, 0, 0), ValueError, "num_features must be a positive integer"),
        (lambda q: af.random_feature_weights(q, q, 4, -1), ValueError, "seed must be a whole number from 0"),
        (lambda q: af.approximation_errors(q, q, [8, 4.0], seeds=[0]), TypeError, r"feature_counts\[1\]"),
        (lambda q: af.approximation_errors(q, q, [8], seeds=[]), ValueError, "at least one seed"),
        (lambda q: af.approximation_errors(q, q, 8, seeds=[0]), TypeError, "feature_counts must be a tuple or list"),
    ],
)
def test_attention_figures_refuse_bad_arguments(call, error, words):
    with pytest.raises(error, match=words):
        call(torch.randn(1, 5, 8))


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda t: rf.token_matrix_figure(t, (3, 4), 2.0, [0]), TypeError, "token must be a whole number"),
        (lambda t: rf.token_matrix_figure(t, (3, 4), 12, [0]), ValueError, "token must be a whole number from 0 to 11"),
        (lambda t: rf.token_matrix_figure(t, (3, 4), 0, 1), TypeError, "channels must be a tuple or list"),
        (lambda t: rf.token_matrix_figure(t, (3, 4), 0, []), ValueError, "channels must list 1 to 6 channels, got 0"),
        (lambda t: rf.token_matrix_figure(t, (3, 4), 0, [True]), TypeError, r"channels\[0\] must be a whole number"),
        (
            lambda t: rf.token_matrix_figure(t, (3, 4), 0, [5]),
            ValueError,
            r"channels\[0\] must be a whole number from 0 to 4",
        ),
        (
            lambda t: rf.token_matrix_figure("tokens", (3, 4), 0, [0]),
            TypeError,
            "tokens must be an array of real numbers",
        ),
        (lambda t: rf.channel_grid_figure(t, [0]), ValueError, r"image must have 3 axes, \(chan, H', W'\)"),
        (
            lambda t: rf.reconstruction_frames(t, (3, 4), first_single=4),
            ValueError,
            "first_single must be a whole number from 0 to 3",
        ),
    ],
)
def test_reconstruction_figures_refuse_bad_arguments(call, error, words):
    with pytest.raises(error, match=words):
        call(torch.randn(12, 5).numpy())


def test_channel_figures_keep_the_images_dtype(monkeypatch):
    """Drawn as given: a float32 image is not converted, so the committed figures keep their bytes."""
    import matplotlib.axes
    import matplotlib.pyplot as plt

    seen = []
    original = matplotlib.axes.Axes.imshow

    def spy(self, values, *args, **kwargs):
        seen.append(values.dtype)
        return original(self, values, *args, **kwargs)

    monkeypatch.setattr(matplotlib.axes.Axes, "imshow", spy)
    image = torch.rand(4, 3, 5).numpy()
    for fig in (rf.channel_grid_figure(image, [0, 1]), rf.channel_stack_figure(image, 2, [0, 1], 0.0, 1.0)):
        plt.close(fig)
    assert seen and set(seen) == {image.dtype}
