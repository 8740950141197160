"""Table 5 of GPT-1 (Radford et al., 2018, §5 "Ablation studies") at CPU scale: ``ronbun experiment table5``.

The paper fine-tunes the same pre-trained Transformer three ways and reports each GLUE task's dev metric:
the full method (pre-trained, auxiliary LM objective λ = 0.5, Eq. 5), the same Transformer **without
pre-training** (randomly initialised, trained on the task alone) and **without the auxiliary LM** (λ = 0),
plus an LSTM with the auxiliary LM.  :data:`ROWS` is the table, the paper's eight columns beside each row.

Here the three Transformer rows are measured on the four GLUE tasks in the shared data: CoLA (Matthews
correlation), SST-2 (accuracy), MRPC (F1, and accuracy) and RTE (accuracy), each run through
:mod:`ronbun.experiments.finetuning` (``ronbun gpt finetune`` with settings fixed in advance, scored on dev
once).  "Without pre-training" keeps the pre-trained model's architecture and tokenizer but none of its
weights (``--from-scratch --init CKPT``), and λ = 0.5, so it differs from the full row in the weights alone.
Every row of a task trains the same number of updates (:func:`~ronbun.experiments.finetuning.task_budget`)
with the same seeds: 3 for SST-2, 1 for the others by default.  ronbun has no LSTM: that row shows the
paper's numbers only.

``OUT/runs/ROW/TASK/seedS/`` holds each run and its ``result.json``; a run whose result exists is not trained
again (resumable; a result measured with another recipe is an error).  ``OUT/table5.json``, ``table5.md`` and
``table5.png`` hold the table beside the paper's, the two effects the table isolates (pre-training, the
auxiliary LM) as differences between rows, and a bar chart of both tables.
"""

from __future__ import annotations

import dataclasses
import json
import statistics
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..settings import setting
from .finetuning import FineTuneRunsConfig, Recipe, Unit, make_unit, run_units, seed_summary, task_budget
from .units import Log, as_given, say

__all__ = [
    "PAPER_COLUMNS",
    "ROWS",
    "TASKS",
    "Row",
    "Table5Config",
    "effects",
    "run_table5",
    "table_units",
]

# -- the paper's table -------------------------------------------------------------------------------------
#: Table 5's columns: task → the metric the paper reports (mc = Matthews correlation, pc = Pearson).
PAPER_COLUMNS: dict[str, str] = {
    "cola": "mc",
    "sst2": "acc",
    "mrpc": "F1",
    "stsb": "pc",
    "qqp": "F1",
    "mnli": "acc",
    "qnli": "acc",
    "rte": "acc",
}
TASK_NAMES = {"cola": "CoLA", "sst2": "SST-2", "mrpc": "MRPC", "stsb": "STS-B", "qqp": "QQP",
              "mnli": "MNLI", "qnli": "QNLI", "rte": "RTE"}  # fmt: skip
#: The tasks measured here (the GLUE tasks of the shared data), in the paper's column order.
TASKS: tuple[str, ...] = ("cola", "sst2", "mrpc", "rte")
#: The measured metric of each task (``compute_metrics`` names): the paper's, then the companion shown.
METRICS: dict[str, tuple[str, ...]] = {
    "cola": ("mcc",),
    "sst2": ("accuracy",),
    "mrpc": ("f1", "accuracy"),
    "rte": ("accuracy",),
}


@dataclass(frozen=True)
class Row:
    """One row of Table 5: the paper's method, its eight dev scores (×100; ``paper_avg`` their unweighted
    mean as printed), and how ronbun fine-tunes it (:class:`~ronbun.gpt.finetune.FineTuneConfig` settings;
    ``None``: not measured, ``note`` says why)."""

    name: str
    method: str
    paper: dict[str, float]
    paper_avg: float
    settings: dict[str, Any] | None
    note: str = ""

    @property
    def measured(self) -> bool:
        return self.settings is not None


def _paper(*values: float) -> dict[str, float]:
    return dict(zip(PAPER_COLUMNS, values, strict=True))


ROWS: tuple[Row, ...] = (
    Row("full", "Transformer w/ aux LM (full)", _paper(45.4, 91.3, 82.3, 82.0, 70.3, 81.8, 88.1, 56.0), 74.7,
        {"aux_lm": 0.5}),
    Row("no_pretraining", "Transformer w/o pre-training",
        _paper(18.9, 84.0, 79.4, 30.9, 65.5, 75.7, 71.2, 53.8), 59.9, {"from_scratch": True, "aux_lm": 0.5}),
    Row("no_aux_lm", "Transformer w/o aux LM", _paper(47.9, 92.0, 84.9, 83.2, 69.8, 81.1, 86.9, 54.4), 75.0,
        {"aux_lm": 0.0}),
    Row("lstm", "LSTM w/ aux LM", _paper(30.3, 90.5, 83.2, 71.8, 68.1, 73.7, 81.1, 54.6), 69.1, None,
        "not measured: ronbun has no LSTM (the paper's is a single layer of 2048 units)"),
)  # fmt: skip
ROW_BY_NAME = {row.name: row for row in ROWS}
MEASURED = tuple(row.name for row in ROWS if row.measured)
#: The effects the rows isolate: ``(name, what, with, without)`` — the row with the ingredient minus the one
#: without it.
EFFECTS: tuple[tuple[str, str, str, str], ...] = (
    ("pretraining", "pre-training (full − w/o pre-training)", "full", "no_pretraining"),
    ("aux_lm", "auxiliary LM objective (full − w/o aux LM)", "full", "no_aux_lm"),
)


def select(spec: str | None, known: Sequence[str], what: str) -> list[str]:
    """The names in ``spec`` (comma-separated; ``None`` = all of ``known``) in ``known``'s order."""
    if spec is None:
        return list(known)
    wanted = {name.strip().lower() for name in spec.split(",") if name.strip()}
    unknown = sorted(wanted - set(known))
    if unknown or not wanted:
        raise ValueError(
            f"unknown {what} {', '.join(unknown) or '(none given)'}; choose from {', '.join(known)}"
        )
    return [name for name in known if name in wanted]


# -- the run -----------------------------------------------------------------------------------------------
@dataclass(kw_only=True)
class Table5Config(FineTuneRunsConfig):
    """How ``ronbun experiment table5`` runs (the fine-tuning recipe is :class:`FineTuneRunsConfig`'s)."""

    init: str = setting(help="the pre-trained GPT: a checkpoint or a run directory (its newest checkpoint)")
    out: str = setting(
        "runs/table5", "output directory: a run per row, task and seed, table5.json, .md, .png", flag="--out"
    )
    tasks: str | None = setting(None, "comma-separated tasks: cola, sst2, mrpc, rte (default all four)")
    rows: str | None = setting(
        None, "comma-separated rows: full, no_pretraining, no_aux_lm (default all three)"
    )
    seeds: int = setting(3, "SST-2: seeds 0 … N-1 per row")
    other_seeds: int = setting(1, "the other tasks: seeds 0 … N-1 per row")

    def task_seeds(self, task: str) -> list[int]:
        n = self.seeds if task == "sst2" else self.other_seeds
        if n < 1:
            raise ValueError(f"--seeds and --other-seeds must be >= 1, got {n} for {task}")
        return list(range(n))


def table_units(
    cfg: Table5Config, rows: Sequence[str], budgets: Mapping[str, Mapping[str, Any]], init: str
) -> list[Unit]:
    """One fine-tuning run per row, task and seed (``ROW/TASK/seedS``): the task's budget for every row,
    the row's settings, the pre-trained checkpoint ``init`` (its tokenizer only for w/o pre-training)."""
    recipe = cfg.recipe()
    units = []
    for name in rows:
        settings = ROW_BY_NAME[name].settings or {}
        for task, budget in budgets.items():
            for seed in cfg.task_seeds(task):
                data = {"task": task, "init": init, **settings}
                units.append(make_unit(f"{name}/{task}/seed{seed}", data, budget, recipe, cfg, seed))
    return units


def run_table5(cfg: Table5Config, *, command: str = "", log: Log = say) -> dict[str, Any]:
    """Fine-tune every measured row of Table 5 on every task for the task's budget, then print the table
    beside the paper's and write ``table5.json``, ``table5.md`` and ``table5.png`` into ``cfg.out``; returns
    the JSON's content."""
    from ..training.checkpoint import ensure_output_dir, resolve_checkpoint

    rows = select(cfg.rows, MEASURED, "Table 5 row(s)")
    tasks = select(cfg.tasks, TASKS, "task(s)")
    for task in tasks:
        cfg.task_seeds(task)
    init = str(resolve_checkpoint(cfg.init).resolve())  # a run directory: its newest checkpoint, fixed now
    out = ensure_output_dir(cfg.out)
    recipe = cfg.recipe()
    budgets = {task: task_budget(task, cfg.data_dir, recipe) for task in tasks}
    units = table_units(cfg, rows, budgets, init)
    log(
        f"Table 5 at the {recipe.name} scale: {len(rows)} rows × {len(tasks)} tasks, {len(units)} runs from "
        f"{init}; updates per task: " + ", ".join(f"{t} {b['updates']:,}" for t, b in budgets.items())
    )
    results = run_units(units, out, parallel=cfg.parallel, log=log)
    provenance = {
        "command": command,
        "init": as_given(init),
        "data_dir": cfg.data_dir,
        "parallel": cfg.parallel,
    }
    summary = summarise(results, rows, budgets, cfg, recipe, provenance)
    write_reports(summary, out, log)
    return summary


# -- the report --------------------------------------------------------------------------------------------
def _percent(result: Mapping[str, Any], metric: str) -> float:
    return 100.0 * float(result["metrics"][metric])


def row_scores(
    row: str, results: Mapping[str, Mapping[str, Any]], budgets: Mapping[str, Any], cfg: Table5Config
) -> dict[str, Any]:
    """A measured row's scores per task (×100): each metric's seed summary and the per-seed results."""
    scores = {}
    for task in budgets:
        runs = {seed: results[f"{row}/{task}/seed{seed}"] for seed in cfg.task_seeds(task)}
        scores[task] = {
            "metric": METRICS[task][0],
            **{m: seed_summary([_percent(r, m) for r in runs.values()]) for m in METRICS[task]},
            "seeds": {
                str(seed): {
                    **{m: _percent(r, m) for m in METRICS[task]},
                    "updates": r["updates"],
                    "stop_reason": r["stop_reason"],
                    "train_seconds": r["train_seconds"],
                }
                for seed, r in runs.items()
            },
        }
    return scores


def effects(rows: Sequence[Mapping[str, Any]], tasks: Sequence[str]) -> list[dict[str, Any]]:
    """Each effect of :data:`EFFECTS` per task: ours (difference of the rows' means) beside the paper's."""
    by_name = {r["row"]: r for r in rows}
    out = []
    for name, what, with_, without in EFFECTS:
        a, b = by_name.get(with_), by_name.get(without)
        per_task = {}
        for task in tasks:
            ours = None
            if a and b and a["scores"] and b["scores"]:
                metric = METRICS[task][0]
                ours = a["scores"][task][metric]["mean"] - b["scores"][task][metric]["mean"]
            paper = ROW_BY_NAME[with_].paper[task] - ROW_BY_NAME[without].paper[task]
            per_task[task] = {"ours": ours, "paper": paper}
        out.append({"effect": name, "what": what, "tasks": per_task})
    return out


def summarise(
    results: Mapping[str, Mapping[str, Any]],
    measured: Sequence[str],
    budgets: Mapping[str, Mapping[str, Any]],
    cfg: Table5Config,
    recipe: Recipe,
    provenance: Mapping[str, Any],
) -> dict[str, Any]:
    """The JSON of the table: every row of the paper, ours (×100, mean over seeds) beside the paper's, the
    averages over the measured tasks of both, and the two effects."""
    from ..evaluation.provenance import machine_description

    tasks = list(budgets)
    rows = []
    for row in ROWS:
        scores = row_scores(row.name, results, budgets, cfg) if row.name in measured else {}
        avg = statistics.fmean(s[s["metric"]]["mean"] for s in scores.values()) if scores else None
        rows.append(
            {
                "row": row.name,
                "method": row.method,
                "measured": bool(scores),
                "note": row.note if not row.measured else ("" if scores else "not run (--rows)"),
                "settings": row.settings,
                "scores": scores,
                "avg": avg,
                "paper": row.paper,
                "paper_avg_measured_tasks": statistics.fmean(row.paper[t] for t in tasks),
                "paper_avg": row.paper_avg,
            }
        )
    threads = cfg.run_threads()
    return {
        "experiment": "GPT-1 Table 5 (ablations) at CPU scale",
        **provenance,
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
        "machine": machine_description(threads),
        "threads_per_run": threads,
        "recipe": dataclasses.asdict(recipe),
        "precision": cfg.precision,
        "tasks": [
            {
                **budgets[t],
                "label": TASK_NAMES[t],
                "paper_column": PAPER_COLUMNS[t],
                "metrics": list(METRICS[t]),
                "seeds": cfg.task_seeds(t),
            }
            for t in tasks
        ],
        "metrics": "dev split, scored once after the last update; ×100 (CoLA: Matthews correlation; SST-2, "
        "RTE: accuracy; MRPC: F1 of the paraphrase class, and accuracy); the paper: GLUE dev, its 117M model",
        "rows": rows,
        "effects": effects(rows, tasks),
    }


def _cell(score: Mapping[str, Any] | None) -> str:
    if score is None:
        return ""
    if score["n"] > 1:
        return f"{score['mean']:.1f} ± {score['std']:.1f}"
    return f"{score['mean']:.1f}"


def table_lines(summary: Mapping[str, Any]) -> list[list[str]]:
    """The header and one line of cells per row: ours and the paper's per task, then both averages."""
    tasks = [t["task"] for t in summary["tasks"]]
    header = ["method"]
    for t in tasks:
        header += [f"{TASK_NAMES[t]} ({PAPER_COLUMNS[t]})", "paper"]
    header += ["avg", "paper avg (same tasks)"]
    lines = [header]
    for r in summary["rows"]:
        cells = [r["method"]]
        for t in tasks:
            s = r["scores"].get(t)
            cells += [_cell(s[s["metric"]]) if s else "—", f"{r['paper'][t]:.1f}"]
        cells += ["" if r["avg"] is None else f"{r['avg']:.1f}", f"{r['paper_avg_measured_tasks']:.1f}"]
        lines.append(cells)
    return lines


def plain_table(summary: Mapping[str, Any]) -> str:
    """The table as aligned text for the terminal."""
    lines = table_lines(summary)
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines
    )


def _markdown_table(lines: Sequence[Sequence[str]]) -> list[str]:
    return [
        "| " + " | ".join(lines[0]) + " |",
        "|" + "---|" * len(lines[0]),
        *("| " + " | ".join(line) + " |" for line in lines[1:]),
    ]


def _effect_lines(summary: Mapping[str, Any]) -> list[str]:
    tasks = [t["task"] for t in summary["tasks"]]
    lines = [
        ["effect", *(f"{TASK_NAMES[t]}: ours" for t in tasks), *(f"{TASK_NAMES[t]}: paper" for t in tasks)]
    ]
    for e in summary["effects"]:
        ours = ["" if e["tasks"][t]["ours"] is None else f"{e['tasks'][t]['ours']:+.1f}" for t in tasks]
        lines.append([e["what"], *ours, *(f"{e['tasks'][t]['paper']:+.1f}" for t in tasks)])
    return _markdown_table(lines)


def _run_lines(summary: Mapping[str, Any]) -> list[str]:
    lines = [["method", "task", "seed", "score", "updates", "train s"]]
    for r in summary["rows"]:
        for task, s in r["scores"].items():
            for seed, run in s["seeds"].items():
                score = ", ".join(f"{m} {run[m]:.2f}" for m in METRICS[task])
                stopped = "" if run["stop_reason"] == "max_steps" else f" ({run['stop_reason']})"
                lines.append(
                    [
                        r["method"],
                        TASK_NAMES[task],
                        seed,
                        score,
                        f"{run['updates']}{stopped}",
                        f"{run['train_seconds']:.0f}",
                    ]
                )
    return _markdown_table(lines)


def markdown(summary: Mapping[str, Any]) -> str:
    """``table5.md``: how it was measured, the table beside the paper's, the effects, every run."""
    machine, recipe = summary["machine"], summary["recipe"]
    budgets = ", ".join(
        f"{TASK_NAMES[t['task']]} {t['updates']:,} at lr {t.get('lr', recipe['lr']):g} ({t['epochs']:.2g} epochs "
        f"of {t['train_examples']:,}; {len(t['seeds'])} seed(s))"
        for t in summary["tasks"]
    )
    notes = [f"- {r['method']}: {r['note']}" for r in summary["rows"] if r["note"]]
    return "\n".join(
        [
            "# GPT-1 Table 5 (ablations) at CPU scale",
            "",
            (f"Command: `{summary['command']}`. " if summary.get("command") else "")
            + f"Measured {summary['date']} on {machine['cpu']} ({summary['parallel']} run(s) at a time, "
            f"{machine['threads']} thread(s) each; torch {machine['torch']}).",
            f"Pre-trained model: `{summary['init']}`. Recipe `{recipe['name']}`: batch 32, linear decay after a "
            f"warm-up over 0.2% of training, classifier dropout 0.1, precision {summary['precision']}; updates "
            f"and peak lr per task, the same for every row (a task's own setting where its declaration chose one "
            f"on a holdout, else 3 epochs capped at {recipe['max_updates']} at lr {recipe['lr']:g}): {budgets}.",
            f"Measured: {summary['metrics']}. Ours: mean ± standard deviation over seeds.",
            "",
            *_markdown_table(table_lines(summary)),
            "",
            *notes,
            "",
            "## The effects the table isolates (differences of row means, points)",
            "",
            *_effect_lines(summary),
            "",
            "## Every run",
            "",
            *_run_lines(summary),
            "",
        ]
    )


def write_reports(summary: dict[str, Any], out: Path, log: Log) -> dict[str, Path]:
    """Print the table; write ``table5.json``, ``table5.md`` and ``table5.png``."""
    from ..viz.ablations import plot_table5_summary

    files = {"json": out / "table5.json", "markdown": out / "table5.md", "figure": out / "table5.png"}
    plot_table5_summary(summary, files["figure"])
    summary["files"] = {k: str(v) for k, v in files.items()}
    files["json"].write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    files["markdown"].write_text(markdown(summary), encoding="utf-8")
    log("\n" + plain_table(summary) + "\n")
    log("\n".join(f"{kind}: {path}" for kind, path in files.items()))
    return files
