"""GPT-1 with a task head (Radford et al., 2018, §3.2, §3.3): the network a fine-tuned checkpoint holds.

§3.2: the final transformer block's activation ``h_l^m`` at the last input token feeds "an added linear output
layer with parameters ``W_y``": ``P(y | x^1..x^m) = softmax(h_l^m W_y)`` (Eq. 3).  §3.3 adds three randomly
initialised embeddings, start ``⟨s⟩``, delimiter ``$`` and extract ``⟨e⟩`` (:class:`SpecialTokens`), and reads
the state at ``⟨e⟩``.

**What a checkpoint stores.**  :class:`GPTClassifier` *is* a :class:`~ronbun.models.decoder_only.GPT` (a
subclass) with two extra tensors, ``head.weight (n_out, d_model)`` and ``head.bias (n_out,)``
(:data:`HEAD_TENSORS`), so one ``model.safetensors`` holds the fine-tuned model: the body under exactly the
pre-trained GPT's names, ``config.json`` = the ``GPTConfig`` (with ``n_special = 3`` more).  The head's
description (:class:`HeadSpec`: task, kind, number of labels, label names, special-token ids) is recorded
under :data:`HEAD_KEY` in the task description the trainer saves with every checkpoint;
:meth:`HeadSpec.from_task_config` reads it back.  The checkpoint format itself knows none of these names.

Fine-tuning (the data, the losses, the training task) lives in :mod:`ronbun.gpt.finetune`; this module holds
only the network, so that loading a fine-tuned checkpoint needs no application code.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from .config import ConfigError
from .decoder_only import GPT, GPTConfig

__all__ = ["HEAD_KEY", "HEAD_TENSORS", "GPTClassifier", "HeadSpec", "SpecialTokens", "transfer_layers"]

#: The key of the head description in a checkpoint's task description (``task_config.json``).
HEAD_KEY = "head"
#: The tensors the head adds to the GPT body (W_y of Eq. 3 and its bias).
HEAD_TENSORS = ("head.weight", "head.bias")


@dataclass(frozen=True)
class SpecialTokens:
    """Ids of GPT-1's added tokens (§3.3): start ``⟨s⟩``, delimiter ``$``, extract ``⟨e⟩``."""

    start: int
    delim: int
    extract: int


@dataclass(frozen=True)
class HeadSpec:
    """What the task head needs (recorded as ``task_config.json["head"]``)."""

    task: str
    kind: str  # classification | entailment | similarity | multiple_choice
    num_labels: int  # 1 = regression (STS-B); for multiple choice the number of candidates
    special: SpecialTokens
    label_names: tuple[str, ...] = ()
    clf_dropout: float = 0.1

    @property
    def regression(self) -> bool:
        return self.num_labels == 1 and self.kind != "multiple_choice"

    @property
    def n_out(self) -> int:
        return 1 if self.kind == "multiple_choice" or self.regression else self.num_labels

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["label_names"] = list(self.label_names)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> HeadSpec:
        try:
            return cls(
                task=d["task"],
                kind=d["kind"],
                num_labels=int(d["num_labels"]),
                special=SpecialTokens(**d["special"]),
                label_names=tuple(d.get("label_names", ())),
                clf_dropout=float(d.get("clf_dropout", 0.1)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"malformed head description {d!r} ({exc})") from None

    @classmethod
    def from_task_config(cls, task_config: Mapping[str, Any]) -> HeadSpec | None:
        """The head recorded in a checkpoint's task description, ``None`` when it has none (a plain GPT)."""
        head = task_config.get(HEAD_KEY)
        return cls.from_dict(head) if head else None


class GPTClassifier(GPT):
    """GPT-1 with the §3.2 task head: ``dropout(0.1)`` then a linear layer on ``h_l`` at the extract token.

    ``forward(ids)`` is the language model (as :class:`GPT`); ``forward(ids (B, C, T), extract_positions
    (B, C))`` returns ``(task_logits, lm_logits)``: task logits ``(B, num_labels)`` (classification,
    entailment, similarity), ``(B,)`` (regression) or ``(B, C)`` (multiple choice, one scalar per candidate),
    and the LM logits ``(B·C, T, V)`` when ``lm=True`` (else ``None``), or the final hidden states ``(B·C, T,
    d_model)`` when ``hidden=True`` (fine-tuning feeds them to its fused loss).
    """

    def __init__(self, config: GPTConfig, head: HeadSpec) -> None:
        super().__init__(config)
        self.spec = head
        self.clf_dropout = nn.Dropout(head.clf_dropout)
        self.head = nn.Linear(config.d_model, head.n_out)  # W_y (Eq. 3)
        nn.init.normal_(self.head.weight, std=config.init_std)
        nn.init.zeros_(self.head.bias)

    def forward(  # type: ignore[override]
        self, ids: Tensor, extract_positions: Tensor | None = None, *, lm: bool = False, hidden: bool = False
    ) -> Tensor | tuple[Tensor, Tensor | None]:
        if extract_positions is None:
            return super().forward(ids)  # (B, T, V)
        b, c, t = ids.shape
        flat = ids.reshape(b * c, t)  # (B·C, T)
        h, _ = self.hidden_states(flat)  # (B·C, T, d)
        rows = torch.arange(b * c, device=ids.device)
        h_e = h[rows, extract_positions.reshape(-1)].view(b, c, -1)  # (B, C, d): h_l^m at ⟨e⟩
        kind = self.spec.kind
        if kind == "multiple_choice":
            logits = self.head(self.clf_dropout(h_e)).squeeze(-1)  # (B, C): one scalar per candidate
        else:
            if kind == "similarity":
                pooled = h_e.sum(dim=1)  # (B, d): both orders added element-wise (§3.3)
            else:
                if c != 1:
                    raise ValueError(f"{kind} takes one sequence per example, got {c}")
                pooled = h_e[:, 0]  # (B, d)
            logits = self.head(self.clf_dropout(pooled))  # (B, n_out)
            if self.spec.regression:
                logits = logits.squeeze(-1)  # (B,)
        if hidden:
            return logits, h  # (B·C, T, d)
        lm_logits = self.project(h) if lm else None  # (B·C, T, V)
        return logits, lm_logits

    def body(self) -> GPT:
        """The language model without the head: a :class:`GPT` with a copy of this model's body."""
        gpt = GPT(self.config)
        state = {k: v for k, v in self.state_dict().items() if k not in HEAD_TENSORS}
        gpt.load_state_dict(state)
        return gpt.train(self.training)

    @classmethod
    def from_gpt(
        cls,
        gpt: GPT,
        *,
        task: str,
        kind: str,
        num_labels: int,
        label_names: Sequence[str] = (),
        clf_dropout: float = 0.1,
        n_transfer: int | None = None,
        pretrained: bool = True,
    ) -> GPTClassifier:
        """A classifier for ``task`` whose body starts from ``gpt`` (the first ``n_transfer`` blocks; all when
        ``None``; nothing when ``pretrained=False``), with three new special tokens appended (§3.3)."""
        config = dataclasses.replace(gpt.config)
        n_base = config.total_vocab
        special = SpecialTokens(start=n_base, delim=n_base + 1, extract=n_base + 2)
        head = HeadSpec(task, kind, num_labels, special, tuple(label_names), clf_dropout)
        model = cls(config, head)
        if pretrained:
            transfer_layers(gpt, model, n_transfer)
        model.add_special_tokens(3)
        return model


def transfer_layers(source: GPT, target: GPT, n_transfer: int | None = None) -> list[str]:
    """Copy the embeddings (tokens, positions; an untied output layer) and the first ``n_transfer`` blocks
    of ``source`` into ``target`` (Figure 2 left); the final LayerNorm of a pre-LN model only with all blocks.
    Returns the copied parameter names."""
    n_layers = source.config.n_layers
    n = n_layers if n_transfer is None else n_transfer
    if not 0 <= n <= n_layers:
        raise ValueError(
            f"n_transfer must be between 0 and {n_layers} (the pre-trained model's layers), got {n}"
        )
    if target.config.n_layers < n:
        raise ValueError(f"the target has {target.config.n_layers} layers, fewer than n_transfer={n}")
    copied: list[str] = []
    src = source.state_dict()
    dst = target.state_dict()
    with torch.no_grad():
        for name, value in src.items():
            if name.startswith("blocks.layers."):
                if int(name.split(".")[2]) >= n:
                    continue
            elif name.startswith("blocks.final_norm.") and n < n_layers:
                continue
            if name not in dst:
                continue
            if dst[name].shape != value.shape:
                raise ValueError(
                    f"cannot transfer {name}: shape {tuple(value.shape)} vs {tuple(dst[name].shape)}"
                )
            dst[name].copy_(value)
            copied.append(name)
    return copied
