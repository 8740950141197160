"""§3.3 feed-forward (Eq. 2), §3.4 embeddings, §3.5 positional encoding."""

from __future__ import annotations

import math

import pytest
import torch

from ronbun.nn.embeddings import LearnedPositionalEmbedding, TokenEmbedding, sinusoid_table
from ronbun.nn.feedforward import PositionwiseFeedForward


def test_ffn_is_eq2():
    """FFN(x) = max(0, x W_1 + b_1) W_2 + b_2, applied to each position separately and identically."""
    ffn = PositionwiseFeedForward(6, 10, "relu")
    x = torch.randn(2, 3, 6)
    w1, b1, w2, b2 = ffn.w_1.weight.T, ffn.w_1.bias, ffn.w_2.weight.T, ffn.w_2.bias
    expected = torch.clamp(x @ w1 + b1, min=0) @ w2 + b2
    assert torch.allclose(ffn(x), expected, atol=1e-6)
    assert torch.allclose(ffn(x[:, 1:2]), ffn(x)[:, 1:2], atol=1e-6), "position-wise"


@pytest.mark.parametrize(
    ("name", "fn"),
    [
        ("gelu", lambda z: 0.5 * z * (1 + torch.erf(z / math.sqrt(2)))),
        ("gelu_tanh", lambda z: 0.5 * z * (1 + torch.tanh(math.sqrt(2 / math.pi) * (z + 0.044715 * z**3)))),
        ("silu", lambda z: z * torch.sigmoid(z)),
    ],
)
def test_ffn_activation_is_configurable(name, fn):
    ffn = PositionwiseFeedForward(4, 8, name)
    x = torch.randn(3, 4)
    assert torch.allclose(ffn(x), ffn.w_2(fn(ffn.w_1(x))), atol=1e-6)


def test_unknown_activation_is_an_error():
    with pytest.raises(ValueError, match="unknown activation"):
        PositionwiseFeedForward(4, 8, "tanh")  # type: ignore[arg-type]


def test_positional_encoding_is_the_section_3_5_formula():
    d = 16
    pe = sinusoid_table(50, d)
    for pos in (0, 1, 7, 49):
        for i in range(d // 2):
            angle = pos / 10000 ** (2 * i / d)
            assert pe[pos, 2 * i].item() == pytest.approx(math.sin(angle), abs=1e-6)
            assert pe[pos, 2 * i + 1].item() == pytest.approx(math.cos(angle), abs=1e-6)


def test_concatenated_layout_is_a_permutation_of_the_paper_layout():
    inter, concat = sinusoid_table(20, 8), sinusoid_table(20, 8, "concatenated")
    perm = [0, 2, 4, 6, 1, 3, 5, 7]
    assert torch.equal(inter[:, perm], concat)


def test_relative_positions_are_linear_functions_of_the_encoding():
    """§3.5's motivation: PE(pos + k) is a fixed rotation of PE(pos) for every pos."""
    d, k = 8, 3
    pe = sinusoid_table(40, d).double()
    rot = torch.linalg.lstsq(pe[:30], pe[k : 30 + k]).solution
    assert torch.allclose(pe[10:30] @ rot, pe[10 + k : 30 + k], atol=1e-6)


def test_embeddings_are_multiplied_by_sqrt_d_model():
    emb = TokenEmbedding(10, 64)
    ids = torch.tensor([[1, 2, 3]])
    assert torch.allclose(emb(ids), emb.weight[ids] * 8.0)
    unscaled = TokenEmbedding(10, 64, scale=False)
    unscaled.weight.data.copy_(emb.weight.data)
    assert torch.allclose(unscaled(ids) * 8.0, emb(ids))


def test_learned_positions_have_one_vector_per_position():
    pos = LearnedPositionalEmbedding(12, 4)
    assert pos(5, offset=3).shape == (5, 4)
    assert torch.equal(pos(1, offset=7)[0], pos.weight[7])
