"""ronbun (論文): the Transformer (Vaswani et al., 2017) and GPT-1 (Radford et al., 2018), built for real."""

from .api import load
from .models import GPT, ConfigError, GPTConfig, InputError, Transformer, TransformerConfig

__version__ = "0.1.0"

__all__ = [
    "GPT",
    "ConfigError",
    "GPTConfig",
    "InputError",
    "Transformer",
    "TransformerConfig",
    "__version__",
    "load",
]
