"""docs/results.md cannot drift from the runs: its tables are generated from the committed JSON summaries in
results/, and the committed page equals what the generator makes of them."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

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


def test_the_committed_results_page_matches_the_committed_summaries():
    gen = _generator()
    page = (ROOT / "docs" / "results.md").read_text(encoding="utf-8")
    assert gen.render(page, ROOT / "results") == page, "docs/results.md is stale: run `make results-docs`"
