"""experiments/gpt1_sst2.sh reports every run or fails: no fine-tune drops silently out of the table."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_gpt1_sst2_script_fails_when_one_of_its_parallel_runs_fails(tmp_path):
    """A bare `wait` returns 0 even when a background fine-tune failed; the script must not drop a run
    silently from its table."""
    (tmp_path / "runs" / "gpt_pretrain" / "checkpoints").mkdir(parents=True)  # pre-training already done
    fake = tmp_path / "ronbun"
    fake.write_text(
        '#!/usr/bin/env bash\nif [[ "$*" == *scratch_s1* && "$1 $2" == "gpt finetune" ]]; then exit 3; fi\n'
        'echo "accuracy 0.5"\n'
    )
    fake.chmod(0o755)
    env = {**os.environ, "RONBUN": str(fake), "OUT": str(tmp_path / "runs"), "STEPS": "1"}
    done = subprocess.run(
        ["bash", str(ROOT / "experiments" / "gpt1_sst2.sh")],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0
    assert "a fine-tuning run failed" in done.stderr
    assert (tmp_path / "runs" / "sst2_noaux_s2.eval.txt").is_file()  # the other runs still ran
