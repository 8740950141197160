"""Training objectives: label-smoothed cross-entropy (Transformer §5.4) and the LM loss (GPT-1 Eq. 1)."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor


def label_smoothed_nll(
    logits: Tensor,
    target: Tensor,
    *,
    epsilon: float = 0.1,
    ignore_index: int = -100,
    mass: str = "others",
) -> tuple[Tensor, Tensor]:
    """§5.4 label smoothing (Szegedy et al.), summed over non-ignored positions.

    ``logits (N, V)`` or ``(B, T, V)``, ``target`` the matching ids.  Returns ``(loss_sum, n_tokens)``.
    The smoothed target puts ``1 - ε`` on the reference token and spreads ``ε`` over the others:
    ``mass="others"`` gives each of the ``V - 1`` wrong labels ``ε / (V - 1)`` (fairseq, tensor2tensor);
    ``mass="all"`` gives every label ``ε / V`` including the target (``torch`` ``label_smoothing``).
    Padding positions (``target == ignore_index``) contribute nothing.

    Both are computed by PyTorch's fused cross-entropy: "others" is exactly ``label_smoothing = ε·V/(V-1)``
    there (target mass ``1 - ε'+ε'/V = 1 - ε``, each other label ``ε'/V = ε/(V-1)``).
    """
    vocab = logits.shape[-1]
    if mass == "others":
        eps = epsilon * vocab / (vocab - 1)
    elif mass == "all":
        eps = epsilon
    else:
        raise ValueError(f"label smoothing mass must be 'others' or 'all', got {mass!r}")
    flat_logits = logits.reshape(-1, vocab)  # (N, V)
    flat_target = target.reshape(-1)  # (N,)
    loss = F.cross_entropy(
        flat_logits.float(), flat_target, ignore_index=ignore_index, label_smoothing=eps, reduction="sum"
    )
    return loss, (flat_target != ignore_index).sum()


def nll(logits: Tensor, target: Tensor, ignore_index: int = -100) -> tuple[Tensor, Tensor]:
    """Plain negative log-likelihood (GPT-1 Eq. 1, and perplexity in evaluation): ``(sum, n_tokens)``."""
    return label_smoothed_nll(logits, target, epsilon=0.0, ignore_index=ignore_index, mass="all")
