"""experiments/gpt_copy_onset.py's copying stream: the copying task as pre-training sees text (§3.1, Eq. 1), each
line a sentence of the diagnostics' grammar followed by itself, the same file on every machine."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

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
