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


FAKE_EVALUATE = """#!/usr/bin/env bash
# stand-in for `ronbun mt evaluate`: BLEU is a function of (split, beam, alpha, how many checkpoints: several
# are an ensemble, 0.4 better); every call is logged
echo "$*" >> "$FAKE_LOG"
shift 2; models=0; while [[ $1 != --* ]]; do models=$((models + 1)); shift; done
while (( $# )); do case $1 in --split) split=$2;; --beam) beam=$2;; --alpha) alpha=$2;; --json) out=$2;; esac; shift; done
PYTHON - "$split" "$beam" "$alpha" "$out" "$models" <<'PY'
import json, sys
split, beam, alpha, out, models = sys.argv[1:]
bleu = {("4", "0.6"): 30.0, ("4", "1.5"): 31.0, ("8", "0.6"): 29.0, ("8", "1.5"): 31.0}[(beam, alpha)]
lc_tok = {("4", "0.6"): 30.0, ("4", "1.5"): 30.5, ("8", "0.6"): 32.0, ("8", "1.5"): 31.0}[(beam, alpha)]
test = (1.0 if split == "test" else 0.0) + (0.4 if models != "1" else 0.0)
json.dump({"raw": {"sacrebleu": bleu + test}, "lowercase_tokenised": {"tokenised_bleu": lc_tok + test}}, open(out, "w"))
PY
"""


def _choose_decoding(
    tmp_path: Path, run_config: dict | None = None, models: str | None = None
) -> tuple[Path, list[str]]:
    """Run experiments/multi30k_alpha.sh on a run folder (six checkpoints kept) whose evaluations come from
    FAKE_EVALUATE (BEAMS "4 8", ALPHAS "0.6 1.5", MODELS if given); return the run folder and the logged
    evaluate calls."""
    fake = tmp_path / "ronbun"
    fake.write_text(FAKE_EVALUATE.replace("PYTHON", sys.executable))
    fake.chmod(0o755)
    run = tmp_path / "run"
    (run / "eval").mkdir(parents=True)
    for step in range(1, 7):
        (run / "checkpoints" / f"step_{step:08d}").mkdir(parents=True)
    if run_config is not None:
        (run / "run_config.json").write_text(json.dumps(run_config))
    env = {
        **os.environ,
        "RONBUN": str(fake),
        "PYTHON": sys.executable,
        "FAKE_LOG": str(tmp_path / "calls.log"),
    }
    env |= {"BEAMS": "4 8", "ALPHAS": "0.6 1.5"} | ({"MODELS": models} if models else {})
    script = ROOT / "experiments" / "multi30k_alpha.sh"
    done = subprocess.run(
        ["bash", str(script), str(run)], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return run, (tmp_path / "calls.log").read_text().splitlines()


def test_the_beam_and_length_penalty_are_chosen_on_valid_and_test_is_decoded_once(tmp_path):
    """§6.1 decodes with beam 4 and α 0.6; the recipe chooses both on the validation split among BEAMS × ALPHAS
    (a tie goes to the smaller beam, then the smaller α), then decodes test2016 once, at the choice."""
    run, calls = _choose_decoding(tmp_path)
    choice = json.loads((run / "eval" / "alpha_choice.json").read_text())
    assert (choice["beam"], choice["alpha"]) == ("4", "1.5")  # 31.0 at beam 4 and at beam 8: the smaller beam
    assert choice["candidates_by_beam"] == {"4": {"0.6": 30.0, "1.5": 31.0}, "8": {"0.6": 29.0, "1.5": 31.0}}
    assert len([c for c in calls if "--split valid" in c]) == 4
    assert [c for c in calls if "--split test" in c] == [
        c for c in calls if "--split test" in c and "--beam 4 --alpha 1.5" in c
    ] and len([c for c in calls if "--split test" in c]) == 1
    assert (
        json.loads((run / "eval" / "averaged_test_beam4_alpha1.5.json").read_text())["raw"]["sacrebleu"]
        == 32.0
    )


def test_a_literature_mode_model_is_chosen_by_its_lower_cased_tokenised_bleu(tmp_path):
    """A model trained on lower-cased, tokenised text writes no case, so cased sacreBLEU cannot rank its decodings:
    the beam and α are chosen by lc-tok BLEU on valid (the convention it is reported in), test decoded once."""
    run, calls = _choose_decoding(tmp_path, {"data": {"lowercase_tokenized": True}})
    choice = json.loads((run / "eval" / "alpha_choice.json").read_text())
    assert (choice["metric"], choice["beam"], choice["alpha"]) == (
        "lc-tok BLEU",
        "8",
        "0.6",
    )  # cased: beam 4, α 1.5
    assert choice["candidates_by_beam"]["8"] == {"0.6": 32.0, "1.5": 31.0}
    tests = [c for c in calls if "--split test" in c]
    assert len(tests) == 1 and "--beam 8 --alpha 0.6" in tests[0]


def test_an_ensemble_of_the_averaged_checkpoints_is_a_candidate_chosen_on_valid(tmp_path):
    """With MODELS="averaged ensemble" the last 5 checkpoints (the ones averaged) also decode as one ensemble;
    the model, beam and α are chosen together on valid, and test2016 is decoded once, by the choice."""
    run, calls = _choose_decoding(tmp_path, models="averaged ensemble")
    choice = json.loads((run / "eval" / "alpha_choice.json").read_text())
    assert (choice["model"], choice["beam"], choice["alpha"]) == ("ensemble", "4", "1.5")
    assert choice["candidates_by_model"]["ensemble"] == {
        "4": {"0.6": 30.4, "1.5": 31.4},
        "8": {"0.6": 29.4, "1.5": 31.4},
    }
    assert choice["candidates_by_beam"] == choice["candidates_by_model"]["ensemble"]
    assert len([c for c in calls if "--split valid" in c]) == 8
    (test,) = [c for c in calls if "--split test" in c]
    last5 = " ".join(str(run / "checkpoints" / f"step_{step:08d}") for step in range(2, 7))
    assert test.startswith(f"mt evaluate {last5} --dataset") and "--beam 4 --alpha 1.5" in test
    assert (
        json.loads((run / "eval" / "ensemble_test_beam4_alpha1.5.json").read_text())["raw"]["sacrebleu"]
        == 32.4
    )
