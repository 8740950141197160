"""Sampling (temperature, top-k, nucleus/top-p) and greedy decoding for language models, KV-cached.

GPT-1 itself only *scores* text (the zero-shot heuristics of §5 compare log-probabilities); generating from
the language model of Eq. 2 is the usual way to look at what it learned.  The prompt is fed once (one forward
pass fills the cache), then one token per step.

Order of the transformations, as in Hugging Face: ``log-softmax → / temperature → top-k → top-p → sample``.
``temperature`` must be ``> 0`` (``temperature → 0`` is the argmax: ask for it with ``do_sample=False``).
``top_k = 1`` and a tiny ``top_p`` both reduce sampling to greedy decoding.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor

from .protocols import LanguageModel, StepFn

__all__ = ["filter_log_probs", "generate", "sample"]


def _check_sampling(temperature: float, top_k: int | None, top_p: float | None) -> None:
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)):
        raise ValueError(f"temperature must be a number > 0, got {temperature!r}")
    if not math.isfinite(temperature) or temperature <= 0:
        raise ValueError(
            f"temperature must be a finite number > 0, got {temperature!r} (use do_sample=False for argmax)"
        )
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1):
        raise ValueError(f"top_k must be None (no limit) or an integer >= 1, got {top_k!r}")
    if top_p is not None and (
        isinstance(top_p, bool) or not isinstance(top_p, (int, float)) or not 0.0 < top_p <= 1.0
    ):
        raise ValueError(f"top_p must be None (no limit) or in (0, 1], got {top_p!r}")


def filter_log_probs(logp: Tensor, *, top_k: int | None = None, top_p: float | None = None) -> Tensor:
    """Set to ``-inf`` every token outside the ``top_k`` most probable (ties at the k-th value are kept) and
    outside the nucleus: the smallest set of most probable tokens whose probability reaches ``top_p``
    (Holtzman et al. 2020; the most probable token is always kept).  ``logp (N, V)`` → ``(N, V)``."""
    _check_sampling(1.0, top_k, top_p)
    if top_k is not None and top_k < logp.shape[-1]:
        kth = logp.topk(top_k, dim=-1).values[:, -1:]  # (N, 1)
        logp = logp.masked_fill(logp < kth, float("-inf"))
    if top_p is not None and top_p < 1.0:
        sorted_logp, order = logp.sort(dim=-1, descending=True)  # (N, V)
        probs = torch.softmax(sorted_logp, dim=-1)
        before = probs.cumsum(dim=-1) - probs  # probability mass strictly before each token
        drop_sorted = before >= top_p
        drop_sorted[:, 0] = False
        drop = torch.zeros_like(drop_sorted).scatter(1, order, drop_sorted)
        logp = logp.masked_fill(drop, float("-inf"))
    return logp


@torch.no_grad()
def sample(
    step_fn: StepFn,
    max_new_tokens: int,
    *,
    do_sample: bool = True,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: torch.Generator | None = None,
    eos_id: int | None = None,
) -> Tensor:
    """Generate up to ``max_new_tokens`` tokens for every row of ``step_fn`` → ``(N, T)`` int64, ``T <=
    max_new_tokens``.  With ``eos_id``, a row that produced ``<eos>`` keeps producing ``<eos>`` (its remaining
    positions are filled with ``eos_id``) and decoding stops early once every row has; without it, exactly
    ``max_new_tokens`` tokens.  ``do_sample=False``: argmax at every step (``temperature``, ``top_k`` and
    ``top_p`` are then irrelevant)."""
    if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int) or max_new_tokens < 1:
        raise ValueError(f"max_new_tokens must be an integer >= 1, got {max_new_tokens!r}")
    _check_sampling(temperature, top_k, top_p)
    logp = step_fn.start()  # (N, V)
    done = torch.zeros(logp.shape[0], dtype=torch.bool, device=logp.device)
    out: list[Tensor] = []
    for i in range(max_new_tokens):
        if do_sample:
            scaled = filter_log_probs(logp / temperature, top_k=top_k, top_p=top_p)  # (N, V)
            probs = torch.softmax(scaled, dim=-1)
            tok = torch.multinomial(probs, 1, generator=generator).squeeze(1)  # (N,)
        else:
            tok = logp.argmax(dim=-1)  # (N,)
        if eos_id is not None:
            tok = tok.masked_fill(done, eos_id)
            done = done | (tok == eos_id)
        out.append(tok)
        if i == max_new_tokens - 1 or (eos_id is not None and bool(done.all())):
            break
        logp = step_fn.step(tok.unsqueeze(1))
    return torch.stack(out, dim=1)  # (N, T)


def _as_prompt(prompt_ids: Tensor | Sequence[int] | Sequence[Sequence[int]], device: torch.device) -> Tensor:
    if isinstance(prompt_ids, Tensor):
        prompt = prompt_ids
    else:
        rows = list(prompt_ids)
        if rows and not isinstance(rows[0], (list, tuple)):
            rows = [rows]
        lengths = {len(r) for r in rows}
        if len(lengths) > 1:
            raise ValueError(
                f"prompt_ids have unequal lengths {sorted(lengths)}: GPT-1 has learned absolute positions and "
                "no padding token, so batch only prompts of one length (or call generate once per prompt)"
            )
        prompt = torch.tensor(rows, dtype=torch.long)
    if prompt.dim() == 1:
        prompt = prompt.unsqueeze(0)
    if prompt.dim() != 2 or prompt.shape[1] == 0 or prompt.shape[0] == 0:
        raise ValueError(
            f"prompt_ids must be a non-empty (batch, length) array, got shape {tuple(prompt.shape)}"
        )
    return prompt.to(device=device, dtype=torch.long)


def generate(
    model: LanguageModel,
    prompt_ids: Tensor | Sequence[int] | Sequence[Sequence[int]],
    max_new_tokens: int,
    *,
    do_sample: bool = True,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    seed: int | None = None,
    generator: torch.Generator | None = None,
    eos_id: int | None = None,
    banned_ids: Sequence[int] | None = None,
) -> Tensor:
    """Continue each prompt with the GPT-1 language model (Eq. 2), using the KV cache (``model.step_fn``:
    any :class:`~.protocols.LanguageModel`).

    ``prompt_ids``: ``(B, P)`` tensor, a 1-D tensor / list (one prompt) or a list of equal-length lists;
    prompts of unequal length are a ``ValueError`` (no padding in GPT-1).  Returns ``(B, P + T)``: prompt
    followed by the generated ids (``T <= max_new_tokens``; see :func:`sample` for ``eos_id``), or ``(P + T,)``
    for a 1-D prompt.  Randomness comes only from ``generator`` or a fresh one seeded with ``seed``
    (not both), so a seed reproduces its output exactly.
    """
    if seed is not None and generator is not None:
        raise ValueError("pass either seed or generator, not both")
    device = next(model.parameters()).device
    one_d = (isinstance(prompt_ids, Tensor) and prompt_ids.dim() == 1) or (
        not isinstance(prompt_ids, Tensor)
        and len(prompt_ids) > 0
        and not isinstance(prompt_ids[0], (list, tuple))
    )
    prompt = _as_prompt(prompt_ids, device)
    if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int) or max_new_tokens < 1:
        raise ValueError(f"max_new_tokens must be an integer >= 1, got {max_new_tokens!r}")
    n_ctx = model.config.n_ctx
    if prompt.shape[1] + max_new_tokens - 1 > n_ctx:
        raise ValueError(
            f"prompt length {prompt.shape[1]} + max_new_tokens {max_new_tokens} needs "
            f"{prompt.shape[1] + max_new_tokens - 1} positions, more than n_ctx={n_ctx}"
        )
    _check_sampling(temperature, top_k, top_p)
    if seed is not None:
        generator = torch.Generator(device=device).manual_seed(seed)
    new = sample(
        model.step_fn(prompt, banned_ids),
        max_new_tokens,
        do_sample=do_sample,
        temperature=temperature,
        top_k=top_k,
        top_p=top_p,
        generator=generator,
        eos_id=eos_id,
    )
    out = torch.cat([prompt, new], dim=1)  # (B, P + T)
    return out[0] if one_d else out
