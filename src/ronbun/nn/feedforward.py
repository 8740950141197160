"""§3.3 position-wise feed-forward networks, Eq. 2: ``FFN(x) = max(0, x W_1 + b_1) W_2 + b_2``."""

from __future__ import annotations

from typing import Literal

import torch.nn.functional as F
from torch import Tensor, nn

Activation = Literal["relu", "gelu", "gelu_tanh", "silu"]


def activation_fn(name: Activation):
    """ReLU is the paper's (Eq. 2); GPT-1 uses GELU (its code: the tanh approximation, ``gelu_tanh``);
    Marian / opus-mt models use SiLU ("swish")."""
    if name == "relu":
        return F.relu
    if name == "gelu":
        return F.gelu
    if name == "gelu_tanh":
        return lambda x: F.gelu(x, approximate="tanh")
    if name == "silu":
        return F.silu
    raise ValueError(f"unknown activation {name!r}; choose one of relu, gelu, gelu_tanh, silu")


class PositionwiseFeedForward(nn.Module):
    """§3.3, Eq. 2: two linear maps with an activation between, applied to each position identically.

    ``x (B, T, d_model)`` → ``(B, T, d_model)`` via an inner layer of width ``d_ff``.
    """

    def __init__(
        self, d_model: int, d_ff: int, activation: Activation = "relu", dropout: float = 0.0
    ) -> None:
        super().__init__()
        self.w_1 = nn.Linear(d_model, d_ff)  # W_1, b_1
        self.w_2 = nn.Linear(d_ff, d_model)  # W_2, b_2
        self.activation = activation
        self._act = activation_fn(activation)
        self.dropout = nn.Dropout(dropout)  # optional "activation dropout" (0 in the paper)

    def forward(self, x: Tensor) -> Tensor:
        return self.w_2(self.dropout(self._act(self.w_1(x))))  # (B, T, d_model)
