"""BLEU reporting: sacreBLEU, chrF and paper-style tokenised + compound-split BLEU, clearly labelled."""

from __future__ import annotations

import gzip
import sys
import types

import pytest
import sacrebleu

from ronbun.evaluation import bleu
from ronbun.evaluation.bleu import (
    BleuReport,
    compound_split,
    moses_unescape,
    paper_tokenise,
    replace_unicode_punctuation,
    score_translations,
)

HYPS = [
    "Ein Mann mit einem orangefarbenen Hut starrt etwas an.",
    "Ein Boston Terrier läuft über saftig grünes Gras vor einem weißen Zaun.",
    "Ein Mädchen in einem Karateanzug bricht ein Brett.",
    "Fünf Leute in Winterjacken stehen im Schnee.",
]
REFS = [
    "Ein Mann mit einem orangefarbenen Hut, der etwas anstarrt.",
    "Ein Boston-Terrier läuft über saftig-grünes Gras vor einem weißen Zaun.",
    "Ein Mädchen in einem Karateanzug bricht ein Brett mit einem Tritt.",
    "Fünf Leute in Winterjacken und mit Helmen stehen im Schnee mit Schneemobilen im Hintergrund.",
]


def test_perfect_match_scores_100_everywhere() -> None:
    report = score_translations(REFS, REFS)
    assert report.sacrebleu.score == pytest.approx(100.0)
    assert report.chrf.score == pytest.approx(100.0)
    assert report.tokenised.score == pytest.approx(100.0)
    assert report.warnings == ()


def test_sacrebleu_and_chrf_equal_calling_sacrebleu_directly() -> None:
    report = score_translations(HYPS, REFS)
    direct = sacrebleu.corpus_bleu(HYPS, [REFS])
    assert report.sacrebleu.score == pytest.approx(direct.score)
    assert report.chrf.score == pytest.approx(sacrebleu.corpus_chrf(HYPS, [REFS]).score)
    assert "tok:13a" in report.sacrebleu.signature
    assert "case:mixed" in report.sacrebleu.signature
    assert f"version:{sacrebleu.__version__}" in report.sacrebleu.signature
    assert 0 < report.sacrebleu.score < 100


def test_tokenised_bleu_equals_manual_pipeline() -> None:
    """Paper-style BLEU = uni-punct + 13a + ##AT## on both sides, then tokenize=none, no smoothing."""
    report = score_translations(HYPS, REFS)
    tok = sacrebleu.tokenizers.tokenizer_13a.Tokenizer13a()
    h = [compound_split(tok(x)) for x in HYPS]
    r = [compound_split(tok(x)) for x in REFS]
    expected = sacrebleu.corpus_bleu(h, [r], tokenize="none", smooth_method="none", force=True).score
    assert report.tokenised.score == pytest.approx(expected)
    assert report.tokenised.signature.startswith("pre:unescape+uni-punct+13a+atat|")
    assert "tok:none" in report.tokenised.signature
    assert "smooth:none" in report.tokenised.signature


def test_compound_split_rule_exact() -> None:
    assert compound_split("rich-text format") == "rich ##AT##-##AT## text format"
    assert compound_split("Boston-Terrier , saftig-grünes") == (
        "Boston ##AT##-##AT## Terrier , saftig ##AT##-##AT## grünes"
    )
    # Non-overlapping left-to-right matching, exactly like perl's s{(\S)-(\S)}{...}g:
    assert compound_split("a-b-c") == "a ##AT##-##AT## b-c"
    assert compound_split("x - y") == "x - y"  # a free-standing dash is not a compound
    assert compound_split("-x y-") == "-x y-"
    assert compound_split("1-2") == "1 ##AT##-##AT## 2"  # \S, not just letters


def test_compound_split_effect_is_visible() -> None:
    hyps = ["Ein Boston Terrier läuft über saftig grünes Gras ."]
    refs = ["Ein Boston-Terrier läuft über saftig-grünes Gras ."]
    with_split = score_translations(hyps, refs, compound_split=True)
    without = score_translations(hyps, refs, compound_split=False)
    assert with_split.compound_split and not without.compound_split
    # Without the split "Boston-Terrier" is one token that the hypothesis never matches; with it the
    # two words match and only the ##AT## tokens are missing.
    assert with_split.tokenised.score > without.tokenised.score + 10
    assert "atat" in with_split.tokenised.signature
    assert "atat" not in without.tokenised.signature
    # sacreBLEU is unaffected by the option.
    assert with_split.sacrebleu.score == pytest.approx(without.sacrebleu.score)


def test_compound_split_default_depends_on_language_and_mode() -> None:
    assert score_translations(REFS, REFS, target_lang="de").compound_split is True
    assert score_translations(REFS, REFS, target_lang="en").compound_split is False
    assert score_translations(REFS, REFS, lowercase_tokenised=True).compound_split is False


def test_empty_hypotheses_score_zero() -> None:
    report = score_translations(["", ""], ["Ein Test .", "Noch einer ."])
    assert report.sacrebleu.score == 0.0
    assert report.chrf.score == 0.0
    assert report.tokenised.score == 0.0
    partial = score_translations(["", REFS[1]], [REFS[0], REFS[1]])
    assert 0 < partial.sacrebleu.score < 100


def test_mismatched_counts_raise_clear_error() -> None:
    with pytest.raises(ValueError, match=r"hypotheses \(2\) and references \(3\)"):
        score_translations(["a", "b"], ["a", "b", "c"])


def test_bad_inputs_raise() -> None:
    with pytest.raises(ValueError, match="no segments"):
        score_translations([], [])
    with pytest.raises(TypeError, match="single string"):
        score_translations("Ein Test .", "Ein Test .")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"hyps\[1\]"):
        score_translations(["a", None], ["a", "b"])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="paper_tokenizer"):
        score_translations(["a"], ["a"], paper_tokenizer="intl")  # type: ignore[arg-type]


def test_format_labels_every_metric_with_signature() -> None:
    report = score_translations(HYPS, REFS)
    text = report.format()
    lines = text.splitlines()
    sacre = next(line for line in lines if line.startswith("sacreBLEU"))
    chrf = next(line for line in lines if line.startswith("chrF2"))
    tok = next(line for line in lines if line.startswith("tokenised BLEU (paper-style)"))
    assert report.sacrebleu.signature in sacre and f"{report.sacrebleu.score:.2f}" in sacre
    assert report.chrf.signature in chrf
    assert report.tokenised.signature in tok
    assert "not comparable with sacreBLEU" in text
    assert str(report) == text
    d = report.as_dict()
    assert d["sacrebleu"] == report.sacrebleu.score
    assert d["tokenised_bleu_signature"] == report.tokenised.signature
    assert isinstance(report, BleuReport)


def test_lowercase_tokenised_multi30k_style() -> None:
    """Multi30k lc.norm.tok references: cased, detokenised hypotheses get the same normalisation."""
    hyps = ['Eine Frau hält einen Scheck für "Kids Food Basket".', "Ein Mann arbeitet an einem Hotdog-Stand."]
    refs = [
        "eine frau hält einen scheck für &quot; kids food basket &quot; .",
        "ein mann arbeitet an einem hotdog-stand .",
    ]
    report = score_translations(hyps, refs, lowercase_tokenised=True)
    assert report.tokenised.score == pytest.approx(100.0)
    assert report.sacrebleu.score == pytest.approx(100.0)
    assert "case:lc" in report.sacrebleu.signature
    assert "+lc+" in report.tokenised.signature
    assert any("NOT comparable" in w for w in report.warnings)
    assert "WARNING" in report.format()
    # Without the option the case and escapes make the scores collapse, and a warning says why.
    plain = score_translations(hyps, refs)
    assert plain.tokenised.score < 50
    assert any("look tokenised" in w for w in plain.warnings)


def test_warns_about_escaped_hypotheses() -> None:
    report = score_translations(["Er sagt &quot;Hallo&quot; ."], ['Er sagt "Hallo".'])
    assert any("Moses escapes" in w for w in report.warnings)


def test_helpers() -> None:
    assert replace_unicode_punctuation("“Hallo” … ’s （x）") == '"Hallo" ... \'s (x)'
    assert replace_unicode_punctuation("好。 好") == "好. 好"
    assert moses_unescape("&quot;a&quot; &apos;b&apos; &amp;quot; &#91;c&#93; &lt;&gt; &#124;") == (
        "\"a\" 'b' &quot; [c] <> |"
    )
    # “ becomes " (replace-unicode-punctuation) and 13a splits it off; 13a leaves „ attached (a known
    # difference from Moses tokenizer.perl, see the module docstring).
    assert paper_tokenise("Ein Boston-Terrier, „gut“.") == 'Ein Boston ##AT##-##AT## Terrier , „gut " .'
    assert paper_tokenise("Ein Boston-Terrier.", lowercase=True, split_compounds=False) == (
        "ein boston-terrier ."
    )


def test_moses_tokenizer_requires_sacremoses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bleu, "_MOSES_CACHE", {})
    monkeypatch.setitem(sys.modules, "sacremoses", None)  # import fails like an absent package
    with pytest.raises(ImportError, match="sacremoses"):
        score_translations(["a"], ["a"], paper_tokenizer="moses")


def test_moses_tokenizer_path_is_wired(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a stand-in sacremoses module: the Moses path normalises, tokenises (escape=True) and the
    Multi30k references are used as given."""
    calls: list[tuple[str, str]] = []

    class FakeTokenizer:
        def __init__(self, lang: str) -> None:
            self.lang = lang

        def tokenize(self, text: str, escape: bool, return_str: bool) -> str:
            assert escape and return_str
            calls.append(("tokenize", text))
            return text.replace(".", " .").replace('"', " &quot; ")

    class FakeNormalizer:
        def __init__(self, lang: str) -> None:
            self.lang = lang

        def normalize(self, text: str) -> str:
            calls.append(("normalize", text))
            return text

    fake = types.ModuleType("sacremoses")
    fake.MosesTokenizer = FakeTokenizer  # type: ignore[attr-defined]
    fake.MosesPunctNormalizer = FakeNormalizer  # type: ignore[attr-defined]
    monkeypatch.setattr(bleu, "_MOSES_CACHE", {})
    monkeypatch.setitem(sys.modules, "sacremoses", fake)
    report = score_translations(
        ['Er sagt "Hallo".'],
        ["er sagt &quot; hallo &quot; ."],
        lowercase_tokenised=True,
        paper_tokenizer="moses",
    )
    assert report.tokenised.score == pytest.approx(100.0)
    assert ("normalize", 'er sagt "hallo".') in calls
    assert report.tokenised.signature.startswith("pre:unescape+lc+moses-normpunct+moses|")
    wmt = score_translations(["Ein Test."], ["Ein Test."], paper_tokenizer="moses")
    assert wmt.tokenised.signature.startswith("pre:uni-punct+moses+atat|")


def test_multi30k_raw_against_lc_norm_tok(shared_data) -> None:
    """Real data: the raw Multi30k test2016 German side scored against its own lc.norm.tok version
    is (almost) perfect with lowercase_tokenised=True — the normalisations agree."""
    raw = shared_data / "multi30k" / "raw" / "test_2016_flickr.de.gz"
    tok = shared_data / "multi30k" / "tok" / "test_2016_flickr.lc.norm.tok.de"
    with gzip.open(raw, "rt", encoding="utf-8") as f:
        hyps = [line.rstrip("\n") for line in f]
    refs = tok.read_text(encoding="utf-8").splitlines()
    report = score_translations(hyps, refs, lowercase_tokenised=True)
    assert report.num_segments == 1000
    assert report.tokenised.score > 99.5
    assert report.chrf.score > 99.5
