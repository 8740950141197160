"""Settings are chosen on a validation split carved from the training set (fixed seed, stated size), so
dev is reported once, for the chosen setting only."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ronbun.gpt.diagnostics import write_diagnostic
from ronbun.gpt.tasks import carve_holdout, load_task

CLI = [sys.executable, "-m", "ronbun.cli.main"]


@pytest.fixture(scope="module")
def entailment(tmp_path_factory):
    return write_diagnostic("entailment", tmp_path_factory.mktemp("diag"), n_train=120, n_eval=30)


def test_the_holdout_is_the_same_for_every_run_and_disjoint_from_training(entailment):
    data = load_task("rte", entailment, "train")
    rest, held = carve_holdout(data, 20)
    again_rest, again_held = carve_holdout(load_task("rte", entailment, "train"), 20)
    assert (len(rest), len(held), held.split) == (100, 20, "holdout")
    assert held.examples == again_held.examples and rest.examples == again_rest.examples
    assert sorted(map(repr, rest.examples + held.examples)) == sorted(map(repr, data.examples))
    with pytest.raises(ValueError, match="between 1 and 119"):
        carve_holdout(data, 120)


def test_fine_tuning_evaluates_on_the_holdout_and_evaluate_can_redraw_it(entailment, tmp_path):
    out = tmp_path / "run"
    tune = [*CLI, "gpt", "finetune", "--task", "rte", "--data-dir", str(entailment), "--holdout", "20"]
    tune += ["--from-scratch", "--vocab-size", "300", "--max-steps", "3", "--threads", "1", "--no-progress"]
    done = subprocess.run([*tune, "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "20 examples of train held out as the validation split" in done.stdout + done.stderr
    assert "rte holdout: 20 examples" in done.stdout + done.stderr
    scores = {}
    for split in ("holdout", "dev"):
        ev = subprocess.run(
            [*CLI, "gpt", "evaluate", str(out), "--split", split, "--json"], capture_output=True, text=True
        )
        assert ev.returncode == 0, ev.stderr[-2000:]
        scores[split] = json.loads(ev.stdout)
    assert scores["holdout"]["n"] == 20 and scores["dev"]["n"] == 30
