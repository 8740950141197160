"""``ronbun.mt.evaluate``: a test set is read, translated and scored against raw and tokenised references."""

from __future__ import annotations

import json

import pytest

from ronbun.mt.commands import DecodingConfig
from ronbun.mt.evaluate import EvaluationConfig, EvaluationData, evaluate_translator, read_test_set


class EchoTranslator:
    """Translates each sentence into a fixed answer; records the search settings it was given."""

    def __init__(self, answers: dict[str, str]) -> None:
        self.answers, self.search = answers, {}

    def translate(self, sentences, **search):
        self.search = search
        return [self.answers[s] for s in sentences]


SRC = ["the dog sees the cat .", "I read the book ."]
REF = ["Der Hund sieht die Katze.", "Ich lese das Buch."]


def test_a_perfect_translation_scores_100_and_the_report_says_how_it_decoded():
    translator = EchoTranslator(dict(zip(SRC, REF, strict=True)))
    decoding = DecodingConfig(beam=2, alpha=0.0)
    result = evaluate_translator(translator, EvaluationData(SRC, REF), decoding)
    assert translator.search == {
        "beam": 2,
        "alpha": 0.0,
        "batch_size": 64,
        "max_len_b": 50,
        "precision": "fp32",
        "streams": 1,
    }
    assert result.raw.sacrebleu.score == pytest.approx(100.0)
    assert (
        result.summary["sentences"] == 2
        and result.summary["beam"] == 2
        and result.summary["precision"] == "fp32"
    )
    assert "lowercase_tokenised" not in result.summary
    text = result.format()
    assert text.startswith("2 sentences, beam 2, alpha 0.0") and "sacreBLEU" in text


def test_tokenised_references_add_a_second_report():
    translator = EchoTranslator(dict(zip(SRC, REF, strict=True)))
    data = EvaluationData(SRC, REF, tokenised_refs=["der hund sieht die katze .", "ich lese das buch ."])
    result = evaluate_translator(translator, data, DecodingConfig())
    assert result.lowercase_tokenised is not None
    assert "lower-cased tokenised references" in result.format()
    json.dumps(result.summary)  # the --json file


def test_read_test_set_from_files_checks_alignment_and_takes_the_first_n(tmp_path):
    src, ref, short = tmp_path / "src.en", tmp_path / "ref.de", tmp_path / "short.de"
    src.write_text("\n".join(SRC) + "\n", encoding="utf-8")
    ref.write_text("\n".join(REF) + "\n", encoding="utf-8")
    short.write_text("eins\n", encoding="utf-8")
    data = read_test_set(tmp_path, EvaluationConfig(src=src, ref=ref, limit=1))
    assert (data.src, data.refs, data.target_lang) == (SRC[:1], REF[:1], "de")
    with pytest.raises(ValueError, match="has 2 lines but"):
        read_test_set(tmp_path, EvaluationConfig(src=src, ref=short))
    with pytest.raises(ValueError, match="--src needs --ref"):
        read_test_set(tmp_path, EvaluationConfig(src=src))


def test_read_test_set_of_a_named_dataset_uses_the_checkpoint_record(tmp_path):
    (tmp_path / "task_config.json").write_text(json.dumps({"data": {"dataset": "builtin"}}))
    data = read_test_set(tmp_path, EvaluationConfig(limit=3))
    assert len(data.src) == len(data.refs) == 3 and data.tokenised_refs is None
    with pytest.raises(ValueError, match="no split 'nope'"):
        read_test_set(tmp_path, EvaluationConfig(split="nope"))
