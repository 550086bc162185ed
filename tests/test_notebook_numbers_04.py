"""Notebook 04 (the T2T module and T2T-ViT): its printed numbers against independent truths.

The truths are written here a second way: the ``nn.Unfold`` size formula by hand, ``nn.Unfold``
itself on zero tensors, the sinusoid table element by element with ``math``, parameter counts
from closed formulas, and the paper's table typed in from the paper.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch
from torch import nn

import helpers
import helpers.figures.diagrams as diagrams
import helpers.figures.pipeline as pipeline
from helpers.figures.plotting import save_gif
from helpers.timm.zoo import PAPER_PARAMS, VARIANTS

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "04_t2t_vit.ipynb"

# arXiv:2101.11986, Table 1 / Table 4: parameters (M, incl. position embedding), MACs (G) at 224 x 224.
PAPER = {
    "t2t_vit_7": (4.3, 1.1),
    "t2t_vit_10": (5.9, 1.5),
    "t2t_vit_12": (6.9, 1.8),
    "t2t_vit_14": (21.5, 4.8),
    "t2t_vit_19": (39.2, 8.5),
    "t2t_vit_24": (64.1, 13.8),
    "t2t_vit_t_14": (21.5, 6.1),
    "t2t_vit_t_19": (39.2, 9.8),
    "t2t_vit_t_24": (64.1, 15.0),
}


def side(n: int, k: int) -> int:
    """Patches along one axis for T2T's soft split of kernel k (s = ceil(k/2), p = ceil(k/4))."""
    s, p = -(-k // 2), -(-k // 4)
    return (n + 2 * p - k) // s + 1


def printed() -> str:
    """Everything the committed notebook printed on stdout."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    return "".join(
        out.get("text", "")
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.output_type == "stream" and out.name == "stdout"
    )


# ---- the walk-through: batch 13, one channel, 400 x 100, kernels 7, 3, 3 -------------------------


def walkthrough_truth() -> dict[str, tuple[int, ...]]:
    h0, w0 = side(400, 7), side(100, 7)
    h1, w1 = side(h0, 3), side(w0, 3)
    h2, w2 = side(h1, 3), side(w1, 3)
    return {
        "soft_split0": (13, h0 * w0, 1 * 7 * 7),
        "transformer1": (13, h0 * w0, 64),
        "reconstruct1": (13, 64, h0, w0),
        "soft_split1": (13, h1 * w1, 64 * 3 * 3),
        "transformer2": (13, h1 * w1, 64),
        "reconstruct2": (13, 64, h1, w1),
        "soft_split2": (13, h2 * w2, 64 * 3 * 3),
        "project": (13, h2 * w2, 768),
    }


def test_walkthrough_shapes_follow_the_unfold_formula():
    truth = walkthrough_truth()
    # The series' facts, spelled out: the formula must reproduce them.
    assert truth["soft_split0"] == (13, 2500, 49)
    assert truth["reconstruct1"] == (13, 64, 100, 25)
    assert truth["soft_split1"] == (13, 650, 576)
    assert truth["reconstruct2"] == (13, 64, 50, 13)
    assert truth["project"] == (13, 175, 768)
    # count_tokens returns (new_w, new_h, total) and chains the same way.
    w, h = 100, 400
    for key, k in (("reconstruct1", 7), ("reconstruct2", 3)):
        w, h, n = helpers.count_tokens(w, h, *helpers.soft_split_params(k))
        assert (h, w) == truth[key][2:]
    assert helpers.count_tokens(w, h, *helpers.soft_split_params(3))[2] == truth["project"][1]


def test_walkthrough_tensors_have_the_predicted_shapes():
    torch.manual_seed(0)
    t2t = helpers.Tokens2Token(img_size=(1, 400, 100), softsplit_kernels=(7, 3, 3), token_chan=64, token_len=768)
    with torch.no_grad():
        steps = helpers.t2t_steps(t2t, torch.rand(13, 1, 400, 100))
    for key, shape in walkthrough_truth().items():
        assert tuple(steps[key].shape) == shape, key
    assert t2t.num_tokens == 175


def test_notebook_prints_the_walkthrough_shapes():
    text = printed()
    truth = walkthrough_truth()
    for label, key in [
        ("soft split 0:", "soft_split0"),
        ("token transformer 1:", "transformer1"),
        ("reconstruction 1:", "reconstruct1"),
        ("soft split 1:", "soft_split1"),
        ("token transformer 2:", "transformer2"),
        ("reconstruction 2:", "reconstruct2"),
        ("soft split 2:", "soft_split2"),
        ("linear projection:", "project"),
    ]:
        assert re.search(re.escape(label) + r"\s+" + re.escape(str(truth[key])), text), (label, truth[key])
    assert "predicted 2500 tokens (100 x 25) of length 49" in text


# ---- the article's defaults: 1 x 1700 x 500, kernels 31, 3, 3 -------------------------------------


def test_article_defaults_token_counts_match_nn_unfold_on_zeros():
    x = torch.zeros(1, 1, 1700, 500)
    first = nn.Unfold(31, stride=16, padding=8)(x)
    assert first.shape[-1] == 3286
    h, w = side(1700, 31), side(500, 31)
    assert h * w == 3286
    second = nn.Unfold(3, stride=2, padding=1)(torch.zeros(1, 64, h, w))
    h, w = side(h, 3), side(w, 3)
    assert second.shape[-1] == h * w
    third = nn.Unfold(3, stride=2, padding=1)(torch.zeros(1, 64, h, w))
    assert third.shape[-1] == 216

    torch.manual_seed(0)
    article = helpers.T2TViT()
    assert article.tokens2token.img_size == (1, 1700, 500) and article.tokens2token.kernels == (31, 3, 3)
    assert article.num_tokens == 216
    assert article.backbone.pos_embed.shape == (1, 217, 768)

    text = printed()
    assert "(106, 31, 3286)" in text and "(27, 8, 216)" in text
    assert "T2T module output for one 1700 x 500 image: (1, 216, 768)" in text
    total = sum(p.numel() for p in article.parameters())
    assert f"parameters: {total:,} in total" in text


def article_param_formula(e: int = 768, c: int = 64, depth: int = 12, mlp: float = 4.0, preds: int = 1) -> int:
    """Parameters of the article's T2T-ViT, added up layer by layer (no qkv bias, transformer module)."""
    d0, d1 = 1 * 31 * 31, c * 3 * 3
    token_transformer = lambda d: 2 * d + d * 3 * c + (c * c + c) + 2 * c + 2 * (c * c + c)  # noqa: E731
    t2t = token_transformer(d0) + token_transformer(d1) + (d1 * e + e)
    hidden = int(e * mlp)
    block = 2 * e + 3 * e * e + (e * e + e) + 2 * e + (e * hidden + hidden) + (hidden * e + e)
    return t2t + e + depth * block + 2 * e + (e * preds + preds)


def test_article_parameter_count_matches_a_closed_formula():
    assert "parameters: 85,796,419 in total" in printed()
    assert article_param_formula() == 85_796_419


# ---- the sinusoidal position table ----------------------------------------------------------------


@pytest.mark.parametrize("rows, width", [(7, 10), (29, 64), (176, 768)])
def test_sinusoid_table_matches_a_per_element_loop(rows, width):
    table = helpers.sinusoid_table(rows, width)
    assert table.shape == (1, rows, width) and table.dtype == torch.float32
    expected = np.empty((rows, width))
    for pos in range(rows):
        for j in range(width):
            angle = pos / 10000 ** ((j - j % 2) / width)
            expected[pos, j] = math.sin(angle) if j % 2 == 0 else math.cos(angle)
    np.testing.assert_allclose(table[0].numpy(), expected, rtol=0, atol=1e-6)


def test_notebook_prints_the_first_rows_of_the_table():
    text = printed()
    assert "table: (1, 176, 768)" in text
    row1 = [
        round(math.sin(1), 3),
        round(math.cos(1), 3),
        round(math.sin(1 / 10000 ** (2 / 768)), 3),
        round(math.cos(1 / 10000 ** (2 / 768)), 3),
    ]
    assert f"row 1 starts {row1}" in text


# ---- initialisation and weight decay --------------------------------------------------------------


def test_initialisation_statistics():
    torch.manual_seed(0)
    model = helpers.T2TViT(img_size=(1, 60, 100), softsplit_kernels=(7, 3, 3), token_len=256, depth=4)
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    weights = torch.cat([m.weight.detach().flatten() for m in linears]).double()
    assert weights.numel() > 2_000_000
    assert math.isclose(weights.std().item(), 0.02, rel_tol=0.01)
    assert abs(weights.mean().item()) < 1e-4
    # timm's trunc_normal_(std=0.02) cuts at the absolute values -2 and 2 (100 std): in practice no cut,
    # so the tails are those of a plain normal: erfc(2 / sqrt 2) of the mass lies beyond two std.
    assert weights.abs().max().item() <= 2.0
    beyond = (weights.abs() > 0.04).double().mean().item()
    assert math.isclose(beyond, math.erfc(2 / math.sqrt(2)), abs_tol=0.002)
    for m in linears:
        assert m.bias is None or torch.all(m.bias == 0)
    norms = [m for m in model.modules() if isinstance(m, nn.LayerNorm)]
    assert len(norms) == 2 * 2 + 2 * 4 + 1
    for m in norms:
        assert torch.all(m.weight == 1) and torch.all(m.bias == 0)
    assert math.isclose(model.backbone.cls_token.std().item(), 0.02, rel_tol=0.2)


def test_notebook_prints_the_initialisation_it_measured():
    text = printed()
    assert re.search(r"\|mean\| 0\.0000, std 0\.0200", text)
    match = re.search(r"share with \|w\| > 0\.04 \(two std\): (0\.\d{4}); plain normal: (0\.\d{4})", text)
    assert match and float(match.group(2)) == round(math.erfc(2 / math.sqrt(2)), 4)
    assert abs(float(match.group(1)) - float(match.group(2))) <= 0.001
    assert "all Linear biases are 0: True" in text
    assert "LayerNorms start as weight 1, bias 0: True" in text


def test_no_weight_decay_names_are_trainable_parameters():
    import timm

    model = timm.create_model("t2t_vit_t_14", img_size=32, depth=1)
    params = dict(model.named_parameters())
    names = model.no_weight_decay()
    assert names and all(name in params and params[name].requires_grad for name in names)
    assert "backbone.pos_embed" not in params  # a fixed buffer, nothing to exempt
    assert "no_weight_decay(): ['backbone.cls_token']" in printed()


# ---- the paper's variants -------------------------------------------------------------------------


def variant_param_formula(name: str) -> tuple[int, int]:
    """(trainable parameters, position table size) of a variant at 224 x 224 x 3, 1000 classes."""
    cfg = VARIANTS[name]
    e, depth, mlp, c = cfg["token_len"], cfg["depth"], cfg["encoding_hidden_chan_mul"], 64
    performer = cfg["token_module"] == "performer"

    def token_module(d: int) -> int:
        qkv = d * 3 * c + (3 * c if performer else 0)  # the Performer's projection has a bias
        return 2 * d + qkv + (c * c + c) + 2 * c + 2 * (c * c + c)

    t2t = token_module(3 * 7 * 7) + token_module(c * 3 * 3) + (c * 9 * e + e)
    hidden = int(e * mlp)
    block = 2 * e + 3 * e * e + (e * e + e) + 2 * e + (e * hidden + hidden) + (hidden * e + e)
    trainable = t2t + e + depth * block + 2 * e + (e * 1000 + 1000)
    return trainable, (14 * 14 + 1) * e


def test_paper_table_in_the_zoo_is_the_papers():
    assert PAPER_PARAMS == PAPER


@pytest.mark.parametrize("name", list(PAPER))
def test_variant_sizes_match_the_paper(name):
    trainable, pos = variant_param_formula(name)
    assert round((trainable + pos) / 1e6, 1) == PAPER[name][0]
    rows = [line.split() for line in printed().splitlines() if line.startswith(name + " ")]
    line = next(row for row in rows if len(row) == 6 and row[1][0].isdigit())  # the size table's row
    ours, with_pos, paper, macs, paper_macs = (float(v) for v in line[1:])
    assert ours == round(trainable / 1e6, 1) and with_pos == round((trainable + pos) / 1e6, 1)
    assert (paper, paper_macs) == PAPER[name]
    assert abs(macs - paper_macs) <= 0.15


def test_a_built_variant_has_the_formula_parameter_count():
    import timm

    model = timm.create_model("t2t_vit_7")
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert (trainable, model.backbone.pos_embed.numel()) == variant_param_formula("t2t_vit_7")


# ---- any image size: t2t_vit_7 on the 60 x 100 grey mountain -----------------------------------------


def test_registered_variant_runs_at_the_mountain_size():
    import timm

    model = timm.create_model("t2t_vit_7", img_size=(60, 100), in_chans=1, num_classes=3).eval()
    h, w = 60, 100
    text = printed()
    with torch.no_grad():
        steps = helpers.t2t_steps(model.tokens2token, torch.zeros(1, 1, 60, 100))
        for i, k in enumerate((7, 3, 3)):
            h, w = side(h, k), side(w, k)
            assert steps[f"soft_split{i}"].shape[1] == h * w
            assert re.search(rf"soft split {i} .*count_tokens\s+{h * w} \({h} x {w}\) \| tensor {h * w}", text)
        assert model(torch.zeros(1, 1, 60, 100)).shape == (1, 3)
    assert model.backbone.pos_embed.shape == (1, h * w + 1, 256)
    assert f"position table: (1, {h * w + 1}, 256)" in text


# ---- bad inputs -----------------------------------------------------------------------------------

SMALL = dict(img_size=(1, 60, 100), softsplit_kernels=(7, 3, 3), token_len=32, token_chan=16, depth=1)


@pytest.mark.parametrize(
    "shape, words",
    [((1, 1, 50, 100), "60 x 100"), ((1, 3, 60, 100), "1 channel"), ((1, 60, 100), "x[None]")],
)
def test_wrong_image_raises_value_error(shape, words):
    model = helpers.T2TViT(**SMALL)
    with pytest.raises(ValueError, match=re.escape(words)):
        model(torch.zeros(shape))


@pytest.mark.parametrize(
    "change, words",
    [
        (dict(num_heads=3), "does not divide"),
        (dict(t2t_num_heads=5), "t2t_num_heads=5 does not divide token_chan"),
        (dict(img_size=(1, 10, 10), softsplit_kernels=(31, 3, 3)), "smallest size that works"),
        (dict(img_size=(1, 0, 100)), "height must be a positive integer"),
        (dict(img_size=(0, 60, 100)), "channels must be a positive integer"),
        (dict(img_size=(60, 100)), "(channels, height, width)"),
        (dict(token_len=0), "token_len must be a positive integer"),
        (dict(token_chan=-4), "token_chan must be a positive integer"),
        (dict(softsplit_kernels=(0, 3, 3)), "softsplit_kernels[0] must be a positive integer"),
        (dict(depth=-1), "depth must be a whole number >= 0"),
        (dict(preds=-1), "preds must be a whole number >= 0"),
    ],
)
def test_bad_constructor_arguments_raise_value_error(change, words):
    with pytest.raises(ValueError, match=re.escape(words)):
        helpers.T2TViT(**{**SMALL, **change})


# ---- the diagrams and the animation ---------------------------------------------------------------


def test_diagram_shapes_are_measured_from_the_model():
    torch.manual_seed(0)
    model = helpers.T2TViT(img_size=(1, 60, 100), softsplit_kernels=(7, 3, 3), token_len=48, depth=2, preds=5)
    x = torch.zeros(1, 1, 60, 100)
    t2t = diagrams.t2t_shapes(model.tokens2token, x)
    h0, w0 = side(60, 7), side(100, 7)
    h1, w1 = side(h0, 3), side(w0, 3)
    h2, w2 = side(h1, 3), side(w1, 3)
    assert t2t["reconstruct1"] == (1, 64, h0, w0) and t2t["reconstruct2"] == (1, 64, h1, w1)
    assert t2t["project"] == (1, h2 * w2, 48)
    vit = diagrams.t2t_vit_shapes(model, x)
    assert vit["concat"] == vit["pos_added"] == vit["norm"] == (1, h2 * w2 + 1, 48)
    assert vit["pred_row"] == (1, 48) and vit["head"] == (1, 5)


def test_pipeline_frames_all_differ_and_the_gif_is_small(tmp_path):
    torch.manual_seed(0)
    model = helpers.T2TViT(img_size=(1, 60, 100), softsplit_kernels=(7, 3, 3), token_len=64, depth=1)
    image = torch.from_numpy(helpers.mountain_at_dusk()).float()[None, None]
    frames = pipeline.pipeline_frames(model.tokens2token, image)
    assert len(frames) == len(pipeline.STEPS) == 9
    assert len({f.shape for f in frames}) == 1
    for before, after in zip(frames, frames[1:]):
        assert not np.array_equal(before, after)
    path = save_gif(frames, tmp_path / "pipeline.gif", duration_ms=1000)
    assert path.stat().st_size < 1.5e6


# ---- the paper beside the code, and the references ------------------------------------------------

LINKS = (
    "https://arxiv.org/abs/2101.11986",
    "https://github.com/lanl/vision_transformers_explained",
    "https://github.com/yitu-opensource/T2T-ViT",
    "https://arxiv.org/abs/2009.14794",
    "https://arxiv.org/abs/2010.11929",
)


def test_notebook_quotes_the_t2t_equations_next_to_forward():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    cells = nb.cells
    shown = next(i for i, c in enumerate(cells) if c.source == "show_source(helpers.Tokens2Token.forward)")
    before = cells[shown - 1].source
    for formula in (r"\mathrm{MLP}(\mathrm{MSA}(T_i))", r"\mathrm{Reshape}(T_i')", r"\mathrm{SS}(I_i)"):
        assert formula in before, formula
    prose = "\n".join(c.source for c in cells if c.cell_type == "markdown")
    assert r"l_o = \left\lfloor \frac{h + 2p - k}{k - s} + 1 \right\rfloor" in prose
    assert "the paper's $s$, the *overlap*" in prose


@pytest.mark.parametrize("name", ["04_t2t_vit.ipynb", "05_training.ipynb"])
def test_notebook_ends_with_references_and_links(name):
    cells = nbformat.read(ROOT / "notebooks" / name, as_version=4).cells
    last = cells[-1]
    assert last.cell_type == "markdown" and last.source.startswith("## References")
    for link in LINKS:
        assert link in last.source, link
    assert "Tokens-to-Token Vision Transformers, Explained" in last.source and "Callis" in last.source


# ---- the deep-narrow backbone and the position codes at another size ------------------------------


def backbone_parameters(width: int, depth: int, mlp: int, classes: int = 1000) -> int:
    """A closed formula: per block two LayerNorms, qkv (no bias), proj, fc1, fc2; then norm, head, class token."""
    block = 2 * 2 * width + 3 * width * width + (width * width + width) + (width * mlp + mlp) + (mlp * width + width)
    return depth * block + 2 * width + (width * classes + classes) + width


def test_deep_narrow_counts_match_a_formula_and_the_paper():
    wide, narrow = backbone_parameters(768, 8, 3 * 768), backbone_parameters(384, 14, 3 * 384)
    assert round(wide / 1e6, 1) == 48.0 and round(narrow / 1e6, 1) == 21.1  # Table 7: T2T-ViT-14 w/o T2T, 21.1M
    text = printed()
    assert "ViT-S/16's shape        8 blocks of width 768: 5.91M per block, 48.0M in all" in text
    assert "T2T-ViT-14's backbone  14 blocks of width 384: 1.48M per block, 21.1M in all" in text
    # the notebook's own counter agrees with the formula
    with torch.device("meta"):
        bb = helpers.ViTBackbone(196, token_len=384, preds=1000, num_heads=6, hidden_chan_mul=3.0, depth=14)
    assert sum(p.numel() for p in bb.parameters()) == narrow


def test_position_codes_change_with_the_grid_width():
    # The table row of grid cell (r, c) is 1 + r * width + c: on a 4 x 7 grid only row 0 keeps its 14 x 14 row.
    h, w = side(side(side(60, 7), 3), 3), side(side(side(100, 7), 3), 3)
    assert (h, w) == (4, 7)
    same = [(r, c) for r in range(h) for c in range(w) if r * w + c == r * 14 + c]
    assert same == [(0, c) for c in range(w)]
    assert "4 x 7 grid: 7 of 28 cells get the position code they had on the 14 x 14 grid" in printed()
