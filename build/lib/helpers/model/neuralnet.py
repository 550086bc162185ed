"""The two-layer perceptron used after every attention step."""

from __future__ import annotations

import torch
from torch import nn

from .fast_linear import FastLinear


class NeuralNet(nn.Module):
    """Linear -> activation -> Linear, applied to each token independently.

    Shapes: ``(batch, num_tokens, in_chan) -> (batch, num_tokens, out_chan)``.
    ``hidden_chan`` and ``out_chan`` default to ``in_chan``.
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
        hidden_chan = hidden_chan or in_chan
        out_chan = out_chan or in_chan
        self.fc1 = FastLinear(in_chan, hidden_chan)  # an nn.Linear, see fast_linear.py
        self.act = act_layer()
        self.fc2 = FastLinear(hidden_chan, out_chan)
        self.drop = nn.Dropout(drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(self.fc2(self.act(self.fc1(x))))
