"""Incremental-decoding state shared by the encoder-decoder and GPT (kept out of the model's math, as in
fairseq): one :class:`~ronbun.nn.attention.KVCache` per attention module plus the source padding mask."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor

from .attention import KVCache


@dataclass
class DecoderState:
    """Everything a decoder needs to continue from step ``t`` to ``t + 1`` without recomputing the past."""

    self_kv: list[KVCache]
    cross_kv: list[KVCache] = field(default_factory=list)
    memory: Tensor | None = None  # (B, S, d_model) encoder output; dropped once cross caches are filled
    memory_mask: Tensor | None = None  # (B, 1, 1, S) keep-mask of the source
    sentence: Tensor | None = None  # (B,) source sentence of each row (None: row i is sentence i)

    @classmethod
    def empty(cls, n_layers: int, cross: bool = False) -> DecoderState:
        return cls(
            [KVCache() for _ in range(n_layers)], [KVCache() for _ in range(n_layers)] if cross else []
        )

    @property
    def position(self) -> int:
        """Number of target positions already decoded (the next token's position)."""
        return len(self.self_kv[0]) if self.self_kv else 0

    def reorder(self, index: Tensor) -> None:
        """Keep rows ``index`` (``(B',)`` int64) of every cache, e.g. the surviving beams.

        The source side (cross caches, ``memory``, ``memory_mask``) depends only on a row's source sentence:
        when every row keeps the sentence of the row it replaces (beams re-ranked within their sentence, the
        common case) it is left as it is instead of being gathered again."""
        for cache in self.self_kv:
            cache.reorder(index)
        if not self.cross_kv and self.memory is None and self.memory_mask is None:
            return
        old = self.sentence if self.sentence is not None else torch.arange(self._rows(), device=index.device)
        self.sentence = old.index_select(0, index)
        if self.sentence.shape == old.shape and torch.equal(self.sentence, old):
            return  # row i already holds the source side of sentence[i]
        for cache in self.cross_kv:
            cache.reorder(index)
        if self.memory is not None:
            self.memory = self.memory.index_select(0, index)
        if self.memory_mask is not None:
            self.memory_mask = self.memory_mask.index_select(0, index)

    def _rows(self) -> int:
        for t in (*(c.k for c in self.cross_kv), self.memory, self.memory_mask):
            if t is not None:
                return t.shape[0]
        raise ValueError("reorder of a decoder state without rows")
