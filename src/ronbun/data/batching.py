"""Token-budget batching by approximate length, collation, and a cache of tokenised text.

§5.1 Training Data and Batching: "Sentence pairs were batched together by approximate sequence length.
Each training batch contained a set of sentence pairs containing approximately 25000 source tokens and
25000 target tokens."

* :func:`token_budget_batches` sorts pairs by length and packs them greedily so that, *padding
  included*, a batch never exceeds the budget on either side: ``max(src_len) * n <= max_tokens`` and
  ``max(tgt_len) * n <= max_tokens``. The batches are built once per epoch from ``(seed, epoch)``:
  ties between equal lengths are broken randomly and the batch order is shuffled, so an epoch is fully
  determined by ``(seed, epoch)`` and a run resumes by rebuilding the epoch and skipping the batches it
  already did.
* :class:`TokenBatchSampler` wraps that with per-rank sharding for DDP.
* :func:`collate` pads a batch into ``src (B, S)``, ``tgt_in (B, T)`` (BOS + y) and ``tgt_out (B, T)``
  (y + EOS), the teacher-forcing shift of §3.1 ("the output embeddings are offset by one position").
* :class:`TokenizedCache` tokenises a corpus once and keeps the ids as a flat ``.npy`` array plus an
  offsets ``.npy``, keyed by the text's content hash and the tokenizer's fingerprint, so a second run
  starts at once (the arrays are memory-mapped, not read).

Lengths passed to the batcher must be the lengths the tensors will have: for the target side that is
``len(y) + 1`` (``tgt_in``/``tgt_out`` carry one extra BOS/EOS token).
"""

from __future__ import annotations

import hashlib
import itertools
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Literal, NamedTuple, overload

import numpy as np
import torch
from torch import Tensor

from ronbun.data.errors import DataError

Oversize = Literal["error", "skip", "single"]
Ids = Sequence[int] | np.ndarray


# --------------------------------------------------------------------------------------------- batching


def _epoch_rng(seed: int, epoch: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), int(epoch)])


def token_budget_batches(
    src_lens: Sequence[int] | np.ndarray,
    tgt_lens: Sequence[int] | np.ndarray,
    max_tokens: int,
    *,
    epoch: int = 0,
    seed: int = 0,
    shuffle: bool = True,
    max_sentences: int | None = None,
    oversize: Oversize = "error",
) -> list[np.ndarray]:
    """Group example indices into batches of at most ``max_tokens`` padded tokens per side.

    Args:
        src_lens, tgt_lens: per-example lengths ``(N,)`` as the padded tensors will see them.
        max_tokens: budget per side, padding included (the paper: ~25,000 over 8 GPUs).
        epoch, seed: with ``shuffle``, the epoch's batches are a pure function of ``(seed, epoch)``.
        shuffle: break length ties randomly and shuffle the batch order; ``False`` gives a fixed,
            length-sorted order (evaluation).
        max_sentences: optional cap on pairs per batch.
        oversize: what to do with a pair longer than ``max_tokens`` on either side: ``"error"``
            (default), ``"skip"`` it, or give it a batch of its own (``"single"``, over budget).

    Returns:
        A list of int64 index arrays; every kept example occurs in exactly one of them.
    """
    src = np.asarray(src_lens, dtype=np.int64)
    tgt = np.asarray(tgt_lens, dtype=np.int64)
    if src.ndim != 1 or src.shape != tgt.shape:
        raise ValueError(
            f"src_lens and tgt_lens must be 1-d and equally long, got {src.shape} and {tgt.shape}"
        )
    if max_tokens <= 0:
        raise ValueError(f"max_tokens must be positive, got {max_tokens}")
    if max_sentences is not None and max_sentences <= 0:
        raise ValueError(f"max_sentences must be positive, got {max_sentences}")
    n = len(src)
    if n == 0:
        return []
    rng = _epoch_rng(seed, epoch) if shuffle else None
    # Sort by source length, then target length; equal lengths in a random (per-epoch) order.
    if rng is not None:
        order = np.lexsort((rng.permutation(n), tgt, src))
    else:
        order = np.lexsort((np.arange(n), tgt, src))
    too_long = (src[order] > max_tokens) | (tgt[order] > max_tokens)
    singles: list[np.ndarray] = []
    if too_long.any():
        if oversize == "error":
            k = int(too_long.sum())
            raise DataError(
                f"{k} example(s) longer than max_tokens={max_tokens} (longest: {int(src.max())} source, "
                f"{int(tgt.max())} target tokens); filter them (e.g. read_parallel(max_len=...)), raise "
                "max_tokens, or pass oversize='skip'"
            )
        if oversize == "single":
            singles = [order[i : i + 1] for i in np.nonzero(too_long)[0]]
        elif oversize != "skip":
            raise ValueError(f"oversize must be 'error', 'skip' or 'single', not {oversize!r}")
        order = order[~too_long]
    s_sorted = src[order].tolist()
    t_sorted = tgt[order].tolist()
    cap = max_sentences if max_sentences is not None else len(order) + 1
    bounds: list[int] = []
    size = max_s = max_t = 0
    for i, (s, t) in enumerate(zip(s_sorted, t_sorted, strict=True)):
        ms = s if s > max_s else max_s
        mt = t if t > max_t else max_t
        if size and (ms * (size + 1) > max_tokens or mt * (size + 1) > max_tokens or size + 1 > cap):
            bounds.append(i)
            size, ms, mt = 0, s, t
        size += 1
        max_s, max_t = ms, mt
    batches = [b for b in np.split(order, bounds) if len(b)] + singles
    if rng is not None:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


class TokenBatchSampler:
    """Per-epoch token-budget batches (see :func:`token_budget_batches`), optionally sharded for DDP.

    Sharding (``world_size > 1``), choose with ``shard``:

    * ``"batches"`` (default, as fairseq): every rank builds the same global list of batches and takes
      batches ``rank, rank + W, rank + 2W, ...``; each rank's batch is a full ``max_tokens`` batch, so
      one optimiser step sees ``W * max_tokens`` tokens per side. The list is padded to a multiple of
      ``W`` by repeating its first batches, so all ranks take the same number of steps (a DDP must) and
      no example is left out.
    * ``"slice"``: every rank gets a strided slice ``batch[rank::W]`` of every global batch; one step
      then sees ``max_tokens`` in total (the paper's "25000 tokens" counted over all GPUs). A batch
      with fewer than ``W`` pairs repeats pairs so that no rank gets an empty slice.

    Resuming: ``sampler.batches_for_epoch(epoch)[done:]``.
    """

    def __init__(
        self,
        src_lens: Sequence[int] | np.ndarray,
        tgt_lens: Sequence[int] | np.ndarray,
        max_tokens: int,
        *,
        seed: int = 0,
        shuffle: bool = True,
        max_sentences: int | None = None,
        oversize: Oversize = "error",
        rank: int = 0,
        world_size: int = 1,
        shard: Literal["batches", "slice"] = "batches",
    ) -> None:
        if not 0 <= rank < world_size:
            raise ValueError(f"rank must be in [0, world_size), got rank={rank}, world_size={world_size}")
        if shard not in ("batches", "slice"):
            raise ValueError(f"shard must be 'batches' or 'slice', not {shard!r}")
        self.src_lens = np.asarray(src_lens, dtype=np.int64)
        self.tgt_lens = np.asarray(tgt_lens, dtype=np.int64)
        self.max_tokens, self.seed, self.shuffle = max_tokens, seed, shuffle
        self.max_sentences, self.oversize = max_sentences, oversize
        self.rank, self.world_size, self.shard = rank, world_size, shard
        self.epoch = 0

    def global_batches(self, epoch: int, seed: int | None = None) -> list[np.ndarray]:
        """All ranks' batches of ``epoch`` (before sharding)."""
        return token_budget_batches(
            self.src_lens,
            self.tgt_lens,
            self.max_tokens,
            epoch=epoch,
            seed=self.seed if seed is None else seed,
            shuffle=self.shuffle,
            max_sentences=self.max_sentences,
            oversize=self.oversize,
        )

    def batches_for_epoch(self, epoch: int, seed: int | None = None) -> list[np.ndarray]:
        """This rank's batches (index arrays) of ``epoch``; a pure function of ``(seed, epoch, rank)``."""
        batches = self.global_batches(epoch, seed)
        w, r = self.world_size, self.rank
        if w == 1 or not batches:
            return batches
        if self.shard == "batches":
            n = -(-len(batches) // w) * w  # round up to a multiple of W
            padded = [batches[i % len(batches)] for i in range(n)]
            return padded[r::w]
        return [b[np.arange(r, max(len(b), w), w) % len(b)] for b in batches]

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter(self.batches_for_epoch(self.epoch))

    def __len__(self) -> int:
        return len(self.batches_for_epoch(self.epoch))


# --------------------------------------------------------------------------------------------- collation


class Batch(NamedTuple):
    """A padded translation batch (int64)."""

    src: Tensor  # (B, S) source ids, right-padded
    tgt_in: Tensor  # (B, T) BOS y_1 ... y_n, right-padded: the decoder's input
    tgt_out: Tensor  # (B, T) y_1 ... y_n EOS, right-padded: what it must predict

    def n_tokens(self, pad_id: int) -> int:
        """Number of target tokens that count in the loss."""
        return int((self.tgt_out != pad_id).sum())


def _pad(rows: Sequence[Ids], pad_id: int, *, prefix: int | None = None, suffix: int | None = None) -> Tensor:
    extra = (prefix is not None) + (suffix is not None)
    lengths = [len(r) for r in rows]
    width = max(max(lengths, default=0) + extra, 1)
    out = np.full((len(rows), width), pad_id, dtype=np.int64)
    start = 1 if prefix is not None else 0
    for i, (row, n) in enumerate(zip(rows, lengths, strict=True)):
        out[i, start : start + n] = row
        if prefix is not None:
            out[i, 0] = prefix
        if suffix is not None:
            out[i, start + n] = suffix
    return torch.from_numpy(out)


@overload
def collate(pairs: Sequence[tuple[Ids, Ids]], pad_id: int, bos_id: int, eos_id: int, /) -> Batch: ...
@overload
def collate(src: Sequence[Ids], tgt: Sequence[Ids], pad_id: int, bos_id: int, eos_id: int, /) -> Batch: ...
def collate(*args: object) -> Batch:
    """Pad a batch of token-id sequences (no BOS/EOS in them) into a :class:`Batch`.

    Call as ``collate(pairs, pad_id, bos_id, eos_id)`` with ``pairs = [(src_ids, tgt_ids), ...]`` or as
    ``collate(src_list, tgt_list, pad_id, bos_id, eos_id)``. The source is used as given; the target
    ``y`` becomes ``tgt_in = BOS + y`` and ``tgt_out = y + EOS``, both of width ``T = max(len(y)) + 1``.
    """
    if len(args) == 4:
        pairs, pad_id, bos_id, eos_id = args
        src, tgt = zip(*pairs, strict=True) if pairs else ((), ())  # type: ignore[call-overload]
    elif len(args) == 5:
        src, tgt, pad_id, bos_id, eos_id = args
        if len(src) != len(tgt):  # type: ignore[arg-type]
            raise ValueError(f"{len(src)} source rows but {len(tgt)} target rows")  # type: ignore[arg-type]
    else:
        raise TypeError("collate(pairs, pad_id, bos_id, eos_id) or collate(src, tgt, pad_id, bos_id, eos_id)")
    if not src:
        raise ValueError("cannot collate an empty batch")
    src_t = _pad(src, pad_id)  # type: ignore[arg-type]  # (B, S)
    tgt_in = _pad(tgt, pad_id, prefix=bos_id)  # type: ignore[arg-type]  # (B, T)
    tgt_out = _pad(tgt, pad_id, suffix=eos_id)  # type: ignore[arg-type]  # (B, T)
    return Batch(src_t, tgt_in, tgt_out)


# --------------------------------------------------------------------------------------- tokenised cache


class TokenArrays(Sequence[np.ndarray]):
    """Variable-length id sequences stored flat: sequence ``i`` is ``ids[offsets[i]:offsets[i + 1]]``."""

    def __init__(self, ids: np.ndarray, offsets: np.ndarray) -> None:
        self.ids = ids  # (total,) int32
        self.offsets = offsets  # (N + 1,) int64, offsets[0] == 0

    @classmethod
    def from_lists(cls, seqs: Sequence[Sequence[int]]) -> TokenArrays:
        lengths = np.fromiter((len(s) for s in seqs), dtype=np.int64, count=len(seqs))
        offsets = np.zeros(len(seqs) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        total = int(offsets[-1])
        ids = np.fromiter(itertools.chain.from_iterable(seqs), dtype=np.int64, count=total)
        if total and (ids.min() < 0 or ids.max() >= 2**31):
            raise ValueError("token ids must be in [0, 2**31)")
        return cls(ids.astype(np.int32), offsets)

    @property
    def lengths(self) -> np.ndarray:
        """``(N,)`` int64 lengths."""
        return np.diff(self.offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @overload
    def __getitem__(self, i: int) -> np.ndarray: ...
    @overload
    def __getitem__(self, i: slice) -> list[np.ndarray]: ...
    def __getitem__(self, i: int | slice) -> np.ndarray | list[np.ndarray]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        n = len(self)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(f"index {i} out of range for {n} sequences")
        return self.ids[self.offsets[i] : self.offsets[i + 1]]


def tokenizer_fingerprint(tokenizer: object) -> str:
    """A string that changes whenever the tokenizer's output could: ``tokenizer.fingerprint()`` if it
    has one, else the sha256 of a ``tokenizers.Tokenizer``'s JSON (``to_str()``)."""
    fp = getattr(tokenizer, "fingerprint", None)
    if callable(fp):
        return str(fp())
    to_str = getattr(tokenizer, "to_str", None)
    if callable(to_str):
        return hashlib.sha256(str(to_str()).encode("utf-8")).hexdigest()
    raise TypeError(f"cannot fingerprint a {type(tokenizer).__name__}; pass a fingerprint string instead")


def lines_hash(lines: Sequence[str]) -> str:
    """sha256 of the text (one ``\\n``-terminated line each): equal to the hash of the file it came from
    when that file is plain UTF-8 with ``\\n`` endings."""
    h = hashlib.sha256()
    for chunk_start in range(0, len(lines), 8192):
        chunk = lines[chunk_start : chunk_start + 8192]
        h.update("".join(f"{line}\n" for line in chunk).encode("utf-8"))
    return h.hexdigest()


class TokenizedCache:
    """Tokenise once; later runs memory-map the stored ids.

    Files: ``<cache_dir>/<key>.ids.npy`` (flat int32 ids) and ``<key>.offsets.npy`` (int64, N + 1), where
    ``key = sha256(format version, tokenizer fingerprint, content hash)``. Writes go to temporary files
    that are renamed into place, so concurrent or interrupted runs never see half a file.
    """

    VERSION = "ronbun-tokcache-1"

    def __init__(self, cache_dir: str | os.PathLike[str]) -> None:
        self.cache_dir = Path(cache_dir)
        self.hits = 0
        self.misses = 0

    def key(self, content_hash: str, fingerprint: str) -> str:
        return hashlib.sha256(f"{self.VERSION}\0{fingerprint}\0{content_hash}".encode()).hexdigest()[:32]

    def _paths(self, key: str) -> tuple[Path, Path]:
        return self.cache_dir / f"{key}.ids.npy", self.cache_dir / f"{key}.offsets.npy"

    def load(self, key: str) -> TokenArrays | None:
        ids_path, off_path = self._paths(key)
        if not (ids_path.is_file() and off_path.is_file()):
            return None
        try:
            offsets = np.load(off_path)
            try:
                ids = np.load(ids_path, mmap_mode="r")
            except ValueError:  # numpy cannot memory-map an empty array
                ids = np.load(ids_path)
        except (OSError, ValueError):
            return None  # unreadable: rebuild
        if offsets.ndim != 1 or len(offsets) == 0 or int(offsets[-1]) != len(ids):
            return None
        return TokenArrays(ids, offsets)

    def _save(self, key: str, arrays: TokenArrays) -> None:
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        for path, arr in zip(self._paths(key), (arrays.ids, arrays.offsets), strict=True):
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=self.cache_dir)
            try:
                with os.fdopen(fd, "wb") as f:
                    np.save(f, np.ascontiguousarray(arr))
                os.replace(tmp, path)
            finally:
                Path(tmp).unlink(missing_ok=True)

    def _build(
        self,
        key: str,
        lines: Sequence[str],
        encode_batch: Callable[[Sequence[str]], Sequence[Sequence[int]]],
        chunk_size: int,
    ) -> TokenArrays:
        self.misses += 1
        seqs: list[Sequence[int]] = []
        for start in range(0, len(lines), chunk_size):
            seqs.extend(encode_batch(list(lines[start : start + chunk_size])))
        if len(seqs) != len(lines):
            raise ValueError(f"encode_batch returned {len(seqs)} sequences for {len(lines)} lines")
        arrays = TokenArrays.from_lists(seqs)
        self._save(key, arrays)
        return self.load(key) or arrays

    def encode(
        self,
        lines: Sequence[str],
        encode_batch: Callable[[Sequence[str]], Sequence[Sequence[int]]],
        fingerprint: str,
        *,
        chunk_size: int = 20_000,
    ) -> TokenArrays:
        """Ids of ``lines`` under the tokenizer ``encode_batch`` (identified by ``fingerprint``)."""
        key = self.key(lines_hash(lines), fingerprint)
        cached = self.load(key)
        if cached is not None and len(cached) == len(lines):
            self.hits += 1
            return cached
        return self._build(key, lines, encode_batch, chunk_size)

    def encode_file(
        self,
        path: str | os.PathLike[str],
        encode_batch: Callable[[Sequence[str]], Sequence[Sequence[int]]],
        fingerprint: str,
        *,
        chunk_size: int = 20_000,
    ) -> TokenArrays:
        """Like :meth:`encode` for every line of a file, keyed by the file's bytes: on a hit the file is
        hashed but neither decoded nor tokenised."""
        from ronbun.data.parallel import read_lines

        h = hashlib.sha256()
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
        key = self.key("file:" + h.hexdigest(), fingerprint)
        cached = self.load(key)
        if cached is not None:
            self.hits += 1
            return cached
        return self._build(key, read_lines(path), encode_batch, chunk_size)
