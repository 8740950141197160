"""The layer stack builds every TransformerLayer (§3.1) from the configuration's own settings."""

from __future__ import annotations

import dataclasses
import inspect

from ronbun import TransformerConfig
from ronbun.models.config import BlockConfig
from ronbun.models.stack import LAYER_OPTIONS, LayerStack
from ronbun.nn.layers import TransformerLayer


def test_layer_options_are_layer_parameters_and_config_fields() -> None:
    parameters = inspect.signature(TransformerLayer).parameters
    fields = {f.name for f in dataclasses.fields(BlockConfig)}
    for name in LAYER_OPTIONS:
        assert parameters[name].kind is inspect.Parameter.KEYWORD_ONLY, name
        assert name in fields, name


def test_stack_layers_follow_the_config() -> None:
    config = TransformerConfig(
        vocab_size=11,
        d_model=16,
        n_heads=2,
        d_ff=32,
        n_encoder_layers=2,
        n_decoder_layers=1,
        dropout=0.3,
        attention_dropout=0.2,
        norm_position="pre",
        layer_norm_eps=1e-6,
        mask_fill="-1e9",
    )
    stack = LayerStack(config, 2, cross_attention=True, causal=True)
    assert len(stack.layers) == 2
    for layer in stack.layers:
        assert isinstance(layer, TransformerLayer) and layer.cross_attn is not None
        assert (layer.dropout.p, layer.self_attn.dropout, layer.norm_position) == (0.3, 0.2, "pre")
        assert layer.ffn_norm.eps == 1e-6 and layer.self_attn.mask_fill == -1e9
        assert layer.ffn.w_1.out_features == 32 and layer.self_attn.n_heads == 2
