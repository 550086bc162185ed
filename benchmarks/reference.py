"""A naive, official-style T2T-ViT forward pass, written from raw tensors: the benchmark baseline.

Nothing here calls a ``helpers`` module. Given a state dict and a :class:`RefConfig`, the
functions below redo the forward pass the way the original T2T-ViT code lays it out:

- every soft split is ``F.unfold`` followed by ``.transpose(1, 2)``;
- every reconstruction is ``.transpose(1, 2).reshape(B, C, h, w)``;
- attention is the textbook ``softmax(Q K^T * scale) V`` with the full ``N x N`` matrix;
- the token attention adds ``V`` back as the skip connection;
- the Performer is the random-feature formula written with ``einsum``.

It is deliberately plain: it is the "before" of the benchmark and the independent truth of the
fidelity tests (``tests/test_benchmarks.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

Tensor = torch.Tensor
StateDict = dict[str, Tensor]


@dataclass(frozen=True)
class RefConfig:
    """The hyper-parameters the forward pass needs that a state dict does not hold."""

    kernels: tuple[int, int, int]
    strides: tuple[int, int, int]
    paddings: tuple[int, int, int]
    token_module: str  # "transformer" or "performer"
    t2t_num_heads: int
    t2t_scales: tuple[float | None, float | None]  # per token transformer; None: (chan // heads) ** -0.5
    num_heads: int
    scale: float | None  # None: (token_len // num_heads) ** -0.5
    depth: int
    ln_eps: float = 1e-5
    performer_eps: float = 1e-8


def config_of(model: torch.nn.Module) -> RefConfig:
    """Read a :class:`RefConfig` off a ``helpers.T2TViT`` (attributes only, no forward code)."""
    t2t = model.tokens2token
    backbone = model.backbone
    t2t_attn = t2t.transformer1.attn
    return RefConfig(
        kernels=tuple(t2t.kernels),
        strides=tuple(t2t.strides),
        paddings=tuple(t2t.paddings),
        token_module="performer" if hasattr(t2t_attn, "w") else "transformer",  # the Performer keeps its features w
        t2t_num_heads=getattr(t2t_attn, "num_heads", 1),
        t2t_scales=(getattr(t2t_attn, "scale", None), getattr(t2t.transformer2.attn, "scale", None)),
        num_heads=backbone.blocks[0].attn.num_heads if len(backbone.blocks) else 1,
        scale=backbone.blocks[0].attn.scale if len(backbone.blocks) else None,
        depth=len(backbone.blocks),
        ln_eps=t2t.transformer1.norm1.eps,
        performer_eps=getattr(t2t_attn, "eps", 1e-8),
    )


def layer_norm(x: Tensor, sd: StateDict, name: str, eps: float) -> Tensor:
    return F.layer_norm(x, x.shape[-1:], sd[f"{name}.weight"], sd[f"{name}.bias"], eps)


def linear(x: Tensor, sd: StateDict, name: str) -> Tensor:
    return F.linear(x, sd[f"{name}.weight"], sd.get(f"{name}.bias"))


def mlp(x: Tensor, sd: StateDict, name: str) -> Tensor:
    return linear(F.gelu(linear(x, sd, f"{name}.fc1")), sd, f"{name}.fc2")


def naive_attention(x: Tensor, sd: StateDict, name: str, heads: int, scale: float | None, v_skip: bool) -> Tensor:
    """Multi-head attention with the whole ``(B, heads, N, N)`` weight matrix in memory."""
    batch, num_tokens, _ = x.shape
    chan = sd[f"{name}.proj.weight"].shape[0]
    head_dim = chan // heads
    scale = head_dim**-0.5 if scale is None else scale
    qkv = linear(x, sd, f"{name}.qkv").reshape(batch, num_tokens, 3, heads, head_dim)
    qkv = qkv.permute(2, 0, 3, 1, 4)
    q, k, v = qkv[0], qkv[1], qkv[2]  # (B, heads, N, head_dim)
    weights = torch.softmax((q * scale) @ k.transpose(-2, -1), dim=-1)
    out = (weights @ v).transpose(1, 2).reshape(batch, num_tokens, chan)
    out = linear(out, sd, f"{name}.proj")
    if v_skip:
        out = out + v.transpose(1, 2).reshape(batch, num_tokens, chan)
    return out


def random_features(x: Tensor, w: Tensor) -> Tensor:
    """``exp(w x - |x|^2 / 2) / sqrt(m)`` for every token, ``(B, N, c) -> (B, N, m)``."""
    m = w.shape[0]
    half_norm = (x * x).sum(dim=-1, keepdim=True).repeat(1, 1, m) / 2
    return torch.exp(torch.einsum("bnc,mc->bnm", x, w) - half_norm) / math.sqrt(m)


def performer_attention(x: Tensor, sd: StateDict, name: str, eps: float) -> Tensor:
    chan = sd[f"{name}.proj.weight"].shape[0]
    q, k, v = torch.split(linear(x, sd, f"{name}.qkv"), chan, dim=-1)
    qf, kf = random_features(q, sd[f"{name}.w"]), random_features(k, sd[f"{name}.w"])
    denom = torch.einsum("bnm,bm->bn", qf, kf.sum(dim=1)).unsqueeze(-1)
    kv = torch.einsum("bnc,bnm->bmc", v, kf)
    y = torch.einsum("bnm,bmc->bnc", qf, kv) / (denom.repeat(1, 1, chan) + eps)
    return v + linear(y, sd, f"{name}.proj")


def token_block(x: Tensor, sd: StateDict, name: str, cfg: RefConfig, scale: float | None) -> Tensor:
    """norm1 -> token attention (V skip) -> x + MLP(norm2(x))."""
    h = layer_norm(x, sd, f"{name}.norm1", cfg.ln_eps)
    if cfg.token_module == "performer":
        x = performer_attention(h, sd, f"{name}.attn", cfg.performer_eps)
    else:
        x = naive_attention(h, sd, f"{name}.attn", cfg.t2t_num_heads, scale, v_skip=True)
    return x + mlp(layer_norm(x, sd, f"{name}.norm2", cfg.ln_eps), sd, f"{name}.neuralnet")


def tokens_to_token(image: Tensor, sd: StateDict, cfg: RefConfig) -> Tensor:
    """Three soft splits, two token blocks and the projection, official-style transposes."""
    p = "tokens2token"
    x = image
    for stage in (0, 1):
        height = x.shape[2]
        x = F.unfold(x, cfg.kernels[stage], padding=cfg.paddings[stage], stride=cfg.strides[stage])
        x = token_block(x.transpose(1, 2), sd, f"{p}.transformer{stage + 1}", cfg, cfg.t2t_scales[stage])
        batch, num_tokens, chan = x.shape
        rows = (height + 2 * cfg.paddings[stage] - cfg.kernels[stage]) // cfg.strides[stage] + 1
        x = x.transpose(1, 2).reshape(batch, chan, rows, num_tokens // rows)
    x = F.unfold(x, cfg.kernels[2], padding=cfg.paddings[2], stride=cfg.strides[2]).transpose(1, 2)
    return linear(x, sd, f"{p}.project")


def sinusoid_positions(rows: int, width: int) -> Tensor:
    """``sin`` on even columns, ``cos`` on odd ones, of ``pos / 10000 ** (2 * (j // 2) / width)``."""
    pos = torch.arange(rows, dtype=torch.float64).unsqueeze(1)
    freq = torch.pow(10000.0, -2.0 * torch.div(torch.arange(width), 2, rounding_mode="floor") / width)
    angle = pos * freq.to(torch.float64)
    table = torch.empty(rows, width, dtype=torch.float64)
    table[:, 0::2] = torch.sin(angle[:, 0::2])
    table[:, 1::2] = torch.cos(angle[:, 1::2])
    return table.float().unsqueeze(0)


def encoder(tokens: Tensor, sd: StateDict, cfg: RefConfig) -> Tensor:
    """Prediction token, positions, ``depth`` pre-norm blocks, final norm, head on token 0."""
    p = "backbone"
    cls = sd[f"{p}.cls_token"].expand(tokens.shape[0], -1, -1)
    x = torch.cat([cls, tokens], dim=1)
    x = x + sinusoid_positions(x.shape[1], x.shape[2])
    for i in range(cfg.depth):
        name = f"{p}.blocks.{i}"
        h = layer_norm(x, sd, f"{name}.norm1", cfg.ln_eps)
        x = x + naive_attention(h, sd, f"{name}.attn", cfg.num_heads, cfg.scale, v_skip=False)
        x = x + mlp(layer_norm(x, sd, f"{name}.norm2", cfg.ln_eps), sd, f"{name}.neuralnet")
    x = layer_norm(x, sd, f"{p}.norm", cfg.ln_eps)
    return linear(x[:, 0], sd, f"{p}.head")


@torch.no_grad()
def reference_forward(image: Tensor, sd: StateDict, cfg: RefConfig) -> Tensor:
    """Logits of T2T-ViT for ``image`` ``(B, C, H, W)``, the naive way."""
    return encoder(tokens_to_token(image, sd, cfg), sd, cfg)


@torch.no_grad()
def reference_tokens2token(image: Tensor, sd: StateDict, cfg: RefConfig) -> Tensor:
    """Only the Tokens-to-Token part: ``(B, C, H, W) -> (B, num_tokens, token_len)``."""
    return tokens_to_token(image, sd, cfg)
