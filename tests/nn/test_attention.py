"""§3.2.1 scaled dot-product attention (Eq. 1) and §3.2.2 multi-head attention, as a specification."""

from __future__ import annotations

import math

import pytest
import torch

from ronbun.nn.attention import KVCache, MultiHeadAttention, scaled_dot_product_attention
from ronbun.nn.masks import causal_mask, local_mask, self_attention_mask


def eq1_by_hand(q, k, v, keep=None):
    """softmax(Q K^T / sqrt(d_k)) V written out with Python loops over single numbers."""
    t_q, d_k = q.shape
    t_k = k.shape[0]
    out = torch.zeros(t_q, v.shape[1], dtype=torch.float64)
    for i in range(t_q):
        logits = [
            sum(q[i, c].item() * k[j, c].item() for c in range(d_k)) / math.sqrt(d_k)
            if keep is None or keep[i, j]
            else -math.inf
            for j in range(t_k)
        ]
        m = max(logits)
        exps = [math.exp(x - m) for x in logits]
        z = sum(exps)
        for j in range(t_k):
            out[i] += exps[j] / z * v[j].double()
    return out


@pytest.mark.parametrize("impl", ["sdpa", "math"])
def test_eq1_matches_a_hand_computation(impl):
    q, k, v = torch.randn(3, 4), torch.randn(5, 4), torch.randn(5, 2)
    out, _ = scaled_dot_product_attention(q[None, None], k[None, None], v[None, None], impl=impl)
    assert torch.allclose(out[0, 0].double(), eq1_by_hand(q, k, v), atol=1e-6)


def test_eq1_with_a_mask_matches_a_hand_computation():
    q, k, v = torch.randn(4, 8), torch.randn(4, 8), torch.randn(4, 3)
    keep = causal_mask(4, 4)
    out, w = scaled_dot_product_attention(
        q[None, None], k[None, None], v[None, None], mask=keep, need_weights=True
    )
    assert torch.allclose(out[0, 0].double(), eq1_by_hand(q, k, v, keep), atol=1e-6)
    assert torch.allclose(w[0, 0].sum(-1), torch.ones(4))
    assert (w[0, 0][~keep] == 0).all(), "masked (illegal) connections get exactly zero weight"


@pytest.mark.parametrize("fill", [float("-inf"), -1e9, -1e4])
@pytest.mark.parametrize("kind", ["none", "causal", "padding", "local", "local+padding"])
def test_sdpa_fast_path_equals_the_weights_returning_path(kind, fill):
    b, h, t, d = 2, 3, 7, 5
    q, k, v = torch.randn(b, h, t, d), torch.randn(b, h, t, d), torch.randn(b, h, t, d)
    key_keep = torch.ones(b, 1, 1, t, dtype=torch.bool)
    key_keep[1, ..., 4:] = False
    mask, is_causal = self_attention_mask(
        t,
        t,
        causal=kind == "causal",
        window=3 if "local" in kind else None,
        key_keep=key_keep if "padding" in kind else None,
        device=q.device,
    )
    fast, none = scaled_dot_product_attention(
        q, k, v, mask=mask, is_causal=is_causal, mask_fill=fill, impl="sdpa"
    )
    slow, w = scaled_dot_product_attention(
        q, k, v, mask=mask, is_causal=is_causal, mask_fill=fill, need_weights=True
    )
    assert none is None and w is not None
    assert torch.allclose(fast, slow, atol=1e-6)
    assert not torch.isnan(fast).any()


def test_restricted_attention_sees_only_a_neighbourhood_of_size_r():
    """Table 1 row 4: with r = 3 centred, position 0 sees {0, 1}, position 3 sees {2, 3, 4}."""
    m = local_mask(6, 6, 3, causal=False)
    assert m[3].nonzero().flatten().tolist() == [2, 3, 4]
    assert m[0].nonzero().flatten().tolist() == [0, 1]
    assert m.sum(-1).max() == 3
    causal = local_mask(6, 6, 3, causal=True)
    assert causal[4].nonzero().flatten().tolist() == [2, 3, 4]


def test_restricted_attention_output_ignores_keys_outside_the_window():
    mha = MultiHeadAttention(16, 2, 8, 8).eval()
    x = torch.randn(1, 9, 16)
    mask, _ = self_attention_mask(9, 9, causal=False, window=3, key_keep=None, device=x.device)
    y1, _ = mha(x, mask=mask)
    x2 = x.clone()
    x2[0, 8] += 10.0  # far from position 2
    y2, _ = mha(x2, mask=mask)
    assert torch.allclose(y1[0, :7], y2[0, :7], atol=1e-6)
    assert not torch.allclose(y1[0, 7:], y2[0, 7:])


@pytest.mark.parametrize(("h", "d_k", "d_v"), [(8, 64, 64), (8, 16, 64), (1, 512, 512), (32, 16, 16)])
def test_heads_and_head_sizes_are_independent_settings(h, d_k, d_v):
    """Table 3 rows A (h varies with d_k = d_v = d_model / h) and B (d_k = 16 with h = 8)."""
    mha = MultiHeadAttention(512, h, d_k, d_v)
    assert mha.qkv_proj.weight.shape == (h * (2 * d_k + d_v), 512)
    assert mha.out_proj.weight.shape == (512, h * d_v)
    y, _ = mha(torch.randn(2, 5, 512))
    assert y.shape == (2, 5, 512)


def test_cross_attention_projects_keys_and_values_once_per_source():
    mha = MultiHeadAttention(16, 2, 8, 8, cross=True).eval()
    x, memory = torch.randn(2, 3, 16), torch.randn(2, 6, 16)
    full, _ = mha(x, memory)
    cache = KVCache()
    steps = [mha(x[:, :1], memory, cache=cache)[0]]
    k_first = cache.k
    steps += [mha(x[:, i : i + 1], None, cache=cache)[0] for i in range(1, 3)]
    assert cache.k is k_first, "cross-attention keys are computed once and then reused"
    assert torch.allclose(torch.cat(steps, 1), full, atol=1e-6)


def test_self_attention_cache_grows_one_step_at_a_time():
    mha = MultiHeadAttention(16, 2, 8, 8).eval()
    x = torch.randn(2, 5, 16)
    full, _ = mha(x, is_causal=True)
    cache = KVCache()
    outs = []
    for i in range(5):
        out, _ = mha(x[:, i : i + 1], cache=cache)
        outs.append(out)
        assert len(cache) == i + 1
    assert torch.allclose(torch.cat(outs, 1), full, atol=1e-6)


def test_the_kv_cache_writes_in_place_and_equals_concatenation_through_growth_and_reordering():
    torch.manual_seed(0)
    cache, k_all, v_all = KVCache(), torch.randn(3, 2, 0, 4), torch.randn(3, 2, 0, 4)
    for t, n in enumerate((3, 1, 1, 1, 2, 1, 1, 1, 1)):  # a prompt, then single steps (the buffer doubles)
        k, v = torch.randn(3, 2, n, 4), torch.randn(3, 2, n, 4)
        k_all, v_all = torch.cat([k_all, k], 2), torch.cat([v_all, v], 2)
        got_k, got_v = cache.append(k, v)
        if t == 4:  # beam search keeps rows 2, 0, 0
            index = torch.tensor([2, 0, 0])
            cache.reorder(index)
            k_all, v_all = k_all[index], v_all[index]
            got_k, got_v = cache.k, cache.v
        assert torch.equal(got_k, k_all) and torch.equal(got_v, v_all) and len(cache) == k_all.shape[2]
    assert cache._k.shape[2] >= len(cache)  # spare room: the next step needs no copy
