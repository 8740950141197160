"""What the search algorithms drive: a :class:`StepFn`, one decoding step at a time.

Greedy search, beam search and sampling never look inside a model.  They see rows (``N`` hypotheses, e.g.
``batch × beam``), ask for the next-token log-probabilities of every row and tell the model which rows to keep
when beams are re-ranked.  This module only *describes* that interface (``typing.Protocol``, checked by shape,
never by class): the models build their own step functions (``model.step_fn(...)``, implemented in
:mod:`ronbun.models.decoding`), and hand-built toy decoders in the tests implement the same three methods.
Nothing here imports a model.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol, runtime_checkable

from torch import Tensor

__all__ = ["EncoderDecoderModel", "EncoderDecoderStepFn", "LanguageModel", "StepFn"]


@runtime_checkable
class StepFn(Protocol):
    """One decoder seen row by row.

    * :meth:`start` returns the log-probabilities of the **first** generated token for the ``N`` rows the
      object was built with, ``(N, V)`` float32 (the Transformer feeds ``<bos>``; GPT feeds the prompt).
    * :meth:`step` feeds the token each row chose, ``tokens (N', 1)`` int64, and returns the next
      log-probabilities ``(N', V)``.
    * :meth:`reorder` keeps rows ``index`` (``(N'',)`` int64) of the internal state, in that order; an index may
      repeat (this is how beam search turns ``B`` rows into ``B × beam`` rows) or drop rows (finished sentences).

    Log-probabilities must be normalised (``<= 0``): the ``"bound"`` early-stopping rule of beam search relies
    on a hypothesis' log-probability never increasing as it grows.
    """

    def start(self) -> Tensor: ...

    def step(self, tokens: Tensor) -> Tensor: ...

    def reorder(self, index: Tensor) -> None: ...


class EncoderDecoderStepFn(StepFn, Protocol):
    """A :class:`StepFn` over source sentences, as :func:`~ronbun.generation.translate` needs it: it also
    knows its end-of-sentence id and each sentence's maximum output length (§6.1: ``a · src_len + b``)."""

    eos_id: int

    def max_lengths(self, a: float = 1.0, b: int = 50) -> Tensor: ...


class EncoderDecoderModel(Protocol):
    """What :func:`~ronbun.generation.translate` asks of a model (the Transformer): a step function for a
    padded source batch ``src (B, S)``; ``banned_ids=None`` means the model's default (its padding id)."""

    def step_fn(self, src: Tensor, banned_ids: Iterable[int] | None = None) -> EncoderDecoderStepFn: ...


class LanguageModelConfig(Protocol):
    n_ctx: int  # the longest sequence (prompt + continuation) the model reads


class LanguageModel(Protocol):
    """What :func:`~ronbun.generation.generate` asks of a model (GPT-1): its context size, its parameters
    (for their device) and a step function that starts from a prompt ``(B, P)``."""

    @property
    def config(self) -> LanguageModelConfig: ...

    def parameters(self) -> Iterator[Tensor]: ...

    def step_fn(self, prompt: Tensor, banned_ids: Iterable[int] | None = None) -> StepFn: ...
