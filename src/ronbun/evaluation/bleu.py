"""Honest BLEU: sacreBLEU, chrF and the papers' tokenised BLEU for the *same* outputs, labelled.

"Attention Is All You Need" (§6.1, Table 2) reports BLEU on newstest2014 computed the way
tensor2tensor's ``get_ende_bleu.sh`` does it: Moses ``replace-unicode-punctuation.perl`` and
``tokenizer.perl -l de`` on the outputs, pre-tokenised references, compound splitting with the perl
one-liner ``s{(\\S)-(\\S)}{$1 ##AT##-##AT## $2}g`` on both sides ("comparable to papers like GNMT,
ConvS2S"), then ``multi-bleu.perl`` (fairseq's ``compound_split_bleu.sh`` is the same recipe). That
number is *not* comparable with sacreBLEU: fairseq reports 28.6 sacreBLEU vs 29.29 tokenised +
compound-split BLEU for one and the same system output. Most "cannot reproduce" reports are metric
mismatches, so :func:`score_translations` computes all of these at once and
:meth:`BleuReport.format` prints each on its own labelled line with its signature.

Metrics
-------
``sacreBLEU``
    ``sacrebleu.metrics.BLEU`` on detokenised, cased text with its default settings (13a
    tokenisation, exp smoothing), identical to ``sacrebleu.corpus_bleu(hyps, [refs])``; the value to
    publish. Signature as printed by sacreBLEU.
``chrF2``
    ``sacrebleu.metrics.CHRF`` with default settings (character 6-grams, β = 2).
``tokenised BLEU (paper-style)``
    Both sides go through the same deterministic pipeline, then sacreBLEU scores them with
    ``tokenize="none"`` and ``smooth_method="none"`` (corpus BLEU without smoothing, like
    ``multi-bleu.perl``):

    1. Moses ``replace-unicode-punctuation.perl`` (a fixed character table, reimplemented here); the
       ``13a`` path first undoes Moses HTML escapes (``&quot;`` → ``"``) so pre-tokenised, escaped
       references and plain text meet in the same form;
    2. tokenisation, chosen by ``paper_tokenizer``:

       * ``"13a"`` (default, always available): sacreBLEU's ``13a`` tokenizer (mteval-v13a). This is
         the documented choice because, like Moses ``tokenizer.perl`` without ``-a``, it does **not**
         split intra-word hyphens, so the ``##AT##`` compound split below has exactly the same
         effect (sacreBLEU's ``intl`` tokenizer splits every hyphen, which would make the compound
         split a no-op, so it is not offered). Known differences from ``tokenizer.perl``: 13a leaves
         apostrophes (``don't``, ``McDonald's``) and non-ASCII punctuation (``„``) attached and does
         not write HTML escapes (``&quot;``), so numbers can differ from t2t's by a few tenths;
       * ``"moses"``: Moses ``tokenizer.perl`` via ``sacremoses`` (``escape=True``, no aggressive dash
         splitting) — the exact t2t/fairseq pipeline (``sacremoses`` is a dependency of ronbun, which
         also uses it to give models trained on tokenised text natural input and output; without it an
         :class:`ImportError` says so);
    3. compound splitting (default on for German targets, ``target_lang="de"``): the t2t/fairseq perl
       one-liner, reproduced with the same non-overlapping left-to-right semantics, so
       ``a-b-c`` becomes ``a ##AT##-##AT## b-c`` exactly as in the scripts.

Multi30k (``lowercase_tokenised=True``)
    The Multi30k ``tok/*.lc.norm.tok.*`` references were produced by ``lowercase.perl |
    normalize-punctuation.perl -l L | tokenizer.perl -l L`` (the dataset's ``task1-tokenize.sh``), so
    they are lower-cased, Moses-tokenised and HTML-escaped. With this option the hypotheses get the
    same normalisation: Moses escapes are undone on both sides, text is lower-cased, then step 1–2
    above (with ``"moses"``, hypotheses get exactly ``lowercase → normalize-punctuation → tokenizer``
    and the references are used as given). Compound splitting defaults to *off* here (Multi30k
    results are conventionally reported without it). sacreBLEU and chrF are then computed with
    ``lowercase=True`` on unescaped references, and a warning in the report says they are not
    comparable to published sacreBLEU numbers (sacreBLEU needs detokenised references).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sacrebleu.metrics import BLEU, CHRF

__all__ = [
    "BleuReport",
    "MetricResult",
    "compound_split",
    "moses_unescape",
    "paper_tokenise",
    "replace_unicode_punctuation",
    "score_translations",
]

PaperTokenizer = Literal["13a", "moses"]

# Moses replace-unicode-punctuation.perl as a table (order matters only for the two regex rules).
# Note: the script maps fullwidth "１" to '"' (not "1"); kept as-is for faithfulness.
_UNICODE_PUNCT_CHARS = {
    "，": ",", "、": ",", "”": '"', "“": '"', "∶": ":", "：": ":", "？": "?", "《": '"', "》": '"',
    "）": ")", "！": "!", "（": "(", "；": ";", "１": '"', "」": '"', "「": '"', "０": "0", "３": "3",
    "２": "2", "５": "5", "６": "6", "９": "9", "７": "7", "８": "8", "４": "4", "～": "~", "’": "'",
    "…": "...", "━": "-", "〈": "<", "〉": ">", "【": "[", "】": "]", "％": "%",
}  # fmt: skip
_UNICODE_PUNCT_RE = re.compile("|".join(re.escape(c) for c in _UNICODE_PUNCT_CHARS))
_IDEOGRAPHIC_STOP_RE = re.compile("[。．] *")

# Moses tokenizer.perl escapes (undone in this order; &amp; last so "&amp;quot;" → "&quot;").
_MOSES_ESCAPES = (
    ("&#124;", "|"), ("&lt;", "<"), ("&gt;", ">"), ("&apos;", "'"), ("&quot;", '"'),
    ("&#91;", "["), ("&#93;", "]"), ("&amp;", "&"),
)  # fmt: skip
_ESCAPE_RE = re.compile(r"&(?:quot|apos|amp|lt|gt|#124|#91|#93);")
_COMPOUND_RE = re.compile(r"(\S)-(\S)")
_TOKENISED_LINE_RE = re.compile(r"\s[.,!?;:]\s*$|&(?:quot|apos);")


def replace_unicode_punctuation(text: str) -> str:
    """Moses ``replace-unicode-punctuation.perl``: map CJK/fullwidth and curly punctuation to ASCII
    (``“ ” → "``, ``’ → '``, ``… → ...``, ``。`` and ``．`` plus following spaces ``→ ". "``)."""
    text = _IDEOGRAPHIC_STOP_RE.sub(". ", text)
    return _UNICODE_PUNCT_RE.sub(lambda m: _UNICODE_PUNCT_CHARS[m.group(0)], text)


def moses_unescape(text: str) -> str:
    """Undo Moses ``tokenizer.perl`` HTML escaping (``&quot;`` → ``"``, ``&apos;`` → ``'``, …)."""
    if "&" not in text:
        return text
    for escaped, plain in _MOSES_ESCAPES:
        text = text.replace(escaped, plain)
    return text


def compound_split(text: str) -> str:
    """t2t/fairseq compound splitting: ``perl -ple 's{(\\S)-(\\S)}{$1 ##AT##-##AT## $2}g'``.

    ``"rich-text format"`` → ``"rich ##AT##-##AT## text format"``. Matches are non-overlapping and
    scanned left to right as in perl, so in ``"a-b-c"`` only the first hyphen is split.
    """
    return _COMPOUND_RE.sub(r"\1 ##AT##-##AT## \2", text)


_compound_split = compound_split  # score_translations' keyword argument shadows the public name


_TOKENIZER_13A: Any = None


def _tokenize_13a(text: str) -> str:
    global _TOKENIZER_13A
    if _TOKENIZER_13A is None:
        from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a

        _TOKENIZER_13A = Tokenizer13a()
    return _TOKENIZER_13A(text)


_MOSES_CACHE: dict[str, tuple[Any, Any]] = {}


def _moses(lang: str) -> tuple[Any, Any]:
    """(MosesTokenizer, MosesPunctNormalizer) for ``lang`` from the ``sacremoses`` package."""
    if lang not in _MOSES_CACHE:
        try:
            from sacremoses import MosesPunctNormalizer, MosesTokenizer
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(
                "paper_tokenizer='moses' needs the optional package 'sacremoses' (pip install sacremoses); "
                "use paper_tokenizer='13a' (the default) otherwise"
            ) from exc
        _MOSES_CACHE[lang] = (MosesTokenizer(lang=lang), MosesPunctNormalizer(lang=lang))
    return _MOSES_CACHE[lang]


def paper_tokenise(
    text: str,
    *,
    lang: str = "de",
    tokenizer: PaperTokenizer = "13a",
    lowercase: bool = False,
    split_compounds: bool = True,
) -> str:
    """One segment through the paper-style pipeline (see the module docstring).

    ``lowercase=False`` (WMT, t2t ``get_ende_bleu.sh``): replace-unicode-punctuation → tokenise →
    compound split. ``lowercase=True`` (Multi30k ``lc.norm.tok``): Moses-unescape → lower-case →
    punctuation normalisation (``"13a"``: replace-unicode-punctuation; ``"moses"``:
    ``normalize-punctuation.perl``) → tokenise → compound split (if asked).
    """
    if lowercase:
        text = moses_unescape(text).lower()
    if tokenizer == "13a":
        text = _tokenize_13a(replace_unicode_punctuation(moses_unescape(text)))
    elif tokenizer == "moses":
        tok, norm = _moses(lang)
        text = norm.normalize(text) if lowercase else replace_unicode_punctuation(text)
        text = tok.tokenize(text, escape=True, return_str=True)
    else:
        raise ValueError(f"paper_tokenizer must be '13a' or 'moses', got {tokenizer!r}")
    text = " ".join(text.split())
    return compound_split(text) if split_compounds else text


@dataclass(frozen=True)
class MetricResult:
    """One corpus-level score with the exact recipe that produced it."""

    name: str
    score: float
    signature: str
    description: str = ""
    details: str = ""

    def format(self, width: int = 30) -> str:
        line = f"{self.name:<{width}} {self.score:6.2f}  {self.signature}"
        if self.description:
            line += f"\n{'':<{width}}        ({self.description})"
        if self.details:
            line += f"\n{'':<{width}}        {self.details}"
        return line


@dataclass(frozen=True)
class BleuReport:
    """sacreBLEU, chrF and paper-style tokenised BLEU for the same system outputs."""

    sacrebleu: MetricResult
    chrf: MetricResult
    tokenised: MetricResult
    num_segments: int
    target_lang: str
    lowercase_tokenised: bool
    compound_split: bool
    paper_tokenizer: str
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def format(self) -> str:
        """Human-readable block, one labelled line (plus recipe) per metric, then warnings."""
        lines = [f"BLEU report: {self.num_segments} segments, target language {self.target_lang!r}"]
        for metric in (self.sacrebleu, self.chrf, self.tokenised):
            lines.append(metric.format())
        lines.extend(f"WARNING: {w}" for w in self.warnings)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format()

    def as_dict(self) -> dict[str, Any]:
        """Flat dict for JSON logs: scores and signatures."""
        out: dict[str, Any] = {"num_segments": self.num_segments, "warnings": list(self.warnings)}
        metrics = (("sacrebleu", self.sacrebleu), ("chrf", self.chrf), ("tokenised_bleu", self.tokenised))
        for key, m in metrics:
            out[key] = m.score
            out[f"{key}_signature"] = m.signature
        return out


def _validate(hyps: Sequence[str], refs: Sequence[str]) -> tuple[list[str], list[str]]:
    for name, seq in (("hyps", hyps), ("refs", refs)):
        if isinstance(seq, str | bytes):
            raise TypeError(f"{name} must be a sequence of strings (one per segment), not a single string")
    hyps, refs = list(hyps), list(refs)
    if len(hyps) != len(refs):
        raise ValueError(
            f"number of hypotheses ({len(hyps)}) and references ({len(refs)}) differ; "
            "each hypothesis needs exactly one reference on the same line"
        )
    if not hyps:
        raise ValueError("no segments to score (hyps and refs are empty)")
    for name, seq in (("hyps", hyps), ("refs", refs)):
        for i, s in enumerate(seq):
            if not isinstance(s, str):
                raise TypeError(f"{name}[{i}] is {type(s).__name__}, expected str")
    return hyps, refs


def _bleu_details(score: Any) -> str:
    precisions = "/".join(f"{p:.1f}" for p in score.precisions)
    return (
        f"{precisions} (BP = {score.bp:.3f} ratio = {score.sys_len / max(score.ref_len, 1):.3f} "
        f"hyp_len = {score.sys_len} ref_len = {score.ref_len})"
    )


def _detokenised_scores(
    hyps: list[str], refs: list[str], target_lang: str, lowercase_tokenised: bool
) -> tuple[MetricResult, MetricResult, list[str]]:
    """sacreBLEU and chrF on detokenised text, and the warnings about inputs that make them misleading."""
    warnings: list[str] = []
    if lowercase_tokenised:
        sacre_refs = [moses_unescape(r) for r in refs]
        sacre_hyps = [moses_unescape(h) for h in hyps]
        warnings.append(
            "references are lower-cased and tokenised (lowercase_tokenised=True): sacreBLEU/chrF were "
            "computed case-insensitively on tokenised references and are NOT comparable to published "
            "sacreBLEU numbers; compare the tokenised BLEU line with tokenised-BLEU papers instead"
        )
    else:
        sacre_refs, sacre_hyps = refs, hyps
        if sum(bool(_TOKENISED_LINE_RE.search(r)) for r in refs) > 0.5 * len(refs):
            warnings.append(
                "most references look tokenised (space before final punctuation or Moses escapes); "
                "sacreBLEU expects detokenised references — for Multi30k lc.norm.tok files pass "
                "lowercase_tokenised=True"
            )
        if any(_ESCAPE_RE.search(h) for h in hyps):
            warnings.append(
                "some hypotheses contain Moses escapes (&quot; &apos; &amp; ...): detokenise/unescape "
                "system outputs before computing sacreBLEU"
            )

    bleu = BLEU(trg_lang=target_lang, lowercase=lowercase_tokenised)
    b = bleu.corpus_score(sacre_hyps, [sacre_refs])
    sacre = MetricResult(
        name="sacreBLEU",
        score=float(b.score),
        signature=str(bleu.get_signature()),
        description="detokenised text" + (", case-insensitive" if lowercase_tokenised else ", cased"),
        details=_bleu_details(b),
    )
    chrf_metric = CHRF(lowercase=lowercase_tokenised)
    c = chrf_metric.corpus_score(sacre_hyps, [sacre_refs])
    chrf = MetricResult(name="chrF2", score=float(c.score), signature=str(chrf_metric.get_signature()))
    return sacre, chrf, warnings


def _tokenised_score(
    hyps: list[str],
    refs: list[str],
    target_lang: str,
    lowercase_tokenised: bool,
    split: bool,
    paper_tokenizer: PaperTokenizer,
) -> MetricResult:
    """The paper-style tokenised BLEU (module docstring, steps 1-3), its signature naming every step."""
    lang = target_lang or "en"

    def tok(text: str) -> str:
        return paper_tokenise(
            text, lang=lang, tokenizer=paper_tokenizer, lowercase=lowercase_tokenised, split_compounds=split
        )

    tok_hyps = [tok(h) for h in hyps]
    if lowercase_tokenised and paper_tokenizer == "moses":
        # The references already are the output of lowercase | normalize-punctuation | tokenizer.perl.
        tok_refs = [" ".join(r.split()) for r in refs]
        tok_refs = [_compound_split(r) for r in tok_refs] if split else tok_refs
    else:
        tok_refs = [tok(r) for r in refs]
    tbleu = BLEU(tokenize="none", smooth_method="none", force=True)  # tokenised on purpose
    t = tbleu.corpus_score(tok_hyps, [tok_refs])
    if paper_tokenizer == "moses":
        lc_steps = ["unescape", "lc", "moses-normpunct", "moses"]
        steps = lc_steps if lowercase_tokenised else ["uni-punct", "moses"]
    else:
        steps = ["unescape", *(["lc"] if lowercase_tokenised else []), "uni-punct", "13a"]
    if split:
        steps.append("atat")
    what = "Moses tokenizer.perl (sacremoses)" if paper_tokenizer == "moses" else "sacreBLEU 13a tokenizer"
    description = (
        f"paper-style: {what}"
        + (" + ##AT##-##AT## compound split" if split else "")
        + (" on lower-cased text" if lowercase_tokenised else "")
        + ", multi-bleu-like (tokenize=none, no smoothing); not comparable with sacreBLEU"
    )
    return MetricResult(
        name="tokenised BLEU (paper-style)",
        score=float(t.score),
        signature=f"pre:{'+'.join(steps)}|{tbleu.get_signature()}",
        description=description,
        details=_bleu_details(t),
    )


def score_translations(
    hyps: Sequence[str],
    refs: Sequence[str],
    *,
    target_lang: str = "de",
    lowercase_tokenised: bool = False,
    compound_split: bool | None = None,
    paper_tokenizer: PaperTokenizer = "13a",
) -> BleuReport:
    """Score system outputs ``hyps`` against one reference each, three ways (see module docstring).

    Args:
        hyps: detokenised system outputs, one string per segment (empty strings allowed).
        refs: references, line-aligned with ``hyps``; detokenised and cased (e.g. WMT newstest), or
            Multi30k ``lc.norm.tok`` with ``lowercase_tokenised=True``.
        target_lang: target language code; selects sacreBLEU's default tokenizer (``trg_lang``) and the
            Moses language, and turns compound splitting on by default for ``"de"``.
        lowercase_tokenised: references are lower-cased Moses-tokenised (Multi30k ``lc.norm.tok``);
            hypotheses get the same normalisation and all metrics become case-insensitive.
        compound_split: apply the ``##AT##`` compound split in the paper-style BLEU; default: on for
            German targets unless ``lowercase_tokenised``.
        paper_tokenizer: ``"13a"`` (default) or ``"moses"`` (needs ``sacremoses``).

    Raises:
        ValueError: different numbers of hypotheses and references, or none at all.
        TypeError: a single string instead of a list, or non-string items.
    """
    hyps, refs = _validate(hyps, refs)
    if paper_tokenizer not in ("13a", "moses"):
        raise ValueError(f"paper_tokenizer must be '13a' or 'moses', got {paper_tokenizer!r}")
    split = (target_lang == "de" and not lowercase_tokenised) if compound_split is None else compound_split
    sacre, chrf, warnings = _detokenised_scores(hyps, refs, target_lang, lowercase_tokenised)
    tokenised = _tokenised_score(hyps, refs, target_lang, lowercase_tokenised, split, paper_tokenizer)
    return BleuReport(
        sacrebleu=sacre,
        chrf=chrf,
        tokenised=tokenised,
        num_segments=len(hyps),
        target_lang=target_lang,
        lowercase_tokenised=lowercase_tokenised,
        compound_split=split,
        paper_tokenizer=paper_tokenizer,
        warnings=tuple(warnings),
    )
