"""Look inside a running model with forward hooks: no model math here, only what the model computes.

:func:`t2t_steps` records every tensor the T2T module's own ``forward`` makes, and
:func:`attention_weights` the softmax matrix of an :class:`~helpers.model.attention.Attention`,
taken from its plain path (the fused kernel never forms it).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from . import checks
from .model import Attention, Tokens2Token


@contextmanager
def _hooks(pairs: list[tuple[nn.Module, Any]], pre: list[tuple[nn.Module, Any]] = ()):
    handles = [m.register_forward_hook(h) for m, h in pairs] + [m.register_forward_pre_hook(h) for m, h in pre]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def t2t_steps(t2t: Tokens2Token, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Every intermediate tensor of ``t2t(x)``, in order, keyed by the step that made it.

    Keys: ``image``, ``soft_split0``, ``transformer1``, ``reconstruct1``, ``soft_split1``,
    ``transformer2``, ``reconstruct2``, ``soft_split2``, ``project``. A soft split is shown as the
    token matrix ``(B, tokens, length)``, a reconstruction as the image ``(B, C, h, w)``.
    """
    if not isinstance(t2t, Tokens2Token):
        raise TypeError(f"t2t must be a Tokens2Token (model.tokens2token), got {checks.given(t2t)}.")
    x = checks.image_input(t2t, x)
    steps: dict[str, torch.Tensor] = {"image": x}

    def output(name: str, tokens: bool = False):
        def hook(module, args, out):
            steps[name] = out.transpose(1, 2) if tokens else out

        return hook

    def given(name: str):
        def hook(module, args):
            steps[name] = args[0]

        return hook

    outputs = [(t2t.soft_split0, output("soft_split0", True)), (t2t.transformer1, output("transformer1"))]
    outputs += [(t2t.soft_split1, output("soft_split1", True)), (t2t.transformer2, output("transformer2"))]
    outputs += [(t2t.soft_split2, output("soft_split2", True)), (t2t.project, output("project"))]
    inputs = [(t2t.soft_split1, given("reconstruct1")), (t2t.soft_split2, given("reconstruct2"))]
    with _hooks(outputs, inputs):
        t2t(x)
    order = ["image", "soft_split0", "transformer1", "reconstruct1", "soft_split1", "transformer2"]
    order += ["reconstruct2", "soft_split2", "project"]
    return {name: steps[name] for name in order}


def attention_weights(attn: Attention, x: torch.Tensor) -> torch.Tensor:
    """The softmax matrix ``(B, num_heads, N, N)`` of ``attn`` on tokens ``x``: row i, how much token i takes from each.

    Runs the module's plain path once (``fused=False``, dropout off) and keeps what enters ``attn_drop``.
    """
    if not isinstance(attn, Attention):
        raise TypeError(f"attn must be an Attention module (e.g. block.attn), got {checks.given(attn)}.")
    x = checks.token_input(attn, x)
    seen: list[torch.Tensor] = []
    fused, training = attn.fused, attn.training
    attn.fused = False
    attn.eval()
    try:
        with _hooks([], [(attn.attn_drop, lambda module, args: seen.append(args[0]))]):
            attn(x)
    finally:
        attn.fused = fused
        attn.train(training)
    return seen[0]
