"""Checkpoints as directories: atomic, verified, never unpickled; exact resume; averaging (§6.1)."""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import pytest
import torch

from ronbun import Transformer, TransformerConfig
from ronbun.data.synthetic import write_corpus
from ronbun.mt.task import MTDataConfig, TranslationTask
from ronbun.training.averaging import average_checkpoints, select_by_interval, select_last
from ronbun.training.checkpoint import (
    CheckpointError,
    latest_intact_checkpoint,
    list_checkpoints,
    load_model,
    save_checkpoint,
    verify_checkpoint,
)
from ronbun.training.loop import Trainer, TrainerConfig


def tiny_model(seed: int = 0) -> Transformer:
    torch.manual_seed(seed)
    return Transformer(TransformerConfig.preset("tiny", vocab_size=40))


def test_save_and_load_round_trip_keeps_tying(tmp_path):
    model = tiny_model().eval()
    save_checkpoint(tmp_path / "ck", model)
    loaded = load_model(tmp_path / "ck")
    src, tgt = torch.randint(4, 40, (2, 5)), torch.randint(4, 40, (2, 4))
    assert torch.equal(model(src, tgt), loaded(src, tgt))
    assert loaded.src_embed.tokens is loaded.tgt_embed.tokens


def test_a_torn_or_corrupted_checkpoint_is_detected_by_name(tmp_path):
    save_checkpoint(tmp_path / "ck", tiny_model())
    weights = tmp_path / "ck" / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-10] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"corrupted: sha256 of model.safetensors"):
        verify_checkpoint(tmp_path / "ck")
    weights.write_bytes(bytes(data[:100]))
    with pytest.raises(CheckpointError, match=r"torn: model.safetensors has 100 bytes"):
        load_model(tmp_path / "ck")


def test_pickles_are_refused_not_executed(tmp_path):
    save_checkpoint(tmp_path / "ck", tiny_model())
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (Path.touch, (marker,))

    (tmp_path / "ck" / "model.safetensors").write_bytes(pickle.dumps(Evil()))
    with pytest.raises(CheckpointError, match="pickle"):
        load_model(tmp_path / "ck", verify=False)
    assert not marker.exists()


def test_wrong_model_type_is_a_clear_error(tmp_path):
    save_checkpoint(tmp_path / "ck", tiny_model())
    with pytest.raises(CheckpointError, match="holds a 'transformer' model, but this command needs a 'gpt'"):
        load_model(tmp_path / "ck", expect="gpt")


def test_a_failed_write_leaves_the_old_checkpoint_intact(tmp_path, monkeypatch):
    old = tiny_model(0)
    save_checkpoint(tmp_path / "ck", old)
    import ronbun.training.checkpoint as ck

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(ck, "write_json", boom)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(tmp_path / "ck", tiny_model(1), trainer_state={"step": 1})
    verify_checkpoint(tmp_path / "ck")
    assert torch.equal(load_model(tmp_path / "ck").tgt_embed.tokens.weight, old.tgt_embed.tokens.weight)
    assert [p.name for p in tmp_path.iterdir()] == ["ck"], "no temporary directory left behind"


def test_averaging_k_identical_checkpoints_returns_the_same_checkpoint(tmp_path):
    model = tiny_model()
    paths = [save_checkpoint(tmp_path / f"c{i}", model) for i in range(3)]
    avg = load_model(average_checkpoints(paths, tmp_path / "avg"))
    for (name, a), b in zip(model.state_dict().items(), avg.state_dict().values(), strict=True):
        assert torch.equal(a, b), name


def test_averaging_two_checkpoints_is_their_mean(tmp_path):
    a, b = tiny_model(0), tiny_model(1)
    avg = load_model(
        average_checkpoints(
            [save_checkpoint(tmp_path / "a", a), save_checkpoint(tmp_path / "b", b)], tmp_path / "m"
        )
    )
    w = avg.encoder.layers[0].ffn.w_1.weight
    assert torch.allclose(w, (a.encoder.layers[0].ffn.w_1.weight + b.encoder.layers[0].ffn.w_1.weight) / 2)


def test_checkpoint_selection_by_count_and_by_time_interval(tmp_path):
    model = tiny_model()
    paths = [
        save_checkpoint(tmp_path / f"step_{i}", model, trainer_state={"train_seconds": 60.0 * m})
        for i, m in enumerate([0, 4, 10, 12, 20, 26, 30])
    ]
    assert select_last(paths, 3) == paths[-3:]
    assert [p.name for p in select_by_interval(paths, 5, 10)] == ["step_0", "step_2", "step_4", "step_6"]


# ---- training + exact resume -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("corpus")
    write_corpus(d, n_train=400, n_valid=20, n_test=20, seed=1)
    return d


def make_trainer(
    corpus: Path, out: Path, max_steps: int, resume: bool = False, model_overrides: dict | None = None, **kw
) -> Trainer:
    data = MTDataConfig(
        dataset=None,
        train_src=str(corpus / "train.en"),
        train_tgt=str(corpus / "train.de"),
        valid_src=str(corpus / "valid.en"),
        valid_tgt=str(corpus / "valid.de"),
        vocab_size=300,
        max_tokens=400,
        valid_bleu_sentences=0,
    )
    task = TranslationTask(
        data, out_dir=out, preset="tiny", model_overrides=model_overrides, log=lambda m: None
    )
    cfg = TrainerConfig(
        out_dir=str(out),
        max_steps=max_steps,
        warmup=5,
        lr=2.0,
        eval_every=0,
        save_every=3,
        progress=False,
        precision="fp32",
        **kw,
    )
    return Trainer(task, cfg, resume=resume, log=lambda m: None)


def test_training_lowers_the_loss_and_logs_metrics(corpus, tmp_path):
    trainer = make_trainer(corpus, tmp_path / "run", max_steps=12, log_every=3)
    result = trainer.fit()
    records = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    train = [r for r in records if r["split"] == "train"]
    assert train[-1]["loss"] < train[0]["loss"]
    assert {"loss", "ppl", "lr", "tokens_per_s"} <= set(train[0])
    assert "valid_ppl" in result["metrics"]
    assert len(list_checkpoints(tmp_path / "run")) == 4  # steps 3, 6, 9, 12


def test_resume_continues_exactly_as_an_uninterrupted_run(corpus, tmp_path):
    straight = make_trainer(corpus, tmp_path / "a", max_steps=9)
    straight.fit()
    first = make_trainer(corpus, tmp_path / "b", max_steps=6)
    first.fit()
    resumed = make_trainer(corpus, tmp_path / "b", max_steps=9, resume=True)
    assert resumed.step == 6
    resumed.fit()
    for (name, a), b in zip(
        straight.model.state_dict().items(), resumed.model.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b), f"{name} differs after resume"


def test_resume_forgets_the_metrics_an_interrupted_run_wrote_after_its_last_checkpoint(corpus, tmp_path):
    make_trainer(corpus, tmp_path / "r", max_steps=8, log_every=1).fit()  # checkpoints at 3 and 6 (and 8)
    shutil.rmtree(list_checkpoints(tmp_path / "r")[-1])  # as if killed after step 8's log, before its save
    resumed = make_trainer(corpus, tmp_path / "r", max_steps=8, resume=True, log_every=1)
    assert resumed.step == 6
    resumed.fit()
    lines = (tmp_path / "r" / "metrics.jsonl").read_text().splitlines()
    train_steps = [json.loads(x)["step"] for x in lines if json.loads(x)["split"] == "train"]
    assert train_steps == sorted(set(train_steps)) == list(range(1, 9)), "each step once, in order"


def test_resuming_a_finished_run_changes_nothing(corpus, tmp_path):
    """The same command plus --resume on a run that trained its whole budget (e.g. to rerun a recipe's
    evaluation steps) trains nothing, writes nothing and validates nothing again; it reports the run's last
    validation."""
    make_trainer(corpus, tmp_path / "r", max_steps=7).fit()  # checkpoints at 3, 6 and the final 7
    before = {p: p.read_bytes() for p in (tmp_path / "r").rglob("*") if p.is_file()}
    last = [json.loads(x) for x in (tmp_path / "r" / "metrics.jsonl").read_text().splitlines()][-1]
    result = make_trainer(corpus, tmp_path / "r", max_steps=7, resume=True).fit()
    assert {p: p.read_bytes() for p in (tmp_path / "r").rglob("*") if p.is_file()} == before
    assert result["step"] == 7 and result["stop_reason"] == "max_steps"
    assert last["split"] == "valid" and result["metrics"]["valid_loss"] == last["valid_loss"]


def test_resume_falls_back_to_the_newest_intact_checkpoint(corpus, tmp_path):
    make_trainer(corpus, tmp_path / "r", max_steps=6).fit()
    newest = list_checkpoints(tmp_path / "r")[-1]
    (newest / "optimizer.safetensors").write_bytes(b"torn")
    messages: list[str] = []
    assert latest_intact_checkpoint(tmp_path / "r", messages.append).name == "step_00000003"
    assert "step_00000006" in messages[0]


def test_gradient_accumulation_equals_one_big_batch(corpus, tmp_path, monkeypatch):
    """k micro-batches with the loss normalised by their total token count == one batch of all of them."""
    import numpy as np

    def gradients(micro_count: int, out: Path) -> dict[str, torch.Tensor]:
        trainer = make_trainer(corpus, out, max_steps=1, model_overrides={"dropout": 0.0})
        monkeypatch.setattr(trainer.optimizer, "step", lambda: None)
        monkeypatch.setattr(trainer.optimizer, "zero_grad", lambda set_to_none=True: None)
        batches = trainer.task.epoch_batches(0)[:3]
        micro = [trainer.task.collate(b) for b in batches]
        trainer.train_step(micro if micro_count == 3 else [trainer.task.collate(np.concatenate(batches))])
        return {n: p.grad.clone() for n, p in trainer.model.named_parameters()}

    accumulated, big = gradients(3, tmp_path / "a"), gradients(1, tmp_path / "b")
    for name, g in accumulated.items():
        assert torch.allclose(g, big[name], atol=1e-6), name


def test_non_finite_loss_stops_without_touching_the_weights(corpus, tmp_path, monkeypatch):
    trainer = make_trainer(corpus, tmp_path / "nan", max_steps=3)
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    monkeypatch.setattr(
        trainer.task, "loss", lambda model, t: (torch.tensor(float("nan"), requires_grad=True), t["n_tokens"])
    )
    from ronbun.training.loop import TrainingError

    with pytest.raises(TrainingError, match="non-finite loss"):
        trainer.fit()
    for k, v in trainer.model.state_dict().items():
        assert torch.equal(v, before[k])


def test_unwritable_output_directory_fails_before_training(corpus, tmp_path):
    from ronbun.training.loop import TrainingError

    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises((TrainingError, PermissionError), match="not writable"):
        make_trainer(corpus, blocker / "run", max_steps=1)
