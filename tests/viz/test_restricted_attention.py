"""Table 1's last row, restricted self-attention: the same multi-head attention (Eq. 1) with a banded keep-mask
attends only within its neighbourhood of r, the blocked evaluation (O(r·n·d)) gives exactly the masked
one's output, its path length is O(n/r), and the Table 1 benchmark measures and draws it."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from ronbun.nn.attention import MultiHeadAttention
from ronbun.nn.masks import local_mask
from ronbun.viz.complexity import RestrictedSelfAttention, flops, measure, path_lengths, plot_complexity


@pytest.mark.parametrize("r", [1, 3, 5, 8])
def test_the_banded_mask_attends_only_within_the_neighbourhood(r: int) -> None:
    n = 12
    attn = MultiHeadAttention(16, 2, 8, 8, impl="math")
    _, weights = attn(torch.randn(1, n, 16), mask=local_mask(n, n, r, causal=False), need_weights=True)
    assert weights is not None  # (1, h, n, n)
    i, j = torch.meshgrid(torch.arange(n), torch.arange(n), indexing="ij")
    inside = (i - j).abs() <= r // 2
    assert torch.all(weights[..., ~inside] == 0)  # nothing leaks outside ±r//2
    assert torch.all(weights[..., inside] > 0)
    torch.testing.assert_close(weights.sum(-1), torch.ones(1, 2, n))


@pytest.mark.parametrize(("n", "r", "batch"), [(1, 3, 1), (7, 3, 2), (16, 15, 2), (37, 5, 3), (40, 4, 1)])
def test_blocked_evaluation_equals_the_mask_over_all_scores(n: int, r: int, batch: int) -> None:
    layer = RestrictedSelfAttention(16, 4, r, blocked=True).eval()
    x = torch.randn(batch, n, 16)
    blocked = layer(x)
    layer.blocked = False
    torch.testing.assert_close(blocked, layer(x))
    assert blocked.shape == (batch, n, 16)


def test_path_length_grows_like_n_over_r_and_cost_like_r_n_d() -> None:
    rows = path_lengths([4, 8, 16, 33], window=5)
    found = {r["n"]: r["path_length"] for r in rows if r["layer"] == "restricted_self_attention"}
    assert found == {n: math.ceil((n - 1) / 2) for n in (4, 8, 16, 33)}  # r = 5 reaches 2 positions a layer
    d = 64
    extra = [flops("restricted_self_attention", n, d, window=15) - 4 * n * d * d for n in (128, 256)]
    assert extra[1] == 2 * extra[0]  # the attention part is linear in n at fixed r …
    full = [flops("restricted_self_attention_masked", n, d) - 4 * n * d * d for n in (128, 256)]
    assert full[1] == 4 * full[0]  # … while masking all n² scores stays quadratic


def test_table1_benchmark_measures_and_draws_restricted_attention(tmp_path: Path) -> None:
    layers = ("self_attention", "restricted_self_attention", "restricted_self_attention_masked")
    data = measure((8, 16), (8,), d_fixed=8, n_fixed=8, repeats=1, batch=1, layers=layers, path_n=(4, 8))
    rows = [r for r in data["rows"] if r["layer"] == "restricted_self_attention"]
    assert [r["n"] for r in rows if r["sweep"] == "n"] == [8, 16]
    assert all(r["time_ms"] > 0 and r["activation_bytes"] > 0 and r["r"] == 15 for r in rows)
    assert data["meta"]["window"] == 15
    assert data["theory"]["restricted_self_attention"] == {
        "cost": "O(r·n·d)",
        "sequential": "O(1)",
        "path": "O(n/r)",
    }
    out = plot_complexity(data, tmp_path / "t1.png")
    assert out.stat().st_size > 1000
