"""``experiments/multi30k_levers.sh`` screens changes to the Multi30k recipe: every variant trains with the
recipe's flags plus its own change, and its summary holds the valid and test scores of the average of its last
5 checkpoints at α 0.6 and 1.0 (and of the last 10 for the unchanged recipe), the files docs/results.md's
screening table is generated from.

Slow (about a minute on 2 cores): ``pytest -m slow tests/mt/test_multi30k_levers.py``.
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
        )
        assert all(e["sentences"] == 4 for e in s["evaluations"].values())
    run_config = json.loads((tmp_path / "runs" / "ls0.2" / "run_config.json").read_text())
    assert run_config["model"]["label_smoothing"] == 0.2  # the change
    assert run_config["trainer"]["warmup"] == 800 and run_config["data"]["max_tokens"] == 2500  # the recipe
