"""The two steps of experiments/gpt1_transfer.sh that read its runs: choose the fine-tuning setting on the
holdout, then write results/NAME.json (the holdout grid, the choice, dev per seed with means).

    python experiments/gpt1_transfer_summary.py choose RUNS --task rte --lrs "6.25e-5 2.5e-4" --dropouts 0.1 \
        --grid "187 373" --seed 0                      # prints: LR DROPOUT UPDATES
    python experiments/gpt1_transfer_summary.py pick RUNS_A RUNS_B --task rte --lrs ... --dropouts ... \
        --grid ... --seed 0                            # prints the candidate folder whose best setting wins
    python experiments/gpt1_transfer_summary.py selection RUNS_A RUNS_B ... --out FILE   # the holdout step alone
    python experiments/gpt1_transfer_summary.py write RUNS --task rte --lrs ... --dropouts ... --grid ... \
        --seeds "0 1 2" --chosen "2.5e-4 0.1 187" --command "..." --wall-seconds 5000 --out results/gpt1_rte.json
    python experiments/gpt1_transfer_summary.py recorded results/gpt1_rte_long.json --task rte --lrs ... \
        --dropouts ... --grid ... --command "..." --pretrains "DIR DIR"   # prints: INIT LR DROPOUT UPDATES

A run ``RUNS/VARIANT_lrLR_dDROPOUT_uUPDATES_sSEED`` holds ``eval/holdout.json`` (every run) and ``eval/dev.json``
(only the runs at the chosen setting: dev is scored once, for it), both ``ronbun gpt evaluate --json``.
Each run's own summary is :func:`summarize.run_summary` (one writer for every experiment).
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
from pathlib import Path
from typing import Any

from summarize import provenance, read_json, run_summary, write_json

from ronbun.evaluation.metrics import TASK_METRICS

#: Every metric name a task reports (the keys of an evaluation report that are scores).
METRIC_NAMES = frozenset(m for metrics in TASK_METRICS.values() for m in metrics)
#: The compared models (GPT-1 Table 5): name → what it is.
VARIANTS: dict[str, str] = {
    "pretrained": "pre-trained, auxiliary LM λ = 0.5",
    "scratch": "random initialisation (no pre-training)",
    "noaux": "pre-trained, no auxiliary LM (λ = 0)",
}


#: How PRETRAINS adds the pre-trained model to the choice (appended to :func:`rule`).
CANDIDATE_RULE = (
    "; the pre-trained model: the candidate whose chosen setting scores highest (a tie: the one listed first)"
)


def selection_metric(task: str) -> str:
    """Accuracy where the task reports it (MRPC's F1 rewards the majority class: 81.2), else its GPT-1 metric."""
    metrics = TASK_METRICS[task]
    return "accuracy" if "accuracy" in metrics else metrics[0]


def rule(task: str) -> str:
    return (
        f"highest holdout {selection_metric(task)} of the pre-trained model (auxiliary LM on), first seed; "
        "ties: fewer updates, then the lower learning rate, then the lower classifier dropout"
    )


def run_dir(out: Path, variant: str, lr: str, dropout: str, updates: int, seed: int) -> Path:
    return out / f"{variant}_lr{lr}_d{dropout}_u{updates}_s{seed}"


def scores(run: Path, split: str) -> dict[str, float]:
    """Every metric (in %, Pearson/Spearman/MCC ×100) of a run on ``split``, from its ``eval/SPLIT.json``."""
    report = read_json(run / "eval" / f"{split}.json")
    return {k: 100.0 * float(v) for k, v in report.items() if k in METRIC_NAMES}


Setting = tuple[str, str, int]  # (lr as typed, classifier dropout as typed, updates)


def choose(out: Path, task: str, lrs: list[str], dropouts: list[str], grid: list[int], seed: int) -> Setting:
    """The setting of the grid with the best holdout score (:func:`rule`)."""
    metric = selection_metric(task)
    settings = list(itertools.product(lrs, dropouts, grid))
    score = {s: scores(run_dir(out, "pretrained", *s, seed), "holdout")[metric] for s in settings}
    return max(settings, key=lambda s: (score[s], -s[2], -float(s[0]), -float(s[1])))


def pick(
    candidates: list[Path], task: str, lrs: list[str], dropouts: list[str], grid: list[int], seed: int
) -> Path:
    """The candidate run folder (one pre-trained model's grid) whose chosen setting scores highest on the holdout;
    a tie goes to the candidate listed first."""
    metric = selection_metric(task)

    def best(out: Path) -> float:
        return scores(
            run_dir(out, "pretrained", *choose(out, task, lrs, dropouts, grid, seed), seed), "holdout"
        )[metric]

    score = {c: best(c) for c in candidates}
    return max(candidates, key=lambda c: (score[c], -candidates.index(c)))


def candidate_rows(
    candidates: list[Path], task: str, grids: tuple[list[str], list[str], list[int]], seed: int
) -> list[dict[str, Any]]:
    """Each candidate pre-trained model: what it is, its best setting on the holdout and that setting's score."""
    rows = []
    for out in candidates:
        chosen = choose(out, task, *grids, seed)
        run = run_dir(out, "pretrained", *chosen, seed)
        rows.append(
            {
                "pretraining": _pretraining(run_summary(run)["settings"]["data"].get("init")),
                "chosen": {"lr": float(chosen[0]), "clf_dropout": float(chosen[1]), "updates": chosen[2]},
                "holdout": scores(run, "holdout"),
            }
        )
    return rows


def selection_only(
    candidates: list[Path],
    task: str,
    grids: tuple[list[str], list[str], list[int]],
    seed: int,
    header: dict[str, Any],
) -> dict[str, Any]:
    """The holdout step alone (``CHOOSE_ONLY`` runs, or a protocol stopped before dev): every candidate's grid,
    its best setting, and the candidate :func:`pick` chooses.  No dev or test score is part of it."""
    rows = candidate_rows(candidates, task, grids, seed)
    for out, row in zip(candidates, rows, strict=True):
        row["grid"] = [
            {
                "lr": float(lr),
                "clf_dropout": float(d),
                "updates": u,
                "holdout": scores(run_dir(out, "pretrained", lr, d, u, seed), "holdout"),
            }
            for lr, d, u in itertools.product(*grids)
        ]
    first = run_dir(candidates[0], "pretrained", grids[0][0], grids[1][0], grids[2][0], seed)
    return {
        **header,
        "task": task,
        "selection": {
            "split": "holdout",
            "holdout_examples": run_summary(first)["settings"]["data"].get("holdout"),
            "seed": seed,
            "metric": selection_metric(task),
            "rule": rule(task) + CANDIDATE_RULE,
            "pretraining_candidates": rows,
            "picked": rows[candidates.index(pick(candidates, task, *grids, seed))]["pretraining"]["init"],
        },
    }


def _train_examples(run: Path) -> int | None:
    """Examples the run trained on (the training split less the holdout), as its checkpoint records them."""
    checkpoints = sorted((run / "checkpoints").glob("step_*"))
    if not checkpoints or not (checkpoints[-1] / "task_config.json").is_file():
        return None
    return read_json(checkpoints[-1] / "task_config.json").get("train_examples")


def _pretraining(init: str | None) -> dict[str, Any]:
    """The pre-trained model fine-tuned: its folder and, when it has one, what its summary identifies it by."""
    found = Path(init) / "summary.json" if init else None
    if found is None or not found.is_file():
        return {"init": init}
    s = read_json(found)
    return {"init": init, **{k: s.get(k) for k in ("name", "command", "date", "updates")}}


def _spread(values: list[float]) -> dict[str, float | None]:
    return {"mean": statistics.mean(values), "sd": statistics.stdev(values) if len(values) > 1 else None}


def summary(
    out: Path,
    task: str,
    grids: tuple[list[str], list[str], list[int]],
    seeds: list[int],
    chosen: Setting,
    header: dict[str, Any],
    names: list[str] | None = None,
) -> dict[str, Any]:
    """results/NAME.json: provenance, the selection on the holdout, dev per variant (``names``, default all of
    :data:`VARIANTS`) and seed, every run."""
    lrs, dropouts, grid = grids
    metric, metrics = selection_metric(task), TASK_METRICS[task]
    first = run_dir(out, "pretrained", *chosen, seeds[0])
    data = run_summary(first)["settings"]["data"]
    n_train, batch = _train_examples(first), data.get("batch_size", 32)
    grid_rows = [
        {
            "lr": float(lr),
            "clf_dropout": float(d),
            "updates": u,
            "epochs": round(u * batch / n_train, 3) if n_train else None,
            "holdout": scores(run_dir(out, "pretrained", lr, d, u, seeds[0]), "holdout"),
        }
        for lr, d, u in itertools.product(lrs, dropouts, grid)
    ]
    variants = {}
    for variant, label in VARIANTS.items():
        if names is not None and variant not in names:
            continue
        dev = {str(s): scores(run_dir(out, variant, *chosen, s), "dev") for s in seeds}
        variants[variant] = {
            "label": label,
            "dev": dev,
            "holdout": {str(s): scores(run_dir(out, variant, *chosen, s), "holdout") for s in seeds},
            **{m: _spread([d[m] for d in dev.values()]) for m in metrics},
        }
    runs = {
        p.name: run_summary(p, p / "eval") for p in sorted(out.iterdir()) if (p / "run_config.json").is_file()
    }
    lr, dropout, updates = chosen
    return {
        **header,
        "task": task,
        "metrics": list(metrics),
        "pretraining": _pretraining(data.get("init")),
        "seeds": seeds,
        "lr": float(lr),
        "clf_dropout": float(dropout),
        "updates": updates,
        "train_examples": n_train,
        "batch_size": batch,
        "dev_examples": read_json(first / "eval" / "dev.json").get("n"),
        "selection": {
            "split": "holdout",
            "holdout_examples": data.get("holdout"),
            "seed": seeds[0],
            "metric": metric,
            "rule": rule(task),
            "grid": grid_rows,
            "chosen": {"lr": float(lr), "clf_dropout": float(dropout), "updates": updates},
        },
        "variants": variants,
        "pretraining_gain": {
            m: variants["pretrained"][m]["mean"] - variants["scratch"][m]["mean"] for m in metrics
        },
        "train_seconds": round(sum(r["train_seconds"] for r in runs.values()), 1),
        "runs": runs,
    }


def with_holdout_step(result: dict[str, Any], out: Path) -> dict[str, Any]:
    """``result`` with the wall time of the holdout step before it: when ``out`` holds the summary that the same
    command with ``CHOOSE_ONLY=1`` wrote (grids and choice, no dev), this invocation kept its finished runs, so
    the experiment's wall time is the two invocations' sum, said in a note."""
    try:
        earlier = read_json(out)
    except (OSError, ValueError):
        return result
    same = str(earlier.get("command", "")).replace(" CHOOSE_ONLY=1", "") == result.get("command")
    if "variants" in earlier or earlier.get("task") != result.get("task") or not same:
        return result
    first, second = earlier.get("wall_seconds"), result.get("wall_seconds")
    if first is None or second is None:
        return result
    note = (
        f"in two invocations of the same command: first CHOOSE_ONLY=1 ({first / 60:.1f} min wall), then without "
        f"it ({second / 60:.1f} min), which kept the finished runs; wall time is their sum"
    )
    return {**result, "wall_seconds": first + second, "note": note}


def _picked_row(sel: dict[str, Any]) -> dict[str, Any] | None:
    """The candidate row of a holdout step's selection that it picked (None when it names none of them)."""
    return next(
        (r for r in sel.get("pretraining_candidates", []) if r["pretraining"]["init"] == sel.get("picked")),
        None,
    )


def recorded_selection(
    path: Path, task: str, grids: tuple[list[str], list[str], list[int]], command: str, pretrains: list[str]
) -> tuple[str, Setting] | None:
    """The holdout step that ``path`` records for this very experiment, if it does: a summary written by the same
    command with ``CHOOSE_ONLY=1`` (no dev score in it), over the same candidates and grid.  Returns the picked
    candidate's folder and its chosen setting as typed in ``grids``; None when ``path`` is anything else (missing,
    another command, already scored on dev)."""
    try:
        earlier = read_json(path)
    except (OSError, ValueError):
        return None
    if not isinstance(earlier, dict) or "variants" in earlier or earlier.get("task") != task:
        return None
    if str(earlier.get("command", "")).replace(" CHOOSE_ONLY=1", "") != command.replace(" CHOOSE_ONLY=1", ""):
        return None
    sel = earlier.get("selection", {})
    if [r["pretraining"]["init"] for r in sel.get("pretraining_candidates", [])] != pretrains:
        return None
    picked = _picked_row(sel)
    if picked is None:
        return None
    chosen = picked["chosen"]
    lrs, dropouts, grid = grids
    typed = (
        next((x for x in lrs if float(x) == chosen["lr"]), None),
        next((x for x in dropouts if float(x) == chosen["clf_dropout"]), None),
        chosen["updates"] if chosen["updates"] in grid else None,
    )
    if None in typed:
        return None
    return sel["picked"], (str(typed[0]), str(typed[1]), int(typed[2]))


def with_recorded_selection(result: dict[str, Any], path: Path, run: Path) -> dict[str, Any]:
    """``result`` (dev scored at the choice of a holdout step on record, :func:`recorded_selection`) with that
    step's selection: every candidate's grid as recorded, the picked one's as the table's grid, and the chosen
    run made again (``run``) beside the holdout score the record gives it."""
    earlier = read_json(path)
    sel = earlier["selection"]
    picked = _picked_row(sel)
    if picked is None:
        raise ValueError(f"{path} records no picked candidate among its pre-trained models")
    n_train, batch = result["train_examples"], result["batch_size"]
    grid = [
        {**g, "epochs": round(g["updates"] * batch / n_train, 3) if n_train else None} for g in picked["grid"]
    ]
    remade = scores(run, "holdout")
    same = all(abs(remade.get(m, float("nan")) - v) < 1e-9 for m, v in picked["holdout"].items())
    if not same:
        print(
            f"warning: the chosen run made again scores {remade} on the holdout, {path} records "
            f"{picked['holdout']}; dev is scored at the recorded choice all the same",
            file=sys.stderr,
        )
    return {
        **result,
        "selection": {
            **result["selection"],
            "rule": sel["rule"],
            "grid": grid,
            "pretraining_candidates": sel["pretraining_candidates"],
            "picked": sel["picked"],
            "recorded": {
                "file": str(path),
                "date": earlier.get("date"),
                "machine": earlier.get("machine"),
                "chosen_holdout": picked["holdout"],
                "chosen_holdout_remade": remade,
                "same": same,
            },
        },
    }


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split()]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("step", choices=("choose", "pick", "selection", "write", "recorded"))
    p.add_argument(
        "runs",
        type=Path,
        nargs="+",
        help="the script's run folder (pick: one per candidate; recorded: the summary file)",
    )
    p.add_argument("--task", required=True, choices=sorted(TASK_METRICS))
    p.add_argument("--lrs", type=str.split, required=True, help="learning rates tried, as typed")
    p.add_argument("--dropouts", type=str.split, default=["0.1"], help="classifier dropouts tried, as typed")
    p.add_argument("--grid", type=_ints, required=True, help="budgets tried, in updates")
    p.add_argument("--seed", type=int, default=0, help="choose: the seed of the grid runs")
    p.add_argument(
        "--seeds", type=_ints, default=[0, 1, 2], help="write: seeds of the final runs (first: grid)"
    )
    p.add_argument(
        "--variants",
        type=str.split,
        default=list(VARIANTS),
        help=f"write: the models compared ({', '.join(VARIANTS)})",
    )
    p.add_argument("--chosen", type=str.split, help="write: 'LR DROPOUT UPDATES' chosen on the holdout")
    p.add_argument(
        "--candidates",
        type=Path,
        nargs="+",
        default=None,
        help="write: the run folders of the pre-trained models the holdout chose among (PRETRAINS)",
    )
    p.add_argument(
        "--report-split", default="dev", help="write: the split eval/dev.json scores (Story Cloze: test)"
    )
    p.add_argument("--name", default=None)
    p.add_argument("--command", default="experiments/gpt1_transfer.sh")
    p.add_argument("--wall-seconds", type=float)
    p.add_argument("--out", type=Path, help="write: the summary file")
    p.add_argument(
        "--selection",
        type=Path,
        default=None,
        help="write: the holdout step on record (a CHOOSE_ONLY=1 summary) whose choice dev was scored at",
    )
    p.add_argument("--pretrains", type=str.split, default=[], help="recorded: the candidates, as PRETRAINS")
    args = p.parse_args(argv)
    grids = (args.lrs, args.dropouts, args.grid)
    if args.step == "pick":
        print(pick(args.runs, args.task, *grids, args.seed))
        return 0
    if args.step == "selection":
        if args.out is None:
            p.error("selection needs --out")
        header = provenance(
            args.name or f"gpt1_{args.task}_selection", args.command, args.wall_seconds, threads=1
        )
        write_json(args.out, selection_only(args.runs, args.task, grids, args.seed, header))
        return 0
    if len(args.runs) != 1:
        p.error(f"{args.step} takes one run folder")
    runs = args.runs[0]
    if args.step == "recorded":
        # runs: the summary file; exit 1 when it records no holdout step of this command
        found = recorded_selection(runs, args.task, grids, args.command, args.pretrains)
        if found is None:
            return 1
        print(found[0], *found[1])
        return 0
    if args.step == "choose":
        print(*choose(runs, args.task, *grids, args.seed))
        return 0
    if args.chosen is None or len(args.chosen) != 3 or args.out is None:
        p.error("write needs --chosen 'LR DROPOUT UPDATES' and --out")
    if not {"pretrained", "scratch"} <= set(args.variants) <= set(VARIANTS):
        p.error(f"--variants must include pretrained and scratch, from {', '.join(VARIANTS)}")
    chosen = (args.chosen[0], args.chosen[1], int(args.chosen[2]))
    header = provenance(args.name or f"gpt1_{args.task}", args.command, args.wall_seconds, threads=1)
    result = summary(runs, args.task, grids, args.seeds, chosen, header, args.variants)
    if args.candidates:
        result["selection"]["pretraining_candidates"] = candidate_rows(
            args.candidates, args.task, grids, args.seeds[0]
        )
        result["selection"]["rule"] += CANDIDATE_RULE
        for other in (
            c for c in args.candidates if c.resolve() != runs.resolve()
        ):  # the others' grids cost too
            for folder in sorted(other.iterdir()):
                if (folder / "run_config.json").is_file():
                    result["runs"][f"{other.name}/{folder.name}"] = run_summary(folder, folder / "eval")
        result["train_seconds"] = round(sum(r["train_seconds"] for r in result["runs"].values()), 1)
    if args.selection is not None:
        result = with_recorded_selection(
            result, args.selection, run_dir(runs, "pretrained", *chosen, args.seeds[0])
        )
    write_json(args.out, with_holdout_step({**result, "report_split": args.report_split}, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
