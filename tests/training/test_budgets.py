"""Budgets in updates: a recipe stops after a fixed number of optimiser updates and writes, selects and
averages checkpoints by update count, so the same command trains the same model on any machine.  Minutes
are only a safety cap, and a run stopped by it says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from ronbun.training import loop
from ronbun.training.averaging import select_by_steps
from ronbun.training.checkpoint import list_checkpoints
from ronbun.training.loop import Trainer, TrainerConfig, expected_total_steps, stop_message


def test_the_progress_total_is_the_update_budget_when_no_time_cap_is_set():
    assert expected_total_steps(10, 1200, None, train_seconds=5.0, seconds_per_update=0.5) == 1200


def test_the_progress_total_shrinks_to_what_the_time_cap_allows():
    # 0.5 s per update, 1 minute cap, 20 s used after 40 updates: 80 more updates fit → 120 in all
    assert expected_total_steps(40, 1200, 1.0, train_seconds=20.0, seconds_per_update=0.5) == 120
    # a fast machine: the update budget binds first
    assert expected_total_steps(40, 100, 1.0, train_seconds=2.0, seconds_per_update=0.05) == 100
    # before any update was timed, the budget is all we know
    assert expected_total_steps(0, 1200, 1.0, train_seconds=0.0, seconds_per_update=0.0) == 1200


def test_a_resumed_run_estimates_from_its_own_pace():
    # resumed at update 500 with 250 s spent; 10 updates in 5 s since: 0.5 s/update, 45 s of 300 s left
    assert expected_total_steps(510, 2000, 5.0, train_seconds=255.0, seconds_per_update=0.5) == 600


def test_the_summary_says_when_the_time_cap_fired():
    capped = {"step": 300, "stop_reason": "max_minutes", "train_seconds": 61.0}
    assert "safety cap" in stop_message(capped, 1200, 1.0)
    assert "300 of 1,200 updates" in stop_message(capped, 1200, 1.0)
    full = {"step": 1200, "stop_reason": "max_steps", "train_seconds": 240.0}
    assert stop_message(full, 1200, 30.0) == "trained the full budget of 1,200 updates in 4.0 min"


def _steps(*steps: int) -> list[Path]:
    return [Path(f"run/checkpoints/step_{s:08d}") for s in steps]


def test_averaging_selects_by_update_count_after_the_warm_up():
    ckpts = _steps(100, 200, 300, 400, 500, 600, 700, 800)
    assert select_by_steps(ckpts, 5, after=400) == _steps(500, 600, 700, 800)
    assert select_by_steps(ckpts, 3, every=200) == _steps(400, 600, 800)
    assert select_by_steps(ckpts, 2) == _steps(700, 800)
    with pytest.raises(ValueError, match=">= 1"):
        select_by_steps(ckpts, 0)


@pytest.fixture
def tiny_task(tmp_path, tiny_translation_task):
    return tiny_translation_task(tmp_path, vocab_size=200, max_tokens=300)


def test_training_stops_at_the_update_budget_with_checkpoints_by_update_count(
    tiny_task, tmp_path, monkeypatch
):
    totals: list[int] = []

    class RecordingBar:
        def __init__(self, total, initial=0, **kwargs):
            self.total, self.n = total, initial
            totals.append(total)

        def set_postfix(self, **kwargs):
            totals.append(self.total)

        def close(self):
            pass

    import tqdm.auto

    monkeypatch.setattr(tqdm.auto, "tqdm", RecordingBar)
    cfg = TrainerConfig(
        out_dir=str(tmp_path / "run"), max_steps=6, save_every=2, keep_last=10, warmup=2, eval_every=0
    )
    result = Trainer(tiny_task, cfg, log=lambda m: None).fit()
    assert result["step"] == 6 and result["stop_reason"] == "max_steps"
    assert [p.name for p in list_checkpoints(tmp_path / "run")] == [
        "step_00000002",
        "step_00000004",
        "step_00000006",
    ]
    assert totals and set(totals) == {6}  # the bar counts to the real budget


def test_a_run_stopped_by_the_time_cap_says_so(tiny_task, tmp_path, monkeypatch):
    clock = iter(range(0, 10_000, 30))  # every update "takes" 30 s
    monkeypatch.setattr(loop.time, "perf_counter", lambda: float(next(clock)))
    messages: list[str] = []
    cfg = TrainerConfig(
        out_dir=str(tmp_path / "run"), max_steps=50, max_minutes=1.0, warmup=2, eval_every=0, progress=False
    )
    result = Trainer(tiny_task, cfg, log=messages.append).fit()
    assert result["stop_reason"] == "max_minutes" and result["step"] == 2
    assert "safety cap" in result["summary"] and result["summary"] in messages


@pytest.mark.parametrize(("keep_last", "kept"), [(0, [2, 4, 6]), (2, [4, 6])])
def test_keep_last_keeps_the_newest_n_checkpoints_and_zero_keeps_them_all(
    tiny_task, tmp_path, keep_last, kept
):
    cfg = TrainerConfig(
        out_dir=str(tmp_path / "run"),
        max_steps=6,
        save_every=2,
        keep_last=keep_last,
        warmup=2,
        eval_every=0,
        progress=False,
    )
    Trainer(tiny_task, cfg, log=lambda m: None).fit()
    assert [p.name for p in list_checkpoints(tmp_path / "run")] == [f"step_{s:08d}" for s in kept]
