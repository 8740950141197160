"""Text for GPT-1 pre-training (§4.1 "Unsupervised pre-training") and the one token stream it becomes.

GPT-1 trains on BooksCorpus because it holds "long stretches of contiguous text, which allows the
generative model to learn to condition on long-range information" (§4.1).  The equivalent here:

* :func:`load_corpus` reads a corpus into ``{split: lines}``:

  - ``builtin`` — the English side of ronbun's generated corpus (:func:`ronbun.data.synthetic.generate_corpus`):
    no files, no download; a newcomer can pre-train, generate and fine-tune within minutes.
  - ``tiny_shakespeare`` — ``input.txt``; the usual convention: first 90% (by characters, cut at a line
    boundary) train, last 10% valid.
  - ``brown`` — ``brown.zip`` (NLTK's tagged Brown corpus): ``word/tag`` → ``word``, one sentence a line,
    the tokens joined by spaces (`````` and ``''`` become ``"``); documents whose index is ``≡ 9 (mod 10)``
    in name order (50 of 500, every genre) are the valid split.
  - ``ptb_sample`` — ``treebank.zip`` (NLTK's Penn Treebank sample, Wall Street Journal files wsj_0001–0199):
    the untokenised text of ``treebank/raw/wsj_*``, one sentence a line; documents split as for Brown (20 of
    199 held out).  These articles are not in the PTB language-model valid/test sets (sections 22–23).
  - ``wikitext2`` / ``ptb`` — only their valid and test files are available offline: ``train`` is the valid
    file and ``valid`` the test file (a small-corpus demo, not comparable to published WikiText-2/PTB numbers);
    :func:`load_corpus(..., eval_only=True)` gives the real ``valid``/``test`` splits for ``ronbun gpt evaluate``.
  - a plain-text file (``train_file``, ``.gz`` accepted), with an optional ``valid_file``; without one the last
    ``valid_fraction`` of its lines is held out (contiguous, not shuffled).

  Named corpora are looked up under ``data_dir`` (the shared data root or the corpus folder itself), else
  ``$RONBUN_DATA_DIR``; nothing is downloaded.
* :class:`TokenStream` is the whole split as **one** sequence of token ids (lines encoded one by one, each
  followed by the line-break token, so every line-initial word is tokenised as it is everywhere else), stored
  as a ``.npy`` file (uint16 when the vocabulary fits, else int32) and memory-mapped.  It is cached under a key
  made from the corpus' source files (path, size, mtime) and the tokenizer's fingerprint, so a second run
  reads neither the text nor the tokenizer's output again.

Tokenizers: a :class:`~ronbun.text.bpe.TextTokenizer` (byte-level BPE trained on the corpus) or GPT-1's own
40,000-merge BPE (:class:`~ronbun.text.gpt1_bpe.GPT1Tokenizer`); :func:`tokenizer_spec` records which one a
run used, and :func:`ronbun.training.checkpoint.load_checkpoint` loads it back.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..data.errors import DataError
from ..data.parallel import read_lines
from ..settings import from_mapping, setting
from ..text.bpe import line_break_id

__all__ = [
    "CORPORA",
    "CorpusConfig",
    "TokenStream",
    "Tokenizer",
    "build_token_stream",
    "corpus_key",
    "line_break_id",
    "load_corpus",
    "tokenizer_fingerprint",
    "tokenizer_spec",
]

#: Named corpora understood by :func:`load_corpus`.
CORPORA: tuple[str, ...] = ("builtin", "tiny_shakespeare", "brown", "ptb_sample", "wikitext2", "ptb")

# Where each named corpus lives (relative to the shared data root) and its files.
_FOLDERS = {
    "tiny_shakespeare": ("tiny_shakespeare", ("input.txt",)),
    "brown": ("brown_corpus", ("brown.zip",)),
    "ptb_sample": ("ptb_treebank_sample", ("treebank.zip",)),
    "wikitext2": ("wikitext2_eval", ("wiki.valid.tokens", "wiki.test.tokens")),
    "ptb": ("ptb_lm_eval", ("ptb.valid.txt", "ptb.test.txt")),
}
BUILTIN_VERSION = 1
_BROWN_DOC = re.compile(r"^brown/c[a-r]\d\d$")
_PTB_DOC = re.compile(r"^treebank/raw/wsj_\d{4}$")


class Tokenizer(Protocol):
    """What the GPT code needs from a tokenizer (both :class:`~ronbun.text.bpe.TextTokenizer` and
    :class:`~ronbun.text.gpt1_bpe.GPT1Tokenizer` provide it)."""

    @property
    def vocab_size(self) -> int: ...

    def encode(self, text: str) -> list[int]: ...

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]: ...

    def decode(self, ids: Sequence[int]) -> str: ...


@dataclass
class CorpusConfig:
    """Which text to pre-train on (the ``[data]`` section of ``ronbun gpt pretrain``)."""

    corpus: str = setting(
        "builtin", "builtin, tiny_shakespeare, brown, ptb_sample, wikitext2 or ptb (file: --train-file)"
    )
    data_dir: str | None = setting(None, "folder holding the named corpus (e.g. the shared data folder)")
    train_file: str | None = setting(None, "plain-text training file instead of a named corpus (.gz ok)")
    valid_file: str | None = setting(
        None, "plain-text validation file (default: the last --valid-fraction of --train-file)"
    )
    valid_fraction: float = setting(0.05, "held-out tail of a --train-file without --valid-file")
    builtin_sentences: int = setting(20_000, "size of the built-in corpus (training sentences)")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CorpusConfig:
        return from_mapping(cls, data, "corpus")

    @property
    def name(self) -> str:
        return "file" if self.train_file else self.corpus


# -- locating and reading -------------------------------------------------------------------------------
def _find_files(name: str, data_dir: str | os.PathLike[str] | None) -> list[Path]:
    folder, files = _FOLDERS[name]
    roots: list[Path] = []
    if data_dir is not None:
        roots.append(Path(data_dir))
    elif os.environ.get("RONBUN_DATA_DIR"):
        roots.append(Path(os.environ["RONBUN_DATA_DIR"]))
    tried = []
    for root in roots:
        for base in (root, root / folder):
            paths = [base / f for f in files]
            if all(p.is_file() for p in paths):
                return paths
            tried.append(str(base))
    where = (
        f"looked in {', '.join(tried)}"
        if tried
        else "give --data-dir (the shared data folder) or set RONBUN_DATA_DIR"
    )
    raise FileNotFoundError(f"corpus {name!r} needs {', '.join(files)} (folder {folder}/); {where}")


def _source_files(cfg: CorpusConfig) -> list[Path]:
    if cfg.train_file:
        files = [Path(cfg.train_file)] + ([Path(cfg.valid_file)] if cfg.valid_file else [])
        for f in files:
            if not f.is_file():
                raise FileNotFoundError(f"corpus file {f} does not exist")
        return files
    if cfg.corpus == "builtin":
        return []
    if cfg.corpus not in _FOLDERS:
        raise ValueError(
            f"unknown corpus {cfg.corpus!r}; choose one of {', '.join(CORPORA)} or give --train-file"
        )
    return _find_files(cfg.corpus, cfg.data_dir)


def _zip_documents(path: Path, pattern: re.Pattern[str], *, valid: bool) -> list[str]:
    """The lines of the documents in a zip whose names match ``pattern``: in name order, every tenth
    (index ``≡ 9 (mod 10)``) is held out (``valid=True``), the others train."""
    with zipfile.ZipFile(path) as z:
        docs = sorted(n for n in z.namelist() if pattern.match(n))
        if not docs:
            raise DataError(f"{path}: no documents matching {pattern.pattern} inside the zip")
        return [
            raw
            for i, name in enumerate(docs)
            if (i % 10 == 9) == valid
            for raw in z.read(name).decode("utf-8", errors="replace").split("\n")
        ]


def _brown_lines(path: Path, *, valid: bool) -> list[str]:
    """Sentences of the tagged Brown corpus with the ``/tag`` suffixes removed."""
    lines: list[str] = []
    for raw in _zip_documents(path, _BROWN_DOC, valid=valid):
        tokens = raw.split()
        if not tokens:
            continue
        words = [t.rsplit("/", 1)[0] if "/" in t else t for t in tokens]
        lines.append(" ".join('"' if w in ("``", "''") else w for w in words))
    return lines


def _ptb_sample_lines(path: Path, *, valid: bool) -> list[str]:
    """Sentences of the Penn Treebank sample's raw WSJ text (the ``.START`` markers dropped)."""
    lines = (raw.strip() for raw in _zip_documents(path, _PTB_DOC, valid=valid))
    return [line for line in lines if line and line != ".START"]


def _tail_split(lines: list[str], fraction: float) -> tuple[list[str], list[str]]:
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"valid_fraction must be in (0, 1), got {fraction}")
    cut = max(1, min(len(lines) - 1, round(len(lines) * (1.0 - fraction))))
    return lines[:cut], lines[cut:]


def _char_split(lines: list[str], fraction: float) -> tuple[list[str], list[str]]:
    """Cut at the first line boundary after ``fraction`` of the characters."""
    total = sum(len(x) + 1 for x in lines)
    seen = 0
    for i, line in enumerate(lines):
        seen += len(line) + 1
        if seen >= fraction * total:
            return lines[: i + 1], lines[i + 1 :]
    return lines, []


def load_corpus(cfg: CorpusConfig, *, eval_only: bool = False) -> dict[str, list[str]]:
    """``{split: lines}`` of the corpus described by ``cfg`` (see the module docstring for each corpus).

    ``eval_only=True`` returns the corpus' evaluation splits as published (``valid`` and ``test`` for
    wikitext2/ptb, instead of the train=valid/valid=test arrangement used for pre-training on them).
    """
    files = _source_files(cfg)
    if cfg.train_file:
        train = read_lines(files[0])
        if len(files) > 1:
            return {"train": train, "valid": read_lines(files[1])}
        if len(train) < 2:
            raise DataError(f"{files[0]}: need at least 2 lines to hold out a validation split")
        train, valid = _tail_split(train, cfg.valid_fraction)
        return {"train": train, "valid": valid}
    name = cfg.corpus
    if name == "builtin":
        from ..data.synthetic import generate_corpus

        n = cfg.builtin_sentences
        c = generate_corpus(n_train=n, n_valid=max(100, n // 40), n_test=max(100, n // 40), seed=0)
        return {split: en for split, (en, _de) in c.items()}
    if name == "tiny_shakespeare":
        train, valid = _char_split(read_lines(files[0]), 0.9)
        return {"train": train, "valid": valid}
    if name in ("brown", "ptb_sample"):
        read = _brown_lines if name == "brown" else _ptb_sample_lines
        return {"train": read(files[0], valid=False), "valid": read(files[0], valid=True)}
    first, second = (read_lines(f) for f in files)  # wikitext2 / ptb: valid and test files
    return {"valid": first, "test": second} if eval_only else {"train": first, "valid": second}


def corpus_key(cfg: CorpusConfig) -> str:
    """A short hash that changes when the corpus' text may have changed (file path, size, mtime; the
    built-in generator's version and size), computed without reading the text."""
    files = _source_files(cfg)
    desc = {
        "name": cfg.name,
        "files": [[str(f.resolve()), f.stat().st_size, f.stat().st_mtime_ns] for f in files],
        "valid_fraction": cfg.valid_fraction if cfg.train_file and not cfg.valid_file else None,
        "builtin": [BUILTIN_VERSION, cfg.builtin_sentences] if cfg.name == "builtin" else None,
    }
    return hashlib.sha256(json.dumps(desc, sort_keys=True).encode()).hexdigest()[:16]


# -- tokenizers -----------------------------------------------------------------------------------------
def tokenizer_fingerprint(tokenizer: Any) -> str:
    """Identity of a tokenizer's mapping (changes whenever ids could change)."""
    if hasattr(tokenizer, "fingerprint"):
        return str(tokenizer.fingerprint())
    h = hashlib.sha256(type(tokenizer).__name__.encode())
    h.update(json.dumps(tokenizer.get_vocab(), sort_keys=True).encode())
    h.update(str(getattr(tokenizer, "backend", "")).encode())
    h.update(str(getattr(tokenizer, "special_unk_literal", "")).encode())
    return h.hexdigest()[:16]


def tokenizer_spec(tokenizer: Any, source_dir: str | Path | None = None) -> dict[str, Any]:
    """How to rebuild ``tokenizer`` (recorded in ``task_config.json``)."""
    if type(tokenizer).__name__ == "GPT1Tokenizer":
        return {
            "kind": "gpt1-bpe",
            "dir": str(Path(source_dir).resolve()) if source_dir is not None else None,
            "pre_tokenizer": tokenizer.backend,
            "special_unk_literal": bool(tokenizer.special_unk_literal),
            "vocab_size": tokenizer.vocab_size,
        }
    return {"kind": "bpe", "file": "tokenizer.json", "vocab_size": tokenizer.vocab_size}


# -- the token stream -----------------------------------------------------------------------------------
@dataclass
class TokenStream:
    """One split as a single memory-mapped sequence of token ids (``ids``: ``(N,)`` uint16/int32)."""

    ids: np.ndarray
    path: Path | None = None
    from_cache: bool = False

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    def windows(self, starts: Sequence[int] | np.ndarray, length: int) -> np.ndarray:
        """Rows ``ids[s : s + length]`` for every start: ``(len(starts), length)`` int64."""
        starts = np.asarray(starts, dtype=np.int64)
        if starts.size and (starts.min() < 0 or starts.max() + length > len(self)):
            raise IndexError(f"window of {length} tokens outside a stream of {len(self)} tokens")
        index = starts[:, None] + np.arange(length, dtype=np.int64)[None, :]
        return np.asarray(self.ids[index], dtype=np.int64)


def _stream_dtype(vocab_size: int) -> np.dtype:
    return np.dtype(np.uint16) if vocab_size <= np.iinfo(np.uint16).max + 1 else np.dtype(np.int32)


def encode_lines(
    lines: Sequence[str], tokenizer: Any, *, separator: int | None, chunk: int = 10_000
) -> np.ndarray:
    """Encode ``lines`` one by one and concatenate them, each followed by ``separator`` (if not None)."""
    dtype = _stream_dtype(tokenizer.vocab_size)
    parts: list[np.ndarray] = []
    sep = [separator] if separator is not None else []
    for i in range(0, len(lines), chunk):
        encoded = tokenizer.encode_batch(list(lines[i : i + chunk]))
        flat = [t for ids in encoded for t in (*ids, *sep)]
        parts.append(np.asarray(flat, dtype=dtype))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)


def build_token_stream(
    cache_dir: str | Path,
    split: str,
    key: str,
    tokenizer: Any,
    lines: Callable[[], Sequence[str]],
    *,
    log: Callable[[str], None] = print,
) -> TokenStream:
    """The cached token stream of ``split`` (memory-mapped), encoding ``lines()`` only on a cache miss.

    ``key`` identifies the text (:func:`corpus_key`); the tokenizer's fingerprint is added to it.  The file
    ``{cache_dir}/{split}-{key}-{fingerprint}.npy`` is written atomically (temporary file + rename).
    """
    cache = Path(cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"{split}-{key}-{tokenizer_fingerprint(tokenizer)}.npy"
    if path.is_file():
        try:
            return TokenStream(np.load(path, mmap_mode="r"), path, from_cache=True)
        except (ValueError, OSError) as exc:
            log(f"token cache {path} is unreadable ({exc}); rebuilding it")
    ids = encode_lines(lines(), tokenizer, separator=line_break_id(tokenizer))
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with tmp.open("wb") as f:
        np.save(f, ids)
    os.replace(tmp, path)
    log(f"tokenised the {split} split: {len(ids):,} tokens → {path}")
    return TokenStream(np.load(path, mmap_mode="r"), path, from_cache=False)
