"""Write the JSON summary of one experiment run (settings, seed, updates, wall time, metrics, machine), the
file docs/results.md is generated from (``make results-docs``).

    python experiments/summarize.py RUN_DIR --name multi30k --command "experiments/multi30k.sh" \
        --wall-seconds 3300 --eval RUN_DIR/eval --out results/multi30k.json

``--eval`` is a folder of ``ronbun mt evaluate --json`` outputs named ``<checkpoint>_<split>_beam<k>.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from ronbun.evaluation.provenance import machine_description


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def summarize(run: Path, name: str, command: str, wall_seconds: float | None, evals: Path | None) -> dict:
    config = json.loads((run / "run_config.json").read_text(encoding="utf-8"))
    checkpoints = sorted((run / "checkpoints").glob("step_*"))
    state = json.loads((checkpoints[-1] / "trainer_state.json").read_text()) if checkpoints else {}
    metrics = read_jsonl(run / "metrics.jsonl")
    valid = [
        {k: m[k] for k in ("step", "valid_loss", "valid_ppl", "valid_bleu") if k in m}
        for m in metrics
        if m.get("split") == "valid"
    ]
    results: dict[str, Any] = {}
    for path in sorted(evals.glob("*.json")) if evals and evals.is_dir() else []:
        results[path.stem] = json.loads(path.read_text(encoding="utf-8"))
    return {
        "name": name,
        "command": command,
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d"),
        "machine": machine_description(threads=config["trainer"].get("threads")),
        "settings": config,
        "seed": config["trainer"].get("seed", 0),
        "updates": state.get("step"),
        "max_updates": config["trainer"].get("max_steps"),
        "train_seconds": round(float(state.get("train_seconds", 0.0)), 1),
        "wall_seconds": wall_seconds,
        "tokens_seen": state.get("tokens_seen"),
        "validation_curve": valid,
        "evaluations": results,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run", type=Path)
    p.add_argument("--name", required=True)
    p.add_argument("--command", required=True)
    p.add_argument("--wall-seconds", type=float)
    p.add_argument("--eval", type=Path)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    summary = summarize(args.run, args.name, args.command, args.wall_seconds, args.eval)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".json.partial")
    tmp.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(args.out)
    print(f"summary → {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
