"""GPT-1 checkpoints as objects: text in, text and log-probabilities out.

Usage::

    import ronbun
    lm = ronbun.load("runs/gpt-pretrain")                 # newest checkpoint of a run, or a checkpoint dir
    lm.generate("The dog", max_new_tokens=20, top_k=40, seed=0)
    lm.score(["The dog sees the cat.", "Cat the sees dog the."])   # total log-probabilities (Eq. 1)
    lm.generate_ids([[464, 3290]], 20, greedy=True)       # the same on token ids (no tokenizer needed)
    clf = ronbun.load("runs/gpt-sst2")                    # a fine-tuned checkpoint → TaskModel
    clf.predict(["a charming and often affecting journey"])  # [1]

:class:`LanguageModel` wraps a :class:`~ronbun.models.decoder_only.GPT` and its tokenizer; generation is KV-cached
(:func:`ronbun.generation.generate`), scoring uses :func:`ronbun.gpt.zeroshot.continuation_logprobs`.  A text's
first token is conditioned on the line-break token that separates lines in the pre-training stream.
:class:`TaskModel` (a fine-tuned checkpoint) adds :meth:`~TaskModel.predict` and :meth:`~TaskModel.evaluate`.

A checkpoint without a tokenizer (weights only, e.g. ``ronbun convert`` of a Hugging Face folder that held no
vocabulary files) is legitimate: ``ronbun.load`` gives a *bare* :class:`LanguageModel` (``tokenizer is None``)
whose token-id methods (:meth:`~LanguageModel.generate_ids`, :meth:`~LanguageModel.token_logprobs_ids`,
:meth:`~LanguageModel.score_ids`) work, while every text method raises
:class:`~ronbun.training.checkpoint.MissingTokenizerError` saying how to add one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypedDict, Unpack

import numpy as np
import torch

from ..evaluation.metrics import compute_metrics
from ..models.decoder_only import GPT
from ..models.task_head import GPTClassifier
from ..text.bpe import line_break_id
from ..training.checkpoint import CheckpointError, MissingTokenizerError, load_checkpoint
from .finetune import encode_examples, predict
from .tasks import TaskData, TaskExample
from .zeroshot import continuation_logprobs

__all__ = ["LanguageModel", "Sampling", "TaskModel", "load_gpt"]


class Sampling(TypedDict, total=False):
    """How :meth:`LanguageModel.generate` picks each next token (declared once; the defaults are those of
    :meth:`LanguageModel.generate_ids`): ``temperature``, ``top_k`` and ``top_p`` filtering, a ``seed`` for
    reproducible sampling, or ``greedy`` argmax decoding."""

    temperature: float
    top_k: int | None
    top_p: float | None
    seed: int | None
    greedy: bool


class LanguageModel:
    """A GPT-1 language model (Eq. 2) with its tokenizer (``None``: a bare model, token ids only)."""

    def __init__(self, model: GPT, tokenizer: Any | None, *, directory: str | Path | None = None) -> None:
        if tokenizer is not None and tokenizer.vocab_size > model.config.vocab_size:
            raise CheckpointError(
                f"vocabulary mismatch: the tokenizer has {tokenizer.vocab_size} tokens, the model only "
                f"{model.config.vocab_size}"
            )
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.directory = Path(directory) if directory is not None else None
        self.line_break = line_break_id(tokenizer) if tokenizer is not None else None
        self.byte_level = type(tokenizer).__name__ == "TextTokenizer"
        # padding rows and special tokens (a bare model: the special tokens past the base vocabulary)
        vocab = tokenizer.vocab_size if tokenizer is not None else model.config.vocab_size
        banned = set(range(vocab, model.config.total_vocab))
        if self.byte_level:
            banned |= {0, 1, 2, 3}  # <pad> <s> </s> <unk>: never in the pre-training stream
        self.banned_ids = sorted(banned)

    @classmethod
    def from_checkpoint(
        cls,
        directory: str | Path,
        device: str | torch.device = "cpu",
        *,
        tokenizer: Any | str | Path | None = None,
        require_tokenizer: bool = True,
    ) -> LanguageModel:
        """Load a GPT checkpoint (or the newest one of a run); a fine-tuned one gives a :class:`TaskModel`.
        See :func:`load_gpt` for ``tokenizer`` and ``require_tokenizer``."""
        return load_gpt(directory, device=device, tokenizer=tokenizer, require_tokenizer=require_tokenizer)

    def __repr__(self) -> str:
        c = self.model.config
        vocab = f"vocab {self.tokenizer.vocab_size}" if self.tokenizer is not None else "no tokenizer"
        return (
            f"{type(self).__name__}({c.n_layers} layers, d_model {c.d_model}, n_ctx {c.n_ctx}, "
            f"{vocab}, {sum(p.numel() for p in self.model.parameters()):,} parameters)"
        )

    def require_tokenizer(self, what: str = "this") -> Any:
        """The tokenizer, or :class:`~ronbun.training.checkpoint.MissingTokenizerError` for a bare model
        (``what`` names the method that needs it)."""
        return MissingTokenizerError.unless(
            self, what, "GPT model", "the token-id methods (generate_ids, score_ids, token_logprobs_ids)"
        )

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    # -- generation -----------------------------------------------------------------------------------------
    def _prompt_ids(self, prompt: str) -> list[int]:
        ids = self.require_tokenizer("generate()").encode(prompt) if prompt else []
        if self.line_break is not None:
            ids = [self.line_break, *ids]
        if not ids:
            raise ValueError("an empty prompt needs a line-break token to condition on; give some text")
        return ids

    def _continuation(self, prompt_ids: list[int], new: list[int]) -> str:
        body = prompt_ids[1:] if self.line_break is not None else prompt_ids
        head = self.tokenizer.decode(body) if body else ""
        full = self.tokenizer.decode(body + new)
        text = full[len(head) :] if full.startswith(head) else " " + self.tokenizer.decode(new)
        if self.byte_level:
            text = text.replace("\n ", "\n")
        return text

    def generate(
        self,
        prompts: str | Sequence[str],
        max_new_tokens: int = 50,
        *,
        stop_at_newline: bool = False,
        **sampling: Unpack[Sampling],
    ) -> str | list[str]:
        """Continue each prompt (the prompt text followed by its continuation is returned).

        Sampling with ``temperature`` / ``top_k`` / ``top_p`` (``greedy=True``: argmax); ``seed`` makes it
        reproducible (:class:`Sampling`, defaults of :meth:`generate_ids`).  Prompts longer than
        ``n_ctx - max_new_tokens + 1`` tokens keep their last tokens.  ``stop_at_newline`` ends a
        continuation at its first line break.
        """
        single = isinstance(prompts, str)
        items = [prompts] if single else list(prompts)  # type: ignore[list-item]
        self.require_tokenizer("generate()")
        keep = self._check_max_new_tokens(max_new_tokens)
        encoded = [self._prompt_ids(p) for p in items]
        encoded = [ids[-keep:] if len(ids) > keep else ids for ids in encoded]
        new = self.generate_ids(
            encoded, max_new_tokens, eos_id=self.line_break if stop_at_newline else None, **sampling
        )
        out = [
            item + self._continuation(ids, cont) for item, ids, cont in zip(items, encoded, new, strict=True)
        ]
        return out[0] if single else out

    def _check_max_new_tokens(self, max_new_tokens: int) -> int:
        """The longest prompt kept (its last tokens) for ``max_new_tokens`` new ones."""
        n_ctx = self.model.config.n_ctx
        if not isinstance(max_new_tokens, int) or not 1 <= max_new_tokens <= n_ctx:
            raise ValueError(
                f"max_new_tokens must be an integer in [1, n_ctx={n_ctx}], got {max_new_tokens!r}"
            )
        return n_ctx - max_new_tokens + 1

    def generate_ids(
        self,
        prompts: Sequence[Sequence[int]],
        max_new_tokens: int = 50,
        *,
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
        seed: int | None = None,
        greedy: bool = False,
        eos_id: int | None = None,
    ) -> list[list[int]]:
        """:meth:`generate` on token ids (no tokenizer needed): the new ids of each prompt's continuation.

        Each prompt is a non-empty list of ids (a longer one than ``n_ctx - max_new_tokens + 1`` keeps its
        last ids); a continuation ends before its first ``eos_id``.  The model's padding rows and special
        tokens (and, with a byte-level tokenizer, ``<pad> <s> </s> <unk>``) are never generated.
        """
        from ..generation import generate

        keep = self._check_max_new_tokens(max_new_tokens)
        encoded = [[int(t) for t in ids] for ids in prompts]
        if any(not ids for ids in encoded):
            raise ValueError("every prompt needs at least one token id")
        vocab = self.model.config.total_vocab
        if any(not 0 <= t < vocab for ids in encoded for t in ids):
            raise ValueError(f"token ids must be in [0, {vocab})")
        encoded = [ids[-keep:] if len(ids) > keep else ids for ids in encoded]
        generator = torch.Generator(device=self.device).manual_seed(seed) if seed is not None else None
        groups: dict[int, list[int]] = {}
        for i, ids in enumerate(encoded):
            groups.setdefault(len(ids), []).append(i)
        out: list[list[int]] = [[] for _ in encoded]
        for length in sorted(groups):
            idx = groups[length]
            prompt = torch.tensor([encoded[i] for i in idx], dtype=torch.long, device=self.device)  # (B, P)
            ids = generate(
                self.model,
                prompt,
                max_new_tokens,
                do_sample=not greedy,
                temperature=temperature,
                top_k=top_k,
                top_p=top_p,
                generator=generator,
                eos_id=eos_id,
                banned_ids=self.banned_ids,
            )  # (B, P + T)
            for row, i in enumerate(idx):
                new = ids[row, length:].tolist()
                if eos_id is not None and eos_id in new:
                    new = new[: new.index(eos_id)]
                out[i] = new
        return out

    # -- scoring --------------------------------------------------------------------------------------------
    def token_logprobs(self, texts: Sequence[str], *, batch_size: int = 16) -> list[np.ndarray]:
        """``log P(u_i | u_<i)`` of every token of every text (its first token given the line break)."""
        ctx = [self.line_break] if self.line_break is not None else []
        ids = self.require_tokenizer("scoring text").encode_batch(list(texts))
        return self.token_logprobs_ids(ids, context=ctx, batch_size=batch_size)

    def token_logprobs_ids(
        self, sequences: Sequence[Sequence[int]], *, context: Sequence[int] = (), batch_size: int = 16
    ) -> list[np.ndarray]:
        """``log P(u_i | context, u_<i)`` of every token id of every sequence (no tokenizer needed).  With
        an empty ``context`` a sequence's first id has nothing to be conditioned on and is not scored."""
        ctx = [int(t) for t in context]
        pairs = [(ctx, [int(t) for t in x]) for x in sequences]
        return continuation_logprobs(self.model, pairs, batch_size=batch_size)

    def score_ids(
        self,
        sequences: Sequence[Sequence[int]],
        *,
        context: Sequence[int] = (),
        average: bool = False,
        batch_size: int = 16,
    ) -> list[float]:
        """:meth:`score` on token ids: the total (``average``: mean) log-probability of each sequence's
        scored ids (see :meth:`token_logprobs_ids`)."""
        lp = self.token_logprobs_ids(sequences, context=context, batch_size=batch_size)
        return [float(x.mean() if average else x.sum()) if x.size else 0.0 for x in lp]

    def score(
        self, texts: str | Sequence[str], *, average: bool = False, batch_size: int = 16
    ) -> float | list[float]:
        """Log-probability of each text under the model (natural log, summed over its tokens; ``average``:
        per token).  A text longer than ``n_ctx`` is scored on its last ``n_ctx`` tokens."""
        single = isinstance(texts, str)
        lp = self.token_logprobs([texts] if single else list(texts), batch_size=batch_size)  # type: ignore[list-item]
        values = [float(x.mean() if average else x.sum()) if x.size else 0.0 for x in lp]
        return values[0] if single else values

    def perplexity(self, texts: Sequence[str], *, batch_size: int = 16) -> float:
        """Token-level perplexity ``exp(-Σ log P / N)`` over all tokens of ``texts``."""
        lp = self.token_logprobs(list(texts), batch_size=batch_size)
        n = sum(x.size for x in lp)
        if n == 0:
            raise ValueError("no tokens to score")
        return math.exp(-sum(float(x.sum()) for x in lp) / n)


class TaskModel(LanguageModel):
    """A fine-tuned GPT-1 (§3.2): the language model plus its task head."""

    model: GPTClassifier

    def __init__(
        self, model: GPTClassifier, tokenizer: Any | None, *, directory: str | Path | None = None
    ) -> None:
        super().__init__(model, tokenizer, directory=directory)
        self.spec = model.spec

    def _examples(self, inputs: Sequence[TaskExample | str | Sequence[str]]) -> list[TaskExample]:
        out = []
        for x in inputs:
            if isinstance(x, TaskExample):
                out.append(x)
            elif isinstance(x, str):
                out.append(TaskExample(texts=(x,)))
            else:
                out.append(TaskExample(texts=tuple(x)))
        if self.spec.kind == "multiple_choice" and any(ex.choices is None for ex in out):
            raise ValueError("multiple-choice prediction needs TaskExample(texts=..., choices=...) inputs")
        return out

    def predict(
        self,
        inputs: Sequence[TaskExample | str | Sequence[str]],
        *,
        batch_size: int = 32,
        names: bool = False,
    ) -> list[Any]:
        """Class ids (or names with ``names=True``), regression values, or the chosen candidate's index.
        Inputs: strings (single-sentence tasks), tuples of texts (pairs) or :class:`TaskExample`."""
        tokenizer = self.require_tokenizer("predict()")
        examples = self._examples(inputs)
        encoded, _ = encode_examples(
            examples, self.spec.kind, tokenizer, self.spec.special, self.model.config.n_ctx
        )
        preds, _ = predict(self.model, encoded, batch_size=batch_size)
        values = preds.tolist()
        if names and self.spec.label_names and not self.spec.regression:
            return [self.spec.label_names[int(v)] for v in values]
        return values

    def evaluate(self, data: TaskData, *, batch_size: int = 32) -> dict[str, float]:
        """The task's metrics (GPT-1 Tables 2–4) on labelled ``data``."""
        if not data.labeled:
            raise ValueError(f"{data.name} {data.split} is unlabeled; nothing to evaluate")
        preds = self.predict(data.examples, batch_size=batch_size)
        return compute_metrics(self.spec.task, preds, [ex.label for ex in data.examples])


def load_gpt(
    directory: str | Path,
    *,
    device: str | torch.device = "cpu",
    tokenizer: Any | str | Path | None = None,
    require_tokenizer: bool = True,
) -> LanguageModel:
    """A :class:`LanguageModel` (pre-trained checkpoint) or :class:`TaskModel` (fine-tuned) from a checkpoint
    directory or a run directory (its newest intact checkpoint).

    ``tokenizer`` replaces the checkpoint's own: a tokenizer object, a ``tokenizer.json`` file, or a folder
    holding one or GPT-1's BPE files.  A checkpoint without any tokenizer raises
    :class:`~ronbun.training.checkpoint.MissingTokenizerError` at load when ``require_tokenizer`` (the
    default: the command line fails before reading any input), else gives a bare :class:`LanguageModel`
    (``tokenizer is None``) whose text methods raise that error; ``ronbun.load`` does the latter.
    """
    ckpt = load_checkpoint(
        directory, expect="gpt", device=device, tokenizer=tokenizer, require_tokenizer=require_tokenizer
    )
    cls = TaskModel if ckpt.head is not None else LanguageModel
    return cls(ckpt.model, ckpt.tokenizer, directory=ckpt.path)  # type: ignore[arg-type]
