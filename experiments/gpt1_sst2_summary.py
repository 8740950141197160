"""The two steps of experiments/gpt1_sst2.sh that read its runs: choose the fine-tuning budget on the holdout,
then write results/gpt1_sst2.json (the holdout grid, the choice, dev accuracy per seed with means).

    python experiments/gpt1_sst2_summary.py choose RUNS --grid "681 1022 2043" --seed 0
    python experiments/gpt1_sst2_summary.py write RUNS --grid ... --seeds "0 1 2" --chosen 1022 \
        --command "experiments/gpt1_sst2.sh" --wall-seconds 5000 --out results/gpt1_sst2.json

A run ``RUNS/VARIANT_uUPDATES_sSEED`` holds ``eval/holdout.json`` (every run) and ``eval/dev.json`` (only the
runs at the chosen budget: dev is scored once, for the chosen setting), both ``ronbun gpt evaluate --json``.
Each run's own summary is :func:`summarize.run_summary` (one writer for every experiment).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path
from typing import Any

from summarize import provenance, read_json, run_summary, write_json

#: The compared models (GPT-1 Table 5): name → what it is.
VARIANTS: dict[str, str] = {
    "pretrained": "pre-trained, auxiliary LM λ = 0.5",
    "scratch": "random initialisation (no pre-training)",
    "noaux": "pre-trained, no auxiliary LM (λ = 0)",
}
#: How the budget is chosen.
RULE = (
    "highest holdout accuracy of the pre-trained model (auxiliary LM on), first seed; fewer updates on a tie"
)


def run_dir(out: Path, variant: str, updates: int, seed: int) -> Path:
    return out / f"{variant}_u{updates}_s{seed}"


def accuracy(run: Path, split: str) -> float:
    """The accuracy (%) of a run on ``split`` (``holdout`` or ``dev``), from its ``eval/SPLIT.json``."""
    return 100.0 * float(read_json(run / "eval" / f"{split}.json")["accuracy"])


def choose(out: Path, grid: list[int], seed: int) -> int:
    """The budget (updates) of the grid with the highest holdout accuracy (:data:`RULE`)."""
    scores = {u: accuracy(run_dir(out, "pretrained", u, seed), "holdout") for u in grid}
    return max(sorted(grid), key=lambda u: (scores[u], -u))


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
    return {
        "mean": statistics.mean(values),
        "sd": statistics.stdev(values) if len(values) > 1 else None,
    }


def summary(
    out: Path, grid: list[int], seeds: list[int], chosen: int, header: dict[str, Any]
) -> dict[str, Any]:
    """results/gpt1_sst2.json: provenance, the selection on the holdout, dev per variant and seed, every run."""
    first = run_dir(out, "pretrained", chosen, seeds[0])
    one = run_summary(first)
    data = one["settings"]["data"]
    n_train, batch = _train_examples(first), data.get("batch_size", 32)
    grid_rows = [
        {
            "updates": u,
            "epochs": round(u * batch / n_train, 3) if n_train else None,
            "holdout_accuracy": accuracy(run_dir(out, "pretrained", u, seeds[0]), "holdout"),
        }
        for u in grid
    ]
    variants, runs = {}, {}
    for variant, label in VARIANTS.items():
        dev = {str(s): accuracy(run_dir(out, variant, chosen, s), "dev") for s in seeds}
        held = {str(s): accuracy(run_dir(out, variant, chosen, s), "holdout") for s in seeds}
        variants[variant] = {
            "label": label,
            "dev_accuracy": dev,
            "holdout_accuracy": held,
            **_spread([*dev.values()]),
        }
    for path in sorted(p for p in out.iterdir() if (p / "run_config.json").is_file()):
        runs[path.name] = run_summary(path, path / "eval")
    return {
        **header,
        "task": "sst2",
        "pretraining": _pretraining(data.get("init")),
        "seeds": seeds,
        "updates": chosen,
        "train_examples": n_train,
        "batch_size": batch,
        "dev_examples": read_json(first / "eval" / "dev.json").get("n"),
        "selection": {
            "split": "holdout",
            "holdout_examples": data.get("holdout"),
            "seed": seeds[0],
            "rule": RULE,
            "grid": grid_rows,
            "chosen_updates": chosen,
        },
        "variants": variants,
        "pretraining_gain": variants["pretrained"]["mean"] - variants["scratch"]["mean"],
        "train_seconds": round(sum(r["train_seconds"] for r in runs.values()), 1),
        "runs": runs,
    }


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split()]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("step", choices=("choose", "write"))
    p.add_argument("runs", type=Path, help="the script's run folder")
    p.add_argument("--grid", type=_ints, required=True, help="budgets tried, in updates")
    p.add_argument("--seed", type=int, default=0, help="choose: the seed of the grid runs")
    p.add_argument(
        "--seeds", type=_ints, default=[0, 1, 2], help="write: seeds of the final runs (first: grid)"
    )
    p.add_argument("--chosen", type=int, help="write: the budget chosen on the holdout")
    p.add_argument("--name", default="gpt1_sst2")
    p.add_argument("--command", default="experiments/gpt1_sst2.sh")
    p.add_argument("--wall-seconds", type=float)
    p.add_argument("--out", type=Path, help="write: the summary file")
    args = p.parse_args(argv)
    if args.step == "choose":
        print(choose(args.runs, args.grid, args.seed))
        return 0
    if args.chosen is None or args.out is None:
        p.error("write needs --chosen and --out")
    header = provenance(args.name, args.command, args.wall_seconds, threads=1)
    write_json(args.out, summary(args.runs, args.grid, args.seeds, args.chosen, header))
    return 0


if __name__ == "__main__":
    sys.exit(main())
