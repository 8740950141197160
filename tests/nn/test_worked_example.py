"""The worked example of docs/scaled-dot-product-attention.md (and of its Japanese twin) is right and cannot
drift: the page's Python block is the example duplicated here, ronbun's ``scaled_dot_product_attention``
agrees with Eq. 1 computed by hand, ``softmax(Q Kᵀ / √d_k) V``, and the numbers printed on the page are the
ones the block prints."""

from __future__ import annotations

import contextlib
import io
import math
import re
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import Tensor

from ronbun.nn.attention import scaled_dot_product_attention

REPO = Path(__file__).resolve().parents[2]
PAGES = [
    REPO / "docs" / "scaled-dot-product-attention.md",
    REPO / "docs" / "ja" / "scaled-dot-product-attention.md",
]

#: The example, duplicated: 3 tokens, d_k = d_v = 4.
Q = torch.tensor([[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0], [1.0, 1.0, 1.0, 1.0]])
K = torch.tensor([[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0], [1.0, 1.0, 0.0, 0.0]])
V = torch.tensor([[1.0, 0.0, 0.0, 1.0], [0.0, 2.0, 0.0, 1.0], [0.0, 0.0, 3.0, 1.0]])

#: A fenced block at the start of a line: group 1 is its language, group 2 its body.
FENCE = re.compile(r"^```(\w*)[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)
NUMBER = re.compile(r"-?\d+\.\d+")


def worked_example(page: Path) -> tuple[str, str]:
    """The page's Python block that calls the function with ``need_weights=True``, and the ``text`` block
    that follows it (what the page says the block prints)."""
    blocks = [(m.group(1), m.group(2)) for m in FENCE.finditer(page.read_text(encoding="utf-8"))]
    for i, (lang, body) in enumerate(blocks):
        if lang == "python" and "scaled_dot_product_attention(" in body and "need_weights=True" in body:
            following = blocks[i + 1] if i + 1 < len(blocks) else ("", "")
            assert following[0] == "text", f"{page.name}: the worked example's output block is missing"
            return body, following[1]
    raise AssertionError(f"{page.name} has no worked example calling scaled_dot_product_attention")


def run(code: str, page: Path) -> tuple[dict[str, Any], str]:
    """Execute the page's block; its namespace and what it printed."""
    namespace: dict[str, Any] = {}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, str(page), "exec"), namespace)
    return namespace, printed.getvalue()


def numbers(text: str) -> list[float]:
    return [float(x) for x in NUMBER.findall(text)]


def by_hand(q: Tensor, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
    """Eq. 1 spelled out in plain PyTorch: scores, an explicit softmax, the weighted average of the values."""
    scores = q @ k.T / math.sqrt(q.shape[-1])  # (T_q, T_k)
    exp = torch.exp(scores - scores.max(dim=-1, keepdim=True).values)
    weights = exp / exp.sum(dim=-1, keepdim=True)
    return weights, weights @ v  # (T_q, T_k), (T_q, d_v)


def test_the_hand_computation_is_eq_1() -> None:
    weights, out = by_hand(Q, K, V)
    e = math.e
    first = torch.tensor([e, 1.0, math.sqrt(e)]) / (e + 1.0 + math.sqrt(e))  # scores (1, 0, 0.5)
    torch.testing.assert_close(weights[0], first)
    torch.testing.assert_close(weights[2], torch.full((3,), 1 / 3))  # equal scores: uniform weights
    torch.testing.assert_close(out[0], torch.stack([first[0], 2 * first[1], 3 * first[2], torch.tensor(1.0)]))


@pytest.mark.parametrize("impl", ["math", "sdpa"])
def test_ronbun_computes_what_the_hand_computes(impl: str) -> None:
    want_weights, want_out = by_hand(Q, K, V)
    out, weights = scaled_dot_product_attention(
        Q[None, None], K[None, None], V[None, None], need_weights=True
    )
    assert weights is not None
    torch.testing.assert_close(weights[0, 0], want_weights)
    torch.testing.assert_close(out[0, 0], want_out)
    torch.testing.assert_close(weights[0, 0].sum(-1), torch.ones(3))
    # without weights: PyTorch's fused kernel for impl="sdpa", Eq. 1 spelled out for impl="math"
    fused, none = scaled_dot_product_attention(Q[None, None], K[None, None], V[None, None], impl=impl)
    assert none is None
    torch.testing.assert_close(fused[0, 0], want_out)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_the_page_runs_this_example(page: Path) -> None:
    code, _ = worked_example(page)
    namespace, _ = run(code, page)
    for name, want in (("Q", Q), ("K", K), ("V", V)):
        torch.testing.assert_close(
            namespace[name], want, msg=f"{page.name}: {name} is not the tested example"
        )
    want_weights, want_out = by_hand(Q, K, V)
    torch.testing.assert_close(namespace["weights"][0, 0], want_weights)
    torch.testing.assert_close(namespace["out"][0, 0], want_out)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_the_numbers_on_the_page_are_the_printed_ones(page: Path) -> None:
    code, shown = worked_example(page)
    _, printed = run(code, page)
    want_weights, want_out = by_hand(Q, K, V)
    expected = [*want_weights.flatten().tolist(), *want_out.flatten().tolist()]
    assert len(numbers(shown)) == len(expected) == 21, f"{page.name}: expected 3×3 weights and a 3×4 output"
    assert numbers(printed) == pytest.approx(numbers(shown), abs=1e-4), f"{page.name}: output block is stale"
    assert numbers(shown) == pytest.approx(expected, abs=5e-5 + 1e-7)  # printed to 4 decimals


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_the_step_by_step_numbers_in_the_prose_are_right(page: Path) -> None:
    weights, out = by_hand(Q, K, V)
    text = page.read_text(encoding="utf-8")
    scores = (Q @ K.T)[0]
    assert f"q₁·k₁ = {scores[0]:.0f}" in text and f"q₁·k₃ = {scores[2]:.0f}" in text
    for row in (weights[0], out[0, :3]):
        quoted = ", ".join(f"{x:.3f}" for x in row.tolist())
        assert quoted in text, f"{page.name}: the hand computation should quote ({quoted})"
    unscaled = torch.softmax(Q[0] @ K.T, dim=-1)  # the same query without the 1/√d_k
    assert ", ".join(f"{x:.3f}" for x in unscaled.tolist()) in text
