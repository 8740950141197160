"""The Multi30k recipe protects its result: a few hundred updates of ``experiments/multi30k.sh``'s model and
optimiser settings (§5.3 schedule, §5.4 label smoothing, byte-level BPE on the raw cased text) reach a stated
greedy validation BLEU.  A regression anywhere on the path (data, BPE, model, loss, schedule, decoding,
scoring) shows up as a score below the floor.

Slow: ``pytest -m slow tests/mt/test_multi30k_floor.py``.  It runs in fp32 on every CPU, so the floor is the
same everywhere; on a 2-vCPU AMD EPYC (AVX2) one run took 10.3 minutes of training on one thread with a second
job beside it (about 1.5 s per update).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

MULTI30K = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "multi30k"
UPDATES = 400
WARMUP = 200
LR = 0.7  # Eq. 3's scale: a peak of 0.7 · 256^-0.5 · 200^-0.5 = 0.0031 at update 200

# Three measured runs (seeds 0, 1, 2; fp32, 1 thread each; 2026-12-03, 2-vCPU AMD EPYC (AVX2), torch 2.13.0):
# final validation loss (label-smoothed, whole split) and greedy BLEU (first 300 sentences).  After 400 updates the
# BLEU is small and noisy (spread 1.9), the loss is not (spread 0.075): the loss ceiling sits 0.23 (3× its spread)
# above the highest, the BLEU floor 2.78 below the lowest, so a model that stops learning fails either way.
# With Eq. 3's scale at 1.0 (the full recipe's) and this short warm-up the peak rate is 0.0044, and one of three
# seeds diverged (validation loss 5.53); 0.7 keeps all three on course.
MEASURED = {
    0: {"valid_loss": 3.947, "valid_bleu": 4.78},
    1: {"valid_loss": 3.963, "valid_bleu": 5.31},
    2: {"valid_loss": 3.888, "valid_bleu": 6.68},
}
LOSS_CEILING = 4.19
BLEU_FLOOR = 2.0


def recipe(out: Path, seed: int = 0, threads: int = 2) -> list[str]:
    """The reduced recipe: the full recipe's model and batch; a shorter warm-up and budget, and a learning-rate
    scale of 0.7 (see ``MEASURED``).  Dropout and label smoothing stay at 0.1, the values ``MEASURED`` was taken
    with: the full recipe's 0.2 and 0.2 pay off late in a 26-epoch run, and the path this test protects (data,
    BPE, model, loss, schedule, decoding, scoring) is the same."""
    return [
        sys.executable, "-m", "ronbun.cli.main", "mt", "train", "--out", str(out),
        "--dataset", "multi30k", "--data-dir", str(MULTI30K), "--vocab-size", "8000",
        "--preset", "small", "--set", "dropout=0.1", "--set", "label_smoothing=0.1", "--max-tokens", "2500", "--lr", str(LR),
        "--warmup", str(WARMUP), "--seed", str(seed), "--max-steps", str(UPDATES),
        "--save-every", str(UPDATES), "--eval-every", str(UPDATES), "--valid-bleu-sentences", "300",
        "--threads", str(threads), "--precision", "fp32", "--no-progress", "--log-every", "100",
    ]  # fmt: skip


def final_validation(out: Path) -> dict:
    """The run's final evaluation: ``valid_loss`` (label-smoothed, the whole validation split) and
    ``valid_bleu`` (greedy, its first 300 sentences)."""
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text(encoding="utf-8").splitlines()]
    return next(row for row in reversed(rows) if "valid_bleu" in row)


@pytest.mark.slow
@pytest.mark.skipif(not MULTI30K.is_dir(), reason="shared Multi30k copy not present")
def test_a_few_hundred_updates_of_the_multi30k_recipe_reach_the_floor(tmp_path):
    done = subprocess.run(recipe(tmp_path / "run"), capture_output=True, text=True, timeout=3600)
    assert done.returncode == 0, done.stderr[-3000:]
    row = final_validation(tmp_path / "run")
    assert row["valid_loss"] <= LOSS_CEILING
    assert row["valid_bleu"] >= BLEU_FLOOR


if __name__ == "__main__":  # measure one run: python tests/mt/test_multi30k_floor.py OUT SEED [THREADS]
    out, seed = Path(sys.argv[1]), int(sys.argv[2])
    subprocess.run(recipe(out, seed, int(sys.argv[3]) if len(sys.argv) > 3 else 2), check=True)
    print(json.dumps({"seed": seed, **final_validation(out)}))
