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


def _phrase_treebank(tmp_path, n_sentences: int = 40):
    """SST-2's layout: every sentence together with phrases of its parse tree, each with its own label."""
    import random

    rng = random.Random(1)
    words = [
        "a",
        "film",
        "plot",
        "moving",
        "dull",
        "quite",
        "funny",
        "story",
        "ending",
        "cast",
        "sharp",
        "slow",
    ]
    rows = []
    for k in range(n_sentences):
        sentence = [f"s{k}", *rng.choices(words, k=rng.randint(5, 9))]  # unique: no sentence inside another
        rows.append(" ".join(sentence))
        for _ in range(4):
            i = rng.randrange(len(sentence) - 1)
            rows.append(" ".join(sentence[i : rng.randint(i + 1, len(sentence) - 1)]))
    folder = tmp_path / "SST-2"
    folder.mkdir(parents=True)
    (folder / "train.tsv").write_text("sentence\tlabel\n" + "".join(f"{r}\t{len(r) % 2}\n" for r in rows))
    return load_task("sst2", folder, "train")


def test_a_phrase_level_task_holds_out_whole_sentences_and_none_of_their_parts(tmp_path):
    """SST-2's training split holds the phrases of each sentence's parse tree: a random draw of them would
    validate on text seen in training.  Its holdout is whole sentences, and their parts leave training."""
    data = _phrase_treebank(tmp_path)
    rest, held = carve_holdout(data, 10)
    sentences = [ex.texts[0] for ex in held.examples]
    assert len(sentences) == 10 and all(t.split()[0].startswith("s") for t in sentences)  # whole sentences

    def inside(part: str, whole: str) -> bool:
        return f" {part} " in f" {whole} "

    assert not any(inside(ex.texts[0], s) for ex in rest.examples for s in sentences)  # no leak
    kept = {ex.texts[0] for ex in rest.examples}
    assert len(
        kept & {ex.texts[0] for ex in data.examples if not any(inside(ex.texts[0], s) for s in sentences)}
    )
    assert len(rest) + len(held) < len(data)  # the parts of the held-out sentences were dropped
    assert carve_holdout(_phrase_treebank(tmp_path / "again"), 10)[1].examples == held.examples  # fixed draw
    with pytest.raises(ValueError, match="fewer than the 40 whole sentences"):
        carve_holdout(data, 40)


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
