"""Attention (§3.2): scaled dot-product attention (Eq. 1) and multi-head attention (§3.2.2).

One implementation serves the encoder (self-attention over the source), the decoder (masked
self-attention and encoder-decoder attention) and GPT-1 (masked self-attention).
"""

from __future__ import annotations

import functools
import math
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

AttentionImpl = Literal["sdpa", "math"]


def scaled_dot_product_attention(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    *,
    mask: Tensor | None = None,
    is_causal: bool = False,
    dropout_p: float = 0.0,
    need_weights: bool = False,
    mask_fill: float = float("-inf"),
    impl: AttentionImpl = "sdpa",
) -> tuple[Tensor, Tensor | None]:
    """§3.2.1, Eq. 1: ``Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V``.

    Shapes: ``q (B, h, T_q, d_k)``, ``k (B, h, T_k, d_k)``, ``v (B, h, T_k, d_v)`` → ``(B, h, T_q, d_v)``.
    ``mask`` is a boolean keep-mask broadcastable to ``(B, h, T_q, T_k)``; masked logits are set to
    ``mask_fill`` (the paper's ``-inf``; -1e9 in OpenAI's GPT-1 code, -1e4 in Hugging Face).

    Two paths give the same output: ``impl="sdpa"`` calls ``torch.nn.functional.scaled_dot_product_attention``
    (fused kernels, FlashAttention on GPUs); ``impl="math"`` spells Eq. 1 out and is used whenever the
    attention weights are wanted (visualisation).
    """
    # PyTorch's CPU SDPA kernels are 3-4x slower than the two GEMMs and a softmax below in bf16/fp16
    # (torch 2.13, docs/performance.md), so low-precision CPU attention takes the spelled-out path.
    low_precision_cpu = q.device.type == "cpu" and q.dtype in (torch.bfloat16, torch.float16)
    if need_weights or impl == "math" or low_precision_cpu:
        scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (B, h, T_q, T_k)
        if is_causal:
            t_q, t_k = scores.shape[-2:]
            causal = torch.ones(t_q, t_k, dtype=torch.bool, device=q.device).tril(t_k - t_q)
            mask = causal if mask is None else mask & causal
        if mask is not None:
            scores = scores.masked_fill(~mask, mask_fill)
        weights = scores.softmax(dim=-1)  # (B, h, T_q, T_k)
        dropped = F.dropout(weights, dropout_p) if dropout_p > 0 else weights
        return dropped @ v, (weights if need_weights else None)  # (B, h, T_q, d_v)
    attn_mask: Tensor | None = mask
    if mask is not None and mask_fill != float("-inf"):
        # A finite fill value changes nothing after the softmax in fp32 unless a row is fully masked,
        # but we honour it exactly by handing SDPA an additive mask.
        attn_mask = torch.zeros(mask.shape, dtype=q.dtype, device=q.device).masked_fill(~mask, mask_fill)
    out = F.scaled_dot_product_attention(
        q, k, v, attn_mask=attn_mask, dropout_p=dropout_p, is_causal=is_causal and mask is None
    )
    return out, None  # (B, h, T_q, d_v)


class KVCache:
    """Keys and values of one attention module kept across decoding steps (incremental decoding).

    Self-attention caches grow by one step at a time; encoder-decoder (cross) attention caches are filled
    once per source sentence and then only read.  ``reorder`` follows beam search's choice of hypotheses.

    Storage is a buffer with spare room that doubles when full, so a step writes its keys and values in place
    instead of copying the whole cache (``torch.cat``: O(T) per step, O(T²) per sentence); ``k`` and ``v``
    are views of the filled part.  A cache filled once (cross-attention) keeps exactly what it was given.
    """

    __slots__ = ("_k", "_length", "_v")

    def __init__(self) -> None:
        self._k: Tensor | None = None  # (B, h, capacity, d_k)
        self._v: Tensor | None = None  # (B, h, capacity, d_v)
        self._length = 0

    @property
    def k(self) -> Tensor | None:
        return self._filled(self._k)  # (B, h, T, d_k)

    @property
    def v(self) -> Tensor | None:
        return self._filled(self._v)  # (B, h, T, d_v)

    def _filled(self, buffer: Tensor | None) -> Tensor | None:
        if buffer is None or buffer.shape[2] == self._length:
            return buffer  # a full buffer (a cross-attention cache) is handed out as it is
        return buffer[:, :, : self._length]

    def __len__(self) -> int:
        return self._length

    def append(self, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        """Add ``(B, h, T_new, d)`` keys and values; returns the whole cache ``(B, h, T, d)``."""
        if self._k is None or self._v is None:
            self._k, self._v, self._length = k, v, k.shape[2]
        else:
            end = self._length + k.shape[2]
            if end > self._k.shape[2]:
                self._k, self._v = self._grown(self._k, end), self._grown(self._v, end)
            self._k[:, :, self._length : end] = k
            self._v[:, :, self._length : end] = v
            self._length = end
        return self.k, self.v  # type: ignore[return-value]

    def _grown(self, buffer: Tensor, needed: int) -> Tensor:
        """A buffer with room for at least ``needed`` positions (twice the old room), the filled part copied."""
        b, h, room, d = buffer.shape
        bigger = buffer.new_empty(b, h, max(needed, 2 * room), d)
        bigger[:, :, : self._length] = buffer[:, :, : self._length]
        return bigger

    def reorder(self, index: Tensor) -> None:
        if self._k is not None and self._v is not None:
            self._k = self._k.index_select(0, index)
            self._v = self._v.index_select(0, index)


class MultiHeadAttention(nn.Module):
    """§3.2.2 multi-head attention: ``MultiHead(Q, K, V) = Concat(head_1..head_h) W^O`` with
    ``head_i = Attention(Q W_i^Q, K W_i^K, V W_i^V)``.

    ``h``, ``d_k`` and ``d_v`` are independent (Table 3 rows A and B vary them; row B keeps ``h = 8`` with
    ``d_k = 16`` or ``32``).  Self-attention uses one fused projection for Q, K and V; cross-attention
    projects the queries from the decoder and the keys/values (fused) from the encoder output.
    """

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        d_k: int,
        d_v: int,
        *,
        cross: bool = False,
        dropout: float = 0.0,
        mask_fill: float = float("-inf"),
        impl: AttentionImpl = "sdpa",
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.n_heads, self.d_k, self.d_v = n_heads, d_k, d_v
        self.cross = cross
        self.dropout = dropout
        self.mask_fill = mask_fill
        self.impl: AttentionImpl = impl
        if cross:
            self.q_proj = nn.Linear(d_model, n_heads * d_k, bias=bias)  # W^Q for all heads
            self.kv_proj = nn.Linear(d_model, n_heads * (d_k + d_v), bias=bias)  # [W^K; W^V]
        else:
            self.qkv_proj = nn.Linear(d_model, n_heads * (2 * d_k + d_v), bias=bias)  # [W^Q; W^K; W^V]
        self.out_proj = nn.Linear(n_heads * d_v, d_model, bias=bias)  # W^O

    def _heads(self, x: Tensor, d: int) -> Tensor:
        b, t, _ = x.shape
        return x.view(b, t, self.n_heads, d).transpose(1, 2)  # (B, h, T, d)

    def _project_kv(self, source: Tensor) -> tuple[Tensor, Tensor]:
        hk = self.n_heads * self.d_k
        kv = self.kv_proj(source)  # (B, S, h*(d_k+d_v))
        return self._heads(kv[..., :hk], self.d_k), self._heads(kv[..., hk:], self.d_v)

    def forward(
        self,
        x: Tensor,
        memory: Tensor | None = None,
        *,
        mask: Tensor | None = None,
        is_causal: bool = False,
        cache: KVCache | None = None,
        need_weights: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        """``x (B, T, d_model)``; ``memory (B, S, d_model)`` for cross-attention → ``(B, T, d_model)``.

        With a ``cache``: self-attention appends this step's keys/values to it; cross-attention computes
        the memory's keys/values on the first call only (``memory`` may be ``None`` afterwards).
        """
        hk = self.n_heads * self.d_k
        if self.cross:
            q = self._heads(self.q_proj(x), self.d_k)  # (B, h, T, d_k)
            if cache is not None and cache.k is not None and cache.v is not None:
                k, v = cache.k, cache.v
            else:
                if memory is None:
                    raise ValueError("cross-attention needs the encoder output (memory) on its first call")
                k, v = self._project_kv(memory)  # (B, h, S, d_k), (B, h, S, d_v)
                if cache is not None:
                    cache.append(k, v)
        else:
            qkv = self.qkv_proj(x)  # (B, T, h*(2 d_k + d_v))
            q = self._heads(qkv[..., :hk], self.d_k)
            k = self._heads(qkv[..., hk : 2 * hk], self.d_k)
            v = self._heads(qkv[..., 2 * hk :], self.d_v)
            if cache is not None:
                k, v = cache.append(k, v)  # (B, h, T_past + T, d)
        dropout_p = self.dropout if self.training else 0.0
        attend = functools.partial(
            scaled_dot_product_attention, mask=mask, is_causal=is_causal, dropout_p=dropout_p,
            need_weights=need_weights, mask_fill=self.mask_fill, impl=self.impl,
        )  # fmt: skip
        if dropout_p > 0 and q.device.type == "cpu" and torch.is_grad_enabled() and not need_weights:
            # No fused CPU kernel supports attention dropout: the math path would keep four (B, h, T, T)
            # tensors per layer for backward.  Recompute them there instead (same dropout mask: the RNG state
            # is restored); costs the attention products once more, ~5 % of a GPT-1 layer.
            out = checkpoint(lambda q, k, v: attend(q, k, v)[0], q, k, v, use_reentrant=False)
            weights = None
        else:
            out, weights = attend(q, k, v)  # (B, h, T, d_v)
        b, _, t, _ = out.shape
        out = out.transpose(1, 2).reshape(b, t, self.n_heads * self.d_v)  # Concat(head_1..head_h)
        return self.out_proj(out), weights  # (B, T, d_model)
