"""The two papers' models, composed from :mod:`ronbun.nn` blocks."""

from .config import BlockConfig, ConfigError, TransformerConfig
from .decoder_only import GPT, GPTConfig
from .decoding import EncoderDecoderAdapter, LMAdapter
from .faithfulness import Deviation, deviations
from .stack import InputError
from .transformer import AttentionMaps, Transformer

__all__ = [
    "GPT",
    "AttentionMaps",
    "BlockConfig",
    "ConfigError",
    "Deviation",
    "EncoderDecoderAdapter",
    "GPTConfig",
    "InputError",
    "LMAdapter",
    "Transformer",
    "TransformerConfig",
    "deviations",
]
