"""Peer equivalence: weights copied from ``torch.nn.Transformer`` (post-LN, ReLU) give equal outputs.

``torch.nn.Transformer`` adds a final LayerNorm to each stack, which the paper does not have; ronbun's
``final_layer_norm=True`` option makes the comparison exact.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ronbun import Transformer, TransformerConfig
from ronbun.nn.layers import TransformerLayer

D, H, FF = 32, 4, 64


def copy_self_attention(ours, theirs: nn.MultiheadAttention) -> None:
    ours.qkv_proj.weight.copy_(theirs.in_proj_weight)  # [W^Q; W^K; W^V]
    ours.qkv_proj.bias.copy_(theirs.in_proj_bias)
    ours.out_proj.load_state_dict(theirs.out_proj.state_dict())


def copy_cross_attention(ours, theirs: nn.MultiheadAttention) -> None:
    ours.q_proj.weight.copy_(theirs.in_proj_weight[:D])
    ours.q_proj.bias.copy_(theirs.in_proj_bias[:D])
    ours.kv_proj.weight.copy_(theirs.in_proj_weight[D:])
    ours.kv_proj.bias.copy_(theirs.in_proj_bias[D:])
    ours.out_proj.load_state_dict(theirs.out_proj.state_dict())


@torch.no_grad()
def copy_encoder_layer(ours: TransformerLayer, theirs: nn.TransformerEncoderLayer) -> None:
    copy_self_attention(ours.self_attn, theirs.self_attn)
    ours.ffn.w_1.load_state_dict(theirs.linear1.state_dict())
    ours.ffn.w_2.load_state_dict(theirs.linear2.state_dict())
    ours.self_attn_norm.load_state_dict(theirs.norm1.state_dict())
    ours.ffn_norm.load_state_dict(theirs.norm2.state_dict())


@torch.no_grad()
def copy_decoder_layer(ours: TransformerLayer, theirs: nn.TransformerDecoderLayer) -> None:
    copy_self_attention(ours.self_attn, theirs.self_attn)
    copy_cross_attention(ours.cross_attn, theirs.multihead_attn)
    ours.ffn.w_1.load_state_dict(theirs.linear1.state_dict())
    ours.ffn.w_2.load_state_dict(theirs.linear2.state_dict())
    ours.self_attn_norm.load_state_dict(theirs.norm1.state_dict())
    ours.cross_attn_norm.load_state_dict(theirs.norm2.state_dict())
    ours.ffn_norm.load_state_dict(theirs.norm3.state_dict())


def layer(cross: bool) -> TransformerLayer:
    return TransformerLayer(D, H, D // H, D // H, FF, cross_attention=cross, dropout=0.0).eval()


def torch_pair(b=3, s=7, t=5, pad_row=True):
    x = torch.randn(b, s, D)
    pad = torch.zeros(b, s, dtype=torch.bool)  # torch: True = padding
    if pad_row:
        pad[1, 4:] = True
        pad[2, 6:] = True
    return x, pad, torch.randn(b, t, D)


@pytest.mark.parametrize("padded", [False, True])
def test_encoder_layer_equals_torch(padded):
    theirs = nn.TransformerEncoderLayer(D, H, FF, dropout=0.0, batch_first=True).eval()
    ours = layer(cross=False)
    copy_encoder_layer(ours, theirs)
    x, pad, _ = torch_pair(pad_row=padded)
    expected = theirs(x, src_key_padding_mask=pad if padded else None)
    got, _ = ours(x, self_mask=(~pad)[:, None, None, :] if padded else None)
    keep = ~pad
    assert torch.allclose(got[keep], expected[keep], atol=1e-5)


@pytest.mark.parametrize("padded", [False, True])
def test_decoder_layer_equals_torch(padded):
    theirs = nn.TransformerDecoderLayer(D, H, FF, dropout=0.0, batch_first=True).eval()
    ours = layer(cross=True)
    copy_decoder_layer(ours, theirs)
    memory, pad, y = torch_pair(pad_row=padded)
    causal = nn.Transformer.generate_square_subsequent_mask(y.shape[1])
    expected = theirs(y, memory, tgt_mask=causal, memory_key_padding_mask=pad if padded else None)
    got, _ = ours(y, is_causal=True, memory=memory, memory_mask=(~pad)[:, None, None, :] if padded else None)
    assert torch.allclose(got, expected, atol=1e-5)


@pytest.mark.parametrize("padded", [False, True])
def test_whole_stacks_equal_torch_nn_transformer(padded):
    n = 2
    theirs = nn.Transformer(
        D, H, n, n, FF, dropout=0.0, batch_first=True
    ).eval()  # post-LN, ReLU, final LayerNorm on both stacks
    config = TransformerConfig(
        d_model=D,
        n_heads=H,
        d_ff=FF,
        n_encoder_layers=n,
        n_decoder_layers=n,
        dropout=0.0,
        vocab_size=20,
        final_layer_norm=True,
    )
    ours = Transformer(config).eval()
    with torch.no_grad():
        for a, b in zip(ours.encoder.layers, theirs.encoder.layers, strict=True):
            copy_encoder_layer(a, b)
        for a, b in zip(ours.decoder.layers, theirs.decoder.layers, strict=True):
            copy_decoder_layer(a, b)
        ours.encoder.final_norm.load_state_dict(theirs.encoder.norm.state_dict())
        ours.decoder.final_norm.load_state_dict(theirs.decoder.norm.state_dict())
    x, pad, y = torch_pair(pad_row=padded)
    causal = nn.Transformer.generate_square_subsequent_mask(y.shape[1])
    expected = theirs(
        x,
        y,
        tgt_mask=causal,
        src_key_padding_mask=pad if padded else None,
        memory_key_padding_mask=pad if padded else None,
    )
    keep = (~pad)[:, None, None, :] if padded else None
    memory, _ = ours.encoder(x, key_keep=keep)
    got, _ = ours.decoder(y, memory=memory, memory_mask=keep)
    assert torch.allclose(got, expected, atol=1e-5)
