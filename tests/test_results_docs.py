"""docs/results.md cannot drift from the runs: its tables are generated from the committed JSON summaries in
results/, and the committed page equals what the generator makes of them."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("results_docs", ROOT / "experiments" / "results_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _evaluation(cased: float, lc: float) -> dict:
    return {
        "raw": {"sacrebleu": cased, "chrf": 60.0, "sacrebleu_signature": "nrefs:1|case:mixed"},
        "lowercase_tokenised": {"tokenised_bleu": lc},
    }


def _summary(seed: int, cased: float) -> dict:
    return {
        "name": "multi30k",
        "command": "experiments/multi30k.sh",
        "date": "2026-12-02",
        "machine": {"cpu": "Test CPU", "cores": 2, "threads": 2, "torch": "2.13.0", "sacrebleu": "2.6.0"},
        "seed": seed,
        "updates": 3000,
        "train_seconds": 600.0,
        "wall_seconds": 660.0,
        "validation_curve": [{"step": 3000, "valid_bleu": 30.0}],
        "evaluations": {"averaged_test_beam4": _evaluation(cased, cased + 0.5)},
    }


def test_the_tables_are_rendered_from_the_json_summaries(tmp_path):
    gen = _generator()
    (tmp_path / "multi30k.json").write_text(json.dumps(_summary(0, 41.23)))
    for seed, score in enumerate((38.0, 39.0, 40.0)):
        (tmp_path / f"multi30k_15min_s{seed}.json").write_text(json.dumps(_summary(seed, score)))
    page = (
        "intro\n<!-- generated:multi30k -->\nold\n<!-- /generated:multi30k -->\nmiddle\n"
        "<!-- generated:multi30k-seeds -->\nold\n<!-- /generated:multi30k-seeds -->\nend\n"
    )
    out = gen.render(page, tmp_path)
    assert out.startswith("intro\n") and "\nmiddle\n" in out and out.endswith("end\n")
    assert "**41.23**" in out and "**41.73**" in out  # cased and lc-tok of the averaged beam-4 row
    assert "**39.00 ± 1.00**" in out  # mean ± sd of the three seeds
    assert "old" not in out
    assert gen.render(out, tmp_path) == out  # idempotent
    resumed = {**_summary(0, 41.23), "note": "trained in two parts, resumed at update 1,500"}
    (tmp_path / "multi30k.json").write_text(json.dumps(resumed))
    assert "(trained in two parts, resumed at update 1,500)" in gen.render(page, tmp_path)  # said beside it


def test_the_decoding_chosen_on_valid_names_the_metric_that_chose_it(tmp_path):
    """A literature-mode model (lower-cased tokenised text) is chosen by lc-tok BLEU, and its row says so."""
    gen = _generator()
    evaluations = {
        "alpha_choice": {
            "metric": "lc-tok BLEU",
            "beam": "8",
            "alpha": "0.6",
            "candidates_by_beam": {"4": {"0.6": 40.1}, "8": {"0.6": 40.7}},
        },
        "averaged_test_beam8_alpha0.6": _evaluation(30.0, 41.2),
        "averaged_valid_beam8_alpha0.6": _evaluation(31.0, 40.7),
    }
    test_row, valid_row = gen.alpha_rows(evaluations)
    assert "beam and α chosen on valid by lc-tok BLEU: beam 4: α 0.6 40.10; beam 8: α 0.6 40.70" in test_row
    assert "| 30.00 | 41.20 |" in test_row and "| valid | 31.00 | 40.70 |" in valid_row
    cased = {**evaluations, "alpha_choice": {**evaluations["alpha_choice"], "metric": "cased sacreBLEU"}}
    assert "chosen on valid: beam 4" in gen.alpha_rows(cased)[0]  # the recipe's own rows read as before
    literature = {
        **_summary(0, 7.5),
        "evaluations": {**evaluations, "averaged_test_beam4": _evaluation(7.5, 39.3)},
    }
    assert "| test2016 | 7.50 | **39.30** |" in gen.mt_table(
        literature
    )  # its uncased output is not a headline


def test_an_ensemble_chosen_on_valid_is_named_in_its_row_with_every_candidate():
    """experiments/multi30k_alpha.sh may choose the last 5 checkpoints as an ensemble over their average: the
    rows say which model decoded, and the choice lists every model's candidates."""
    gen = _generator()
    beams = {"4": {"1.5": 40.1}, "8": {"1.5": 40.3}}
    evaluations = {
        "alpha_choice": {
            "metric": "cased sacreBLEU",
            "model": "ensemble",
            "beam": "8",
            "alpha": "1.5",
            "candidates_by_beam": {"4": {"1.5": 40.5}, "8": {"1.5": 40.8}},
            "candidates_by_model": {"averaged": beams, "ensemble": {"4": {"1.5": 40.5}, "8": {"1.5": 40.8}}},
        },
        "ensemble_test_beam8_alpha1.5": _evaluation(39.9, 40.4),
        "ensemble_valid_beam8_alpha1.5": _evaluation(40.8, 40.9),
    }
    test_row, valid_row = gen.alpha_rows(evaluations)
    assert test_row.startswith(
        "| ensemble of the last 5 (probabilities averaged) | beam 8, α 1.5 (model, beam"
    )
    assert (
        "average of the last 5, beam 4: α 1.5 40.10; average of the last 5, beam 8: α 1.5 40.30" in test_row
    )
    assert "ensemble of the last 5 (probabilities averaged), beam 8: α 1.5 40.80" in test_row
    assert "| 39.90 | 40.40 |" in test_row and "| valid | 40.80 | 40.90 |" in valid_row


def test_the_ensemble_table_sets_each_candidate_beside_the_average_and_bolds_the_choice():
    gen = _generator()
    by_model = {"averaged": {"4": {"0.6": 39.5, "1.5": 40.1}}, "ensemble": {"4": {"0.6": 39.7, "1.5": 40.0}}}
    choice = {"model": "averaged", "beam": "4", "alpha": "1.5", "candidates_by_model": by_model}
    evaluations = {
        "alpha_choice": choice,
        "averaged_test_beam4_alpha1.5": _evaluation(39.3, 39.6),
        "ensemble10_valid_beam4_alpha1.5": _evaluation(39.9, 40.0),
    }
    table = gen.ensemble_table({**_summary(0, 39.0), "evaluations": evaluations})
    assert "| 4 | 0.6 | 39.50 | 39.70 | +0.20 |" in table
    assert "| 4 | 1.5 | **40.10** | 40.00 | -0.10 |" in table
    assert "test2016 at the choice 39.30 cased / 39.60 lc-tok BLEU" in table
    assert "the last 10 checkpoints as one ensemble, beam 4, α 1.5: 39.90" in table


def test_seeds_of_different_precisions_are_never_pooled(tmp_path):
    gen = _generator()
    runs = []
    for seed, (score, precision) in enumerate(((38.0, "fp32"), (39.0, "bf16"), (41.0, "bf16"))):
        runs.append({**_summary(seed, score), "settings": {"trainer": {"precision": precision}}})
    table = gen.seeds_table(runs)
    assert "| 0 | fp32 |" in table and "| 1 | bf16 |" in table
    assert "**mean ± sd (2 seeds)** | bf16 | | **40.00 ± 1.41**" in table  # bf16 seeds only
    assert "fp32 | | **" not in table  # one fp32 seed: no spread to give


def test_an_empty_block_is_filled(tmp_path):
    gen = _generator()
    (tmp_path / "multi30k.json").write_text(json.dumps(_summary(0, 41.23)))
    out = gen.render("a\n<!-- generated:multi30k -->\n<!-- /generated:multi30k -->\nb\n", tmp_path)
    assert "**41.23**" in out and out.startswith("a\n") and out.endswith("<!-- /generated:multi30k -->\nb\n")
    assert gen.render(out, tmp_path) == out


def test_the_committed_results_page_matches_the_committed_summaries():
    gen = _generator()
    page = (ROOT / "docs" / "results.md").read_text(encoding="utf-8")
    assert gen.render(page, ROOT / "results") == page, "docs/results.md is stale: run `make results-docs`"


def _gpt_summaries() -> tuple[dict, dict]:
    """A pre-training summary (experiments/gpt1_pretrain.sh) and an SST-2 one (experiments/gpt1_sst2.sh)."""
    machine = {"cpu": "Test CPU", "cores": 2, "threads": 2, "torch": "2.13.0", "tokenizers": "0.23.3"}
    pretrain = {
        "command": "experiments/gpt1_pretrain.sh",
        "date": "2026-12-02",
        "machine": machine,
        "seed": 0,
        "updates": 759,
        "train_seconds": 780.0,
        "wall_seconds": 900.0,
        "settings": {
            "preset": "small",
            "model": {"n_ctx": 128},
            "data": {"vocab_size": 8000, "lowercase": True, "batch_size": 32},
            "trainer": {
                "lr": 6e-4,
                "warmup": 100,
                "schedule": "cosine",
                "schedule_total": 1000,
                "max_steps": 759,
            },
        },
        "corpus": {
            "train": {"words": 1_646_871},
            "sources": {
                "brown": {"heldout_text": "Brown, every tenth document", "heldout": {"words": 115_803}}
            },
            "evaluation_only": {
                "wikitext2": {"heldout_text": "WikiText-2 test", "heldout": {"words": 241_211}}
            },
        },
        "evaluations": {
            "wikitext2": {"tokens": 300_000, "perplexity": 412.345},
            "brown": {"tokens": 140_000, "perplexity": 201.04},
        },
    }

    def scores(*values: float) -> dict[str, dict[str, float]]:
        return {str(seed): {"accuracy": v} for seed, v in enumerate(values)}

    variant = {"label": "pre-trained", "dev": scores(80.0, 81.0, 82.0), "accuracy": {"mean": 81.0, "sd": 1.0}}
    scratch = {
        "label": "random initialisation",
        "dev": scores(70.0, 71.0, 72.0),
        "accuracy": {"mean": 71.0, "sd": 1.0},
    }
    grid = [
        {"lr": 1e-4, "clf_dropout": 0.1, "updates": 681, "epochs": 0.333, "holdout": {"accuracy": 79.5}},
        {"lr": 1e-4, "clf_dropout": 0.1, "updates": 1022, "epochs": 0.5, "holdout": {"accuracy": 80.25}},
    ]
    sst2 = {
        "command": "experiments/gpt1_sst2.sh",
        "date": "2026-12-03",
        "machine": {**machine, "threads": 1},
        "wall_seconds": 3600.0,
        "train_seconds": 3000.0,
        "task": "sst2",
        "metrics": ["accuracy"],
        "seeds": [0, 1, 2],
        "lr": 1e-4,
        "clf_dropout": 0.1,
        "updates": 1022,
        "train_examples": 65_349,
        "batch_size": 32,
        "dev_examples": 872,
        "selection": {
            "holdout_examples": 2000,
            "seed": 0,
            "metric": "accuracy",
            "rule": "highest holdout accuracy",
            "grid": grid,
            "chosen": {"lr": 1e-4, "clf_dropout": 0.1, "updates": 1022},
        },
        "variants": {"pretrained": variant, "scratch": scratch},
        "pretraining_gain": {"accuracy": 10.0},
        "pretraining": {"command": "experiments/gpt1_pretrain.sh", "date": "2026-12-02"},
        "runs": {"a": {}, "b": {}},
    }
    return pretrain, sst2


GPT_PAGE = (
    "<!-- generated:gpt-pretrain -->\nstale 230.8\n<!-- /generated:gpt-pretrain -->\n"
    "<!-- generated:gpt-sst2 -->\nstale 80.24\n<!-- /generated:gpt-sst2 -->\n"
)


def test_the_gpt_tables_are_rendered_from_their_summaries(tmp_path):
    gen = _generator()
    pretrain, sst2 = _gpt_summaries()
    (tmp_path / "gpt1_pretrain.json").write_text(json.dumps(pretrain))
    (tmp_path / "gpt1_sst2.json").write_text(json.dumps(sst2))
    out = gen.render(GPT_PAGE, tmp_path)
    assert "| Brown, every tenth document | 115,803 | 140,000 | **201.0** |" in out  # the corpus' order
    assert out.index("Brown") < out.index("| WikiText-2 test | 241,211 | 300,000 | **412.3** |")
    assert "stopped at 759" in out and "759 updates in 13.0 min of training, 15.0 min wall" in out
    assert (
        "| 0.0001 | 0.1 | **1,022** (chosen) | 0.50 | **80.25** |" in out
        and "| 0.0001 | 0.1 | 681 | 0.33 | 79.50 |" in out
    )
    assert "| pre-trained | 80.00 | 81.00 | 82.00 | **81.00 ± 1.00** |" in out
    assert "872 examples" in out and "**+10.00** points" in out
    assert "stale" not in out and gen.render(out, tmp_path) == out
    assert "cap stopped it" not in out
    pretrain["updates"], pretrain["settings"]["trainer"]["max_minutes"] = 700, 120.0
    (tmp_path / "gpt1_pretrain.json").write_text(json.dumps(pretrain))
    assert "the 120-minute cap stopped it at update 700" in gen.render(out, tmp_path)  # a stopped run says so


def test_a_gpt_table_not_yet_run_names_its_command_instead_of_showing_numbers(tmp_path):
    out = _generator().render(GPT_PAGE, tmp_path)
    assert "_not yet run: `experiments/gpt1_pretrain.sh`_" in out
    assert "_not yet run: `experiments/gpt1_sst2.sh`_" in out
    assert "230.8" not in out and "80.24" not in out


def test_the_choice_of_pretrained_model_is_rendered_with_its_holdout_scores(tmp_path):
    def candidate(name: str, schedule: int, ppl: float, acc: float) -> dict:
        finetuning = {
            "settings": {"trainer": {"lr": 1e-4, "max_steps": 2043, "seed": 0}, "data": {"holdout": 2000}}
        }
        return {"name": name, "schedule_total": schedule, "updates": 759, "perplexity": {"brown": ppl},
                "holdout_accuracy": acc, "holdout_examples": 2000, "finetuning": finetuning}  # fmt: skip

    summary = {
        "command": "experiments/gpt1_pretrain_choice.sh",
        "date": "2026-12-02",
        "machine": {"cpu": "Test CPU", "cores": 2, "torch": "2.13.0"},
        "wall_seconds": 600.0,
        "rule": "highest SST-2 holdout accuracy",
        "candidates": [candidate("recipe", 1000, 214.5, 85.45), candidate("annealed", 759, 205.0, 84.9)],
        "chosen": "recipe",
    }
    (tmp_path / "gpt1_pretrain_choice.json").write_text(json.dumps(summary))
    page = "<!-- generated:gpt-pretrain-choice -->\nold\n<!-- /generated:gpt-pretrain-choice -->\n"
    out = _generator().render(page, tmp_path)
    assert "| **`recipe`** (chosen) | 1,000 | 759 | 214.5 | **85.45** |" in out
    assert "| `annealed` | 759 | 759 | 205.0 | 84.90 |" in out
    assert "2,000-example holdout, lr 0.0001, 2,043 updates, seed 0" in out
    assert "changes to the recipe" not in out  # every candidate has the recipe's shape
    summary["candidates"][1]["changes"] = {"n_layers": "8", "d_model": "192"}
    (tmp_path / "gpt1_pretrain_choice.json").write_text(json.dumps(summary))
    out = _generator().render(page, tmp_path)
    assert "| **`recipe`** (chosen) | – | 1,000 | 759 | 214.5 | **85.45** |" in out
    assert "| `annealed` | n_layers=8 d_model=192 | 759 | 759 | 205.0 | 84.90 |" in out


def test_figure2_is_rendered_from_its_summary(tmp_path):
    """The zero-shot panel (§5, Figure 2 right): one row per pre-training checkpoint, raw and normalised."""
    heuristic = {"name": "sentiment", "label": "sentiment (SST-2 dev)", "metric": "accuracy"}
    scores = {"sentiment": {"value": 0.52, "normalised": 0.04}}
    summary = {
        "command": "ronbun experiment figure2 --pretrain-run runs/p --panel right",
        "date": "2026-12-03",
        "machine": {"cpu": "Test CPU", "threads": 1, "torch": "2.13.0"},
        "parallel": 1,
        "pretrain_run": "runs/p",
        "recipe": {"name": "cpu", "lr": 1e-4},
        "precision": "fp32",
        "left": None,
        "right": {
            "heuristics": [heuristic],
            "normalisation": "(score − chance) / (1 − chance)",
            "options": {"limit": None, "threshold_examples": 2000},
            "checkpoints": [{"step": 250, "scores": scores}, {"step": 1500, "scores": scores}],
        },
    }
    (tmp_path / "figure2.json").write_text(json.dumps(summary))
    out = _generator().render("<!-- generated:figure2 -->\n<!-- /generated:figure2 -->\n", tmp_path)
    assert "| 1,500 | 0.5200 (+0.040) |" in out and "every example" in out
    assert (
        "#### Right: zero-shot heuristics" in out and "# GPT-1 Figure 2" not in out
    )  # under the page's headings


def test_the_transfer_overview_puts_every_task_and_model_side_by_side(tmp_path):
    """One row per task's summary: pre-trained, random initialisation and (where run) no auxiliary LM, each as
    mean ± sd, the gain of pre-training and the target it is measured against."""
    _, sst2 = _gpt_summaries()
    sst2.update(name="gpt1_sst2", pretraining={"name": "gpt1_pretrain", "init": "runs/gpt1_pretrain"})
    mrpc = {
        **sst2,
        "name": "gpt1_mrpc_u4000",
        "task": "mrpc",
        "metrics": ["f1", "accuracy"],
        "lr": 6.25e-5,
        "updates": 297,
        "variants": {
            "pretrained": {"f1": {"mean": 81.5, "sd": 0.4}, "accuracy": {"mean": 71.2, "sd": 0.5}},
            "scratch": {"f1": {"mean": 81.2, "sd": 0.0}, "accuracy": {"mean": 68.4, "sd": 0.0}},
        },
        "pretraining_gain": {"f1": 0.3, "accuracy": 2.8},
    }
    for s in (sst2, mrpc):
        (tmp_path / f"{s['name']}.json").write_text(json.dumps(s))
    page = "<!-- generated:gpt-transfer-overview -->\n<!-- /generated:gpt-transfer-overview -->\n"
    out = _generator().render(page, tmp_path)
    assert (
        "| SST-2 (dev, accuracy) | `gpt1_pretrain` | lr 0.0001, 1,022 updates | **81.0 ± 1.0** | 71.0 ± 1.0 | — | "
        "+10.0 | ≥ 80, ≥ +3 |" in out
    )
    assert (
        "| MRPC (dev, F1 / accuracy) | `gpt1_pretrain` | lr 6.25e-05, 297 updates | **81.5 ± 0.4 / 71.2 ± 0.5** | "
        "81.2 ± 0.0 / 68.4 ± 0.0 | — | +0.3 / +2.8 | F1 ≥ 82 / ≥ 72, ≥ +3 |" in out
    )
    assert out.index("SST-2 (dev") < out.index("MRPC (dev")  # the order of the page: SST-2, RTE, MRPC
    assert "`results/gpt1_sst2.json`, `results/gpt1_mrpc_u4000.json`" in out


def test_a_summary_of_the_holdout_step_alone_shows_its_choice_and_stays_out_of_the_overview(tmp_path):
    """``CHOOSE_ONLY=1`` writes the grids and the chosen pre-trained model but no dev score: its section shows the
    choice and says dev is still to come; the overview, which compares dev scores, leaves it out."""

    def candidate(name: str, scores: tuple[float, float]) -> dict:
        grid = [
            {"lr": 3e-4, "clf_dropout": 0.1, "updates": u, "holdout": {"accuracy": a}}
            for u, a in zip((881, 1761), scores, strict=True)
        ]
        best = max(grid, key=lambda g: g["holdout"]["accuracy"])
        return {
            "pretraining": {"init": f"runs/{name}", "name": name, "command": "experiments/gpt1_pretrain.sh"},
            "chosen": {k: best[k] for k in ("lr", "clf_dropout", "updates")},
            "holdout": best["holdout"],
            "grid": grid,
        }

    summary = {
        "name": "gpt1_sst2_u8000",
        "command": "CHOOSE_ONLY=1 experiments/gpt1_sst2.sh",
        "date": "2026-12-05",
        "machine": {"cpu": "Test CPU", "torch": "2.13.0"},
        "wall_seconds": 300.0,
        "task": "sst2",
        "selection": {
            "split": "holdout",
            "holdout_examples": 1000,
            "seed": 0,
            "metric": "accuracy",
            "rule": "highest holdout accuracy",
            "pretraining_candidates": [candidate("long", (79.1, 81.6)), candidate("short", (80.5, 81.2))],
            "picked": "runs/long",
        },
    }
    (tmp_path / "gpt1_sst2_u8000.json").write_text(json.dumps(summary))
    page = (
        "<!-- generated:gpt-sst2-u8000 -->\n<!-- /generated:gpt-sst2-u8000 -->\n"
        "<!-- generated:gpt-transfer-overview -->\n<!-- /generated:gpt-transfer-overview -->\n"
    )
    out = _generator().render(page, tmp_path)
    assert "| SST-2 | **`long`** (chosen) | 79.1 (0.0003 × 881) · 81.6 (0.0003 × 1,761) |" in out
    assert "| SST-2 | `short` | 80.5 (0.0003 × 881) · 81.2 (0.0003 × 1,761) |" in out
    assert "_dev not scored yet" in out
    assert "SST-2 (dev, accuracy)" not in out  # no overview row without a dev score


def test_a_task_whose_new_candidate_lost_the_holdout_is_not_shown_twice_in_the_overview(tmp_path):
    """A later summary whose holdout chose the same pre-trained model and setting as an earlier row reports the
    same runs: the overview names it once, beside the row it repeats, instead of a second identical row."""
    _, sst2 = _gpt_summaries()
    first = {**sst2, "name": "gpt1_sst2_u4000_chosen", "pretraining": {"name": "u4000", "init": "runs/u4000"}}
    again = {**first, "name": "gpt1_sst2_u8000"}
    for s in (first, again):
        (tmp_path / f"{s['name']}.json").write_text(json.dumps(s))
    page = "<!-- generated:gpt-transfer-overview -->\n<!-- /generated:gpt-transfer-overview -->\n"
    out = _generator().render(page, tmp_path)
    assert out.count("| SST-2 (dev, accuracy) | `u4000` |") == 1
    assert (
        "`results/gpt1_sst2_u8000.json` chose the model and setting of `results/gpt1_sst2_u4000_chosen.json`"
        in out
    )
    again["pretraining"] = {"name": "u8000", "init": "runs/u8000"}  # another model chosen: a row of its own
    (tmp_path / "gpt1_sst2_u8000.json").write_text(json.dumps(again))
    out = _generator().render(page, tmp_path)
    assert "| SST-2 (dev, accuracy) | `u8000` |" in out and "chose the model and setting" not in out


def test_diagnostics_from_several_pretrained_models_give_one_row_per_model_and_budget():
    """Each summary of experiments/gpt1_diagnostics.sh is a row (its pre-trained model, its fine-tuning updates),
    each diagnostic a column; a diagnostic a summary did not run shows a dash."""

    def summary(name: str, pretrain: str, updates: int, scores: dict[str, float], seed: str = "") -> dict:
        return {
            "name": name,
            "command": f"PRETRAIN=runs/{pretrain} NAME={name} {seed}experiments/gpt1_diagnostics.sh",
            "date": "2026-12-05",
            "machine": {"cpu": "Test CPU", "cores": 2, "threads": 1, "torch": "2.13.0"},
            "wall_seconds": 60.0,
            "runs": [
                {
                    "diagnostic": d,
                    "task": t,
                    "metric": "accuracy",
                    "init": "pretrained",
                    "score": v,
                    "updates": updates,
                }
                for (d, t), v in zip(
                    (("similarity_classes", "mrpc"), ("entailment", "rte")), scores.values(), strict=True
                )
                if v is not None
            ]
            + [
                {
                    "diagnostic": "entailment",
                    "task": "rte",
                    "metric": "accuracy",
                    "init": "scratch",
                    "score": 0.99,
                    "updates": 9,
                }
            ],
        }

    table = _generator().diagnostics_by_pretraining_table(
        [
            summary("short", "pre_a", 300, {"s": 0.61, "e": 0.62}),
            summary("long", "pre_a", 2000, {"s": None, "e": 0.80}, seed="SEED=1 "),
        ]
    )
    lines = table.splitlines()
    assert lines[0].startswith(
        "| start of fine-tuning | summary | fine-tuning updates, seed | similarity_classes (`mrpc`"
    )
    assert "| `pre_a` | `short` | 300, 0 | 0.610 | 0.620 |" in lines
    assert "| `pre_a` | `long` | 2,000, 1 | – | 0.800 |" in lines
    # random initialisation is a row of its own under its summary's, never mixed into the pre-trained one
    scratch = "| random init. (shape, tokenizer of `pre_a`) | `short` | 9, 0 | – | 0.990 |"
    assert lines.index(scratch) == lines.index("| `pre_a` | `short` | 300, 0 | 0.610 | 0.620 |") + 1


def test_a_pretraining_run_again_shows_how_much_of_it_came_out_the_same():
    """The reruns table compares a pre-training with the same command run again: validation evaluations that are
    bit for bit equal, and held-out perplexity of both; summaries of two different commands are refused."""
    gen = _generator()
    machine = {
        "cpu": "AMD EPYC",
        "cpu_capability": "AVX512 BF16",
        "cores": 2,
        "threads": 2,
        "torch": "2.13.0+cpu",
    }

    def run(losses: list[float], brown: float, date: str, note: str = "") -> dict:
        curve = [{"step": 250 * (i + 1), "valid_loss": v} for i, v in enumerate(losses)]
        return {"name": "gpt1_x", "command": "UPDATES=500 experiments/gpt1_pretrain.sh", "date": date,
                "machine": machine, "validation_curve": curve,
                "evaluations": {"brown": {"perplexity": brown}}, **({"note": note} if note else {})}  # fmt: skip

    first = run([5.8, 5.4], 223.65784, "2026-12-04", note="resumed at update 250")
    again = run([5.8, 5.4000001], 223.65788, "2026-12-05")
    table = gen.pretraining_reruns_table([(first, again)])
    assert "| 1 of 2 evaluations |" in table  # the second evaluation differs in the seventh digit
    assert "brown 223.65784 → 223.65788" in table
    assert "2026-12-04, AMD EPYC (AVX512 BF16), 2 threads, torch 2.13.0+cpu" in table
    assert "- first run of `gpt1_x`: resumed at update 250" in table
    other = {**again, "command": "UPDATES=501 experiments/gpt1_pretrain.sh"}
    with pytest.raises(ValueError, match="not the same command"):
        gen.pretraining_reruns_table([(first, other)])
    assert gen.pretraining_reruns_table([]) == "_not run yet_"
