"""Natural text in and out of a model trained on lower-cased, Moses-tokenised text.

The Multi30k literature trains on ``tok/*.lc.norm.tok.*``: ``lowercase.perl | normalize-punctuation.perl -l L
| tokenizer.perl -l L`` (the dataset's ``task1-tokenize.sh``), which writes HTML escapes (``&quot;``,
``&apos;``). A model trained on that text has never seen a capital letter or a bare quote, so a translator
built on it must apply the same pipeline to what users type and undo it on what the model writes.
:class:`MosesNormalizedTokenizer` does both around any sub-word tokenizer, with ``sacremoses`` (the Python
port of the Moses scripts): input → lower-case → punctuation normalisation → tokenisation with escapes;
output → Moses detokenisation with unescaping. Case cannot be restored, so such a model writes lower-case
German; models trained on raw text (the default) need none of this.

The normalisation is recorded in the model's configuration (``config.extra["tokenizer"]``, see
:func:`normalization_record`), so every checkpoint, average and copy of the model carries it.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any

MOSES_LOWERCASE = "moses-lowercase"  # lowercase → normalize-punctuation → tokenizer.perl (escaped)


def normalization_record(src_lang: str, tgt_lang: str) -> dict[str, Any]:
    """What a checkpoint records about text trained in the lower-cased tokenised convention."""
    return {"normalization": MOSES_LOWERCASE, "src_lang": src_lang, "tgt_lang": tgt_lang}


class MosesNormalizedTokenizer:
    """Wraps a sub-word tokenizer so callers give and get natural text (see the module docstring)."""

    def __init__(self, inner: Any, src_lang: str, tgt_lang: str) -> None:
        self.inner, self.src_lang, self.tgt_lang = inner, src_lang, tgt_lang

    @cached_property
    def _moses(self) -> tuple[Any, Any, Any]:
        try:
            from sacremoses import MosesDetokenizer, MosesPunctNormalizer, MosesTokenizer
        except ImportError as exc:  # pragma: no cover - sacremoses is a dependency
            raise ImportError(
                "this model was trained on Moses-tokenised text: pip install sacremoses"
            ) from exc
        return (
            MosesPunctNormalizer(lang=self.src_lang),
            MosesTokenizer(lang=self.src_lang),
            MosesDetokenizer(lang=self.tgt_lang),
        )

    # -- the two directions --------------------------------------------------------------------------------
    def normalize_source(self, text: str) -> str:
        """``"A man rides a horse."`` → ``"a man rides a horse ."`` (as in ``*.lc.norm.tok.en``)."""
        punct, tok, _ = self._moses
        return tok.tokenize(punct.normalize(text.lower()), escape=True, return_str=True)

    def denormalize_target(self, text: str) -> str:
        """``'er sagt &quot; hallo &quot; .'`` → ``'er sagt "hallo".'`` (Moses detokenisation, unescaped)."""
        return self._moses[2].detokenize(text.split(), unescape=True)

    # -- the tokenizer interface the translator uses -------------------------------------------------------
    @property
    def vocab_size(self) -> int:
        return self.inner.vocab_size

    def encode(self, text: str) -> list[int]:
        return self.inner.encode(self.normalize_source(text))

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        return self.inner.encode_batch([self.normalize_source(t) for t in texts])

    def decode_batch(self, ids: Sequence[Sequence[int]]) -> list[str]:
        return [self.denormalize_target(t) for t in self.inner.decode_batch(ids)]

    def decode(self, ids: Sequence[int]) -> str:
        return self.decode_batch([ids])[0]

    def pieces(self, ids: Sequence[int]) -> list[str]:
        return self.inner.pieces(ids)

    def __getattr__(self, name: str) -> Any:  # save, fingerprint, ... of the wrapped tokenizer
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)
