"""``ronbun experiment table5``: GPT-1's Table 5 as data (the paper's numbers, one change per row), every row of
a task fine-tuned for the same budget and seeds, and a tiny run that writes the JSON, the Markdown and the
figure and is not trained twice."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest

from ronbun.experiments import finetuning
from ronbun.experiments.finetuning import RECIPES, Recipe, task_budget
from ronbun.experiments.table5 import PAPER_COLUMNS, ROWS, TASKS, Table5Config, run_table5, table_units

PAPER = {row.name: row for row in ROWS}


# -- the row table ---------------------------------------------------------------------------------------
def test_the_table_has_the_papers_four_rows_and_eight_columns():
    assert [r.method for r in ROWS] == [
        "Transformer w/ aux LM (full)",
        "Transformer w/o pre-training",
        "Transformer w/o aux LM",
        "LSTM w/ aux LM",
    ]
    assert list(PAPER_COLUMNS) == ["cola", "sst2", "mrpc", "stsb", "qqp", "mnli", "qnli", "rte"]
    assert (PAPER["full"].paper["cola"], PAPER["full"].paper["sst2"], PAPER["full"].paper["rte"]) == (
        45.4,
        91.3,
        56.0,
    )
    assert PAPER["no_pretraining"].paper["stsb"] == 30.9 and PAPER["no_aux_lm"].paper["mrpc"] == 84.9
    for row in ROWS:  # the printed average is the unweighted mean of the eight columns (to rounding)
        assert statistics.fmean(row.paper.values()) == pytest.approx(row.paper_avg, abs=0.07)


def test_each_ablation_changes_one_thing_of_the_full_method():
    full = PAPER["full"].settings
    assert full == {"aux_lm": 0.5}  # Eq. 5's λ
    assert PAPER["no_pretraining"].settings == {**full, "from_scratch": True}
    assert PAPER["no_aux_lm"].settings == {**full, "aux_lm": 0.0}
    assert not PAPER["lstm"].measured and "no LSTM" in PAPER["lstm"].note
    assert TASKS == ("cola", "sst2", "mrpc", "rte")


def test_every_row_of_a_task_gets_the_same_budget_and_seeds(tiny_gpt1):
    cfg = Table5Config(init=str(tiny_gpt1["init"]), data_dir=str(tiny_gpt1["glue"]), seeds=3, quick=True)
    budgets = {t: {"updates": u} for t, u in (("sst2", 7), ("rte", 5))}
    units = table_units(cfg, ["full", "no_pretraining", "no_aux_lm"], budgets, "CKPT")
    assert len(units) == 3 * (3 + 1)  # three SST-2 seeds, one RTE seed by default
    by_key = {u.key: u for u in units}
    for row in ("full", "no_pretraining", "no_aux_lm"):
        for seed in range(3):
            unit = by_key[f"{row}/sst2/seed{seed}"]
            assert (unit.trainer["max_steps"], unit.trainer["seed"]) == (7, seed)
        assert by_key[f"{row}/rte/seed0"].trainer["max_steps"] == 5
    assert by_key["no_pretraining/sst2/seed0"].data["from_scratch"] is True
    assert by_key["no_pretraining/sst2/seed0"].data["init"] == "CKPT"  # its architecture and tokenizer
    assert by_key["no_aux_lm/rte/seed0"].data["aux_lm"] == 0.0
    assert all(u.trainer["eval_every"] == 0 and u.trainer["lr"] == RECIPES["quick"].lr for u in units)


def test_the_uniform_budget_is_the_papers_three_epochs_of_32_capped(tiny_gpt1):
    glue, uniform = str(tiny_gpt1["glue"]), {"lr": 1e-4, "declared": False}
    uncapped = task_budget("sst2", glue, Recipe("t", max_updates=None, **uniform))
    assert (uncapped["train_examples"], uncapped["paper_updates"], uncapped["updates"]) == (12, 3, 3)
    capped = task_budget("sst2", glue, Recipe("t", max_updates=2, **uniform))
    assert (capped["paper_updates"], capped["updates"], capped["lr"]) == (3, 2, 1e-4)
    assert capped["epochs"] == pytest.approx(2 * 32 / 12)
    assert task_budget("mrpc", glue, Recipe("t", max_updates=None, limit=5, **uniform))["train_examples"] == 5


def test_a_task_trains_with_the_setting_its_declaration_chose_on_a_holdout(tiny_gpt1):
    """The full recipe gives SST-2 and RTE the updates and learning rate chosen on their holdouts (as
    `ronbun gpt finetune --task X` does) and CoLA, which declares none, 3 epochs at lr 1e-4; asking for a
    uniform learning rate or cap puts every task on it."""
    from ronbun.gpt.tasks import get_task

    glue = str(tiny_gpt1["glue"])
    budgets = {t: task_budget(t, glue, RECIPES["full"]) for t in ("sst2", "rte", "cola")}
    for task in ("sst2", "rte"):
        declared = get_task(task).finetune
        assert (budgets[task]["updates"], budgets[task]["lr"]) == (declared["max_steps"], declared["lr"])
        assert budgets[task]["chosen_by"].startswith("the task's declaration")
    assert (budgets["sst2"]["updates"], budgets["rte"]["updates"], budgets["rte"]["lr"]) == (
        1761,
        187,
        6.25e-5,
    )
    assert (budgets["cola"]["updates"], budgets["cola"]["lr"]) == (3, 1e-4)
    units = table_units(Table5Config(init="CKPT", data_dir=glue), ["full"], {"rte": budgets["rte"]}, "CKPT")
    assert (units[0].trainer["max_steps"], units[0].trainer["lr"]) == (187, 6.25e-5)
    for given in ({"lr": 6.25e-5}, {"max_updates": 500}, {"limit": 8}):
        recipe = Table5Config(init="CKPT", data_dir=glue, **given).recipe()
        assert not recipe.declared and task_budget("sst2", glue, recipe)["updates"] != 1761


def test_unknown_rows_and_tasks_are_named_before_any_work(tmp_path, tiny_gpt1):
    common = {"init": str(tiny_gpt1["init"]), "data_dir": str(tiny_gpt1["glue"])}
    with pytest.raises(ValueError, match="unknown Table 5 row.*lstm"):
        run_table5(Table5Config(**common, out=str(tmp_path / "a"), rows="full,lstm"))
    with pytest.raises(ValueError, match="unknown task.*qqp"):
        run_table5(Table5Config(**common, out=str(tmp_path / "b"), tasks="qqp"))
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


# -- a tiny run --------------------------------------------------------------------------------------------
def tiny_config(tiny_gpt1, out: Path, **over) -> Table5Config:
    return Table5Config(
        init=str(tiny_gpt1["run"]),  # a run directory: its newest checkpoint
        data_dir=str(tiny_gpt1["glue"]),
        out=str(out),
        quick=True,
        max_updates=2,
        seeds=2,
        threads=1,
        precision="fp32",
        **over,
    )


def test_a_tiny_table_writes_the_json_the_markdown_and_the_figure(tmp_path, tiny_gpt1):
    lines: list[str] = []
    summary = run_table5(tiny_config(tiny_gpt1, tmp_path / "t5"), log=lines.append)
    saved = json.loads((tmp_path / "t5" / "table5.json").read_text(encoding="utf-8"))
    assert saved == json.loads(json.dumps(summary, ensure_ascii=False))
    assert saved["init"].endswith("step_00000002")
    assert [t["task"] for t in saved["tasks"]] == ["cola", "sst2", "mrpc", "rte"]
    assert all(t["updates"] == 2 for t in saved["tasks"])
    rows = {r["row"]: r for r in saved["rows"]}
    assert [r["measured"] for r in saved["rows"]] == [True, True, True, False]
    full = rows["full"]["scores"]
    assert full["sst2"]["metric"] == "accuracy" and full["sst2"]["accuracy"]["n"] == 2
    assert full["cola"]["metric"] == "mcc" and full["cola"]["mcc"]["n"] == 1
    assert set(full["mrpc"]) >= {"f1", "accuracy"}
    seeds = [s["accuracy"] for s in full["sst2"]["seeds"].values()]
    assert full["sst2"]["accuracy"]["mean"] == pytest.approx(statistics.fmean(seeds))
    assert all(0 <= s <= 100 for s in seeds)
    assert all(s["updates"] == 2 for s in full["rte"]["seeds"].values())
    pretraining = next(e for e in saved["effects"] if e["effect"] == "pretraining")
    assert pretraining["tasks"]["rte"]["ours"] == pytest.approx(
        full["rte"]["accuracy"]["mean"] - rows["no_pretraining"]["scores"]["rte"]["accuracy"]["mean"]
    )
    assert pretraining["tasks"]["cola"]["paper"] == pytest.approx(45.4 - 18.9)
    assert rows["lstm"]["avg"] is None and rows["lstm"]["paper_avg_measured_tasks"] == pytest.approx(
        (30.3 + 90.5 + 83.2 + 54.6) / 4
    )
    markdown = (tmp_path / "t5" / "table5.md").read_text(encoding="utf-8")
    assert "| Transformer w/o pre-training |" in markdown and "| LSTM w/ aux LM | — | 30.3 |" in markdown
    assert (tmp_path / "t5" / "table5.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "t5" / "runs" / "no_aux_lm" / "mrpc" / "seed0" / "result.json").is_file()
    assert any("Transformer w/ aux LM (full)" in line for line in lines)


def test_measured_runs_are_not_trained_again(tmp_path, tiny_gpt1, monkeypatch):
    cfg = tiny_config(tiny_gpt1, tmp_path / "t5", tasks="rte", rows="full")
    first = run_table5(cfg, log=lambda _: None)

    def no_training(*args, **kwargs):
        raise AssertionError("a measured run was trained again")

    monkeypatch.setattr(finetuning, "finetune_unit", no_training)
    lines: list[str] = []
    again = run_table5(cfg, log=lines.append)
    assert again["rows"] == first["rows"]
    assert any("measured before" in line for line in lines)
    with pytest.raises(ValueError, match="another recipe"):  # another learning rate is another table
        run_table5(tiny_config(tiny_gpt1, tmp_path / "t5", tasks="rte", rows="full", lr=3e-4))
