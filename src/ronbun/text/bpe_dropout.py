"""BPE-dropout (Provilkov, Emelianenko and Voita, 2020, "BPE-Dropout: Simple and Effective Subword
Regularization"): segment each training word anew every epoch, skipping every applicable merge with
probability ``p`` at each step, so the model sees many segmentations of the same text.  Not part of the
Transformer paper; a regulariser for small corpora such as Multi30k (``--bpe-dropout``), off by default.

The algorithm, per word (a pre-token of the byte-level BPE, e.g. ``"Ġrides"``):

1. start from its symbols (bytes);
2. list the adjacent pairs that are merges of the vocabulary; drop each one with probability ``p``;
3. if none is left, stop; else merge the kept pair of the highest priority (lowest merge rank), leftmost
   first, and go to 2.

With ``p = 0`` this is plain BPE and gives exactly the ids of the ``tokenizers`` encoder (a test checks it
on real text).  ``tokenizers`` has a dropout of its own, but draws from an unseeded generator; this one
draws from ``random.Random(seed)``, so an epoch's segmentation is a pure function of ``(seed, epoch)`` and a
run is the same on every machine and after ``--resume``.  Evaluation and inference always use plain BPE.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence

from .bpe import TextTokenizer


class BPEDropout:
    """Stochastic segmentation of text with the merges of a byte-level :class:`TextTokenizer`."""

    def __init__(self, tokenizer: TextTokenizer, p: float) -> None:
        if not 0.0 <= p < 1.0:
            raise ValueError(f"BPE-dropout probability must be in [0, 1), got {p}")
        self.p = p
        inner = tokenizer.tokenizer
        model = json.loads(inner.to_str())["model"]
        if model.get("type") != "BPE":
            raise ValueError(f"BPE-dropout needs a BPE tokenizer, not {model.get('type')!r}")
        self.vocab: dict[str, int] = model["vocab"]
        merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ", 1)) for m in model["merges"]]
        self.ranks: dict[tuple[str, str], int] = {pair: r for r, pair in enumerate(merges)}
        self.normalizer = inner.normalizer
        self.pre_tokenizer = inner.pre_tokenizer
        self._plain: dict[str, list[int]] = {}  # p = 0 segmentations, cached per word

    def _segment(self, word: str, rng: random.Random | None) -> list[int]:
        symbols = list(word)  # (n,) byte-level symbols
        ranks, p = self.ranks, self.p
        while len(symbols) > 1:
            best, best_rank = -1, len(ranks)
            for i in range(len(symbols) - 1):
                rank = ranks.get((symbols[i], symbols[i + 1]))
                if rank is None or rank >= best_rank:
                    continue
                if rng is not None and rng.random() < p:  # this merge is dropped at this step
                    continue
                best, best_rank = i, rank
            if best < 0:
                break
            symbols[best : best + 2] = [symbols[best] + symbols[best + 1]]
        return [self.vocab[s] for s in symbols]

    def _words(self, text: str) -> list[str]:
        if self.normalizer is not None:
            text = self.normalizer.normalize_str(text)
        return [w for w, _ in self.pre_tokenizer.pre_tokenize_str(text)]

    def encode(self, text: str, rng: random.Random | None = None) -> list[int]:
        """Ids of ``text``; plain BPE without ``rng`` (or with ``p = 0``), a random segmentation with it."""
        ids: list[int] = []
        for word in self._words(text):
            if rng is None or self.p == 0.0:
                if word not in self._plain:
                    self._plain[word] = self._segment(word, None)
                ids.extend(self._plain[word])
            else:
                ids.extend(self._segment(word, rng))
        return ids

    def encode_epoch(self, texts: Sequence[str], seed: int, epoch: int) -> list[list[int]]:
        """One epoch's segmentation of ``texts``, determined by ``(seed, epoch)`` alone."""
        rng = random.Random(f"bpe-dropout/{int(seed)}/{int(epoch)}")
        return [self.encode(t, rng) for t in texts]
