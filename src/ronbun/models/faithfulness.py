"""The faithfulness profile: where a configuration departs from its paper, and which section says so.

Every well-known implementation deviates silently somewhere (pre-LN, concatenated sinusoids, ε/V label
smoothing, tanh GELU, finite mask values, an extra final LayerNorm ...).  ronbun's defaults are the papers';
each deviation is a named setting, and :func:`deviations` lists the ones a configuration makes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .config import BlockConfig


@dataclass(frozen=True)
class PaperSetting:
    """What a paper prescribes for one setting: its ``value``, the ``section`` that says so, and a ``note``
    quoting or explaining it."""

    value: Any
    section: str
    note: str


@dataclass(frozen=True)
class Deviation:
    """A setting whose configured ``value`` differs from the ``paper_value`` of ``section``."""

    setting: str
    value: Any
    paper_value: Any
    section: str
    note: str

    def format(self) -> str:
        return f"{self.setting} = {self.value!r} (paper: {self.paper_value!r}; {self.section}: {self.note})"


TRANSFORMER_PAPER: dict[str, PaperSetting] = {
    "norm_position": PaperSetting("post", "§3.1", "LayerNorm(x + Sublayer(x)), post-LN"),
    "use_final_layer_norm": PaperSetting(False, "§3.1", "no extra LayerNorm after each stack"),
    "activation": PaperSetting("relu", "§3.3, Eq. 2", "FFN(x) = max(0, xW1 + b1)W2 + b2"),
    "positional": PaperSetting("sinusoidal", "§3.5", "sinusoids (learned: Table 3 row E variant)"),
    "sinusoid_layout": PaperSetting("interleaved", "§3.5", "sin on even, cos on odd dimensions"),
    "scale_embedding": PaperSetting(True, "§3.4", "embeddings multiplied by sqrt(d_model)"),
    "tie_embeddings": PaperSetting(
        "all", "§3.4", "one matrix for both embeddings and the pre-softmax linear"
    ),
    "final_logits_bias": PaperSetting(False, "§3.4", "pre-softmax linear transformation without bias"),
    "mask_fill": PaperSetting("-inf", "§3.2.3", "illegal connections set to -inf before the softmax"),
    "attention_dropout": PaperSetting(0.0, "§5.4", "dropout only on sub-layer outputs and embedding sums"),
    "activation_dropout": PaperSetting(0.0, "§5.4", "dropout only on sub-layer outputs and embedding sums"),
    "attention_window": PaperSetting(
        None, "§3.2, Table 1", "full self-attention (restricted r: Table 1 row 4)"
    ),
    "label_smoothing": PaperSetting(0.1, "§5.4", "label smoothing ε_ls = 0.1"),
    "label_smoothing_mass": PaperSetting(
        "others", "§5.4", "ε spread over the V-1 wrong labels (Szegedy et al.); 'all' = ε/V incl. target"
    ),
}

GPT_PAPER: dict[str, PaperSetting] = {
    "norm_position": PaperSetting("post", "GPT-1 Fig. 1", "the original Transformer block (post-LN)"),
    "use_final_layer_norm": PaperSetting(False, "GPT-1 Fig. 1", "no final LayerNorm"),
    "activation": PaperSetting("gelu_tanh", "GPT-1 §4.1", "GELU (tanh approximation in OpenAI's code)"),
    "positional": PaperSetting("learned", "GPT-1 §4.1", "learned position embeddings"),
    "mask_fill": PaperSetting("-1e9", "OpenAI code", "masked logits set to -1e9"),
    "attention_dropout": PaperSetting(0.1, "GPT-1 §4.1", "attention dropout 0.1"),
    "dropout": PaperSetting(0.1, "GPT-1 §4.1", "residual and embedding dropout 0.1"),
    "attention_window": PaperSetting(None, "GPT-1 §3.1", "full masked self-attention"),
    "init": PaperSetting("normal", "GPT-1 §4.1", "weights initialised N(0, 0.02)"),
    "init_std": PaperSetting(0.02, "GPT-1 §4.1", "weights initialised N(0, 0.02)"),
    "scale_embedding": PaperSetting(False, "GPT-1 Eq. 2", "h_0 = U W_e + W_p, no sqrt(d_model) factor"),
    "tie_output": PaperSetting(True, "GPT-1 §3.1, Eq. 2", "output projection W_e^T"),
}


def paper_settings(config: BlockConfig) -> dict[str, PaperSetting]:
    return GPT_PAPER if config.model_type() == "gpt" else TRANSFORMER_PAPER


def deviations(config: BlockConfig) -> list[Deviation]:
    """Every setting of ``config`` that differs from its paper, with the section it departs from."""
    out = []
    for name, paper in paper_settings(config).items():
        if not hasattr(config, name):
            continue
        value = getattr(config, name)
        if value != paper.value:
            out.append(Deviation(name, value, paper.value, paper.section, paper.note))
    d_k, d_v, per_head = config.head_dim_k, config.head_dim_v, config.d_model // config.n_heads
    if d_k * config.n_heads != config.d_model or d_v * config.n_heads != config.d_model:
        out.append(
            Deviation(
                "d_k/d_v",
                (d_k, d_v),
                (per_head, per_head),
                "§3.2.2, Table 3 rows A/B",
                "h·d_k ≠ d_model: a Table 3 variation, not the base model",
            )
        )
    return out
