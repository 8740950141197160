"""The two papers' models seen one decoding step at a time: each becomes a
:class:`ronbun.generation.StepFn` (``start`` / ``step`` / ``reorder``), the only thing the search algorithms
drive.

Greedy search, beam search and sampling never look inside a model.  They see rows (``N`` hypotheses, e.g.
``batch × beam``), ask for the next-token log-probabilities of every row and tell the model which rows to keep
when beams are re-ranked.  The model-specific half lives here: :class:`EncoderDecoderAdapter` (the
Transformer: encode once, then decode incrementally with the KV cache) and :class:`LMAdapter` (GPT-1: feed the
prompt once, then one token per step).  ``Transformer.step_fn(src)`` and ``GPT.step_fn(prompt)`` build them,
which is how :func:`ronbun.generation.translate` and :func:`ronbun.generation.generate` reach them without
importing a model.

Usage::

    from ronbun.generation import beam_search
    from ronbun.models.decoding import EncoderDecoderAdapter
    adapter = EncoderDecoderAdapter(model.eval(), src)   # = model.step_fn(src)
    results = beam_search(adapter, adapter.max_lengths(), eos_id=adapter.eos_id, beam=4)
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn

if TYPE_CHECKING:  # annotations only: gpt.py and transformer.py import this module
    from .decoder_only import GPT
    from .transformer import Transformer

__all__ = ["EncoderDecoderAdapter", "LMAdapter", "source_lengths"]


def _warn_if_training(model: nn.Module) -> None:
    if model.training:
        warnings.warn(
            "decoding a model in training mode: dropout is active and outputs are random; call model.eval()",
            stacklevel=3,
        )


def _log_probs(logits: Tensor, banned: Tensor | None) -> Tensor:
    """Last position's logits ``(N, T, V)`` → log-probabilities ``(N, V)`` float32; banned ids get ``-inf``
    after normalisation (not renormalised, as fairseq and Hugging Face do it)."""
    logp = torch.log_softmax(logits[:, -1].float(), dim=-1)  # (N, V)
    if banned is not None:
        logp.index_fill_(1, banned, float("-inf"))
    return logp


def source_lengths(src: Tensor, pad_id: int) -> Tensor:
    """Number of non-padding tokens per source row, ``(B,)`` int64 (everything the tokenizer produced,
    including an end-of-sentence token if it appends one)."""
    return (src != pad_id).sum(dim=1)


class EncoderDecoderAdapter:
    """The Transformer (Figure 1) as a :class:`~ronbun.generation.StepFn`: the encoder runs once per source
    sentence; the decoder then consumes ``<bos>`` and one target token per step, reusing its self-attention
    keys/values and the cross-attention keys/values of the memory (computed once, in ``model.start_state``).

    ``banned_ids`` are never generated (their log-probability is set to ``-inf``); the default bans the
    padding id, which is not a word (fairseq and Hugging Face Marian do the same).  With Marian-imported
    models ``bos_id == pad_id``, so the decoder-start token is banned too, as in Hugging Face.
    """

    def __init__(self, model: Transformer, src: Tensor, banned_ids: Iterable[int] | None = None) -> None:
        _warn_if_training(model)
        self.model = model
        config = model.config
        self.bos_id, self.eos_id, self.pad_id = config.bos_id, config.eos_id, config.pad_id
        self.max_positions = config.max_positions
        self.src_lengths = source_lengths(src, config.pad_id)  # (B,)
        ids = sorted({config.pad_id} if banned_ids is None else set(banned_ids))
        if self.eos_id in ids:
            raise ValueError(f"banned_ids must not contain eos_id={self.eos_id}: no hypothesis could end")
        self.banned = torch.tensor(ids, dtype=torch.long, device=src.device) if ids else None
        with torch.no_grad():
            memory, src_keep, _ = model.encode(src)  # (B, S, d_model), (B, 1, 1, S)
            self.state = model.start_state(memory, src_keep)
        self.batch_size = src.shape[0]

    @torch.no_grad()
    def start(self) -> Tensor:
        bos = torch.full((self.batch_size, 1), self.bos_id, dtype=torch.long, device=self.src_lengths.device)
        return self.step(bos)

    @torch.no_grad()
    def step(self, tokens: Tensor) -> Tensor:
        return _log_probs(self.model.decode_step(tokens, self.state), self.banned)  # (N, V)

    def reorder(self, index: Tensor) -> None:
        self.state.reorder(index)

    def max_lengths(self, a: float = 1.0, b: int = 50) -> Tensor:
        """§6.1 "maximum output length … input length + 50": ``floor(a · src_len + b)`` output tokens per
        sentence (not counting ``<eos>``), capped so that every decoder position fits the positional table
        (``max_positions - 1``: the ``<eos>`` step needs one more decoder input)."""
        limit = torch.floor(a * self.src_lengths.double() + b).long()
        return limit.clamp(max=self.max_positions - 1)


class LMAdapter:
    """GPT-1 (Eq. 2) as a :class:`~ronbun.generation.StepFn`: the prompt ``(B, P)`` is fed once (one forward
    pass that fills the KV cache), then one token per step.  Prompts share one length: GPT-1 has learned
    absolute positions and no padding token, so unequal prompts would need left-padding the model was never
    trained with."""

    def __init__(self, model: GPT, prompt: Tensor, banned_ids: Iterable[int] | None = None) -> None:
        _warn_if_training(model)
        if not isinstance(prompt, Tensor) or prompt.dim() != 2 or prompt.shape[1] == 0:
            raise ValueError("prompt must be a non-empty (batch, length) tensor of token ids")
        self.model = model
        self.prompt = prompt
        self.n_ctx = model.config.n_ctx
        ids = sorted(set(banned_ids or ()))
        self.banned = torch.tensor(ids, dtype=torch.long, device=prompt.device) if ids else None
        self.state = model.start_state()

    @torch.no_grad()
    def start(self) -> Tensor:
        return _log_probs(self.model.decode_step(self.prompt, self.state), self.banned)  # (B, V)

    @torch.no_grad()
    def step(self, tokens: Tensor) -> Tensor:
        return _log_probs(self.model.decode_step(tokens, self.state), self.banned)  # (N, V)

    def reorder(self, index: Tensor) -> None:
        self.state.reorder(index)
