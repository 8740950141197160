"""Write the JSON summary of one experiment run (settings, seed, updates, wall time, metrics, machine), the
file docs/results.md is generated from (``make results-docs``).  Translation and GPT runs alike: any run
directory of the Trainer (``run_config.json``, ``checkpoints/``, ``metrics.jsonl``).

    python experiments/summarize.py RUN_DIR --name multi30k --command "experiments/multi30k.sh" \
        --wall-seconds 3300 --eval RUN_DIR/eval --out results/multi30k.json

``--eval`` is a folder of ``ronbun mt evaluate --json`` / ``ronbun gpt evaluate --json`` outputs, each kept
under its file name (``<checkpoint>_<split>_beam<k>.json`` → ``averaged_test_beam4``); ``--extra KEY=FILE``
adds a JSON file under ``KEY`` (e.g. the pre-training corpus' manifest).

The pieces (:func:`provenance`, :func:`run_summary`, :func:`write_json`) are also what the summaries of
multi-run experiments are made of (``experiments/gpt1_transfer_summary.py``).
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


def read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def provenance(name: str, command: str, wall_seconds: float | None, threads: int | None) -> dict[str, Any]:
    """What identifies a result besides its numbers: command, date, machine and versions, wall time."""
    return {
        "name": name,
        "command": command,
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d"),
        "machine": machine_description(threads=threads),
        "wall_seconds": wall_seconds,
    }


def run_summary(run: Path, evals: Path | None = None) -> dict[str, Any]:
    """One training run: its resolved settings, seed, updates done and planned, training time, tokens seen,
    validation curve (every ``valid_*`` metric of ``metrics.jsonl``) and the evaluation reports in ``evals``."""
    config = read_json(run / "run_config.json")
    checkpoints = sorted((run / "checkpoints").glob("step_*"))
    state = read_json(checkpoints[-1] / "trainer_state.json") if checkpoints else {}
    valid = [
        {k: v for k, v in m.items() if k == "step" or k.startswith("valid_")}
        for m in read_jsonl(run / "metrics.jsonl")
        if m.get("split") == "valid"
    ]
    results = {
        path.stem: read_json(path)
        for path in (sorted(evals.glob("*.json")) if evals and evals.is_dir() else [])
    }
    return {
        "settings": config,
        "seed": config["trainer"].get("seed", 0),
        "updates": state.get("step"),
        "max_updates": config["trainer"].get("max_steps"),
        "train_seconds": round(float(state.get("train_seconds", 0.0)), 1),
        "tokens_seen": state.get("tokens_seen"),
        "validation_curve": valid,
        "evaluations": results,
    }


def summarize(
    run: Path,
    name: str,
    command: str,
    wall_seconds: float | None,
    evals: Path | None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The summary of one run: :func:`provenance` + :func:`run_summary` (+ ``extra`` sections)."""
    one = run_summary(run, evals)
    threads = one["settings"]["trainer"].get("threads")
    return {**provenance(name, command, wall_seconds, threads), **one, **(extra or {})}


def write_json(path: Path, summary: dict[str, Any]) -> None:
    """Write ``summary`` atomically (a stopped script never leaves half a file in results/)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.partial")
    tmp.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)
    print(f"summary → {path}")


def _extra(items: list[str]) -> dict[str, Any]:
    pairs = [item.split("=", 1) for item in items]
    if any(len(p) != 2 for p in pairs):
        raise SystemExit("--extra takes KEY=FILE")
    return {key: read_json(Path(file)) for key, file in pairs}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run", type=Path)
    p.add_argument("--name", required=True)
    p.add_argument("--command", required=True)
    p.add_argument("--wall-seconds", type=float)
    p.add_argument("--eval", type=Path)
    p.add_argument("--extra", action="append", default=[], metavar="KEY=FILE", help="add a JSON file")
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    summary = summarize(args.run, args.name, args.command, args.wall_seconds, args.eval, _extra(args.extra))
    write_json(args.out, summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
