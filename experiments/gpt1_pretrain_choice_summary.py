"""The summary of experiments/gpt1_pretrain_choice.sh: each candidate pre-training (its schedule and changes
to the recipe, held-out perplexities and command) with the SST-2 holdout accuracy of the same fine-tuning from it, and the choice
→ results/NAME.json.

    python experiments/gpt1_pretrain_choice_summary.py runs/gpt1_pretrain_choice --runs runs \
        --candidates "gpt1_pretrain:1000 gpt1_pretrain_annealed:759" --command "..." --out results/gpt1_pretrain_choice.json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from summarize import provenance, read_json, run_summary, write_json

RULE = "highest SST-2 holdout accuracy of the same fine-tuning (seed 0); a tie: the earlier candidate"


def parse(spec: str) -> tuple[str, int, dict[str, str]]:
    """``NAME:SCHEDULE[:KEY=VALUE,...]`` → (name, schedule, the changes to the recipe)."""
    name, schedule, *rest = spec.split(":")
    changes = dict(kv.split("=", 1) for kv in rest[0].split(",") if kv) if rest else {}
    return name, int(schedule), changes


def candidate(
    name: str, schedule: int, changes: dict[str, str], pretraining: Path, finetuning: Path
) -> dict[str, Any]:
    """One candidate: what its pre-training was and scored, and what the fine-tuning from it scored."""
    s = read_json(pretraining / "summary.json")
    holdout = read_json(finetuning / "eval" / "holdout.json")
    return {
        "name": name,
        "schedule_total": schedule,
        "changes": changes,
        "updates": s.get("updates"),
        "command": s.get("command"),
        "perplexity": {k: e.get("perplexity") for k, e in s.get("evaluations", {}).items()},
        "tokens": {k: e.get("tokens") for k, e in s.get("evaluations", {}).items()},
        "holdout_accuracy": 100.0 * float(holdout["accuracy"]),
        "holdout_examples": holdout.get("n"),
        "finetuning": run_summary(finetuning),
    }


def choose(candidates: list[dict[str, Any]]) -> str:
    best = max(range(len(candidates)), key=lambda i: (candidates[i]["holdout_accuracy"], -i))
    return candidates[best]["name"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out_dir", type=Path, help="the script's fine-tuning runs, one folder per candidate")
    p.add_argument("--runs", type=Path, default=Path("runs"), help="where the pre-trainings are (RUNS/NAME)")
    p.add_argument(
        "--candidates", type=str.split, required=True, help="NAME:SCHEDULE[:KEY=VALUE,...], in order"
    )
    p.add_argument("--name", default="gpt1_pretrain_choice")
    p.add_argument("--command", default="experiments/gpt1_pretrain_choice.sh")
    p.add_argument("--wall-seconds", type=float)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    rows = []
    for spec in args.candidates:
        name, schedule, changes = parse(spec)
        rows.append(candidate(name, schedule, changes, args.runs / name, args.out_dir / name))
    summary = {
        **provenance(args.name, args.command, args.wall_seconds, threads=1),
        "task": "sst2",
        "rule": RULE,
        "candidates": rows,
        "chosen": choose(rows),
    }
    write_json(args.out, summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
