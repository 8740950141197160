"""Text in, text out with an imported Marian (opus-mt-shaped) model: ``ronbun.load(DIR).translate`` gives
the same strings as Hugging Face's ``MarianTokenizer`` + ``generate`` on the same random model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

spm = pytest.importorskip("sentencepiece")
transformers = pytest.importorskip("transformers")

import ronbun  # noqa: E402
from ronbun.interop import convert  # noqa: E402

SENTENCES = ["the dog sees the cat", "a man rides a horse in the park", "hello"]


def train_spm(text: list[str], prefix: Path) -> Path:
    corpus = prefix.with_suffix(".txt")
    corpus.write_text("\n".join(text * 20) + "\n", encoding="utf-8")
    spm.SentencePieceTrainer.train(
        input=str(corpus), model_prefix=str(prefix), vocab_size=32, model_type="unigram",
        character_coverage=1.0, bos_id=-1, eos_id=-1, unk_id=0, minloglevel=2,
    )  # fmt: skip
    return prefix.with_suffix(".model")


@pytest.fixture(scope="module")
def marian_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("opus")
    words = [
        "the",
        "a",
        "dog",
        "cat",
        "sees",
        "man",
        "rides",
        "horse",
        "in",
        "park",
        "hello",
        "der",
        "die",
        "das",
        "hund",
        "katze",
        "sieht",
        "mann",
    ]
    lines = [" ".join(words[i : i + 5]) for i in range(len(words))] + SENTENCES
    src_model = train_spm(lines, d / "src")
    tgt_model = train_spm(lines, d / "tgt")
    pieces: list[str] = []
    for model in (src_model, tgt_model):
        sp = spm.SentencePieceProcessor(model_file=str(model))
        pieces += [sp.id_to_piece(i) for i in range(sp.get_piece_size())]
    vocab = {"</s>": 0, "<unk>": 1}
    for p in pieces:
        vocab.setdefault(p, len(vocab))
    vocab["<pad>"] = len(vocab)
    torch.manual_seed(0)
    config = transformers.MarianConfig(
        vocab_size=len(vocab), d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
        decoder_attention_heads=4, encoder_ffn_dim=64, decoder_ffn_dim=64, max_position_embeddings=128,
        activation_function="swish", pad_token_id=vocab["<pad>"], eos_token_id=0,
        decoder_start_token_id=vocab["<pad>"], forced_eos_token_id=0, init_std=0.2,
    )  # fmt: skip
    model = transformers.MarianMTModel(config).eval()
    with torch.no_grad():
        model.final_logits_bias[0, 0] += 3.0  # make </s> likely so outputs have natural lengths
    model.save_pretrained(d / "hf")
    (d / "hf" / "source.spm").write_bytes(src_model.read_bytes())
    (d / "hf" / "target.spm").write_bytes(tgt_model.read_bytes())
    (d / "hf" / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    return d / "hf"


def test_imported_marian_translates_text_like_hugging_face(marian_dir, tmp_path):
    hf_tok = transformers.MarianTokenizer(
        source_spm=str(marian_dir / "source.spm"), target_spm=str(marian_dir / "target.spm"),
        vocab=str(marian_dir / "vocab.json"),
    )  # fmt: skip
    hf_model = transformers.MarianMTModel.from_pretrained(marian_dir).eval()
    out = convert("hf-marian", marian_dir, tmp_path / "ronbun")
    translator = ronbun.load(out)
    b = 10
    for sentence in SENTENCES:
        enc = hf_tok([sentence], return_tensors="pt")
        assert enc["input_ids"][0].tolist() == translator.tokenizer.encode(sentence)
        n_src = enc["input_ids"].shape[1]
        with torch.no_grad():
            generated = hf_model.generate(
                **enc, do_sample=False, num_beams=1, max_new_tokens=n_src + b + 1,
                forced_eos_token_id=0, bad_words_ids=[[hf_tok.pad_token_id]],
            )  # fmt: skip
        expected = hf_tok.decode(generated[0], skip_special_tokens=True)
        assert translator.translate([sentence], beam=1, max_len_b=b) == [expected]
