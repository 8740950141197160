"""``ronbun.load`` and :class:`~ronbun.gpt.language_model.LanguageModel`: KV-cached generation equals recomputation,
scores are log-probabilities (Eq. 1), checkpoints of both papers dispatch to the right object."""

from __future__ import annotations

import math

import pytest
import torch

import ronbun.api
from ronbun import GPT, GPTConfig, Transformer, TransformerConfig
from ronbun.gpt.language_model import LanguageModel
from ronbun.mt.translator import Translator
from ronbun.text.bpe import TextTokenizer
from ronbun.training.checkpoint import save_checkpoint

LINES = ["The dog sees the cat.", "The cat sees the dog.", "A small bird sings.", "The child reads a book."]


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    root = tmp_path_factory.mktemp("lm")
    tok = TextTokenizer.train(LINES * 20, 200)
    tok.save(root / "tokenizer.json")
    torch.manual_seed(0)
    gpt = GPT(GPTConfig.preset("tiny", vocab_size=tok.vocab_size, n_ctx=40, d_model=32, n_heads=2, d_ff=64))
    return save_checkpoint(root / "ckpt", gpt, tokenizer_file=root / "tokenizer.json")


@torch.no_grad()
def greedy_by_recomputation(lm: LanguageModel, prompt: str, n: int) -> list[int]:
    ids = [lm.line_break, *lm.tokenizer.encode(prompt)]
    for _ in range(n):
        logits = lm.model(torch.tensor([ids]))[0, -1]  # the whole sequence again, no cache
        logits[lm.banned_ids] = float("-inf")
        ids.append(int(logits.argmax()))
    return ids


def test_load_dispatches_a_gpt_checkpoint_to_a_language_model(ckpt):
    lm = ronbun.api.load(ckpt)
    assert type(lm) is LanguageModel and not lm.model.training
    assert lm.line_break == lm.tokenizer.tokenizer.token_to_id("Ċ")
    assert {0, 1, 2, 3} <= set(lm.banned_ids)  # <pad> <s> </s> <unk> are never generated


def test_cached_greedy_generation_equals_recomputation(ckpt):
    lm = ronbun.api.load(ckpt)
    ids = greedy_by_recomputation(lm, "The dog", 12)
    expected = "The dog" + lm._continuation(ids[: len(ids) - 12], ids[len(ids) - 12 :])
    assert lm.generate("The dog", 12, greedy=True) == expected
    batch = lm.generate(["The dog", "A small bird", "The cat"], 12, greedy=True)
    assert batch[0] == expected and batch[2] == lm.generate("The cat", 12, greedy=True)


def test_sampling_is_reproducible_with_a_seed(ckpt):
    lm = ronbun.api.load(ckpt)
    a = lm.generate(["The dog", "A"], 10, top_k=5, top_p=0.9, temperature=0.8, seed=3)
    assert a == lm.generate(["The dog", "A"], 10, top_k=5, top_p=0.9, temperature=0.8, seed=3)
    assert all(x.startswith(p) for x, p in zip(a, ["The dog", "A"], strict=True))
    with pytest.raises(ValueError, match="max_new_tokens"):
        lm.generate("The dog", 41)
    long_prompt = " ".join(["dog"] * 60)  # longer than n_ctx: the prompt keeps its last tokens
    assert lm.generate(long_prompt, 5, greedy=True).startswith(long_prompt)


def test_score_is_the_sum_of_token_log_probabilities(ckpt):
    lm = ronbun.api.load(ckpt)
    text = "The dog sees the cat."
    ids = [lm.line_break, *lm.tokenizer.encode(text)]
    with torch.no_grad():
        logp = torch.log_softmax(lm.model(torch.tensor([ids]))[0], dim=-1)
    manual = sum(float(logp[i - 1, t]) for i, t in enumerate(ids) if i > 0)
    assert lm.score(text) == pytest.approx(manual, abs=1e-4)
    assert lm.score([text])[0] == pytest.approx(manual, abs=1e-4)
    n = len(ids) - 1
    assert lm.score(text, average=True) == pytest.approx(manual / n, abs=1e-5)
    assert lm.perplexity([text]) == pytest.approx(math.exp(-manual / n), rel=1e-4)


def test_load_dispatches_a_transformer_checkpoint_to_a_translator(tmp_path):
    tok = TextTokenizer.train(LINES * 5, 120)
    tok.save(tmp_path / "tokenizer.json")
    model = Transformer(TransformerConfig.preset("tiny", vocab_size=tok.vocab_size))
    path = save_checkpoint(tmp_path / "mt", model, tokenizer_file=tmp_path / "tokenizer.json")
    assert isinstance(ronbun.api.load(path), Translator)
