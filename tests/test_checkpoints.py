"""Official T2T-ViT checkpoints load through timm and give the official model's logits.

The truth is an official-style forward pass written here with plain tensor ops on the raw
official tensors (official key names, ``k, q, v`` order, official scales); it never calls
the helpers' modules. Checkpoints are random (seeded) with the official layout and shapes,
saved the way timm's training script saves them.
"""

from __future__ import annotations

import argparse
import copy
import math
import warnings

import pytest
import timm
import torch
import torch.nn.functional as F
from timm.utils import ParseKwargs

import helpers
from helpers.timm.checkpoint import checkpoint_filter_fn, load_checkpoint_file

torch.set_num_threads(1)

# The variants as the issue specifies them: T2T module, token_len, depth, heads, hidden mul.
TABLE = {
    "t2t_vit_7": ("performer", 256, 7, 4, 2),
    "t2t_vit_10": ("performer", 256, 10, 4, 2),
    "t2t_vit_t_14": ("transformer", 384, 14, 6, 3),
}
TOKEN_CHAN = 64


def sinusoid(rows: int, width: int) -> torch.Tensor:
    """The fixed position table, (1, rows, width), written independently of helpers."""
    table = torch.zeros(rows, width, dtype=torch.float64)
    for j in range(width):
        freq = 10000.0 ** (-2 * (j // 2) / width)
        angle = torch.arange(rows, dtype=torch.float64) * freq
        table[:, j] = torch.sin(angle) if j % 2 == 0 else torch.cos(angle)
    return table.float()[None]


def official_state_dict(
    name: str, seed: int = 0, in_chans: int = 3, num_classes: int = 1000, shared_colour_norm: bool = False
) -> dict[str, torch.Tensor]:
    """Random weights with the official key names and shapes of variant ``name`` (224 x 224).

    ``shared_colour_norm`` gives the first LayerNorm the same weight and bias for every colour.
    """
    module, D, depth, _, mul = TABLE[name]
    gen = torch.Generator().manual_seed(seed)

    def rand(*shape: int, std: float = 0.05, mean: float = 0.0) -> torch.Tensor:
        return torch.randn(*shape, generator=gen) * std + mean

    def linear(prefix: str, out_f: int, in_f: int, bias: bool = True, std: float = 0.05) -> None:
        sd[prefix + ".weight"] = rand(out_f, in_f, std=std)
        if bias:
            sd[prefix + ".bias"] = rand(out_f, std=0.02)

    def norm(prefix: str, n: int) -> None:
        sd[prefix + ".weight"] = rand(n, std=0.1, mean=1.0)
        sd[prefix + ".bias"] = rand(n, std=0.1)

    sd: dict[str, torch.Tensor] = {}
    C = TOKEN_CHAN
    for i, dim in ((1, in_chans * 49), (2, C * 9)):
        p = f"tokens_to_token.attention{i}."
        norm(p + "norm1", dim)
        if i == 1 and shared_colour_norm:
            sd[p + "norm1.weight"] = sd[p + "norm1.weight"][:49].repeat(in_chans)
            sd[p + "norm1.bias"] = sd[p + "norm1.bias"][:49].repeat(in_chans)
        if module == "transformer":
            linear(p + "attn.qkv", 3 * C, dim, bias=False, std=0.1)
            linear(p + "attn.proj", C, C)
            linear(p + "mlp.fc1", C, C)
            linear(p + "mlp.fc2", C, C)
        else:
            linear(p + "kqv", 3 * C, dim, std=0.02)
            linear(p + "proj", C, C)
            linear(p + "mlp.0", C, C)
            linear(p + "mlp.2", C, C)
            m = C // 2
            q_mat, _ = torch.linalg.qr(torch.randn(C, m, generator=gen))
            sd[p + "w"] = q_mat.T.contiguous() * math.sqrt(m)  # orthogonal rows, norm sqrt(m)
        norm(p + "norm2", C)
    linear("tokens_to_token.project", D, C * 9)
    sd["cls_token"] = rand(1, 1, D, std=0.02)
    sd["pos_embed"] = sinusoid(197, D)
    for b in range(depth):
        p = f"blocks.{b}."
        norm(p + "norm1", D)
        linear(p + "attn.qkv", 3 * D, D, bias=False)
        linear(p + "attn.proj", D, D)
        norm(p + "norm2", D)
        linear(p + "mlp.fc1", D * mul, D)
        linear(p + "mlp.fc2", D, D * mul)
    norm("norm", D)
    linear("head", num_classes, D)
    return sd


def official_forward(sd: dict[str, torch.Tensor], name: str, x: torch.Tensor, block_scale: float | None = None):
    """Official T2T-ViT forward on raw official tensors; ``block_scale`` defaults to token_len ** -0.5."""
    module, D, depth, heads, _ = TABLE[name]
    scale = D**-0.5 if block_scale is None else block_scale
    B = x.shape[0]

    def ln(t, p):
        return F.layer_norm(t, t.shape[-1:], sd[p + ".weight"], sd[p + ".bias"], eps=1e-5)

    def lin(t, p):
        return F.linear(t, sd[p + ".weight"], sd.get(p + ".bias"))

    def token_block(t, p):
        dim = t.shape[-1]
        h = ln(t, p + "norm1")
        if module == "transformer":
            q, k, v = lin(h, p + "attn.qkv").chunk(3, dim=-1)
            weights = torch.softmax((q @ k.transpose(1, 2)) * dim**-0.5, dim=-1)
            t = v + lin(weights @ v, p + "attn.proj")
            hidden = lin(F.gelu(lin(ln(t, p + "norm2"), p + "mlp.fc1")), p + "mlp.fc2")
        else:
            k, q, v = lin(h, p + "kqv").chunk(3, dim=-1)
            w = sd[p + "w"]

            def phi(z):
                return torch.exp(z @ w.T - 0.5 * (z**2).sum(-1, keepdim=True)) / math.sqrt(w.shape[0])

            qf, kf = phi(q), phi(k)
            numer = qf @ (kf.transpose(1, 2) @ v)
            denom = (qf * kf.sum(dim=1, keepdim=True)).sum(-1, keepdim=True)
            t = v + lin(numer / (denom + 1e-8), p + "proj")
            hidden = lin(F.gelu(lin(ln(t, p + "norm2"), p + "mlp.0")), p + "mlp.2")
        return t + hidden

    def grid(n, k, s, p):
        return (n + 2 * p - k) // s + 1

    h, w = x.shape[-2:]
    t = token_block(F.unfold(x, 7, padding=2, stride=4).transpose(1, 2), "tokens_to_token.attention1.")
    h, w = grid(h, 7, 4, 2), grid(w, 7, 4, 2)
    image = t.transpose(1, 2).reshape(B, TOKEN_CHAN, h, w)
    t = token_block(F.unfold(image, 3, padding=1, stride=2).transpose(1, 2), "tokens_to_token.attention2.")
    h, w = grid(h, 3, 2, 1), grid(w, 3, 2, 1)
    image = t.transpose(1, 2).reshape(B, TOKEN_CHAN, h, w)
    t = lin(F.unfold(image, 3, padding=1, stride=2).transpose(1, 2), "tokens_to_token.project")
    n = t.shape[1] + 1
    t = torch.cat((sd["cls_token"].expand(B, -1, -1), t), dim=1) + sinusoid(n, D)
    for b in range(depth):
        p = f"blocks.{b}."
        qkv = lin(ln(t, p + "norm1"), p + "attn.qkv").reshape(B, n, 3, heads, D // heads)
        q, k, v = (qkv[:, :, i].transpose(1, 2) for i in range(3))
        weights = torch.softmax(q @ k.transpose(-2, -1) * scale, dim=-1)
        t = t + lin((weights @ v).transpose(1, 2).reshape(B, n, D), p + "attn.proj")
        t = t + lin(F.gelu(lin(ln(t, p + "norm2"), p + "mlp.fc1")), p + "mlp.fc2")
    return lin(ln(t, "norm")[:, 0], "head")


def save_training_checkpoint(path, name: str, state_dict=None, state_dict_ema=None, **extra) -> str:
    """Save like timm's train.py: state dicts, epoch, arch, args as an argparse.Namespace."""
    ckpt = dict(epoch=309, arch=name, args=argparse.Namespace(model=name, lr=5e-4, model_ema=True), **extra)
    if state_dict is not None:
        ckpt["state_dict"] = state_dict
    if state_dict_ema is not None:
        ckpt["state_dict_ema"] = state_dict_ema
    torch.save(ckpt, path)
    return str(path)


def images(batch: int = 2, chans: int = 3, height: int = 224, width: int = 224, seed: int = 0) -> torch.Tensor:
    return torch.randn(batch, chans, height, width, generator=torch.Generator().manual_seed(seed))


def load(name: str, path: str, **kwargs) -> torch.nn.Module:
    model = timm.create_model(name, pretrained=True, pretrained_cfg_overlay=dict(file=path), **kwargs)
    return model.eval()


@pytest.fixture(scope="module", params=["t2t_vit_t_14", "t2t_vit_7"])
def official(request, tmp_path_factory):
    """(name, EMA weights, raw weights, checkpoint path, model loaded from it)."""
    name = request.param
    ema, raw = official_state_dict(name, seed=0), official_state_dict(name, seed=1)
    path = save_training_checkpoint(tmp_path_factory.mktemp(name) / "ckpt.pth.tar", name, raw, ema)
    return name, ema, raw, path, load(name, path)


def test_registered_names_are_the_helpers_variants():
    assert set(timm.list_models("t2t_vit*")) == set(helpers.timm.zoo.VARIANTS)


def test_official_logits_match_the_official_forward(official):
    name, ema, _, _, model = official
    x = images()
    with torch.no_grad():
        ours, truth = model(x), official_forward(ema, name, x)
        wrong_scale = official_forward(ema, name, x, block_scale=(TABLE[name][1] // TABLE[name][3]) ** -0.5)
    assert ours.shape == (2, 1000)
    assert torch.isfinite(truth).all()
    torch.testing.assert_close(ours, truth, atol=2e-4, rtol=1e-4)
    # The comparison is sharp enough to see the official token_len ** -0.5 block scale.
    assert (wrong_scale - truth).abs().max() > 100 * (ours - truth).abs().max()


def test_ema_weights_are_preferred(official):
    name, ema, raw, _, model = official
    head = model.get_classifier().weight
    assert torch.equal(head, ema["head.weight"]) and not torch.equal(head, raw["head.weight"])


def test_plain_state_dict_and_module_prefix(official, tmp_path):
    name, _, raw, _, _ = official
    wrapped = {"module." + k: v for k, v in raw.items()}
    path = save_training_checkpoint(tmp_path / "ddp.pth.tar", name, state_dict=wrapped, state_dict_ema=None)
    model = load(name, path)
    x = images(seed=3)
    with torch.no_grad():
        torch.testing.assert_close(model(x), official_forward(raw, name, x), atol=2e-4, rtol=1e-4)


def test_filter_accepts_a_raw_training_checkpoint(official):
    name, ema, _, path, model = official
    raw_ckpt = load_checkpoint_file(path)  # the whole dict, args Namespace included
    assert isinstance(raw_ckpt["args"], argparse.Namespace)
    sd = checkpoint_filter_fn(raw_ckpt, model)
    assert torch.equal(sd["backbone.cls_token"], ema["cls_token"])
    assert set(sd) == set(model.state_dict())


def test_performer_kqv_rows_become_qkv():
    sd = official_state_dict("t2t_vit_7")
    model = timm.create_model("t2t_vit_7")
    ours = checkpoint_filter_fn(sd, model)
    kqv = sd["tokens_to_token.attention1.kqv.weight"]
    q_rows = ours["tokens2token.transformer1.attn.qkv.weight"][:TOKEN_CHAN]
    assert torch.equal(q_rows, kqv[TOKEN_CHAN : 2 * TOKEN_CHAN])


def test_new_head_for_other_class_counts(official):
    name, ema, _, path, _ = official
    model = load(name, path, num_classes=10)
    assert model.get_classifier().weight.shape == (10, TABLE[name][1])
    assert torch.equal(model.backbone.norm.weight, ema["norm.weight"])


def test_code_running_pickle_is_refused(tmp_path):
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (marker.mkdir, ())

    path = tmp_path / "evil.pth.tar"
    torch.save({"state_dict": {"cls_token": torch.zeros(1)}, "args": Payload()}, path)
    with pytest.raises(ValueError, match="refused"):
        timm.create_model("t2t_vit_7", pretrained=True, pretrained_cfg_overlay=dict(file=str(path)))
    with pytest.raises(ValueError, match="refused"):
        load_checkpoint_file(path)
    assert not marker.exists()


def test_checkpoint_of_another_variant_names_the_keys(tmp_path):
    path = save_training_checkpoint(tmp_path / "seven.pth.tar", "t2t_vit_7", official_state_dict("t2t_vit_7"))
    with pytest.raises(ValueError) as info:
        load("t2t_vit_10", path)
    message = str(info.value)
    assert "backbone.blocks.7.attn.qkv.weight: missing" in message and "t2t_vit_7 checkpoint" in message
    with pytest.raises(ValueError) as info:
        load("t2t_vit_t_14", path)
    assert "backbone.cls_token: checkpoint (1, 1, 256), model (1, 1, 384)" in str(info.value)


def test_pos_embed_that_is_not_the_sinusoid_warns(tmp_path):
    sd = official_state_dict("t2t_vit_7")
    with pytest.warns(UserWarning, match="not the fixed sinusoid"):
        checkpoint_filter_fn(dict(sd, pos_embed=sd["pos_embed"] + 0.1), timm.create_model("t2t_vit_7"))


def test_pretrained_without_a_file_explains_what_to_pass():
    with pytest.raises(ValueError, match="pretrained_cfg_overlay=dict\\(file="):
        timm.create_model("t2t_vit_7", pretrained=True)


def test_sinusoid_pos_embed_loads_silently():
    sd = official_state_dict("t2t_vit_7")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = checkpoint_filter_fn(sd, timm.create_model("t2t_vit_7"))
    assert "backbone.pos_embed" not in out and "pos_embed" not in out


def test_train_py_pretrained_path_gives_a_fresh_head(official):
    """train.py --pretrained --pretrained-path FILE overlays dict(file=FILE, num_classes=-1)."""
    name, ema, _, path, _ = official
    overlay = dict(file=path, num_classes=-1)
    model = timm.create_model(name, pretrained=True, pretrained_cfg_overlay=overlay, num_classes=10)
    assert model.get_classifier().weight.shape == (10, TABLE[name][1])
    assert torch.equal(model.backbone.blocks[0].attn.qkv.weight, ema["blocks.0.attn.qkv.weight"])


def test_model_kwargs_overlay_from_the_command_line(official):
    """The --model-kwargs string from docs/model_zoo.md, parsed the way timm's scripts parse it."""
    name, ema, _, path, _ = official
    parser = argparse.ArgumentParser()
    parser.add_argument("--model-kwargs", nargs="*", default={}, action=ParseKwargs)
    args = parser.parse_args(["--model-kwargs", f"pretrained_cfg_overlay={{'file': '{path}'}}"])
    model = timm.create_model(name, pretrained=True, **args.model_kwargs)
    assert torch.equal(model.backbone.norm.bias, ema["norm.bias"])


def test_filter_and_load_state_dict_by_hand(official):
    """The docs' recipe outside timm's loader: build with the pretrained qk_scale, filter, load."""
    name, ema, _, path, _ = official
    model = timm.create_model(name, qk_scale=TABLE[name][1] ** -0.5).eval()
    model.load_state_dict(checkpoint_filter_fn(load_checkpoint_file(path), model))
    x = images(1, seed=11)
    with torch.no_grad():
        torch.testing.assert_close(model(x), official_forward(ema, name, x), atol=2e-4, rtol=1e-4)


def test_own_layout_checkpoint_round_trip(tmp_path):
    """A checkpoint that train.py writes for these models (our key layout) loads back unchanged."""
    trained = timm.create_model("t2t_vit_7", num_classes=10, img_size=64)
    path = save_training_checkpoint(tmp_path / "own.pth.tar", "t2t_vit_7", trained.state_dict())
    # Ten classes in the file: say so in the overlay, or timm starts a fresh head. Trained without
    # the official weights, the blocks used the default head_dim ** -0.5, so pass it.
    overlay = dict(file=path, num_classes=10)
    loaded = timm.create_model(
        "t2t_vit_7", pretrained=True, pretrained_cfg_overlay=overlay, img_size=64, qk_scale=64**-0.5
    ).eval()
    x = torch.rand(2, 3, 64, 64)
    trained.eval()
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), trained(x))


def test_stray_entries_in_a_plain_dict_are_named():
    sd = dict(official_state_dict("t2t_vit_7"), epoch=3)
    with pytest.raises(ValueError, match="epoch: not a tensor but int"):
        checkpoint_filter_fn(sd, timm.create_model("t2t_vit_7"))


def test_the_filter_only_transforms_the_state_dict(tmp_path):
    """RGB weights into a grey model: the filter adapts the weights and leaves the model as it was."""
    name = "t2t_vit_t_14"
    path = save_training_checkpoint(tmp_path / "rgb.pth.tar", name, official_state_dict(name, seed=2))
    torch.manual_seed(0)
    model = timm.create_model(name, img_size=64, in_chans=1)
    before = copy.deepcopy(model)
    attrs = {n: dict(vars(m)) for n, m in model.named_modules()}
    sd = checkpoint_filter_fn(load_checkpoint_file(path), model)
    assert sd["tokens2token.transformer1.attn.qkv.weight"].shape == (3 * 64, 49)  # adapted to one channel
    for (n, a), (_, b) in zip(model.state_dict().items(), before.state_dict().items()):
        assert torch.equal(a, b), n
    for n, m in model.named_modules():
        assert {k: v for k, v in vars(m).items() if not k.startswith("_")} == {
            k: v for k, v in attrs[n].items() if not k.startswith("_")
        }, n
    # The scale the RGB weights were trained with comes from the constructor, before any loading.
    grey = load(name, path, img_size=64, in_chans=1)
    assert grey.tokens2token.transformer1.attn.scale == pytest.approx((3 * 49) ** -0.5)
    assert timm.create_model(name, in_chans=1).tokens2token.transformer1.attn.scale == pytest.approx(49**-0.5)
