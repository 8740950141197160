"""GPT-1 unsupervised pre-training (§3.1, §4.1) as a :class:`~ronbun.training.loop.Task`.

Objective (Eq. 1): maximise ``L1(U) = Σ_i log P(u_i | u_{i-k}, …, u_{i-1}; Θ)`` over a corpus ``U`` with a
context window of ``k = n_ctx`` tokens.  §4.1: "minibatches of 64 randomly sampled, contiguous sequences of
512 tokens", Adam with max lr 2.5e-4 (linear warm-up over 2,000 updates, then cosine annealing to 0), decoupled
weight decay 0.01 on non-bias, non-gain weights.

Data flow: text → BPE → one token stream (memory-mapped ``.npy``, :mod:`ronbun.gpt.corpus`) → windows of
``n_ctx + 1`` tokens starting at uniformly random offsets (input = the first ``n_ctx``, target = the last
``n_ctx``) → next-token NLL (:func:`ronbun.training.losses.nll`, Eq. 1 per token).

An *epoch* here is ``windows_per_epoch`` windows (default ``⌈len(train stream) / n_ctx⌉``: one pass over the
tokens in expectation).  Its windows depend only on ``(seed, epoch)``, so a resumed run sees exactly the
windows it would have seen.  Validation: token-level perplexity on the held-out split, read as consecutive
windows of ``n_ctx + 1`` tokens with stride ``n_ctx`` (every token after the first predicted exactly once;
the first tokens of each window see a shorter context), or an evenly spaced sample of those windows
(``eval_windows``), never just the beginning of the split.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import Tensor, nn

from ..models.decoder_only import GPT, GPTConfig
from ..settings import from_mapping, setting
from ..training.losses import nll, output_layer_nll
from .corpus import (
    CorpusConfig,
    TokenStream,
    build_token_stream,
    corpus_key,
    load_corpus,
    tokenizer_spec,
)

__all__ = [
    "PRETRAIN_TRAINER_DEFAULTS",
    "LMDataConfig",
    "LMTask",
    "default_warmup",
    "evaluate_stream",
    "stream_windows",
    "window_starts",
]

#: GPT-1 §4.1 optimisation settings (``TrainerConfig`` keys).  OpenAI's code: Adam b1 0.9, b2 0.999,
#: e 1e-8, l2 0.01 on matrices only (``vector_l2=False``), gradient-norm clipping at 1.
PRETRAIN_TRAINER_DEFAULTS: dict[str, Any] = {
    "schedule": "cosine",
    "lr": 2.5e-4,
    "betas": (0.9, 0.999),
    "eps": 1e-8,
    "weight_decay": 0.01,
    "clip_norm": 1.0,
    "out_dir": "runs/gpt-pretrain",
}


def default_warmup(max_steps: int, paper: int = 2000) -> int:
    """The paper's 2,000 warm-up updates, capped at 10% of a short run (so a 500-step demo still anneals)."""
    return max(1, min(paper, max_steps // 10))


@dataclass
class LMDataConfig(CorpusConfig):
    """Corpus (see :class:`~ronbun.gpt.corpus.CorpusConfig`), tokenizer and batching of pre-training."""

    tokenizer: Literal["bpe", "gpt1"] = setting(
        "bpe",
        "bpe: train byte-level BPE on the corpus; gpt1: GPT-1's original 40,000-merge BPE (needs --bpe-dir)",
        paper="§4.1",
    )
    bpe_dir: str | None = setting(None, "folder with encoder_bpe_40000.json and vocab_40000.bpe (gpt1)")
    pre_tokenizer: Literal["auto", "spacy", "basic"] = setting(
        "auto", "GPT-1 BPE pre-tokenizer: spacy (the original), basic (Hugging Face's fallback) or auto"
    )
    vocab_size: int = setting(8000, "byte-level BPE vocabulary size (GPT-1: 40,000 merges, 40,478 tokens)")
    lowercase: bool = setting(
        False, "byte-level BPE: lower-case all text (saved in the tokenizer, applied by every later use)"
    )
    batch_size: int = setting(
        64, "windows per micro-batch (paper: 64 per update; reach it with --accum-steps)", paper="§4.1"
    )
    windows_per_epoch: int | None = setting(None, "windows that make one 'epoch' (default: tokens / n_ctx)")
    eval_windows: int | None = setting(
        200, "validation windows, evenly spaced over the validation split (0 = all: every token)"
    )
    cache_dir: str | None = setting(None, "token-stream cache (default <out>/cache)", cli=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LMDataConfig:
        return from_mapping(cls, data, "data")

    def corpus_config(self) -> CorpusConfig:
        names = {f.name for f in dataclasses.fields(CorpusConfig)}
        return CorpusConfig(**{k: v for k, v in dataclasses.asdict(self).items() if k in names})


def window_starts(
    n_tokens: int, n_ctx: int, n_windows: int, batch_size: int, seed: int, epoch: int
) -> np.ndarray:
    """Start offsets of one epoch's windows, ``(n_batches, batch_size)`` int64, uniform over
    ``[0, n_tokens - n_ctx - 1]`` and a function of ``(seed, epoch)`` only."""
    if n_tokens < n_ctx + 1:
        raise ValueError(
            f"the training stream has {n_tokens} tokens, fewer than one window of n_ctx + 1 = {n_ctx + 1}"
        )
    n_batches = max(1, n_windows // batch_size)
    rng = np.random.default_rng([seed, epoch, 0x6770])
    return rng.integers(0, n_tokens - n_ctx, size=(n_batches, batch_size), dtype=np.int64)


def stream_windows(
    n_tokens: int, n_ctx: int, max_windows: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``(starts, skips)`` of the evaluation windows of a stream of ``n_tokens``: windows of ``length + 1``
    tokens (``length = min(n_ctx, n_tokens - 1)``) with stride ``length``, then, if tokens are left over, one
    last window ending at the stream's end whose first ``skip`` targets were already scored.  So every token
    after the first is predicted exactly once.  ``max_windows``: only that many of them, evenly spaced from
    the first to the last (a held-out file made of several sources is sampled in every source)."""
    if n_tokens < 2:  # nothing to predict
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    length = min(n_ctx, n_tokens - 1)
    starts = np.arange(0, n_tokens - length, length, dtype=np.int64)
    skips = np.zeros_like(starts)
    covered = int(starts[-1]) + length  # the last position predicted by the regular windows
    if covered < n_tokens - 1:
        tail = n_tokens - 1 - length
        starts, skips = np.append(starts, tail), np.append(skips, covered - tail)
    if max_windows and max_windows < len(starts):
        keep = np.unique(np.linspace(0, len(starts) - 1, max_windows).round().astype(np.int64))
        starts, skips = starts[keep], skips[keep]
    return starts, skips


@torch.no_grad()
def evaluate_stream(
    model: nn.Module, stream: TokenStream, n_ctx: int, *, batch_size: int = 16, max_windows: int | None = None
) -> dict[str, float]:
    """Token-level NLL (Eq. 1) and perplexity of ``stream`` over the windows of :func:`stream_windows` (all of
    them: every token after the first, once; ``max_windows``: an evenly spaced sample)."""
    if len(stream) < 2:
        return {}
    length = min(n_ctx, len(stream) - 1)
    starts, skips = stream_windows(len(stream), n_ctx, max_windows)
    device = next(model.parameters()).device
    total, count = 0.0, 0
    for i in range(0, len(starts), batch_size):
        w = torch.from_numpy(stream.windows(starts[i : i + batch_size], length + 1)).to(device)  # (B, T+1)
        targets = w[:, 1:].clone()  # (B, T)
        skip = torch.from_numpy(skips[i : i + batch_size]).to(device)[:, None]  # (B, 1)
        targets[torch.arange(length, device=device)[None, :] < skip] = -100  # already predicted earlier
        loss, n = nll(model(w[:, :-1]), targets)
        total += float(loss)
        count += int(n)
    mean = total / max(count, 1)
    return {"valid_loss": mean, "valid_ppl": math.exp(min(mean, 50.0)), "valid_tokens": float(count)}


def _lazy_splits(corpus: CorpusConfig) -> Callable[[str], list[str]]:
    """``lines(split)``: the corpus's ``split`` as text lines, read from disk on first use only (a saved
    tokenizer and a cached token stream never need the text, which is freed with ``lines``)."""
    raw: dict[str, list[str]] | None = None

    def lines(split: str) -> list[str]:
        nonlocal raw
        if raw is None:
            raw = load_corpus(corpus)
        if split not in raw:
            raise ValueError(f"corpus {corpus.name!r} has no {split!r} split (has {', '.join(raw)})")
        return raw[split]

    return lines


class LMTask:
    """GPT-1 pre-training for :class:`ronbun.training.loop.Trainer` (see the module docstring).

    Args:
        data: corpus, tokenizer and batching settings.
        model_config: the model (default: ``GPTConfig.preset(preset, vocab_size=<tokenizer>, **overrides)``).
        out_dir: run directory; the tokenizer (``tokenizer.json``) and the token cache live there.
        init: a GPT checkpoint to continue pre-training from (its tokenizer is used).
    """

    def __init__(
        self,
        data: LMDataConfig,
        model_config: GPTConfig | None = None,
        *,
        out_dir: str | Path,
        seed: int = 0,
        preset: str = "tiny",
        model_overrides: dict[str, Any] | None = None,
        tokenizer: Any = None,
        init: str | Path | None = None,
        log=print,
    ) -> None:
        self.data, self.seed, self.log = data, seed, log
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        corpus = data.corpus_config()
        lines = _lazy_splits(corpus)
        self.bpe_dir: Path | None = None
        base: GPT | None = None
        if init is not None:
            base, tokenizer = self._continue_from(init)
        self.tokenizer = self._prepare_tokenizer(tokenizer, lines)
        self._read_token_streams(corpus_key(corpus), lines)
        self.model_config = self._checked_model_config(model_config, base, preset, model_overrides)
        self.n_ctx = self.model_config.n_ctx
        if len(self.train_stream) < self.n_ctx + 1:
            raise ValueError(
                f"the training split has {len(self.train_stream)} tokens, fewer than one window of "
                f"n_ctx + 1 = {self.n_ctx + 1}; use a bigger corpus or a smaller n_ctx"
            )
        self.windows_per_epoch = data.windows_per_epoch or math.ceil(len(self.train_stream) / self.n_ctx)
        torch.manual_seed(seed)
        self.model: nn.Module = GPT(self.model_config)
        if base is not None:
            self.model.load_state_dict(base.state_dict())
        self._epoch_cache: tuple[int, list[np.ndarray]] | None = None

    # -- the steps of __init__ -----------------------------------------------------------------------------
    def _continue_from(self, init: str | Path) -> tuple[GPT, Any]:
        """The language model of a GPT checkpoint (a fine-tuned one: its body) and the checkpoint's tokenizer."""
        from ..training.checkpoint import load_checkpoint

        ckpt = load_checkpoint(init, expect="gpt")
        base = ckpt.model if ckpt.head is None else ckpt.model.body()  # type: ignore[assignment,operator]
        self.bpe_dir = ckpt.gpt1_bpe_dir
        return base, ckpt.tokenizer  # type: ignore[return-value]

    def _prepare_tokenizer(self, tokenizer: Any, lines: Callable[[str], list[str]]) -> Any:
        """The tokenizer given, else the one ``data.tokenizer`` names: GPT-1's released BPE (``gpt1``), or a
        byte-level BPE (``bpe``) trained on the training split once and kept in the run directory."""
        data, log = self.data, self.log
        self.tokenizer_file: Path | None = None
        tok_path = self.out_dir / "tokenizer.json"
        if tokenizer is None and data.tokenizer == "gpt1":
            from ..text.gpt1_bpe import GPT1Tokenizer

            if not data.bpe_dir:
                raise ValueError(
                    "--tokenizer gpt1 needs --bpe-dir (the folder with encoder_bpe_40000.json and vocab_40000.bpe)"
                )
            self.bpe_dir = Path(data.bpe_dir)
            tokenizer = GPT1Tokenizer.from_dir(self.bpe_dir, data.pre_tokenizer)  # type: ignore[arg-type]
            log(f"GPT-1 BPE tokenizer ({tokenizer.vocab_size:,} tokens, {tokenizer.backend} pre-tokenizer)")
        elif tokenizer is None and data.tokenizer == "bpe":
            from ..text.bpe import TextTokenizer

            if tok_path.is_file():
                tokenizer = TextTokenizer.load(tok_path)
            else:
                tokenizer = TextTokenizer.train(lines("train"), data.vocab_size, lowercase=data.lowercase)
                tokenizer.save(tok_path)
                log(f"trained a byte-level BPE vocabulary of {tokenizer.vocab_size:,} tokens → {tok_path}")
            self.tokenizer_file = tok_path
        elif tokenizer is None:
            raise ValueError(f"unknown tokenizer {data.tokenizer!r}; choose bpe or gpt1")
        elif hasattr(tokenizer, "save"):
            tokenizer.save(tok_path)
            self.tokenizer_file = tok_path
        return tokenizer

    def _read_token_streams(self, key: str, lines: Callable[[str], list[str]]) -> None:
        """The training and (if the corpus has one) validation token streams, from the cache when it holds
        them for this corpus and tokenizer (``key``)."""
        cache = Path(self.data.cache_dir) if self.data.cache_dir else self.out_dir / "cache"
        log = self.log
        self.train_stream = build_token_stream(
            cache, "train", key, self.tokenizer, lambda: lines("train"), log=log
        )
        try:
            self.valid_stream: TokenStream | None = build_token_stream(
                cache, "valid", key, self.tokenizer, lambda: lines("valid"), log=log
            )
        except ValueError:
            self.valid_stream = None
        if self.train_stream.from_cache:
            log(
                f"token stream from cache: {len(self.train_stream):,} training tokens ({self.train_stream.path})"
            )

    def _checked_model_config(
        self,
        model_config: GPTConfig | None,
        base: GPT | None,
        preset: str,
        overrides: dict[str, Any] | None,
    ) -> GPTConfig:
        """The model given, else the continued checkpoint's, else the preset sized to the tokenizer; its
        vocabulary must hold the tokenizer's."""
        vocab_size = self.tokenizer.vocab_size
        if model_config is None:
            model_config = (
                dataclasses.replace(base.config)
                if base is not None
                else GPTConfig.preset(preset, vocab_size=vocab_size, **(overrides or {}))
            )
        if vocab_size > model_config.vocab_size:
            raise ValueError(
                f"vocabulary mismatch: the tokenizer has {vocab_size} tokens but the model only "
                f"{model_config.vocab_size} (vocab_size)"
            )
        return model_config

    # -- Task protocol -------------------------------------------------------------------------------------
    def epoch_batches(self, epoch: int) -> list[np.ndarray]:
        """Window start offsets, one ``(batch_size,)`` array per micro-batch (see :func:`window_starts`)."""
        if self._epoch_cache is None or self._epoch_cache[0] != epoch:
            starts = window_starts(
                len(self.train_stream),
                self.n_ctx,
                self.windows_per_epoch,
                self.data.batch_size,
                self.seed,
                epoch,
            )
            self._epoch_cache = (epoch, list(starts))
        return self._epoch_cache[1]

    def collate(self, batch: np.ndarray, rank: int = 0, world: int = 1) -> dict[str, Tensor]:
        rows = batch[rank::world] if world > 1 else batch
        w = torch.from_numpy(self.train_stream.windows(rows, self.n_ctx + 1))  # (B, n_ctx + 1)
        inputs, targets = w[:, :-1], w[:, 1:]  # (B, n_ctx) each
        return {"inputs": inputs, "targets": targets, "n_tokens": torch.tensor(targets.numel())}

    def loss(self, model: nn.Module, t: dict[str, Tensor]) -> tuple[Tensor, Tensor]:
        """Eq. 1: summed next-token NLL of the window and its token count."""
        device = next(model.parameters()).device  # a no-op on CPU / when the trainer already moved them
        hidden = model(t["inputs"].to(device), return_hidden=True)  # (B, T, d_model)
        return output_layer_nll(model, hidden, t["targets"].to(device))  # (B, T) targets

    @torch.no_grad()
    def evaluate(self, model: nn.Module) -> dict[str, float]:
        if self.valid_stream is None:
            return {}
        return evaluate_stream(
            model,
            self.valid_stream,
            self.n_ctx,
            batch_size=max(1, min(self.data.batch_size, 32)),
            max_windows=self.data.eval_windows or None,
        )

    def describe(self) -> dict[str, Any]:
        return {
            "task": "gpt_pretrain",
            "data": dataclasses.asdict(self.data),
            "tokenizer": tokenizer_spec(self.tokenizer, self.bpe_dir),
            "seed": self.seed,
            "train_tokens": len(self.train_stream),
            "valid_tokens": len(self.valid_stream) if self.valid_stream is not None else 0,
            "windows_per_epoch": self.windows_per_epoch,
            "n_ctx": self.n_ctx,
        }

    def extra_checkpoint_files(self) -> dict[str, Path]:
        """Files every checkpoint should carry besides ``tokenizer.json`` (GPT-1's BPE files), for the
        Trainer hook described in :mod:`ronbun.gpt` (until it exists, ``task_config.json`` records their folder)."""
        if self.bpe_dir is None:
            return {}
        from ..text.gpt1_bpe import ENCODER_FILENAME, MERGES_FILENAME

        return {name: self.bpe_dir / name for name in (ENCODER_FILENAME, MERGES_FILENAME)}
