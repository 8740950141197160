"""Specification of GPT-1's tokenizer (Radford et al. 2018, §4.1): "BPE vocabulary with 40,000 merges",
text cleaned with ftfy, punctuation and whitespace standardised, split by the spaCy tokenizer.

Ground truths used here:
* Hugging Face ``OpenAIGPTTokenizer`` built from the same two OpenAI files, in whatever mode the
  installed transformers uses (5.x: always the BERT-style fallback; 4.x: spaCy + ftfy when installed);
* ``transformers.BasicTokenizer(do_lower_case=True)``, the fallback of transformers 4.x;
* an independent, deliberately plain transcription of OpenAI's released pipeline (``reference_*``
  below: ftfy, the published standardisation regexes, whole-text spaCy, the pure-Python merge loop);
* a few id sequences written out by hand from that pipeline, so a regression cannot hide in both.

The OpenAI files live in ``shared/data/gpt1_bpe`` next to the repository; tests that need them are
skipped when that folder is absent.
"""

from __future__ import annotations

import csv
import gzip
import inspect
import itertools
import random
import re
import sys
import time
from functools import cache
from pathlib import Path

import pytest

from ronbun.text.gpt1_bpe import (
    NEWLINE_TOKEN,
    UNK_TOKEN,
    GPT1Tokenizer,
    load_gpt1_bpe_files,
    spacy_available,
    standardize_text,
)

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
BPE_DIR = DATA / "gpt1_bpe"
needs_bpe_files = pytest.mark.skipif(
    not (BPE_DIR / "encoder_bpe_40000.json").is_file(),
    reason=f"GPT-1 BPE files not found in {BPE_DIR} (shared/data next to the repository)",
)
needs_spacy = pytest.mark.skipif(not spacy_available(), reason="spaCy and ftfy are not both installed")

# Hand-picked hard cases: odd whitespace and control characters, mojibake and HTML entities, curly quotes,
# ligatures, CJK/emoji (unknown), accents, dashes, spaCy exceptions and emoticons, punctuation runs.
TRICKY_TEXTS = [
    "",
    " ",
    "\n\n",
    "a\r\nb",
    "tab\there",
    "nb\u00a0sp and zero\u200bwidth",
    "ctl\x07x\x1c y",
    "&amp; &lt;b&gt; caf\u00c3\u00a9",
    "\u201ccurly\u201d \u2018quotes\u2019",
    "\ufb01ne ligature, \uff26\uff35\uff2c\uff2c width",
    "\u4e2d\u6587\u5b57 \u65e5\u672c\u8a9e \ud55c\uad6d\uc5b4 emoji \U0001f600\U0001f44d\U0001f3fd",
    "\ue000private x\ufffdy \u0301accent",
    "\u0130stanbul \u03a3\u039f\u03a6\u039f\u03a3 stra\u00dfe",
    "Wait\u2014what?! (Really\u2026)\n\n  Yes.",
    "don't won't can't U.S. e.g. 5.00$ $5 :) :-) <3 ( :3 ' '' 10p.m.",
    "a\n \nb\u2028line sep\u2029para \x85nel",
    "---- ~~ !!! ?! C++ / A\\B | {x} [y] _z_",
    "Mr. Smith's 1990s-era co-op ``quoted'' text",
    "aaaaaaaaaaaaaaaa",
]


# -- the original pipeline, written out plainly (the specification) -----------------------------------
def reference_standardize(text: str) -> str:
    """OpenAI's standardisation, with the regexes exactly as published."""
    for old, new in (("\u2014", "-"), ("\u2013", "-"), ("\u2015", "-"), ("\u2026", "..."), ("\u00b4", "'")):
        text = text.replace(old, new)
    text = re.sub(r"""(-+|~+|!+|"+|;+|\?+|\++|,+|\)+|\(+|\\+|\/+|\*+|\[+|\]+|}+|{+|\|+|_+)""", r" \1 ", text)
    text = re.sub(r"\s*\n\s*", " \n ", text)
    text = re.sub(r"[^\S\n]+", " ", text)
    return text.strip()


def reference_bpe(word: str, ranks: dict[tuple[str, str], int]) -> list[str]:
    """Greedy BPE: repeatedly merge every occurrence of the adjacent pair with the lowest rank."""
    symbols = [*word[:-1], word[-1] + "</w>"]
    while len(symbols) > 1:
        best = min(itertools.pairwise(symbols), key=lambda pair: ranks.get(pair, len(ranks)))
        if best not in ranks:
            break
        merged: list[str] = []
        i = 0
        while i < len(symbols):
            if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == best:
                merged.append(symbols[i] + symbols[i + 1])
                i += 2
            else:
                merged.append(symbols[i])
                i += 1
        symbols = merged
    if symbols == ["\n", " </w>"]:  # spaCy's line-break token "\n " is one piece in the original
        return [NEWLINE_TOKEN]
    return symbols


class ReferenceGPT1:
    """The released GPT-1 text pipeline, slow and literal: ids = encoder.get(piece, 0)."""

    def __init__(self) -> None:
        import ftfy
        from spacy.lang.en import English

        self.encoder, merges = load_gpt1_bpe_files(BPE_DIR)
        self.ranks = {pair: rank for rank, pair in enumerate(merges)}
        self.fix_text = ftfy.fix_text
        self.spacy = English().tokenizer
        self.word_cache: dict[str, list[int]] = {}

    def encode(self, text: str) -> list[int]:
        ids: list[int] = []
        for token in self.spacy(reference_standardize(self.fix_text(text))):
            word = token.text.lower()
            if word not in self.word_cache:
                pieces = reference_bpe(word, self.ranks)
                self.word_cache[word] = [self.encoder.get(piece, 0) for piece in pieces]
            ids.extend(self.word_cache[word])
        return ids


# -- corpora ---------------------------------------------------------------------------------------------
def _every(lines: list[str], count: int) -> list[str]:
    lines = [line for line in lines if line.strip()]
    step = max(1, len(lines) // count)
    return lines[::step][:count]


@cache
def real_lines() -> tuple[str, ...]:
    """About 1,600 real lines from nine corpora (English and German), original case and punctuation."""

    def read(rel: str) -> list[str]:
        return (DATA / rel).read_text(encoding="utf-8").split("\n")

    lines: list[str] = []
    sources = {
        "tiny_shakespeare/input.txt": read,
        "wikitext2_eval/wiki.valid.tokens": read,
        "tatoeba_deu_eng/tatoeba-test-v2021-08-07.eng": read,
        "tatoeba_deu_eng/tatoeba-test-v2021-08-07.deu": read,
        "wmt_newstest_de_en/newstest2014.en": read,
        "glue/SST-2/train.tsv": lambda rel: [row.split("\t")[0] for row in read(rel)[1:]],
        "glue/MRPC/train.tsv": lambda rel: [c for row in read(rel)[1:] for c in row.split("\t")[3:5]],
        "multi30k/raw/train.en.gz": lambda rel: (
            gzip.decompress((DATA / rel).read_bytes()).decode("utf-8").split("\n")
        ),
        "story_cloze_RESTRICTED/cloze_test_val__spring2016.csv": lambda rel: [
            " ".join(row[1:7]) for row in csv.reader(read(rel))
        ][1:],
    }
    for rel, load in sources.items():
        if (DATA / rel).is_file():
            lines.extend(_every(load(rel), 180))
    # Multi-line documents (line breaks matter to the spaCy pipeline).
    if (DATA / "tiny_shakespeare/input.txt").is_file():
        play = read("tiny_shakespeare/input.txt")
        lines.extend("\n".join(play[i : i + 12]) for i in range(0, 2400, 120))
    if len(lines) < 1000:
        pytest.skip(f"fewer than 1,000 real lines found under {DATA}")
    return tuple(lines)


@cache
def tokenizer(mode: str, special_unk_literal: bool = False) -> GPT1Tokenizer:
    return GPT1Tokenizer.from_dir(BPE_DIR, mode, special_unk_literal=special_unk_literal)  # type: ignore[arg-type]


@cache
def reference() -> ReferenceGPT1:
    return ReferenceGPT1()


@cache
def hugging_face():
    """``OpenAIGPTTokenizer`` from the two OpenAI files, and the pre-tokenizer mode it runs in."""
    transformers = pytest.importorskip("transformers")
    cls = transformers.OpenAIGPTTokenizer
    if "vocab_file" in inspect.signature(cls.__init__).parameters:  # transformers 4.x
        hf = cls(
            vocab_file=str(BPE_DIR / "encoder_bpe_40000.json"), merges_file=str(BPE_DIR / "vocab_40000.bpe")
        )
    else:  # transformers 5.x ignores vocab_file/merges_file in __init__ (every id would be <unk>)
        encoder, merges = load_gpt1_bpe_files(BPE_DIR)
        hf = cls(vocab=encoder, merges=merges)
    assert hf.convert_tokens_to_ids("hello</w>") == 3570, "Hugging Face tokenizer did not load the vocabulary"
    mode = "spacy" if getattr(hf, "fix_text", None) is not None else "basic"
    return hf, mode


def hf_version() -> str:
    return pytest.importorskip("transformers").__version__


def hf_ids(hf, texts) -> list[list[int]]:
    return [hf.encode(text, add_special_tokens=False) for text in texts]


# -- standardisation (needs no data) --------------------------------------------------------------------
def test_standardize_maps_dashes_ellipsis_and_acute_accent():
    assert standardize_text("a\u2014b\u2013c\u2015d\u2026e\u00b4s") == "a - b - c - d...e's"


def test_standardize_pads_each_run_of_one_punctuation_character():
    assert standardize_text("Hi!!!? (yes)--no") == "Hi !!! ? ( yes ) -- no"
    assert standardize_text('say "x";{y}[z]|a_b/c\\d*e+f~g,h') == (
        'say " x " ; { y } [ z ] | a _ b / c \\ d * e + f ~ g , h'
    )
    assert standardize_text("U.S. $5.00: it's") == "U.S. $5.00: it's"  # . $ : ' are left alone


def test_standardize_collapses_whitespace_and_marks_line_breaks():
    assert standardize_text("  one \t two\u00a0\u2003three \r\n\n \t four  \n") == "one two three \n four"
    assert standardize_text(" \n\n ") == ""


def test_standardize_equals_the_published_regexes_on_random_strings():
    rng = random.Random(0)
    alphabet = list("-~!\";?+,)(\\/*[]}{|_ \n\t\r.'ab\u2014\u2013\u2015\u2026\u00b4\u00a0\x0b\u2028")
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 20)))
        assert standardize_text(text) == reference_standardize(text), repr(text)


# -- files and vocabulary ---------------------------------------------------------------------------------
@needs_bpe_files
def test_files_hold_40000_merges_and_40478_tokens():
    encoder, merges = load_gpt1_bpe_files(BPE_DIR)
    assert len(merges) == 40_000 and merges[0] == ("t", "h") and merges[-1] == ("bachel", "orette</w>")
    assert len(encoder) == 40_478 and encoder[UNK_TOKEN] == 0 and encoder[NEWLINE_TOKEN] == 40_477


@needs_bpe_files
def test_vocabulary_lookups():
    tok = tokenizer("basic")
    assert tok.vocab_size == 40_478
    assert tok.token_to_id("hello</w>") == 3570 and tok.id_to_token(3570) == "hello</w>"
    assert tok.token_to_id("not-a-piece</w>") is None
    assert tok.id_to_token(0) == UNK_TOKEN == tok.id_to_token(tok.unk_id)
    assert tok.id_to_token(40_477) == NEWLINE_TOKEN and tok.newline_id == 40_477
    for bad in (-1, 40_478):
        with pytest.raises(IndexError):
            tok.id_to_token(bad)


def test_missing_files_are_reported(tmp_path):
    with pytest.raises(FileNotFoundError, match="encoder_bpe_40000.json"):
        GPT1Tokenizer.from_dir(tmp_path, "basic")


@needs_bpe_files
def test_backend_follows_the_pre_tokenizer_argument(monkeypatch):
    assert tokenizer("basic").backend == "basic"
    assert GPT1Tokenizer.from_dir(BPE_DIR, "auto").backend == ("spacy" if spacy_available() else "basic")
    with pytest.raises(ValueError, match="pre_tokenizer"):
        GPT1Tokenizer.from_dir(BPE_DIR, "moses")  # type: ignore[arg-type]
    for module in ("spacy", "spacy.lang", "spacy.lang.en", "spacy.tokenizer"):  # as if spaCy were absent
        monkeypatch.setitem(sys.modules, module, None)
    assert not spacy_available()
    assert GPT1Tokenizer.from_dir(BPE_DIR, "auto").backend == "basic"
    with pytest.raises(ImportError, match="spaCy"):
        GPT1Tokenizer.from_dir(BPE_DIR, "spacy")


# -- identical to Hugging Face ------------------------------------------------------------------------------
@needs_bpe_files
def test_ids_equal_hugging_face_in_its_current_mode_on_real_lines():
    hf, mode = hugging_face()
    if mode == "spacy" and not spacy_available():
        pytest.skip("Hugging Face uses spaCy but this module cannot import it")
    lines = real_lines()
    ours = tokenizer(mode, special_unk_literal=True)  # Hugging Face treats a literal "<unk>" as the token
    assert len(lines) >= 1000
    expected = hf_ids(hf, lines)
    assert ours.encode_batch(lines) == expected
    assert [ours.encode(line) for line in lines[:300]] == expected[:300]
    if int(hf_version().split(".")[0]) >= 5:  # 4.x decodes differently (strip + clean_up_tokenization_spaces)
        assert [ours.decode(ids) for ids in expected] == [hf.decode(ids) for ids in expected]


@needs_bpe_files
def test_basic_mode_equals_hugging_face_fallback_on_real_and_tricky_text():
    """transformers 4.x without spaCy and every transformers 5.x: BERT basic tokenization, no ftfy."""
    transformers = pytest.importorskip("transformers")
    bert = transformers.BasicTokenizer(do_lower_case=True)
    tok = tokenizer("basic")
    encoder, merges = load_gpt1_bpe_files(BPE_DIR)
    ranks = {pair: rank for rank, pair in enumerate(merges)}
    for text in (*real_lines(), *TRICKY_TEXTS[:5]):
        words = bert.tokenize(text)
        assert tok.pre_tokenize(text) == words, repr(text)
        expected = [encoder.get(p, 0) for w in words for p in reference_bpe(w, ranks)]
        assert tok.encode(text) == expected, repr(text)
    hf, mode = hugging_face()
    if mode == "basic":
        with_literal = tokenizer("basic", special_unk_literal=True)
        assert [with_literal.encode(t) for t in TRICKY_TEXTS] == hf_ids(hf, TRICKY_TEXTS)


# -- the original (spaCy) pipeline -------------------------------------------------------------------------
@needs_bpe_files
@needs_spacy
def test_spacy_mode_equals_the_original_pipeline_on_real_lines():
    lines = real_lines()
    assert tokenizer("spacy").encode_batch(lines) == [reference().encode(line) for line in lines]


@needs_bpe_files
@needs_spacy
def test_spacy_mode_equals_the_original_pipeline_on_special_case_soup():
    """Emoticons, quotes and abbreviations are where spaCy's special cases interact across spaces."""
    rng = random.Random(1)
    alphabet = [*":'()-._*=<>^;8Ddpox0 3 \n`\"", "a.m.", "''", " ", "s", "(:", ":)", "<3", "p.m.", "don't"]
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 14))) for _ in range(3000)]
    tok = tokenizer("spacy")
    for text in (*texts, *TRICKY_TEXTS):
        assert tok.encode(text) == reference().encode(text), repr(text)


@needs_bpe_files
@needs_spacy
def test_spacy_mode_known_ids():
    tok = tokenizer("spacy")
    # spaCy splits "don't" into "do n't"; the em dash becomes "-"; "$5.00" is "$", "5.00" -> "5", ".00</w>"
    assert tok.tokenize("Hello, World! Don't stop\u2014it's $5.00...") == [
        "hello</w>", ",</w>", "world</w>", "!</w>", "do</w>", "n't</w>", "stop</w>", "-</w>",
        "it</w>", "'s</w>", "$</w>", "5", ".00</w>", "...</w>",
    ]  # fmt: skip
    assert tok.encode("Hello, World! Don't stop\u2014it's $5.00...") == [
        3570, 240, 1276, 267, 587, 538, 1296, 260, 507, 535, 289, 46, 25088, 749,
    ]  # fmt: skip
    # Line breaks survive as "\n</w>" (40477); blank lines collapse; "…" becomes "...".
    assert tok.encode("Line one.\n\nLine two\u2026 (end)") == [
        1584,
        566,
        239,
        40477,
        1584,
        867,
        749,
        276,
        872,
        275,
    ]
    assert tok.encode("I can't believe it's the U.S. :)") == [
        249,
        993,
        538,
        1441,
        507,
        535,
        481,
        9901,
        271,
        275,
    ]


@needs_bpe_files
@needs_spacy
def test_spacy_mode_cleans_non_ascii_text_with_ftfy_and_keeps_accents():
    tok = tokenizer("spacy")
    # mojibake "cafÃ©" is repaired, "&amp;" unescaped, curly quotes straightened; accents are kept
    assert tok.encode("Caf\u00e9 na\u00efve r\u00e9sum\u00e9, caf\u00c3\u00a9 &amp; \u201cquotes\u201d") == [
        13550, 24213, 17, 62, 6414, 300, 240, 13550, 296, 244, 23919, 244,
    ]  # fmt: skip
    assert tok.tokenize("na\u00efve") == ["na\u00efve</w>"]
    assert tokenizer("basic").tokenize("na\u00efve") == ["naive</w>"]  # the fallback strips accents


# -- differences between the two modes ---------------------------------------------------------------------
@needs_bpe_files
@needs_spacy
def test_spacy_and_basic_modes_differ_as_documented():
    spacy_tok, basic_tok = tokenizer("spacy"), tokenizer("basic")
    text = "He's from the U.S.\u2014he paid $5.00\u2026\nBye."
    assert spacy_tok.decode(spacy_tok.encode(text)) == "he 's from the u.s. - he paid $ 5.00 ... \n bye ."
    assert (
        basic_tok.decode(basic_tok.encode(text)) == "he ' s from the u . s . <unk>he paid $ 5 . 00 <unk>bye ."
    )


# -- unknown pieces, the literal "<unk>", empty text ---------------------------------------------------------
@needs_bpe_files
@pytest.mark.parametrize("mode", ["basic", pytest.param("spacy", marks=needs_spacy)])
def test_unknown_characters_become_id_0_one_per_character(mode):
    tok = tokenizer(mode)
    assert tok.unk_id == 0
    assert tok.encode("\u4e2d") == [0]
    assert tok.encode("\u4e2d\u4e2d") == [0, 0]  # not fused
    # inside a word only the unknown character is lost: "x", "ж" (Cyrillic zhe, not in GPT-1's data), "y</w>"
    assert tok.encode("x\u0436y") == [tok.token_to_id("x"), 0, tok.token_to_id("y</w>")]
    assert tok.tokenize("\U0001f600") == [UNK_TOKEN]


@needs_bpe_files
@pytest.mark.parametrize("mode", ["basic", pytest.param("spacy", marks=needs_spacy)])
def test_literal_unk_is_text_in_the_original_and_a_token_in_hugging_face(mode):
    assert tokenizer(mode).tokenize("a <unk> b") == ["a</w>", "<</w>", "unk</w>", "></w>", "b</w>"]
    assert tokenizer(mode, special_unk_literal=True).encode("a <unk> b<unk>c") == [246, 0, 259, 0, 263]


@needs_bpe_files
@pytest.mark.parametrize("mode", ["basic", pytest.param("spacy", marks=needs_spacy)])
def test_empty_and_blank_text(mode):
    tok = tokenizer(mode)
    for text in ("", " ", "\n\n\t", "\u00a0"):
        assert tok.encode(text) == []
    assert tok.encode_batch([]) == []
    assert tok.encode_batch(["", "a"]) == [[], [246]]
    assert tok.decode([]) == ""


# -- decoding -------------------------------------------------------------------------------------------------
@needs_bpe_files
@pytest.mark.parametrize("mode", ["basic", pytest.param("spacy", marks=needs_spacy)])
def test_decode_gives_the_normalised_words_and_re_encodes_to_the_same_ids(mode):
    tok = tokenizer(mode)
    checked = 0
    for text in real_lines():
        ids = tok.encode(text)
        if tok.unk_id in ids:
            continue
        words = ["\n" if word == "\n " else word for word in tok.pre_tokenize(text)]
        assert tok.decode(ids) == " ".join(words)
        if mode == "basic":  # the spaCy pipeline is not idempotent ("ca n't" -> "ca n't" is, "5.00$" not)
            assert tok.encode(tok.decode(ids)) == ids
        checked += 1
    assert checked > 1000


# -- the BPE engine ---------------------------------------------------------------------------------------------
@needs_bpe_files
def test_rust_bpe_merges_like_the_original_loop_on_every_distinct_word():
    tok = tokenizer("basic")
    encoder, merges = load_gpt1_bpe_files(BPE_DIR)
    ranks = {pair: rank for rank, pair in enumerate(merges)}
    words = {w for text in real_lines() for w in tok.pre_tokenize(text)}
    words |= {"aaaaaaa", "abababab", "\u00e9t\u00e9", "x\u4e2dy", "1234567890", "zzzzzzzzzz", "\n"}
    assert len(words) > 5000
    for word in sorted(words):
        expected = [encoder.get(piece, 0) for piece in reference_bpe(word, ranks)]
        assert tok._bpe_word(word) == expected, repr(word)


# -- batches and speed -----------------------------------------------------------------------------------------
@needs_bpe_files
@pytest.mark.parametrize("mode", ["basic", pytest.param("spacy", marks=needs_spacy)])
def test_batch_equals_one_by_one(mode):
    tok = tokenizer(mode)
    texts = [*real_lines()[::7], *TRICKY_TEXTS]
    assert tok.encode_batch(texts) == [tok.encode(text) for text in texts]


@needs_bpe_files
@pytest.mark.parametrize("mode", ["basic", pytest.param("spacy", marks=needs_spacy)])
def test_throughput_of_a_fresh_tokenizer_on_real_text(mode):
    path = DATA / "tiny_shakespeare/input.txt"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    lines = path.read_text(encoding="utf-8").split("\n")  # 1.1 MB, 40,000 lines
    megabytes = sum(len(line.encode()) + 1 for line in lines) / 1e6
    tok = GPT1Tokenizer.from_dir(BPE_DIR, mode)  # cold caches
    start = time.perf_counter()
    ids = tok.encode_batch(lines)
    rate = megabytes / (time.perf_counter() - start)
    assert sum(map(len, ids)) > 250_000
    assert rate > 0.1, f"{mode}: {rate:.2f} MB/s"  # 1-2.7 MB/s measured; loose for shared CI machines
