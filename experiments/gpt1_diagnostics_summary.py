"""The summary of experiments/gpt1_diagnostics.sh: one row per diagnostic and starting point, its score on the
generated evaluation split against the diagnostic's target → results/NAME.json.

    python experiments/gpt1_diagnostics_summary.py RUNS --diagnostics "entailment ..." --train 20000 --eval 500 \
        --command "..." --wall-seconds 1200 --out results/gpt1_diagnostics.json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from summarize import provenance, read_json, run_summary, write_json

from ronbun.gpt.diagnostics import DIAGNOSTICS
from ronbun.gpt.tasks import get_task

INIT_LABELS = {"pretrained": "pre-trained", "scratch": "random initialisation"}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", type=Path)
    p.add_argument("--diagnostics", type=str.split, required=True)
    p.add_argument("--inits", type=str.split, default=list(INIT_LABELS))
    p.add_argument("--train", type=int, required=True)
    p.add_argument("--eval", type=int, required=True)
    p.add_argument("--name", default="gpt1_diagnostics")
    p.add_argument("--command", default="experiments/gpt1_diagnostics.sh")
    p.add_argument("--wall-seconds", type=float)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    rows = []
    for name in args.diagnostics:
        spec = DIAGNOSTICS[name]
        for init in args.inits:
            run = args.runs / f"{name}_{init}"
            run_info = run_summary(run)
            rows.append(
                {
                    "diagnostic": name,
                    "task": spec.task,
                    "kind": get_task(spec.task).kind,
                    "init": init,
                    "metric": spec.metric,
                    "target": spec.target,
                    "score": float(read_json(run / "eval" / "score.json")[spec.metric]),
                    "updates": run_info["updates"],
                    "lr": run_info["settings"]["trainer"].get("lr"),
                    "train_seconds": run_info["train_seconds"],
                }
            )
    summary = {
        **provenance(args.name, args.command, args.wall_seconds, threads=1),
        "data": f"{args.train:,} generated training and {args.eval:,} evaluation examples per diagnostic (seed 0)",
        "init_labels": INIT_LABELS,
        "runs": rows,
    }
    write_json(args.out, summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
