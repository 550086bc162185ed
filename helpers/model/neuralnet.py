"""The two-layer perceptron used after every attention step."""

import torch
from torch import nn

from .. import checks


@checks.checked(checks.neural_net_args, checks.token_input)
class NeuralNet(nn.Module):
    """Linear -> GELU -> Linear on each token: ``(B, N, in_chan) -> (B, N, out_chan)``."""

    def __init__(
        self, in_chan: int, hidden_chan: int | None = None, out_chan: int | None = None,
        act_layer: type[nn.Module] = nn.GELU, drop: float = 0.0,
    ) -> None:  # fmt: skip
        super().__init__()
        hidden_chan, out_chan = hidden_chan or in_chan, out_chan or in_chan
        self.fc1 = nn.Linear(in_chan, hidden_chan)
        self.act = act_layer()
        self.fc2 = nn.Linear(hidden_chan, out_chan)
        self.drop = nn.Dropout(drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(self.fc2(self.act(self.fc1(x))))
