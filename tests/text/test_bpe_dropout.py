"""BPE-dropout (Provilkov et al., 2020) as a training-time regulariser of the translation task: plain BPE at
p = 0, lossless random segmentations at p > 0, and every epoch a pure function of (seed, epoch)."""

from __future__ import annotations

import numpy as np
import pytest

from ronbun.data.registry import load_dataset
from ronbun.text.bpe import TextTokenizer
from ronbun.text.bpe_dropout import BPEDropout

TEXTS = [
    "A man rides a horse.",
    "Zwei Männer stehen vor einem großen Gebäude und unterhalten sich.",
    "  spaces  and\ttabs, UPPER and lower case, 123 numbers; ümlauts – and ‘quotes’!",
    "aaaa bbbb aaaa",
]


@pytest.fixture(scope="module")
def tokenizer() -> TextTokenizer:
    corpus = TEXTS * 20 + [f"sentence number {i} about a horse and a man" for i in range(200)]
    return TextTokenizer.train(corpus, vocab_size=400)


def test_with_p_zero_it_is_plain_bpe_exactly_as_the_tokenizers_encoder(tokenizer):
    plain = BPEDropout(tokenizer, 0.0)
    assert [plain.encode(t) for t in TEXTS] == tokenizer.encode_batch(TEXTS)
    assert plain.encode_epoch(TEXTS, seed=0, epoch=3) == tokenizer.encode_batch(TEXTS)


def test_without_a_generator_it_is_plain_bpe_whatever_p(tokenizer):
    assert [BPEDropout(tokenizer, 0.5).encode(t) for t in TEXTS] == tokenizer.encode_batch(TEXTS)


def test_plain_bpe_matches_the_tokenizers_encoder_on_real_multi30k(shared_data):
    src, tgt = load_dataset("multi30k", "en", "de", data_dir=shared_data / "multi30k", splits=("valid",))[
        "valid"
    ]
    tok = TextTokenizer.train([*src, *tgt], vocab_size=2000)
    plain = BPEDropout(tok, 0.0)
    texts = [*src, *tgt]
    assert [plain.encode(t) for t in texts] == tok.encode_batch(texts)


def test_a_dropped_out_segmentation_is_lossless_and_longer(tokenizer):
    segmenter = BPEDropout(tokenizer, 0.3)
    texts = TEXTS * 10
    random_ids = segmenter.encode_epoch(texts, seed=0, epoch=0)
    plain_ids = tokenizer.encode_batch(texts)
    assert tokenizer.decode_batch(random_ids) == tokenizer.decode_batch(plain_ids)  # the same text back
    assert all(0 <= i < tokenizer.vocab_size for ids in random_ids for i in ids)
    assert sum(map(len, random_ids)) > sum(map(len, plain_ids))  # fewer merges applied
    assert len({tuple(x) for x in random_ids[: len(TEXTS) * 10 : len(TEXTS)]}) > 1  # occurrences differ


def test_p_close_to_one_leaves_almost_only_single_symbols(tokenizer):
    ids = BPEDropout(tokenizer, 0.99).encode_epoch(["a horse and a man"] * 5, seed=0, epoch=0)
    assert np.mean([len(x) for x in ids]) > 0.9 * len("Ġa Ġhorse Ġand Ġa Ġman".replace(" ", ""))


def test_an_epoch_is_a_pure_function_of_seed_and_epoch(tokenizer):
    segmenter = BPEDropout(tokenizer, 0.2)
    first = segmenter.encode_epoch(TEXTS * 5, seed=7, epoch=2)
    assert BPEDropout(tokenizer, 0.2).encode_epoch(TEXTS * 5, seed=7, epoch=2) == first  # another instance
    assert segmenter.encode_epoch(TEXTS * 5, seed=7, epoch=3) != first
    assert segmenter.encode_epoch(TEXTS * 5, seed=8, epoch=2) != first


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5])
def test_a_probability_outside_0_1_is_refused(tokenizer, p):
    with pytest.raises(ValueError, match="BPE-dropout probability"):
        BPEDropout(tokenizer, p)


@pytest.fixture
def task_with(tiny_translation_task):
    """A tiny translation task on 120 generated pairs with the given BPE-dropout."""

    def make(tmp_path, bpe_dropout: float):
        return tiny_translation_task(
            tmp_path, n_train=120, vocab_size=300, max_tokens=400, bpe_dropout=bpe_dropout
        )

    return make


def test_the_translation_task_resegments_its_training_text_every_epoch(tmp_path, task_with):
    task = task_with(tmp_path, 0.2)
    train = task.splits["train"]
    epochs = []
    for epoch in (0, 1):
        batches = task.epoch_batches(epoch)
        assert sorted(np.concatenate(batches).tolist()) == sorted(task.train_index.tolist())  # each pair once
        tensors = [task.collate(b) for b in batches]
        assert all(t["src"].shape[0] * t["src"].shape[1] <= 400 for t in tensors)  # the budget holds
        epochs.append(task._epoch_ids)
    assert epochs[0] != epochs[1]
    src_ids, tgt_ids = epochs[0]
    assert task.tokenizer.decode_batch(src_ids) == task.tokenizer.decode_batch(train.src_ids)
    assert sum(map(len, tgt_ids)) > sum(map(len, train.tgt_ids))
    # the same epoch again, in a new task (a resumed run): the same segmentation and batches
    again = task_with(tmp_path / "again", 0.2)
    assert [b.tolist() for b in again.epoch_batches(1)] == [b.tolist() for b in task.epoch_batches(1)]
    assert again._epoch_ids == epochs[1]


def test_without_bpe_dropout_the_task_trains_on_the_cached_plain_segmentation(tmp_path, task_with):
    task = task_with(tmp_path, 0.0)
    batch = task.epoch_batches(0)[0]
    t = task.collate(batch)
    train = task.splits["train"]
    assert t["src"].shape[1] == max(len(train.src_ids[i]) for i in batch)
    assert task._epoch_ids is None
