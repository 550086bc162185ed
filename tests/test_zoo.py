"""The nine T2T-ViT variants are registered with timm and have the paper's sizes."""

from __future__ import annotations

import pytest
import timm
import torch
from timm.data import resolve_input_data_config
from timm.models import resolve_model_input_args
from timm.optim import create_optimizer_v2

import helpers
from helpers.model.performer import TokenPerformer
from helpers.model.token_transformer import TokenTransformer

torch.set_num_threads(1)

# From the issue: T2T module, token_len, depth, heads, hidden mul, exact trainable parameters.
SPEC = {
    "t2t_vit_7": ("performer", 256, 7, 4, 2, 4_255_694),
    "t2t_vit_10": ("performer", 256, 10, 4, 2, 5_834_702),
    "t2t_vit_12": ("performer", 256, 12, 4, 2, 6_887_374),
    "t2t_vit_14": ("performer", 384, 14, 6, 3, 21_465_806),
    "t2t_vit_19": ("performer", 448, 19, 7, 3, 39_085_070),
    "t2t_vit_24": ("performer", 512, 24, 8, 3, 64_000_974),
    "t2t_vit_t_14": ("transformer", 384, 14, 6, 3, 21_465_422),
    "t2t_vit_t_19": ("transformer", 448, 19, 7, 3, 39_084_686),
    "t2t_vit_t_24": ("transformer", 512, 24, 8, 3, 64_000_590),
}
# The paper's parameter counts in millions (they include the position embedding).
PAPER_M = {
    "t2t_vit_7": 4.3,
    "t2t_vit_10": 5.9,
    "t2t_vit_12": 6.9,
    "t2t_vit_14": 21.5,
    "t2t_vit_19": 39.2,
    "t2t_vit_24": 64.1,
    "t2t_vit_t_14": 21.5,
    "t2t_vit_t_19": 39.2,
    "t2t_vit_t_24": 64.1,
}


@pytest.fixture(scope="module")
def built():
    """Each variant built once: its structure facts and parameter counts (the models are freed)."""
    facts = {}
    for name in SPEC:
        model = timm.create_model(name)
        blocks = model.backbone.blocks
        facts[name] = dict(
            trainable=sum(p.numel() for p in model.parameters() if p.requires_grad),
            pos_embed=model.backbone.pos_embed.numel(),
            pos_shape=tuple(model.backbone.pos_embed.shape),
            t2t=type(model.tokens2token.transformer1),
            token_len=model.backbone.cls_token.shape[-1],
            depth=len(blocks),
            heads=blocks[0].attn.num_heads,
            hidden=blocks[0].neuralnet.fc1.out_features,
            classes=model.get_classifier().out_features,
            kernels=model.tokens2token.kernels,
            strides=model.tokens2token.strides,
            paddings=model.tokens2token.paddings,
            token_chan=model.tokens2token.token_chan,
        )
        del model
    return facts


def test_every_variant_is_registered():
    assert sorted(timm.list_models("t2t_vit*")) == sorted(SPEC)
    assert sorted(helpers.timm.zoo.VARIANTS) == sorted(SPEC) == sorted(helpers.timm.zoo.PAPER_PARAMS)


@pytest.mark.parametrize("name", SPEC)
def test_trainable_parameters_are_exact(built, name):
    assert built[name]["trainable"] == SPEC[name][5]


@pytest.mark.parametrize("name", SPEC)
def test_parameters_with_position_embedding_match_the_paper(built, name):
    total = built[name]["trainable"] + built[name]["pos_embed"]
    assert round(total / 1e6, 1) == PAPER_M[name] == helpers.timm.zoo.PAPER_PARAMS[name][0]


@pytest.mark.parametrize("name", SPEC)
def test_structure_follows_the_table(built, name):
    module, token_len, depth, heads, mul, _ = SPEC[name]
    f = built[name]
    assert f["t2t"] is {"performer": TokenPerformer, "transformer": TokenTransformer}[module]
    assert (f["token_len"], f["depth"], f["heads"], f["hidden"]) == (token_len, depth, heads, token_len * mul)
    assert (f["kernels"], f["strides"], f["paddings"], f["token_chan"]) == ((7, 3, 3), (4, 2, 2), (2, 1, 1), 64)
    assert f["classes"] == 1000
    assert f["pos_shape"] == (1, 14 * 14 + 1, token_len)  # 224 -> 56 -> 28 -> 14 tokens per side


def test_variants_table_for_other_callers():
    for name, (module, token_len, depth, heads, mul, _) in SPEC.items():
        cfg = helpers.timm.zoo.VARIANTS[name]
        assert (cfg["token_module"], cfg["token_len"], cfg["depth"], cfg["num_heads"]) == (
            module,
            token_len,
            depth,
            heads,
        )
        assert cfg["encoding_hidden_chan_mul"] == mul


def test_official_token_module_settings():
    performer, transformer = timm.create_model("t2t_vit_7"), timm.create_model("t2t_vit_t_14")
    assert performer.tokens2token.transformer1.attn.proj_drop.p == 0.1
    assert performer.tokens2token.transformer2.neuralnet.drop.p == 0.1
    assert transformer.tokens2token.transformer1.attn.proj_drop.p == 0.0
    t2t = transformer.tokens2token
    # One head, scaled by the input token length: 3 * 7 * 7 and 64 * 3 * 3.
    assert (t2t.transformer1.attn.num_heads, t2t.transformer2.attn.num_heads) == (1, 1)
    assert t2t.transformer1.attn.scale == pytest.approx(147**-0.5)
    assert t2t.transformer2.attn.scale == pytest.approx(576**-0.5)
    # Without pretrained weights the encoder keeps the standard head_dim ** -0.5.
    assert transformer.backbone.blocks[0].attn.scale == pytest.approx(64**-0.5)


def test_train_py_style_arguments():
    """The keyword arguments timm's train.py passes, None ones included (create_model drops them)."""
    model = timm.create_model(
        "t2t_vit_7",
        pretrained=False,
        in_chans=1,
        num_classes=10,
        drop_rate=0.1,
        drop_path_rate=0.1,
        drop_block_rate=None,
        global_pool=None,
        bn_momentum=None,
        bn_eps=None,
        img_size=64,
    )
    assert model.backbone.blocks[-1].drop_path.drop_prob == pytest.approx(0.1)
    assert model.backbone.pos_drop.p == 0.1
    model.eval()
    with torch.no_grad():
        assert model(torch.rand(2, 1, 64, 64)).shape == (2, 10)
    config = resolve_input_data_config(model)  # what timm's scripts use to build the data pipeline
    assert config["input_size"] == (1, 64, 64)
    assert config["crop_pct"] == 0.9 and config["interpolation"] == "bicubic"
    # The layer that multiplies pixels; checkpoint_filter_fn adapts it to in_chans itself.
    assert model.pretrained_cfg["first_conv"] == "tokens2token.transformer1.attn.qkv"
    assert model.tokens2token.transformer1.attn.qkv.weight.shape[1] == 1 * 7 * 7


def test_training_step_with_timm_optimizer():
    model = timm.create_model("t2t_vit_7", num_classes=5, img_size=32)
    optimizer = create_optimizer_v2(model, "adamw", lr=1e-3, weight_decay=0.05)
    no_decay = [g for g in optimizer.param_groups if g["weight_decay"] == 0]
    assert any(p is model.backbone.cls_token for g in no_decay for p in g["params"])
    loss = model(torch.rand(4, 3, 32, 32)).logsumexp(-1).mean()
    loss.backward()
    before = model.backbone.head.weight.detach().clone()
    optimizer.step()
    assert not torch.equal(before, model.backbone.head.weight)
    assert model.tokens2token.transformer1.attn.w.grad is None  # the random features stay fixed


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(global_pool="avg"), "global_pool"),
        (dict(in_chans=0), "in_chans"),
        (dict(img_size=(224,)), "img_size"),
        (dict(img_size=(224, 0)), "img_size width"),
        (dict(pretrained=True, pretrained_cfg_overlay=dict(file="no/such/file.pth.tar")), "does not exist"),
    ],
)
def test_bad_arguments_raise_value_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        timm.create_model("t2t_vit_7", **kwargs)


def test_script_input_resolution():
    """timm's scripts turn --in-chans / --img-size into model arguments and a matching data config."""
    args = dict(in_chans=1, img_size=96)
    model = timm.create_model(**resolve_model_input_args("t2t_vit_t_14", args, num_classes=7))
    assert model.tokens2token.img_size == (1, 96, 96)
    assert resolve_input_data_config(model, args)["input_size"] == (1, 96, 96)
