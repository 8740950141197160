"""GPT-1 fine-tuning runs as experiment units, shared by ``ronbun experiment table5`` (Table 5) and
``ronbun experiment figure2`` (Figure 2 left).

Every run is ``ronbun gpt finetune`` (:func:`ronbun.gpt.commands.finetune`): §3.3 input transformation, L3 =
L2 + λ·L1 (Eq. 5) and the §4.1 settings of :class:`~ronbun.gpt.finetune.FineTuneConfig` (batch 32, 3 epochs,
λ = 0.5, classifier dropout 0.1, linear decay after a warm-up over 0.2% of training).  A task's learning rate
and budget (:func:`task_budget`), the same for every row and seed of the task, are the ones its declaration
chose on a holdout carved from its training split (:attr:`~ronbun.gpt.tasks.TaskSpec.finetune`: SST-2 1,761
updates at 1e-4, RTE 187 at 6.25e-5), so an experiment trains each task exactly as ``ronbun gpt finetune
--task X`` does.  A task without a declared setting, and every task once ``--lr``, ``--max-updates`` or
``--limit`` is given (or ``--quick``), takes the uniform :class:`Recipe`: the paper's 3 epochs of 32 examples,
capped, at lr 1e-4 (the repository's GPT recipe for a model far smaller than the paper's 117M; the paper's
6.25e-5 with ``--lr``).  Nothing here is chosen on the dev split, which is only reported: each run trains with
its settings fixed in advance and is scored on dev once, after its last update.

A run is a :class:`Unit` with its own folder ``OUT/runs/KEY/`` (the fine-tuning run: checkpoint, metrics,
``result.json``); :func:`run_units` measures the units not measured before (:mod:`ronbun.experiments.units`).
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ..settings import setting
from .units import Log, read_result, run_jobs, say, write_result

__all__ = [
    "RECIPES",
    "FineTuneRunsConfig",
    "Recipe",
    "Unit",
    "run_units",
    "seed_summary",
    "task_budget",
]


@dataclass(frozen=True)
class Recipe:
    """How every fine-tuning run of an experiment trains, beyond the §4.1 defaults: the peak learning rate,
    the cap on updates per task (``None``: the paper's 3 epochs, whatever they cost), and subsets of the
    training split (``limit``, seeded) and of the dev split (``eval_limit``, its first examples).
    ``declared``: a task whose declaration records a setting chosen on its holdout trains with that instead
    (its ``lr`` and ``max_steps``)."""

    name: str
    lr: float
    max_updates: int | None
    limit: int | None = None
    eval_limit: int | None = None
    declared: bool = True


RECIPES: dict[str, Recipe] = {
    # 3 epochs of 32 examples, at most 1,000 updates: CoLA 804, MRPC 345, RTE 234, SST-2 1,000 (of 6,315)
    "full": Recipe("full", lr=1e-4, max_updates=1000),
    # a smoke run: 128 training examples (3 epochs of 32 = 12 updates), the first 100 dev examples
    "quick": Recipe("quick", lr=1e-4, max_updates=12, limit=128, eval_limit=100, declared=False),
}


@dataclass(kw_only=True)
class FineTuneRunsConfig:
    """The settings every experiment made of fine-tuning runs shares."""

    data_dir: str = setting(help="the GLUE folder (CoLA, SST-2, MRPC, RTE; e.g. ../shared/data/glue)")
    quick: bool = setting(False, "a smoke run: 128 training examples, 12 updates, 100 dev examples per run")
    max_updates: int | None = setting(
        None,
        "cap on the updates of every run of a task without its own setting (default 1000; 12 with --quick); "
        "given, every task uses it instead of its own; 0 = no cap",
    )
    lr: float | None = setting(
        None,
        "peak learning rate of a task without its own setting (default 1e-4); given, of every task",
        paper="§4.1: 6.25e-5",
    )
    limit: int | None = setting(
        None,
        "train on a seeded random subset of N examples (default all; given, no task uses its own setting)",
    )
    eval_limit: int | None = setting(None, "score the first N dev examples (default all)")
    parallel: int = setting(1, "runs trained at the same time, each in its own process")
    threads: int | None = setting(
        None, "torch CPU threads per run (default: 1 with --parallel > 1, else PyTorch's choice)"
    )
    precision: Literal["auto", "fp32", "bf16"] = setting(
        "auto", "auto: bf16 autocast where the CPU computes bf16 natively, else fp32"
    )
    max_minutes: float | None = setting(
        None, "safety cap per run in minutes of training (a run it stops is marked in the results)"
    )
    lowercase: bool = setting(
        False, "lower-case the task text (for a model pre-trained on lower-cased text without --lowercase)"
    )

    def recipe(self) -> Recipe:
        """The scale's recipe with the options given applied."""
        recipe = RECIPES["quick" if self.quick else "full"]
        changes: dict[str, Any] = {"lr": self.lr, "limit": self.limit, "eval_limit": self.eval_limit}
        changes = {k: v for k, v in changes.items() if v is not None}
        if self.max_updates is not None:
            changes["max_updates"] = self.max_updates or None
        if {"lr", "max_updates", "limit"} & set(changes):
            changes["declared"] = False  # a uniform recipe asked for: every task trains with it
        return dataclasses.replace(recipe, **changes)

    def run_threads(self) -> int | None:
        return self.threads or (1 if self.parallel > 1 else None)  # parallel runs share the cores


def task_budget(task: str, data_dir: str, recipe: Recipe) -> dict[str, Any]:
    """A task's budget in updates and its learning rate, the same for every run of the task: the setting its
    declaration chose on a holdout (``recipe.declared``), else the paper's epochs (§4.1: 3) of ``batch_size``
    (32) examples over the training split (``recipe.limit`` of it), capped at ``recipe.max_updates``, at
    ``recipe.lr``.  ``chosen_by`` says which."""
    from ..gpt.finetune import FineTuneConfig
    from ..gpt.tasks import get_task, load_task

    cfg = FineTuneConfig(task=task)
    train_split, eval_split = cfg.splits(task)
    n = len(load_task(task, data_dir, train_split).examples)
    if recipe.limit is not None:
        n = min(n, recipe.limit)
    paper = max(1, math.ceil(cfg.epochs * math.ceil(n / cfg.batch_size)))  # as FineTuneTask.total_updates
    updates = min(paper, recipe.max_updates) if recipe.max_updates else paper
    lr, chosen_by = (
        recipe.lr,
        f"the {recipe.name} recipe: {cfg.epochs:g} epochs"
        + (f" capped at {recipe.max_updates}" if recipe.max_updates else "")
        + f", lr {recipe.lr:g}",
    )
    declared = dict(get_task(task).finetune) if recipe.declared else {}
    if "max_steps" in declared:
        updates, lr = int(declared["max_steps"]), float(declared.get("lr", recipe.lr))
        chosen_by = f"the task's declaration: {declared.get('chosen_by', 'chosen on a holdout')}"
    return {
        "task": task,
        "train_split": train_split,
        "eval_split": eval_split,
        "train_examples": n,
        "batch_size": cfg.batch_size,
        "paper_epochs": cfg.epochs,
        "paper_updates": paper,
        "updates": updates,
        "epochs": updates * cfg.batch_size / n,
        "lr": lr,
        "chosen_by": chosen_by,
    }


@dataclass(frozen=True)
class Unit:
    """One fine-tuning run: ``key`` names its folder under ``OUT/runs``; ``data`` holds its
    :class:`~ronbun.gpt.finetune.FineTuneConfig` settings, ``trainer`` its
    :class:`~ronbun.training.loop.TrainerConfig` settings."""

    key: str
    data: Mapping[str, Any]
    trainer: Mapping[str, Any]

    def recipe(self) -> dict[str, Any]:
        """What decides the result (not where the data lie, nor threads or time caps)."""
        where = ("data_dir", "out_dir", "threads", "max_minutes", "progress", "log_every")
        return {
            "data": {k: v for k, v in self.data.items() if k not in where},
            "trainer": {k: v for k, v in self.trainer.items() if k not in where},
        }


def make_unit(
    key: str,
    data: Mapping[str, Any],
    budget: Mapping[str, Any],
    recipe: Recipe,
    cfg: FineTuneRunsConfig,
    seed: int,
) -> Unit:
    """A run of ``budget['updates']`` updates at ``budget['lr']`` with the recipe's data subsets and ``data``
    (task, init, λ …); validated once, after the last update, on the dev split."""
    updates = int(budget["updates"])
    data = {
        "data_dir": cfg.data_dir,
        "limit": recipe.limit,
        "eval_limit": recipe.eval_limit,
        "lowercase": cfg.lowercase,
        **data,
    }
    trainer = {
        "max_steps": updates,
        "lr": float(budget.get("lr", recipe.lr)),
        "seed": seed,
        "precision": cfg.precision,
        "eval_every": 0,  # scored once, after the last update
        "save_every": updates,
        "keep_last": 1,
        "log_every": max(1, updates // 10),
        "progress": False,
        "threads": cfg.run_threads(),
        "max_minutes": cfg.max_minutes,
    }
    return Unit(key, data, trainer)


def result_path(out: Path, key: str) -> Path:
    return out / "runs" / key / "result.json"


def finetune_unit(job: tuple[Unit, str], *, log: Log = say) -> dict[str, Any]:
    """Fine-tune one unit (an interrupted run resumes from its checkpoint), score it on dev, write its
    ``result.json``; metrics are fractions as :func:`~ronbun.evaluation.metrics.compute_metrics` gives them."""
    from ..gpt.commands import finetune
    from ..settings import RunSettings
    from ..training.checkpoint import list_checkpoints

    unit, out = job
    run = Path(out) / "runs" / unit.key
    settings = RunSettings(data=dict(unit.data), trainer={**unit.trainer, "out_dir": str(run)})
    fit = finetune(settings, resume=bool(list_checkpoints(run)), log=log)
    metrics = {k.removeprefix("valid_"): v for k, v in fit["metrics"].items()}
    if not metrics:  # stopped by a signal: its checkpoint resumes next time
        raise KeyboardInterrupt(f"{unit.key} stopped after update {fit['step']}; run again to resume")
    result = {
        "unit": unit.key,
        "recipe": unit.recipe(),
        "metrics": metrics,
        "updates": fit["step"],
        "stop_reason": fit["stop_reason"],
        "train_seconds": round(fit["train_seconds"], 1),
        "truncated_examples": fit.get("truncated_examples"),
        "checkpoint": fit["checkpoint"],
    }
    write_result(result_path(Path(out), unit.key), result)
    return result


def run_units(
    units: Sequence[Unit], out: Path, *, parallel: int = 1, log: Log = say
) -> dict[str, dict[str, Any]]:
    """Every unit's result (key → result): read back when measured before with the same recipe, else
    fine-tuned now (``parallel`` at a time)."""
    done: dict[str, dict[str, Any]] = {}
    todo = []
    for unit in units:
        saved = read_result(result_path(out, unit.key), unit.recipe(), "task, settings, budget or seed")
        if saved is not None:
            done[unit.key] = saved
        else:
            todo.append(unit)
    if done:
        log(f"{len(done)} run(s) measured before, not trained again; {len(todo)} to train")
    jobs = [(unit, str(out)) for unit in todo]
    for result in run_jobs(finetune_unit, jobs, [u.key for u in todo], parallel=parallel, log=log):
        done[result["unit"]] = result
    return {unit.key: done[unit.key] for unit in units}


def seed_summary(values: Sequence[float]) -> dict[str, Any]:
    """Mean, standard deviation (``None`` for one seed), min and max of a score over seeds."""
    return {
        "mean": statistics.fmean(values),
        "std": statistics.stdev(values) if len(values) > 1 else None,
        "min": min(values),
        "max": max(values),
        "n": len(values),
    }
