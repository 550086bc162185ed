"""The fast paths give the naive reference's numbers, and the benchmark script runs (no timing here)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from benchmarks import run
from benchmarks.reference import config_of, reference_forward, reference_tokens2token
from helpers import T2TViT, Tokens2Token, make_fast, make_plain, t2t_steps
from helpers import fast as fast_linear
from helpers.fast import FastLinear, FusedUnfold


def scrambled(model: nn.Module, seed: int = 0) -> nn.Module:
    """Give every parameter large random values, so a wrong step shows in the logits."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if not name.endswith("attn.w"):  # keep the Performer's fixed random features as built
                param.normal_(0.0, 0.2, generator=gen)
    return model


def small_model(token_module: str, t2t_num_heads: int = 1, **kwargs) -> T2TViT:
    torch.manual_seed(0)
    args = dict(
        img_size=(3, 40, 52),
        softsplit_kernels=(7, 3, 3),
        preds=5,
        token_len=48,
        token_chan=16,
        num_heads=4,
        t2t_num_heads=t2t_num_heads,
        depth=2,
        encoding_hidden_chan_mul=2.0,
        token_module=token_module,
    )
    args.update(kwargs)
    return make_fast(scrambled(T2TViT(**args)).eval())


CASES = [
    dict(token_module="transformer"),
    dict(token_module="transformer", t2t_num_heads=2, t2t_qk_scales=(147**-0.5, None)),
    dict(token_module="transformer", softsplit_kernels=(5, 3, 3), img_size=(1, 33, 27), qkv_bias=True),
    dict(token_module="performer"),
    dict(token_module="performer", softsplit_kernels=(5, 3, 3), img_size=(2, 30, 45)),
]


@pytest.mark.parametrize("onednn_everywhere", [False, True], ids=["default", "onednn-everywhere"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
def test_logits_match_the_naive_reference(case, onednn_everywhere, monkeypatch):
    if onednn_everywhere:  # small layers skip oneDNN by default; make every FastLinear use it
        monkeypatch.setattr(fast_linear, "MIN_ONEDNN_MACS", 0)
    model = small_model(**case)
    x = torch.randn(3, *model.img_size, generator=torch.Generator().manual_seed(1))
    expected = reference_forward(x, model.state_dict(), config_of(model))
    assert expected.abs().max() > 0.1  # the check below is not trivially small numbers
    with torch.no_grad():
        got = model(x)
    torch.testing.assert_close(got, expected, atol=1e-4, rtol=0)
    # With autograd on, the plain nn.Linear path runs: same numbers, and gradients flow.
    x.requires_grad_(True)
    got = model(x)
    torch.testing.assert_close(got.detach(), expected, atol=1e-4, rtol=0)
    got.sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()


@pytest.mark.parametrize("token_module", ["transformer", "performer"])
def test_tokens2token_matches_reference_and_its_plain_self(token_module):
    model = small_model(token_module)
    x = torch.randn(2, *model.img_size, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        fast = model.tokens2token(x)
        steps = t2t_steps(make_plain(model).tokens2token, x)
    torch.testing.assert_close(fast, reference_tokens2token(x, model.state_dict(), config_of(model)), atol=1e-4, rtol=0)
    torch.testing.assert_close(fast, steps["project"], atol=1e-5, rtol=0)


@pytest.mark.parametrize("kernel,stride,padding", [(7, 4, 2), (3, 2, 1), (5, 3, 2), (4, 2, 0), (31, 16, 8)])
def test_fused_soft_split_equals_unfold_exactly(kernel, stride, padding):
    fused = FusedUnfold(kernel, stride=stride, padding=padding)
    unfold = nn.Unfold(kernel, stride=stride, padding=padding)
    gen = torch.Generator().manual_seed(3)
    image = torch.randn(2, 3, 37, 45, generator=gen)
    assert torch.equal(fused(image), unfold(image))
    assert fused(image).transpose(1, 2).is_contiguous()  # the soft split's transpose costs no copy
    # Tokens on a (h, w) grid, reconstructed as a view: the same as a contiguous image.
    grid = (37, 45)
    tokens = torch.randn(2, grid[0] * grid[1], 5, generator=gen)
    view = Tokens2Token.reconstruct(tokens, grid)
    image = tokens.transpose(1, 2).reshape(2, 5, *grid).contiguous()
    assert not view.is_contiguous() and torch.equal(fused(view), unfold(image))
    # An empty batch gives an empty batch of tokens of the right length.
    assert fused(image[:0]).shape == (0, *unfold(image).shape[1:])


def test_attention_uses_the_cpu_flash_kernel_not_the_full_matrix():
    """The memory figure relies on it: no (B, heads, N, N) matrix, no separate softmax."""
    from torch.profiler import ProfilerActivity, profile

    model = small_model("transformer")
    x = torch.randn(2, *model.img_size)
    with torch.no_grad(), profile(activities=[ProfilerActivity.CPU]) as prof:
        model(x)
    names = {event.name for event in prof.events()}
    assert "aten::_scaled_dot_product_flash_attention_for_cpu" in names
    assert not names & {"aten::softmax", "aten::_softmax", "aten::bmm"}


def test_fast_linear_is_an_nn_linear_with_the_same_numbers():
    torch.manual_seed(0)
    fast, plain = FastLinear(37, 290), nn.Linear(37, 290)
    fast.load_state_dict(plain.state_dict())
    assert isinstance(fast, nn.Linear) and list(fast.state_dict()) == ["weight", "bias"]
    x = torch.randn(40, 40, 37)  # 1600 x 37 x 290 multiply-adds: large enough for oneDNN
    assert not fast._can_use_onednn(x[:2]) and not fast._can_use_onednn(x[:, :0])  # too small
    with torch.no_grad():
        assert fast._can_use_onednn(x) == torch.backends.mkldnn.is_available()
        torch.testing.assert_close(fast(x), F.linear(x, plain.weight, plain.bias), atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(fast(x[:, ::2]), plain(x[:, ::2]), atol=1e-5, rtol=1e-5)  # strided input
        x64 = x.double()
        assert not fast.double()._can_use_onednn(x64)
        torch.testing.assert_close(fast(x64), plain.double()(x64))
    fast.float()
    assert not fast._can_use_onednn(x)  # autograd on and the weight needs a gradient: plain nn.Linear
    fast(x).sum().backward()
    assert fast.weight.grad is not None


def test_benchmark_script_runs_on_tiny_sizes(tmp_path, capsys):
    out = tmp_path / "RESULTS.md"
    assert run.main(["--tiny", "--output", str(out)]) == 0
    text = out.read_text()
    printed = capsys.readouterr().out
    for row in ("Forward speed", "Extra peak memory", "Fidelity", "Soft-split GIF"):
        assert row in text and row in printed
    assert "torch" in text and "threads" in text


@pytest.mark.parametrize("variant", ["t2t_vit_t_14", "t2t_vit_7"])
def test_zoo_models_match_the_reference(variant):
    """The official configurations: each token attention has its own scale, (input length) ** -0.5."""
    import timm

    torch.manual_seed(0)
    model = scrambled(timm.create_model(variant, img_size=64, num_classes=7), seed=4).eval()
    if variant == "t2t_vit_t_14":  # the case the reference must not get wrong
        t2t = model.tokens2token
        assert t2t.transformer1.attn.scale != t2t.transformer2.attn.scale
    x = torch.randn(2, *model.img_size, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        got = model(x)
    expected = reference_forward(x, model.state_dict(), config_of(model))
    assert expected.abs().max() > 0.1
    torch.testing.assert_close(got, expected, atol=1e-4, rtol=0)
