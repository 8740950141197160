"""``experiments/multi30k_levers.sh`` screens changes to the Multi30k recipe: every variant trains with the
recipe's flags plus its own change, and its summary holds the valid and test scores of the average of its last
5 checkpoints at α 0.6 and 1.0 (and of the last 10 for the unchanged recipe), the files docs/results.md's
screening table is generated from.

The screen is slow (about a minute on 2 cores): ``pytest -m slow tests/mt/test_multi30k_levers.py``; the recipe's
defaults are checked in milliseconds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MULTI30K = ROOT.parent / "shared" / "data" / "multi30k"


@pytest.mark.slow
@pytest.mark.skipif(not MULTI30K.is_dir(), reason="shared Multi30k copy not present")
def test_each_screened_variant_is_the_recipe_plus_its_change_scored_on_valid_and_test(tmp_path):
    env = {
        **os.environ,
        "RONBUN": str(Path(sys.executable).parent / "ronbun"),
        "PYTHON": sys.executable,
        "DATA": str(MULTI30K),
        "VARIANTS": "recipe ls0.2",
        "DROPOUT": "0.1",  # the screen's base was the recipe before it adopted P_drop 0.2 and ε_ls 0.2
        "LABEL_SMOOTHING": "0.1",
        "UPDATES": "20",
        "LIMIT": "4",
        "PRESET_FLAGS": "--preset tiny",
        "PRECISION": "fp32",
        "PARALLEL": "2",
        "DEVICE": "auto",  # the GPU where there is one, else the CPU
        "ROOT": str(tmp_path / "runs"),
        "RESULTS": str(tmp_path / "results"),
    }
    subprocess.run(["bash", str(ROOT / "experiments" / "multi30k_levers.sh")], env=env, check=True, cwd=ROOT)

    recipe = json.loads((tmp_path / "results" / "multi30k_screen_recipe.json").read_text())
    changed = json.loads((tmp_path / "results" / "multi30k_screen_ls0.2.json").read_text())
    five = {f"averaged_{split}_beam4{a}" for split in ("valid", "test") for a in ("", "_alpha1.0")}
    assert set(changed["evaluations"]) == five
    assert set(recipe["evaluations"]) == five | {k.replace("averaged", "avg10") for k in five}
    for s in (recipe, changed):
        assert (
            s["updates"] == 20
            and "VARIANTS=" in s["command"]
            and 'PRESET_FLAGS="--preset tiny"' in s["command"]
            and s["command"].startswith(
                "DROPOUT=0.1 LABEL_SMOOTHING=0.1 "
            )  # the base, so the command reruns it
        )
        assert all(e["sentences"] == 4 for e in s["evaluations"].values())
    run_config = json.loads((tmp_path / "runs" / "ls0.2" / "run_config.json").read_text())
    assert run_config["model"]["label_smoothing"] == 0.2  # the change
    base = json.loads((tmp_path / "runs" / "recipe" / "run_config.json").read_text())
    assert base["model"]["label_smoothing"] == 0.1 and base["model"]["dropout"] == 0.1
    assert run_config["trainer"]["warmup"] == 800 and run_config["data"]["max_tokens"] == 2500  # the recipe


def test_the_recipe_is_5400_updates_with_dropout_and_label_smoothing_0_2_unless_overridden():
    """experiments/multi30k_recipe.sh holds the recipe once: 5,400 updates (what fits 60 minutes of training on
    2 AVX-512 BF16 threads), P_drop 0.2, ε_ls 0.2, checkpoints every UPDATES/20; each overridable from the
    environment (the earlier recipe's runs record DROPOUT=0.1 LABEL_SMOOTHING=0.1)."""

    def flags(**env: str) -> list[str]:
        script = (
            "source experiments/multi30k_recipe.sh; THREADS=2 PRECISION=bf16 RONBUN=echo; multi30k_train OUT"
        )
        clean = {
            k: v for k, v in os.environ.items() if k not in ("UPDATES", "DROPOUT", "LABEL_SMOOTHING", "SEED")
        }
        done = subprocess.run(
            ["bash", "-c", script], env={**clean, **env}, cwd=ROOT, capture_output=True, text=True, check=True
        )
        return done.stdout.split()

    recipe = " ".join(flags())
    assert "--max-steps 5400 " in recipe and "--save-every 270 " in recipe
    assert "--set dropout=0.2 --set label_smoothing=0.2 " in recipe and "--seed 0 " in recipe
    earlier = " ".join(flags(UPDATES="6600", DROPOUT="0.1", LABEL_SMOOTHING="0.1"))
    assert "--max-steps 6600 " in earlier and "--save-every 330 " in earlier
    assert "--set dropout=0.1 --set label_smoothing=0.1 " in earlier
