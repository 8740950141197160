"""The tokenizer of Marian / opus-mt models (imported with ``ronbun convert --from hf-marian``):
SentencePiece models for source and target text plus a ``vocab.json`` mapping pieces to model ids.

As Hugging Face's ``MarianTokenizer`` does, the source gets ``</s>`` appended, unknown pieces map to
``<unk>``, and decoding joins the target pieces with the target SentencePiece model.  Language-code tokens
(``>>de<<``) at the start of a sentence are kept as single pieces for multilingual models.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

LANG_CODE = re.compile(r"^>>[^<>]+<<\s*")


class MarianTokenizer:
    """Same interface as :class:`ronbun.text.bpe.TextTokenizer` (encode/decode batches, pieces)."""

    def __init__(self, directory: str | Path, *, eos_id: int, unk_id: int, pad_id: int) -> None:
        try:
            import sentencepiece as spm
        except ImportError as exc:  # pragma: no cover - sentencepiece is a dev dependency
            raise ImportError(
                "Marian models need the sentencepiece package: pip install sentencepiece"
            ) from exc
        d = Path(directory)
        for name in ("source.spm", "target.spm", "vocab.json"):
            if not (d / name).is_file():
                raise FileNotFoundError(f"{d} lacks {name}: cannot tokenise for this Marian model")
        self.source = spm.SentencePieceProcessor(model_file=str(d / "source.spm"))
        self.target = spm.SentencePieceProcessor(model_file=str(d / "target.spm"))
        self.vocab: dict[str, int] = json.loads((d / "vocab.json").read_text(encoding="utf-8"))
        tgt_vocab_file = d / "target_vocab.json"
        tgt_vocab = (
            json.loads(tgt_vocab_file.read_text(encoding="utf-8")) if tgt_vocab_file.is_file() else self.vocab
        )
        self.id_to_piece = {i: p for p, i in tgt_vocab.items()}
        self.eos_id, self.unk_id, self.pad_id = eos_id, unk_id, pad_id
        self.special = {eos_id, pad_id}

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def encode(self, text: str) -> list[int]:
        ids: list[int] = []
        code = LANG_CODE.match(text)
        if code:
            ids.append(self.vocab.get(code.group(0).strip(), self.unk_id))
            text = text[code.end() :]
        ids += [self.vocab.get(p, self.unk_id) for p in self.source.encode(text, out_type=str)]
        return [*ids, self.eos_id]

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        return [self.encode(t) for t in texts]

    def decode(self, ids: Sequence[int]) -> str:
        pieces = [self.id_to_piece.get(int(i), "<unk>") for i in ids if int(i) not in self.special]
        return self.target.decode_pieces(pieces).strip()

    def decode_batch(self, ids: Sequence[Sequence[int]]) -> list[str]:
        return [self.decode(x) for x in ids]

    def pieces(self, ids: Sequence[int]) -> list[str]:
        return [self.id_to_piece.get(int(i), "<unk>") for i in ids]
