"""Optimisers as the papers specify them.

* Transformer §5.3: Adam with β1 = 0.9, β2 = 0.98, ε = 1e-9, no weight decay.
* GPT-1 §4.1: Adam with "a modified version of L2 regularization" (Loshchilov & Hutter): decoupled weight
  decay ``w = 0.01`` on all non-bias, non-gain weights — i.e. ``AdamW`` with two parameter groups.
"""

from __future__ import annotations

import torch
from torch import nn


def parameter_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Matrices (and embeddings) decay; biases and LayerNorm gains (1-D tensors) do not."""
    decay, no_decay = [], []
    seen: set[int] = set()
    for _, p in model.named_parameters():
        if not p.requires_grad or id(p) in seen:
            continue
        seen.add(id(p))
        (decay if p.dim() >= 2 else no_decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def make_optimizer(
    model: nn.Module,
    *,
    lr: float,
    betas: tuple[float, float] = (0.9, 0.98),
    eps: float = 1e-9,
    weight_decay: float = 0.0,
) -> torch.optim.Optimizer:
    """Adam (``weight_decay = 0``) or decoupled-decay AdamW over :func:`parameter_groups`.

    ``fused=True`` where every parameter lives on a device with a fused kernel (CPU, CUDA): one kernel per
    tensor, no temporaries (deterministic on CPU; 6x faster than ``foreach`` on CPU with torch 2.13, see
    docs/performance.md); otherwise ``foreach=True``."""
    groups = parameter_groups(model, weight_decay)
    fused = all(p.device.type in ("cpu", "cuda") for g in groups for p in g["params"])
    return torch.optim.AdamW(
        groups, lr=lr, betas=betas, eps=eps, **({"fused": True} if fused else {"foreach": True})
    )
