"""Notebook 04's aside: the fused ``forward`` gives what the paper's algorithm (``forward_steps``) gives.

The truth is the algorithm written a third way here, with ``nn.Unfold`` and a transpose-reshape
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
def test_forward_equals_forward_steps_and_the_algorithm_by_hand(img_size, kernels, module, strides):
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
        fused = t2t(x)
        steps = t2t.forward_steps(x)
        hand = by_hand(t2t, x)
    assert torch.equal(fused, steps["project"])
    torch.testing.assert_close(fused, hand, rtol=0, atol=1e-6)


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
    check = next(c for c in code if 'forward_steps(x)["project"]' in c.source)
    assert "assert torch.equal(" in check.source
    printed = "".join(o.get("text", "") for o in check.outputs)
    assert "forward == forward_steps, bit for bit: True" in printed
    # the fused path is shown only in the aside, after the main flow's forward_steps
    shown = [c.source for c in code if c.source.startswith("show_source(helpers.Tokens2Token")]
    steps = shown.index("show_source(helpers.Tokens2Token.forward_steps)")
    assert steps < shown.index("show_source(helpers.Tokens2Token.forward)")
    assert steps < shown.index("show_source(helpers.Tokens2Token._soft_split)")
    headings = [c.source.splitlines()[0] for c in nb.cells if c.cell_type == "markdown" and c.source.startswith("#")]
    aside = next(i for i, h in enumerate(headings) if "how it is made fast" in h.lower())
    assert aside > next(i for i, h in enumerate(headings) if "walk-through" in h.lower())
