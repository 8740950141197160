"""ronbun (論文): the Transformer (Vaswani et al., 2017) and GPT-1 (Radford et al., 2018), built for real.

The names below load on first use (PEP 562), so ``import ronbun.nn`` loads the building blocks and nothing
else, and ``import ronbun`` is instant.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_LAZY = {
    "load": "ronbun.api",
    "GPT": "ronbun.models",
    "GPTConfig": "ronbun.models",
    "Transformer": "ronbun.models",
    "TransformerConfig": "ronbun.models",
    "ConfigError": "ronbun.models",
    "InputError": "ronbun.models",
}

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

if TYPE_CHECKING:  # for type checkers and IDEs; at run time the names load lazily
    from .api import load
    from .models import GPT, ConfigError, GPTConfig, InputError, Transformer, TransformerConfig


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    raise AttributeError(f"module 'ronbun' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
