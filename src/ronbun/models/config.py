"""Model configurations: the paper's settings as defaults, every known deviation an explicit named option.

``BlockConfig`` holds what the Transformer and GPT-1 share (the §3 building blocks); ``TransformerConfig``
adds the encoder-decoder specifics (§3.1, §3.4, §3.5, §5.4).  ``GPTConfig`` lives in ``models/decoder_only.py``.
Configs are plain dataclasses serialised as JSON; unknown keys are an error, never silently dropped.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal, Self

CONFIG_VERSION = 1


class ConfigError(ValueError):
    """A configuration that cannot describe a valid model (message names the offending setting)."""


def mask_fill_value(name: str) -> float:
    """The value masked attention logits get: ``"-inf"`` (the paper, §3.2.3), ``"-1e9"`` (OpenAI's GPT-1
    code), ``"-1e4"`` (Hugging Face, fp16-safe)."""
    try:
        return {"-inf": float("-inf"), "-1e9": -1e9, "-1e4": -1e4}[name]
    except KeyError:
        raise ConfigError(f"mask_fill must be one of '-inf', '-1e9', '-1e4', got {name!r}") from None


@dataclass
class BlockConfig:
    """Settings of the §3 building blocks shared by both papers' models."""

    d_model: int = 512
    n_heads: int = 8
    d_k: int | None = None  # per-head query/key size; None = d_model / n_heads (§3.2.2)
    d_v: int | None = None  # per-head value size; None = d_model / n_heads
    d_ff: int = 2048
    dropout: float = 0.1  # P_drop: residual + embedding dropout (§5.4)
    attention_dropout: float = 0.0  # dropout on attention weights (not in the Transformer paper; GPT-1: 0.1)
    activation_dropout: float = 0.0  # dropout inside the FFN (not in either paper)
    activation: Literal["relu", "gelu", "gelu_tanh", "silu"] = "relu"
    norm_position: Literal["post", "pre"] = "post"
    final_layer_norm: bool | None = None  # LayerNorm after each stack; None = only when pre-LN
    layer_norm_eps: float = 1e-5
    mask_fill: Literal["-inf", "-1e9", "-1e4"] = "-inf"
    attention_window: int | None = None  # restricted self-attention, neighbourhood r (Table 1)
    attention_impl: Literal["sdpa", "math"] = "sdpa"
    init: Literal["xavier_uniform", "normal"] = "xavier_uniform"
    init_std: float = 0.02  # used by init="normal"

    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {}

    def __post_init__(self) -> None:
        self.validate()

    # -- derived sizes ------------------------------------------------------------------------------------
    @property
    def head_dim_k(self) -> int:
        return self.d_k if self.d_k is not None else self.d_model // self.n_heads

    @property
    def head_dim_v(self) -> int:
        return self.d_v if self.d_v is not None else self.d_model // self.n_heads

    @property
    def use_final_layer_norm(self) -> bool:
        return self.norm_position == "pre" if self.final_layer_norm is None else self.final_layer_norm

    def validate(self) -> None:
        for name in ("d_model", "n_heads", "d_ff"):
            value = getattr(self, name)
            if not isinstance(value, int) or value <= 0:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
        if (self.d_k is None or self.d_v is None) and self.d_model % self.n_heads:
            raise ConfigError(
                f"d_model={self.d_model} is not divisible by n_heads={self.n_heads}; "
                "give d_k and d_v explicitly (Table 3 rows A/B) or change n_heads"
            )
        for name in ("d_k", "d_v", "attention_window"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value <= 0):
                raise ConfigError(f"{name} must be a positive integer or null, got {value!r}")
        for name in ("dropout", "attention_dropout", "activation_dropout"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise ConfigError(f"{name} must be in [0, 1), got {value!r}")
        choices = {
            "activation": ("relu", "gelu", "gelu_tanh", "silu"),
            "norm_position": ("post", "pre"),
            "attention_impl": ("sdpa", "math"),
            "init": ("xavier_uniform", "normal"),
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ConfigError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        mask_fill_value(self.mask_fill)

    # -- construction -------------------------------------------------------------------------------------
    @classmethod
    def preset_names(cls) -> list[str]:
        return sorted(cls.PRESETS)

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> Self:
        """A named preset (see ``PRESETS``) with optional overrides, e.g. ``preset("base", vocab_size=37000)``."""
        if name not in cls.PRESETS:
            raise ConfigError(f"unknown preset {name!r}; available presets: {', '.join(cls.preset_names())}")
        return cls.from_dict({**cls.PRESETS[name], **overrides})

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        data = {k: v for k, v in data.items() if k not in ("model_type", "config_version")}
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(
                f"unknown {cls.__name__} key(s): {', '.join(unknown)}; valid keys: {', '.join(sorted(known))}"
            )
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return {"model_type": self.model_type(), "config_version": CONFIG_VERSION, **dataclasses.asdict(self)}

    @classmethod
    def model_type(cls) -> str:
        return "block"

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> Self:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if data.get("model_type", cls.model_type()) != cls.model_type():
            raise ConfigError(
                f"{path} describes a {data.get('model_type')!r} model, not a {cls.model_type()!r} model"
            )
        return cls.from_dict(data)


@dataclass
class TransformerConfig(BlockConfig):
    """The encoder-decoder Transformer of "Attention Is All You Need" (§3).  Defaults = the base model."""

    vocab_size: int = 37000  # shared source/target vocabulary (or the target vocabulary when untied)
    src_vocab_size: int | None = None  # None = shared with the target (required for three-way tying)
    n_encoder_layers: int = 6
    n_decoder_layers: int = 6
    positional: Literal["sinusoidal", "learned"] = "sinusoidal"  # §3.5 / Table 3 row E
    sinusoid_layout: Literal["interleaved", "concatenated"] = "interleaved"
    max_positions: int = 1024
    scale_embedding: bool = True  # × sqrt(d_model), §3.4
    tie_embeddings: Literal["all", "decoder", "none"] = "all"  # §3.4 three-way tying
    final_logits_bias: bool = False  # Marian has one; the paper's pre-softmax linear has none
    label_smoothing: float = 0.1  # ε_ls, §5.4
    label_smoothing_mass: Literal["others", "all"] = "others"  # ε/(V-1) on each non-target vs ε/V on all
    pad_id: int = 0
    bos_id: int = 1
    eos_id: int = 2
    unk_id: int = 3
    extra: dict[str, Any] = field(default_factory=dict)  # free-form provenance (e.g. imported from Marian)

    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {
        # Table 3: base and big.  big's P_drop = 0.3 (EN-DE); EN-FR big used 0.1.
        "base": {},
        "big": {"d_model": 1024, "d_ff": 4096, "n_heads": 16, "dropout": 0.3},
        # sized for a 2-core CPU: the size the benchmarks compare
        "small": {"d_model": 256, "d_ff": 1024, "n_heads": 4, "n_encoder_layers": 3, "n_decoder_layers": 3},
        # a few-second model for tests and smoke runs
        "tiny": {"d_model": 64, "d_ff": 256, "n_heads": 4, "n_encoder_layers": 2, "n_decoder_layers": 2},
        # Table 3 row B: h = 8, d_model = 512, d_k = 16 or 32 (d_v stays 64)
        "table3-B16": {"d_k": 16, "d_v": 64},
        "table3-B32": {"d_k": 32, "d_v": 64},
        # Table 3 row E: learned positional embedding instead of sinusoids
        "table3-E": {"positional": "learned"},
    }

    @classmethod
    def model_type(cls) -> str:
        return "transformer"

    @property
    def source_vocab_size(self) -> int:
        return self.vocab_size if self.src_vocab_size is None else self.src_vocab_size

    def validate(self) -> None:
        super().validate()
        for name in ("vocab_size", "n_encoder_layers", "n_decoder_layers", "max_positions"):
            value = getattr(self, name)
            if not isinstance(value, int) or value <= 0:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
        if self.positional not in ("sinusoidal", "learned"):
            raise ConfigError(f"positional must be 'sinusoidal' or 'learned', got {self.positional!r}")
        if self.sinusoid_layout not in ("interleaved", "concatenated"):
            raise ConfigError(
                f"sinusoid_layout must be 'interleaved' or 'concatenated', got {self.sinusoid_layout!r}"
            )
        if self.tie_embeddings not in ("all", "decoder", "none"):
            raise ConfigError(
                f"tie_embeddings must be 'all', 'decoder' or 'none', got {self.tie_embeddings!r}"
            )
        if self.tie_embeddings == "all" and self.source_vocab_size != self.vocab_size:
            raise ConfigError(
                "tie_embeddings='all' (three-way tying, §3.4) needs one shared vocabulary, but "
                f"src_vocab_size={self.src_vocab_size} != vocab_size={self.vocab_size}"
            )
        if self.label_smoothing_mass not in ("others", "all"):
            raise ConfigError(
                f"label_smoothing_mass must be 'others' or 'all', got {self.label_smoothing_mass!r}"
            )
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ConfigError(f"label_smoothing must be in [0, 1), got {self.label_smoothing!r}")
        for name in ("pad_id", "bos_id", "eos_id", "unk_id"):
            value = getattr(self, name)
            if not 0 <= value < self.vocab_size:
                raise ConfigError(f"{name}={value} is outside the vocabulary (size {self.vocab_size})")


def embedding_init_std(config: BlockConfig) -> float:
    """Std of the token embedding at initialisation: ``d_model^-0.5`` for the scaled, tied embedding of the
    Transformer (so that ``sqrt(d_model) · E`` has unit-variance entries), ``init_std`` for ``init="normal"``."""
    return config.init_std if config.init == "normal" else 1.0 / math.sqrt(config.d_model)
