"""Decoding shared by both papers, all KV-cached: greedy and beam search for the Transformer (§6.1: beam 4,
GNMT length penalty α = 0.6, max length = input + 50, early termination) and greedy / temperature / top-k /
top-p sampling for GPT-1.

Usage::

    from ronbun.generation import translate, generate
    results = translate(model.eval(), src)            # §6.1 settings; results[i].tokens, results[i].score
    ids = generate(gpt.eval(), prompt, 20, top_k=40, seed=0)

The search functions drive any :class:`StepFn` (``start`` / ``step`` / ``reorder``), so they never know which
model they decode; :class:`EncoderDecoderAdapter` and :class:`LMAdapter` wrap the two papers' models.
"""

from .adapters import EncoderDecoderAdapter, LMAdapter, StepFn, source_lengths
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
    "EncoderDecoderAdapter",
    "Hypothesis",
    "LMAdapter",
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
    "source_lengths",
    "translate",
]
