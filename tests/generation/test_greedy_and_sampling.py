"""Greedy decoding (Transformer and GPT-1) and sampling (GPT-1) with the KV cache, against slow references
that recompute the full forward pass (``model(src, tgt_in)`` / ``gpt(ids)``) at every step."""

from __future__ import annotations

import math

import pytest
import torch
from torch import Tensor

from ronbun import GPT, GPTConfig, Transformer, TransformerConfig
from ronbun.generation import StepFn, filter_log_probs, generate, greedy_search, translate
from ronbun.models.decoding import LMAdapter

NEG_INF = float("-inf")


def tiny_gpt(seed: int = 0) -> GPT:
    torch.manual_seed(seed)
    return GPT(GPTConfig.preset("tiny", vocab_size=50)).eval()


def eos_biased_transformer(bias: float, seed: int) -> Transformer:
    torch.manual_seed(seed)
    model = Transformer(TransformerConfig.preset("tiny", vocab_size=40, final_logits_bias=True)).eval()
    model.final_logits_bias[model.config.eos_id] = bias
    return model


# -- Transformer greedy ------------------------------------------------------------------------------------------
def reference_greedy(model: Transformer, src_row: Tensor, max_len: int) -> tuple[list[int], float]:
    c = model.config
    out: list[int] = []
    total = 0.0
    for t in range(max_len + 1):
        tgt_in = torch.tensor([[c.bos_id, *out]])
        with torch.no_grad():
            logp = torch.log_softmax(model(src_row.unsqueeze(0), tgt_in)[0, -1], dim=-1)
        logp[c.pad_id] = NEG_INF
        if t == max_len:  # forced <eos>
            return out, total + float(logp[c.eos_id])
        tok = int(logp.argmax())
        total += float(logp[tok])
        if tok == c.eos_id:
            return out, total
        out.append(tok)
    raise AssertionError("unreachable")


def test_cached_batched_greedy_translation_equals_recomputation():
    model = eos_biased_transformer(bias=2.8, seed=2)
    rows = [[7, 8, 9, 10, 11], [12, 13], [14, 15, 16, 17, 18, 19, 20, 21], [22, 23, 24], [30, 5, 6, 7]]
    width = max(map(len, rows))
    src = torch.tensor([r + [0] * (width - len(r)) for r in rows])
    got = translate(model, src, search="greedy", max_len_b=12)
    assert len({len(r.tokens) for r in got}) > 1  # rows finish at different steps and leave the batch
    for row, res in zip(rows, got, strict=True):
        tokens, logp = reference_greedy(model, torch.tensor(row), len(row) + 12)
        assert res.tokens == tokens
        assert res.score == pytest.approx(logp, abs=1e-4)


# -- GPT-1 ---------------------------------------------------------------------------------------------------------
def reference_generate(
    gpt: GPT, prompt: Tensor, n: int, *, do_sample: bool, seed: int = 0, **filters
) -> Tensor:
    """Recompute ``gpt(ids)`` on the whole sequence for every new token."""
    g = torch.Generator().manual_seed(seed)
    ids = prompt.clone()
    for _ in range(n):
        with torch.no_grad():
            logp = torch.log_softmax(gpt(ids)[:, -1], dim=-1)
        if do_sample:
            temperature = filters.get("temperature", 1.0)
            scaled = filter_log_probs(
                logp / temperature, top_k=filters.get("top_k"), top_p=filters.get("top_p")
            )
            tok = torch.multinomial(torch.softmax(scaled, dim=-1), 1, generator=g)
        else:
            tok = logp.argmax(dim=-1, keepdim=True)
        ids = torch.cat([ids, tok], dim=1)
    return ids


def test_cached_greedy_generation_equals_recomputation():
    gpt = tiny_gpt()
    prompt = torch.randint(0, 50, (3, 5))
    got = generate(gpt, prompt, 20, do_sample=False)
    assert torch.equal(got, reference_generate(gpt, prompt, 20, do_sample=False))


@pytest.mark.parametrize(
    "filters",
    [{}, {"temperature": 0.7}, {"top_k": 5}, {"top_p": 0.9}, {"temperature": 1.3, "top_k": 10, "top_p": 0.8}],
)
def test_cached_sampling_with_a_seed_equals_recomputation(filters):
    gpt = tiny_gpt()
    prompt = torch.randint(0, 50, (4, 3))
    got = generate(gpt, prompt, 16, seed=123, **filters)
    assert torch.equal(got, reference_generate(gpt, prompt, 16, do_sample=True, seed=123, **filters))


def test_a_seed_reproduces_its_sample_and_a_generator_can_be_passed_instead():
    gpt = tiny_gpt()
    prompt = torch.randint(0, 50, (2, 4))
    a = generate(gpt, prompt, 12, seed=7)
    assert torch.equal(a, generate(gpt, prompt, 12, seed=7))
    assert torch.equal(a, generate(gpt, prompt, 12, generator=torch.Generator().manual_seed(7)))
    assert not torch.equal(a, generate(gpt, prompt, 12, seed=8))


def test_top_k_one_and_a_tiny_top_p_are_greedy():
    gpt = tiny_gpt()
    prompt = torch.randint(0, 50, (3, 4))
    greedy = generate(gpt, prompt, 15, do_sample=False)
    assert torch.equal(generate(gpt, prompt, 15, top_k=1, seed=0), greedy)
    assert torch.equal(generate(gpt, prompt, 15, top_p=1e-6, seed=0), greedy)


def test_greedy_search_over_the_lm_adapter_equals_greedy_generation():
    gpt = tiny_gpt()
    prompt = torch.randint(0, 50, (2, 4))
    adapter = LMAdapter(gpt, prompt)
    assert isinstance(adapter, StepFn)
    res = greedy_search(adapter, 10, eos_id=49, force_eos=False)
    gen = generate(gpt, prompt, 10, do_sample=False, eos_id=49)
    for r, row in zip(res, gen.tolist(), strict=True):
        new = row[4:]
        n = new.index(49) if 49 in new else len(new)
        assert r.tokens == new[:n]


def test_rows_that_produce_eos_are_filled_with_eos_and_generation_stops_when_all_have():
    gpt = tiny_gpt()
    prompt = torch.randint(0, 50, (3, 4))
    free = generate(gpt, prompt, 12, do_sample=False)
    eos = int(free[0, 6])  # the third greedy token of row 0: make it the end-of-text id
    out = generate(gpt, prompt, 12, do_sample=False, eos_id=eos)
    first = out[0, 4:].tolist().index(eos)
    assert torch.equal(out[0, : 4 + first], free[0, : 4 + first])
    assert (out[0, 4 + first :] == eos).all()
    # when every row ends, decoding stops before max_new_tokens
    assert generate(gpt, prompt[:1], 12, do_sample=False, eos_id=eos).shape == (1, 4 + first + 1)


def test_prompt_forms_and_unequal_prompt_lengths():
    gpt = tiny_gpt()
    one = generate(gpt, [3, 4, 5], 4, do_sample=False)
    assert one.shape == (7,)
    assert torch.equal(one, generate(gpt, torch.tensor([[3, 4, 5]]), 4, do_sample=False)[0])
    assert generate(gpt, [[3, 4], [5, 6]], 2, do_sample=False).shape == (2, 4)
    with pytest.raises(ValueError, match="unequal lengths"):
        generate(gpt, [[3, 4, 5], [6]], 4)


def test_context_length_is_checked_before_decoding():
    gpt = tiny_gpt()  # n_ctx = 128
    assert generate(gpt, torch.zeros(1, 100, dtype=torch.long), 29, do_sample=False).shape == (1, 129)
    with pytest.raises(ValueError, match="n_ctx=128"):
        generate(gpt, torch.zeros(1, 100, dtype=torch.long), 30)


# -- the filters -----------------------------------------------------------------------------------------------------
def test_top_k_and_top_p_keep_exactly_the_specified_tokens():
    logp = torch.tensor([[0.5, 0.3, 0.15, 0.05]]).log()
    kept = lambda x: (x > NEG_INF).nonzero()[:, 1].tolist()  # noqa: E731
    assert kept(filter_log_probs(logp, top_k=2)) == [0, 1]
    assert kept(filter_log_probs(logp, top_p=0.79)) == [0, 1]  # .5 + .3 reaches .79
    assert kept(filter_log_probs(logp, top_p=0.81)) == [0, 1, 2]
    assert kept(filter_log_probs(logp, top_p=0.1)) == [0]  # the most probable token is always kept
    assert kept(filter_log_probs(logp, top_p=1.0)) == [0, 1, 2, 3]
    assert kept(filter_log_probs(logp, top_k=3, top_p=0.5)) == [0]
    kept_values = filter_log_probs(logp, top_k=2)
    assert torch.equal(kept_values[0, :2], logp[0, :2])  # survivors are untouched (softmax renormalises)


def test_temperature_sharpens_or_flattens_the_sampling_distribution():
    class Fixed:
        def __init__(self, n: int) -> None:
            self.n = n

        def start(self) -> Tensor:
            return torch.tensor([[math.log(0.6), math.log(0.4)]]).expand(self.n, 2)

        def step(self, tokens: Tensor) -> Tensor:
            return self.start()

        def reorder(self, index: Tensor) -> None:
            pass

    from ronbun.generation import sample

    g = torch.Generator().manual_seed(0)
    cold = (
        sample(Fixed(4000), 1, temperature=0.25, generator=g).float().mean()
    )  # P(1) = .4^4/(.6^4+.4^4) ≈ .165
    hot = sample(Fixed(4000), 1, temperature=4.0, generator=g).float().mean()  # P(1) ≈ .475
    assert cold == pytest.approx(0.4**4 / (0.6**4 + 0.4**4), abs=0.03)
    assert hot == pytest.approx(0.4**0.25 / (0.6**0.25 + 0.4**0.25), abs=0.03)
