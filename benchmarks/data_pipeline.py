"""Data pipeline vs model step: ``token_budget_batches`` + ``collate`` must not be what training waits for.

The built-in corpus (``ronbun.data.synthetic``) is tokenised once with a byte-level BPE (untimed: the
``TokenizedCache`` makes that a one-off), then one whole epoch is timed: batching by token budget
(``max_tokens`` = 64 × 32 = 2,048 per side, the training benchmark's batch) plus collating every batch into
padded tensors.  The per-batch cost is compared with the ``small`` model's fp32 training step on a batch of
that budget (ronbun, same thread count).
"""

from __future__ import annotations

import time

import numpy as np

from ronbun.data.batching import collate, token_budget_batches
from ronbun.data.synthetic import generate_corpus
from ronbun.text.bpe import BOS_ID, EOS_ID, PAD_ID, TextTokenizer

from .common import Row, interleaved
from .models import mt_batch, mt_pair
from .steps import mt_train_step

DATA_TARGET = 20.0


def corpus_ids(n_train: int, vocab: int = 8000) -> tuple[list[np.ndarray], list[np.ndarray]]:
    corpus = generate_corpus(n_train, 10, 10)
    src, tgt = corpus["train"]
    tok = TextTokenizer.train([*src, *tgt], vocab)
    as_arrays = lambda ids: [np.asarray(x, dtype=np.int64) for x in ids]  # noqa: E731
    return as_arrays(tok.encode_batch(src)), as_arrays(tok.encode_batch(tgt))


def epoch(src_ids: list[np.ndarray], tgt_ids: list[np.ndarray], max_tokens: int, seed: int = 0) -> int:
    """Batch and collate one epoch, as ``TranslationTask`` does; returns the number of batches."""
    src_len = np.array([len(x) for x in src_ids])
    tgt_len = np.array([len(x) + 1 for x in tgt_ids])
    batches = token_budget_batches(src_len, tgt_len, max_tokens, epoch=seed, seed=0)
    for b in batches:
        collate([src_ids[i] for i in b], [tgt_ids[i] for i in b], PAD_ID, BOS_ID, EOS_ID)
    return len(batches)


def data_pipeline(
    *,
    n_train: int = 40_000,
    max_tokens: int = 2048,
    preset: str = "small",
    step_ms: float | None = None,
    reps: int = 3,
) -> list[Row]:
    src_ids, tgt_ids = corpus_ids(n_train)
    n_batches = epoch(src_ids, tgt_ids, max_tokens)
    times = []
    for r in range(reps):
        t0 = time.perf_counter()
        epoch(src_ids, tgt_ids, max_tokens, seed=r + 1)
        times.append(time.perf_counter() - t0)
    per_batch = sorted(times)[len(times) // 2] / n_batches
    if step_ms is None:
        pair = mt_pair(preset)
        step = mt_train_step("ours", pair.ours, mt_batch(max_tokens // 32, 32, 32))
        step_ms = interleaved({"ours": step}, warmup=1, reps=3).median["ours"] * 1e3
    return [
        Row(
            "data pipeline",
            f"builtin corpus {n_train:,} pairs, max_tokens {max_tokens}, batch+collate",
            per_batch * 1e3,
            f"ronbun {preset} fp32 train step",
            step_ms,
            step_ms / (per_batch * 1e3),
            DATA_TARGET,
            extra={"batches/epoch": n_batches},
        )
    ]
