"""Learning-rate schedules of both papers, as multipliers usable with ``torch.optim.lr_scheduler.LambdaLR``.

* ``noam`` — Transformer §5.3, Eq. 3: ``lrate = d_model^-0.5 · min(step^-0.5, step · warmup^-1.5)``
  (times a ``scale`` factor; the paper's is 1).
* ``cosine`` — GPT-1 §4.1: linear warm-up over the first 2,000 updates to the maximum, then cosine annealing
  to 0 at ``total_steps``.
* ``linear`` — GPT-1 §4.1 fine-tuning: linear warm-up over 0.2% of training, then linear decay to 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable


def noam(step: int, d_model: int, warmup: int = 4000, scale: float = 1.0) -> float:
    """Eq. 3 (1-based ``step``): increases linearly for ``warmup`` steps, then decays as ``step^-0.5``."""
    step = max(step, 1)
    return scale * d_model**-0.5 * min(step**-0.5, step * warmup**-1.5)


def warmup_cosine(step: int, peak: float, warmup: int, total: int) -> float:
    """GPT-1 pre-training: ``peak · step/warmup`` during warm-up, then ``peak · ½(1 + cos(π·progress))``."""
    if step < warmup:
        return peak * step / max(warmup, 1)
    progress = min(1.0, (step - warmup) / max(total - warmup, 1))
    return peak * 0.5 * (1.0 + math.cos(math.pi * progress))


def warmup_linear(step: int, peak: float, warmup: int, total: int) -> float:
    """GPT-1 fine-tuning: linear warm-up then linear decay to 0 at ``total``."""
    if step < warmup:
        return peak * step / max(warmup, 1)
    return peak * max(0.0, (total - step) / max(total - warmup, 1))


def make_schedule(name: str, *, d_model: int, lr: float, warmup: int, total: int) -> Callable[[int], float]:
    """Absolute learning rate as a function of the 1-based optimiser step.

    For ``noam`` the ``lr`` argument is the scale factor of Eq. 3 (1.0 = the paper); otherwise it is the
    peak learning rate (GPT-1: 2.5e-4 pre-training, 6.25e-5 fine-tuning)."""
    if name == "noam":
        return lambda s: noam(s, d_model, warmup, lr)
    if name == "cosine":
        return lambda s: warmup_cosine(s, lr, warmup, total)
    if name == "linear":
        return lambda s: warmup_linear(s, lr, warmup, total)
    if name == "constant":
        return lambda s: lr
    raise ValueError(f"unknown lr schedule {name!r}; choose noam, cosine, linear or constant")
