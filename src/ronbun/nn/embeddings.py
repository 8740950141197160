"""§3.4 embeddings and softmax, §3.5 positional encoding."""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import Tensor, nn

SinusoidLayout = Literal["interleaved", "concatenated"]


class TokenEmbedding(nn.Embedding):
    """§3.4: learned embeddings; "in the embedding layers, we multiply those weights by sqrt(d_model)".

    The same weight matrix can serve as source embedding, target embedding and pre-softmax projection
    (three-way tying, §3.4); the projection itself (``x @ E^T``) is *not* scaled.
    """

    def __init__(self, vocab_size: int, d_model: int, padding_idx: int | None = None, scale: bool = True):
        super().__init__(vocab_size, d_model, padding_idx=padding_idx)
        self.scale = math.sqrt(d_model) if scale else 1.0

    def forward(self, ids: Tensor) -> Tensor:
        emb = super().forward(ids)  # (B, T, d_model)
        return emb * self.scale if self.scale != 1.0 else emb


def sinusoid_table(n_positions: int, d_model: int, layout: SinusoidLayout = "interleaved") -> Tensor:
    """§3.5: ``PE(pos, 2i) = sin(pos / 10000^(2i/d_model))``, ``PE(pos, 2i+1) = cos(pos / 10000^(2i/d_model))``.

    ``layout="interleaved"`` is the paper's formula (sin on even, cos on odd dimensions).
    ``layout="concatenated"`` puts all sines first, then all cosines (tensor2tensor, fairseq, Marian); it is
    the same set of functions in a permuted order, kept for weight interop.  Returns ``(n_positions, d_model)``.
    """
    if d_model % 2:
        raise ValueError(f"sinusoidal positional encoding needs an even d_model, got {d_model}")
    pos = torch.arange(n_positions, dtype=torch.float64)[:, None]  # (P, 1)
    two_i = torch.arange(0, d_model, 2, dtype=torch.float64)[None, :]  # (1, d/2)
    angle = pos / torch.pow(10000.0, two_i / d_model)  # (P, d/2)
    if layout == "interleaved":
        table = torch.stack([angle.sin(), angle.cos()], dim=-1).reshape(n_positions, d_model)
    elif layout == "concatenated":
        table = torch.cat([angle.sin(), angle.cos()], dim=-1)
    else:
        raise ValueError(f"unknown sinusoid layout {layout!r}; choose interleaved or concatenated")
    return table.float()


class SinusoidalPositionalEncoding(nn.Module):
    """§3.5 fixed sinusoidal positional encoding, added to the (scaled) token embeddings."""

    def __init__(self, max_positions: int, d_model: int, layout: SinusoidLayout = "interleaved") -> None:
        super().__init__()
        self.max_positions = max_positions
        self.register_buffer("table", sinusoid_table(max_positions, d_model, layout), persistent=False)

    def forward(self, length: int, offset: int = 0) -> Tensor:
        return self.table[offset : offset + length]  # (T, d_model)


class LearnedPositionalEmbedding(nn.Module):
    """Learned positional embeddings (Table 3 row E; GPT-1 §4.1 uses them with ``n_ctx = 512``)."""

    def __init__(self, max_positions: int, d_model: int) -> None:
        super().__init__()
        self.max_positions = max_positions
        self.weight = nn.Parameter(torch.empty(max_positions, d_model))
        nn.init.normal_(self.weight, std=0.02)

    def forward(self, length: int, offset: int = 0) -> Tensor:
        return self.weight[offset : offset + length]  # (T, d_model)
