"""Reading and validating parallel text (one sentence per line, line *i* of each file is a pair).

The Transformer is trained on sentence pairs (§5.1 Training Data and Batching: "standard WMT 2014
English-German dataset consisting of about 4.5 million sentence pairs"). Before tokenising them we
check what silently breaks training when it is wrong:

* both files have the same number of lines (the error names both files and both counts);
* every byte is valid UTF-8 (the error names the file, the line and the byte offset; nothing is ever
  replaced silently with U+FFFD);
* pairs where either side is empty are dropped, and counted;
* over-long pairs are dropped by a caller-supplied length function, and counted;
* ``.gz`` files (or any file starting with the gzip magic bytes) are decompressed transparently.

Lines are split on ``\\n`` only (a trailing ``\\r`` is removed). :meth:`str.splitlines` is *not* used,
because it also splits on U+2028, U+0085, form feeds etc., which would shift one side of a parallel
corpus against the other.
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ronbun.data.errors import DataError

PathLike = str | os.PathLike[str]
EmptyPolicy = Literal["drop", "keep", "error"]

_GZIP_MAGIC = b"\x1f\x8b"
_MAX_LISTED = 10  # how many offending line numbers a report keeps


def whitespace_length(line: str) -> int:
    """Number of whitespace-separated tokens: the default length for the over-long filter."""
    return len(line.split())


def read_bytes(path: PathLike) -> bytes:
    """The (decompressed) bytes of ``path``; gzip is recognised by its magic bytes, not only the suffix."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{p}: file not found") from None
    except OSError as e:
        raise DataError(f"{p}: cannot read ({e.strerror or e})") from None
    if raw[:2] == _GZIP_MAGIC:
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as e:
            raise DataError(f"{p}: corrupt gzip data ({e})") from None
    if p.suffix == ".gz":
        raise DataError(f"{p}: named .gz but is not gzip data")
    return raw


def decode_utf8(data: bytes, path: PathLike) -> str:
    """Strict UTF-8 decoding; the error names the file, 1-based line, column and byte offset."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        start = e.start
        line = data.count(b"\n", 0, start) + 1
        line_start = data.rfind(b"\n", 0, start) + 1
        bad = data[start : min(e.end, start + 4)].hex(" ")
        raise DataError(
            f"{path}: invalid UTF-8 on line {line} at byte offset {start} "
            f"(byte {start - line_start} of the line; bytes {bad}: {e.reason})"
        ) from None
    if text.startswith("\ufeff"):  # a UTF-8 byte-order mark is not part of the first sentence
        text = text[1:]
    return text


def split_lines(text: str) -> list[str]:
    """Split on ``\\n`` only; drop one final empty piece (a file ending in a newline); strip ``\\r``."""
    if not text:
        return []
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [ln[:-1] if ln.endswith("\r") else ln for ln in lines]


def read_lines(path: PathLike) -> list[str]:
    """All lines of a UTF-8 text file (optionally gzip-compressed), without line terminators."""
    return split_lines(decode_utf8(read_bytes(path), path))


def write_lines(path: PathLike, lines: Iterable[str]) -> None:
    """Write one line per item (UTF-8, ``\\n``); gzip-compressed when ``path`` ends in ``.gz``."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    data = "".join(f"{line}\n" for line in lines).encode("utf-8")
    if p.suffix == ".gz":
        data = gzip.compress(data, mtime=0)
    p.write_bytes(data)


@dataclass
class ValidationReport:
    """What validation found and did. Line numbers are 1-based; lists keep the first few only."""

    src_path: str
    tgt_path: str
    n_lines: int = 0  # pairs read (= lines in each file)
    n_empty: int = 0  # pairs with an empty (or whitespace-only) side
    n_too_long: int = 0  # pairs with a side longer than max_len
    n_kept: int = 0
    max_len: int | None = None
    empty_policy: str = "drop"
    empty_lines: list[int] = field(default_factory=list)
    too_long_lines: list[int] = field(default_factory=list)

    @property
    def n_dropped(self) -> int:
        return self.n_lines - self.n_kept

    def summary(self) -> str:
        """One line for logs, e.g. ``train.en|train.de: 29000 pairs, kept 28990, dropped 10 (...)``."""
        parts = []
        if self.n_empty:
            verb = "kept" if self.empty_policy == "keep" else "dropped"
            parts.append(f"{self.n_empty} with an empty side ({verb}; first lines {self.empty_lines})")
        if self.n_too_long:
            parts.append(
                f"{self.n_too_long} longer than {self.max_len} tokens (first lines {self.too_long_lines})"
            )
        detail = f" ({'; '.join(parts)})" if parts else ""
        return (
            f"{self.src_path} | {self.tgt_path}: {self.n_lines} pairs, kept {self.n_kept}, "
            f"dropped {self.n_dropped}{detail}"
        )


@dataclass
class ParallelCorpus:
    """Aligned sentences: ``src[i]`` translates to ``tgt[i]``."""

    src: list[str]
    tgt: list[str]
    report: ValidationReport

    def __len__(self) -> int:
        return len(self.src)


def validate_pairs(
    src: list[str],
    tgt: list[str],
    *,
    src_name: str = "<src>",
    tgt_name: str = "<tgt>",
    max_len: int | None = None,
    length_fn: Callable[[str], int] = whitespace_length,
    empty: EmptyPolicy = "drop",
    strip: bool = True,
) -> ParallelCorpus:
    """Validate already-read parallel lines; see :func:`read_parallel` for the rules."""
    if len(src) != len(tgt):
        raise DataError(
            f"line count mismatch: {src_name} has {len(src)} lines but {tgt_name} has {len(tgt)} lines"
        )
    if empty not in ("drop", "keep", "error"):
        raise ValueError(f"empty must be 'drop', 'keep' or 'error', not {empty!r}")
    report = ValidationReport(
        src_path=src_name, tgt_path=tgt_name, n_lines=len(src), max_len=max_len, empty_policy=empty
    )
    out_src: list[str] = []
    out_tgt: list[str] = []
    for i, (s, t) in enumerate(zip(src, tgt, strict=True), start=1):
        if strip:
            s, t = s.strip(), t.strip()
        if not s or not t:
            report.n_empty += 1
            if len(report.empty_lines) < _MAX_LISTED:
                report.empty_lines.append(i)
            if empty == "error":
                side = src_name if not s else tgt_name
                raise DataError(f"{side}: line {i} is empty (pair {i} of {src_name} | {tgt_name})")
            if empty == "drop":
                continue
        if max_len is not None and (length_fn(s) > max_len or length_fn(t) > max_len):
            report.n_too_long += 1
            if len(report.too_long_lines) < _MAX_LISTED:
                report.too_long_lines.append(i)
            continue
        out_src.append(s)
        out_tgt.append(t)
    report.n_kept = len(out_src)
    return ParallelCorpus(out_src, out_tgt, report)


def read_parallel(
    src_path: PathLike,
    tgt_path: PathLike,
    *,
    max_len: int | None = None,
    length_fn: Callable[[str], int] = whitespace_length,
    empty: EmptyPolicy = "drop",
    strip: bool = True,
) -> ParallelCorpus:
    """Read and validate a pair of line-aligned files.

    Args:
        src_path, tgt_path: plain or gzip-compressed UTF-8 files, one sentence per line.
        max_len: drop pairs where ``length_fn`` of either side exceeds this (``None``: keep all).
        length_fn: sentence length in tokens; whitespace tokens by default, or e.g.
            ``lambda s: len(tokenizer.encode(s).ids)`` for subword length.
        empty: ``"drop"`` pairs with an empty side (default, counted in the report), ``"keep"`` them
            (evaluation sets must stay aligned with their references) or raise (``"error"``).
        strip: remove surrounding whitespace from each line first.

    Raises:
        DataError: unequal line counts, invalid UTF-8, unreadable/corrupt file, or (``empty="error"``)
            an empty line.
    """
    src = read_lines(src_path)
    tgt = read_lines(tgt_path)
    return validate_pairs(
        src,
        tgt,
        src_name=str(src_path),
        tgt_name=str(tgt_path),
        max_len=max_len,
        length_fn=length_fn,
        empty=empty,
        strip=strip,
    )
