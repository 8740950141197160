"""Beam search (Attention Is All You Need §6.1) as a specification.

Most tests drive hand-built toy decoders whose next-token probabilities are a fixed table, so every output
and every score can be written down in advance (the pattern of fairseq's test_sequence_generator).  The last
tests run a tiny random Transformer against a slow reference: a plain-Python beam search over one sentence
at a time that recomputes the full forward pass ``model(src, tgt_in)`` for every hypothesis at every step.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence

import pytest
import torch
from torch import Tensor

from ronbun import Transformer, TransformerConfig
from ronbun.generation import (
    StepFn,
    beam_search,
    format_trace,
    greedy_search,
    length_penalty,
    translate,
)
from ronbun.models.decoding import EncoderDecoderAdapter
from ronbun.models.ensemble import TransformerEnsemble, mean_probability

PAD, BOS, EOS, A, B, C = range(6)
V = 6
NEG_INF = float("-inf")

Table = dict[tuple[int, ...], dict[int, float]]
# unlisted prefixes: almost surely end
DEFAULT = {EOS: 0.97, A: 0.01, B: 0.01, C: 0.01}


class TableDecoder:
    """A :class:`StepFn` whose sentence ``b`` continues prefix ``p`` with ``tables[b][p]`` (token → prob)."""

    def __init__(self, tables: Sequence[Table]) -> None:
        self.tables = tables
        self.rows: list[tuple[int, tuple[int, ...]]] = [(b, ()) for b in range(len(tables))]
        self.steps = 0  # calls to step(): decoding steps after the first

    def _log_probs(self) -> Tensor:
        out = torch.full((len(self.rows), V), NEG_INF)
        for i, (b, prefix) in enumerate(self.rows):
            for tok, p in self.tables[b].get(prefix, DEFAULT).items():
                out[i, tok] = math.log(p)
        return out

    def start(self) -> Tensor:
        return self._log_probs()

    def step(self, tokens: Tensor) -> Tensor:
        assert tokens.shape == (len(self.rows), 1)
        self.steps += 1
        self.rows = [(b, (*p, t)) for (b, p), t in zip(self.rows, tokens[:, 0].tolist(), strict=True)]
        return self._log_probs()

    def reorder(self, index: Tensor) -> None:
        self.rows = [self.rows[i] for i in index.tolist()]


class RandomDecoder(TableDecoder):
    """Deterministic pseudo-random next-token distributions (a function of sentence and prefix)."""

    def __init__(self, seeds: Sequence[int], vocab: int = 7, eos_boost: float = 0.0) -> None:
        super().__init__([{} for _ in seeds])
        self.seeds, self.vocab, self.eos_boost = list(seeds), vocab, eos_boost

    def dist(self, b: int, prefix: tuple[int, ...]) -> Tensor:
        g = torch.Generator().manual_seed(hash((self.seeds[b], prefix)) % (2**31))
        logits = 2.0 * torch.randn(self.vocab, generator=g)
        logits[EOS] += self.eos_boost
        return torch.log_softmax(logits, dim=-1)

    def _log_probs(self) -> Tensor:
        return torch.stack([self.dist(b, p) for b, p in self.rows])


# -- an independent, slow, one-sentence-at-a-time reference -----------------------------------------------------
def reference_beam_search(
    next_log_probs: Callable[[tuple[int, ...]], Sequence[float]],
    max_len: int,
    *,
    beam: int,
    alpha: float,
    form: str = "gnmt",
    early_stopping: str = "bound",
    n_best: int = 1,
    force_eos: bool = True,
) -> list[tuple[tuple[int, ...], float, float]]:
    """(tokens incl. <eos>, score, log P) of the n-best, following the rules of the module docstring."""

    def lp(n: int) -> float:
        return ((5 + n) / 6) ** alpha if form == "gnmt" else n**alpha

    last = max_len + 1 if force_eos else max_len
    active: list[tuple[tuple[int, ...], float]] = [((), 0.0)]
    finished: list[tuple[tuple[int, ...], float, float]] = []
    for t in range(1, last + 1):
        cands = []
        for toks, s in active:
            for v, x in enumerate(next_log_probs(toks)):
                if force_eos and t == last and v != EOS:
                    continue
                if s + x > NEG_INF:
                    cands.append((s + x, (*toks, v)))
        cands.sort(key=lambda c: -c[0])
        new_active = []
        for rank, (s, toks) in enumerate(cands[: 2 * beam]):
            if toks[-1] == EOS or t == last:
                if rank < beam:
                    finished.append((toks, s / lp(t), s))
            elif len(new_active) < beam:
                new_active.append((toks, s))
        finished = sorted(finished, key=lambda f: -f[1])[:beam]
        active = new_active
        if not active:
            break
        if early_stopping == "finished" and len(finished) >= beam:
            break
        bound = active[0][1] / lp(last)  # best score an active hypothesis can still reach
        if early_stopping == "bound" and len(finished) >= n_best and finished[n_best - 1][1] >= bound:
            break
    return finished[:n_best]


def strip(toks: tuple[int, ...]) -> list[int]:
    return list(toks[:-1]) if toks and toks[-1] == EOS else list(toks)


# -- toy tables with known answers -------------------------------------------------------------------------------
# "a <eos>" (P = .5 · .6) against "b b b <eos>" (P = .4 · .88³): the short one is more probable, the long one
# wins once the GNMT penalty with α = 0.6 divides by lp(4) instead of lp(2).
FLIP: Table = {
    (): {A: 0.5, B: 0.4, C: 0.1},
    (A,): {EOS: 0.6, A: 0.2, B: 0.2},
    (B,): {B: 0.88, EOS: 0.06, C: 0.06},
    (B, B): {B: 0.88, EOS: 0.06, C: 0.06},
    (B, B, B): {EOS: 0.88, A: 0.06, C: 0.06},
}
# the same short hypothesis against "b b b <eos>" with P = .4 · .8³: the GNMT form keeps the short one, the
# fairseq/Hugging Face form |Y|^α (which punishes short outputs much harder) picks the long one.
FORMS: Table = {
    (): {A: 0.5, B: 0.4, C: 0.1},
    (A,): {EOS: 0.6, A: 0.2, B: 0.2},
    (B,): {B: 0.8, EOS: 0.1, C: 0.1},
    (B, B): {B: 0.8, EOS: 0.1, C: 0.1},
    (B, B, B): {EOS: 0.8, A: 0.1, C: 0.1},
}
SHORT_LOGP = math.log(0.5) + math.log(0.6)
FLIP_LONG_LOGP = math.log(0.4) + 3 * math.log(0.88)
FORMS_LONG_LOGP = math.log(0.4) + 3 * math.log(0.8)


def gnmt(n: int, alpha: float) -> float:
    return ((5 + n) / 6) ** alpha


def search(tables: Sequence[Table], max_len: int = 10, **kw):
    return beam_search(TableDecoder(tables), max_len, eos_id=EOS, **kw)


def test_the_two_length_penalties_are_the_named_formulas():
    assert length_penalty(2, 0.6, "gnmt") == pytest.approx((7 / 6) ** 0.6)
    assert length_penalty(2, 0.6, "power") == pytest.approx(2**0.6)
    assert length_penalty(7, 0.0, "gnmt") == length_penalty(7, 0.0, "power") == 1.0
    assert torch.allclose(length_penalty(torch.tensor([1.0, 4.0]), 0.6), torch.tensor([1.0, (9 / 6) ** 0.6]))


def test_without_length_penalty_the_most_probable_hypothesis_wins_with_its_exact_score():
    (res,) = search([FLIP], alpha=0.0)
    hyp = res.hypotheses[0]
    assert hyp.tokens == [A]  # <eos> is not part of the output
    assert hyp.length == 2  # |Y| counts <eos>
    assert hyp.finished
    assert hyp.log_prob == pytest.approx(SHORT_LOGP, abs=1e-5)
    assert hyp.score == pytest.approx(SHORT_LOGP, abs=1e-5)


def test_gnmt_length_penalty_alpha_06_flips_the_winner_to_the_longer_hypothesis():
    (res,) = search([FLIP], alpha=0.6, length_penalty="gnmt", n_best=2)
    best, second = res.hypotheses
    assert best.tokens == [B, B, B] and best.length == 4
    assert best.log_prob == pytest.approx(FLIP_LONG_LOGP, abs=1e-5)
    assert best.score == pytest.approx(FLIP_LONG_LOGP / gnmt(4, 0.6), abs=1e-5)
    assert second.tokens == [A]
    assert second.score == pytest.approx(SHORT_LOGP / gnmt(2, 0.6), abs=1e-5)
    # sanity of the table: the flip is real
    assert SHORT_LOGP > FLIP_LONG_LOGP and SHORT_LOGP / gnmt(2, 0.6) < FLIP_LONG_LOGP / gnmt(4, 0.6)


def test_gnmt_and_power_forms_are_different_rules_and_can_disagree():
    (g,) = search([FORMS], alpha=0.6, length_penalty="gnmt")
    (p,) = search([FORMS], alpha=0.6, length_penalty="power")
    assert g.tokens == [A]
    assert g.score == pytest.approx(SHORT_LOGP / gnmt(2, 0.6), abs=1e-5)
    assert p.tokens == [B, B, B]
    assert p.score == pytest.approx(FORMS_LONG_LOGP / 4**0.6, abs=1e-5)


def test_a_hypothesis_that_ends_at_the_first_step_is_empty_and_finished():
    table: Table = {(): {EOS: 0.7, A: 0.3}}
    (res,) = search([table], alpha=0.0)
    assert res.hypotheses[0].tokens == []
    assert res.hypotheses[0].length == 1
    assert res.score == pytest.approx(math.log(0.7), abs=1e-6)


def test_finished_hypotheses_never_grow_and_eos_beyond_the_top_beam_is_dropped():
    (res,) = search([FLIP], alpha=0.6, beam=2, early_stopping="never", trace=True)
    for step in res.trace:
        for cand in step.candidates:
            assert EOS not in cand.tokens[:-1]  # nothing is ever appended after <eos>
            if cand.status.startswith("finished"):
                assert cand.tokens[-1] == EOS
    statuses = {c.status for step in res.trace for c in step.candidates}
    assert "dropped: eos beyond the top beam" in statuses


def test_trace_shows_scores_before_and_after_the_length_penalty_and_why_it_stopped():
    (res,) = search([FLIP], alpha=0.6, trace=True)
    step2 = res.trace[1]
    (a_eos,) = [c for c in step2.candidates if c.tokens == [A, EOS]]
    assert a_eos.status == "finished: eos"
    assert a_eos.log_prob == pytest.approx(SHORT_LOGP, abs=1e-5)
    assert a_eos.score == pytest.approx(SHORT_LOGP / gnmt(2, 0.6), abs=1e-5)
    assert res.trace[-1].stopped is not None and res.trace[-1].stopped.startswith("bound")
    assert all(s.stopped is None for s in res.trace[:-1])
    text = format_trace(res, itos=["<pad>", "<s>", "</s>", "a", "b", "c"])
    assert "a </s>" in text and "finished: eos" in text and "stop: bound" in text


# -- early termination ---------------------------------------------------------------------------------------------
# beam 2: step 1 finishes "<eos>" (.5) and keeps "a" (.3), "b" (.2); step 2 finishes "a <eos>" (.27)
EARLY: Table = {(): {EOS: 0.5, A: 0.3, B: 0.2}, (A,): {EOS: 0.9, A: 0.05, B: 0.05}}


def test_finished_rule_stops_as_soon_as_beam_hypotheses_have_finished():
    dec = TableDecoder([EARLY])
    (res,) = beam_search(dec, 20, eos_id=EOS, beam=2, alpha=0.0, early_stopping="finished", n_best=2)
    assert dec.steps == 1  # start() + one step = two decoding steps
    assert [h.tokens for h in res.hypotheses] == [[], [A]]
    assert [h.log_prob for h in res.hypotheses] == pytest.approx([math.log(0.5), math.log(0.27)], abs=1e-6)


def test_bound_rule_stops_when_no_active_hypothesis_can_reach_the_best_finished_score():
    dec = TableDecoder([EARLY])
    (res,) = beam_search(dec, 20, eos_id=EOS, beam=2, alpha=0.0, early_stopping="bound")
    # after step 1 the best active ("a", log .3) could still... not beat log .5: stop at once
    assert dec.steps == 0
    assert res.tokens == []


def test_never_rule_decodes_to_the_maximum_length():
    dec = TableDecoder([EARLY])
    beam_search(dec, 9, eos_id=EOS, beam=2, alpha=0.0, early_stopping="never")
    assert dec.steps == 9  # steps 1..10 (= max_len + the forced <eos> step) need 9 calls after start()


def test_bound_rule_keeps_going_while_a_longer_hypothesis_could_still_win_under_the_penalty():
    # after step 2: finished "a <eos>" (log P -1.20) and the best active "b b" (log P = log .4·.56 = -1.50)
    table: Table = {
        (): {A: 0.5, B: 0.4, C: 0.1},
        (A,): {EOS: 0.6, A: 0.2, B: 0.2},
        (B,): {B: 0.56, EOS: 0.22, C: 0.22},
        (B, B): {EOS: 0.9, A: 0.05, C: 0.05},
    }
    dec = TableDecoder([table])
    (plain,) = beam_search(dec, 10, eos_id=EOS, beam=4, alpha=0.0, early_stopping="bound")
    assert dec.steps == 1  # without a penalty, -1.50 can never beat -1.20: stop after step 2
    dec = TableDecoder([table])
    (penalised,) = beam_search(dec, 10, eos_id=EOS, beam=4, alpha=0.6, early_stopping="bound")
    # with α = 0.6 "b b ..." could still reach -1.50 / lp(11) = -0.83 > -1.10, so the search goes on
    assert dec.steps > 1
    assert plain.tokens == penalised.tokens == [A]


@pytest.mark.parametrize("form", ["gnmt", "power"])
@pytest.mark.parametrize("alpha", [0.0, 0.6, 1.5])
@pytest.mark.parametrize("n_best", [1, 3])
def test_bound_early_stopping_never_changes_the_n_best(form, alpha, n_best):
    seeds = list(range(12))
    kw = {"beam": 3, "alpha": alpha, "length_penalty": form, "n_best": n_best}
    early = beam_search(RandomDecoder(seeds, eos_boost=1.0), 8, eos_id=EOS, early_stopping="bound", **kw)
    full = beam_search(RandomDecoder(seeds, eos_boost=1.0), 8, eos_id=EOS, early_stopping="never", **kw)
    for e, f in zip(early, full, strict=True):
        assert [h.tokens for h in e.hypotheses] == [h.tokens for h in f.hypotheses]
        assert [h.score for h in e.hypotheses] == pytest.approx([h.score for h in f.hypotheses], abs=1e-6)


# -- max length, EOS forcing -----------------------------------------------------------------------------------------
NEVER_ENDS: Table = {}  # filled per prefix below through a subclass


class NoEosDecoder(TableDecoder):
    def _log_probs(self) -> Tensor:
        out = torch.full((len(self.rows), V), NEG_INF)
        out[:, A], out[:, B], out[:, EOS] = math.log(0.6), math.log(0.3999), math.log(1e-4)
        return out


@pytest.mark.parametrize("beam", [1, 3])
def test_maximum_length_forces_eos_by_default(beam):
    res = beam_search(NoEosDecoder([{}, {}]), torch.tensor([3, 5]), eos_id=EOS, beam=beam, alpha=0.6)
    assert [r.tokens for r in res] == [[A] * 3, [A] * 5]
    assert all(r.hypotheses[0].finished for r in res)
    assert res[0].hypotheses[0].length == 4  # 3 tokens + the forced <eos>
    assert res[0].hypotheses[0].log_prob == pytest.approx(3 * math.log(0.6) + math.log(1e-4), abs=1e-4)


def test_without_force_eos_hypotheses_are_cut_at_the_maximum_length_and_flagged_unfinished():
    res = beam_search(NoEosDecoder([{}]), 4, eos_id=EOS, beam=2, alpha=0.0, force_eos=False)
    hyp = res[0].hypotheses[0]
    assert hyp.tokens == [A] * 4 and hyp.length == 4 and not hyp.finished
    assert hyp.log_prob == pytest.approx(4 * math.log(0.6), abs=1e-5)
    greedy = greedy_search(NoEosDecoder([{}]), 4, eos_id=EOS, force_eos=False)[0].hypotheses[0]
    assert greedy.tokens == [A] * 4 and not greedy.finished


# -- batching ------------------------------------------------------------------------------------------------------
def test_each_sentence_of_a_batch_gets_the_result_it_gets_alone():
    tables = [FLIP, FORMS, EARLY, {(): {EOS: 0.9, A: 0.1}}]
    kw = {"alpha": 0.6, "n_best": 2}
    together = search(tables, **kw)
    for table, res in zip(tables, together, strict=True):
        (alone,) = search([table], **kw)
        assert [h.tokens for h in res.hypotheses] == [h.tokens for h in alone.hypotheses]
        assert [h.score for h in res.hypotheses] == pytest.approx([h.score for h in alone.hypotheses])


def test_random_decoders_batched_equal_one_at_a_time():
    seeds = list(range(10))
    together = beam_search(RandomDecoder(seeds, eos_boost=0.5), 7, eos_id=EOS, beam=4, alpha=0.6, n_best=4)
    for s, res in zip(seeds, together, strict=True):
        (alone,) = beam_search(RandomDecoder([s], eos_boost=0.5), 7, eos_id=EOS, beam=4, alpha=0.6, n_best=4)
        assert [h.tokens for h in res.hypotheses] == [h.tokens for h in alone.hypotheses]


@pytest.mark.parametrize("early_stopping", ["bound", "finished", "never"])
@pytest.mark.parametrize(("form", "alpha"), [("gnmt", 0.6), ("power", 1.0), ("gnmt", 0.0)])
def test_batched_search_equals_the_plain_python_reference(early_stopping, form, alpha):
    seeds = list(range(8))
    kw = {"beam": 3, "alpha": alpha, "n_best": 2}
    dec = RandomDecoder(seeds, eos_boost=0.7)
    got = beam_search(dec, 6, eos_id=EOS, length_penalty=form, early_stopping=early_stopping, **kw)
    for b, res in enumerate(got):
        ref = reference_beam_search(
            lambda p, b=b: dec.dist(b, p).tolist(), 6, form=form, early_stopping=early_stopping, **kw
        )
        assert [h.tokens for h in res.hypotheses] == [strip(t) for t, _, _ in ref]
        assert [h.score for h in res.hypotheses] == pytest.approx([s for _, s, _ in ref], abs=1e-5)


# -- beam 1 and greedy ----------------------------------------------------------------------------------------------
def test_beam_one_is_greedy_search():
    seeds = list(range(10))
    greedy = greedy_search(RandomDecoder(seeds, eos_boost=0.5), 8, eos_id=EOS)
    for kw in ({"alpha": 0.0}, {"alpha": 0.6, "early_stopping": "finished"}):
        beam1 = beam_search(RandomDecoder(seeds, eos_boost=0.5), 8, eos_id=EOS, beam=1, **kw)
        assert [r.tokens for r in beam1] == [g.tokens for g in greedy]
        assert [r.hypotheses[0].log_prob for r in beam1] == pytest.approx(
            [g.hypotheses[0].log_prob for g in greedy], abs=1e-5
        )


def test_greedy_on_the_flip_table_takes_the_locally_best_token():
    (res,) = greedy_search(TableDecoder([FLIP]), 10, eos_id=EOS)
    assert res.tokens == [A]
    assert res.score == res.hypotheses[0].log_prob == pytest.approx(SHORT_LOGP, abs=1e-5)


def test_table_decoder_satisfies_the_protocol():
    assert isinstance(TableDecoder([FLIP]), StepFn)


# -- the Transformer, cached, against full recomputation -------------------------------------------------------------
def eos_biased_model(bias: float = 2.8, seed: int = 0, **overrides) -> Transformer:
    """A tiny random Transformer whose <eos> logit is raised, so that sentences end at different steps."""
    torch.manual_seed(seed)
    model = Transformer(
        TransformerConfig.preset("tiny", vocab_size=40, final_logits_bias=True, **overrides)
    ).eval()
    model.final_logits_bias[model.config.eos_id] = bias
    return model


def recompute_log_probs(model: Transformer, src_row: Tensor) -> Callable[[tuple[int, ...]], list[float]]:
    """The slow path: the full teacher-forced forward pass for every prefix; the padding id is banned."""
    c = model.config

    def fn(prefix: tuple[int, ...]) -> list[float]:
        tgt_in = torch.tensor([[c.bos_id, *prefix]])
        with torch.no_grad():
            logp = torch.log_softmax(model(src_row.unsqueeze(0), tgt_in)[0, -1], dim=-1)
        logp[c.pad_id] = NEG_INF
        return logp.tolist()

    return fn


def padded_batch(rows: list[list[int]], pad: int = 0) -> Tensor:
    width = max(map(len, rows))
    return torch.tensor([r + [pad] * (width - len(r)) for r in rows])


@pytest.mark.parametrize(("alpha", "early_stopping"), [(0.6, "bound"), (0.0, "bound"), (0.6, "finished")])
def test_cached_batched_beam_search_equals_recomputation_sentence_by_sentence(alpha, early_stopping):
    model = eos_biased_model()
    g = random.Random(0)
    rows = [[g.randrange(4, 40) for _ in range(n)] for n in (5, 9, 3, 7)]
    src = padded_batch(rows)
    kw = {"beam": 4, "alpha": alpha, "n_best": 2}
    got = translate(model, src, max_len_b=6, early_stopping=early_stopping, **kw)
    assert len({len(r.tokens) for r in got}) > 1  # sentences end at different steps
    for row, res in zip(rows, got, strict=True):
        ref = reference_beam_search(
            recompute_log_probs(model, torch.tensor(row)), len(row) + 6, early_stopping=early_stopping, **kw
        )
        assert [h.tokens for h in res.hypotheses] == [strip(t) for t, _, _ in ref]
        assert [h.score for h in res.hypotheses] == pytest.approx([s for _, s, _ in ref], abs=1e-4)


def test_translation_is_independent_of_batch_composition_and_source_padding():
    model = eos_biased_model(bias=2.6)
    g = random.Random(1)
    rows = [[g.randrange(4, 40) for _ in range(n)] for n in (4, 11, 6, 2, 9)]
    together = translate(model, padded_batch(rows), n_best=3)
    for row, res in zip(rows, together, strict=True):
        (alone,) = translate(model, torch.tensor([row]), n_best=3)
        assert [h.tokens for h in res.hypotheses] == [h.tokens for h in alone.hypotheses]
        assert [h.score for h in res.hypotheses] == pytest.approx(
            [h.score for h in alone.hypotheses], abs=1e-5
        )
    # batch of one vs the same sentence padded and batched with a longer one
    padded = padded_batch([rows[0], [5] * 15])
    assert translate(model, padded)[0].tokens == together[0].tokens


def test_paper_maximum_length_is_source_length_plus_50_per_sentence():
    model = eos_biased_model(bias=-50.0)  # <eos> never wins: every hypothesis runs to its maximum length
    src = padded_batch([[5, 6, 7], [5, 6, 7, 8, 9, 10, 11]])
    res = translate(model, src, beam=2)
    assert [len(r.tokens) for r in res] == [3 + 50, 7 + 50]
    assert all(r.hypotheses[0].finished and r.hypotheses[0].length == len(r.tokens) + 1 for r in res)
    res = translate(model, src, beam=2, max_len_a=2.0, max_len_b=1)
    assert [len(r.tokens) for r in res] == [7, 15]


def test_maximum_length_is_capped_by_the_positional_table():
    model = eos_biased_model(bias=-50.0, max_positions=20)
    res = translate(model, torch.tensor([[5, 6, 7, 8]]), beam=2)
    assert len(res[0].tokens) == 19  # the forced <eos> is fed at the last position (19)


def test_the_encoder_decoder_adapter_bans_padding_and_satisfies_the_protocol():
    model = eos_biased_model()
    adapter = EncoderDecoderAdapter(model, torch.tensor([[5, 6, 7]]))
    assert isinstance(adapter, StepFn)
    logp = adapter.start()
    assert logp.shape == (1, 40) and logp[0, model.config.pad_id] == NEG_INF
    with torch.no_grad():
        full = torch.log_softmax(
            model(torch.tensor([[5, 6, 7]]), torch.tensor([[model.config.bos_id]]))[0], -1
        )
    keep = torch.arange(40) != model.config.pad_id
    torch.testing.assert_close(logp[0, keep], full[0, keep])  # the banned mass is not renormalised away
    with pytest.raises(ValueError, match="banned_ids"):
        EncoderDecoderAdapter(model, torch.tensor([[5]]), banned_ids=[model.config.eos_id])


# -- an ensemble of models, cached, against full recomputation ------------------------------------------------------
def test_an_ensemble_searches_the_mean_of_its_members_probabilities():
    """Prediction ensembling: at every step the ensemble's distribution is the members' mean probability,
    each member decoding with its own KV cache reordered with the beams, equal to recomputing every member's
    full forward pass for every hypothesis."""
    members = [eos_biased_model(1.5, seed=0), eos_biased_model(1.5, seed=2, d_ff=48)]  # shapes may differ
    g = random.Random(2)
    rows = [[g.randrange(4, 40) for _ in range(n)] for n in (5, 9, 3)]
    kw = {"beam": 4, "alpha": 0.6, "n_best": 2}
    got = translate(TransformerEnsemble(members), padded_batch(rows), max_len_b=6, **kw)
    assert len({len(r.tokens) for r in got}) > 1  # sentences end at different steps
    for row, res in zip(rows, got, strict=True):
        singles = [recompute_log_probs(m, torch.tensor(row)) for m in members]

        def mean(prefix: tuple[int, ...], singles=singles) -> list[float]:
            probs = torch.tensor([f(prefix) for f in singles]).exp().mean(dim=0)  # (V,)
            return probs.log().tolist()

        ref = reference_beam_search(mean, len(row) + 6, **kw)
        assert [h.tokens for h in res.hypotheses] == [strip(t) for t, _, _ in ref]
        assert [h.score for h in res.hypotheses] == pytest.approx([s for _, s, _ in ref], abs=1e-4)
    alone = [translate(m, padded_batch(rows), max_len_b=6, **kw) for m in members]
    assert [r.tokens for r in got] not in [
        [r.tokens for r in a] for a in alone
    ]  # neither member decides alone


def test_an_ensemble_of_one_model_is_that_model():
    model = eos_biased_model()
    src = padded_batch([[5, 6, 7, 8], [9, 10]])
    one, alone = translate(TransformerEnsemble([model]), src, n_best=2), translate(model, src, n_best=2)
    for a, b in zip(one, alone, strict=True):
        assert [h.tokens for h in a.hypotheses] == [h.tokens for h in b.hypotheses]
        assert [h.score for h in a.hypotheses] == [h.score for h in b.hypotheses]


def test_the_mean_probability_stays_normalised_and_keeps_banned_tokens_banned():
    logits = torch.randn(3, 7, 11)  # (K, N, V)
    logits[:, :, PAD] = NEG_INF
    mixed = mean_probability(list(torch.log_softmax(logits, dim=-1)))  # (N, V)
    assert torch.allclose(mixed.exp().sum(dim=-1), torch.ones(7))
    assert (mixed[:, PAD] == NEG_INF).all() and (mixed <= 0).all()


def test_an_ensemble_refuses_members_with_different_vocabularies():
    with pytest.raises(ValueError, match="vocab_size=41.*share one vocabulary"):
        TransformerEnsemble(
            [eos_biased_model(), Transformer(TransformerConfig.preset("tiny", vocab_size=41))]
        )
    with pytest.raises(ValueError, match="at least one"):
        TransformerEnsemble([])
