"""The recipes in experiments/ run end to end: the paper's WMT 2014 base recipe on a tiny slice of real
newstest data (CPU, a few updates), with every flag of the recipe exercised."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NEWSTEST = ROOT.parent / "shared" / "data" / "wmt_newstest_de_en"
needs_newstest = pytest.mark.skipif(not NEWSTEST.is_dir(), reason="shared WMT newstest copy not present")


def _head(src: Path, dst: Path, n: int) -> Path:
    lines = src.read_text(encoding="utf-8").splitlines()[:n]
    dst.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return dst


@needs_newstest
def test_the_wmt14_base_recipe_runs_on_a_tiny_slice(tmp_path):
    news = tmp_path / "newstest"
    news.mkdir()
    for year, n in (("2013", 12), ("2014", 12)):
        for lang in ("en", "de"):
            _head(NEWSTEST / f"newstest{year}.{lang}", news / f"newstest{year}.{lang}", n)
    train_src = _head(NEWSTEST / "newstest2012.en", tmp_path / "train.en", 200)
    train_tgt = _head(NEWSTEST / "newstest2012.de", tmp_path / "train.de", 200)
    env = {
        **os.environ,
        "RONBUN": f"{sys.executable} -m ronbun.cli.main",
        "OUT": str(tmp_path / "run"),
        "NEWSTEST": str(news),
        "TRAIN_SRC": str(train_src),
        "TRAIN_TGT": str(train_tgt),
        "ACCUM": "2",
    }
    tiny = ["--preset", "tiny", "--vocab-size", "400", "--max-tokens", "600", "--max-steps", "6"]
    tiny += ["--save-every", "1", "--warmup", "3", "--eval-every", "6", "--valid-bleu-sentences", "4"]
    done = subprocess.run(
        ["bash", str(ROOT / "experiments" / "wmt14_base.sh"), *tiny, "--threads", "1"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    run = tmp_path / "run"
    resolved = json.loads((run / "run_config.json").read_text())
    assert resolved["trainer"]["accum_steps"] == 2 and resolved["trainer"]["betas"] == [0.9, 0.98]
    assert resolved["data"]["vocab_size"] == 400 and resolved["trainer"]["max_steps"] == 6
    assert "averaged 5 checkpoint(s): step_00000002" in done.stdout
    scores = json.loads((run / "newstest2014.json").read_text())
    assert scores["sentences"] == 12 and scores["beam"] == 4 and scores["alpha"] == 0.6
    assert "sacrebleu" in json.dumps(scores["raw"]).lower()
    assert len((run / "newstest2014.de").read_text(encoding="utf-8").splitlines()) == 12
