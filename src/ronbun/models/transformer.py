"""The encoder-decoder Transformer of "Attention Is All You Need" (Vaswani et al., 2017), Figure 1 / §3.

    src ids ─► InputEmbedding ─► encoder LayerStack (N × [self-attn, FFN]) ─► memory
    tgt ids ─► InputEmbedding ─► decoder LayerStack (N × [masked self-attn, cross-attn, FFN]) ─► x @ E^T

Usage::

    from ronbun import Transformer, TransformerConfig
    model = Transformer(TransformerConfig.preset("base", vocab_size=37000))
    logits = model(src_ids, tgt_in_ids)  # (B, T_tgt, V)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ..nn.embeddings import TokenEmbedding
from ..nn.masks import padding_mask
from ..nn.state import DecoderState
from .config import TransformerConfig, embedding_init_std
from .decoding import EncoderDecoderAdapter
from .stack import (
    InputEmbedding,
    InputError,
    LayerStack,
    LayerWeights,
    OutputProjection,
    check_ids,
    init_weights,
    make_positions,
)


@dataclass
class AttentionMaps:
    """Attention weights of every layer and head, for visualisation: lists over layers of
    ``encoder (B, h, S, S)``, ``decoder (B, h, T, T)``, ``cross (B, h, T, S)``."""

    encoder: list[Tensor]
    decoder: list[Tensor]
    cross: list[Tensor]


class Transformer(OutputProjection):
    """§3.1 encoder-decoder stacks with §3.4 shared embeddings and the tied pre-softmax projection."""

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.config = c = config
        tgt_tokens = TokenEmbedding(c.vocab_size, c.d_model, padding_idx=c.pad_id, scale=c.scale_embedding)
        src_tokens = (
            tgt_tokens
            if c.tie_embeddings == "all"
            else TokenEmbedding(c.source_vocab_size, c.d_model, padding_idx=c.pad_id, scale=c.scale_embedding)
        )
        positions = (c.positional, c.max_positions, c.d_model, c.sinusoid_layout)
        self.src_embed = InputEmbedding(src_tokens, make_positions(*positions), c.dropout)
        self.tgt_embed = InputEmbedding(tgt_tokens, make_positions(*positions), c.dropout)
        self.encoder = LayerStack(c, c.n_encoder_layers, cross_attention=False, causal=False)
        self.decoder = LayerStack(c, c.n_decoder_layers, cross_attention=True, causal=True)
        # pre-softmax linear (§3.4): tied to the target embedding unless tie_embeddings == "none"
        self.output_proj = (
            None if c.tie_embeddings != "none" else nn.Linear(c.d_model, c.vocab_size, bias=False)
        )
        if c.final_logits_bias:
            self.register_buffer("final_logits_bias", torch.zeros(c.vocab_size))
        else:
            self.final_logits_bias = None
        init_weights(self, c, embedding_init_std(c))

    # -- the three steps of Figure 1 -----------------------------------------------------------------------
    def encode(self, src: Tensor, need_weights: bool = False) -> tuple[Tensor, Tensor, LayerWeights]:
        """``src (B, S)`` → memory ``(B, S, d_model)``, source keep-mask ``(B, 1, 1, S)`` and weights."""
        c = self.config
        check_ids(src, "src", c.source_vocab_size, c.max_positions)
        src_keep = padding_mask(src, c.pad_id)  # (B, 1, 1, S)
        empty = ~src_keep.flatten(1).any(dim=1)
        if not torch.compiler.is_compiling() and bool(empty.any()):
            rows = empty.nonzero().flatten().tolist()
            raise InputError(
                f"source row(s) {rows} contain only padding (pad_id={c.pad_id}); nothing to attend to"
            )
        x = self.src_embed(src)  # (B, S, d_model)
        memory, weights = self.encoder(x, key_keep=src_keep, need_weights=need_weights)
        return memory, src_keep, weights

    def decode(
        self,
        tgt_in: Tensor,
        memory: Tensor | None,
        memory_mask: Tensor | None,
        state: DecoderState | None = None,
        need_weights: bool = False,
    ) -> tuple[Tensor, LayerWeights]:
        """``tgt_in (B, T)`` (shifted right: BOS y_1 … y_{T-1}) → hidden states ``(B, T, d_model)``.

        With ``state`` (incremental decoding) only the new tokens are given; their positions continue
        from ``state.position`` and keys/values of earlier steps come from the cache.
        """
        c = self.config
        offset = state.position if state is not None else 0
        check_ids(tgt_in, "tgt", c.vocab_size, c.max_positions, offset)
        x = self.tgt_embed(tgt_in, offset)  # (B, T, d_model)
        return self.decoder(x, memory=memory, memory_mask=memory_mask, state=state, need_weights=need_weights)

    def output_layer(self) -> tuple[Tensor, Tensor | None]:
        """The pre-softmax linear transformation (§3.4) as ``(weight (V, d_model), bias (V,) or None)``:
        the target embedding matrix when tied, and Marian's ``final_logits_bias`` buffer when present."""
        weight = self.output_proj.weight if self.output_proj is not None else self.tgt_embed.tokens.weight
        return weight, self.final_logits_bias

    def forward(self, src: Tensor, tgt_in: Tensor, *, return_hidden: bool = False) -> Tensor:
        """Teacher-forced training forward: ``src (B, S)``, ``tgt_in (B, T)`` → logits ``(B, T, V)``.

        ``return_hidden=True`` stops before the projection and returns the decoder output ``(B, T, d_model)``,
        for a loss that fuses the projection (:func:`ronbun.training.losses.projected_label_smoothed_nll`)."""
        memory, src_keep, _ = self.encode(src)
        hidden, _ = self.decode(tgt_in, memory, src_keep)
        return hidden if return_hidden else self.project(hidden)

    # -- incremental decoding ------------------------------------------------------------------------------
    def start_state(self, memory: Tensor, memory_mask: Tensor) -> DecoderState:
        """A fresh decoding state; the cross-attention keys/values are computed here, once per source."""
        state = DecoderState.empty(len(self.decoder.layers), cross=True)
        state.memory_mask = memory_mask
        for layer, cache in zip(self.decoder.layers, state.cross_kv, strict=True):
            assert layer.cross_attn is not None
            cache.append(*layer.cross_attn._project_kv(memory))
        return state

    def decode_step(self, tokens: Tensor, state: DecoderState) -> Tensor:
        """Feed new target tokens ``(B, T_new)`` (usually ``T_new = 1``) → logits ``(B, T_new, V)``;
        updates ``state`` in place."""
        hidden, _ = self.decode(tokens, None, state.memory_mask, state)
        return self.project(hidden)

    def step_fn(self, src: Tensor, banned_ids: Iterable[int] | None = None) -> EncoderDecoderAdapter:
        """This model as the :class:`~ronbun.generation.StepFn` that :func:`ronbun.generation.translate`
        searches: ``src (B, S)`` is encoded once (:class:`~ronbun.models.decoding.EncoderDecoderAdapter`)."""
        return EncoderDecoderAdapter(self, src, banned_ids)

    # -- inspection ----------------------------------------------------------------------------------------
    @torch.no_grad()
    def attention_maps(self, src: Tensor, tgt_in: Tensor) -> AttentionMaps:
        """All attention weights for one teacher-forced pass (computed on the weights-returning path)."""
        memory, src_keep, enc_w = self.encode(src, need_weights=True)
        _, dec_w = self.decode(tgt_in, memory, src_keep, need_weights=True)
        return AttentionMaps(
            encoder=[w[0] for w in enc_w if w[0] is not None],
            decoder=[w[0] for w in dec_w if w[0] is not None],
            cross=[w[1] for w in dec_w if w[1] is not None],
        )

    def num_parameters(self) -> int:
        """Trainable parameters, counting tied matrices once (as Table 3 does)."""
        return sum(p.numel() for p in self.parameters())
