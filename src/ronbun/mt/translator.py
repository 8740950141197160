"""Translate with a trained Transformer: tokenise → batched beam search (§6.1) → detokenise.

``ronbun.load(DIR).translate(["A man rides a horse."], beam=4, alpha=0.6)``
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import torch

from ..models import Transformer
from ..text.bpe import TextTokenizer
from ..text.moses import MOSES_LOWERCASE, MosesNormalizedTokenizer
from ..training.checkpoint import TOKENIZER_FILE, CheckpointError, load_model


class Translator:
    """A Transformer plus its tokenizer; sentences in, sentences out."""

    def __init__(self, model: Transformer, tokenizer: TextTokenizer) -> None:
        if model.config.vocab_size < tokenizer.vocab_size:
            raise CheckpointError(
                f"vocabulary mismatch: tokenizer has {tokenizer.vocab_size} tokens, model only "
                f"{model.config.vocab_size}"
            )
        self.model, self.tokenizer = model, tokenizer

    @classmethod
    def from_checkpoint(cls, directory: str | Path, device: str = "cpu") -> Translator:
        directory = Path(directory)
        model = load_model(directory, expect="transformer", device=device)
        tok_path = directory / TOKENIZER_FILE
        spec = (model.config.extra or {}).get("tokenizer") or {}
        if not tok_path.is_file() and spec.get("kind") == "marian-sentencepiece":
            from ..text.marian_spm import MarianTokenizer

            c = model.config
            marian = MarianTokenizer(directory, eos_id=c.eos_id, unk_id=c.unk_id, pad_id=c.pad_id)
            return cls(model, marian)  # type: ignore[arg-type]
        if not tok_path.is_file():
            raise CheckpointError(
                f"{directory} has no {TOKENIZER_FILE}: cannot translate text without a tokenizer"
            )
        tokenizer = TextTokenizer.load(tok_path)
        if spec.get("normalization") == MOSES_LOWERCASE:  # trained on lower-cased Moses-tokenised text
            tokenizer = MosesNormalizedTokenizer(tokenizer, spec["src_lang"], spec["tgt_lang"])
        return cls(model, tokenizer)  # type: ignore[arg-type]

    def translate_ids(
        self,
        src_ids: Sequence[Sequence[int]],
        *,
        beam: int = 4,
        alpha: float = 0.6,
        max_len_a: float = 1.0,
        max_len_b: int = 50,
    ) -> list[list[int]]:
        from ..generation import translate

        c = self.model.config
        device = next(self.model.parameters()).device
        width = max(1, max(len(s) for s in src_ids))
        src = torch.full((len(src_ids), width), c.pad_id, dtype=torch.long)
        for i, s in enumerate(src_ids):
            ids = list(s)[: c.max_positions] or [c.eos_id]
            src[i, : len(ids)] = torch.tensor(ids)
        src = src.to(device)
        max_len_b = min(max_len_b, c.max_positions - int(max_len_a * width) - 1) if max_len_a else max_len_b
        self.model.eval()
        with torch.no_grad():
            results = translate(
                self.model,
                src,
                search="greedy" if beam == 1 else "beam",
                beam=beam,
                alpha=alpha,
                max_len_a=max_len_a,
                max_len_b=max_len_b,
            )
        return [list(r.tokens) for r in results]

    def translate(
        self,
        sentences: Sequence[str],
        *,
        beam: int = 4,
        alpha: float = 0.6,
        batch_size: int = 64,
        max_len_a: float = 1.0,
        max_len_b: int = 50,
    ) -> list[str]:
        """Translate ``sentences`` (beam 4, α = 0.6, max length = input length + 50: the paper's §6.1)."""
        return list(
            self.stream(
                sentences,
                beam=beam,
                alpha=alpha,
                batch_size=batch_size,
                max_len_a=max_len_a,
                max_len_b=max_len_b,
            )
        )

    def stream(
        self,
        sentences: Iterable[str],
        *,
        beam: int = 4,
        alpha: float = 0.6,
        batch_size: int = 64,
        max_len_a: float = 1.0,
        max_len_b: int = 50,
    ) -> Iterator[str]:
        """Translations in input order, yielded batch by batch (sorted by length inside a batch)."""
        if beam < 1:
            raise ValueError(f"beam size must be >= 1, got {beam}")
        if alpha < 0:
            raise ValueError(f"length penalty alpha must be >= 0, got {alpha}")
        if batch_size < 1:
            raise ValueError(f"batch size must be >= 1, got {batch_size}")
        batch: list[str] = []
        for line in sentences:
            batch.append(line)
            if len(batch) == batch_size:
                yield from self._translate_batch(batch, beam, alpha, max_len_a, max_len_b)
                batch = []
        if batch:
            yield from self._translate_batch(batch, beam, alpha, max_len_a, max_len_b)

    @torch.no_grad()
    def attention(self, sentence: str, *, beam: int = 4, alpha: float = 0.6):
        """Translate one sentence and return ``(src_pieces, tgt_pieces, AttentionMaps)`` of the
        teacher-forced pass over the model's own translation (tokens label the plot axes)."""
        c = self.model.config
        src_ids = self.tokenizer.encode(sentence) or [c.eos_id]
        out_ids = self.translate_ids([src_ids], beam=beam, alpha=alpha)[0]
        device = next(self.model.parameters()).device
        src = torch.tensor([src_ids], device=device)
        tgt_in = torch.tensor([[c.bos_id, *out_ids]], device=device)
        maps = self.model.attention_maps(src, tgt_in)
        tgt_pieces = [*self.tokenizer.pieces(out_ids), "</s>"]
        return self.tokenizer.pieces(src_ids), tgt_pieces, maps

    def _translate_batch(self, lines: list[str], beam: int, alpha: float, a: float, b: int) -> list[str]:
        ids = self.tokenizer.encode_batch(lines)
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        out_ids = self.translate_ids(
            [ids[i] for i in order], beam=beam, alpha=alpha, max_len_a=a, max_len_b=b
        )
        texts = self.tokenizer.decode_batch(out_ids)
        result = [""] * len(lines)
        for pos, i in enumerate(order):
            result[i] = texts[pos] if lines[i].strip() else ""
        return result
