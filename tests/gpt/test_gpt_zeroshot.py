"""GPT-1's zero-shot heuristics (§5, Figure 2 right) on a tiny model, checked against direct computation."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from ronbun import GPT, GPTConfig
from ronbun.gpt.tasks import TaskDataError
from ronbun.gpt.zeroshot import (
    WINOGRAD_EXAMPLES,
    WinogradExample,
    acceptability,
    continuation_logprobs,
    fit_threshold,
    multiple_choice,
    read_winograd_jsonl,
    run_zeroshot,
    sentiment,
    winograd,
)
from ronbun.text.bpe import TextTokenizer

TEXT = [
    "The movie was very good and the acting was positive.",
    "The plot was very bad and negative.",
    "The dog chased the cat up a tree.",
    "Tom thanked Bill for the gift.",
]


@pytest.fixture(scope="module")
def lm():
    tok = TextTokenizer.train(TEXT * 10, 300)
    torch.manual_seed(0)
    model = GPT(
        GPTConfig.preset("tiny", vocab_size=tok.vocab_size, n_ctx=64, d_model=32, n_heads=2, d_ff=64)
    ).eval()
    return model, tok


@torch.no_grad()
def full_logprob(model: GPT, context: list[int], cont: list[int]) -> np.ndarray:
    ids = torch.tensor([context + cont])
    logp = torch.log_softmax(model(ids)[0], dim=-1)
    return np.array([float(logp[len(context) + i - 1, t]) for i, t in enumerate(cont)])


def test_continuation_logprobs_match_a_full_forward_pass(lm):
    model, _ = lm
    pairs = [([1, 5, 6], [7, 8, 9]), ([4], [10]), ([3, 3, 3, 3, 3], [11, 12])]
    got = continuation_logprobs(model, pairs, batch_size=2)
    for (ctx, cont), lp in zip(pairs, got, strict=True):
        np.testing.assert_allclose(lp, full_logprob(model, ctx, cont), rtol=1e-5, atol=1e-5)


def test_long_inputs_lose_context_from_the_left(lm):
    model, _ = lm
    ctx, cont = list(range(4, 74)), [80, 81, 82]  # 73 tokens > n_ctx = 64
    (lp,) = continuation_logprobs(model, [(ctx, cont)])
    np.testing.assert_allclose(lp, full_logprob(model, ctx[-61:], cont), rtol=1e-5, atol=1e-5)
    (no_ctx,) = continuation_logprobs(model, [([], [5, 6, 7])])
    assert no_ctx.shape == (2,)  # without context the first token cannot be scored


def test_sentiment_compares_exactly_the_two_label_words(lm):
    model, tok = lm
    texts = ["the acting was good", "the plot was bad "]
    preds, scores = sentiment(model, tok, texts)
    newline = tok.tokenizer.token_to_id("Ċ")
    for i, t in enumerate(texts):
        context = [newline, *tok.encode(t.rstrip() + " very")]
        for k, word in enumerate(("negative", "positive")):
            expected = full_logprob(model, context, tok.encode(" " + word)).sum()
            assert scores[i, k] == pytest.approx(expected, abs=1e-4)
        assert preds[i] == int(scores[i, 1] > scores[i, 0])
    flipped, _ = sentiment(model, tok, texts, label_words=("positive", "negative"))
    assert np.array_equal(flipped, 1 - preds)


def test_threshold_is_fitted_for_the_best_mcc():
    scores = [-5.0, -4.0, -3.0, -2.0, -1.0]
    t = fit_threshold(scores, [0, 0, 1, 1, 1])
    assert -4.0 < t < -3.0
    assert fit_threshold([1.0, 2.0], [1, 0]) == 0.0  # anti-correlated: the lowest cut (MCC 0) beats MCC -1


def test_acceptability_thresholds_the_average_log_probability(lm):
    model, tok = lm
    preds, scores = acceptability(model, tok, TEXT, threshold=-5.6)
    assert scores.shape == (4,) and np.all(scores < 0)
    assert preds.tolist() == (scores >= -5.6).astype(int).tolist()


def test_multiple_choice_and_winograd_give_valid_predictions(lm):
    model, tok = lm
    preds, scores = multiple_choice(
        model, tok, ["Tom woke up.", "The dog ran."], [["He ate.", "He flew.", "No."], ["Yes.", "No."]]
    )
    assert [len(s) for s in scores] == [3, 2] and 0 <= preds[0] < 3 and 0 <= preds[1] < 2
    assert preds.tolist() == [int(np.argmax(s)) for s in scores]
    preds, scores = winograd(model, tok, WINOGRAD_EXAMPLES)
    assert len(preds) == 10 and all(p in (0, 1) for p in preds)


def test_winograd_scores_the_rest_of_the_sentence_after_substitution(lm):
    model, tok = lm
    ex = WinogradExample("The dog chased the cat until _ climbed a tree.", ("the dog", "the cat"), 1)
    assert ex.substituted(1) == ("The dog chased the cat until the cat", " climbed a tree.")
    assert WinogradExample("_ thanked Bill.", ("tom", "Bill")).substituted(0) == ("Tom", " thanked Bill.")
    _, (scores,) = winograd(model, tok, [ex])
    newline = tok.tokenizer.token_to_id("Ċ")
    for k in range(2):
        prefix, rest = ex.substituted(k)
        expected = full_logprob(model, [newline, *tok.encode(prefix)], tok.encode(rest)).mean()
        assert scores[k] == pytest.approx(expected, abs=1e-4)


def test_winograd_files_in_both_formats(tmp_path):
    path = tmp_path / "w.jsonl"
    path.write_text(
        json.dumps({"sentence": "A hit B because _ was angry.", "options": ["A", "B"], "label": 0})
        + "\n\n"
        + json.dumps(
            {"sentence": "A hit B because _ was rude.", "option1": "A", "option2": "B", "answer": "2"}
        )
        + "\n"
    )
    assert [e.label for e in read_winograd_jsonl(path)] == [0, 1]
    path.write_text(json.dumps({"sentence": "no placeholder", "options": ["A", "B"]}) + "\n")
    with pytest.raises(TaskDataError, match=r"w.jsonl:1: .*exactly one '_'"):
        read_winograd_jsonl(path)
    path.write_text('{"sentence": "x _", "option1": "A", "option2": "B", "answer": "3"}\n')
    with pytest.raises(TaskDataError, match="unknown answer '3'"):
        read_winograd_jsonl(path)


def test_run_zeroshot_on_task_files(tmp_path, lm):
    model, tok = lm
    folder = tmp_path / "SST-2"
    folder.mkdir()
    (folder / "dev.tsv").write_text("sentence\tlabel\nthe acting was good\t1\nthe plot was bad\t0\n")
    report = run_zeroshot(model, tok, "SST-2", data_dir=tmp_path)
    assert (
        report["task"] == "sst2"
        and report["n"] == 2
        and 0 <= report["accuracy"] <= 1
        and report["chance"] == 0.5
    )
    cola = tmp_path / "CoLA"
    cola.mkdir()
    rows = "".join(f"src\t{i % 2}\t\t{TEXT[i % 4]}\n" for i in range(8))
    (cola / "train.tsv").write_text(rows)
    (cola / "dev.tsv").write_text(rows)
    report = run_zeroshot(model, tok, "cola", data_dir=tmp_path)
    assert report["threshold_fitted_on"].startswith("train") and "mcc" in report
    fixed = run_zeroshot(model, tok, "cola", data_dir=tmp_path, threshold=-1.0)
    assert fixed["threshold"] == -1.0 and fixed["threshold_fitted_on"] == "given"
    assert run_zeroshot(model, tok, "winograd")["n"] == 10
    with pytest.raises(ValueError, match="unknown zero-shot task"):
        run_zeroshot(model, tok, "mnli", data_dir=tmp_path)
