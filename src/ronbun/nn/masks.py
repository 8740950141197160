"""Attention masks (§3.2.3 "masking out ... all values in the input of the softmax which correspond to
illegal connections"; Table 1 "restricted self-attention").

Convention used everywhere in ronbun: a mask is a **boolean keep-mask**, ``True`` where a query may attend
to a key, broadcastable to ``(B, h, T_q, T_k)``.  ``None`` means "attend everywhere".
"""

from __future__ import annotations

import torch
from torch import Tensor


def padding_mask(ids: Tensor, pad_id: int) -> Tensor:
    """Key-padding keep-mask ``(B, 1, 1, S)`` for a batch of ids ``(B, S)``: ``False`` on padding keys."""
    return (ids != pad_id)[:, None, None, :]  # (B, 1, 1, S)


def causal_mask(
    q_len: int, k_len: int, device: torch.device | None = None, offset: int | None = None
) -> Tensor:
    """Keep-mask ``(q_len, k_len)`` that hides subsequent positions (§3.2.3, decoder self-attention).

    Query ``i`` sits at absolute position ``offset + i`` (default ``offset = k_len - q_len``, i.e. the
    queries are the last ``q_len`` keys, as in incremental decoding) and may see keys ``j <= offset + i``.
    """
    offset = k_len - q_len if offset is None else offset
    q_pos = torch.arange(q_len, device=device)[:, None] + offset  # (T_q, 1)
    k_pos = torch.arange(k_len, device=device)[None, :]  # (1, T_k)
    return k_pos <= q_pos


def local_mask(
    q_len: int, k_len: int, window: int, *, causal: bool, device: torch.device | None = None
) -> Tensor:
    """Restricted self-attention keep-mask ``(q_len, k_len)`` (Table 1, row 4; §7 "local, restricted
    attention"): each output position attends to a neighbourhood of size ``r = window``.

    Non-causal (encoder): the neighbourhood is centred, ``|i - j| <= r // 2`` (exactly ``r`` keys when ``r``
    is odd).  Causal (decoder / GPT): the ``r`` most recent positions including itself, ``i - r < j <= i``.
    Queries are aligned to the *last* ``q_len`` keys, which is what incremental decoding needs.
    """
    if window < 1:
        raise ValueError(f"attention window r must be >= 1, got {window}")
    offset = k_len - q_len
    q_pos = torch.arange(q_len, device=device)[:, None] + offset  # (T_q, 1)
    k_pos = torch.arange(k_len, device=device)[None, :]  # (1, T_k)
    if causal:
        return (k_pos <= q_pos) & (k_pos > q_pos - window)
    return (k_pos - q_pos).abs() <= window // 2


def combine(*masks: Tensor | None) -> Tensor | None:
    """Logical AND of keep-masks (``None`` entries are ignored)."""
    out: Tensor | None = None
    for m in masks:
        if m is None:
            continue
        out = m if out is None else out & m
    return out


def self_attention_mask(
    q_len: int,
    k_len: int,
    *,
    causal: bool,
    window: int | None,
    key_keep: Tensor | None,
    device: torch.device,
) -> tuple[Tensor | None, bool]:
    """Build the mask for one self-attention call once per forward pass (shared by all layers).

    Returns ``(mask, is_causal)``.  When the only constraint is "no peeking ahead" and the queries start at
    key 0, the fast ``is_causal`` flag of SDPA is used instead of a materialised mask.  Query rows whose keys
    are *all* masked (padding queries inside a local window) are let through to every key, so the softmax
    never sees an all ``-inf`` row; their outputs belong to padding positions and are never used.
    """
    if window is None and key_keep is None:
        if not causal or q_len == 1:  # one new token attends to the whole cache
            return None, False
        if q_len == k_len:
            return None, True
        return causal_mask(q_len, k_len, device), False
    structural = None
    if window is not None:
        structural = local_mask(q_len, k_len, window, causal=causal, device=device)
    elif causal:
        structural = causal_mask(q_len, k_len, device)
    mask = combine(structural, key_keep)
    assert mask is not None
    if structural is not None and key_keep is not None:
        mask = mask.expand(key_keep.shape[0], 1, q_len, k_len)
        empty = ~mask.any(dim=-1, keepdim=True)  # (B, 1, T_q, 1)
        mask = mask | empty
    return mask, False
