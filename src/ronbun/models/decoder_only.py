"""GPT-1 (Radford et al., 2018, "Improving Language Understanding by Generative Pre-Training"), §3.1:

    h_0 = U W_e + W_p;   h_l = transformer_block(h_{l-1});   P(u) = softmax(h_n W_e^T)        (Eq. 2)

A decoder-only stack of the same :class:`~ronbun.nn.TransformerLayer` as the Transformer's decoder, without
cross-attention: learned positions, GELU, post-LN (Figure 1), N(0, 0.02) init, output tied to ``W_e``.

Usage::

    from ronbun import GPT, GPTConfig
    model = GPT(GPTConfig.preset("gpt1"))
    logits = model(ids)  # (B, T, vocab_size + n_special)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import torch
from torch import Tensor, nn

from ..nn.embeddings import LearnedPositionalEmbedding, TokenEmbedding
from ..nn.state import DecoderState
from .config import BlockConfig, ConfigError
from .decoding import LMAdapter
from .stack import InputEmbedding, LayerStack, OutputProjection, check_ids, init_weights, make_positions


@dataclass
class GPTConfig(BlockConfig):
    """GPT-1 §4.1 model specifications.  Defaults = the paper's 12-layer model."""

    d_model: int = 768
    n_heads: int = 12
    d_ff: int = 3072
    n_layers: int = 12
    vocab_size: int = 40478  # BPE vocabulary (40,000 merges) of the original release
    n_special: int = 0  # extra embeddings for fine-tuning's start / delimiter / extract tokens (§3.3)
    n_ctx: int = 512
    positional: Literal["learned", "sinusoidal"] = "learned"
    tie_output: bool = True
    dropout: float = 0.1
    attention_dropout: float = 0.1
    activation: Literal["relu", "gelu", "gelu_tanh", "silu"] = "gelu_tanh"
    mask_fill: Literal["-inf", "-1e9", "-1e4"] = "-1e9"
    init: Literal["xavier_uniform", "normal"] = "normal"
    init_std: float = 0.02
    # Off in GPT-1.  On: token embeddings × sqrt(d_model) at the input (the Transformer's §3.4), so with
    # init_std = d_model^-0.5 the first block sees unit-scale inputs while the tied output layer stays small
    # (at CPU scale, N(0, 0.02) inputs leave the first attention layer uniform for a long while); learned
    # positions then start at that same scale, N(0, init_std · sqrt(d_model)), as the Transformer's sinusoids
    # (amplitude 1) sit beside its scaled embeddings: position-dependent heads (copying) form far sooner.
    scale_embedding: bool = False

    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {
        "gpt1": {},  # 12 × 768, 12 heads, 3072, n_ctx 512: 116.5M parameters with the 40,478 vocabulary
        # CPU-sized models for pre-training experiments on a laptop
        "small": {"d_model": 256, "n_heads": 4, "d_ff": 1024, "n_layers": 4, "n_ctx": 256},
        "mini": {"d_model": 384, "n_heads": 6, "d_ff": 1536, "n_layers": 6, "n_ctx": 256},
        "tiny": {"d_model": 64, "n_heads": 4, "d_ff": 256, "n_layers": 2, "n_ctx": 128},
    }

    @classmethod
    def model_type(cls) -> str:
        return "gpt"

    @property
    def total_vocab(self) -> int:
        return self.vocab_size + self.n_special

    def validate(self) -> None:
        super().validate()
        for name in ("vocab_size", "n_layers", "n_ctx"):
            value = getattr(self, name)
            if not isinstance(value, int) or value <= 0:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
        if not isinstance(self.n_special, int) or self.n_special < 0:
            raise ConfigError(f"n_special must be a non-negative integer, got {self.n_special!r}")
        if self.positional not in ("learned", "sinusoidal"):
            raise ConfigError(f"positional must be 'learned' or 'sinusoidal', got {self.positional!r}")


class GPT(OutputProjection):
    """GPT-1's decoder-only language model (§3.1, Eq. 2)."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.config = c = config
        tokens = TokenEmbedding(c.total_vocab, c.d_model, scale=c.scale_embedding)  # W_e (GPT-1: no sqrt(d))
        self.embed = InputEmbedding(tokens, make_positions(c.positional, c.n_ctx, c.d_model), c.dropout)
        self.blocks = LayerStack(c, c.n_layers, cross_attention=False, causal=True)
        self.output_proj = None if c.tie_output else nn.Linear(c.d_model, c.total_vocab, bias=False)
        init_weights(self, c, c.init_std)
        if c.scale_embedding and isinstance(self.embed.positions, LearnedPositionalEmbedding):
            nn.init.normal_(self.embed.positions.weight, std=c.init_std * c.d_model**0.5)  # the tokens' scale

    def hidden_states(
        self, ids: Tensor, state: DecoderState | None = None, need_weights: bool = False
    ) -> tuple[Tensor, list]:
        """``ids (B, T)`` → final hidden states ``h_n (B, T, d_model)`` (and per-layer attention weights)."""
        c = self.config
        offset = state.position if state is not None else 0
        check_ids(ids, "ids", c.total_vocab, c.n_ctx, offset)
        x = self.embed(ids, offset)  # h_0 = U W_e + W_p, (B, T, d_model)
        return self.blocks(x, state=state, need_weights=need_weights)

    def output_layer(self) -> tuple[Tensor, Tensor | None]:
        """``(W_e (V, d_model), None)``: the output projection of Eq. 2 (tied to the token embedding)."""
        weight = self.output_proj.weight if self.output_proj is not None else self.embed.tokens.weight
        return weight, None

    def forward(self, ids: Tensor, *, return_hidden: bool = False) -> Tensor:
        """``ids (B, T)`` → next-token logits ``(B, T, V)`` (or, with ``return_hidden``, ``h_n (B, T, d_model)``
        for a loss that fuses the projection)."""
        hidden = self.hidden_states(ids)[0]
        return hidden if return_hidden else self.project(hidden)

    def start_state(self) -> DecoderState:
        return DecoderState.empty(len(self.blocks.layers))

    def decode_step(self, tokens: Tensor, state: DecoderState) -> Tensor:
        """Feed new tokens ``(B, T_new)`` (a prompt, then one token at a time) → logits ``(B, T_new, V)``."""
        return self.project(self.hidden_states(tokens, state)[0])

    def step_fn(self, prompt: Tensor, banned_ids: Iterable[int] | None = None) -> LMAdapter:
        """This model as the :class:`~ronbun.generation.StepFn` that :func:`ronbun.generation.generate`
        samples from: the prompt ``(B, P)`` is fed once (:class:`~ronbun.models.decoding.LMAdapter`)."""
        return LMAdapter(self, prompt, banned_ids)

    @torch.no_grad()
    def attention_maps(self, ids: Tensor) -> list[Tensor]:
        """Masked self-attention weights per layer, each ``(B, h, T, T)``."""
        _, weights = self.hidden_states(ids, need_weights=True)
        return [w[0] for w in weights if w[0] is not None]

    @torch.no_grad()
    def add_special_tokens(self, n: int) -> None:
        """Append ``n`` randomly initialised embeddings (start, delimiter, extract: §3.3) for fine-tuning."""
        if n <= 0:
            return
        c = self.config
        old = self.embed.tokens
        new = TokenEmbedding(c.total_vocab + n, c.d_model, scale=c.scale_embedding).to(
            old.weight.device, old.weight.dtype
        )
        nn.init.normal_(new.weight, std=c.init_std)
        new.weight[: c.total_vocab] = old.weight
        self.embed.tokens = new
        if self.output_proj is not None:
            proj = nn.Linear(c.d_model, c.total_vocab + n, bias=False).to(old.weight.device, old.weight.dtype)
            nn.init.normal_(proj.weight, std=c.init_std)
            proj.weight[: c.total_vocab] = self.output_proj.weight
            self.output_proj = proj
        c.n_special += n

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
