"""Token-budget batching (§5.1), collation and the tokenised cache."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from ronbun.data.batching import (
    Batch,
    TokenArrays,
    TokenBatchSampler,
    TokenizedCache,
    collate,
    lines_hash,
    token_budget_batches,
    tokenizer_fingerprint,
)
from ronbun.data.errors import DataError


def _lengths(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    src = rng.integers(1, 80, n)
    tgt = np.clip(src + rng.integers(-10, 11, n), 2, 100)
    return src, tgt


def _check_budget(batches, src, tgt, max_tokens):
    for b in batches:
        assert len(b) > 0
        assert src[b].max() * len(b) <= max_tokens
        assert tgt[b].max() * len(b) <= max_tokens


# ---------------------------------------------------------------------------------------- batching


def test_budget_respected_and_every_example_once():
    src, tgt = _lengths(5_000)
    for max_tokens in (100, 1_000, 4_096):
        batches = token_budget_batches(src, tgt, max_tokens, epoch=3, seed=1)
        _check_budget(batches, src, tgt, max_tokens)
        assert np.array_equal(np.sort(np.concatenate(batches)), np.arange(len(src)))
        assert all(b.dtype == np.int64 for b in batches)


def test_batches_are_length_homogeneous():
    src, tgt = _lengths(5_000)
    batches = token_budget_batches(src, tgt, 2_000, seed=0)
    # sorted by length: within a batch the source lengths are close
    spread = np.array([src[b].max() - src[b].min() for b in batches])
    assert np.median(spread) <= 1
    # padding waste is small
    padded = sum(max(src[b].max(), 1) * len(b) for b in batches)
    assert src.sum() / padded > 0.95


def test_deterministic_per_epoch_and_seed():
    src, tgt = _lengths(3_000)

    def run(epoch, seed):
        return [b.tolist() for b in token_budget_batches(src, tgt, 1_000, epoch=epoch, seed=seed)]

    assert run(0, 0) == run(0, 0)
    assert run(1, 0) == run(1, 0)
    assert run(0, 0) != run(1, 0)  # a new epoch reshuffles
    assert run(0, 0) != run(0, 1)  # so does a new seed
    fixed = token_budget_batches(src, tgt, 1_000, shuffle=False)
    firsts = [int(src[b].min()) for b in fixed]
    assert firsts == sorted(firsts)  # no shuffle: length order


def test_speed_30k_pairs():
    src, tgt = _lengths(30_000)
    token_budget_batches(src, tgt, 4_096)  # warm-up
    t0 = time.perf_counter()
    batches = token_budget_batches(src, tgt, 4_096, epoch=1, seed=0)
    assert time.perf_counter() - t0 < 3.0  # ~15 ms on an idle core; loose for shared CI machines
    assert sum(len(b) for b in batches) == 30_000


def test_max_sentences_and_oversize():
    src = np.array([3, 3, 3, 3, 3, 50])
    tgt = np.array([3, 3, 3, 3, 3, 2])
    batches = token_budget_batches(src, tgt, 30, max_sentences=2, shuffle=False, oversize="skip")
    assert [len(b) for b in batches] == [2, 2, 1]
    with pytest.raises(DataError, match="1 example.* longer than max_tokens=30"):
        token_budget_batches(src, tgt, 30)
    single = token_budget_batches(src, tgt, 30, oversize="single", shuffle=False)
    assert [5] in [b.tolist() for b in single]
    assert token_budget_batches([], [], 10) == []


def test_sampler_resume_and_iteration():
    src, tgt = _lengths(2_000)
    sampler = TokenBatchSampler(src, tgt, 1_000, seed=5)
    epoch2 = sampler.batches_for_epoch(2)
    sampler.set_epoch(2)
    assert [b.tolist() for b in sampler] == [b.tolist() for b in epoch2] and len(sampler) == len(epoch2)
    # resuming mid-epoch = rebuilding the epoch in a fresh process and skipping what was done
    fresh = TokenBatchSampler(src, tgt, 1_000, seed=5)
    assert [b.tolist() for b in fresh.batches_for_epoch(2)[7:]] == [b.tolist() for b in epoch2[7:]]
    assert [b.tolist() for b in sampler.batches_for_epoch(2, seed=6)] != [b.tolist() for b in epoch2]


@pytest.mark.parametrize("world", [2, 3])
def test_ddp_shard_batches(world):
    src, tgt = _lengths(2_000)
    ranks = [TokenBatchSampler(src, tgt, 1_000, seed=1, rank=r, world_size=world) for r in range(world)]
    per_rank = [s.batches_for_epoch(4) for s in ranks]
    assert len({len(p) for p in per_rank}) == 1  # same number of steps on every rank
    seen = np.concatenate([b for p in per_rank for b in p])
    assert set(seen.tolist()) == set(range(2_000))  # nothing left out
    assert len(seen) - 2_000 < world * 1_000  # at most world-1 batches repeated
    _check_budget([b for p in per_rank for b in p], src, tgt, 1_000)
    n_global = len(ranks[0].global_batches(4))
    if n_global % world == 0:
        assert len(seen) == 2_000


def test_ddp_shard_slice():
    src, tgt = _lengths(1_000)
    world = 4
    ranks = [
        TokenBatchSampler(src, tgt, 2_000, seed=1, rank=r, world_size=world, shard="slice") for r in range(4)
    ]
    per_rank = [s.batches_for_epoch(0) for s in ranks]
    global_batches = ranks[0].global_batches(0)
    assert all(len(p) == len(global_batches) for p in per_rank)
    for i, g in enumerate(global_batches):
        parts = [p[i] for p in per_rank]
        assert all(len(x) > 0 for x in parts)
        if len(g) >= world:
            assert sorted(np.concatenate(parts).tolist()) == sorted(g.tolist())


def test_sampler_rejects_bad_rank():
    with pytest.raises(ValueError, match="rank"):
        TokenBatchSampler([1], [1], 10, rank=2, world_size=2)


# ---------------------------------------------------------------------------------------- collate


def test_collate_shapes_and_padding():
    pad, bos, eos = 0, 1, 2
    pairs = [([5, 6, 7], [8, 9]), ([10], [11, 12, 13, 14])]
    b = collate(pairs, pad, bos, eos)
    assert isinstance(b, Batch)
    assert b.src.dtype == b.tgt_in.dtype == b.tgt_out.dtype == torch.int64
    assert b.src.shape == (2, 3) and b.tgt_in.shape == b.tgt_out.shape == (2, 5)
    assert b.src.tolist() == [[5, 6, 7], [10, 0, 0]]
    assert b.tgt_in.tolist() == [[1, 8, 9, 0, 0], [1, 11, 12, 13, 14]]
    assert b.tgt_out.tolist() == [[8, 9, 2, 0, 0], [11, 12, 13, 14, 2]]
    assert b.n_tokens(pad) == 3 + 5
    # the same batch from two lists of arrays (how TokenArrays are used)
    src, tgt_in, tgt_out = collate([np.array([5, 6, 7]), np.array([10])], [[8, 9], [11, 12, 13, 14]], 0, 1, 2)
    assert torch.equal(src, b.src) and torch.equal(tgt_in, b.tgt_in) and torch.equal(tgt_out, b.tgt_out)
    # teacher forcing: tgt_in shifted left by one is tgt_out, up to the EOS
    y = (b.tgt_out[:, :-1] != pad) & (b.tgt_out[:, :-1] != eos)
    assert torch.equal(b.tgt_in[:, 1:][y], b.tgt_out[:, :-1][y])


def test_collate_errors_and_empty_target():
    with pytest.raises(ValueError, match="empty batch"):
        collate([], 0, 1, 2)
    with pytest.raises(ValueError, match="1 source rows but 2 target rows"):
        collate([[1]], [[1], [2]], 0, 1, 2)
    b = collate([([3], [])], 0, 1, 2)
    assert b.tgt_in.tolist() == [[1]] and b.tgt_out.tolist() == [[2]]


# ---------------------------------------------------------------------------------------- cache


class _CountingTokenizer:
    def __init__(self, salt: str = "v1") -> None:
        self.calls = 0
        self.salt = salt

    def fingerprint(self) -> str:
        return f"toy-{self.salt}"

    def encode_batch(self, lines):
        self.calls += 1
        return [[(ord(c) % 50) + 3 for c in line] for line in lines]


def test_token_arrays():
    arr = TokenArrays.from_lists([[1, 2, 3], [], [4]])
    assert len(arr) == 3 and arr.lengths.tolist() == [3, 0, 1]
    assert arr[0].tolist() == [1, 2, 3] and arr[1].tolist() == [] and arr[-1].tolist() == [4]
    assert [x.tolist() for x in arr[1:]] == [[], [4]]
    assert [len(x) for x in arr] == [3, 0, 1]
    with pytest.raises(IndexError):
        arr[3]


def test_cache_hit_on_second_call(tmp_path):
    lines = [f"sentence number {i}" for i in range(1_000)]
    tok = _CountingTokenizer()
    cache = TokenizedCache(tmp_path)
    first = cache.encode(lines, tok.encode_batch, tok.fingerprint())
    assert (cache.hits, cache.misses, tok.calls) == (0, 1, 1)
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".npy", ".npy"]
    # a new process: a new cache object over the same directory
    cache2 = TokenizedCache(tmp_path)
    second = cache2.encode(lines, tok.encode_batch, tok.fingerprint())
    assert (cache2.hits, cache2.misses, tok.calls) == (1, 0, 1)
    assert len(second) == len(lines)
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))
    assert second[5].tolist() == tok.encode_batch([lines[5]])[0]
    # other text, or another tokenizer, is a miss
    cache2.encode(lines[:-1], tok.encode_batch, tok.fingerprint())
    other = _CountingTokenizer("v2")
    cache2.encode(lines, other.encode_batch, other.fingerprint())
    assert cache2.misses == 2 and other.calls == 1


def test_cache_encode_file_and_corrupt_entry(tmp_path):
    path = tmp_path / "train.en"
    path.write_text("a b\nc d e\n", encoding="utf-8")
    tok = _CountingTokenizer()
    cache = TokenizedCache(tmp_path / "cache")
    first = cache.encode_file(path, tok.encode_batch, tok.fingerprint())
    second = cache.encode_file(path, tok.encode_batch, tok.fingerprint())
    assert tok.calls == 1 and cache.hits == 1 and [len(x) for x in second] == [3, 5]
    assert [x.tolist() for x in first] == [x.tolist() for x in second]
    # a damaged entry is rebuilt, not trusted
    for p in (tmp_path / "cache").glob("*.offsets.npy"):
        p.write_bytes(b"junk")
    third = cache.encode_file(path, tok.encode_batch, tok.fingerprint())
    assert tok.calls == 2 and [x.tolist() for x in third] == [x.tolist() for x in first]


def test_lines_hash_matches_file_bytes(tmp_path):
    import hashlib

    lines = ["Grüße", "zwei"]
    assert lines_hash(lines) == hashlib.sha256("Grüße\nzwei\n".encode()).hexdigest()


def test_tokenizer_fingerprint():
    tokenizers = pytest.importorskip("tokenizers")
    from tokenizers.models import WordLevel

    t = tokenizers.Tokenizer(WordLevel({"a": 0, "[UNK]": 1}, unk_token="[UNK]"))
    fp = tokenizer_fingerprint(t)
    assert len(fp) == 64 and fp == tokenizer_fingerprint(t)
    assert tokenizer_fingerprint(_CountingTokenizer()) == "toy-v1"
    with pytest.raises(TypeError):
        tokenizer_fingerprint(object())
