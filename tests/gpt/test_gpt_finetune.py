"""GPT-1 fine-tuning end to end (§3.2, §4.1): a task file → FineTuneTask → Trainer → a checkpoint that
``ronbun.load`` turns back into the same classifier; and the errors a user can run into."""

from __future__ import annotations

import json
import math

import pytest
import torch

import ronbun.api
from ronbun import GPT, GPTConfig, Transformer, TransformerConfig
from ronbun.gpt.finetune import (
    FINETUNE_TRAINER_DEFAULTS,
    FineTuneConfig,
    FineTuneTask,
    predict,
)
from ronbun.gpt.language_model import LanguageModel, TaskModel
from ronbun.gpt.tasks import TaskDataError
from ronbun.text.bpe import TextTokenizer
from ronbun.training.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from ronbun.training.loop import Trainer, TrainerConfig

GOOD = ["a charming and moving film", "wonderful acting and a great story", "a delight from start to end"]
BAD = ["a dull and boring mess", "terrible acting and a weak story", "tedious from start to end"]


def write_sst2(folder, n: int = 24) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for split in ("train", "dev"):
        rows = [f"{(GOOD if i % 2 else BAD)[i % 3]} \t{i % 2}" for i in range(n)]
        (folder / f"{split}.tsv").write_text("sentence\tlabel\n" + "\n".join(rows) + "\n", encoding="utf-8")


def write_story_cloze(folder, n: int = 6) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    head = "InputStoryid,InputSentence1,InputSentence2,InputSentence3,InputSentence4,RandomFifthSentenceQuiz1,RandomFifthSentenceQuiz2,AnswerRightEnding"
    rows = [
        f"id{i},Tom woke up.,He was hungry.,He cooked eggs.,He ate them.,He felt full.,He flew to Mars.,{1 + i % 2}"
        for i in range(n)
    ]
    for split in ("val", "test"):
        (folder / f"cloze_test_{split}__spring2016.csv").write_text(head + "\n" + "\n".join(rows) + "\n")


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    """A tiny 'pre-trained' GPT checkpoint with a byte-level BPE tokenizer (random weights suffice here)."""
    root = tmp_path_factory.mktemp("pre")
    tok = TextTokenizer.train([*GOOD, *BAD, "Tom woke up. He was hungry. He felt full."] * 5, 300)
    tok.save(root / "tokenizer.json")
    torch.manual_seed(0)
    gpt = GPT(GPTConfig.preset("tiny", vocab_size=tok.vocab_size, n_ctx=32, d_model=32, n_heads=2, d_ff=64))
    return save_checkpoint(root / "ckpt", gpt, tokenizer_file=root / "tokenizer.json")


def run(task: FineTuneTask, out, **over) -> dict:
    total = task.total_updates()
    cfg = TrainerConfig(
        **{
            **FINETUNE_TRAINER_DEFAULTS,
            "out_dir": str(out),
            "max_steps": total,
            "warmup": math.ceil(0.002 * total),
            "eval_every": task.batches_per_epoch,
            "save_every": 0,
            "progress": False,
            **over,
        }
    )
    return Trainer(task, cfg, log=lambda m: None).fit()


def test_finetune_save_and_load_roundtrip(tmp_path, pretrained):
    write_sst2(tmp_path / "SST-2")
    cfg = FineTuneConfig(
        task="sst2", data_dir=str(tmp_path), init=str(pretrained), batch_size=8, epochs=2, limit=16
    )
    task = FineTuneTask(cfg, out_dir=tmp_path / "run", log=lambda m: None)
    assert len(task.train_examples) == 16 and task.total_updates() == 4
    assert (task.spec.kind, task.spec.num_labels, task.spec.label_names) == (
        "classification",
        2,
        ("negative", "positive"),
    )
    result = run(task, tmp_path / "run", lr=1e-3)
    assert "valid_accuracy" in result["metrics"]
    # the loss is a mean over examples, but tokens_seen counts the tokens processed (2 epochs of 16 examples)
    tokens_per_epoch = sum(len(s) for example in task.train_examples for s in example.sequences)
    assert result["tokens_seen"] == 2 * tokens_per_epoch > 2 * 16
    ckpt = tmp_path / "run" / "checkpoints" / "step_00000004"
    saved = json.loads((ckpt / "task_config.json").read_text())
    assert (
        saved["task"] == "gpt_finetune" and saved["head"]["special"]["extract"] == task.spec.special.extract
    )

    model = load_checkpoint(tmp_path / "run", expect="gpt+head").model  # a run: its newest checkpoint
    assert model.config.n_special == 3
    for a, b in zip(model.state_dict().values(), task.model.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    loaded = ronbun.api.load(ckpt)
    assert isinstance(loaded, TaskModel)
    expected, _ = predict(task.model, task.eval_examples)
    assert loaded.predict([ex for ex in task.eval_data.examples]) == expected.tolist()
    assert loaded.predict(["a great story"], names=True)[0] in ("negative", "positive")
    assert loaded.evaluate(task.eval_data) == {"accuracy": result["metrics"]["valid_accuracy"]}
    assert isinstance(loaded.score("a great story"), float)  # still a language model


def test_multiple_choice_task_trains(tmp_path, pretrained):
    write_story_cloze(tmp_path / "sc")
    cfg = FineTuneConfig(
        task="story_cloze", data_dir=str(tmp_path / "sc"), init=str(pretrained), batch_size=4, epochs=1
    )
    task = FineTuneTask(cfg, out_dir=tmp_path / "run", log=lambda m: None)
    t = task.collate(task.epoch_batches(0)[0])
    assert t["input_ids"].shape[:2] == (4, 2) and t["labels"].tolist() == [
        task.train_labels[i] for i in task.epoch_batches(0)[0]
    ]
    result = run(task, tmp_path / "run")
    assert 0.0 <= result["metrics"]["valid_accuracy"] <= 1.0


def test_from_scratch_without_a_checkpoint_trains_its_own_tokenizer(tmp_path):
    write_sst2(tmp_path / "SST-2")
    cfg = FineTuneConfig(
        task="sst2", data_dir=str(tmp_path), from_scratch=True, vocab_size=300, batch_size=8, epochs=1
    )
    task = FineTuneTask(
        cfg,
        out_dir=tmp_path / "run",
        model_overrides={"n_ctx": 32, "d_model": 32, "n_heads": 2},
        log=lambda m: None,
    )
    assert (tmp_path / "run" / "tokenizer.json").is_file() and task.init_dir is None
    run(task, tmp_path / "run", max_steps=1)


def test_random_initialisation_does_not_depend_on_the_weights_of_the_checkpoint_named(tmp_path, pretrained):
    """Table 5's "w/o pre-training" with ``--init CKPT --from-scratch`` takes only the tokenizer and shape from
    CKPT: two checkpoints with other weights give the same fine-tuned model, so a random-initialisation run is
    shared by every pre-trained model of that tokenizer and shape (the transfer tables reuse it)."""
    write_sst2(tmp_path / "SST-2")
    other = load_checkpoint(pretrained, expect="gpt")
    torch.manual_seed(123)  # the same shape and tokenizer, other weights
    gpt = GPT(other.model.config)
    pairs = zip(gpt.parameters(), other.model.parameters(), strict=True)
    assert not any(torch.equal(a, b) for a, b in pairs if a.dim() == 2)  # every weight matrix differs
    second = save_checkpoint(tmp_path / "other", gpt, tokenizer_file=pretrained / "tokenizer.json")
    finals = []
    for i, init in enumerate((pretrained, second)):
        cfg = FineTuneConfig(
            task="sst2", data_dir=str(tmp_path), init=str(init), from_scratch=True, batch_size=8, epochs=1
        )
        task = FineTuneTask(cfg, out_dir=tmp_path / f"run{i}", seed=3, log=lambda m: None)
        run(task, tmp_path / f"run{i}", lr=1e-3)
        finals.append(task.model.state_dict())
    assert all(torch.equal(finals[0][k], finals[1][k]) for k in finals[0])


def test_truncation_is_counted(tmp_path, pretrained):
    folder = tmp_path / "SST-2"
    folder.mkdir()
    long = " ".join(["wonderful"] * 40)
    for split in ("train", "dev"):
        (folder / f"{split}.tsv").write_text(f"sentence\tlabel\n{long}\t1\nshort one\t0\n")
    task = FineTuneTask(
        FineTuneConfig(task="sst2", data_dir=str(tmp_path), init=str(pretrained)),
        out_dir=tmp_path / "r",
        log=lambda m: None,
    )
    assert task.train_stats.truncated_examples == 1 and task.train_stats.max_length == 32
    assert task.describe()["truncation"]["train"]["truncated_examples"] == 1


# -- errors ------------------------------------------------------------------------------------------------------
def test_missing_columns_and_unknown_labels_are_clear_errors(tmp_path, pretrained):
    folder = tmp_path / "SST-2"
    folder.mkdir()
    (folder / "train.tsv").write_text("text\tlabel\nfine\t1\n")
    with pytest.raises(TaskDataError, match=r"train.tsv:1: missing column\(s\) 'sentence'"):
        FineTuneTask(
            FineTuneConfig(task="sst2", data_dir=str(tmp_path), init=str(pretrained)), out_dir=tmp_path / "r"
        )
    (folder / "train.tsv").write_text("sentence\tlabel\nfine\t1\nbad\tpositive\n")
    with pytest.raises(TaskDataError, match=r"train.tsv:3: unknown label 'positive'"):
        FineTuneTask(
            FineTuneConfig(task="sst2", data_dir=str(tmp_path), init=str(pretrained)), out_dir=tmp_path / "r"
        )


def test_a_transformer_checkpoint_cannot_be_fine_tuned_as_gpt(tmp_path):
    write_sst2(tmp_path / "SST-2")
    ckpt = save_checkpoint(tmp_path / "mt", Transformer(TransformerConfig.preset("tiny", vocab_size=40)))
    with pytest.raises(
        CheckpointError, match="holds a 'transformer' model, but this command needs a 'gpt' model"
    ):
        FineTuneTask(
            FineTuneConfig(task="sst2", data_dir=str(tmp_path), init=str(ckpt)), out_dir=tmp_path / "r"
        )


def test_vocabulary_mismatch_between_tokenizer_and_model_is_refused(tmp_path, pretrained):
    write_sst2(tmp_path / "SST-2")
    small = save_checkpoint(
        tmp_path / "small",
        GPT(GPTConfig.preset("tiny", vocab_size=20, n_ctx=32)),
        tokenizer_file=pretrained / "tokenizer.json",
    )
    with pytest.raises(CheckpointError, match="vocabulary mismatch"):
        FineTuneTask(
            FineTuneConfig(task="sst2", data_dir=str(tmp_path), init=str(small)), out_dir=tmp_path / "r"
        )
    with pytest.raises(CheckpointError, match="vocabulary mismatch"):
        ronbun.api.load(small)


def test_pretrained_and_finetuned_checkpoints_are_told_apart(tmp_path, pretrained):
    assert type(ronbun.api.load(pretrained)) is LanguageModel
    with pytest.raises(CheckpointError, match="without a task head"):
        load_checkpoint(pretrained, expect="gpt+head")
    with pytest.raises(CheckpointError, match="not a ronbun checkpoint"):
        ronbun.api.load(tmp_path)


def test_needs_init_or_from_scratch(tmp_path):
    write_sst2(tmp_path / "SST-2")
    with pytest.raises(ValueError, match="--init CHECKPOINT"):
        FineTuneTask(FineTuneConfig(task="sst2", data_dir=str(tmp_path)), out_dir=tmp_path / "r")


def test_fine_tuning_learns_a_separable_toy_task(tmp_path, pretrained):
    write_sst2(tmp_path / "SST-2")
    cfg = FineTuneConfig(task="sst2", data_dir=str(tmp_path), init=str(pretrained), batch_size=8, epochs=10)
    task = FineTuneTask(cfg, out_dir=tmp_path / "run", log=lambda m: None)
    before = task.evaluate(task.model)["valid_accuracy"]
    after = run(task, tmp_path / "run", lr=1e-2)["metrics"]["valid_accuracy"]
    assert after == 1.0 and before < 1.0


def test_batches_group_examples_of_similar_length_and_still_cover_the_epoch(tmp_path, pretrained):
    """Length grouping (the default) cuts padding; every example is still seen exactly once per epoch, the
    batches are the same on every run, and `--no-group-by-length` keeps the plain shuffle."""
    folder = tmp_path / "SST-2"
    folder.mkdir()
    words = ["good", "bad", "film", "plot", "story", "acting", "long", "short"]
    rows = [" ".join(words[: 1 + (i * 7) % 8] * (1 + i % 5)) + f"\t{i % 2}" for i in range(400)]
    for split in ("train", "dev"):
        (folder / f"{split}.tsv").write_text("sentence\tlabel\n" + "\n".join(rows) + "\n", encoding="utf-8")

    def padding(group: bool) -> tuple[int, list]:
        cfg = FineTuneConfig(
            task="sst2", data_dir=str(tmp_path), init=str(pretrained), batch_size=8, group_by_length=group
        )
        task = FineTuneTask(cfg, out_dir=tmp_path / f"run{group}", log=lambda m: None)
        batches = task.epoch_batches(0)
        assert sorted(int(i) for b in batches for i in b) == list(range(400))  # each example once
        lengths = [len(ex.sequences[0]) for ex in task.train_examples]
        return sum(len(b) * max(lengths[i] for i in b) - sum(lengths[i] for i in b) for b in batches), batches

    grouped, batches = padding(True)
    plain, _ = padding(False)
    assert grouped < plain / 3
    _, again = padding(True)
    assert all((a == b).all() for a, b in zip(batches, again, strict=True))


def test_a_task_fine_tunes_with_the_settings_its_declaration_chose_on_a_holdout(
    tmp_path, pretrained, monkeypatch
):
    """`ronbun gpt finetune --task X` takes X's holdout-chosen lr, budget and classifier dropout by default;
    a flag still wins, and --epochs replaces the chosen budget."""
    import dataclasses as dc

    from ronbun.gpt import commands, tasks
    from ronbun.settings import RunSettings

    chosen = {"lr": 2e-3, "max_steps": 3, "clf_dropout": 0.2, "chosen_by": "a test"}
    monkeypatch.setitem(tasks.TASKS, "sst2", dc.replace(tasks.TASKS["sst2"], finetune=chosen))
    write_sst2(tmp_path / "SST-2")
    messages: list[str] = []

    def resolved(data: dict, trainer: dict, name: str) -> dict:
        out = tmp_path / name
        base = {"task": "sst2", "data_dir": str(tmp_path), "init": str(pretrained), "batch_size": 8}
        settings = RunSettings(
            data={**base, **data}, trainer={"out_dir": str(out), "progress": False, **trainer}
        )
        commands.finetune(settings, log=messages.append)
        return json.loads((out / "run_config.json").read_text())

    cfg = resolved({}, {}, "defaults")
    assert (cfg["trainer"]["lr"], cfg["trainer"]["max_steps"], cfg["data"]["clf_dropout"]) == (2e-3, 3, 0.2)
    assert any("chosen on a holdout: a test" in m for m in messages)
    assert any("3 updates of 8 = 1.00 epochs of 24 examples" in m for m in messages)  # the budget it runs
    cfg = resolved({"clf_dropout": 0.0}, {"lr": 1e-4}, "flags")
    assert (cfg["trainer"]["lr"], cfg["trainer"]["max_steps"], cfg["data"]["clf_dropout"]) == (1e-4, 3, 0.0)
    cfg = resolved({"epochs": 2.0}, {}, "epochs")  # 24 examples / 8 = 3 updates per epoch
    assert (cfg["trainer"]["max_steps"], cfg["trainer"]["lr"]) == (6, 2e-3)
    cfg = resolved({"limit": 16}, {}, "limit")  # a subset: the chosen budget was for the whole split
    assert (cfg["trainer"]["max_steps"], cfg["trainer"]["lr"]) == (6, 2e-3)  # 3 epochs of 16 / 8
