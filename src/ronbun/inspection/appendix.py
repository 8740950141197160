"""The Transformer paper's appendix ("Attention Visualizations", Figures 3-5) measured: encoder self-attention
of one layer on the appendix sentences, merged from sub-word tokens to words, and the share of one word's
attention that goes to the words the paper's figures point at.

§4 ends: "self-attention could yield more interpretable models … individual attention heads clearly learn to
perform different tasks, many appear to exhibit behavior related to the syntactic and semantic structure of
the sentences."  The appendix shows it in layer 5 of 6 of the encoder:

* Figure 3 — a long-distance dependency: heads attend from "making" to "more difficult";
* Figure 4 — anaphora resolution: the attention from "its" goes to "Law" (and "application");
* Figure 5 — heads whose whole attention pattern follows the structure of the sentence.

Sub-word pieces are merged into words (:func:`word_groups`, :func:`merge_words`): the weight a query gives
to a word is the **sum** over the word's pieces (the columns), and a word's row is the **mean** over its
pieces (the rows), so every merged row is still a distribution.  This module draws nothing; the pictures are
:mod:`ronbun.viz.appendix` and ``ronbun viz appendix``.

Usage::

    from ronbun.inspection import appendix_attention, load_inspectable
    found = appendix_attention(load_inspectable("runs/multi30k/averaged"))
    found.sentences[0].shares  # per head: {"more": …, "difficult": …}
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from .attention import Inspectable, attention_view, check_layer_head

__all__ = [
    "APPENDIX_SENTENCES",
    "AppendixAttention",
    "AppendixSentence",
    "SentenceAttention",
    "appendix_attention",
    "default_layer",
    "find_word",
    "merge_words",
    "sentence_attention",
    "word_groups",
    "word_labels",
]

#: Sub-word markers that start a word: byte-level BPE's space ``Ġ`` and SentencePiece's ``▁``.
WORD_START = ("Ġ", "▁")


@dataclass(frozen=True)
class AppendixSentence:
    """One appendix sentence: the ``word`` whose attention the figure shows and the ``targets`` it points at."""

    name: str  # "fig3", "fig4", or "sentence" for one given on the command line
    text: str
    word: str | None = None
    targets: tuple[str, ...] = ()
    figure: str = ""


#: The appendix sentences, verbatim (Figures 3 and 4; Figure 5 uses Figure 4's sentence).
APPENDIX_SENTENCES = (
    AppendixSentence(
        "fig3",
        "It is in this spirit that a majority of American governments have passed new laws since 2009 making "
        "the registration or voting process more difficult.",
        word="making",
        targets=("more", "difficult"),
        figure="Figure 3 (long-distance dependency)",
    ),
    AppendixSentence(
        "fig4",
        "The Law will never be perfect, but its application should be just - this is what we are missing, in "
        "my opinion.",
        word="its",
        targets=("Law", "application"),
        figure="Figures 4 and 5 (anaphora resolution, sentence structure)",
    ),
)


# -- from sub-word pieces to words -------------------------------------------------------------------------
def _starts_word(piece: str) -> bool:
    return piece[:1].isspace() or piece.startswith(WORD_START)


def _is_word_piece(piece: str) -> bool:
    """A piece that can join its neighbour into one word: it holds a letter or a digit."""
    return any(ch.isalnum() for ch in piece)


def _is_special(piece: str) -> bool:
    return len(piece) > 2 and piece.startswith("<") and piece.endswith(">")


def word_groups(pieces: Sequence[str]) -> list[list[int]]:
    """Indices of the pieces of each word, in order.

    A piece starts a new word when it begins with a space (byte-level BPE decoded piece by piece) or with a
    word marker (``Ġ``, ``▁``), when it is a special token (``</s>``), and when it or the piece before it has
    no letter or digit (punctuation: ``difficult`` and ``.`` are two words, as in the paper's figures).  A
    piece that is only a space or a marker begins a word that the next piece completes."""
    groups: list[list[int]] = []
    for i, piece in enumerate(pieces):
        before = pieces[i - 1] if i else ""
        only_space = bool(groups) and not "".join(pieces[j] for j in groups[-1]).strip(
            " " + "".join(WORD_START)
        )
        joins = bool(groups) and not _is_special(piece) and not _is_special(before)
        if only_space:
            joins = joins and not _starts_word(piece)
        else:
            joins = joins and not _starts_word(piece) and _is_word_piece(piece) and _is_word_piece(before)
        if joins:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def word_labels(pieces: Sequence[str], groups: Sequence[Sequence[int]]) -> list[str]:
    """The words of ``groups``: their pieces joined, word markers and surrounding spaces removed."""
    words = []
    for group in groups:
        text = "".join(pieces[i] for i in group).strip()
        words.append(text.lstrip("".join(WORD_START)) or text)
    return words


def merge_words(weights: Tensor, groups: Sequence[Sequence[int]]) -> Tensor:
    """Attention between words: ``weights (..., T, T)`` over pieces → ``(..., W, W)`` over words.

    Column (key) word ``j`` gets the **sum** of the weights of its pieces, so a row stays a distribution;
    row (query) word ``i`` is the **mean** of its pieces' rows, so it is one too."""
    t = weights.shape[-1]
    member = torch.zeros(t, len(groups), dtype=weights.dtype, device=weights.device)  # (T, W)
    for w, group in enumerate(groups):
        member[list(group), w] = 1.0
    summed = weights @ member  # (..., T, W): sum over each key word's pieces
    mean_rows = member / member.sum(0, keepdim=True)  # (T, W): 1/|word| on the word's pieces
    return mean_rows.transpose(0, 1) @ summed  # (..., W, W)


def find_word(words: Sequence[str], word: str) -> int:
    """Index of the first of ``words`` equal to ``word`` (ignoring case: lower-cased models write "law")."""
    lowered = [w.lower() for w in words]
    if word.lower() not in lowered:
        raise ValueError(f"the word {word!r} is not among the sentence's words: {' '.join(words)}")
    return lowered.index(word.lower())


# -- one sentence through one layer ------------------------------------------------------------------------
@dataclass
class SentenceAttention:
    """Word-level encoder self-attention of one layer on one sentence (see the module docstring).

    ``weights (h, W, W)``; ``row (h, W)`` is the attention of ``sentence.word`` (when given) and
    ``shares[head][target]`` the part of it that goes to each target word."""

    sentence: AppendixSentence
    layer: int
    pieces: list[str]
    words: list[str]
    groups: list[list[int]]
    weights: Tensor
    translation: str = ""
    query: int | None = None
    row: Tensor | None = None
    shares: list[dict[str, float]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """A JSON-ready record: the sentence, its words and (with a word) its attention per head, with the
        targets' share under uniform attention over words (``uniform_share``) and over sub-word pieces
        (``uniform_share_pieces``: merging sums a word's pieces, so a word cut into more pieces gets more)."""
        out: dict[str, Any] = {
            "name": self.sentence.name,
            "figure": self.sentence.figure,
            "text": self.sentence.text,
            "translation": self.translation,
            "pieces": self.pieces,
            "words": self.words,
            "word_pieces": self.groups,
        }
        if self.row is None or self.query is None:
            return out
        targets = list(self.shares[0]) if self.shares else []
        heads = []
        for h, (row, shares) in enumerate(zip(self.row.tolist(), self.shares, strict=True)):
            ranked = sorted(range(len(row)), key=lambda j: -row[j])[:3]
            heads.append(
                {
                    "head": h,
                    "shares": {t: round(s, 4) for t, s in shares.items()},
                    "targets_total": round(sum(shares.values()), 4),
                    "top_words": [[self.words[j], round(row[j], 4)] for j in ranked],
                    "attention": [round(x, 4) for x in row],
                }
            )
        mean = {t: round(sum(s[t] for s in self.shares) / len(self.shares), 4) for t in targets}
        # what a head with no preference would give the targets: uniform over words, or over sub-word pieces
        target_pieces = sum(len(self.groups[find_word(self.words, t)]) for t in targets)
        out.update(
            word=self.words[self.query],
            word_index=self.query,
            targets=targets,
            uniform_share=round(len(targets) / len(self.words), 4),
            uniform_share_pieces=round(target_pieces / len(self.pieces), 4),
            mean_over_heads={**mean, "targets_total": round(sum(mean.values()), 4)},
            heads=heads,
        )
        return out


def default_layer(n_layers: int) -> int:
    """The second-to-last layer (counting from 0), as the paper's "layer 5 of 6"; layer 0 of a 1-layer model."""
    return max(n_layers - 2, 0)


def sentence_attention(obj: Inspectable, sentence: AppendixSentence, layer: int) -> SentenceAttention:
    """Encoder self-attention of ``layer`` on ``sentence``, merged to words, with ``sentence.word``'s shares.

    The encoder's attention does not depend on the decoding; the greedy translation is kept for reference."""
    if obj.model_type != "transformer":
        raise ValueError(f"{obj.directory} is a {obj.model_type} model: the appendix needs a Transformer")
    view = attention_view(obj, sentence.text, beam=1)
    maps = view.maps["encoder"]
    layer, _ = check_layer_head(maps, layer, None)
    pieces = view.axes["encoder"][1]
    groups = word_groups(pieces)
    words = word_labels(pieces, groups)
    weights = merge_words(maps[layer].float(), groups)  # (h, W, W)
    found = SentenceAttention(sentence, layer, pieces, words, groups, weights, translation=view.output)
    if sentence.word is not None:
        found.query = find_word(words, sentence.word)
        found.row = weights[:, found.query]  # (h, W)
        index = {t: find_word(words, t) for t in sentence.targets}
        found.shares = [{t: float(row[j]) for t, j in index.items()} for row in found.row]
    return found


@dataclass
class AppendixAttention:
    """Every appendix sentence through one encoder ``layer`` of a checkpoint."""

    checkpoint: str
    layer: int
    n_layers: int
    n_heads: int
    sentences: list[SentenceAttention]

    def summary(self) -> dict[str, Any]:
        return {
            "what": "encoder self-attention merged to words (Transformer §4 and appendix Figures 3-5)",
            "checkpoint": self.checkpoint,
            "layer": self.layer,
            "layer_counting": "from 0",
            "n_layers": self.n_layers,
            "n_heads": self.n_heads,
            "merging": "key words: sum over their sub-word pieces; query words: mean over their pieces",
            "sentences": [s.summary() for s in self.sentences],
        }


def appendix_attention(
    obj: Inspectable, layer: int | None = None, extra: Sequence[AppendixSentence] = ()
) -> AppendixAttention:
    """The appendix sentences (and ``extra`` ones) through encoder ``layer`` (default :func:`default_layer`;
    negative counts from the end)."""
    if obj.model_type != "transformer":
        raise ValueError(f"{obj.directory} is a {obj.model_type} model: the appendix needs a Transformer")
    n_layers = obj.model.config.n_encoder_layers
    chosen = default_layer(n_layers) if layer is None else layer
    found = [sentence_attention(obj, s, chosen) for s in (*APPENDIX_SENTENCES, *extra)]
    return AppendixAttention(str(obj.directory), found[0].layer, n_layers, obj.n_heads, found)
