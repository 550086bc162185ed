"""Notebook 04's aside: ``make_fast`` gives what the paper's algorithm gives, and the notebooks show
only the model.

The truth is the algorithm written a second way here, with ``nn.Unfold`` and a transpose-reshape
for every step, and ``FastLinear`` is compared with ``torch.nn.functional.linear``.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import helpers
from helpers.fast import FastLinear

torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parents[1]


def by_hand(t2t: helpers.Tokens2Token, x: torch.Tensor) -> torch.Tensor:
    """Soft split with nn.Unfold, token transformer, reshape to an image, repeat; then project."""
    for i, transformer in enumerate((t2t.transformer1, t2t.transformer2)):
        k, s, p = t2t.kernels[i], t2t.strides[i], t2t.paddings[i]
        tokens = transformer(nn.Unfold(k, stride=s, padding=p)(x).transpose(1, 2))
        rows = (x.shape[2] + 2 * p - k) // s + 1
        cols = (x.shape[3] + 2 * p - k) // s + 1
        x = tokens.transpose(1, 2).reshape(x.shape[0], tokens.shape[2], rows, cols)
    k, s, p = t2t.kernels[2], t2t.strides[2], t2t.paddings[2]
    return t2t.project(nn.Unfold(k, stride=s, padding=p)(x).transpose(1, 2))


@pytest.mark.parametrize(
    "img_size, kernels, module, strides",
    [
        ((1, 400, 100), (7, 3, 3), "transformer", None),  # the notebook's walk-through size
        ((3, 64, 48), (7, 3, 3), "performer", None),
        ((2, 37, 53), (5, 3, 2), "transformer", None),  # odd sides, an even kernel
        ((1, 32, 32), (7, 3, 3), "transformer", (4, 2, 1)),  # notebook 05's splits
    ],
)
def test_plain_and_fast_forward_equal_the_algorithm_by_hand(img_size, kernels, module, strides):
    torch.manual_seed(0)
    t2t = helpers.Tokens2Token(
        img_size=img_size,
        softsplit_kernels=kernels,
        token_chan=16,
        token_len=32,
        token_module=module,
        softsplit_strides=strides,
    ).eval()
    x = torch.rand(3, *img_size)
    with torch.no_grad():
        plain = t2t(x)
        hand = by_hand(t2t, x)
        fast = helpers.make_fast(t2t)(x)
        assert type(t2t.soft_split0).__name__ == "FusedUnfold"
        again = helpers.make_plain(t2t)(x)
    assert type(t2t.soft_split0) is nn.Unfold and type(t2t.project) is nn.Linear  # undone
    torch.testing.assert_close(plain, hand, rtol=0, atol=1e-6)
    torch.testing.assert_close(fast, plain, rtol=0, atol=1e-5)
    assert torch.equal(again, plain)


def test_fast_linear_equals_functional_linear_on_a_large_layer():
    torch.manual_seed(0)
    layer = FastLinear(576, 768)
    assert isinstance(layer, nn.Linear)
    x = torch.randn(4, 2500, 576)  # above the size where oneDNN is used for inference
    with torch.no_grad():
        fast = layer(x)
    torch.testing.assert_close(fast, F.linear(x, layer.weight, layer.bias), rtol=1e-5, atol=1e-5)
    y = layer(x.requires_grad_())  # with autograd it is plain nn.Linear, with a backward
    y.sum().backward()
    assert x.grad is not None and x.grad.shape == x.shape


def test_notebook_04_asserts_and_prints_the_agreement():
    nb = nbformat.read(ROOT / "notebooks" / "04_t2t_vit.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    check = next(c for c in code if "helpers.make_fast(copy.deepcopy(t2t))" in c.source)
    assert "assert split_same and close" in check.source
    printed = "".join(o.get("text", "") for o in check.outputs)
    assert "FusedUnfold == nn.Unfold, bit for bit: True" in printed
    assert "fast == plain tokens to 1e-5: True" in printed
    # the fast layers are shown only in the aside, after the main flow's forward
    shown = [c.source for c in code if c.source.startswith("show_source(")]
    forward = shown.index("show_source(helpers.Tokens2Token.forward)")
    assert (
        forward < shown.index("show_source(helpers.fast.FusedUnfold)") < shown.index("show_source(helpers.make_fast)")
    )
    headings = [c.source.splitlines()[0] for c in nb.cells if c.cell_type == "markdown" and c.source.startswith("#")]
    aside = next(i for i, h in enumerate(headings) if "how it is made fast" in h.lower())
    assert aside > next(i for i, h in enumerate(headings) if "walk-through" in h.lower())


# ---- what the notebooks display is the model (issue 18) ----------------------------------------------

# Words that belong to the product around the model, not to the model: argument checks, tracing
# guards, fast paths, timm's methods.
PLUMBING = [
    "raise ",
    "isinstance(",
    "positive_int",
    "checks.",
    "is_tracing",
    "is_scripting",
    "jit",
    "_assert",
    "FastLinear",
    "FusedUnfold",
    "mkldnn",
    "forward_features",
    "forward_head",
    "reset_classifier",
    "feature_info",
    "group_matcher",
    "no_weight_decay",
]


def displayed(name: str) -> list[list[str]]:
    """The source listings that ``show_source`` printed in a notebook, one list of lines each."""
    nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    listings = []
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.startswith("show_source("):
            text = next(o["data"]["text/plain"] for o in cell.outputs if "text/plain" in o.get("data", {}))
            listings.append(text.rstrip("\n").splitlines())
    return listings


@pytest.mark.parametrize("name, limit", [("02_token_transformer.ipynb", 140), ("04_t2t_vit.ipynb", 200)])
def test_displayed_source_is_short(name, limit):
    listings = displayed(name)
    assert sum(len(lines) for lines in listings) <= limit
    assert all(len(lines) <= 40 for lines in listings)


@pytest.mark.parametrize("name", ["02_token_transformer.ipynb", "04_t2t_vit.ipynb"])
def test_displayed_model_classes_hold_only_the_model(name):
    for lines in displayed(name):
        if not lines[0].startswith(("@", "class ", "def __init__", "def forward", "def reconstruct", "def _init")):
            continue  # the aside's make_fast is about the fast path by design
        body = [line for line in lines if not line.lstrip().startswith("@checks.checked(")]
        if any("FusedUnfold" in line or "def make_fast" in line for line in lines[:3]):
            continue  # the aside: the fused soft split and make_fast are about the fast path by design
        found = [word for word in PLUMBING for line in body if word in line]
        assert not found, (lines[0], found)


def test_attention_forward_shows_the_formula_beside_the_fused_kernel():
    (attention,) = [lines for lines in displayed("02_token_transformer.ipynb") if "class Attention" in "".join(lines)]
    text = "\n".join(attention)
    assert "q @ k.transpose(-2, -1) * self.scale" in text and ".softmax(dim=-1)" in text and "@ v" in text
    assert "F.scaled_dot_product_attention" in text and "if self.fused" in text
