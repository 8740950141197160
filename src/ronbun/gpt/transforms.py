"""GPT-1 task-specific input transformations (Radford et al., 2018, §3.3 and Figure 1), on token ids.

GPT-1 fine-tunes the pre-trained decoder on structured inputs by turning every example into one or
more *ordered token sequences* with three added tokens: a start token ``⟨s⟩``, a delimiter ``$`` and
an extract token ``⟨e⟩`` whose final hidden state feeds the linear output layer (§3.2–3.3):

===================  ==================================================  ============================
kind                 sequences per example (C)                           head (§3.3)
===================  ==================================================  ============================
classification       ``⟨s⟩ text ⟨e⟩``                             (1)    linear on h(⟨e⟩)
entailment           ``⟨s⟩ premise $ hypothesis ⟨e⟩``             (1)    linear on h(⟨e⟩)
similarity           ``⟨s⟩ A $ B ⟨e⟩`` and ``⟨s⟩ B $ A ⟨e⟩``      (2)    h₁ + h₂ (element-wise), linear
multiple_choice      ``⟨s⟩ z q $ a_k ⟨e⟩`` for each answer k      (K)    one scalar per k, softmax over k
===================  ==================================================  ============================

(For RACE the context is the document ``z`` followed directly by the question ``q`` — the paper's
``[z; q; $; a_k]`` where ``;`` means concatenation; Story Cloze has no question.)

Everything here works on already-encoded pieces (lists of ints) and the three special ids, so it is
independent of the model and of the tokenizer.

Truncation rule (when a sequence would exceed ``n_ctx`` tokens, specials included)
--------------------------------------------------------------------------------------
*Longest-first, from the end, ties to the earlier segment*: tokens are removed one at a time from the
**end** of the currently **longest** text segment; when several segments are equally long the
**earlier** one (text / premise / A / context) is cut. The special tokens are never removed. This
keeps the usually short hypothesis / answer / question intact for as long as possible — it is only
cut once the longer segments have been cut down to its length — and never empties one segment while
another is still long. (The result is computed in closed form, not token by token.) Per kind:

* classification: the text keeps its first ``n_ctx − 2`` tokens;
* entailment: longest-first over (premise, hypothesis) with budget ``n_ctx − 3``;
* similarity: longest-first over (A, B) once, so both orders contain exactly the same tokens;
* multiple choice: longest-first over (context, [question,] longest answer) with budget ``n_ctx − 3``
  fixes one shared context (and question) for **all** K sequences, so the choices differ only in their
  answers; an answer is then cut only if it is longer than the length the longest answer received.

Every transformation returns a :class:`TransformedExample`; :class:`TruncationStats` accumulates how
many examples/sequences were truncated and how many tokens were dropped, so that a run can report,
e.g., "3.1% of RACE examples truncated to 512 tokens". For reference, OpenAI's released Story Cloze
code instead clips context and ending independently to ``n_ctx // 2 − 2`` tokens each.

:func:`collate` pads a list of transformed examples to a batch of shape ``(B, C, T)`` with an
``extract_positions`` tensor ``(B, C)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

from ..models.task_head import SpecialTokens

if TYPE_CHECKING:
    from ronbun.gpt.tasks import TaskData

__all__ = [
    "GPTBatch",
    "SpecialTokens",
    "TransformedExample",
    "TruncationStats",
    "classification",
    "collate",
    "entailment",
    "longest_first",
    "multiple_choice",
    "similarity",
    "transform",
    "transform_task",
]

TokenIds = Sequence[int]


@dataclass(frozen=True)
class TransformedExample:
    """The C model input sequences of one example (C = 1, 2 for similarity, or K choices).

    Attributes:
        sequences: token-id tuples, each ``⟨s⟩ ... ⟨e⟩`` and at most ``n_ctx`` long.
        tokens_removed: text tokens dropped by truncation, counting each distinct piece once (the
            shared similarity segments / multiple-choice context are not double-counted).
        truncated_sequences: how many of the sequences lost tokens.
    """

    sequences: tuple[tuple[int, ...], ...]
    tokens_removed: int = 0
    truncated_sequences: int = 0

    @property
    def num_sequences(self) -> int:
        return len(self.sequences)

    @property
    def extract_positions(self) -> tuple[int, ...]:
        """Index of ``⟨e⟩`` (the last token) in each sequence."""
        return tuple(len(s) - 1 for s in self.sequences)

    @property
    def truncated(self) -> bool:
        return self.tokens_removed > 0


@dataclass
class TruncationStats:
    """Running totals over transformed examples (see the module docstring's truncation rule)."""

    examples: int = 0
    sequences: int = 0
    truncated_examples: int = 0
    truncated_sequences: int = 0
    tokens_removed: int = 0
    max_length: int = 0

    def add(self, example: TransformedExample) -> TransformedExample:
        """Count ``example`` and return it unchanged (handy inside comprehensions)."""
        self.examples += 1
        self.sequences += example.num_sequences
        self.truncated_examples += int(example.truncated)
        self.truncated_sequences += example.truncated_sequences
        self.tokens_removed += example.tokens_removed
        self.max_length = max(self.max_length, *(len(s) for s in example.sequences))
        return example

    def __iadd__(self, other: TruncationStats) -> TruncationStats:
        self.examples += other.examples
        self.sequences += other.sequences
        self.truncated_examples += other.truncated_examples
        self.truncated_sequences += other.truncated_sequences
        self.tokens_removed += other.tokens_removed
        self.max_length = max(self.max_length, other.max_length)
        return self

    @property
    def truncated_fraction(self) -> float:
        """Fraction of examples that lost at least one token (0.0 if none seen)."""
        return self.truncated_examples / self.examples if self.examples else 0.0

    def __str__(self) -> str:
        return (
            f"{self.truncated_examples}/{self.examples} examples truncated "
            f"({100 * self.truncated_fraction:.1f}%), {self.truncated_sequences}/{self.sequences} sequences, "
            f"{self.tokens_removed} tokens removed, longest sequence {self.max_length}"
        )


def longest_first(lengths: Sequence[int], budget: int) -> list[int]:
    """Kept length of each segment under the longest-first rule (ties cut the earlier segment).

    Equivalent to repeatedly removing one token from the longest segment (the earliest among equally
    long ones) until ``sum(lengths) <= budget``, computed in closed form: find the largest level ``L``
    with ``Σ min(lᵢ, L) ≤ budget``, cap every segment at ``L``, then hand the ``r`` leftover tokens
    back, one each, to the *last* ``r`` segments that were capped (the earlier ones were cut first).
    """
    lengths = [int(n) for n in lengths]
    if any(n < 0 for n in lengths):
        raise ValueError(f"segment lengths must be non-negative, got {lengths}")
    if budget < 0:
        raise ValueError(f"token budget must be non-negative, got {budget}")
    if sum(lengths) <= budget:
        return lengths
    lo, hi = 0, max(lengths)  # f(lo) <= budget < f(hi) with f(L) = Σ min(lᵢ, L)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if sum(min(n, mid) for n in lengths) <= budget:
            lo = mid
        else:
            hi = mid - 1
    kept = [min(n, lo) for n in lengths]
    leftover = budget - sum(kept)
    for i in reversed(range(len(lengths))):
        if leftover == 0:
            break
        if lengths[i] > lo:
            kept[i] += 1
            leftover -= 1
    return kept


def _ids(piece: TokenIds, what: str) -> list[int]:
    if isinstance(piece, str | bytes):
        raise TypeError(
            f"{what} must be a sequence of token ids, not {type(piece).__name__} (encode it first)"
        )
    return [int(t) for t in piece]


def _budget(n_ctx: int, n_special: int) -> int:
    if n_ctx < n_special:
        raise ValueError(f"n_ctx={n_ctx} cannot hold the {n_special} special tokens of this transformation")
    return n_ctx - n_special


def classification(text: TokenIds, *, special: SpecialTokens, n_ctx: int) -> TransformedExample:
    """``⟨s⟩ text ⟨e⟩`` (single-sentence classification, e.g. CoLA, SST-2; Figure 1)."""
    t = _ids(text, "text")
    (kept,) = longest_first([len(t)], _budget(n_ctx, 2))
    seq = (special.start, *t[:kept], special.extract)
    removed = len(t) - kept
    return TransformedExample(sequences=(seq,), tokens_removed=removed, truncated_sequences=int(removed > 0))


def entailment(
    premise: TokenIds, hypothesis: TokenIds, *, special: SpecialTokens, n_ctx: int
) -> TransformedExample:
    """``⟨s⟩ premise $ hypothesis ⟨e⟩`` (textual entailment: MNLI, SNLI, QNLI, RTE, SciTail)."""
    p, h = _ids(premise, "premise"), _ids(hypothesis, "hypothesis")
    kp, kh = longest_first([len(p), len(h)], _budget(n_ctx, 3))
    seq = (special.start, *p[:kp], special.delim, *h[:kh], special.extract)
    removed = len(p) - kp + len(h) - kh
    return TransformedExample(sequences=(seq,), tokens_removed=removed, truncated_sequences=int(removed > 0))


def similarity(a: TokenIds, b: TokenIds, *, special: SpecialTokens, n_ctx: int) -> TransformedExample:
    """``⟨s⟩ A $ B ⟨e⟩`` and ``⟨s⟩ B $ A ⟨e⟩``: "there is no inherent ordering of the two sentences
    being compared", so both orders are processed and their final states added (MRPC, STS-B, QQP)."""
    x, y = _ids(a, "a"), _ids(b, "b")
    kx, ky = longest_first([len(x), len(y)], _budget(n_ctx, 3))
    removed = len(x) - kx + len(y) - ky
    x, y = x[:kx], y[:ky]
    s, d, e = special.start, special.delim, special.extract
    return TransformedExample(
        sequences=((s, *x, d, *y, e), (s, *y, d, *x, e)),
        tokens_removed=removed,
        truncated_sequences=2 if removed else 0,
    )


def multiple_choice(
    context: TokenIds,
    answers: Sequence[TokenIds],
    *,
    special: SpecialTokens,
    n_ctx: int,
    question: TokenIds | None = None,
) -> TransformedExample:
    """``⟨s⟩ context [question] $ answer_k ⟨e⟩`` for every answer k (Story Cloze, RACE; §3.3).

    The context (and question) are truncated once for all answers (see the module docstring).
    """
    if isinstance(answers, str | bytes) or len(answers) == 0:
        raise ValueError("multiple_choice needs at least one encoded answer")
    c = _ids(context, "context")
    q = _ids(question, "question") if question is not None else []
    ans = [_ids(a, f"answers[{k}]") for k, a in enumerate(answers)]
    longest = max(len(a) for a in ans)
    if question is None:
        kc, ka = longest_first([len(c), longest], _budget(n_ctx, 3))
        kq = 0
    else:
        kc, kq, ka = longest_first([len(c), len(q), longest], _budget(n_ctx, 3))
    prefix = (special.start, *c[:kc], *q[:kq], special.delim)
    shared_cut = len(c) - kc + len(q) - kq
    sequences = tuple((*prefix, *a[:ka], special.extract) for a in ans)
    answer_cuts = [max(len(a) - ka, 0) for a in ans]
    truncated = len(ans) if shared_cut else sum(1 for n in answer_cuts if n)
    return TransformedExample(
        sequences=sequences, tokens_removed=shared_cut + sum(answer_cuts), truncated_sequences=truncated
    )


def transform(
    kind: str,
    texts: Sequence[TokenIds],
    *,
    special: SpecialTokens,
    n_ctx: int,
    choices: Sequence[TokenIds] | None = None,
) -> TransformedExample:
    """Dispatch on the task ``kind`` (as in :mod:`ronbun.gpt.tasks`): ``texts`` are the encoded
    ``TaskExample.texts`` (1 for classification, 2 for entailment/similarity, context [+ question] for
    multiple choice) and ``choices`` the encoded candidate answers (multiple choice only)."""
    n = len(texts)
    if kind == "multiple_choice":
        if choices is None:
            raise ValueError("multiple_choice needs choices")
        if n not in (1, 2):
            raise ValueError(f"multiple_choice takes 1 (context) or 2 (context, question) texts, got {n}")
        return multiple_choice(
            texts[0], choices, special=special, n_ctx=n_ctx, question=texts[1] if n == 2 else None
        )
    if choices is not None:
        raise ValueError(f"kind {kind!r} takes no choices")
    expected = {"classification": 1, "entailment": 2, "similarity": 2}
    if kind not in expected:
        raise ValueError(
            f"unknown kind {kind!r}; expected one of {', '.join([*expected, 'multiple_choice'])}"
        )
    if n != expected[kind]:
        raise ValueError(f"{kind} takes {expected[kind]} text(s), got {n}")
    if kind == "classification":
        return classification(texts[0], special=special, n_ctx=n_ctx)
    if kind == "entailment":
        return entailment(texts[0], texts[1], special=special, n_ctx=n_ctx)
    return similarity(texts[0], texts[1], special=special, n_ctx=n_ctx)


def transform_task(
    data: TaskData | Any,
    encode: Callable[[str], Sequence[int]],
    *,
    special: SpecialTokens,
    n_ctx: int,
) -> tuple[list[TransformedExample], TruncationStats]:
    """Encode and transform every example of a :class:`~ronbun.gpt.tasks.TaskData` (anything with
    ``.kind`` and ``.examples`` of ``TaskExample``) with a tokenizer's ``encode`` (str → ids)."""
    stats = TruncationStats()
    out: list[TransformedExample] = []
    for ex in data.examples:
        texts = [encode(t) for t in ex.texts]
        choices = [encode(c) for c in ex.choices] if ex.choices is not None else None
        out.append(stats.add(transform(data.kind, texts, special=special, n_ctx=n_ctx, choices=choices)))
    return out, stats


@dataclass
class GPTBatch:
    """A padded batch of transformed examples.

    Attributes:
        input_ids: ``(B, C, T)`` long; right-padded with ``pad_id`` (padding sits after ``⟨e⟩`` and is
            invisible to real tokens under the causal mask).
        attention_mask: ``(B, C, T)`` bool, True on real tokens — also the language-model loss mask of
            the auxiliary objective (§3.2; predict position t+1 from t where both are real).
        extract_positions: ``(B, C)`` long, index of ``⟨e⟩`` in each sequence.
        labels: ``(B,)`` long (classes / correct choice) or float (regression), or ``None``.
    """

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    extract_positions: torch.Tensor
    labels: torch.Tensor | None = None

    @property
    def num_sequences(self) -> int:
        """C: 1 (classification/entailment), 2 (similarity) or K (multiple choice)."""
        return int(self.input_ids.shape[1])

    def to(self, device: torch.device | str) -> GPTBatch:
        return GPTBatch(
            self.input_ids.to(device),
            self.attention_mask.to(device),
            self.extract_positions.to(device),
            None if self.labels is None else self.labels.to(device),
        )


def collate(
    examples: Sequence[TransformedExample],
    *,
    labels: Iterable[int | float | None] | None = None,
    pad_id: int = 0,
    pad_to_multiple_of: int | None = None,
) -> GPTBatch:
    """Pad ``examples`` to ``(B, C, T)``, T = longest sequence (optionally rounded up to a multiple).

    All examples must have the same number of sequences C. ``labels`` (one per example, all ``None``
    or none ``None``) become a long tensor, or a float tensor if any label is a float (STS-B).
    """
    if len(examples) == 0:
        raise ValueError("cannot collate an empty batch")
    counts = {ex.num_sequences for ex in examples}
    if len(counts) != 1:
        raise ValueError(f"all examples in a batch need the same number of sequences, got {sorted(counts)}")
    (c,) = counts
    t = max(len(s) for ex in examples for s in ex.sequences)
    if pad_to_multiple_of:
        t = -(-t // pad_to_multiple_of) * pad_to_multiple_of
    b = len(examples)
    input_ids = torch.full((b, c, t), pad_id, dtype=torch.long)
    mask = torch.zeros((b, c, t), dtype=torch.bool)
    extract = torch.empty((b, c), dtype=torch.long)
    for i, ex in enumerate(examples):
        for j, seq in enumerate(ex.sequences):
            input_ids[i, j, : len(seq)] = torch.tensor(seq, dtype=torch.long)
            mask[i, j, : len(seq)] = True
            extract[i, j] = len(seq) - 1
    label_tensor = None
    if labels is not None:
        values = list(labels)
        if len(values) != b:
            raise ValueError(f"got {len(values)} labels for {b} examples")
        missing = sum(v is None for v in values)
        if missing == b:
            label_tensor = None
        elif missing:
            raise ValueError(f"{missing} of {b} labels are None; a batch is either labeled or unlabeled")
        else:
            is_float = any(isinstance(v, float) for v in values)
            label_tensor = torch.tensor(values, dtype=torch.float32 if is_float else torch.long)
    return GPTBatch(input_ids=input_ids, attention_mask=mask, extract_positions=extract, labels=label_tensor)
