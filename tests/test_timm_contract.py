"""timm's model contract: gradients, TorchScript, tracing, FX, features, device / dtype, inputs.

Each property is checked against an independent truth: the eager model, the checkpoint's own
tensors, a reshape written out by hand, or the tensor a dtype cast gives. Small variants
(2 blocks, 32-64 pixel images) keep the file fast.
"""

from __future__ import annotations

import numpy as np
import pytest
import timm
import torch
from timm.models import get_notrace_functions, get_notrace_modules
from torch import nn
from torchvision.models.feature_extraction import create_feature_extractor

import helpers  # noqa: F401  registers the variants
from helpers import T2TViT, Tokens2Token, make_fast, t2t_steps
from helpers.fast import FastLinear

torch.set_num_threads(1)
# torch 2.14 calls TorchScript deprecated; timm's contract still requires it.
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.*` is deprecated:FutureWarning")

NAMES = ["t2t_vit_7", "t2t_vit_t_14"]  # a Performer and a Transformer T2T module


def small(name: str, seed: int = 0, **kwargs) -> torch.nn.Module:
    torch.manual_seed(seed)
    kwargs = dict(dict(img_size=48, depth=2, num_classes=5), **kwargs)
    return timm.create_model(name, **kwargs)


def pictures(batch: int = 2, chans: int = 3, height: int = 48, width: int = 48, seed: int = 1) -> torch.Tensor:
    return torch.randn(batch, chans, height, width, generator=torch.Generator().manual_seed(seed))


# ---- gradients ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_every_trainable_parameter_gets_a_gradient(name):
    model = small(name).train()
    model(pictures()).logsumexp(-1).mean().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not missing
    assert all(p.requires_grad for p in model.parameters())


def test_performer_random_features_are_a_saved_buffer_not_a_parameter():
    model = small("t2t_vit_7")
    key = "tokens2token.transformer1.attn.w"
    assert key in model.state_dict() and key in dict(model.named_buffers())
    assert key not in dict(model.named_parameters())
    w = model.tokens2token.transformer1.attn.w
    torch.testing.assert_close(w @ w.T, 32 * torch.eye(32), atol=1e-4, rtol=1e-4)  # m = 64 * 0.5 = 32


# ---- TorchScript, tracing, FX ----------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_script_trace_and_fx_give_the_eager_logits(name):
    model = small(name).eval()
    x = pictures()
    with torch.no_grad():
        eager = model(x)
        scripted = torch.jit.script(model)(x)
        traced = torch.jit.trace(model, x)(x)  # under no_grad too
    fx_model = torch.fx.symbolic_trace(model)
    with torch.no_grad():
        fx = fx_model(x)
        fx_scripted = torch.jit.script(fx_model)(x)  # timm's FX + TorchScript test
    for other in (scripted, traced, fx, fx_scripted):
        torch.testing.assert_close(other, eager, atol=1e-5, rtol=1e-5)
    traced_grad = torch.jit.trace(model, x)  # with autograd on
    torch.testing.assert_close(traced_grad(x), eager, atol=1e-5, rtol=1e-5)


def test_exported_graphs_use_plain_linear_while_eager_takes_the_onednn_path(monkeypatch):
    layer = FastLinear(512, 512).eval()
    x = torch.randn(128, 512)  # 128 * 512 * 512 = 2 ** 25 multiply-adds: over the oneDNN threshold
    calls = []
    fast = FastLinear._fast_forward
    monkeypatch.setattr(FastLinear, "_fast_forward", lambda self, t: calls.append(1) or fast(self, t))
    with torch.no_grad():
        eager = layer(x)
        assert len(calls) == 1
        traced = torch.jit.trace(layer, x, check_trace=False)  # the check would re-run eager
        scripted = torch.jit.script(layer)
    assert len(calls) == 1  # tracing did not go through oneDNN
    for graph in (traced.graph, scripted.graph, torch.fx.symbolic_trace(layer).graph):
        assert "mkldnn" not in str(graph)
        assert "linear" in str(graph)
    with torch.no_grad():
        torch.testing.assert_close(traced(x), eager, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(scripted(x), eager, atol=1e-5, rtol=1e-5)


def test_timm_fx_feature_extractor_returns_the_blocks_tokens():
    model = small("t2t_vit_t_14").eval()
    x = pictures()
    tracer_kwargs = dict(leaf_modules=get_notrace_modules(), autowrap_functions=get_notrace_functions())
    extractor = create_feature_extractor(
        model, return_nodes={"backbone.blocks.0": "b0", "backbone.head": "logits"}, tracer_kwargs=tracer_kwargs
    )
    with torch.no_grad():
        out = extractor(x)
        taps = model.forward_intermediates(x, indices=[0], output_fmt="NLC", intermediates_only=True)
        torch.testing.assert_close(out["logits"], model(x), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(out["b0"][:, 1:], taps[0], atol=1e-6, rtol=0)  # drop the prediction token


@pytest.mark.parametrize("backend", ["eager"])
def test_torch_compile_has_no_graph_break_and_matches_eager(backend):
    torch._dynamo.reset()
    model = small("t2t_vit_7", img_size=32).eval()
    x = pictures(height=32, width=32)
    compiled = torch.compile(model, backend=backend, fullgraph=True)  # fullgraph: a graph break is an error
    with torch.no_grad():
        torch.testing.assert_close(compiled(x), model(x), atol=1e-5, rtol=1e-5)
    torch._dynamo.reset()


def test_eager_keeps_the_friendly_errors_scripted_models_do_not_need_them():
    model = small("t2t_vit_7").eval()
    with pytest.raises(ValueError, match="48 x 48"):
        model(pictures(height=40))
    with pytest.raises(ValueError, match="Attention expects tokens of shape"):
        model.backbone.blocks[0].attn(torch.zeros(1, 5, 7))


# ---- features ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_forward_intermediates_are_the_patch_tokens_on_the_t2t_grid(name):
    model = small(name, img_size=(48, 80)).eval()
    x = pictures(height=48, width=80)
    h, w = 3, 5  # 48 -> 12 -> 6 -> 3 and 80 -> 20 -> 10 -> 5 (strides 4, 2, 2)
    assert model.tokens2token.grids[-1] == (h, w)
    with torch.no_grad():
        tokens = model.forward_features(x)  # (B, 1 + h * w, D), after the final norm
        final, maps = model.forward_intermediates(x, indices=1, norm=True)
    D = model.num_features
    assert len(maps) == 1 and maps[0].shape == (2, D, h, w)
    for r, c in [(0, 0), (0, 4), (2, 1), (2, 4)]:  # token 1 + r * w + c sits at row r, column c
        torch.testing.assert_close(maps[0][:, :, r, c], tokens[:, 1 + r * w + c], atol=1e-6, rtol=0)
    torch.testing.assert_close(final, model.forward_features(x), atol=1e-6, rtol=0)
    torch.testing.assert_close(model.forward_head(final), model(x), atol=1e-6, rtol=0)
    nlc = model.forward_intermediates(x, indices=[0, 1], output_fmt="NLC", intermediates_only=True)
    assert [t.shape for t in nlc] == [(2, h * w, D)] * 2
    early = model.forward_intermediates(x, indices=[0], stop_early=True, intermediates_only=True)
    full = model.forward_intermediates(x, indices=[0], intermediates_only=True)
    torch.testing.assert_close(early[0], full[0], atol=0, rtol=0)
    with pytest.raises(ValueError, match="output_fmt"):
        model.forward_intermediates(x, output_fmt="NHWC")


@pytest.mark.parametrize("name", NAMES)
def test_features_only_gives_the_last_three_blocks_as_maps(name):
    x = pictures(height=48, width=80)
    full = small(name, seed=3, img_size=(48, 80), depth=4).eval()
    features = small(name, seed=3, img_size=(48, 80), depth=4, features_only=True).eval()
    assert features.feature_info.channels() == [full.num_features] * 3
    assert features.feature_info.reduction() == [16] * 3  # 4 * 2 * 2 pixels per token step
    assert [i["module"] for i in features.feature_info.get_dicts()] == [f"backbone.blocks.{i}" for i in (1, 2, 3)]
    with torch.no_grad():
        out = features(x)
        expected = full.forward_intermediates(x, indices=3, intermediates_only=True)
    assert [o.shape for o in out] == [(2, full.num_features, 3, 5)] * 3
    for o, e in zip(out, expected):
        torch.testing.assert_close(o, e, atol=1e-6, rtol=0)


def test_pretrained_features_only_loads_the_official_checkpoint(tmp_path):
    from test_checkpoints import official_state_dict, save_training_checkpoint

    sd = official_state_dict("t2t_vit_7")
    path = save_training_checkpoint(tmp_path / "71.7_T2T_ViT_7.pth.tar", "t2t_vit_7", state_dict_ema=sd)
    overlay = dict(file=path)
    features = timm.create_model("t2t_vit_7", pretrained=True, features_only=True, pretrained_cfg_overlay=overlay)
    full = timm.create_model("t2t_vit_7", pretrained=True, pretrained_cfg_overlay=overlay).eval()
    weights = dict(features.named_parameters())
    torch.testing.assert_close(weights["model.backbone.blocks.6.attn.qkv.weight"], sd["blocks.6.attn.qkv.weight"])
    torch.testing.assert_close(weights["model.tokens2token.project.weight"], sd["tokens_to_token.project.weight"])
    x = pictures(batch=1, height=224, width=224)
    with torch.no_grad():
        out = features.eval()(x)
        expected = full.forward_intermediates(x, indices=3, intermediates_only=True)
    for o, e in zip(out, expected):
        torch.testing.assert_close(o, e, atol=1e-5, rtol=0)


# ---- factory: device, dtype, meta, head, unknown arguments ----------------------------------------


def test_meta_device_builds_every_tensor_on_meta_and_runs_shapes():
    model = timm.create_model("t2t_vit_t_24", device="meta")  # 64M parameters, nothing allocated
    tensors = dict(model.named_parameters()) | dict(model.named_buffers())
    assert {t.device.type for t in tensors.values()} == {"meta"}
    out = model(torch.empty(2, 3, 224, 224, device="meta"))
    assert out.shape == (2, 1000) and out.device.type == "meta"


def test_dtype_builds_float64_and_casts_the_input():
    model = small("t2t_vit_7", dtype=torch.float64).eval()
    assert {t.dtype for t in model.state_dict().values()} == {torch.float64}
    assert model.backbone.pos_embed.dtype == torch.float64
    x = pictures()
    with torch.no_grad():
        out = model(x)  # a float32 picture is cast to the model's float64
        assert out.dtype == torch.float64
        torch.testing.assert_close(out, model(x.double()), atol=0, rtol=0)


def test_cpu_device_and_dtype_together():
    model = timm.create_model("t2t_vit_7", img_size=32, depth=1, device="cpu", dtype=torch.bfloat16)
    assert {(t.device.type, t.dtype) for t in model.state_dict().values()} == {("cpu", torch.bfloat16)}


@pytest.mark.parametrize("kwargs", [dict(bogus=1), dict(depth=2, not_a_model_arg=1), dict(device="meta", typo=2)])
def test_unknown_arguments_raise_type_error_naming_them(kwargs):
    bad = next(k for k in kwargs if k not in ("depth", "device"))
    with pytest.raises(TypeError, match=rf"unknown argument\(s\) \['{bad}'\].*accepts .*'num_classes'.*'depth'"):
        timm.create_model("t2t_vit_7", **kwargs)


def test_head_sizes_pre_logits_and_reset_classifier():
    model = small("t2t_vit_t_14").eval()
    x = pictures()
    assert model.num_features == model.head_hidden_size == 384
    with torch.no_grad():
        feats = model.forward_features(x)
        assert feats.shape == (2, 1 + 3 * 3, 384)  # (B, N + 1, D) as timm's ViTs; 48 -> 12 -> 6 -> 3 per side
        pre = model.forward_head(feats, pre_logits=True)
        assert pre.shape == (2, 384)
        torch.testing.assert_close(pre, feats[:, 0], atol=0, rtol=0)  # the prediction token
        head = model.get_classifier()
        torch.testing.assert_close(model(x), pre @ head.weight.T + head.bias, atol=1e-6, rtol=0)
        model.reset_classifier(0)
        torch.testing.assert_close(model(x), pre, atol=0, rtol=0)
        model.reset_classifier(7, "")
        assert model(x).shape == (2, 10, 7)  # no pooling: every token gets logits
    model.to(device="meta", dtype=torch.float64).train()
    model.reset_classifier(3)
    head = model.get_classifier()
    assert head.weight.device.type == "meta" and head.weight.dtype == torch.float64 and head.training
    with pytest.raises(ValueError, match="global_pool"):
        model.reset_classifier(3, "avg")
    with pytest.raises(ValueError, match="num_classes must be a whole number >= 0, got -1"):
        model.reset_classifier(-1)


# ---- inputs (issue 14): dtypes, empty batches, memory layouts -------------------------------------


@pytest.fixture(scope="module")
def grey_model():
    torch.manual_seed(0)
    return T2TViT(img_size=(1, 32, 48), softsplit_kernels=(7, 3, 3), preds=4, token_len=32, depth=1).eval()


@pytest.mark.parametrize("dtype", [torch.float64, torch.float16, torch.uint8, torch.int64, torch.bool])
def test_any_real_dtype_is_cast_to_the_model_dtype_values_unchanged(grey_model, dtype):
    gen = torch.Generator().manual_seed(2)
    raw = torch.randint(0, 256, (2, 1, 32, 48), generator=gen)
    x = (raw > 127) if dtype == torch.bool else raw.to(dtype)
    with torch.no_grad():
        out = grey_model(x)
        assert out.dtype == torch.float32
        torch.testing.assert_close(out, grey_model(x.to(torch.float32)), atol=0, rtol=0)  # no rescaling
        t2t = grey_model.tokens2token
        torch.testing.assert_close(t2t(x), t2t(x.to(torch.float32)), atol=0, rtol=0)


@pytest.mark.parametrize(
    "x, words",
    [
        (torch.zeros(1, 1, 32, 48, dtype=torch.complex64), "real-valued"),
        ([[0.0] * 48] * 32, "got list.*torch.as_tensor"),
        (np.zeros((1, 1, 32, 48), dtype=np.float32), "got ndarray.*torch.from_numpy"),
    ],
)
def test_complex_and_non_tensor_inputs_are_type_errors(grey_model, x, words):
    with pytest.raises(TypeError, match=words):
        grey_model(x)
    with pytest.raises(TypeError, match=words):
        grey_model.tokens2token(x)


def test_an_empty_batch_gives_an_empty_output_of_the_right_shape(grey_model):
    with torch.no_grad():
        assert grey_model(torch.zeros(0, 1, 32, 48)).shape == (0, 4)
        assert grey_model.tokens2token(torch.zeros(0, 1, 32, 48)).shape == (0, grey_model.num_tokens, 32)
        assert t2t_steps(grey_model.tokens2token, torch.zeros(0, 1, 32, 48))["project"].shape[0] == 0
    model = timm.create_model("t2t_vit_7", img_size=32, depth=1).eval()
    with torch.no_grad():
        assert model(torch.zeros(0, 3, 32, 32)).shape == (0, 1000)
        assert model.forward_features(torch.zeros(0, 3, 32, 32)).shape == (0, 5, 256)


def test_non_contiguous_and_channels_last_inputs_give_the_same_output():
    torch.manual_seed(0)
    model = T2TViT(img_size=(3, 32, 48), softsplit_kernels=(7, 3, 3), preds=4, token_len=32, depth=1).eval()
    x = pictures(chans=3, height=32, width=48)
    with torch.no_grad():
        expected = model(x)
        wide = torch.zeros(2, 3, 32, 96)
        wide[..., ::2] = x
        strided = wide[..., ::2]  # every other column: not contiguous
        transposed = x.transpose(2, 3).contiguous().transpose(2, 3)
        channels_last = x.contiguous(memory_format=torch.channels_last)
        for view in (strided, transposed, channels_last):
            assert not view.is_contiguous()
            torch.testing.assert_close(model(view), expected, atol=1e-6, rtol=0)


def test_fast_and_plain_tokens2token_agree_and_the_probe_records_the_forward():
    torch.manual_seed(0)
    t2t = Tokens2Token(img_size=(3, 40, 52), token_module="performer", token_chan=16, token_len=24).eval()
    x = pictures(chans=3, height=40, width=52)
    with torch.no_grad():
        plain = t2t(x)
        steps = t2t_steps(t2t, x)
        fast = make_fast(t2t)(x)
        fast_steps = t2t_steps(t2t, x)
    torch.testing.assert_close(steps["project"], plain, atol=0, rtol=0)
    torch.testing.assert_close(fast, plain, atol=1e-6, rtol=0)
    for name in steps:  # every step of the fused path holds the plain path's values
        torch.testing.assert_close(fast_steps[name], steps[name], atol=1e-6, rtol=0)
    unfold = nn.Unfold(7, stride=4, padding=2)
    torch.testing.assert_close(steps["soft_split0"], unfold(x).transpose(1, 2), atol=0, rtol=0)


# ---- timm's training tools: layer-wise lr decay, gradient checkpointing ----------------------------


def test_layer_decay_groups_cover_every_parameter_in_depth_order():
    from timm.optim import param_groups_layer_decay

    model = small("t2t_vit_7", depth=3)
    groups = param_groups_layer_decay(model, weight_decay=0.05, layer_decay=0.5)
    names = {id(p): n for n, p in model.named_parameters()}
    seen = [id(p) for g in groups for p in g["params"]]
    assert sorted(seen) == sorted(names) and len(seen) == len(set(seen))
    scale_of = {names[id(p)]: g["lr_scale"] for g in groups for p in g["params"]}
    # stem, block 0, 1, 2, head: each step up multiplies the lr by 1 / 0.5 = 2, as 0.5 ** (4 - layer);
    # the final norm goes with the last block, as in timm's own ViT
    stem = scale_of["tokens2token.project.weight"]
    blocks = [scale_of[f"backbone.blocks.{i}.norm1.weight"] for i in range(3)]
    assert [stem, *blocks, scale_of["backbone.head.weight"]] == [0.0625, 0.125, 0.25, 0.5, 1.0]
    assert scale_of["backbone.norm.weight"] == blocks[2]
    assert scale_of["backbone.cls_token"] == stem


@pytest.mark.parametrize("name", NAMES)
def test_grad_checkpointing_gives_the_same_loss_and_gradients(name, monkeypatch):
    import helpers.timm.model as timm_model

    plain, ckpt = small(name, depth=2).train(), small(name, depth=2).train()
    ckpt.set_grad_checkpointing()
    assert ckpt.grad_checkpointing and not plain.grad_checkpointing
    calls = []
    real = timm_model.checkpoint
    monkeypatch.setattr(timm_model, "checkpoint", lambda *a, **k: calls.append(1) or real(*a, **k))
    x = pictures()
    losses = []
    for model in (plain, ckpt):
        torch.manual_seed(3)  # the same dropout draws, if any
        loss = model(x).logsumexp(-1).mean()
        loss.backward()
        losses.append(loss.detach())
    torch.testing.assert_close(losses[0], losses[1], rtol=0, atol=1e-6)
    assert len(calls) == 2  # the checkpointed model really recomputed its two blocks
    for (n, a), (_, b) in zip(plain.named_parameters(), ckpt.named_parameters()):
        torch.testing.assert_close(a.grad, b.grad, rtol=1e-5, atol=1e-6, msg=n)
    ckpt.eval()
    scripted = torch.jit.script(ckpt)  # the switch does not stop TorchScript
    with torch.no_grad():
        torch.testing.assert_close(scripted(x), ckpt(x), rtol=1e-5, atol=1e-5)
