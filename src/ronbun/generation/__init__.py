"""Decoding shared by both papers, all KV-cached: greedy and beam search for the Transformer (§6.1: beam 4,
GNMT length penalty α = 0.6, max length = input + 50, early termination) and greedy / temperature / top-k /
top-p sampling for GPT-1.

Usage::

    from ronbun.generation import translate, generate
    results = translate(model.eval(), src)            # §6.1 settings; results[i].tokens, results[i].score
    ids = generate(gpt.eval(), prompt, 20, top_k=40, seed=0)

The search functions drive any :class:`StepFn` (``start`` / ``step`` / ``reorder``), so they never know which
model they decode, and this package imports no model: :func:`translate` and :func:`generate` ask the model for
its own step function (``model.step_fn(...)``, described by the protocols :class:`EncoderDecoderModel` and
:class:`LanguageModel`); the two papers' adapters live in :mod:`ronbun.models.decoding`.
"""

from .protocols import EncoderDecoderModel, EncoderDecoderStepFn, LanguageModel, StepFn
from .sampling import filter_log_probs, generate, sample
from .search import (
    SEARCH_PRESETS,
    EarlyStopping,
    Hypothesis,
    LengthPenalty,
    SearchResult,
    TraceCandidate,
    TraceStep,
    beam_search,
    format_trace,
    greedy_search,
    length_penalty,
    translate,
)

__all__ = [
    "SEARCH_PRESETS",
    "EarlyStopping",
    "EncoderDecoderModel",
    "EncoderDecoderStepFn",
    "Hypothesis",
    "LanguageModel",
    "LengthPenalty",
    "SearchResult",
    "StepFn",
    "TraceCandidate",
    "TraceStep",
    "beam_search",
    "filter_log_probs",
    "format_trace",
    "generate",
    "greedy_search",
    "length_penalty",
    "sample",
    "translate",
]
