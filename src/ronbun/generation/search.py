"""Greedy and beam search, batched over sentences and beams, on any :class:`~.protocols.StepFn`.

"Attention Is All You Need" §6.1: "We used beam search with a beam size of 4 and length penalty α = 0.6
[GNMT]. … We set the maximum output length during inference to input length + 50, but terminate early when
possible."  This module implements exactly that, with every convention written down:

**Hypothesis length** ``|Y|`` = number of generated tokens **including** ``<eos>``, excluding ``<bos>``
(tensor2tensor, fairseq and Hugging Face 5.x all count it this way).  A hypothesis cut at the maximum
length without ``<eos>`` (only with ``force_eos=False``) has ``|Y|`` = its number of tokens.

**Score** = ``log P(Y|X) / lp(|Y|)`` with two *named* length penalties (anchors use one flag name for both):

* ``"gnmt"``: ``lp(Y) = ((5 + |Y|) / 6) ** α`` — Wu et al. 2016 (GNMT), the paper's choice (tensor2tensor,
  OpenNMT-py ``wu``).
* ``"power"``: ``lp(Y) = |Y| ** α`` — fairseq ``--lenpen`` and Hugging Face ``length_penalty``.

With ``α = 0`` both forms are 1 and the score is the plain log-probability.

**Maximum length** ``max_len`` (per sentence; :func:`translate` uses ``a · src_len + b`` with ``a = 1``,
``b = 50``) = the most output tokens a hypothesis may have, ``<eos>`` not counted.  With ``force_eos=True``
(default; fairseq, and Hugging Face Marian's ``forced_eos_token_id``) step ``max_len + 1`` may only produce
``<eos>``, so every hypothesis ends with ``<eos>`` (scored with the model's own log P(<eos>), as fairseq does;
Hugging Face's forcing gives it log-probability 0); with ``force_eos=False`` (Hugging Face's generic
``max_length``) the best candidates of step ``max_len`` are returned as they are, flagged ``finished=False``.

**One beam-search step** (the scheme of tensor2tensor, fairseq and Hugging Face), for each sentence:
take the ``2·beam`` best continuations of all active hypotheses by cumulative log-probability; those among
the first ``beam`` that end in ``<eos>`` (or reach the maximum length) become *finished* (scored with the
length penalty and merged into a pool that keeps the ``beam`` best finished hypotheses); the best ``beam``
continuations that did not end become the next active hypotheses (the KV cache follows them via
``reorder``).  Finished hypotheses never grow.

**Early termination** ("terminate early when possible"), per sentence, ``early_stopping=``:

* ``"bound"`` (default; tensor2tensor's ``stop_early`` bound, which divides by the penalty of the maximum
  length; Hugging Face ``early_stopping="never"``): stop when the ``n_best``-th best finished
  score is ``>=`` the best score any active hypothesis could still reach, ``max(active log P) / lp(L_max)``.
  That is an upper bound because log-probabilities only decrease as a hypothesis grows while ``lp`` only
  increases (``α >= 0``) up to the largest possible ``|Y|`` = ``L_max``.  Hence the returned n-best is
  exactly what decoding on to the maximum length would return — stopping early changes speed, never output.
* ``"finished"`` (fairseq; Hugging Face ``early_stopping=True``): stop as soon as ``beam`` hypotheses have
  finished.  Faster, not exact when ``α > 0`` (a longer hypothesis could still win).
* ``"never"``: decode every sentence to its maximum length (the reference the others are tested against).

A sentence also stops when it has no active hypothesis left or reaches its maximum length.  Finished
sentences are dropped from the batch (their rows leave the KV cache), so they stop costing compute.

``beam = 1`` is greedy search when ``α = 0`` or ``early_stopping="finished"``; with ``"bound"`` and ``α > 0``
it may keep extending the best non-``<eos>`` continuation after greedy's ``<eos>`` because a longer hypothesis
can score higher under the penalty.  Hugging Face's default ``early_stopping=False`` rule (a bound computed
at the *current* length) is a heuristic; with ``α = 0`` it, ``"bound"`` and ``"never"`` return the same best
hypothesis.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from .protocols import EncoderDecoderModel, StepFn

__all__ = [
    "SEARCH_PRESETS",
    "EarlyStopping",
    "Hypothesis",
    "LengthPenalty",
    "SearchResult",
    "TraceCandidate",
    "TraceStep",
    "beam_search",
    "format_trace",
    "greedy_search",
    "length_penalty",
    "translate",
]

LengthPenalty = Literal["gnmt", "power"]
EarlyStopping = Literal["bound", "finished", "never"]

#: Decoding settings of the papers' experiments, usable as ``translate(model, src, **SEARCH_PRESETS[name])``.
SEARCH_PRESETS: dict[str, dict[str, object]] = {
    # §6.1 (WMT 2014 EN-DE / EN-FR, and Table 3 on newstest2013)
    "paper": {"beam": 4, "alpha": 0.6, "length_penalty": "gnmt", "max_len_a": 1.0, "max_len_b": 50},
    # §6.3 English constituency parsing
    "parsing": {"beam": 21, "alpha": 0.3, "length_penalty": "gnmt", "max_len_a": 1.0, "max_len_b": 300},
}


# -- results ---------------------------------------------------------------------------------------------------
@dataclass
class Hypothesis:
    """One output sentence."""

    tokens: list[int]  # generated ids without <bos> and without the final <eos>
    score: float  # log_prob / lp(length); greedy search: log_prob (no penalty)
    log_prob: float  # sum of the log-probabilities of every generated token, <eos> included
    length: int  # |Y| as the length penalty counts it: generated tokens including <eos>
    finished: bool  # True: ended with <eos>; False: cut at the maximum length (force_eos=False only)


@dataclass
class TraceCandidate:
    """One of the ``2·beam`` continuations examined at a step (``beam_search(trace=True)``)."""

    tokens: list[int]  # the whole prefix including this step's token
    log_prob: float  # cumulative log P, before the length penalty
    score: float  # log_prob / lp(step): its score if it ended here, after the length penalty
    status: (
        str  # "active", "finished: eos", "finished: max_len", "dropped: eos beyond the top beam", "dropped"
    )


@dataclass
class TraceStep:
    step: int  # = |Y| of every candidate of this step
    candidates: list[TraceCandidate]
    stopped: str | None = None  # why the sentence stopped after this step


@dataclass
class SearchResult:
    """The n-best list of one sentence, best first (and the step-by-step trace when requested)."""

    hypotheses: list[Hypothesis]
    trace: list[TraceStep] | None = field(default=None, repr=False)

    @property
    def tokens(self) -> list[int]:
        return self.hypotheses[0].tokens if self.hypotheses else []

    @property
    def score(self) -> float:
        return self.hypotheses[0].score if self.hypotheses else float("-inf")


# -- length penalty and argument checks ------------------------------------------------------------------------
def length_penalty(length: Tensor | float, alpha: float, form: LengthPenalty = "gnmt") -> Tensor | float:
    """``lp(|Y|)``: ``"gnmt"`` = ``((5 + |Y|) / 6) ** α`` (Wu et al. 2016; §6.1), ``"power"`` = ``|Y| ** α``
    (fairseq, Hugging Face).  ``|Y|`` counts ``<eos>``."""
    _check_penalty(alpha, form)
    return _penalty(length, alpha, form)


def _penalty(length: Tensor | float, alpha: float, form: LengthPenalty) -> Tensor | float:
    return ((5.0 + length) / 6.0) ** alpha if form == "gnmt" else length**alpha


def _check_penalty(alpha: float, form: str) -> None:
    if form not in ("gnmt", "power"):
        raise ValueError(f"length_penalty must be 'gnmt' or 'power', got {form!r}")
    if not isinstance(alpha, (int, float)) or not math.isfinite(alpha) or alpha < 0:
        raise ValueError(f"alpha (length-penalty exponent) must be a finite number >= 0, got {alpha!r}")


def _check_int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def _check_beam_args(beam: int, alpha: float, length_penalty: str, early_stopping: str, n_best: int) -> None:
    _check_int("beam", beam, 1)
    _check_penalty(alpha, length_penalty)
    _check_int("n_best", n_best, 1)
    if n_best > beam:
        raise ValueError(f"n_best must be <= beam ({beam}), got {n_best}")
    if early_stopping not in ("bound", "finished", "never"):
        raise ValueError(f"early_stopping must be 'bound', 'finished' or 'never', got {early_stopping!r}")


def _max_len_tensor(max_len: int | Tensor, batch: int, device: torch.device, force_eos: bool) -> Tensor:
    minimum = 0 if force_eos else 1
    if isinstance(max_len, Tensor):
        out = max_len.to(device=device, dtype=torch.long).reshape(-1)
        if out.numel() == 1:
            out = out.expand(batch)
        if out.numel() != batch:
            raise ValueError(f"max_len has {out.numel()} entries for a batch of {batch}")
        if bool((out < minimum).any()):
            raise ValueError(f"max_len must be >= {minimum} for every sentence, got {out.tolist()}")
        return out.clone()
    _check_int("max_len", max_len, minimum)
    return torch.full((batch,), max_len, dtype=torch.long, device=device)


def _force_eos(logp: Tensor, is_last: Tensor, eos_id: int) -> Tensor:
    """Rows whose step is their last may only produce ``<eos>``: ``logp (N, ..., V)``, ``is_last (N,)``."""
    not_eos = torch.ones(logp.shape[-1], dtype=torch.bool, device=logp.device)
    not_eos[eos_id] = False
    shape = (-1,) + (1,) * (logp.dim() - 1)
    return logp.masked_fill(is_last.view(shape) & not_eos, float("-inf"))


def _hypothesis(tokens: list[int], score: float, log_prob: float, length: int, eos: bool) -> Hypothesis:
    """A finished hypothesis from its padded token row (the final ``<eos>`` is not part of ``tokens``)."""
    return Hypothesis(tokens[: length - 1] if eos else tokens[:length], score, log_prob, length, eos)


# -- greedy search ---------------------------------------------------------------------------------------------
@torch.no_grad()
def greedy_search(
    step_fn: StepFn, max_len: int | Tensor, *, eos_id: int, force_eos: bool = True
) -> list[SearchResult]:
    """Pick the most probable token at every step, for a whole batch at once.

    ``max_len``: int or ``(B,)`` tensor, output tokens allowed per sentence (``<eos>`` not counted; see the
    module docstring for ``force_eos``).  Rows that finish leave the batch.  The score of a greedy hypothesis
    is its log-probability (no length penalty: greedy search never compares hypotheses of different length).
    """
    logp = step_fn.start()  # (B, V)
    batch, _ = logp.shape
    device = logp.device
    last_step = _max_len_tensor(max_len, batch, device, force_eos) + (1 if force_eos else 0)  # (B,)
    final_steps = set(last_step.tolist())  # steps at which some sentence must end (known up front)
    n_steps = max(final_steps)
    out_tokens = torch.full((batch, n_steps), eos_id, dtype=torch.long, device=device)  # (B, L)
    out_logp = torch.zeros(batch, device=device)
    out_len = torch.zeros(batch, dtype=torch.long, device=device)
    out_eos = torch.zeros(batch, dtype=torch.bool, device=device)
    alive = torch.arange(batch, device=device)  # original sentence index of every row
    t = 0
    while True:
        t += 1
        is_last = last_step[alive] == t  # (Ba,)
        if force_eos and t in final_steps:
            logp = _force_eos(logp, is_last, eos_id)
        tok_logp, tok = logp.max(dim=-1)  # (Ba,), (Ba,)
        out_tokens[alive, t - 1] = tok
        out_logp[alive] += tok_logp
        out_len[alive] = t
        is_eos = tok == eos_id
        out_eos[alive] = is_eos
        ended = is_eos | is_last | torch.isinf(tok_logp)  # (Ba,)
        ended_host = ended.tolist()  # the one host sync per step
        if all(ended_host):
            break
        if any(ended_host):
            keep = (~ended).nonzero().squeeze(1)
            alive, tok = alive[keep], tok[keep]
            step_fn.reorder(keep)
        logp = step_fn.step(tok.unsqueeze(1))  # (Ba, V)

    results = []
    for row, lp_, n, eos in zip(
        out_tokens.tolist(), out_logp.tolist(), out_len.tolist(), out_eos.tolist(), strict=True
    ):
        hyp = _hypothesis(row, lp_, lp_, n, eos)
        results.append(SearchResult([hyp]))
    return results


# -- beam search -----------------------------------------------------------------------------------------------
@dataclass
class _FinishedPool:
    """The finished hypotheses of a beam search: the ``beam`` best of every sentence, best first, indexed
    by original sentence (a step updates the rows of the sentences still decoding, ``alive``)."""

    score: Tensor  # (B, beam) log P / lp(|Y|), -inf for an empty slot
    log_prob: Tensor  # (B, beam) log P, before the length penalty
    length: Tensor  # (B, beam) |Y|
    eos: Tensor  # (B, beam) True: ended with <eos>
    tokens: Tensor  # (B, beam, L) padded with <eos>
    eos_id: int

    @classmethod
    def empty(cls, batch: int, beam: int, n_steps: int, eos_id: int, device: torch.device) -> _FinishedPool:
        return cls(
            score=torch.full((batch, beam), float("-inf"), device=device),
            log_prob=torch.full((batch, beam), float("-inf"), device=device),
            length=torch.zeros((batch, beam), dtype=torch.long, device=device),
            eos=torch.zeros((batch, beam), dtype=torch.bool, device=device),
            tokens=torch.full((batch, beam, n_steps), eos_id, dtype=torch.long, device=device),
            eos_id=eos_id,
        )

    def merge(
        self, alive: Tensor, t: int, score: Tensor, log_prob: Tensor, eos: Tensor, tokens: Tensor
    ) -> Tensor:
        """Merge the ``k2`` candidates of step ``t`` of the ``alive`` sentences (``score (Ba, k2)``, -inf
        for those that did not finish; ``log_prob``, ``eos (Ba, k2)``; ``tokens (Ba, k2, t)``) and keep the
        ``beam`` best.  Returns the kept scores ``(Ba, beam)``, best first."""
        beam, n_steps = self.tokens.shape[1:]
        keep_score, keep_i = torch.cat([self.score[alive], score], dim=1).topk(beam, dim=1)  # (Ba, beam)
        self.score[alive] = keep_score
        self.log_prob[alive] = torch.cat([self.log_prob[alive], log_prob], dim=1).gather(1, keep_i)
        length = torch.full_like(eos, t, dtype=torch.long)  # (Ba, k2)
        self.length[alive] = torch.cat([self.length[alive], length], dim=1).gather(1, keep_i)
        self.eos[alive] = torch.cat([self.eos[alive], eos], dim=1).gather(1, keep_i)
        padded = F.pad(tokens, (0, n_steps - t), value=self.eos_id)  # (Ba, k2, L)
        merged = torch.cat([self.tokens[alive], padded], dim=1)  # (Ba, beam + k2, L)
        self.tokens[alive] = merged.gather(1, keep_i.unsqueeze(2).expand(-1, -1, n_steps))
        return keep_score

    def results(self, n_best: int, traces: list[list[TraceStep]] | None) -> list[SearchResult]:
        """The ``n_best`` best finished hypotheses of every sentence (empty slots left out)."""
        columns = (self.score, self.log_prob, self.length, self.eos, self.tokens)
        results = []
        for b, rows in enumerate(zip(*(c.tolist() for c in columns), strict=True)):
            hyps = [
                _hypothesis(toks, s, lp_, n, eos)
                for s, lp_, n, eos, toks in zip(*rows, strict=True)
                if s > float("-inf")
            ][:n_best]
            results.append(SearchResult(hyps, traces[b] if traces is not None else None))
        return results


def _early_stop(rule: EarlyStopping, pool_score: Tensor, reachable: Tensor, n_best: int) -> Tensor:
    """§6.1 "terminate early when possible", per sentence (the rules are in the module docstring):
    ``pool_score (Ba, beam)`` the finished pool's scores, best first; ``reachable (Ba,)`` the best score an
    active hypothesis could still reach.  Returns ``(Ba,)`` bool."""
    if rule == "bound":
        return pool_score[:, n_best - 1] >= reachable
    if rule == "finished":
        return (pool_score > float("-inf")).sum(dim=1) >= pool_score.shape[1]
    return torch.zeros_like(reachable, dtype=torch.bool)


@torch.no_grad()
def beam_search(
    step_fn: StepFn,
    max_len: int | Tensor,
    *,
    eos_id: int,
    beam: int = 4,
    alpha: float = 0.6,
    length_penalty: LengthPenalty = "gnmt",
    early_stopping: EarlyStopping = "bound",
    n_best: int = 1,
    force_eos: bool = True,
    trace: bool = False,
) -> list[SearchResult]:
    """Batched beam search (Attention Is All You Need §6.1); rules in the module docstring.

    ``step_fn`` holds ``B`` rows when called (one per sentence); the search expands them to ``B × beam`` rows
    after the first step and keeps them there, all sentences and beams in one tensor.  Returns, per sentence,
    the ``n_best`` best finished hypotheses (fewer only if fewer ever had a non-zero probability), and with
    ``trace=True`` every step's ``2·beam`` candidates with their scores before and after the length penalty.
    """
    _check_beam_args(beam, alpha, length_penalty, early_stopping, n_best)

    lp = functools.partial(_penalty, alpha=alpha, form=length_penalty)
    neg_inf = float("-inf")
    logp = step_fn.start()  # (B, V): only one hypothesis (the empty one) per sentence at step 1
    batch, vocab = logp.shape
    device = logp.device
    k = beam
    last_step = _max_len_tensor(max_len, batch, device, force_eos) + (1 if force_eos else 0)  # (B,) = L_max
    final_steps = set(last_step.tolist())  # steps at which some sentence must end (known up front)
    n_steps = max(final_steps)
    best_reachable_lp = lp(last_step.float())  # (B,) lp(L_max), for the "bound" rule

    pool = _FinishedPool.empty(batch, k, n_steps, eos_id, device)

    # active hypotheses of the sentences still being decoded (Ba of them); K_cur = 1 at step 1, then beam
    alive = torch.arange(batch, device=device)  # (Ba,) original sentence index
    scores = torch.zeros((batch, 1), device=device)  # (Ba, K_cur) cumulative log P
    tokens = torch.zeros((batch, 1, 0), dtype=torch.long, device=device)  # (Ba, K_cur, t-1)
    traces: list[list[TraceStep]] | None = [[] for _ in range(batch)] if trace else None

    t = 0
    while True:
        t += 1
        n_alive, k_cur = scores.shape
        is_last = last_step[alive] == t  # (Ba,)
        logp = logp.reshape(n_alive, k_cur, vocab)  # (Ba, K_cur, V)
        if force_eos and t in final_steps:
            logp = _force_eos(logp, is_last, eos_id)
        cand = (scores.unsqueeze(2) + logp).view(n_alive, k_cur * vocab)  # (Ba, K_cur·V)
        k2 = min(2 * k, k_cur * vocab)
        top_s, top_i = cand.topk(k2, dim=1)  # (Ba, k2), best first
        src_beam = torch.div(top_i, vocab, rounding_mode="floor")  # (Ba, k2) which hypothesis it extends
        tok = top_i % vocab  # (Ba, k2) with which token
        finite = top_s > neg_inf
        is_eos = tok == eos_id
        in_top_beam = torch.arange(k2, device=device) < k  # (k2,)
        finalize = finite & in_top_beam & (is_eos | is_last.unsqueeze(1))  # (Ba, k2)
        cont = finite & ~is_eos & ~is_last.unsqueeze(1)  # (Ba, k2) may stay active
        prefix = tokens.gather(1, src_beam.unsqueeze(2).expand(-1, -1, t - 1))  # (Ba, k2, t-1)
        cand_tokens = torch.cat([prefix, tok.unsqueeze(2)], dim=2)  # (Ba, k2, t)

        # merge the newly finished into the pool and keep its `beam` best (scores after the penalty)
        new_score = torch.where(finalize, top_s / lp(float(t)), neg_inf)  # (Ba, k2)
        keep_score = pool.merge(alive, t, new_score, top_s, is_eos, cand_tokens)  # (Ba, beam)

        # the next active hypotheses: the best `beam` continuations that did not end
        act_all = torch.where(cont, top_s, neg_inf)  # (Ba, k2)
        if k2 < k:  # tiny vocabularies: pad with impossible hypotheses
            act_all = F.pad(act_all, (0, k - k2), value=neg_inf)
            src_beam, tok = F.pad(src_beam, (0, k - k2)), F.pad(tok, (0, k - k2), value=eos_id)
            cand_tokens = F.pad(cand_tokens, (0, 0, 0, k - k2), value=eos_id)
        scores, sel = act_all.topk(k, dim=1)  # (Ba, beam), best first
        act_beam, act_tok = src_beam.gather(1, sel), tok.gather(1, sel)  # (Ba, beam)
        tokens = cand_tokens.gather(1, sel.unsqueeze(2).expand(-1, -1, t))  # (Ba, beam, t)

        # early termination, per sentence
        best_active = scores[:, 0]  # (Ba,)
        no_active = best_active == neg_inf
        reachable = best_active / best_reachable_lp[alive]  # (Ba,) the best score still possible
        rule = _early_stop(early_stopping, keep_score, reachable, n_best)
        stop = rule | no_active | is_last  # (Ba,)

        if traces is not None:
            _record(traces, t, alive, top_s, cand_tokens[:, :k2], finalize, is_eos, is_last, in_top_beam,
                    sel, scores, lp(float(t)), stop, rule, no_active, early_stopping, keep_score[:, n_best - 1],
                    reachable)  # fmt: skip

        stop_host = stop.tolist()  # the one host sync per step
        if all(stop_host):
            break
        rows = torch.arange(n_alive, device=device)
        if any(stop_host):  # drop finished sentences from the batch
            rows = (~stop).nonzero().squeeze(1)
            alive, scores, tokens = alive[rows], scores[rows], tokens[rows]
            act_beam, act_tok = act_beam[rows], act_tok[rows]
        step_fn.reorder((rows.unsqueeze(1) * k_cur + act_beam).view(-1))  # state rows of the chosen prefixes
        logp = step_fn.step(act_tok.reshape(-1, 1))  # (Ba·beam, V)

    return pool.results(n_best, traces)


def _record(
    traces: list[list[TraceStep]],
    t: int,
    alive: Tensor,
    top_s: Tensor,
    cand_tokens: Tensor,
    finalize: Tensor,
    is_eos: Tensor,
    is_last: Tensor,
    in_top_beam: Tensor,
    sel: Tensor,
    scores: Tensor,
    penalty: float,
    stop: Tensor,
    rule: Tensor,
    no_active: Tensor,
    early_stopping: str,
    nth_finished: Tensor,
    bound: Tensor,
) -> None:
    """Append one :class:`TraceStep` per alive sentence (host copies: only used with ``trace=True``)."""
    k2 = finalize.shape[1]
    chosen = (sel.unsqueeze(2) == torch.arange(k2, device=sel.device)) & (scores > float("-inf")).unsqueeze(2)
    active = chosen.any(dim=1)  # (Ba, k2): candidate j became an active hypothesis
    for i, b in enumerate(alive.tolist()):
        cands = []
        for j, (s, toks) in enumerate(zip(top_s[i].tolist(), cand_tokens[i].tolist(), strict=True)):
            if s == float("-inf"):
                continue
            if bool(finalize[i, j]):
                status = "finished: eos" if bool(is_eos[i, j]) else "finished: max_len"
            elif bool(active[i, j]):
                status = "active"
            elif bool(is_eos[i, j]) and not bool(in_top_beam[j]):
                status = "dropped: eos beyond the top beam"
            else:
                status = "dropped"
            cands.append(TraceCandidate(toks, s, s / penalty, status))
        reason = None
        if bool(stop[i]):
            if bool(is_last[i]):
                reason = "maximum length reached"
            elif bool(no_active[i]):
                reason = "no active hypothesis left"
            elif early_stopping == "bound" and bool(rule[i]):
                reason = (
                    f"bound: n-best finished score {float(nth_finished[i]):.4f} >= best score an active "
                    f"hypothesis can still reach {float(bound[i]):.4f}"
                )
            else:
                reason = "finished: beam hypotheses have finished"
        traces[b].append(TraceStep(t, cands, reason))


def format_trace(result: SearchResult, itos: object = None) -> str:
    """Human-readable trace of one sentence's beam search (``beam_search(..., trace=True)``).  ``itos``: an
    optional callable or sequence mapping ids to strings."""
    if result.trace is None:
        return "(no trace: run beam_search with trace=True)"

    def word(i: int) -> str:
        if itos is None:
            return str(i)
        return str(itos(i)) if callable(itos) else str(itos[i])  # type: ignore[index]

    lines = []
    for step in result.trace:
        lines.append(f"step {step.step}  (|Y| = {step.step})")
        for c in step.candidates:
            text = " ".join(word(i) for i in c.tokens)
            lines.append(f"  {c.log_prob:9.4f}  {c.score:9.4f}  {c.status:<34} {text}")
        if step.stopped:
            lines.append(f"  stop: {step.stopped}")
    return "\n".join(lines)


# -- the Transformer -------------------------------------------------------------------------------------------
def translate(
    model: EncoderDecoderModel,
    src: Tensor,
    *,
    search: Literal["beam", "greedy"] = "beam",
    beam: int = 4,
    alpha: float = 0.6,
    length_penalty: LengthPenalty = "gnmt",
    max_len_a: float = 1.0,
    max_len_b: int = 50,
    early_stopping: EarlyStopping = "bound",
    n_best: int = 1,
    force_eos: bool = True,
    banned_ids: list[int] | None = None,
    trace: bool = False,
) -> list[SearchResult]:
    """Translate a padded batch ``src (B, S)`` with the §6.1 settings by default: beam 4, GNMT length penalty
    α = 0.6, at most ``max_len_a · src_len + max_len_b`` (= input length + 50) output tokens, early
    termination.  ``src_len`` counts the non-padding source tokens of each sentence.  ``banned_ids``
    defaults to ``[pad_id]``.  Call ``model.eval()`` first.  ``model`` is any
    :class:`~.protocols.EncoderDecoderModel`: the search sees only ``model.step_fn(src, banned_ids)``."""
    if search not in ("beam", "greedy"):
        raise ValueError(f"search must be 'beam' or 'greedy', got {search!r}")
    if not isinstance(max_len_a, (int, float)) or not math.isfinite(max_len_a) or max_len_a < 0:
        raise ValueError(f"max_len_a must be a finite number >= 0, got {max_len_a!r}")
    _check_int("max_len_b", max_len_b, 0)
    settings = {
        "beam": beam,
        "alpha": alpha,
        "length_penalty": length_penalty,
        "early_stopping": early_stopping,
        "n_best": n_best,
    }
    if search == "beam":
        _check_beam_args(**settings)  # before the encoder runs
    adapter = model.step_fn(src, banned_ids)
    max_len = adapter.max_lengths(max_len_a, max_len_b)
    if search == "greedy":
        return greedy_search(adapter, max_len, eos_id=adapter.eos_id, force_eos=force_eos)
    return beam_search(adapter, max_len, eos_id=adapter.eos_id, force_eos=force_eos, trace=trace, **settings)
