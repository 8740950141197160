"""One training step (forward + loss + backward + optimiser) for every side, as a zero-argument callable.

All sides compute the same loss (label-smoothed cross-entropy, ε = 0.1 for translation; plain NLL for the
language model): the references through ronbun's unfused :func:`label_smoothed_nll` of their logits (outside
Hugging Face's ``labels=`` path, which would add a copy), ronbun as its trainer does, with the output projection
fused into the loss (:func:`output_layer_nll`, same value and gradients).  Every side uses ronbun's
optimiser (Adam, β = (0.9, 0.98), ε = 1e-9, fused where the device has the kernel), ``zero_grad(set_to_none=True)``, dropout on
(train mode).  ``precision="bf16"`` wraps forward and loss in CPU autocast to bfloat16 (weights, gradients
and optimiser state stay fp32: mixed precision, as ronbun's trainer does it).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import torch
from torch import Tensor, nn

from ronbun.training.losses import label_smoothed_nll, nll, output_layer_nll
from ronbun.training.optim import make_optimizer

from .models import PAD_MT

IGNORE = -100


def _autocast(precision: str, device_type: str) -> contextlib.AbstractContextManager:
    if precision == "fp32":
        return contextlib.nullcontext()
    if precision == "bf16":
        return torch.autocast(device_type, dtype=torch.bfloat16)
    raise ValueError(f"precision must be fp32 or bf16, got {precision!r}")


def _step(
    model: nn.Module, loss_fn: Callable[[], Tensor], precision: str, lr: float = 1e-4
) -> Callable[[], Tensor]:
    opt = make_optimizer(model, lr=lr)
    device_type = next(model.parameters()).device.type

    def step() -> Tensor:
        opt.zero_grad(set_to_none=True)
        with _autocast(precision, device_type):
            loss = loss_fn()
        loss.backward()
        opt.step()
        return loss.detach()  # no host sync here: the timer (or the caller) synchronises

    return step


def mt_logits(kind: str, model: nn.Module, batch: dict[str, Tensor]) -> Tensor:
    """Teacher-forced logits ``(B, T, V)`` of one side: ``ours`` (ronbun), ``hf`` (Marian), ``torch``."""
    if kind == "hf":
        return model(
            input_ids=batch["src"], attention_mask=batch["src_mask"], decoder_input_ids=batch["tgt_in"]
        ).logits
    return model(batch["src"], batch["tgt_in"])


def mt_loss(kind: str, model: nn.Module, batch: dict[str, Tensor], pad_id: int = PAD_MT) -> Tensor:
    """Label-smoothed (ε = 0.1) cross-entropy per target token."""
    if kind == "ours":
        hidden = model(batch["src"], batch["tgt_in"], return_hidden=True)  # (B, T, d_model)
        loss_sum, n = output_layer_nll(
            model, hidden, batch["tgt_out"], epsilon=0.1, ignore_index=pad_id, mass="others"
        )
        return loss_sum / n
    loss_sum, n = label_smoothed_nll(
        mt_logits(kind, model, batch), batch["tgt_out"], epsilon=0.1, ignore_index=pad_id
    )
    return loss_sum / n


def mt_train_step(
    kind: str, model: nn.Module, batch: dict[str, Tensor], precision: str = "fp32", pad_id: int = PAD_MT
) -> Callable[[], Tensor]:
    model.train()
    return _step(model, lambda: mt_loss(kind, model, batch, pad_id), precision)


def lm_targets(ids: Tensor) -> Tensor:
    """Next-token targets aligned with every position; the last position has none (ignored)."""
    return torch.cat([ids[:, 1:], torch.full_like(ids[:, :1], IGNORE)], dim=1)


def gpt_loss(kind: str, model: nn.Module, ids: Tensor, targets: Tensor) -> Tensor:
    """GPT-1 Eq. 1: next-token NLL per token (targets shifted instead of logits sliced: no logits copy)."""
    if kind == "ours":
        loss_sum, n = output_layer_nll(model, model(ids, return_hidden=True), targets, ignore_index=IGNORE)
        return loss_sum / n
    logits = model(ids).logits if kind == "hf" else model(ids)
    loss_sum, n = nll(logits, targets, ignore_index=IGNORE)
    return loss_sum / n


def gpt_train_step(kind: str, model: nn.Module, ids: Tensor, precision: str = "fp32") -> Callable[[], Tensor]:
    model.train()
    targets = lm_targets(ids)
    return _step(model, lambda: gpt_loss(kind, model, ids, targets), precision)
