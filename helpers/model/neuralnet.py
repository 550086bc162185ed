"""The two-layer perceptron used after every attention step."""

from __future__ import annotations

import torch
from torch import nn

from .fast_linear import FastLinear
from ..checks import layer_class, positive_int, probability, tensor_size


class NeuralNet(nn.Module):
    """Linear -> activation -> Linear, applied to each token independently.

    Shapes: ``(batch, num_tokens, in_chan) -> (batch, num_tokens, out_chan)``.
    ``hidden_chan`` and ``out_chan`` default to ``in_chan`` (``None``); given, they must be >= 1.
    """

    def __init__(
        self,
        in_chan: int,
        hidden_chan: int | None = None,
        out_chan: int | None = None,
        act_layer: type[nn.Module] = nn.GELU,
        drop: float = 0.0,
    ) -> None:
        super().__init__()
        in_chan = positive_int("in_chan", in_chan, "in_chan=64")
        hidden_chan = (
            in_chan
            if hidden_chan is None
            else positive_int("hidden_chan", hidden_chan, "hidden_chan=None (as wide as in_chan)")
        )
        out_chan = (
            in_chan if out_chan is None else positive_int("out_chan", out_chan, "out_chan=None (as wide as in_chan)")
        )
        layer_class("act_layer", act_layer, "act_layer=nn.GELU")
        probability("drop", drop)
        for name, shape in (("fc1", (hidden_chan, in_chan)), ("fc2", (out_chan, hidden_chan))):
            tensor_size(f"the {name} weight", shape, "use fewer channels")
        self.fc1 = FastLinear(in_chan, hidden_chan)  # an nn.Linear, see fast_linear.py
        self.act = act_layer()
        self.fc2 = FastLinear(hidden_chan, out_chan)
        self.drop = nn.Dropout(drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(self.fc2(self.act(self.fc1(x))))
