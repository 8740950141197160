"""§3.1 encoder and decoder layers: sub-layers wrapped in residual connections and layer normalisation.

One class, :class:`TransformerLayer`, is the encoder layer (self-attention + FFN), the decoder layer
(masked self-attention + encoder-decoder attention + FFN) and GPT-1's block (masked self-attention + FFN).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from torch import Tensor, nn

from .attention import AttentionImpl, KVCache, MultiHeadAttention
from .feedforward import Activation, PositionwiseFeedForward

NormPosition = Literal["post", "pre"]


class TransformerLayer(nn.Module):
    """§3.1: each sub-layer's output is ``LayerNorm(x + Dropout(Sublayer(x)))`` (post-LN, the paper's
    layout, §3.1 and §5.4 "residual dropout").  ``norm_position="pre"`` gives ``x + Dropout(Sublayer(LN(x)))``
    (the "pre-LN" variant of later work; it needs a final LayerNorm on the stack).
    """

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        d_k: int,
        d_v: int,
        d_ff: int,
        *,
        cross_attention: bool = False,
        dropout: float = 0.1,
        attention_dropout: float = 0.0,
        activation_dropout: float = 0.0,
        activation: Activation = "relu",
        norm_position: NormPosition = "post",
        layer_norm_eps: float = 1e-5,
        mask_fill: float = float("-inf"),
        attention_impl: AttentionImpl = "sdpa",
    ) -> None:
        super().__init__()
        attn_kwargs = dict(dropout=attention_dropout, mask_fill=mask_fill, impl=attention_impl)
        self.self_attn = MultiHeadAttention(d_model, n_heads, d_k, d_v, **attn_kwargs)
        self.self_attn_norm = nn.LayerNorm(d_model, eps=layer_norm_eps)
        self.cross_attn: MultiHeadAttention | None = None
        self.cross_attn_norm: nn.LayerNorm | None = None
        if cross_attention:
            self.cross_attn = MultiHeadAttention(d_model, n_heads, d_k, d_v, cross=True, **attn_kwargs)
            self.cross_attn_norm = nn.LayerNorm(d_model, eps=layer_norm_eps)
        self.ffn = PositionwiseFeedForward(d_model, d_ff, activation, activation_dropout)
        self.ffn_norm = nn.LayerNorm(d_model, eps=layer_norm_eps)
        self.dropout = nn.Dropout(dropout)
        self.norm_position = norm_position

    def _sublayer(self, x: Tensor, norm: nn.LayerNorm, fn: Callable[[Tensor], Tensor]) -> Tensor:
        if self.norm_position == "post":
            return norm(x + self.dropout(fn(x)))  # LayerNorm(x + Sublayer(x)), §3.1
        return x + self.dropout(fn(norm(x)))  # pre-LN variant

    def forward(
        self,
        x: Tensor,
        *,
        self_mask: Tensor | None = None,
        is_causal: bool = False,
        memory: Tensor | None = None,
        memory_mask: Tensor | None = None,
        self_cache: KVCache | None = None,
        cross_cache: KVCache | None = None,
        need_weights: bool = False,
    ) -> tuple[Tensor, tuple[Tensor | None, Tensor | None]]:
        """``x (B, T, d_model)``, ``memory (B, S, d_model)`` → ``(B, T, d_model)`` and the attention weights
        ``(self (B, h, T, T_k), cross (B, h, T, S))`` when ``need_weights`` (else ``None``s)."""
        weights: dict[str, Tensor | None] = {"self": None, "cross": None}

        def self_attention(h: Tensor) -> Tensor:
            out, weights["self"] = self.self_attn(
                h, mask=self_mask, is_causal=is_causal, cache=self_cache, need_weights=need_weights
            )
            return out

        x = self._sublayer(x, self.self_attn_norm, self_attention)
        if self.cross_attn is not None and self.cross_attn_norm is not None:
            cross_attn = self.cross_attn

            def cross_attention(h: Tensor) -> Tensor:
                out, weights["cross"] = cross_attn(
                    h, memory, mask=memory_mask, cache=cross_cache, need_weights=need_weights
                )
                return out

            x = self._sublayer(x, self.cross_attn_norm, cross_attention)
        x = self._sublayer(x, self.ffn_norm, self.ffn)
        return x, (weights["self"], weights["cross"])
