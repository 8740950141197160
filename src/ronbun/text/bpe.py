"""A shared source+target BPE vocabulary (Transformer §5.1: "byte-pair encoding ... shared source-target
vocabulary of about 37000 tokens"), trained and applied with Hugging Face ``tokenizers``.

Unknown characters: the tokenizer is **byte-level** (every UTF-8 byte is in the base alphabet), so no input
is ever unknown and detokenisation is exact; a character never seen in training costs a few byte tokens
instead of becoming ``<unk>``.  ``<unk>`` stays in the vocabulary only for interop and is never produced.
Special ids are fixed: ``<pad>`` 0, ``<s>`` 1, ``</s>`` 2, ``<unk>`` 3 (what ``TransformerConfig`` expects).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

SPECIALS = ("<pad>", "<s>", "</s>", "<unk>")
PAD_ID, BOS_ID, EOS_ID, UNK_ID = range(4)


class TextTokenizer:
    """Encode/decode sentences with a ``tokenizers.Tokenizer`` (batch calls run in Rust, in parallel)."""

    def __init__(self, tokenizer: Tokenizer) -> None:
        self.tokenizer = tokenizer
        for i, tok in enumerate(SPECIALS):
            if tokenizer.token_to_id(tok) != i:
                raise ValueError(f"tokenizer must map {tok!r} to id {i} (found {tokenizer.token_to_id(tok)})")

    @classmethod
    def train(
        cls, texts: Iterable[str], vocab_size: int, min_frequency: int = 2, lowercase: bool = False
    ) -> TextTokenizer:
        """Learn the BPE merges from ``texts``.  ``lowercase=True`` lower-cases all text before anything else
        (as GPT-1's own BPE does); it is saved with the tokenizer, so every later use applies it too."""
        tok = Tokenizer(models.BPE(unk_token="<unk>"))
        if lowercase:
            tok.normalizer = normalizers.Lowercase()
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size,
            min_frequency=min_frequency,
            special_tokens=list(SPECIALS),
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        )
        tok.train_from_iterator(texts, trainer=trainer)
        return cls(tok)

    @classmethod
    def load(cls, path: str | Path) -> TextTokenizer:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"tokenizer file {path} is missing")
        try:
            return cls(Tokenizer.from_file(str(path)))
        except Exception as exc:  # tokenizers raises a bare Exception on malformed JSON
            raise ValueError(f"{path} is not a valid tokenizers JSON file ({exc})") from None

    def save(self, path: str | Path) -> None:
        self.tokenizer.save(str(path))

    @property
    def lowercase(self) -> bool:
        """Whether text is lower-cased before tokenisation (the tokenizer's normaliser)."""
        return isinstance(self.tokenizer.normalizer, normalizers.Lowercase)

    @lowercase.setter
    def lowercase(self, value: bool) -> None:
        """Turn lower-casing on or off, e.g. for a model pre-trained on text lower-cased *before* its tokenizer
        was trained (the tokenizer then cannot know; ``ronbun gpt zeroshot --lowercase``)."""
        if value != self.lowercase:
            if self.tokenizer.normalizer is not None and value:
                raise ValueError("this tokenizer already has a normaliser; lower-casing would replace it")
            self.tokenizer.normalizer = normalizers.Lowercase() if value else None

    @property
    def vocab_size(self) -> int:
        return self.tokenizer.get_vocab_size()

    def fingerprint(self) -> str:
        return hashlib.sha256(self.tokenizer.to_str().encode()).hexdigest()[:16]

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        return [e.ids for e in self.tokenizer.encode_batch(list(texts), add_special_tokens=False)]

    def encode(self, text: str) -> list[int]:
        return self.tokenizer.encode(text, add_special_tokens=False).ids

    def decode_batch(self, ids: Sequence[Sequence[int]]) -> list[str]:
        return [
            s.strip() for s in self.tokenizer.decode_batch([list(x) for x in ids], skip_special_tokens=True)
        ]

    def decode(self, ids: Sequence[int]) -> str:
        return self.decode_batch([ids])[0]

    def pieces(self, ids: Sequence[int]) -> list[str]:
        """Readable sub-word pieces of ``ids`` (for attention plots): each id decoded on its own."""
        return [self.tokenizer.decode([int(i)], skip_special_tokens=False) or "·" for i in ids]


def line_break_id(tokenizer: Any) -> int | None:
    """The id that separates lines in a GPT-1 token stream (and serves as the context of a text's first
    token when scoring): byte-level BPE's ``"\\n"`` byte ``Ċ``, GPT-1's ``"\\n</w>"`` (40477)."""
    newline = getattr(tokenizer, "newline_id", None)
    if newline is not None:
        return int(newline)
    inner = getattr(tokenizer, "tokenizer", None)
    if inner is not None and hasattr(inner, "token_to_id"):
        found = inner.token_to_id("Ċ")
        return None if found is None else int(found)
    return None
