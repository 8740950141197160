"""Pieces shared by the encoder, the decoder and GPT-1: input embedding (§3.4 + §3.5 + §5.4 dropout), a
stack of :class:`~ronbun.nn.TransformerLayer` (§3.1), input checks and weight initialisation."""

from __future__ import annotations

import abc

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..nn.attention import MultiHeadAttention
from ..nn.embeddings import LearnedPositionalEmbedding, SinusoidalPositionalEncoding, TokenEmbedding
from ..nn.layers import TransformerLayer
from ..nn.masks import self_attention_mask
from ..nn.state import DecoderState
from .config import BlockConfig, mask_fill_value

LayerWeights = list[tuple[Tensor | None, Tensor | None]]

#: :class:`~ronbun.nn.TransformerLayer` options that a :class:`~ronbun.models.config.BlockConfig` field of
#: the same name sets as it is.
LAYER_OPTIONS: tuple[str, ...] = (
    "dropout",
    "attention_dropout",
    "activation_dropout",
    "activation",
    "norm_position",
    "layer_norm_eps",
    "attention_impl",
)


class InputError(ValueError):
    """Ids a model cannot take (wrong dtype/shape, out of vocabulary, longer than the positional table)."""


def check_ids(ids: Tensor, name: str, vocab_size: int, max_positions: int, offset: int = 0) -> None:
    """Fail with a message naming the problem instead of an index error deep inside ``nn.Embedding``."""
    if not isinstance(ids, Tensor):
        raise InputError(f"{name} must be a torch.Tensor of token ids, got {type(ids).__name__}")
    if ids.dtype not in (torch.int64, torch.int32):
        raise InputError(f"{name} must hold integer token ids (int64), got dtype {ids.dtype}")
    if ids.dim() != 2:
        raise InputError(f"{name} must have shape (batch, length), got shape {tuple(ids.shape)}")
    if ids.shape[1] == 0:
        raise InputError(f"{name} is empty (length 0)")
    if offset + ids.shape[1] > max_positions:
        raise InputError(
            f"{name} reaches position {offset + ids.shape[1]}, longer than the positional table "
            f"(max_positions={max_positions}); truncate the input or build the model with larger max_positions"
        )
    if torch.compiler.is_compiling():  # value checks read the data (a graph break); shapes were checked
        return
    lo, hi = int(ids.min()), int(ids.max())
    if lo < 0 or hi >= vocab_size:
        bad = lo if lo < 0 else hi
        raise InputError(f"{name} contains token id {bad}, outside the vocabulary [0, {vocab_size})")


class InputEmbedding(nn.Module):
    """Token embedding (scaled by sqrt(d_model), §3.4) + positional encoding (§3.5), then dropout (§5.4)."""

    def __init__(self, tokens: nn.Embedding, positions: nn.Module, dropout: float) -> None:
        super().__init__()
        self.tokens = tokens
        self.positions = positions
        self.dropout = nn.Dropout(dropout)

    def forward(self, ids: Tensor, offset: int = 0) -> Tensor:
        x = self.tokens(ids) + self.positions(ids.shape[1], offset)  # (B, T, d_model)
        return self.dropout(x)


def make_positions(kind: str, max_positions: int, d_model: int, layout: str = "interleaved") -> nn.Module:
    if kind == "sinusoidal":
        return SinusoidalPositionalEncoding(max_positions, d_model, layout)  # type: ignore[arg-type]
    return LearnedPositionalEmbedding(max_positions, d_model)


class LayerStack(nn.Module):
    """N identical layers (§3.1), optionally followed by a final LayerNorm (needed by pre-LN only)."""

    def __init__(self, config: BlockConfig, n_layers: int, *, cross_attention: bool, causal: bool) -> None:
        super().__init__()
        self.causal = causal
        self.window = config.attention_window
        sizes = (config.d_model, config.n_heads, config.head_dim_k, config.head_dim_v, config.d_ff)
        options = {name: getattr(config, name) for name in LAYER_OPTIONS}
        mask_fill = mask_fill_value(config.mask_fill)
        self.layers = nn.ModuleList(
            TransformerLayer(*sizes, cross_attention=cross_attention, mask_fill=mask_fill, **options)
            for _ in range(n_layers)
        )
        self.final_norm = (
            nn.LayerNorm(config.d_model, config.layer_norm_eps) if config.use_final_layer_norm else None
        )

    def forward(
        self,
        x: Tensor,
        *,
        key_keep: Tensor | None = None,
        memory: Tensor | None = None,
        memory_mask: Tensor | None = None,
        state: DecoderState | None = None,
        need_weights: bool = False,
    ) -> tuple[Tensor, LayerWeights]:
        """``x (B, T, d_model)`` → ``(B, T, d_model)``; per-layer attention weights when ``need_weights``."""
        past = state.position if state is not None else 0
        t = x.shape[1]
        mask, is_causal = self_attention_mask(
            t, past + t, causal=self.causal, window=self.window, key_keep=key_keep, device=x.device
        )
        weights: LayerWeights = []
        for i, layer in enumerate(self.layers):
            x, w = layer(
                x,
                self_mask=mask,
                is_causal=is_causal,
                memory=memory,
                memory_mask=memory_mask,
                self_cache=state.self_kv[i] if state is not None else None,
                cross_cache=state.cross_kv[i] if state is not None and state.cross_kv else None,
                need_weights=need_weights,
            )
            if need_weights:
                weights.append(w)
        if self.final_norm is not None:
            x = self.final_norm(x)
        return x, weights


class OutputProjection(nn.Module, abc.ABC):
    """The pre-softmax projection shared by both papers' models: ``h W^T (+ b)`` (§3.4 of Vaswani et al.;
    Eq. 2 of GPT-1).  A subclass says which weight that is in :meth:`output_layer`.

    ``x @ W^T`` with few rows of ``x`` runs up to 2x faster on CPU BLAS against a contiguous ``W^T`` than
    against ``W`` read transposed, so in eval mode :meth:`output_transposed` keeps one such copy.  It is
    dropped on every ``train()``/``eval()`` switch (optimiser steps happen in train mode and fused optimisers
    update weights in place without bumping their version counter), and rebuilt whenever the weight is
    replaced, moved or changed in place (``data_ptr``, ``_version``)."""

    @abc.abstractmethod
    def output_layer(self) -> tuple[Tensor, Tensor | None]:
        """``(weight (V, d_model), bias (V,) or None)`` of the projection (each model names its own)."""

    def project(self, hidden: Tensor) -> Tensor:
        """``(B, T, d_model)`` → logits ``(B, T, V)``."""
        if not torch.is_grad_enabled() and "int8_output" in self.__dict__:  # an int8 inference copy
            return self.__dict__["int8_output"](hidden)
        weight, bias = self.output_layer()
        if torch.is_grad_enabled():
            return F.linear(hidden, weight, bias)
        out = hidden @ self.output_transposed(
            weight
        )  # decoding/scoring: few rows, the (d, V) layout is faster
        return out if bias is None else out.add_(bias)

    def train(self, mode: bool = True) -> OutputProjection:
        self.__dict__.pop("_transposed_output", None)
        return super().train(mode)

    def output_transposed(self, weight: Tensor) -> Tensor:
        """``weight.T`` ``(d, V)``: contiguous and cached in eval mode, a view in train mode."""
        if self.training:
            return weight.t()
        key = (weight.data_ptr(), weight._version, weight.dtype, weight.device)
        cached = self.__dict__.get("_transposed_output")
        if cached is None or cached[0] != key:
            cached = (key, weight.detach().t().contiguous())
            self.__dict__["_transposed_output"] = cached
        return cached[1]


@torch.no_grad()
def init_weights(module: nn.Module, config: BlockConfig, embedding_std: float) -> None:
    """Initialise every sub-module of ``module``.

    ``init="xavier_uniform"`` (the Transformer; as tensor2tensor and fairseq do): Xavier-uniform for every
    projection matrix, with Q, K and V initialised as separate matrices even though they are stored fused;
    zero biases; token embeddings N(0, ``embedding_std``) (d_model^-0.5, so the sqrt(d_model)-scaled
    embedding has unit variance); LayerNorm gain 1, bias 0.
    ``init="normal"`` (GPT-1 §4.1): every weight N(0, 0.02), zero biases.
    """
    for m in module.modules():
        if isinstance(m, nn.Linear):
            if config.init == "normal":
                nn.init.normal_(m.weight, std=config.init_std)
            else:
                nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, std=embedding_std)
            if m.padding_idx is not None:
                m.weight[m.padding_idx].zero_()
        elif isinstance(m, LearnedPositionalEmbedding):
            nn.init.normal_(m.weight, std=embedding_std)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
    if config.init == "xavier_uniform":
        for m in module.modules():
            if isinstance(m, MultiHeadAttention):
                fused = m.kv_proj.weight if m.cross else m.qkv_proj.weight
                sizes = (
                    [m.n_heads * m.d_k, m.n_heads * m.d_v]
                    if m.cross
                    else [m.n_heads * m.d_k] * 2 + [m.n_heads * m.d_v]
                )
                for block in fused.split(sizes, dim=0):
                    nn.init.xavier_uniform_(block)


__all__ = ["InputEmbedding", "InputError", "LayerStack", "TokenEmbedding", "check_ids", "init_weights"]
