"""GPT-1 pre-training (§3.1, §4.1): corpora, the memory-mapped token stream, random contiguous windows that
depend only on (seed, epoch), and a tiny model whose LM loss (Eq. 1) drops on the built-in text."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest
import torch

from ronbun.gpt.corpus import CorpusConfig, TokenStream, build_token_stream, corpus_key, load_corpus
from ronbun.gpt.pretrain import (
    PRETRAIN_TRAINER_DEFAULTS,
    LMDataConfig,
    LMTask,
    default_warmup,
    evaluate_stream,
    stream_windows,
    window_starts,
)
from ronbun.models.decoder_only import GPTConfig
from ronbun.training.loop import Trainer, TrainerConfig


def small_task(out, **data) -> LMTask:
    cfg = LMDataConfig(builtin_sentences=600, batch_size=8, eval_windows=8, **data)
    return LMTask(
        cfg,
        out_dir=out,
        preset="tiny",
        model_overrides={"n_ctx": 32, "d_model": 32, "n_heads": 2, "d_ff": 64},
        log=lambda m: None,
    )


@pytest.fixture(scope="module")
def task(tmp_path_factory) -> LMTask:
    return small_task(tmp_path_factory.mktemp("lm"))


def test_windows_are_contiguous_slices_of_the_stream(task):
    batch = task.epoch_batches(0)[0]
    t = task.collate(batch)
    ids = np.asarray(task.train_stream.ids)
    assert t["inputs"].shape == t["targets"].shape == (8, 32)
    for row, start in enumerate(batch):
        window = torch.from_numpy(ids[start : start + 33].astype(np.int64))
        assert torch.equal(t["inputs"][row], window[:-1])
        assert torch.equal(t["targets"][row], window[1:])  # next-token targets (Eq. 1)
    assert int(t["n_tokens"]) == 8 * 32


def test_windows_depend_only_on_seed_and_epoch():
    a = window_starts(10_000, 32, 64, 8, seed=3, epoch=5)
    assert a.shape == (8, 8)
    assert np.array_equal(a, window_starts(10_000, 32, 64, 8, seed=3, epoch=5))
    assert not np.array_equal(a, window_starts(10_000, 32, 64, 8, seed=3, epoch=6))
    assert not np.array_equal(a, window_starts(10_000, 32, 64, 8, seed=4, epoch=5))
    many = window_starts(100, 32, 4000, 8, seed=0, epoch=0)
    assert many.min() == 0 and many.max() == 100 - 33  # every full window can be drawn, none overruns


def test_an_epoch_is_tokens_over_n_ctx_windows(task):
    assert task.windows_per_epoch == -(-len(task.train_stream) // 32)
    assert len(task.epoch_batches(1)) == task.windows_per_epoch // 8


class _UniformLM(torch.nn.Module):
    """Equal logits for every token of a ``vocab``-token vocabulary (perplexity = ``vocab``); remembers its inputs."""

    def __init__(self, vocab: int) -> None:
        super().__init__()
        self.anchor = torch.nn.Parameter(torch.zeros(1))
        self.vocab, self.inputs = vocab, []

    def forward(self, x):  # (B, T) -> (B, T, V)
        self.inputs.append(x.clone())
        return torch.zeros(*x.shape, self.vocab)


@pytest.mark.parametrize("n_tokens", [2, 129, 257, 1000])
def test_held_out_evaluation_predicts_every_token_after_the_first_exactly_once(n_tokens):
    starts, skips = stream_windows(n_tokens, 128)
    length = min(128, n_tokens - 1)
    predicted = [p for s, k in zip(starts, skips, strict=True) for p in range(s + 1 + k, s + 1 + length)]
    assert sorted(predicted) == list(range(1, n_tokens))  # the stream's end included, nothing twice
    stream = TokenStream(np.arange(n_tokens, dtype=np.uint16) % 50)
    metrics = evaluate_stream(_UniformLM(50), stream, 128)
    assert metrics["valid_tokens"] == n_tokens - 1
    assert metrics["valid_ppl"] == pytest.approx(50.0)


def test_a_held_out_sample_is_spread_over_the_whole_stream_not_its_beginning():
    model = _UniformLM(50)
    stream = TokenStream(np.arange(10_000, dtype=np.uint16) % 50)
    metrics = evaluate_stream(model, stream, 128, batch_size=64, max_windows=5)
    first = [int(row[0]) for batch in model.inputs for row in batch]  # the first token of each window
    assert len(first) == 5 and first[0] == 0 and first[-1] == (10_000 - 129) % 50
    starts, _ = stream_windows(10_000, 128, max_windows=5)
    assert starts[0] == 0 and starts[-1] == 10_000 - 129 and np.all(np.diff(starts) > 2_000)
    assert metrics["valid_tokens"] < 5 * 128 + 1


def test_the_token_stream_is_memory_mapped_and_cached(tmp_path, task):
    assert isinstance(task.train_stream.ids, np.memmap) and task.train_stream.ids.dtype == np.uint16
    # A second task over the same corpus and tokenizer reads the cached stream without touching the text.
    again = build_token_stream(
        task.train_stream.path.parent,
        "train",
        corpus_key(task.data.corpus_config()),
        task.tokenizer,
        lambda: pytest.fail("the corpus was read again"),
    )
    assert again.from_cache and np.array_equal(np.asarray(again.ids), np.asarray(task.train_stream.ids))


def test_a_second_run_starts_from_the_cache(tmp_path):
    first = small_task(tmp_path)
    second = small_task(tmp_path)
    assert not first.train_stream.from_cache and second.train_stream.from_cache
    assert np.array_equal(np.asarray(first.train_stream.ids), np.asarray(second.train_stream.ids))


def test_lines_are_separated_by_the_line_break_token(task):
    newline = task.tokenizer.tokenizer.token_to_id("Ċ")
    first = load_corpus(task.data.corpus_config())["train"][0]
    ids = np.asarray(task.train_stream.ids[:40]).tolist()
    assert ids[: ids.index(newline)] == task.tokenizer.encode(first)


def test_pretraining_a_tiny_model_lowers_the_loss(tmp_path):
    task = small_task(tmp_path)
    cfg = TrainerConfig(
        **{
            **PRETRAIN_TRAINER_DEFAULTS,
            "out_dir": str(tmp_path),
            "max_steps": 30,
            "warmup": 3,
            "lr": 3e-3,
            "log_every": 5,
            "eval_every": 0,
            "save_every": 0,
            "progress": False,
        }
    )
    assert (cfg.betas, cfg.eps, cfg.weight_decay, cfg.schedule) == ((0.9, 0.999), 1e-8, 0.01, "cosine")
    before = task.evaluate(task.model.eval())["valid_loss"]
    result = Trainer(task, cfg, log=lambda m: None).fit()
    train = [
        r["loss"]
        for r in map(json.loads, (tmp_path / "metrics.jsonl").read_text().splitlines())
        if r["split"] == "train"
    ]
    assert train[-1] < train[0] - 1.0
    assert result["metrics"]["valid_loss"] < before - 1.0
    saved = json.loads((tmp_path / "checkpoints" / "step_00000030" / "task_config.json").read_text())
    assert saved["task"] == "gpt_pretrain" and saved["tokenizer"]["kind"] == "bpe"


def test_warmup_is_the_papers_2000_unless_the_run_is_short():
    assert default_warmup(100_000) == 2000
    assert default_warmup(500) == 50


def test_vocabulary_mismatch_is_refused(tmp_path):
    with pytest.raises(ValueError, match="vocabulary mismatch"):
        LMTask(
            LMDataConfig(builtin_sentences=300),
            GPTConfig.preset("tiny", vocab_size=50),
            out_dir=tmp_path,
            log=lambda m: None,
        )


def test_a_corpus_too_short_for_one_window_is_refused(tmp_path):
    text = tmp_path / "t.txt"
    text.write_text("a b c\nd e f\n")
    with pytest.raises(ValueError, match="fewer than one window"):
        LMTask(
            LMDataConfig(train_file=str(text), valid_file=str(text), vocab_size=300),
            out_dir=tmp_path / "o",
            log=lambda m: None,
        )


def test_plain_text_files_hold_out_their_tail(tmp_path):
    text = tmp_path / "t.txt"
    text.write_text("".join(f"line {i}\n" for i in range(100)))
    splits = load_corpus(CorpusConfig(train_file=str(text), valid_fraction=0.1))
    assert splits["train"][-1] == "line 89" and splits["valid"] == [f"line {i}" for i in range(90, 100)]


def test_brown_tags_are_stripped(tmp_path):
    z = tmp_path / "brown.zip"
    with zipfile.ZipFile(z, "w") as f:
        for i in range(10):
            f.writestr(f"brown/ca{i + 1:02d}", f"\n\n\tThe/at jury/nn said/vbd ``/`` doc{i}/np ''/'' ./.\n\n")
        f.writestr("brown/README", "not a document")
    splits = load_corpus(CorpusConfig(corpus="brown", data_dir=str(tmp_path)))
    assert splits["train"][0] == 'The jury said " doc0 " .'
    assert splits["valid"] == ['The jury said " doc9 " .']  # every tenth document


def test_the_penn_treebank_sample_is_read_as_raw_sentences_with_every_tenth_article_held_out(tmp_path):
    z = tmp_path / "treebank.zip"
    with zipfile.ZipFile(z, "w") as f:
        for i in range(20):
            f.writestr(f"treebank/raw/wsj_{i + 1:04d}", f".START \n\nArticle {i} begins.\nIt ends.  \n\n")
        f.writestr("treebank/combined/wsj_0001.mrg", "(S (NP trees are not text))")
    splits = load_corpus(CorpusConfig(corpus="ptb_sample", data_dir=str(tmp_path)))
    assert splits["train"][:2] == ["Article 0 begins.", "It ends."]
    assert splits["valid"] == ["Article 9 begins.", "It ends.", "Article 19 begins.", "It ends."]


def test_named_corpora_need_their_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="tiny_shakespeare"):
        load_corpus(CorpusConfig(corpus="tiny_shakespeare", data_dir=str(tmp_path)))
    with pytest.raises(ValueError, match="unknown corpus"):
        load_corpus(CorpusConfig(corpus="books"))


def test_shared_corpora_load(shared_data):
    shakespeare = load_corpus(CorpusConfig(corpus="tiny_shakespeare", data_dir=str(shared_data)))
    n = sum(len(x) + 1 for x in shakespeare["train"]) / sum(
        len(x) + 1 for s in shakespeare.values() for x in s
    )
    assert 0.89 < n < 0.91 and shakespeare["train"][0] == "First Citizen:"
    wiki = load_corpus(CorpusConfig(corpus="wikitext2", data_dir=str(shared_data)), eval_only=True)
    assert set(wiki) == {"valid", "test"}


def test_gpt1_original_bpe_is_usable_and_recorded(tmp_path, shared_data):
    import ronbun.api

    task = small_task(
        tmp_path, tokenizer="gpt1", bpe_dir=str(shared_data / "gpt1_bpe"), pre_tokenizer="basic"
    )
    assert task.tokenizer.vocab_size == 40478 and task.model_config.vocab_size == 40478
    assert task.train_stream.ids.dtype == np.uint16 and task.tokenizer_file is None
    assert 40477 in np.asarray(task.train_stream.ids[:200]).tolist()  # GPT-1's "\n</w>" separates lines
    assert sorted(task.extra_checkpoint_files()) == ["encoder_bpe_40000.json", "vocab_40000.bpe"]
    cfg = TrainerConfig(
        **{
            **PRETRAIN_TRAINER_DEFAULTS,
            "out_dir": str(tmp_path),
            "max_steps": 1,
            "warmup": 1,
            "eval_every": 0,
            "save_every": 0,
            "progress": False,
        }
    )
    Trainer(task, cfg, log=lambda m: None).fit()
    lm = ronbun.api.load(tmp_path)  # finds the BPE files through task_config.json
    assert type(lm.tokenizer).__name__ == "GPT1Tokenizer" and lm.tokenizer.backend == "basic"
    assert lm.generate("the dog", 3, seed=0).startswith("the dog")


def test_resuming_gives_the_same_model_as_an_uninterrupted_run(tmp_path):
    from ronbun.training.checkpoint import load_tensors

    def trainer(out, steps, resume=False):
        cfg = TrainerConfig(
            **{
                **PRETRAIN_TRAINER_DEFAULTS,
                "out_dir": str(out),
                "max_steps": steps,
                "warmup": 2,
                "lr": 1e-3,
                "eval_every": 0,
                "save_every": 3,
                "progress": False,
                "schedule_total": 6,
            }
        )
        return Trainer(small_task(out), cfg, resume=resume, log=lambda m: None)

    trainer(tmp_path / "a", 6).fit()
    trainer(tmp_path / "b", 3).fit()
    trainer(tmp_path / "b", 6, resume=True).fit()
    a = load_tensors(tmp_path / "a" / "checkpoints" / "step_00000006" / "model.safetensors")
    b = load_tensors(tmp_path / "b" / "checkpoints" / "step_00000006" / "model.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)
