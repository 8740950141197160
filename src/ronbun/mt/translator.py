"""Translate with a trained Transformer: tokenise → batched beam search (§6.1) → detokenise.

``ronbun.load(DIR).translate(["A man rides a horse."], beam=4, alpha=0.6)``

A checkpoint without a tokenizer (weights only: no ``tokenizer.json``, no Marian sentencepiece files) is
legitimate.  :meth:`Translator.from_checkpoint` refuses it at load by default
(:class:`~ronbun.training.checkpoint.MissingTokenizerError`), so that ``ronbun mt translate`` /
``evaluate`` and ``ronbun serve`` fail in one line before reading any input or data; ``ronbun.load`` passes
``require_tokenizer=False`` and gets a *bare* :class:`Translator` (``tokenizer is None``):
:meth:`~Translator.translate_ids` works, every text method raises that error, saying how to add a tokenizer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict, Unpack

import torch

from ..models import Transformer
from ..models.ensemble import TransformerEnsemble
from ..models.inference import PRECISIONS, at_precision
from ..text.bpe import TextTokenizer
from ..training.checkpoint import CheckpointError, MissingTokenizerError, load_checkpoint

if TYPE_CHECKING:
    from ..generation.search import EarlyStopping, LengthPenalty

#: Batches read ahead and sorted by length together when translating a stream of sentences.
SORT_WINDOW = 16


def source_rows(src_ids: Sequence[Sequence[int]], max_positions: int, eos_id: int) -> list[list[int]]:
    """Source ids as the encoder takes them: cut to ``max_positions`` tokens, an empty one as ``[eos_id]``."""
    return [list(s)[:max_positions] or [eos_id] for s in src_ids]


def translate_text(
    lines: Iterable[str],
    tokenizer: TextTokenizer,
    translate_ids: Callable[[list[list[int]]], list[list[int]]],
    batch_size: int,
    streams: int = 1,
) -> Iterator[str]:
    """Tokenise ``lines``, decode them with ``translate_ids`` (source ids → output ids, one batch per call)
    and detokenise, in input order.  Lines are read ahead :data:`SORT_WINDOW` batches at a time and sorted by
    length inside that window, so a batch holds sentences of similar length (little padding, and its
    sentences finish together).  With ``streams > 1`` the batches of a window are decoded by that many
    threads side by side (``translate_ids`` must allow it; the output is the same).  :class:`Translator`
    decodes with its own model; anything that turns ids into ids (another library's decoder on the same
    weights) gets the same text path."""
    if streams < 1:
        raise ValueError(f"streams must be >= 1, got {streams}")
    window: list[str] = []
    for line in lines:
        window.append(line)
        if len(window) == batch_size * SORT_WINDOW:
            yield from _translate_window(window, tokenizer, translate_ids, batch_size, streams)
            window = []
    if window:
        yield from _translate_window(window, tokenizer, translate_ids, batch_size, streams)


def _translate_window(
    lines: list[str],
    tokenizer: TextTokenizer,
    translate_ids: Callable[[list[list[int]]], list[list[int]]],
    batch_size: int,
    streams: int,
) -> list[str]:
    """Translate ``lines`` in length-sorted batches of ``batch_size``, ``streams`` batches at a time;
    results in the order of ``lines``."""
    ids = tokenizer.encode_batch(lines)
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    batches = [order[start : start + batch_size] for start in range(0, len(order), batch_size)]
    sources = ([ids[i] for i in batch] for batch in batches)
    if streams == 1 or len(batches) == 1:
        outputs = list(map(translate_ids, sources))
    else:
        with ThreadPoolExecutor(min(streams, len(batches)), thread_name_prefix="ronbun-decode") as pool:
            outputs = list(pool.map(translate_ids, sources))
    result = [""] * len(lines)
    for batch, out in zip(batches, outputs, strict=True):
        for i, text in zip(batch, tokenizer.decode_batch(out), strict=True):
            result[i] = text if lines[i].strip() else ""
    return result


def same_tokenizer(a: object, b: object) -> bool:
    """Whether two tokenizers turn text into the same ids and back: the same kind and, where they have one,
    the same fingerprint (the serialised tokenizer's hash); else the same vocabulary size and the same ids for
    a probe text."""
    if type(a) is not type(b) or getattr(a, "vocab_size", None) != getattr(b, "vocab_size", None):
        return False
    if hasattr(a, "fingerprint") and hasattr(b, "fingerprint"):
        return a.fingerprint() == b.fingerprint()  # type: ignore[attr-defined]
    probe = ["A man rides a horse.", "Zwei Kinder spielen im Garten, 1974 & ça va?"]
    return a.encode_batch(probe) == b.encode_batch(probe)  # type: ignore[attr-defined]


def threads_per_stream(threads: int, streams: int) -> int:
    """Each of ``streams`` decoding streams' share of ``threads`` CPU threads (at least 1): the one rule that
    ``translate --streams``, ``ronbun serve --streams`` and the translation benchmark all follow."""
    return max(1, threads // streams)


def _sharing_threads(lines: Iterator[str], streams: int) -> Iterator[str]:
    """``lines``, produced while PyTorch's intra-op threads are shared out among ``streams`` decoding
    threads (:func:`threads_per_stream` each).  The setting is process-wide and ``lines`` is lazy, so it is
    made around each ``next`` and restored before the line is handed out: code that runs between two lines
    (the caller's) always sees the thread count it set."""
    total = torch.get_num_threads()
    while True:
        torch.set_num_threads(threads_per_stream(total, streams))
        try:
            line = next(lines, None)
        finally:
            torch.set_num_threads(total)
        if line is None:
            return
        yield line


class Search(TypedDict, total=False):
    """How :meth:`Translator.translate` decodes (declared once; the defaults are those of
    :meth:`Translator.stream`): ``beam`` size and length penalty ``alpha`` (§6.1), sentences per
    ``batch_size``, the longest output ``max_len_a * source length + max_len_b`` tokens, the arithmetic
    ``precision`` (``fp32``, ``bf16`` or ``int8``: :mod:`ronbun.models.inference`), the beam search's
    ``length_penalty`` form (``gnmt``, the paper's, or ``power``, Hugging Face's and CTranslate2's) and
    ``early_stopping`` rule (:mod:`ronbun.generation.search`), and how many decoding ``streams`` share the
    CPU threads (batches decoded side by side; the same output)."""

    beam: int
    alpha: float
    batch_size: int
    max_len_a: float
    max_len_b: int
    precision: str
    length_penalty: LengthPenalty
    early_stopping: EarlyStopping
    streams: int


class Translator:
    """A Transformer plus its tokenizer; sentences in, sentences out (``tokenizer=None``: a bare model,
    :meth:`translate_ids` only).  The model may be a
    :class:`~ronbun.models.ensemble.TransformerEnsemble` (:meth:`from_checkpoints`): several checkpoints that
    decode as one."""

    def __init__(
        self,
        model: Transformer | TransformerEnsemble,
        tokenizer: TextTokenizer | None,
        *,
        directory: str | Path | None = None,
    ) -> None:
        if tokenizer is not None and model.config.vocab_size < tokenizer.vocab_size:
            raise CheckpointError(
                f"vocabulary mismatch: tokenizer has {tokenizer.vocab_size} tokens, model only "
                f"{model.config.vocab_size}"
            )
        self.model, self.tokenizer = model, tokenizer
        self.directory = Path(directory) if directory is not None else None
        self._at_precision: dict[str, torch.nn.Module] = {}

    def model_at(self, precision: str = "fp32") -> torch.nn.Module:
        """The model at an inference ``precision`` (made once, then kept; ``fp32`` is the model itself)."""
        if precision == "fp32":
            return self.model
        if precision not in self._at_precision:
            self._at_precision[precision] = at_precision(self.model, precision)
        return self._at_precision[precision]

    @classmethod
    def from_checkpoint(
        cls,
        directory: str | Path,
        device: str = "cpu",
        *,
        tokenizer: TextTokenizer | str | Path | None = None,
        require_tokenizer: bool = True,
    ) -> Translator:
        """Load a Transformer checkpoint with its tokenizer (``tokenizer.json``, or a converted Marian model's
        sentencepiece files).

        ``tokenizer`` replaces it: a tokenizer object, a ``tokenizer.json`` file or a folder holding the
        tokenizer files.  A checkpoint without a tokenizer raises
        :class:`~ronbun.training.checkpoint.MissingTokenizerError` here when ``require_tokenizer`` (the
        default, so that the command line, which calls this, fails before it reads any input or data);
        with ``require_tokenizer=False`` (what ``ronbun.load`` does) it loads as a bare :class:`Translator`
        whose text methods raise that error and whose :meth:`translate_ids` works.
        """
        ckpt = load_checkpoint(
            directory,
            expect="transformer",
            device=device,
            tokenizer=tokenizer,
            require_tokenizer=require_tokenizer,
        )
        return cls(ckpt.model, ckpt.tokenizer, directory=ckpt.path)  # type: ignore[arg-type]

    @classmethod
    def from_checkpoints(
        cls,
        directories: Sequence[str | Path],
        device: str = "cpu",
        *,
        tokenizer: TextTokenizer | str | Path | None = None,
    ) -> Translator:
        """Several Transformer checkpoints as one translator that averages their next-token probabilities at
        every step (:class:`~ronbun.models.ensemble.TransformerEnsemble`; one checkpoint: the same as
        :meth:`from_checkpoint`).  They must share one tokenizer (the first one's is used, or ``tokenizer``)
        and one vocabulary; a checkpoint whose tokenizer differs is refused, naming it."""
        if not directories:
            raise ValueError("no checkpoint given")
        first = cls.from_checkpoint(directories[0], device, tokenizer=tokenizer)
        if len(directories) == 1:
            return first
        members = [first.model]
        for directory in directories[1:]:
            other = cls.from_checkpoint(directory, device, tokenizer=tokenizer)
            if not same_tokenizer(first.tokenizer, other.tokenizer):
                raise CheckpointError(
                    f"{directory}: its tokenizer differs from that of {directories[0]}; an ensemble needs "
                    "checkpoints that share one tokenizer (e.g. the checkpoints of one run)"
                )
            members.append(other.model)
        try:
            ensemble = TransformerEnsemble(members)  # type: ignore[arg-type]
        except ValueError as exc:
            raise CheckpointError(str(exc)) from None
        return cls(ensemble, first.tokenizer, directory=first.directory)

    def require_tokenizer(self, what: str = "this") -> TextTokenizer:
        """The tokenizer, or :class:`~ronbun.training.checkpoint.MissingTokenizerError` for a bare model
        (``what`` names the method that needs it)."""
        return MissingTokenizerError.unless(self, what, "Transformer", "translate_ids() on token ids")

    def translate_ids(
        self,
        src_ids: Sequence[Sequence[int]],
        *,
        beam: int = 4,
        alpha: float = 0.6,
        max_len_a: float = 1.0,
        max_len_b: int = 50,
        precision: str = "fp32",
        length_penalty: LengthPenalty = "gnmt",
        early_stopping: EarlyStopping = "bound",
    ) -> list[list[int]]:
        from ..generation import translate

        model = self.model_at(precision)
        c = self.model.config
        device = next(self.model.parameters()).device
        rows = source_rows(src_ids, c.max_positions, c.eos_id)
        width = max(len(s) for s in rows)
        src = torch.full((len(rows), width), c.pad_id, dtype=torch.long)
        for i, ids in enumerate(rows):
            src[i, : len(ids)] = torch.tensor(ids)
        src = src.to(device)
        max_len_b = min(max_len_b, c.max_positions - int(max_len_a * width) - 1) if max_len_a else max_len_b
        if model.training:  # (not on every call: eval() also drops the cached output-projection layout)
            model.eval()
        with torch.no_grad():
            results = translate(
                model,
                src,
                search="greedy" if beam == 1 else "beam",
                beam=beam,
                alpha=alpha,
                max_len_a=max_len_a,
                max_len_b=max_len_b,
                length_penalty=length_penalty,
                early_stopping=early_stopping,
            )
        return [list(r.tokens) for r in results]

    def translate(self, sentences: Sequence[str], **search: Unpack[Search]) -> list[str]:
        """Translate ``sentences`` (beam 4, α = 0.6, max length = input length + 50: the paper's §6.1); the
        :class:`Search` settings and their defaults are those of :meth:`stream`."""
        return list(self.stream(sentences, **search))

    def stream(
        self,
        sentences: Iterable[str],
        *,
        beam: int = 4,
        alpha: float = 0.6,
        batch_size: int = 64,
        max_len_a: float = 1.0,
        max_len_b: int = 50,
        precision: str = "fp32",
        length_penalty: LengthPenalty = "gnmt",
        early_stopping: EarlyStopping = "bound",
        streams: int = 1,
    ) -> Iterator[str]:
        """Translations in input order.  Sentences are read ahead :data:`SORT_WINDOW` batches at a time and
        sorted by length inside that window, so a batch holds sentences of similar length (little padding,
        and its sentences finish together); the translations are put back in input order.  Bad settings
        and a missing tokenizer are errors at the call, before any sentence is read.

        ``streams > 1`` decodes that many batches side by side, each on ``torch.get_num_threads() // streams``
        threads: the output is the same, and on a CPU it is faster for whole files (a decoder step of a few
        dozen rows keeps one core busy better than two; ``docs/performance.md``).  One sentence, or the
        latency of one request, gains nothing from it."""
        self.require_tokenizer("translating text")
        if beam < 1:
            raise ValueError(f"beam size must be >= 1, got {beam}")
        if alpha < 0:
            raise ValueError(f"length penalty alpha must be >= 0, got {alpha}")
        if batch_size < 1:
            raise ValueError(f"batch size must be >= 1, got {batch_size}")
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
        if length_penalty not in ("gnmt", "power"):
            raise ValueError(f"length_penalty must be 'gnmt' or 'power', got {length_penalty!r}")
        if early_stopping not in ("bound", "finished", "never"):
            raise ValueError(f"early_stopping must be 'bound', 'finished' or 'never', got {early_stopping!r}")
        if isinstance(streams, bool) or not isinstance(streams, int) or streams < 1:
            raise ValueError(f"streams must be an integer >= 1, got {streams!r}")
        search = {"beam": beam, "alpha": alpha, "max_len_a": max_len_a, "max_len_b": max_len_b}
        rules = {"length_penalty": length_penalty, "early_stopping": early_stopping}
        self.model_at(precision)  # an int8/bf16 copy is made once, here, not by two streams at once
        return self._stream(sentences, batch_size, streams, {**search, "precision": precision, **rules})

    def _stream(self, sentences: Iterable[str], batch_size: int, streams: int, search: dict) -> Iterator[str]:
        tokenizer = self.require_tokenizer("translating text")
        lines = translate_text(
            sentences, tokenizer, lambda ids: self.translate_ids(ids, **search), batch_size, streams
        )
        return lines if streams == 1 else _sharing_threads(lines, streams)

    @torch.no_grad()
    def attention(self, sentence: str, *, beam: int = 4, alpha: float = 0.6):
        """Translate one sentence and return ``(src_pieces, tgt_pieces, AttentionMaps)`` of the
        teacher-forced pass over the model's own translation (tokens label the plot axes)."""
        tokenizer = self.require_tokenizer("attention()")
        if not isinstance(self.model, Transformer):
            raise ValueError("attention maps are those of one model; load a single checkpoint to plot them")
        c = self.model.config
        src_ids = tokenizer.encode(sentence) or [c.eos_id]
        out_ids = self.translate_ids([src_ids], beam=beam, alpha=alpha)[0]
        device = next(self.model.parameters()).device
        src = torch.tensor([src_ids], device=device)
        tgt_in = torch.tensor([[c.bos_id, *out_ids]], device=device)
        maps = self.model.attention_maps(src, tgt_in)
        tgt_pieces = [*tokenizer.pieces(out_ids), "</s>"]
        return tokenizer.pieces(src_ids), tgt_pieces, maps
