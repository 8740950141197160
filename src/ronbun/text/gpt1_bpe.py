"""GPT-1's original byte-pair-encoding tokenizer (Radford et al., 2018, §4.1).

The paper, §4.1 (Model specifications): *"We used a bytepair encoding (BPE) vocabulary with 40,000 merges
[53] ... We use the ftfy library to clean the raw text in BooksCorpus, standardize some punctuation and
whitespace, and use the spaCy tokenizer."*  This module reproduces that tokenizer from OpenAI's released
files, ``encoder_bpe_40000.json`` (40,478 token -> id entries: 40,000 merge results, the base symbols with
and without ``</w>``, ``"\\n</w>"`` and ``<unk>`` = id 0) and ``vocab_40000.bpe`` (the 40,000 merges in
priority order after a ``#version: 0.2`` header), both from ``openai/finetune-transformer-lm``.

The ``"spacy"`` pipeline (the original; also Hugging Face ``OpenAIGPTTokenizer`` in transformers 4.x when
spaCy and ftfy are both installed), for one text:

1. ``ftfy.fix_text`` (default settings: mojibake repair, HTML entities, curly quotes -> straight, NFC, ...).
2. Punctuation / whitespace standardisation (:func:`standardize_text`): em dash, en dash and horizontal
   bar become ``-``, ``…`` becomes ``...``, ``´`` becomes ``'``; every run of one of
   ``- ~ ! " ; ? + , ) ( \\ / * [ ] } { | _`` is padded with a space on each side; any whitespace around a
   line break becomes ``" \\n "``; other whitespace runs become one space; the ends are stripped.
3. The rule-based spaCy English tokenizer (a blank ``spacy.lang.en.English()``; no statistical model is
   needed, tokenizer exceptions such as ``don't -> do n't`` are language data).  A line break comes out
   as the whitespace token ``"\\n "``.
4. Each spaCy token is lower-cased (after spaCy, so case-sensitive exceptions still apply).
5. BPE per word: the word's characters, ``</w>`` glued to the last one, merged pair by pair, always the
   pair with the lowest rank in ``vocab_40000.bpe`` first.  The original special-cases the token
   ``"\\n "`` (whose BPE would be ``"\\n"``, ``" </w>"``) to the single piece ``"\\n</w>"`` (id 40477), so
   a line break is one token.
6. Pieces are looked up in the encoder; a piece that is not there (a character never seen in training,
   e.g. ``中`` or an emoji) becomes id 0, which is ``<unk>``.  The original code does
   ``encoder.get(piece, 0)`` and Hugging Face maps it to ``<unk>``; both are id 0, so they agree.  There
   is no byte fallback, and unknown characters are not fused: ``"中中"`` gives ``[0, 0]``.

Versions: OpenAI used the ftfy and spaCy (2.x) of 2018; this module, like Hugging Face, uses whatever is
installed (tested with ftfy 6.3 and spaCy 3.8), so rare texts may tokenise differently from 2018.

The ``"basic"`` fallback is what Hugging Face uses without spaCy/ftfy: transformers 4.x's slow tokenizer
switched to BERT's ``BasicTokenizer(do_lower_case=True)``, and its fast tokenizer, like transformers 5.x's
``OpenAIGPTTokenizer`` (which no longer has a spaCy path at all), uses the equivalent ``tokenizers``
``BertNormalizer(lowercase=True)`` + ``BertPreTokenizer``.  This module implements the latter, so in
``"basic"`` mode ids are identical to transformers 5.x.  Compared with the original pipeline:

* no ftfy and no punctuation standardisation (``—`` and ``…`` are not mapped; ``…`` is unknown: id 0);
* control characters, U+FFFD and (in the ``tokenizers`` implementation) unassigned and private-use
  characters are deleted; all whitespace, line breaks included, only separates words, so the
  ``"\\n</w>"`` token is never produced;
* accents are stripped (NFD, then combining marks dropped): ``café -> cafe``, ``naïve -> naive``;
* CJK ideographs are split into single characters (each still id 0);
* words are split at *every* punctuation character (Unicode category P* or ASCII symbol), and spaCy's
  English rules are not applied: ``don't -> don ' t`` instead of ``do n't``, ``U.S. -> u . s .`` instead
  of ``u.s.``, ``$5.00 -> $ 5 . 00`` instead of ``$ 5.00``;
* lower-casing is per character (``ΣΟΦΟΣ -> σοφοσ``; Python's ``str.lower`` in the original gives a
  final ``ς``).

  Example, ``"He's from the U.S.—he paid $5.00…\\nBye."`` decoded after encoding:
  ``"spacy"``: ``he 's from the u.s. - he paid $ 5.00 ... \\n bye .`` (15 ids);
  ``"basic"``: ``he ' s from the u . s . <unk>he paid $ 5 . 00 <unk>bye .`` (``—`` and ``…`` are id 0).

transformers 4.x's *slow* ``BasicTokenizer`` gives the same words as this ``"basic"`` mode on all 186,710
lines of the project's English/GLUE corpora checked; it differs only on rare characters (it keeps
private-use/unassigned code points and strips only Mn marks, not Mc/Me), which is not reproduced.
Note for comparisons: transformers 5.x's ``OpenAIGPTTokenizer(vocab_file=..., merges_file=...)``
silently ignores both files (every id is then 0); pass ``vocab=`` (dict) and ``merges=`` (pairs) or use
``from_pretrained``.

Literal ``"<unk>"`` in the input: Hugging Face registers ``<unk>`` as a special token, so the text
``"a <unk> b"`` gives ``[a, 0, b]``; OpenAI's code has no special tokens and tokenises it as ``<``,
``unk``, ``>``.  The default (``special_unk_literal=False``) follows the original; pass ``True`` for
Hugging Face's behaviour (WikiText, for example, contains ``<unk>`` literally).

Decoding maps ids to pieces and turns every ``</w>`` into a space except at the very end (Hugging Face's
``BPEDecoder``); the result is the normalised, lower-cased, space-separated word sequence, not the
original text (GPT-1's tokenizer is not reversible).

Speed.  The ``"spacy"`` pipeline must give exactly what spaCy gives on the whole text, yet running spaCy
on every text is slow; so the standardised text is cut at spaces into segments that spaCy provably
tokenises independently (see ``_encode_spacy``) and each distinct segment's ids are cached; only new
segments go through spaCy and the BPE, which runs in Rust (``tokenizers.models.BPE``; the tests check it
against the original pure-Python merge loop on every distinct word of the test corpora).  ftfy and the
standardisation still run on every text.  The ``"basic"`` pipeline runs entirely inside ``tokenizers``.
Measured 2026-11-29 on this project's 2-core CPU machine while a training run shared it (load average
4-5, so the figures are pessimistic and noisy; two runs, best of 3 each), on 3.0 MB of English
(tiny_shakespeare + 1.9 MB of the untagged Brown corpus, 40,155 lines), in MB/s:

* ``"spacy"``: 1.2 with a fresh tokenizer (``encode_batch`` of the lines), 2.6-2.7 once the segment
  cache is warm, 1.4 for the whole 3 MB as one string;
* ``"basic"``: 2.2-2.3 fresh, 1.3-2.2 warm (the parallel batch suffers most from the load), 0.9-1.5 as
  one string;
* for comparison: the original pure-Python pipeline 0.4, Hugging Face 5.x ``OpenAIGPTTokenizer`` 0.9-1.3.

So 3 MB take about 2.5 s in the original (``"spacy"``) pipeline.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from tokenizers import AddedToken, Tokenizer, normalizers, pre_tokenizers
from tokenizers.models import BPE

__all__ = [
    "ENCODER_FILENAME",
    "END_OF_WORD",
    "MERGES_FILENAME",
    "NEWLINE_TOKEN",
    "UNK_TOKEN",
    "GPT1Tokenizer",
    "PreTokenizerMode",
    "load_gpt1_bpe_files",
    "spacy_available",
    "standardize_text",
]

ENCODER_FILENAME = "encoder_bpe_40000.json"
MERGES_FILENAME = "vocab_40000.bpe"
END_OF_WORD = "</w>"
UNK_TOKEN = "<unk>"
NEWLINE_TOKEN = "\n</w>"
# The token spaCy makes of the " \n " that standardisation puts around every line break.
_SPACY_NEWLINE = "\n "
# The original maps it to "\n</w>" (its BPE would be "\n", " </w>"); a lone "\n" becomes "\n</w>" anyway.
_NEWLINE_WORDS = frozenset({_SPACY_NEWLINE, "\n"})

# Words whose BPE the Rust model remembers (its default, 10,000, is too small for a few MB of text).
_BPE_CACHE_WORDS = 200_000

PreTokenizerMode = Literal["auto", "spacy", "basic"]
Backend = Literal["spacy", "basic"]

# -- text standardisation (OpenAI's text_utils.text_standardize, the rules of GPT-1 §4.1) --------------
# Single characters replaced first; none of the replacements contains a character that is replaced.
_CHAR_MAP = str.maketrans({"\u2014": "-", "\u2013": "-", "\u2015": "-", "\u2026": "...", "\u00b4": "'"})
# A maximal run of one of these characters gets a space on each side ("!!" stays together, "!?" does not).
_PADDED_RUN = re.compile(r"([-~!\";?+,)(\\/*\[\]}{|_])\1*")
_LINE_BREAK = re.compile(r"\s*\n\s*")
_OTHER_SPACE = re.compile(r"[^\S\n]+")


def standardize_text(text: str) -> str:
    """Apply GPT-1's punctuation and whitespace standardisation (run after ftfy, before spaCy).

    ``—``/``–``/``―`` -> ``-``, ``…`` -> ``...``, ``´`` -> ``'``; pad punctuation runs with spaces; whitespace
    around line breaks -> ``" \\n "``, other whitespace runs -> ``" "``; strip.

    >>> standardize_text("Wait—what?! (Really…)\\n\\n  Yes.")
    'Wait - what ? ! ( Really... ) \\n Yes.'
    """
    text = text.translate(_CHAR_MAP)
    text = _PADDED_RUN.sub(r" \g<0> ", text)
    text = _LINE_BREAK.sub(" \n ", text)
    text = _OTHER_SPACE.sub(" ", text)
    return text.strip()


# -- files -------------------------------------------------------------------------------------------
def load_gpt1_bpe_files(path: str | Path) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Read ``encoder_bpe_40000.json`` and ``vocab_40000.bpe`` from directory ``path``.

    Returns the token -> id map and the merges in rank order.  Merge lines are split on whitespace as the
    original does; the ``#version`` header and blank lines are skipped.
    """
    directory = Path(path)
    encoder_path, merges_path = directory / ENCODER_FILENAME, directory / MERGES_FILENAME
    for file in (encoder_path, merges_path):
        if not file.is_file():
            raise FileNotFoundError(
                f"{file}: not found (GPT-1 BPE files {ENCODER_FILENAME} and {MERGES_FILENAME} come from "
                "openai/finetune-transformer-lm, folder model/)"
            )
    encoder = json.loads(encoder_path.read_text(encoding="utf-8"))
    if not isinstance(encoder, dict):
        raise ValueError(f"{encoder_path}: expected a JSON object token -> id")
    merges: list[tuple[str, str]] = []
    for line_no, line in enumerate(merges_path.read_text(encoding="utf-8").split("\n"), start=1):
        if not line or (line_no == 1 and line.startswith("#version")):
            continue
        parts = line.split()
        if len(parts) != 2:
            raise ValueError(f"{merges_path}:{line_no}: expected two symbols, got {line!r}")
        merges.append((parts[0], parts[1]))
    return encoder, merges


def spacy_available() -> bool:
    """True when both spaCy and ftfy can be imported (what the original pipeline needs)."""
    try:
        import ftfy  # noqa: F401
        import spacy  # noqa: F401
    except ImportError:
        return False
    return True


def _special_case_joins(tokenizer: Any) -> dict[str, frozenset[str]] | None:
    """For spaCy's multi-token special cases, which characters can meet across a token boundary.

    spaCy first splits each space-separated chunk by its prefix/suffix/infix rules, then matches every
    special case that those rules would split (``":)" -> ":", ")"``) against the token sequence.  Returns
    ``{a: {b, ...}}`` such that a match can only cross the space between two chunks when the first chunk
    ends in ``a`` and the next begins with some ``b``; ``None`` when a special case contains whitespace
    (then no chunk boundary is safe).
    """
    from spacy.tokenizer import Tokenizer as SpacyTokenizer

    affixes_only = SpacyTokenizer(
        tokenizer.vocab,
        rules={},
        prefix_search=tokenizer.prefix_search,
        suffix_search=tokenizer.suffix_search,
        infix_finditer=tokenizer.infix_finditer,
        token_match=tokenizer.token_match,
        url_match=tokenizer.url_match,
    )
    joins: dict[str, set[str]] = {}
    for string in tokenizer.rules:
        pieces = [token.text for token in affixes_only(string)]
        if len(pieces) < 2:
            continue
        if any(char.isspace() for char in string):
            return None
        for left, right in itertools.pairwise(pieces):
            joins.setdefault(left[-1], set()).add(right[0])
    return {left: frozenset(rights) for left, rights in joins.items()}


# -- the tokenizer -------------------------------------------------------------------------------------
class GPT1Tokenizer:
    """GPT-1's tokenizer: ftfy + standardisation + spaCy + lower-case + 40,000-merge BPE (paper §4.1).

    Args:
        encoder: token -> id (``encoder_bpe_40000.json``), must contain ``<unk>``.
        merges: BPE merges in priority order (``vocab_40000.bpe``).
        pre_tokenizer: ``"spacy"`` (the original pipeline; needs spaCy and ftfy), ``"basic"`` (Hugging
            Face's fallback without them: BERT normaliser and pre-tokenizer, no ftfy), or ``"auto"``
            (``"spacy"`` when both import, else ``"basic"``, as Hugging Face transformers 4.x decides).
        special_unk_literal: map the literal text ``<unk>`` to id 0 as Hugging Face does; the original
            (default) tokenises it as ordinary text.
        cache_size: most distinct segments (usually single words) whose ids the ``"spacy"`` pipeline
            remembers; the cache is cleared when full.

    Attributes:
        backend: ``"spacy"`` or ``"basic"``, the pipeline in use.
        unk_id: id of ``<unk>`` (0), given to pieces that are not in the vocabulary.
        newline_id: id of ``"\\n</w>"`` (40477), the line-break token of the ``"spacy"`` pipeline.
    """

    def __init__(
        self,
        encoder: dict[str, int],
        merges: Sequence[tuple[str, str]],
        pre_tokenizer: PreTokenizerMode = "auto",
        *,
        special_unk_literal: bool = False,
        cache_size: int = 1_000_000,
    ) -> None:
        if pre_tokenizer not in ("auto", "spacy", "basic"):
            raise ValueError(f"pre_tokenizer must be 'auto', 'spacy' or 'basic', got {pre_tokenizer!r}")
        if UNK_TOKEN not in encoder:
            raise ValueError(f"the encoder has no {UNK_TOKEN!r} token")
        self._encoder = dict(encoder)
        self._decoder: list[str | None] = [None] * (max(encoder.values()) + 1)
        for token, index in encoder.items():
            self._decoder[index] = token
        self.unk_id: int = self._encoder[UNK_TOKEN]
        self.newline_id: int | None = self._encoder.get(NEWLINE_TOKEN)
        self.special_unk_literal = special_unk_literal
        self._bpe = BPE(
            vocab=self._encoder,
            merges=list(merges),
            unk_token=UNK_TOKEN,
            end_of_word_suffix=END_OF_WORD,
            fuse_unk=False,
            cache_capacity=_BPE_CACHE_WORDS,
        )
        if pre_tokenizer == "auto":
            pre_tokenizer = "spacy" if spacy_available() else "basic"
        self.backend: Backend = pre_tokenizer
        self._cache: dict[str, list[int]] = {}
        self._joinable: dict[str, frozenset[str]] | None = None
        self._cache_size = cache_size
        self._spacy: Any = None
        self._fix_text: Any = None
        self._rust: Tokenizer | None = None
        if pre_tokenizer == "spacy":
            try:
                import ftfy
                from spacy.lang.en import English
            except ImportError as error:
                raise ImportError(
                    "pre_tokenizer='spacy' needs spaCy and ftfy (pip install spacy ftfy); "
                    "use pre_tokenizer='basic' for Hugging Face's fallback"
                ) from error
            english = English()
            # Lexeme attributes (shape, norm, ...) are never read here but cost a third of the time spent on
            # new words; tokenisation depends only on the rules and affix patterns.
            english.vocab.lex_attr_getters = {}
            self._spacy = english.tokenizer
            self._fix_text = ftfy.fix_text
            self._joinable = _special_case_joins(self._spacy)
        else:
            rust = Tokenizer(self._bpe)
            rust.normalizer = normalizers.BertNormalizer(lowercase=True)
            rust.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
            if special_unk_literal:
                rust.add_special_tokens([AddedToken(UNK_TOKEN, special=True, normalized=False)])
            self._rust = rust

    @classmethod
    def from_dir(
        cls,
        path: str | Path,
        pre_tokenizer: PreTokenizerMode = "auto",
        *,
        special_unk_literal: bool = False,
    ) -> GPT1Tokenizer:
        """Load from a directory holding ``encoder_bpe_40000.json`` and ``vocab_40000.bpe``."""
        encoder, merges = load_gpt1_bpe_files(path)
        return cls(encoder, merges, pre_tokenizer, special_unk_literal=special_unk_literal)

    def __repr__(self) -> str:
        return f"GPT1Tokenizer(vocab_size={self.vocab_size}, backend={self.backend!r})"

    # -- vocabulary ------------------------------------------------------------------------------------
    @property
    def vocab_size(self) -> int:
        """Number of ids (40,478 for GPT-1: rows of the token-embedding matrix before special tokens)."""
        return len(self._decoder)

    def token_to_id(self, token: str) -> int | None:
        """Id of a BPE piece such as ``"hello</w>"``, or ``None`` when it is not in the vocabulary."""
        return self._encoder.get(token)

    def id_to_token(self, index: int) -> str:
        """BPE piece of an id; ``IndexError`` outside ``0 .. vocab_size - 1``."""
        if not 0 <= index < len(self._decoder) or (token := self._decoder[index]) is None:
            raise IndexError(f"token id {index} is not in the vocabulary (0 .. {self.vocab_size - 1})")
        return token

    def get_vocab(self) -> dict[str, int]:
        """A copy of the token -> id map."""
        return dict(self._encoder)

    # -- encoding --------------------------------------------------------------------------------------
    def encode(self, text: str) -> list[int]:
        """Token ids of one text (no special tokens added)."""
        if self._rust is not None:
            return self._rust.encode(text, add_special_tokens=False).ids
        if self.special_unk_literal and UNK_TOKEN in text:
            ids: list[int] = []
            for i, segment in enumerate(text.split(UNK_TOKEN)):
                if i:
                    ids.append(self.unk_id)
                ids.extend(self._encode_spacy(segment))
            return ids
        return self._encode_spacy(text)

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of several texts, each encoded independently (``"basic"`` runs them in parallel)."""
        if self._rust is not None:
            encode_batch = getattr(self._rust, "encode_batch_fast", self._rust.encode_batch)  # no offsets
            return [e.ids for e in encode_batch(list(texts), add_special_tokens=False)]
        return [self.encode(text) for text in texts]

    def tokenize(self, text: str) -> list[str]:
        """BPE pieces of one text (unknown pieces shown as ``<unk>``)."""
        return [self._decoder[i] for i in self.encode(text)]  # type: ignore[misc]

    def pre_tokenize(self, text: str) -> list[str]:
        """The lower-cased words BPE is applied to (before the ``"\\n "`` special case; ignores
        ``special_unk_literal``)."""
        if self._rust is not None:
            normalized = self._rust.normalizer.normalize_str(text)  # type: ignore[union-attr]
            return [word for word, _ in self._rust.pre_tokenizer.pre_tokenize_str(normalized)]  # type: ignore[union-attr]
        return [token.text.lower() for token in self._spacy(standardize_text(self._fix_text(text)))]

    def _encode_spacy(self, text: str) -> list[int]:
        standardized = standardize_text(self._fix_text(text))
        if not standardized:
            return []
        if self._joinable is None:  # spaCy rules this module cannot reason about: no segment cache
            return self._spacy_segment_ids(standardized)
        # Standardised text is chunks separated by single spaces.  spaCy splits each chunk on its own, then
        # applies multi-token special cases ("''", ":)", "(:" ...) over the whole text; such a match across a
        # space never applies but can block an overlapping match inside a chunk.  So chunks are joined into
        # one segment whenever a special case could span the space between them (the last character of one
        # and the first of the next appear side by side in a special case); segments are then independent
        # and each is cached.
        joinable, cache, ids = self._joinable, self._cache, []
        pending = ""
        for chunk in standardized.split(" "):
            if pending:
                follow = joinable.get(pending[-1])
                if follow is not None and chunk[0] in follow:
                    pending = f"{pending} {chunk}"
                    continue
                segment_ids = cache.get(pending)
                if segment_ids is None:
                    segment_ids = self._cache_segment(pending)
                ids.extend(segment_ids)
            pending = chunk
        segment_ids = cache.get(pending)
        if segment_ids is None:
            segment_ids = self._cache_segment(pending)
        ids.extend(segment_ids)
        return ids

    def _cache_segment(self, segment: str) -> list[int]:
        if len(self._cache) >= self._cache_size:
            self._cache.clear()
        ids = self._cache[segment] = self._spacy_segment_ids(segment)
        return ids

    def _spacy_segment_ids(self, standardized: str) -> list[int]:
        ids: list[int] = []
        for token in self._spacy(standardized):
            ids.extend(self._bpe_word(token.text.lower()))
        return ids

    def _bpe_word(self, word: str) -> list[int]:
        """Ids of one lower-cased spaCy token (BPE merges by rank; unknown pieces -> ``unk_id``)."""
        if word in _NEWLINE_WORDS and self.newline_id is not None:
            return [self.newline_id]
        return [piece.id for piece in self._bpe.tokenize(word)]

    # -- decoding --------------------------------------------------------------------------------------
    def decode(self, ids: Sequence[int]) -> str:
        """Join pieces, turning each ``</w>`` into a space except at the very end.

        Gives the normalised, lower-cased words separated by spaces (not the original text).
        """
        pieces = [self.id_to_token(int(i)) for i in ids]
        if not pieces:
            return ""
        head = "".join(pieces[:-1]).replace(END_OF_WORD, " ")
        return head + pieces[-1].replace(END_OF_WORD, "")
