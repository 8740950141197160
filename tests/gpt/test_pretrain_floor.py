"""GPT-1 pre-training protects its result: a few hundred updates of the §4.1 objective (Eq. 1) on a real
corpus (tiny-shakespeare, byte-level BPE) bring the perplexity of the WHOLE held-out split under a stated
ceiling.  A regression in the corpus reader, the tokenizer, the model, the loss or the schedule shows up as a
perplexity above it.

Slow (about 2 minutes on a 2-core CPU): ``pytest -m slow tests/gpt/test_pretrain_floor.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
UPDATES = 600

# Precision `auto`: bf16 where the CPU has it natively (as in the measured runs), else fp32, since emulated bf16
# would take about five times as long.
# Three measured runs (seeds 0, 1, 2; 2 threads, bf16 on an AVX-512 BF16 CPU; 2026-12-02, 2-vCPU AMD EPYC, torch 2.13.0): held-out
# perplexity on the first 43,392 predicted tokens of the validation split (the evaluation then stopped at the
# last full window; it now scores all 43,512: 0.3% more tokens cannot close the 8% margin below).  The ceiling
# sits 8% above the highest, four times their spread (2.4): a real regression (a broken mask, loss or
# schedule) lands far above it.
MEASURED = {0: 129.52, 1: 127.16, 2: 129.56}
# fp32 on an AVX2 CPU without native bf16 (seed 0, same date and torch): 129.63, under the same ceiling.
PPL_CEILING = 140.0


def recipe(out: Path, seed: int = 0, threads: int = 2) -> list[str]:
    """The `tiny` GPT (2 × 64, n_ctx 128) for a few hundred updates; perplexity on every held-out window."""
    return [
        sys.executable, "-m", "ronbun.cli.main", "gpt", "pretrain", "--out", str(out),
        "--corpus", "tiny_shakespeare", "--data-dir", str(SHARED), "--vocab-size", "2000",
        "--preset", "tiny", "--batch-size", "16", "--lr", "1e-3", "--warmup", "60",
        "--seed", str(seed), "--max-steps", str(UPDATES), "--eval-every", str(UPDATES),
        "--save-every", str(UPDATES), "--eval-windows", "0",
        "--threads", str(threads), "--precision", "auto", "--no-progress", "--log-every", "100",
    ]  # fmt: skip


def final_validation(out: Path) -> dict:
    """The run's last validation row: ``valid_ppl`` and the number of held-out tokens it covers."""
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text(encoding="utf-8").splitlines()]
    return next(row for row in reversed(rows) if "valid_ppl" in row)


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED / "tiny_shakespeare").is_dir(), reason="shared tiny-shakespeare not present")
def test_a_few_hundred_updates_of_pretraining_stay_under_the_perplexity_ceiling(tmp_path):
    done = subprocess.run(recipe(tmp_path / "run"), capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stderr[-3000:]
    row = final_validation(tmp_path / "run")
    assert row["valid_tokens"] > 10_000  # the whole held-out split, not a sample of it
    assert row["valid_ppl"] <= PPL_CEILING


if __name__ == "__main__":  # measure one run: python tests/gpt/test_pretrain_floor.py OUT SEED
    out, seed = Path(sys.argv[1]), int(sys.argv[2])
    subprocess.run(recipe(out, seed), check=True)
    print(json.dumps({"seed": seed, **final_validation(out)}))
