"""The shell helpers every experiment script sources (experiments/jobs.sh): what a summary records as the
command, and a job pool that fails the script when any job fails."""

from __future__ import annotations

import subprocess
from pathlib import Path

JOBS = Path(__file__).resolve().parents[2] / "experiments" / "jobs.sh"


def bash(script: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", f"set -euo pipefail; source {JOBS}; {script}"],
        capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin", **env},
    )  # fmt: skip


def test_the_recorded_command_leaves_out_resume_which_is_not_part_of_the_recipe():
    out = bash('printf "[%s]" "$(recorded_args --max-minutes 330 --resume --lowercase-tokenized)"')
    assert out.stdout == "[ --max-minutes 330 --lowercase-tokenized]"
    assert bash('printf "[%s]" "$(recorded_args --resume)"').stdout == "[]"
    assert bash('printf "[%s]" "$(recorded_args)"').stdout == "[]"


def test_the_rerun_inputs_name_only_the_variables_that_are_set():
    out = bash('printf "[%s]" "$(given_inputs PRETRAIN NAME)"', PRETRAIN="runs/gpt1_pretrain_ctx256")
    assert out.stdout == "[PRETRAIN=runs/gpt1_pretrain_ctx256 ]"
    assert bash('printf "[%s]" "$(given_inputs PRETRAIN NAME)"').stdout == "[]"


def test_a_failed_background_job_fails_the_pool_where_a_bare_wait_would_not():
    out = bash("PARALLEL=2; launch true; launch false; launch true; wait_all; echo failed=$failed")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("failed=1")
    assert "failed (pid" in out.stderr
    assert (
        bash("PARALLEL=2; launch true; launch true; wait_all; echo failed=$failed")
        .stdout.strip()
        .endswith("failed=0")
    )
