"""Training objectives: label-smoothed cross-entropy (Transformer §5.4) and the LM loss (GPT-1 Eq. 1)."""

from __future__ import annotations

from typing import Any

import torch
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
    eps = _smoothing(epsilon, vocab, mass)
    flat_logits = logits.reshape(-1, vocab)  # (N, V)
    flat_target = target.reshape(-1)  # (N,)
    loss = F.cross_entropy(
        flat_logits.to(torch.promote_types(flat_logits.dtype, torch.float32)),  # fp32 unless fp64
        flat_target,
        ignore_index=ignore_index,
        label_smoothing=eps,
        reduction="sum",
    )
    return loss, (flat_target != ignore_index).sum()


def nll(logits: Tensor, target: Tensor, ignore_index: int = -100) -> tuple[Tensor, Tensor]:
    """Plain negative log-likelihood (GPT-1 Eq. 1, and perplexity in evaluation): ``(sum, n_tokens)``."""
    return label_smoothed_nll(logits, target, epsilon=0.0, ignore_index=ignore_index, mass="all")


def _smoothing(epsilon: float, vocab: int, mass: str) -> float:
    """The ``label_smoothing`` of PyTorch's ("all") convention that gives ``mass`` (see below)."""
    if mass == "others":
        return epsilon * vocab / (vocab - 1)
    if mass == "all":
        return epsilon
    raise ValueError(f"label smoothing mass must be 'others' or 'all', got {mass!r}")


class _ProjectedCrossEntropy(torch.autograd.Function):
    """``Σ_i CE_ε(h_i Wᵀ + b, t_i)`` without materialising the ``(N, V)`` logits (§3.4 + §5.4 fused).

    Per row the loss is ``(1-ε)(lse - z_t) + ε(lse - mean z)`` and its gradient w.r.t. the logits is
    ``softmax(z) - (1-ε)·onehot(t) - ε/V`` (zero on ignored rows).  Each chunk of rows computes its logits,
    loss and that gradient, and at once the two products that need it (``dh = dz W``, ``dW += dzᵀ h``):
    only ``dh (N, d)`` and ``dW (V, d)`` are kept for the backward pass, which scales them.
    """

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any,
        hidden: Tensor,  # (N, d)
        weight: Tensor,  # (V, d)
        bias: Tensor | None,  # (V,)
        target: Tensor,  # (N,)
        row_weight: Tensor | None,  # (N,) or None (all 1)
        epsilon: float,
        ignore_index: int,
        chunk: int,
    ) -> Tensor:
        device = hidden.device.type
        autocast = torch.is_autocast_enabled(device)
        dtype = torch.get_autocast_dtype(device) if autocast else hidden.dtype  # GEMM precision
        acc = torch.promote_types(dtype, torch.float32)  # softmax and accumulation precision
        want_h, want_w = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        want_b = bias is not None and ctx.needs_input_grad[2]
        n, v = hidden.shape[0], weight.shape[0]
        w = weight.to(dtype)  # (V, d)
        grad_h = torch.empty(hidden.shape, dtype=hidden.dtype, device=hidden.device) if want_h else None
        grad_w = torch.zeros(weight.shape, dtype=acc, device=weight.device) if want_w else None
        grad_b = torch.zeros(v, dtype=acc, device=weight.device) if want_b else None
        total = torch.zeros((), dtype=acc, device=hidden.device)
        rows = torch.arange(min(chunk, n), device=hidden.device)
        with torch.autocast(device, enabled=False):
            for s in range(0, n, chunk):
                h = hidden[s : s + chunk].to(dtype)  # (c, d)
                t = target[s : s + chunk]  # (c,)
                z = F.linear(h, w).to(acc)  # (c, V) logits of this chunk only
                if bias is not None:
                    z += bias
                valid = t != ignore_index  # (c,)
                keep = valid.to(acc)  # (c,) each row's weight in the sum
                if row_weight is not None:
                    keep = keep * row_weight[s : s + chunk].to(acc)
                tt = torch.where(valid, t, 0)
                lse = torch.logsumexp(z, dim=1)  # (c,)
                z_t = z.gather(1, tt[:, None]).squeeze(1)  # (c,)
                loss = (1 - epsilon) * (lse - z_t) + epsilon * (lse - z.mean(dim=1))
                total += (loss.masked_fill(~valid, 0.0) * keep).sum()
                if not (want_h or want_w or want_b):
                    continue
                g = z.sub_(lse[:, None]).exp_()  # softmax, in place of the logits, (c, V)
                if epsilon:
                    g.sub_(epsilon / v)
                g[rows[: h.shape[0]], tt] -= 1 - epsilon
                g.mul_(keep[:, None])
                if grad_b is not None:
                    grad_b += g.sum(dim=0)
                g = g.to(dtype)
                if grad_h is not None:
                    grad_h[s : s + chunk] = g @ w  # (c, d)
                if grad_w is not None:
                    grad_w += g.t() @ h  # (V, d)
        ctx.save_for_backward(grad_h, grad_w, grad_b)
        ctx.dtypes = (weight.dtype, bias.dtype if bias is not None else None)
        return total

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> tuple[Tensor | None, ...]:  # type: ignore[override]
        grad_h, grad_w, grad_b = ctx.saved_tensors
        dh = grad_h * grad_out.to(grad_h.dtype) if grad_h is not None else None
        dw = (grad_w * grad_out).to(ctx.dtypes[0]) if grad_w is not None else None
        db = (grad_b * grad_out).to(ctx.dtypes[1]) if grad_b is not None else None
        return dh, dw, db, None, None, None, None, None


def projected_label_smoothed_nll(
    hidden: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    target: Tensor,
    *,
    epsilon: float = 0.1,
    ignore_index: int = -100,
    mass: str = "others",
    chunk: int = 2048,
    row_weight: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """:func:`label_smoothed_nll` of the logits ``hidden Wᵀ + b`` (§3.4's pre-softmax projection), fused.

    ``hidden (B, T, d)`` or ``(N, d)``, ``weight (V, d)``, ``bias (V,)`` or ``None``.  Same value and
    gradients as ``label_smoothed_nll(F.linear(hidden, weight, bias), target, ...)`` (tested to 1e-12 in
    float64), but the logits exist only ``chunk`` rows at a time and their gradient is formed in the forward
    pass, so neither the ``(N, V)`` logits, their log-probabilities nor their gradient are ever stored: 5-9 %
    faster training on CPU and less memory (docs/performance.md, P5).  Under ``torch.compile`` tracing it
    falls back to the unfused expression, which the compiler fuses itself.

    ``row_weight`` (shaped like ``target``) weighs each position's loss in the sum, e.g. ``1/length`` for a
    sum of per-sequence means (GPT-1's auxiliary LM loss, Eq. 5); the count returned is unweighted.
    """
    if torch.compiler.is_compiling():
        logits = F.linear(hidden, weight, bias)
        if row_weight is None:
            return label_smoothed_nll(logits, target, epsilon=epsilon, ignore_index=ignore_index, mass=mass)
        v = logits.shape[-1]
        per_row = F.cross_entropy(
            logits.float().reshape(-1, v), target.reshape(-1), ignore_index=ignore_index, reduction="none",
            label_smoothing=_smoothing(epsilon, v, mass),
        )  # fmt: skip
        return (per_row * row_weight.reshape(-1)).sum(), (target != ignore_index).sum()
    eps = _smoothing(epsilon, weight.shape[0], mass)
    flat_h = hidden.reshape(-1, hidden.shape[-1])  # (N, d)
    flat_t = target.reshape(-1)  # (N,)
    flat_w = row_weight.reshape(-1) if row_weight is not None else None  # (N,)
    counted = flat_t != ignore_index  # (N,)
    if not bool(counted.all()):  # padding: only the scored rows go through the (V-wide) output layer
        rows = counted.nonzero().squeeze(1)  # (n,)
        flat_h, flat_t = flat_h.index_select(0, rows), flat_t.index_select(0, rows)
        flat_w = flat_w.index_select(0, rows) if flat_w is not None else None
    loss = _ProjectedCrossEntropy.apply(flat_h, weight, bias, flat_t, flat_w, eps, ignore_index, chunk)
    return loss, counted.sum()


def output_layer_nll(
    model: torch.nn.Module,
    hidden: Tensor,
    target: Tensor,
    *,
    epsilon: float = 0.0,
    ignore_index: int = -100,
    mass: str = "all",
    row_weight: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """The training loss of a ronbun model from its final hidden states ``(B, T, d_model)``: the model's own
    output layer (``output_layer()``: the tied embedding, Marian's logits bias) fused into the
    label-smoothed NLL by :func:`projected_label_smoothed_nll`.  ``model`` may be wrapped in DDP or
    ``torch.compile``.  ``epsilon = 0`` is GPT-1's Eq. 1; the Transformer passes §5.4's ε and mass."""
    from .distributed import unwrap

    weight, bias = unwrap(model).output_layer()  # type: ignore[operator]  # (V, d_model), (V,) | None
    return projected_label_smoothed_nll(
        hidden, weight, bias, target, epsilon=epsilon, ignore_index=ignore_index, mass=mass,
        row_weight=row_weight,
    )  # fmt: skip
