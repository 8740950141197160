"""experiments/gpt_copy_onset.py's copying stream: the copying task as pre-training sees text (§3.1, Eq. 1), each
line a sentence of the diagnostics' grammar followed by itself, the same file on every machine."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

from ronbun.gpt.diagnostics import NOUNS

ROOT = Path(__file__).resolve().parents[2]


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "gpt_copy_onset", ROOT / "experiments" / "gpt_copy_onset.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_line_of_the_copying_stream_is_a_sentence_followed_by_itself(tmp_path):
    script = _script()
    out = tmp_path / "copy.txt"
    assert script.main(["--corpus", "--out", str(out)]) == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 20000 and len(set(lines)) > 19000  # varied, not one line repeated
    for line in lines[:200]:
        words = line.split()
        half = len(words) // 2
        assert words[:half] == words[half:] and words[half - 1] == "." and words[2] in NOUNS
    again = tmp_path / "again.txt"
    script.main(["--corpus", "--out", str(again)])
    assert again.read_bytes() == out.read_bytes()  # seeded


def test_copying_is_measured_at_the_checkpoints_asked_for_and_a_missing_one_is_named(tmp_path):
    """``--checkpoints RUN --steps 2,4`` scores only those updates' checkpoints (a long run keeps dozens), each the
    loss on a sentence and on its repeat; an update the run has no checkpoint of stops with the ones it has."""
    from ronbun.gpt.pretrain import PRETRAIN_TRAINER_DEFAULTS, LMDataConfig, LMTask
    from ronbun.training.loop import Trainer, TrainerConfig

    run = tmp_path / "run"
    task = LMTask(
        LMDataConfig(builtin_sentences=300, batch_size=4, eval_windows=2),
        out_dir=run,
        preset="tiny",
        model_overrides={"n_ctx": 32, "d_model": 32, "n_heads": 2, "d_ff": 64},
        log=lambda m: None,
    )
    settings = {
        "out_dir": str(run),
        "max_steps": 6,
        "warmup": 1,
        "eval_every": 0,
        "save_every": 2,
        "progress": False,
    }
    Trainer(task, TrainerConfig(**{**PRETRAIN_TRAINER_DEFAULTS, **settings}), log=lambda m: None).fit()
    texts = tmp_path / "texts.txt"
    texts.write_text("the dog runs .\na cat sleeps .\n", encoding="utf-8")
    out = tmp_path / "copying.json"
    script = _script()
    argv = ["--checkpoints", str(run), "--texts", str(texts), "--out", str(out)]
    assert script.main([*argv, "--steps", "2,6"]) == 0
    summary = json.loads(out.read_text(encoding="utf-8"))
    assert [c["update"] for c in summary["checkpoints"]] == [2, 6]
    assert "--steps 2,6" in summary["command"]
    assert all(c["heldout"]["texts"] == 2 and c["heldout"]["repeated"] > 0 for c in summary["checkpoints"])
    with pytest.raises(SystemExit, match="no checkpoint of update 5 .*2, 4, 6"):
        script.main([*argv, "--steps", "2,5"])
