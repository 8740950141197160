"""The translation benchmark (``python -m benchmarks.translation``) runs end to end on a tiny random
checkpoint: every engine translates, is timed and scored, and the fp32 engines — ronbun, Hugging Face
``generate`` on the ``hf-marian`` export and CTranslate2 on the ``ctranslate2`` export, the same weights —
give the same greedy translations.  Speeds are not checked here (docs/performance.md says how to run it)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch

pytest.importorskip("transformers", reason="the Hugging Face engine needs transformers")
pytest.importorskip(
    "ctranslate2", reason="the CTranslate2 engines need ctranslate2 (pip install 'ronbun[deploy]')"
)

from ronbun.data.synthetic import generate_corpus
from ronbun.models import Transformer, TransformerConfig
from ronbun.text.bpe import TextTokenizer
from ronbun.training.checkpoint import save_checkpoint

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks import translation  # noqa: E402

SOURCES = ["The man sees the dog.", "A woman reads a book.", "The child runs.", "Two dogs play.", "Hello."]
REFERENCES = [
    "Der Mann sieht den Hund.",
    "Eine Frau liest ein Buch.",
    "Das Kind rennt.",
    "Zwei Hunde spielen.",
    "Hallo.",
]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    """A random ``tiny`` Transformer (post-LN, interleaved sinusoids, tied embeddings) with a small BPE."""
    root = tmp_path_factory.mktemp("bench")
    torch.manual_seed(0)
    en, de = generate_corpus(n_train=200, n_valid=1, n_test=1)["train"]
    tok = TextTokenizer.train(en + de, 300)
    tok.save(root / "tokenizer.json")
    model = Transformer(TransformerConfig.preset("tiny", vocab_size=tok.vocab_size, max_positions=32))
    save_checkpoint(root / "mt", model, tokenizer_file=root / "tokenizer.json")
    (root / "src.txt").write_text("\n".join(SOURCES) + "\n", encoding="utf-8")
    (root / "ref.txt").write_text("\n".join(REFERENCES) + "\n", encoding="utf-8")
    return root


def test_every_engine_translates_and_the_fp32_engines_agree(checkpoint, monkeypatch, capsys):
    monkeypatch.setattr(translation, "cpu_has_bf16", lambda: True)  # run the bf16 engine on any CPU
    out = checkpoint / "results" / "translation.json"
    argv = [
        str(checkpoint / "mt"), "--src", str(checkpoint / "src.txt"), "--ref", str(checkpoint / "ref.txt"),
        "--sentences", "5", "--repeats", "1", "--latency-sentences", "2", "--max-len", "8", "--threads", "1",
        "--no-memory", "--out", str(out),
    ]  # fmt: skip
    assert translation.main(argv) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["engines"] == list(translation.ENGINES) and report["skipped"] == {}
    rows = {(r["engine"], r["beam"]): r for r in report["results"]}
    assert set(rows) == {(e, b) for e in translation.ENGINES for b in (1, 4)}
    for row in rows.values():
        assert row["sentences"] == 5 and row["sentences_per_s"] > 0 and row["target_tokens_per_s"] > 0
        assert (
            row["bleu"] >= 0 and row["chrf"] >= 0 and "case:mixed" in row["bleu_signature"]
        )  # cased sacreBLEU
    for engine in translation.FP32_ENGINES:  # same weights, same arithmetic, same greedy choices
        assert rows[(engine, 1)]["identical_to_ronbun_fp32"] == 1.0
    assert set(rows[("ronbun fp32", 4)]["speed_vs"]) == set(translation.REFERENCES)
    assert "HF generate fp32" not in rows[("HF generate fp32", 4)]["speed_vs"]
    latency = {(r["engine"], r["beam"]): r for r in report["latency"]}
    assert set(latency) == set(rows) and all(0 < r["p50_ms"] <= r["p90_ms"] for r in latency.values())
    assert report["settings"]["max_len"] == 8 and report["decoding_rules"]["length_penalty"].startswith(
        "power"
    )
    assert {"torch", "ctranslate2", "transformers", "cpu"} <= set(report["machine"])
    table = out.with_suffix(".md").read_text(encoding="utf-8")
    assert "| CT2 int8 | 4 |" in table and "× HF generate fp32" in table
    assert table in capsys.readouterr().out


@pytest.mark.slow
def test_peak_memory_is_measured_in_a_fresh_process_per_engine(checkpoint, tmp_path):
    exports = translation.make_exports(checkpoint / "mt", ["HF generate fp32", "CT2 int8"], tmp_path)
    decoding = translation.Decoding(alpha=0.6, max_len=8, batch_size=32)
    peaks = translation.peak_memory(
        ["ronbun fp32", "CT2 int8"], exports, decoding, SOURCES, beam=4, threads=1
    )
    assert set(peaks) == {"ronbun fp32", "CT2 int8"}
    assert all(p["peak_mib"] > 0 and p["base_mib"] > 0 for p in peaks.values())


def test_the_ronbun_engine_is_the_translators_own_path(checkpoint):
    """``ronbun fp32`` = :meth:`Translator.translate` with the shared settings, and its token count is the
    number of ids the search produced."""
    from ronbun.mt.translator import Translator

    decoding = translation.Decoding(alpha=0.6, max_len=8, batch_size=2)
    exports = translation.Exports(checkpoint / "mt", checkpoint / "none", checkpoint / "none")
    (engine,) = translation.build_engines(["ronbun fp32"], exports, decoding, threads=1).values()
    out = engine(SOURCES, 4)
    translator = Translator.from_checkpoint(checkpoint / "mt")
    expected = translator.translate(SOURCES, beam=4, batch_size=2, **decoding.ronbun())
    assert out.texts == expected
    ids = translator.translate_ids(translator.tokenizer.encode_batch(SOURCES), beam=4, **decoding.ronbun())
    assert out.tokens == sum(map(len, ids)) > 0


def test_streams_give_every_engine_the_same_translations_and_counts(checkpoint, tmp_path):
    """``--streams 2``: each engine decodes two batches at a time (CTranslate2 with ``inter_threads=2``), and
    its translations and token counts are those of one stream."""
    names = ["ronbun fp32", "HF generate fp32", "CT2 fp32"]
    exports = translation.make_exports(checkpoint / "mt", names, tmp_path)
    one, two = (
        translation.build_engines(names, exports, translation.Decoding(0.6, 8, 1, streams), threads=2)
        for streams in (1, 2)
    )
    for name in names:
        for beam in (1, 4):
            a, b = one[name](SOURCES, beam), two[name](SOURCES, beam)
            assert (a.texts, a.tokens) == (b.texts, b.tokens), name
