"""The papers' building blocks (§3.2 attention, §3.3 feed-forward, §3.4 embeddings, §3.5 positions, §3.1 layers)."""

from .attention import KVCache, MultiHeadAttention, scaled_dot_product_attention
from .embeddings import (
    LearnedPositionalEmbedding,
    SinusoidalPositionalEncoding,
    TokenEmbedding,
    sinusoid_table,
)
from .feedforward import PositionwiseFeedForward
from .layers import TransformerLayer
from .state import DecoderState

__all__ = [
    "DecoderState",
    "KVCache",
    "LearnedPositionalEmbedding",
    "MultiHeadAttention",
    "PositionwiseFeedForward",
    "SinusoidalPositionalEncoding",
    "TokenEmbedding",
    "TransformerLayer",
    "scaled_dot_product_attention",
    "sinusoid_table",
]
