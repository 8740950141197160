"""Natural text in, natural text out: whatever text convention a translator was trained on, users type and
read ordinary sentences (raw-text models need nothing; lower-cased Moses-tokenised models normalise their
input and detokenise + unescape their output, recorded in the checkpoint)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

import ronbun
from ronbun.mt.task import MTDataConfig, TranslationTask
from ronbun.mt.translator import Translator
from ronbun.text.bpe import TextTokenizer
from ronbun.text.moses import MosesNormalizedTokenizer
from ronbun.training.loop import Trainer, TrainerConfig

PAIRS = [
    ("A man rides a horse.", "Ein Mann reitet ein Pferd."),
    ('A sign says "Welcome bikers".', 'Ein Schild sagt "Welcome Bikers".'),
    ("A boy plays at McDonald's.", "Ein Junge spielt bei McDonald's."),
    ("Two dogs & a cat run on the grass.", "Zwei Hunde & eine Katze laufen auf dem Gras."),
    ("A woman reads a book in the park.", "Eine Frau liest ein Buch im Park."),
]
STEMS = {"train": "train", "valid": "val", "test": "test_2016_flickr"}


def _fake_multi30k(root: Path) -> Path:
    """Multi30k's layout (raw/*.gz + tok/*.lc.norm.tok.*), the tok side made by the Moses pipeline."""
    from sacremoses import MosesPunctNormalizer, MosesTokenizer

    (root / "raw").mkdir(parents=True)
    (root / "tok").mkdir()
    for stem in STEMS.values():
        for side, lang in enumerate(("en", "de")):
            lines = [pair[side] for pair in PAIRS] * (8 if stem == "train" else 1)
            with gzip.open(root / "raw" / f"{stem}.{lang}.gz", "wt", encoding="utf-8") as f:
                f.write("".join(f"{line}\n" for line in lines))
            norm, tok = MosesPunctNormalizer(lang=lang), MosesTokenizer(lang=lang)
            toks = [tok.tokenize(norm.normalize(s.lower()), escape=True, return_str=True) for s in lines]
            (root / "tok" / f"{stem}.lc.norm.tok.{lang}").write_text("".join(f"{t}\n" for t in toks))
    return root


def _train(tmp_path: Path, lowercase_tokenized: bool) -> Path:
    data = MTDataConfig(
        dataset="multi30k",
        data_dir=str(_fake_multi30k(tmp_path / "multi30k")),
        lowercase_tokenized=lowercase_tokenized,
        vocab_size=300,
        max_tokens=400,
        valid_bleu_sentences=0,
    )
    task = TranslationTask(data, out_dir=tmp_path / "run", preset="tiny", log=lambda m: None)
    cfg = TrainerConfig(out_dir=str(tmp_path / "run"), max_steps=3, warmup=2, eval_every=0, progress=False)
    return Path(Trainer(task, cfg, log=lambda m: None).fit()["checkpoint"])


def test_moses_normalisation_matches_the_multi30k_files():
    tok = MosesNormalizedTokenizer(None, "en", "de")
    assert tok.normalize_source("A man rides a horse.") == "a man rides a horse ."
    assert tok.normalize_source('He says "hi" to a dog.') == "he says &quot; hi &quot; to a dog ."
    assert tok.normalize_source("McDonald's") == "mcdonald &apos;s"


def test_moses_denormalisation_detokenises_and_unescapes():
    tok = MosesNormalizedTokenizer(None, "en", "de")
    out = tok.denormalize_target("ein schild sagt &quot; willkommen &quot; , zwei hunde &amp; eine katze .")
    assert out == 'ein schild sagt "willkommen", zwei hunde & eine katze.'


def test_a_lowercase_tokenised_model_takes_and_gives_natural_text(tmp_path, monkeypatch):
    ckpt = _train(tmp_path, lowercase_tokenized=True)
    translator = Translator.from_checkpoint(ckpt)
    assert isinstance(translator.tokenizer, MosesNormalizedTokenizer)
    inner: TextTokenizer = translator.tokenizer.inner
    seen: list[list[int]] = []

    def fake_search(src_ids, **kwargs):  # what the model would write in its training convention
        seen.extend(list(s) for s in src_ids)
        return [inner.encode("ein schild sagt &quot; willkommen &quot; .")] * len(src_ids)

    monkeypatch.setattr(translator, "translate_ids", fake_search)
    assert translator.translate(["A man rides a horse."]) == ['ein schild sagt "willkommen".']
    assert seen == [inner.encode("a man rides a horse .")]  # the model saw what it was trained on


@pytest.mark.parametrize("lowercase_tokenized", [True, False])
def test_each_kind_of_model_round_trips_a_sentence_without_moses_escapes(tmp_path, lowercase_tokenized):
    ckpt = _train(tmp_path, lowercase_tokenized)
    for translator in (Translator.from_checkpoint(ckpt), ronbun.load(ckpt)):
        (out,) = translator.translate(["A man rides a horse."], beam=2)
        assert isinstance(out, str)
        assert "&quot;" not in out and "&apos;" not in out and "&amp;" not in out
    raw = Translator.from_checkpoint(ckpt).tokenizer
    assert isinstance(raw, MosesNormalizedTokenizer) == lowercase_tokenized
