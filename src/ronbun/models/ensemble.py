"""Several models that decode as one: prediction ensembling.

Not in either paper (the Transformer paper averages the *weights* of its last checkpoints, §6.1); ensembling
the *predictions* of several checkpoints or models is the other standard way to spend them (fairseq's
``--path a.pt:b.pt``, Marian's ``--models``).  At every step each member gives its next-token distribution
and the ensemble's is their mean, in probability space::

    log p_ens(y | ·) = log( (1/K) Σ_k p_k(y | ·) ) = logsumexp_k( log p_k(y | ·) ) − log K

so the result is again normalised (``<= 0``), as the search's early-stopping bound requires, and a token
banned by every member (``-inf``) stays banned.  Each member keeps its own KV cache; ``reorder`` reorders them
all the same way, so beam search (:mod:`ronbun.generation`) drives an ensemble exactly as it drives one model:
:class:`EnsembleStepFn` is a :class:`~ronbun.generation.StepFn` like the adapters of
:mod:`ronbun.models.decoding`.  The cost is one decoder step per member per step (and one encoder pass per
member).

:class:`TransformerEnsemble` is the model side.  Typical use: the last checkpoints of one run, decoded
together instead of (or besides) averaging their weights.  The members must read and write the same
vocabulary with the same special ids; their shapes may differ.  It is an ``nn.Module`` so that everything
done to one model (``eval()``, ``to(device)``, a bf16 or int8 copy for inference) is done to every member.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from .config import TransformerConfig
from .transformer import Transformer

__all__ = ["EnsembleStepFn", "TransformerEnsemble", "mean_probability"]


def mean_probability(log_probs: Sequence[Tensor]) -> Tensor:
    """``K`` members' log-probabilities, each ``(N, V)`` → the log of their mean probability ``(N, V)``."""
    if len(log_probs) == 1:
        return log_probs[0]
    return torch.logsumexp(torch.stack(list(log_probs)), dim=0) - math.log(len(log_probs))  # (N, V)


class EnsembleStepFn:
    """``members`` (step functions over the same rows and vocabulary) as one step function.

    Where the members also describe an encoder-decoder search (``eos_id``, ``max_lengths``), the ensemble
    does too; their end-of-sentence ids must agree (a different one would mean a different vocabulary).
    """

    def __init__(self, members: Sequence[Any]) -> None:
        if not members:
            raise ValueError("an ensemble needs at least one member")
        self.members = list(members)
        eos = {getattr(m, "eos_id", None) for m in self.members}
        if len(eos) > 1:
            raise ValueError(f"ensemble members disagree on the end-of-sentence id: {sorted(map(str, eos))}")
        self.eos_id = eos.pop()

    def start(self) -> Tensor:
        return mean_probability([m.start() for m in self.members])  # (N, V)

    def step(self, tokens: Tensor) -> Tensor:
        return mean_probability([m.step(tokens) for m in self.members])  # (N', V)

    def reorder(self, index: Tensor) -> None:
        for m in self.members:
            m.reorder(index)

    def max_lengths(self, a: float = 1.0, b: int = 50) -> Tensor:
        """The longest output every member can make, per sentence (``(B,)``): the members' minimum (they
        differ only where one member's positional table is shorter)."""
        lengths = [m.max_lengths(a, b) for m in self.members]  # K × (B,)
        return torch.stack(lengths).amin(dim=0)  # (B,)


#: What every member must share: the vocabularies and the special ids the search relies on.
SHARED_FIELDS = ("vocab_size", "source_vocab_size", "pad_id", "bos_id", "eos_id")


class TransformerEnsemble(nn.Module):
    """``members`` decoded as one model: :meth:`step_fn` averages their next-token probabilities."""

    def __init__(self, members: Sequence[Transformer]) -> None:
        super().__init__()
        if not members:
            raise ValueError("an ensemble needs at least one model")
        first = members[0].config
        for i, m in enumerate(members[1:], start=2):
            for name in SHARED_FIELDS:
                if getattr(m.config, name) != getattr(first, name):
                    raise ValueError(
                        f"ensemble member {i} has {name}={getattr(m.config, name)}, member 1 has "
                        f"{getattr(first, name)}: members must share one vocabulary"
                    )
        self.members = nn.ModuleList(members)

    @property
    def config(self) -> TransformerConfig:
        """Member 1's configuration, with the smallest ``max_positions`` of all members (what every one can
        read and write)."""
        c = self.members[0].config
        shortest = min(m.config.max_positions for m in self.members)
        return c if shortest == c.max_positions else dataclasses.replace(c, max_positions=shortest)

    def step_fn(self, src: Tensor, banned_ids: Iterable[int] | None = None) -> EnsembleStepFn:
        """The ensemble as the :class:`~ronbun.generation.StepFn` that :func:`ronbun.generation.translate`
        searches: each member encodes ``src (B, S)`` once and keeps its own KV cache."""
        banned = None if banned_ids is None else list(banned_ids)
        return EnsembleStepFn([m.step_fn(src, banned) for m in self.members])  # type: ignore[operator]

    def __len__(self) -> int:
        return len(self.members)
