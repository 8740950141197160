"""Figure 2 of GPT-1 (Radford et al., 2018, §5 "Analysis") at CPU scale: ``ronbun experiment figure2``.

**Left, "impact of number of layers transferred".**  The paper fine-tunes on MultiNLI and RACE with only the
first k blocks of the pre-trained model (the rest randomly initialised) and finds that "transferring embeddings
improves performance and that each transformer layer provides further benefits up to 9% for full transfer on
MultiNLI".  Here (neither MultiNLI nor RACE is in the shared data) SST-2 and RTE by default: the pre-training
run's newest checkpoint is fine-tuned with ``n_transfer = k`` for k = 0 … N
(:func:`~ronbun.models.task_head.transfer_layers`): the token and position embeddings are always transferred,
so **k = 0 is "embeddings only"**, the leftmost point of the paper's plot, and k = N is the full method.  A
run with nothing transferred (random initialisation, the same tokenizer: Table 5's "w/o pre-training") is
drawn as a dashed line.  Every run is the full method otherwise (λ = 0.5) with the task's budget of
:mod:`ronbun.experiments.finetuning`, scored on dev once.

**Right, "zero-shot performance … as a function of the number of pre-training updates".**  The four §5
heuristics of :mod:`ronbun.gpt.zeroshot` (``ronbun gpt zeroshot``) on every checkpoint the pre-training run
kept (``RUN/checkpoints/step_…``): sentiment (SST-2 dev: append " very", compare " positive" and
" negative"), Winograd schemas (``--winograd-file``, else ronbun's 10 illustrative twin sentences: not a
benchmark), linguistic acceptability (CoLA dev: average token log-probability, threshold fitted on train) and
question answering (RACE with ``--race-dir``; without it, Story Cloze with ``--story-cloze-dir``, the same
multiple-choice heuristic; without either, that line is not drawn).  The paper normalises each score so that
random guessing is 0 and the state of the art 1; it does not print the state-of-the-art values, so here 1 is
a perfect score: ``(score − chance) / (1 − chance)``.  The raw scores are in the JSON and the Markdown.

The pre-training run must keep its checkpoints: the trainer keeps only the newest 5 by default, so pre-train
with ``--save-every N --keep-last 0`` (0 keeps every checkpoint) for a curve with more points.

``OUT/runs/transfer/TASK/kK/seedS/`` (``none`` for nothing transferred) holds each fine-tuning run and its
``result.json``, ``OUT/zeroshot/step_….json`` each checkpoint's zero-shot scores; measured units are not
measured again (a result measured with another recipe is an error).  ``OUT/figure2.json``, ``figure2.md``
and ``figure2.png`` (both panels) hold the figure.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ..settings import setting
from .finetuning import FineTuneRunsConfig, Unit, make_unit, run_units, seed_summary, task_budget
from .table5 import METRICS, TASK_NAMES, TASKS, select
from .units import Log, as_given, read_result, run_jobs, say, write_result

__all__ = [
    "Figure2Config",
    "Heuristic",
    "heuristics",
    "normalised",
    "run_figure2",
    "transfer_units",
]


@dataclass(kw_only=True)
class Figure2Config(FineTuneRunsConfig):
    """How ``ronbun experiment figure2`` runs (the fine-tuning recipe is :class:`FineTuneRunsConfig`'s)."""

    pretrain_run: str = setting(
        help="a pre-training run directory: its newest checkpoint is fine-tuned (left), every kept "
        "checkpoint is scored zero-shot (right)"
    )
    out: str = setting("runs/figure2", "output directory: runs, figure2.json, .md, .png", flag="--out")
    panel: Literal["both", "left", "right"] = setting("both", "the panels to measure")
    tasks: str | None = setting(None, "left: comma-separated tasks (cola, sst2, mrpc, rte; default sst2,rte)")
    seeds: int = setting(1, "left: seeds 0 … N-1 per point")
    race_dir: str | None = setting(None, "right: RACE folder for the question-answering heuristic")
    story_cloze_dir: str | None = setting(
        None, "right: Story Cloze folder, the question-answering heuristic when no --race-dir"
    )
    winograd_file: str | None = setting(
        None, "right: Winograd examples, JSONL (default: ronbun's 10 illustrative sentences)"
    )
    zeroshot_limit: int | None = setting(
        None, "right: score a seeded random subset of N examples per task (default all; 100 with --quick)"
    )
    threshold_examples: int | None = setting(
        None, "right: CoLA train examples the threshold is fitted on (default 2000; 200 with --quick)"
    )

    def left_tasks(self) -> list[str]:
        return select(self.tasks or "sst2,rte", TASKS, "task(s)")

    def zeroshot_options(self) -> dict[str, Any]:
        """The settings every checkpoint's zero-shot scores share (with --quick's smaller defaults)."""
        limit = self.zeroshot_limit if self.zeroshot_limit is not None else (100 if self.quick else None)
        fit = self.threshold_examples or (200 if self.quick else 2000)
        return {"limit": limit, "threshold_examples": fit, "lowercase": self.lowercase, "seed": 0}


# -- left: layers transferred ------------------------------------------------------------------------------
def transfer_units(
    cfg: Figure2Config, budgets: Mapping[str, Mapping[str, Any]], init: str, n_layers: int
) -> list[Unit]:
    """Per task and seed, one run with nothing transferred (``none``) and one per k = 0 … ``n_layers``
    blocks transferred (``kK``), all with the task's budget and λ = 0.5."""
    recipe, units = cfg.recipe(), []
    if cfg.seeds < 1:
        raise ValueError(f"--seeds must be >= 1, got {cfg.seeds}")
    for task, budget in budgets.items():
        for k in [None, *range(n_layers + 1)]:
            for seed in range(cfg.seeds):
                start = {"from_scratch": True} if k is None else {"n_transfer": k}
                data = {"task": task, "init": init, "aux_lm": 0.5, **start}
                key = f"transfer/{task}/{'none' if k is None else f'k{k}'}/seed{seed}"
                units.append(make_unit(key, data, budget, recipe, cfg, seed))
    return units


def transfer_points(
    results: Mapping[str, Mapping[str, Any]], budgets: Mapping[str, Mapping[str, Any]], cfg: Figure2Config
) -> list[dict[str, Any]]:
    """Per task: the score (×100, over seeds) with nothing and with k = 0 … N layers transferred."""
    out = []
    for task, budget in budgets.items():
        metric = METRICS[task][0]
        points = []
        for key in sorted(
            {k.split("/")[2] for k in results if k.startswith(f"transfer/{task}/")}, key=_layer
        ):
            runs = [results[f"transfer/{task}/{key}/seed{s}"] for s in range(cfg.seeds)]
            values = [100.0 * float(r["metrics"][metric]) for r in runs]
            points.append(
                {
                    "layers": None if key == "none" else int(key[1:]),
                    "label": "nothing (random initialisation)" if key == "none" else _k_label(int(key[1:])),
                    "score": seed_summary(values),
                    "seeds": values,
                    "updates": [r["updates"] for r in runs],
                    "stop_reasons": sorted({r["stop_reason"] for r in runs}),
                }
            )
        out.append({**budget, "label": TASK_NAMES[task], "metric": metric, "points": points})
    return out


def _layer(key: str) -> int:
    return -1 if key == "none" else int(key[1:])


def _k_label(k: int) -> str:
    return "embeddings only" if k == 0 else f"embeddings + blocks 1–{k}" if k > 1 else "embeddings + block 1"


# -- right: zero-shot over pre-training --------------------------------------------------------------------
@dataclass(frozen=True)
class Heuristic:
    """One §5 zero-shot heuristic: the ``ronbun gpt zeroshot`` task that runs it and where its data are
    (``source``: a folder, a JSONL file, or ``None`` for the built-in Winograd sentences)."""

    name: str
    label: str
    task: str
    source: str | None

    @property
    def metric(self) -> str:
        from ..evaluation.metrics import primary_metric

        return "accuracy" if self.task == "winograd" else primary_metric(self.task)


def heuristics(cfg: Figure2Config) -> list[Heuristic]:
    """The paper's four heuristics with the data given (question answering only with RACE or Story Cloze)."""
    out = [
        Heuristic("sentiment", "sentiment (SST-2 dev)", "sst2", cfg.data_dir),
        Heuristic(
            "winograd",
            "Winograd schemas" + ("" if cfg.winograd_file else " (ronbun's built-in sentences)"),
            "winograd",
            cfg.winograd_file,
        ),
        Heuristic("acceptability", "linguistic acceptability (CoLA dev)", "cola", cfg.data_dir),
    ]
    if cfg.race_dir:
        out.append(Heuristic("question_answering", "question answering (RACE dev)", "race", cfg.race_dir))
    elif cfg.story_cloze_dir:
        out.append(
            Heuristic(
                "question_answering",
                "question answering (Story Cloze test, in place of RACE)",
                "story_cloze",
                cfg.story_cloze_dir,
            )
        )
    return out


def normalised(value: float, task: str) -> float:
    """``(score − chance) / (1 − chance)``: 0 at chance (:data:`~ronbun.gpt.zeroshot.CHANCE`), 1 perfect."""
    from ..gpt.zeroshot import CHANCE

    return (value - CHANCE[task]) / (1.0 - CHANCE[task])


def score_checkpoint(job: tuple[str, list[Heuristic], dict[str, Any], str, int | None], *, log: Log = say):
    """Every heuristic on one checkpoint (``ronbun gpt zeroshot``); writes ``OUT/zeroshot/STEP.json``."""
    import torch

    from ..gpt.commands import ZeroShotConfig, zeroshot

    checkpoint, chosen, options, out, threads = job
    if threads:
        torch.set_num_threads(threads)
    scores = {}
    for h in chosen:
        if h.task == "winograd":
            source: dict[str, Any] = {"winograd_file": Path(h.source) if h.source else None}
        else:
            source = {"data_dir": h.source}
        report = zeroshot(Path(checkpoint), ZeroShotConfig(task=h.task, **source, **options))
        value = float(report[h.metric])
        scores[h.name] = {
            **report,
            "metric": h.metric,
            "value": value,
            "normalised": normalised(value, h.task),
        }
        log(f"{Path(checkpoint).name} {h.name}: {h.metric} {value:.4f}")
    step = int(Path(checkpoint).name.split("_")[-1])
    result = {"step": step, "checkpoint": checkpoint, "recipe": _zeroshot_recipe(checkpoint, chosen, options)}
    write_result(Path(out) / "zeroshot" / f"{Path(checkpoint).name}.json", {**result, "scores": scores})
    return {**result, "scores": scores}


def _zeroshot_recipe(checkpoint: str, chosen: Sequence[Heuristic], options: Mapping[str, Any]) -> dict:
    return {
        "checkpoint": checkpoint,
        "heuristics": [[h.name, h.task, Path(h.source).name if h.source else None] for h in chosen],
        **options,
    }


def zeroshot_curve(cfg: Figure2Config, run: Path, out: Path, log: Log) -> list[dict[str, Any]]:
    """Every kept checkpoint's zero-shot scores, oldest first (measured ones read back)."""
    from ..training.checkpoint import list_checkpoints

    checkpoints = [str(p.resolve()) for p in list_checkpoints(run)]
    if not checkpoints:
        raise ValueError(f"{run} has no checkpoints/step_… to score: give a pre-training run directory")
    chosen, options = heuristics(cfg), cfg.zeroshot_options()
    done, todo = {}, []
    for ckpt in checkpoints:
        path = out / "zeroshot" / f"{Path(ckpt).name}.json"
        saved = read_result(path, _zeroshot_recipe(ckpt, chosen, options), "heuristics, data or subset")
        if saved is not None:
            done[ckpt] = saved
        else:
            todo.append(ckpt)
    log(f"zero-shot: {len(checkpoints)} checkpoint(s) of {run}, {len(todo)} to score")
    jobs = [(ckpt, chosen, options, str(out), cfg.run_threads()) for ckpt in todo]
    for result in run_jobs(
        score_checkpoint, jobs, [Path(c).name for c in todo], parallel=cfg.parallel, log=log
    ):
        done[result["checkpoint"]] = result
    return [done[c] for c in checkpoints]


# -- the run -----------------------------------------------------------------------------------------------
def run_figure2(cfg: Figure2Config, *, command: str = "", log: Log = say) -> dict[str, Any]:
    """Measure Figure 2's panels (``cfg.panel``), then write ``figure2.json``, ``figure2.md`` and
    ``figure2.png`` into ``cfg.out``; returns the JSON's content."""
    from ..training.checkpoint import ensure_output_dir, read_model_config, resolve_checkpoint

    run = Path(cfg.pretrain_run)
    init = str(resolve_checkpoint(run).resolve())
    tasks = cfg.left_tasks()
    out = ensure_output_dir(cfg.out)
    recipe = cfg.recipe()
    left = right = None
    if cfg.panel in ("both", "left"):
        n_layers = read_model_config(init).n_layers
        budgets = {task: task_budget(task, cfg.data_dir, recipe) for task in tasks}
        units = transfer_units(cfg, budgets, init, n_layers)
        log(f"Figure 2 left: {len(units)} fine-tuning runs from {init} (k = 0 … {n_layers} and none)")
        results = run_units(units, out, parallel=cfg.parallel, log=log)
        left = {
            "init": as_given(init),
            "n_layers": n_layers,
            "tasks": transfer_points(results, budgets, cfg),
        }
    if cfg.panel in ("both", "right"):
        chosen = heuristics(cfg)
        right = {
            "heuristics": [{**dataclasses.asdict(h), "metric": h.metric} for h in chosen],
            "normalisation": "(score − chance) / (1 − chance): 0 = chance, 1 = perfect (the paper's 1 is the "
            "state of the art, whose values it does not print)",
            "options": cfg.zeroshot_options(),
            "checkpoints": [_paths_as_given(c) for c in zeroshot_curve(cfg, run, out, log)],
        }
    summary = summarise(cfg, recipe, left, right, command)
    write_reports(summary, out, log)
    return summary


def _paths_as_given(record: Any) -> Any:
    """``record`` with every ``checkpoint`` it holds, at any depth, :func:`~ronbun.experiments.units.as_given`."""
    if isinstance(record, Mapping):
        return {
            k: as_given(v) if k == "checkpoint" and isinstance(v, str) else _paths_as_given(v)
            for k, v in record.items()
        }
    if isinstance(record, list):
        return [_paths_as_given(v) for v in record]
    return record


def summarise(
    cfg: Figure2Config, recipe: Any, left: dict | None, right: dict | None, command: str
) -> dict[str, Any]:
    from ..evaluation.provenance import machine_description

    threads = cfg.run_threads()
    return {
        "experiment": "GPT-1 Figure 2 (layers transferred; zero-shot over pre-training) at CPU scale",
        "command": command,
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
        "machine": machine_description(threads),
        "parallel": cfg.parallel,
        "threads_per_run": threads,
        "pretrain_run": str(cfg.pretrain_run),  # as given (the report is read on other machines)
        "data_dir": cfg.data_dir,
        "recipe": dataclasses.asdict(recipe),
        "precision": cfg.precision,
        "left": left,
        "right": right,
    }


# -- the report --------------------------------------------------------------------------------------------
def _left_lines(left: Mapping[str, Any]) -> list[str]:
    tasks = left["tasks"]
    header = ["layers transferred", *(f"{TASK_NAMES[t['task']]} ({t['metric']}, ×100)" for t in tasks)]
    rows = []
    for i, point in enumerate(tasks[0]["points"]):
        k = point["layers"]
        name = "none" if k is None else str(k)
        cells = []
        for t in tasks:
            s = t["points"][i]["score"]
            cells.append(f"{s['mean']:.1f}" + (f" ± {s['std']:.1f}" if s["n"] > 1 else ""))
        rows.append([f"{name}: {point['label']}", *cells])
    budget = ", ".join(f"{TASK_NAMES[t['task']]} {t['updates']:,} updates" for t in tasks)
    return [
        f"The newest checkpoint `{left['init']}` ({left['n_layers']} blocks), fine-tuned with λ = 0.5; {budget} "
        "for every point; dev split, scored once.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(r) + " |" for r in rows),
    ]


def _right_lines(right: Mapping[str, Any]) -> list[str]:
    hs = right["heuristics"]
    header = ["pre-training updates", *(f"{h['label']}: {h['metric']}" for h in hs)]
    rows = [
        [
            f"{c['step']:,}",
            *(
                f"{c['scores'][h['name']]['value']:.4f} ({c['scores'][h['name']]['normalised']:+.3f})"
                for h in hs
            ),
        ]
        for c in right["checkpoints"]
    ]
    o = right["options"]
    subset = f"a seeded random subset of {o['limit']} examples per task" if o["limit"] else "every example"
    return [
        f"Raw score (normalised: {right['normalisation']}); {subset}; CoLA threshold fitted on "
        f"{o['threshold_examples']} train examples (max MCC).",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(r) + " |" for r in rows),
    ]


def markdown(summary: Mapping[str, Any]) -> str:
    """``figure2.md``: how it was measured and each panel measured (``--panel``) as a table."""
    machine, recipe = summary["machine"], summary["recipe"]
    lines = [
        "# GPT-1 Figure 2 at CPU scale",
        "",
        (f"Command: `{summary['command']}`. " if summary.get("command") else "")
        + f"Measured {summary['date']} on {machine['cpu']} ({summary['parallel']} run(s) at a time, "
        f"{machine['threads']} thread(s) each; torch {machine['torch']}). Pre-training run: "
        f"`{summary['pretrain_run']}`.",
    ]
    if summary["left"]:
        lines += [
            "",
            "## Left: fine-tuning score vs layers transferred",
            "",
            f"Recipe `{recipe['name']}`: batch 32, peak lr {recipe['lr']:g}, precision {summary['precision']}.",
            *_left_lines(summary["left"]),
        ]
    if summary["right"]:
        lines += [
            "",
            "## Right: zero-shot heuristics vs pre-training updates",
            "",
            *_right_lines(summary["right"]),
        ]
    return "\n".join([*lines, ""])


def write_reports(summary: dict[str, Any], out: Path, log: Log) -> dict[str, Path]:
    """Write ``figure2.json``, ``figure2.md`` and ``figure2.png``; print the Markdown."""
    from ..viz.ablations import plot_figure2_summary

    files = {"json": out / "figure2.json", "markdown": out / "figure2.md", "figure": out / "figure2.png"}
    plot_figure2_summary(summary, files["figure"])
    summary["files"] = {k: str(v) for k, v in files.items()}
    files["json"].write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    text = markdown(summary)
    files["markdown"].write_text(text, encoding="utf-8")
    log("\n" + text)
    log("\n".join(f"{kind}: {path}" for kind, path in files.items()))
    return files
