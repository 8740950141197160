"""The GPT-1 experiments reproduce their tables with one command each (experiments/gpt1_pretrain.sh,
experiments/gpt1_sst2.sh): the pre-training corpus holds out part of every source and trains on no evaluation
set, perplexity covers the whole held-out text of every source, the fine-tuning budget is chosen on a holdout
carved from SST-2 train and dev is scored once, for that budget; a failed run fails the script, and the JSON
summaries carry what docs/results.md is generated from.

The fast tests drive the scripts with a stand-in for ``ronbun`` that writes run folders in the Trainer's layout;
the slow ones run the real commands at a minuscule budget on a generated miniature of the shared data folder.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import math
import os
import random
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
WORDS = [
    "the",
    "a",
    "man",
    "woman",
    "dog",
    "cat",
    "sees",
    "finds",
    "old",
    "small",
    "house",
    "garden",
    "book",
    "reads",
    "good",
    "bad",
    "film",
    "plot",
]


def _sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 9)))


def write_shared_data(root: Path) -> Path:
    """The shared data folder in miniature: every file the corpus builder and the two scripts read."""
    rng = random.Random(0)
    (root / "brown_corpus").mkdir(parents=True)
    with zipfile.ZipFile(root / "brown_corpus" / "brown.zip", "w") as z:
        for i in range(20):
            z.writestr(f"brown/ca{i + 1:02d}", "\n".join(f"\t{_tag(_sentence(rng))} ./." for _ in range(8)))
    (root / "ptb_treebank_sample").mkdir()
    with zipfile.ZipFile(root / "ptb_treebank_sample" / "treebank.zip", "w") as z:
        for i in range(20):
            z.writestr(
                f"treebank/raw/wsj_{i + 1:04d}", ".START \n\n" + "\n".join(_sentence(rng) for _ in range(6))
            )
    (root / "tiny_shakespeare").mkdir()
    (root / "tiny_shakespeare" / "input.txt").write_text("".join(f"{_sentence(rng)}\n" for _ in range(200)))
    (root / "multi30k" / "raw").mkdir(parents=True)
    for split, n in (("train", 150), ("val", 20), ("test_2016_flickr", 20)):
        with gzip.open(root / "multi30k" / "raw" / f"{split}.en.gz", "wt", encoding="utf-8") as f:
            f.write("".join(f"{split} {_sentence(rng)}\n" for _ in range(n)))
    (root / "wikitext2_eval").mkdir()
    for split in ("valid", "test"):
        (root / "wikitext2_eval" / f"wiki.{split}.tokens").write_text(
            "".join(f" {split} {_sentence(rng)} \n" for _ in range(40))
        )
    (root / "glue" / "SST-2").mkdir(parents=True)
    for split, n in (("train", 80), ("dev", 20)):
        rows = [(s, int("good" in s.split())) for s in (_sentence(rng) for _ in range(n))]
        (root / "glue" / "SST-2" / f"{split}.tsv").write_text(
            "sentence\tlabel\n" + "".join(f"{s}\t{y}\n" for s, y in rows)
        )
    return root


def _tag(sentence: str) -> str:
    return " ".join(f"{w}/nn" for w in sentence.split())


def _experiment_module(name: str) -> ModuleType:
    """experiments/NAME.py as a module (the experiments folder is not a package)."""
    sys.path.insert(0, str(ROOT / "experiments"))
    spec = importlib.util.spec_from_file_location(name, ROOT / "experiments" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _results_docs() -> ModuleType:
    return _experiment_module("results_docs")


def _corpus_builder() -> ModuleType:
    return _experiment_module("gpt_corpus")


def test_the_pretraining_corpus_holds_out_part_of_every_source_and_trains_on_no_evaluation_set(tmp_path):
    data = write_shared_data(tmp_path / "data")
    manifest = _corpus_builder().build(data, tmp_path / "corpus")
    train = set((tmp_path / "corpus" / "train.txt").read_text().splitlines())
    sources = ("brown", "ptb_sample", "tiny_shakespeare", "multi30k")
    assert tuple(manifest["sources"]) == sources and set(manifest["evaluation_only"]) == {"wikitext2"}
    for name in (*sources, "wikitext2"):
        held = (tmp_path / "corpus" / "heldout" / f"{name}.txt").read_text().splitlines()
        assert held and not train & set(held), name  # held out = never trained on
    valid = (tmp_path / "corpus" / "valid.txt").read_text().splitlines()
    assert (
        manifest["valid"]["lines"]
        == len(valid)
        == sum(s["heldout"]["lines"] for s in manifest["sources"].values())
    )
    assert not any(
        line.startswith(("valid ", "test ", "test_2016")) for line in train
    )  # WikiText-2, Multi30k test
    assert all(len(sha) == 64 for s in manifest["sources"].values() for sha in s["files"].values())


def test_rebuilding_the_same_corpus_leaves_its_files_untouched(tmp_path):
    """The token cache is keyed by the corpus files' path, size and modification time: a rebuild that writes
    the same text (every run of the pre-training script, --resume included) must not touch them, so the
    resumed run reuses its cache instead of tokenising millions of tokens again."""
    data = write_shared_data(tmp_path / "data")
    builder = _corpus_builder()
    builder.build(data, tmp_path / "corpus")
    files = sorted((tmp_path / "corpus").rglob("*.txt"))
    before = {f: f.stat().st_mtime_ns for f in files}
    for f in files:
        os.utime(f, ns=(1_000_000_000, 1_000_000_000))  # an old date: any rewrite would show
    builder.build(data, tmp_path / "corpus")
    assert before and all(f.stat().st_mtime_ns == 1_000_000_000 for f in files)


FAKE_RONBUN = r'''#!PYTHON
"""Stands in for `ronbun gpt ...`: writes what the real commands write, with scores set by the test."""
import json, os, sys
from pathlib import Path

args = sys.argv[1:]
opt = lambda name, default=None: args[args.index(name) + 1] if name in args else default
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(" ".join(args) + "\n")
command = args[1]
if command in ("pretrain", "finetune"):
    out, steps, seed = Path(opt("--out")), int(opt("--max-steps")), int(opt("--seed", 0))
    if os.environ.get("FAKE_FAIL") and os.environ["FAKE_FAIL"] == out.name:
        sys.exit(3)
    data = {"init": opt("--init"), "holdout": int(opt("--holdout", 0)), "batch_size": 32}
    data.update(aux_lm=float(opt("--aux-lm", 0.5)), from_scratch="--from-scratch" in args)
    trainer = {"seed": seed, "max_steps": steps, "threads": int(opt("--threads", 1))}
    (out / "run_config.json").parent.mkdir(parents=True, exist_ok=True)
    (out / "run_config.json").write_text(json.dumps({"preset": "small", "data": data, "trainer": trainer}))
    ckpt = out / "checkpoints" / f"step_{steps:08d}"
    ckpt.mkdir(parents=True)
    (ckpt / "trainer_state.json").write_text(json.dumps({"step": steps, "train_seconds": 2.0, "tokens_seen": 9}))
    (ckpt / "task_config.json").write_text(json.dumps({"train_examples": 64}))
    (out / "metrics.jsonl").write_text(json.dumps({"step": steps, "split": "valid", "valid_ppl": 50.0}) + "\n")
elif opt("--file"):
    print(json.dumps({"corpus": opt("--file"), "split": "file", "tokens": 123, "loss": 4.0, "perplexity": 54.6}))
else:
    cfg = json.loads((Path(args[2]) / "run_config.json").read_text())
    steps, seed, split = cfg["trainer"]["max_steps"], cfg["trainer"]["seed"], opt("--split")
    holdout = {1: 0.60, 2: 0.80, 3: 0.80}[steps]  # 2 and 3 tie: the smaller budget wins
    by_init = json.loads(os.environ.get("FAKE_HOLDOUT_BY_INIT", "{}"))  # pre-training folder name → holdout
    holdout = by_init.get(Path(cfg["data"]["init"] or "").name, holdout)
    variant = 0.1 if cfg["data"]["from_scratch"] else 0.02 if cfg["data"]["aux_lm"] == 0 else 0.0
    accuracy = holdout if split == "holdout" else 0.85 - variant + 0.01 * seed
    print(json.dumps({"task": "sst2", "split": split, "n": 10 if split == "holdout" else 20, "accuracy": accuracy}))
'''


@pytest.fixture
def fake(tmp_path) -> dict[str, str]:
    """The environment that runs the scripts with the stand-in ronbun on the miniature data folder."""
    path = tmp_path / "ronbun"
    path.write_text(FAKE_RONBUN.replace("PYTHON", sys.executable))
    path.chmod(0o755)
    data = write_shared_data(tmp_path / "data")
    return {
        **os.environ,
        "RONBUN": str(path),
        "PYTHON": sys.executable,
        "PYTHONPATH": str(ROOT / "src"),
        "FAKE_LOG": str(tmp_path / "calls.log"),
        "DATA": str(data),
        "GLUE": str(data / "glue"),
        "CORPUS": str(tmp_path / "corpus"),
        "PRETRAIN": str(tmp_path / "pretrain"),
        "OUT": str(tmp_path / "runs"),
        "RESULTS": str(tmp_path / "results"),
        "HOLDOUT": "10",
        "GRID": "1 2 3",
        "SEEDS": "0 1 2",
    }


@pytest.fixture
def pretrained(fake) -> dict[str, str]:
    """The fake environment with the pre-training already done (its summary in the run folder)."""
    Path(fake["PRETRAIN"]).mkdir()
    summary = {
        "name": "gpt1_pretrain",
        "command": "experiments/gpt1_pretrain.sh",
        "date": "2026-12-02",
        "updates": 759,
    }
    (Path(fake["PRETRAIN"]) / "summary.json").write_text(json.dumps(summary))
    return fake


def _run(script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(ROOT / "experiments" / script)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_pretraining_script_scores_every_held_out_text_and_writes_its_summary(fake, tmp_path):
    done = _run("gpt1_pretrain.sh", {**fake, "OUT": fake["PRETRAIN"], "UPDATES": "4"})
    assert done.returncode == 0, done.stderr[-2000:]
    s = json.loads((tmp_path / "results" / "gpt1_pretrain.json").read_text())
    assert set(s["evaluations"]) == {"brown", "ptb_sample", "tiny_shakespeare", "multi30k", "wikitext2"}
    assert all(e["tokens"] == 123 and e["perplexity"] == 54.6 for e in s["evaluations"].values())
    assert set(s["corpus"]["sources"]) == {"brown", "ptb_sample", "tiny_shakespeare", "multi30k"}
    assert s["updates"] == 4 and s["seed"] == 0 and s["command"].startswith("UPDATES=4 SCHEDULE=1000")
    assert {"cpu", "cores", "threads", "torch"} <= set(s["machine"]) and s["wall_seconds"] is not None
    calls = (tmp_path / "calls.log").read_text().splitlines()
    assert not any("--max-windows" in c for c in calls if c.startswith("gpt evaluate"))  # every token scored
    again = _run("gpt1_pretrain.sh", {**fake, "OUT": fake["PRETRAIN"]})
    assert again.returncode != 0 and "already holds a run" in again.stderr  # never mixes two runs


def test_the_sst2_budget_is_chosen_on_the_holdout_and_dev_is_scored_once_for_it(pretrained, tmp_path):
    done = _run("gpt1_sst2.sh", pretrained)
    assert done.returncode == 0, done.stderr[-2000:]
    s = json.loads((tmp_path / "results" / "gpt1_sst2.json").read_text())
    sel = s["selection"]
    assert [row["holdout"]["accuracy"] for row in sel["grid"]] == [60.0, 80.0, 80.0]
    assert sel["chosen"]["updates"] == s["updates"] == 2 and sel["holdout_examples"] == 10
    assert sel["metric"] == "accuracy" and s["lr"] == 1e-4 and s["clf_dropout"] == 0.1
    assert sel["grid"][1]["epochs"] == 1.0  # 2 updates × 32 examples of the 64 trained on
    dev = {seed: row["accuracy"] for seed, row in s["variants"]["pretrained"]["dev"].items()}
    assert dev == pytest.approx({"0": 85.0, "1": 86.0, "2": 87.0})
    assert s["variants"]["pretrained"]["accuracy"]["mean"] == pytest.approx(86.0)
    assert s["variants"]["pretrained"]["accuracy"]["sd"] == pytest.approx(1.0)
    assert s["variants"]["scratch"]["accuracy"]["mean"] == pytest.approx(76.0)
    assert s["variants"]["noaux"]["accuracy"]["mean"] == pytest.approx(84.0)
    assert s["pretraining_gain"]["accuracy"] == pytest.approx(10.0)
    assert s["command"].startswith("PRECISION=") and "experiments/gpt1_sst2.sh" in s["command"]
    assert f"PRETRAIN={pretrained['PRETRAIN']} " in s["command"]  # the command reruns the same model
    assert len(s["runs"]) == 3 + 3 * 3 - 1  # the grid, and the final runs (one of them the grid's)
    assert s["pretraining"] == {
        "init": pretrained["PRETRAIN"],
        "name": "gpt1_pretrain",
        "command": "experiments/gpt1_pretrain.sh",
        "date": "2026-12-02",
        "updates": 759,
    }
    calls = (tmp_path / "calls.log").read_text().splitlines()
    dev = [c for c in calls if "--split dev" in c]
    assert len(dev) == 9 and all("_u2_" in c for c in dev)  # dev: the chosen budget only, each run once
    assert all("--holdout 10" in c for c in calls if c.startswith("gpt finetune"))


def test_the_sst2_script_fails_when_one_of_its_parallel_runs_fails(pretrained, tmp_path):
    """A bare `wait` returns 0 even when a background fine-tune failed; the script must not drop a run
    silently from its table."""
    done = _run("gpt1_sst2.sh", {**pretrained, "FAKE_FAIL": "scratch_lr1e-4_d0.1_u2_s1"})
    assert done.returncode != 0
    assert "a fine-tuning run failed" in done.stderr
    assert (
        tmp_path / "runs" / "noaux_lr1e-4_d0.1_u2_s2" / "eval" / "dev.json"
    ).is_file()  # the other runs still ran
    assert not (tmp_path / "results" / "gpt1_sst2.json").exists()  # no table with a run missing


def test_a_pair_task_chooses_learning_rate_and_budget_on_the_holdout(pretrained, tmp_path):
    """The same script for any task: the grid is learning rates × budgets; a tie goes to fewer updates, then to
    the lower learning rate, and dev is scored only for the winner."""
    env = {**pretrained, "TASK": "rte", "GRID": "1 2", "LRS": "6.25e-5 2.5e-4", "SEEDS": "0 1"}
    done = _run("gpt1_transfer.sh", env)
    assert done.returncode == 0, done.stderr[-2000:]
    s = json.loads((tmp_path / "results" / "gpt1_rte.json").read_text())
    assert s["task"] == "rte" and s["name"] == "gpt1_rte"
    assert (
        s["command"].startswith("PRECISION=")
        and f" PRETRAIN={pretrained['PRETRAIN']} TASK=rte " in s["command"]
    )
    assert [(r["lr"], r["updates"]) for r in s["selection"]["grid"]] == [
        (6.25e-5, 1),
        (6.25e-5, 2),
        (2.5e-4, 1),
        (2.5e-4, 2),
    ]
    assert s["selection"]["chosen"] == {"lr": 6.25e-5, "clf_dropout": 0.1, "updates": 2}
    calls = (tmp_path / "calls.log").read_text().splitlines()
    dev = [c for c in calls if "--split dev" in c]
    assert len(dev) == 6 and all("_lr6.25e-5_d0.1_u2_" in c for c in dev)
    assert all("--task rte" in c for c in calls if c.startswith("gpt finetune"))


def test_story_cloze_trains_on_its_validation_stories_and_reports_test_once(pretrained, tmp_path):
    """§3.3 multiple choice: Story Cloze has no training split, so the holdout is carved from its validation
    stories (finetune's default training split for the task) and the split reported once is test, never the
    "dev" alias, which names the validation stories trained on.  The data folder is part of the command."""
    env = {
        **pretrained,
        "TASK": "story_cloze",
        "DATA_DIR": "/data/story_cloze",
        "GRID": "1 2",
        "SEEDS": "0 1",
    }
    done = _run("gpt1_transfer.sh", env)
    assert done.returncode == 0, done.stderr[-2000:]
    s = json.loads((tmp_path / "results" / "gpt1_story_cloze.json").read_text())
    assert s["task"] == "story_cloze" and s["report_split"] == "test"
    assert "DATA_DIR=/data/story_cloze TASK=story_cloze " in s["command"]
    calls = (tmp_path / "calls.log").read_text().splitlines()
    assert all("--data-dir /data/story_cloze" in c for c in calls if c.startswith("gpt finetune"))
    reported = [c for c in calls if c.startswith("gpt evaluate") and "--split holdout" not in c]
    assert len(reported) == 6 and all("--split test" in c for c in reported)


def test_the_models_compared_can_leave_out_the_no_aux_lm_ablation(pretrained, tmp_path):
    """VARIANTS="pretrained scratch" runs the comparison the targets are about (pre-trained vs random
    initialisation) without Table 5's third row; the comparison itself cannot be left out."""
    done = _run("gpt1_sst2.sh", {**pretrained, "VARIANTS": "pretrained scratch"})
    assert done.returncode == 0, done.stderr[-2000:]
    s = json.loads((tmp_path / "results" / "gpt1_sst2.json").read_text())
    assert set(s["variants"]) == {"pretrained", "scratch"} and 'VARIANTS="pretrained scratch"' in s["command"]
    calls = (tmp_path / "calls.log").read_text().splitlines()
    assert not any("--aux-lm 0" in c for c in calls)
    assert len([c for c in calls if "--split dev" in c]) == 6
    refused = _run("gpt1_sst2.sh", {**pretrained, "VARIANTS": "pretrained noaux"})
    assert refused.returncode == 2 and "pretrained and scratch" in refused.stderr


def test_the_pretrained_model_is_chosen_on_the_holdout_never_on_dev(fake, tmp_path):
    """Each candidate schedule is pre-trained (unless its folder holds a finished one), fine-tuned at SST-2's
    chosen setting and scored on the holdout only; the best holdout accuracy is the choice."""
    runs = tmp_path / "pre"
    env = {**fake, "RUNS": str(runs), "CANDIDATES": "recipe:1000 annealed:759", "UPDATES": "3",
           "FINETUNE_UPDATES": "2", "FAKE_HOLDOUT_BY_INIT": json.dumps({"recipe": 0.81, "annealed": 0.84})}  # fmt: skip
    done = _run("gpt1_pretrain_choice.sh", env)
    assert done.returncode == 0, done.stderr[-2000:]
    s = json.loads((tmp_path / "results" / "gpt1_pretrain_choice.json").read_text())
    assert [c["name"] for c in s["candidates"]] == ["recipe", "annealed"] and s["chosen"] == "annealed"
    assert [c["holdout_accuracy"] for c in s["candidates"]] == pytest.approx([81.0, 84.0])
    assert [c["schedule_total"] for c in s["candidates"]] == [1000, 759]
    assert s["candidates"][1]["command"].startswith("UPDATES=3 SCHEDULE=759")
    assert s["candidates"][0]["perplexity"]["wikitext2"] == 54.6 and s["command"].startswith("PRECISION=")
    calls = (tmp_path / "calls.log").read_text().splitlines()
    assert not any("--split dev" in c for c in calls)  # dev is never looked at
    tuned = [c for c in calls if c.startswith("gpt finetune")]
    assert len(tuned) == 2 and all("--max-steps 2 " in c and "--holdout 10" in c for c in tuned)
    (tmp_path / "calls.log").write_text("")
    again = _run("gpt1_pretrain_choice.sh", env)  # finished pre-trainings and fine-tunings are kept
    assert again.returncode == 0 and (tmp_path / "calls.log").read_text().splitlines() == []


def test_a_stopped_candidate_continues_from_its_checkpoints_instead_of_starting_again(fake, tmp_path):
    """A pre-training killed before its summary, and a fine-tuning killed before its score, are resumed
    (--resume) by the next run of the same command; their folders are not wiped."""
    runs = tmp_path / "pre"
    env = {**fake, "RUNS": str(runs), "CANDIDATES": "recipe:1000", "UPDATES": "3", "FINETUNE_UPDATES": "2"}
    (runs / "recipe" / "checkpoints" / "step_00000001").mkdir(parents=True)  # stopped after update 1
    (tmp_path / "runs" / "recipe" / "checkpoints").mkdir(parents=True)  # OUT/NAME: its fine-tuning
    done = _run("gpt1_pretrain_choice.sh", env)
    assert done.returncode == 0, done.stderr[-2000:]
    calls = (tmp_path / "calls.log").read_text().splitlines()
    pretrain = [c for c in calls if c.startswith("gpt pretrain")]
    tune = [c for c in calls if c.startswith("gpt finetune")]
    assert len(pretrain) == 1 and pretrain[0].endswith(" --resume")
    assert len(tune) == 1 and tune[0].endswith(" --resume")
    assert (runs / "recipe" / "checkpoints" / "step_00000001").is_dir()  # kept, not wiped
    summary = json.loads((runs / "recipe" / "summary.json").read_text())
    assert "--resume" not in summary["command"]  # the recipe's command, as a reader reruns it


def test_a_candidate_pretraining_can_change_the_shape_at_the_same_budget(fake, tmp_path):
    """NAME:SCHEDULE:CHANGES: `batch` and `n_ctx` set the windows of an update, `updates` the budget, other keys
    the model; the summary records the changes, and a candidate without any keeps the recipe's shape."""
    runs = tmp_path / "pre"
    env = {**fake, "RUNS": str(runs), "UPDATES": "3", "FINETUNE_UPDATES": "2",
           "CANDIDATES": "recipe:1000 deep:1000:n_layers=8,d_model=192 ctx:1000:n_ctx=256,batch=16 "
                         "long:2000:updates=5"}  # fmt: skip
    done = _run("gpt1_pretrain_choice.sh", env)
    assert done.returncode == 0, done.stderr[-2000:]
    calls = [c for c in (tmp_path / "calls.log").read_text().splitlines() if c.startswith("gpt pretrain")]
    names = ("recipe", "deep", "ctx", "long")
    recipe, deep, ctx, long = (next(c for c in calls if f"/pre/{n} " in c + " ") for n in names)
    assert "--set n_ctx=128 --batch-size 32" in recipe and "--max-steps 3 " in recipe
    assert "--set n_ctx=128 --set n_layers=8 --set d_model=192 --batch-size 32" in deep
    assert "--set n_ctx=256 --batch-size 16" in ctx
    assert "--max-steps 5 " in long and "--set n_ctx=128 --batch-size 32" in long
    s = json.loads((tmp_path / "results" / "gpt1_pretrain_choice.json").read_text())
    assert [c["changes"] for c in s["candidates"]] == [{}, {"n_layers": "8", "d_model": "192"},
                                                       {"n_ctx": "256", "batch": "16"}, {"updates": "5"}]  # fmt: skip
    assert 'SET="n_layers=8 d_model=192"' in s["candidates"][1]["command"]


def test_the_candidates_run_side_by_side_and_one_that_fails_fails_the_choice(fake, tmp_path):
    env = {**fake, "RUNS": str(tmp_path / "pre"), "UPDATES": "3", "FINETUNE_UPDATES": "2", "PARALLEL": "2",
           "CANDIDATES": "a:1000 b:1000:n_layers=8 c:759", "FAKE_FAIL": "b"}  # fmt: skip
    done = _run("gpt1_pretrain_choice.sh", env)
    assert done.returncode != 0 and "a candidate (pre-training or fine-tuning) failed" in done.stderr
    assert not (tmp_path / "results" / "gpt1_pretrain_choice.json").exists()  # no choice without every score
    assert (tmp_path / "runs" / "a" / "eval" / "holdout.json").is_file()  # the others finished all the same
    assert (tmp_path / "runs" / "c" / "eval" / "holdout.json").is_file()


def test_rerunning_after_a_stop_keeps_the_finished_runs(pretrained, tmp_path):
    """A long script stopped half-way resumes: rerunning the command redoes only the runs without a score."""
    assert _run("gpt1_sst2.sh", pretrained).returncode == 0
    log = tmp_path / "calls.log"
    shutil.rmtree(tmp_path / "runs" / "scratch_lr1e-4_d0.1_u2_s1")  # as if stopped while this one ran
    log.write_text("")
    again = _run("gpt1_sst2.sh", pretrained)
    assert again.returncode == 0, again.stderr[-2000:]
    trained = [c for c in log.read_text().splitlines() if c.startswith("gpt finetune")]
    assert len(trained) == 1 and "scratch_lr1e-4_d0.1_u2_s1" in trained[0]
    started = [line for line in again.stdout.splitlines() if line.startswith("started: finetune")]
    assert len(started) == 1 and "scratch_lr1e-4_d0.1_u2_s1" in started[0]  # the log names only what runs
    assert "done already:" in again.stdout and "pretrained_lr1e-4_d0.1_u2_s0" in again.stdout


def test_the_diagnostics_script_fine_tunes_each_transformation_both_ways_and_scores_it(pretrained, tmp_path):
    """Each diagnostic is written in its real task's layout, fine-tuned from the pre-trained model and from
    random initialisation (same tokenizer and shape: --init with --from-scratch), and scored on its own
    evaluation split against its target."""
    env = {**pretrained, "DIAGNOSTICS": "entailment multiple_choice", "TRAIN": "20", "EVAL": "8"}
    done = _run("gpt1_diagnostics.sh", {**env, "UPDATES_PRETRAINED": "2", "UPDATES_SCRATCH": "3"})
    assert done.returncode == 0, done.stderr[-2000:]
    s = json.loads((tmp_path / "results" / "gpt1_diagnostics.json").read_text())
    rows = {(r["diagnostic"], r["init"]): r for r in s["runs"]}
    assert set(rows) == {(d, i) for d in ("entailment", "multiple_choice") for i in ("pretrained", "scratch")}
    assert (
        rows["entailment", "pretrained"]["task"] == "rte"
        and rows["entailment", "pretrained"]["kind"] == "entailment"
    )
    assert rows["multiple_choice", "scratch"]["task"] == "story_cloze"
    assert rows["entailment", "pretrained"]["score"] == pytest.approx(0.85)
    assert rows["entailment", "scratch"]["score"] == pytest.approx(0.75)  # the stand-in's from-scratch score
    assert (rows["entailment", "pretrained"]["updates"], rows["entailment", "scratch"]["updates"]) == (2, 3)
    assert all(r["target"] == 0.95 and r["metric"] == "accuracy" for r in s["runs"])
    calls = [c for c in (tmp_path / "calls.log").read_text().splitlines() if c.startswith("gpt finetune")]
    assert len(calls) == 4 and all("--init" in c for c in calls)
    assert sum("--from-scratch" in c for c in calls) == 2
    assert (tmp_path / "runs" / "data" / "entailment" / "train.tsv").is_file()
    assert all("--seed 0 " in c for c in calls) and "SEED" not in s["command"]  # the default seed
    again = _run(
        "gpt1_diagnostics.sh",
        {**env, "DIAGNOSTICS": "entailment", "INITS": "pretrained", "UPDATES_PRETRAINED": "2", "SEED": "1"},
    )
    assert again.returncode == 0, again.stderr[-2000:]
    calls = [c for c in (tmp_path / "calls.log").read_text().splitlines() if c.startswith("gpt finetune")]
    assert "--seed 1 " in calls[-1]  # another fine-tuning seed, recorded in the command
    assert "SEED=1 " in json.loads((tmp_path / "results" / "gpt1_diagnostics.json").read_text())["command"]


def _real(tmp_path: Path, fake: dict[str, str]) -> dict[str, str]:
    """The real ronbun, a minuscule budget: a `tiny` GPT, 2 updates, a 300-token vocabulary."""
    env = {k: v for k, v in fake.items() if k not in ("RONBUN", "FAKE_LOG")}
    tiny = {"UPDATES": "2", "SCHEDULE": "2", "WARMUP": "1", "PRESET": "tiny", "N_CTX": "32", "BATCH": "4"}
    return {**env, **tiny, "VOCAB": "300", "THREADS": "1", "OMP_NUM_THREADS": "1", "GRID": "1 2", "SEEDS": "0 1",
            "RONBUN": f"{sys.executable} -m ronbun.cli.main"}  # fmt: skip


def _whole_text_tokens(run: Path, text: Path) -> int:
    """Tokens predicted when every token of ``text`` after the first is scored, with the run's tokenizer."""
    from ronbun.data.parallel import read_lines
    from ronbun.gpt.corpus import encode_lines, line_break_id
    from ronbun.text.bpe import TextTokenizer

    tokenizer = TextTokenizer.load(run / "tokenizer.json")
    return len(encode_lines(read_lines(text), tokenizer, separator=line_break_id(tokenizer))) - 1


@pytest.mark.slow
def test_both_scripts_run_end_to_end_at_a_minuscule_budget(fake, tmp_path):
    """About 100 s of CPU: the SST-2 script pre-trains first (the pre-training is missing), then fine-tunes."""
    done = _run("gpt1_sst2.sh", _real(tmp_path, fake))
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    pre = json.loads((tmp_path / "results" / "gpt1_pretrain.json").read_text())
    assert set(pre["evaluations"]) == {"brown", "ptb_sample", "tiny_shakespeare", "multi30k", "wikitext2"}
    for name, e in pre["evaluations"].items():
        text = tmp_path / "corpus" / "heldout" / f"{name}.txt"
        assert e["tokens"] == _whole_text_tokens(tmp_path / "pretrain", text), name  # the whole held-out text
        assert math.isfinite(e["perplexity"])
    assert pre["updates"] == 2 and pre["settings"]["data"]["lowercase"] is True
    s = json.loads((tmp_path / "results" / "gpt1_sst2.json").read_text())
    assert s["selection"]["chosen"]["updates"] in (1, 2) and s["train_examples"] == 70
    assert set(s["variants"]["scratch"]["dev"]) == {"0", "1"} and s["dev_examples"] == 20
    assert s["pretraining"]["command"].startswith("UPDATES=2 SCHEDULE=2")


def test_the_corpus_can_write_every_nth_training_line_twice_to_teach_copying(tmp_path):
    data = write_shared_data(tmp_path / "data")
    builder = _corpus_builder()
    assert builder.repeat_every(["a", "b", "c", "d", "e"], 2) == ["a", "b", "b", "c", "d", "d", "e"]
    assert builder.repeat_every(["a", "b"], 0) == ["a", "b"]
    with pytest.raises(ValueError, match="repeat-every"):
        builder.repeat_every(["a"], -1)
    plain = builder.build(data, tmp_path / "plain")
    twice = builder.build(data, tmp_path / "twice", repeat=5)
    lines = (tmp_path / "twice" / "train.txt").read_text().splitlines()
    assert plain["repeated_lines"] == 0 and twice["repeat_every"] == 5
    assert twice["repeated_lines"] == plain["train"]["lines"] // 5 == len(lines) - plain["train"]["lines"]
    # the 5th and 10th lines, each followed by its copy
    assert lines[4] == lines[5] and lines[10] == lines[11]
    for split in ("valid.txt", "heldout/brown.txt"):  # what is evaluated is never repeated
        assert (tmp_path / "twice" / split).read_text() == (tmp_path / "plain" / split).read_text()


def test_the_pretrained_model_can_be_chosen_on_the_holdout_too(pretrained, tmp_path):
    """PRETRAINS lists candidate pre-trained models: each runs the whole grid on the holdout, the candidate whose
    best setting scores highest wins, and only it goes on to dev (dev is still scored once per final run)."""
    other = tmp_path / "pretrain_b"
    other.mkdir()
    (other / "summary.json").write_text(
        json.dumps({"name": "gpt1_pretrain_b", "command": "B", "date": "2026-12-04", "updates": 4000})
    )
    env = {
        **pretrained,
        "TASK": "rte",
        "GRID": "1 2",
        "SEEDS": "0 1",
        "PRETRAINS": f"{pretrained['PRETRAIN']} {other}",
        "FAKE_HOLDOUT_BY_INIT": json.dumps({"pretrain_b": 0.9}),
    }
    done = _run("gpt1_transfer.sh", env)
    assert done.returncode == 0, done.stderr[-2000:]
    s = json.loads((tmp_path / "results" / "gpt1_rte.json").read_text())
    assert s["pretraining"]["init"] == str(other) and s["pretraining"]["name"] == "gpt1_pretrain_b"
    assert s["selection"]["chosen"]["updates"] == 1  # b scores 90 everywhere: the fewest updates
    table = _results_docs().gpt_transfer_tables(s)  # docs/results.md shows the candidates and the winner
    assert "**`gpt1_pretrain_b`: accuracy 90.00 at lr 0.0001, 1 updates** (chosen)" in table
    assert len(s["runs"]) == 2 + 2 + 2 * 3 - 1  # both candidates' grids and the winner's final runs
    rows = s["selection"]["pretraining_candidates"]
    assert [r["pretraining"]["init"] for r in rows] == [pretrained["PRETRAIN"], str(other)]
    assert [r["holdout"]["accuracy"] for r in rows] == [80.0, 90.0]
    assert f'PRETRAINS="{env["PRETRAINS"]}" ' in s["command"] and "PRETRAIN=" not in s["command"].replace(
        "PRETRAINS=", ""
    )
    calls = (tmp_path / "calls.log").read_text().splitlines()
    grid = [c for c in calls if c.startswith("gpt finetune") and "--seed 0" in c and "/pretrained_lr" in c]
    assert len([c for c in grid if f"--init {other} " in c]) == 2  # each candidate's whole grid, once
    assert len([c for c in grid if f"--init {pretrained['PRETRAIN']} " in c]) == 2
    dev = [c for c in calls if "--split dev" in c]
    assert len(dev) == 6 and all("pretrain_b/" in c and "_u1_" in c for c in dev)
    # the holdout step alone, as a summary of its own (no dev score in it)
    sel_file = tmp_path / "selection.json"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "experiments" / "gpt1_transfer_summary.py"),
            "selection",
            *(str(tmp_path / "runs" / name) for name in ("pretrain", "pretrain_b")),
            *("--task", "rte", "--lrs", "1e-4", "--grid", "1 2", "--seed", "0", "--out", str(sel_file)),
        ],
        env={**env, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT / 'experiments'}"},
        check=True,
        capture_output=True,
    )
    sel = json.loads(sel_file.read_text())
    assert sel["selection"]["picked"] == str(other) and "variants" not in sel
    grids = [
        [g["holdout"]["accuracy"] for g in c["grid"]] for c in sel["selection"]["pretraining_candidates"]
    ]
    assert grids == [[60.0, 80.0], [90.0, 90.0]]
    # a rerun with a third candidate: the finished grids are kept and PARALLEL goes to the one with runs to make
    third = tmp_path / "pretrain_c"
    shutil.copytree(other, third)
    again = _run("gpt1_transfer.sh", {**env, "PARALLEL": "2", "PRETRAINS": f"{env['PRETRAINS']} {third}"})
    assert again.returncode == 0, again.stderr[-2000:]
    assert "candidates' grids with runs to make: 1, 2 run(s) at a time each" in again.stdout
    calls = (tmp_path / "calls.log").read_text().splitlines()
    assert len([c for c in calls if c.startswith("gpt finetune") and f"--init {third} " in c]) == 2


def test_dev_on_a_fresh_clone_keeps_the_holdout_step_on_record(pretrained, tmp_path):
    """The holdout step of a PRETRAINS experiment is committed (CHOOSE_ONLY=1) and its runs are gone (a fresh
    clone): the same command without CHOOSE_ONLY=1 scores dev at the recorded choice, making only the chosen
    pre-trained model and its chosen run again (not every candidate's pre-training and grid), and its summary
    gives every candidate's grid as recorded and the remade run's holdout score beside the recorded one."""
    other = tmp_path / "pretrain_b"
    other.mkdir()
    (other / "summary.json").write_text(json.dumps({"name": "gpt1_pretrain_b", "command": "B", "updates": 9}))
    env = {
        **pretrained,
        "TASK": "rte",
        "GRID": "1 2",
        "SEEDS": "0 1",
        "CHOOSE_ONLY": "1",
        "PRETRAINS": f"{pretrained['PRETRAIN']} {other}",
        "FAKE_HOLDOUT_BY_INIT": json.dumps({"pretrain_b": 0.9}),
    }
    assert _run("gpt1_transfer.sh", env).returncode == 0
    shutil.rmtree(tmp_path / "runs")  # a fresh clone: no grid runs, and the losing candidate not made either
    shutil.rmtree(pretrained["PRETRAIN"])
    (tmp_path / "calls.log").write_text("")
    env.pop("CHOOSE_ONLY")
    done = _run("gpt1_transfer.sh", env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "holdout step on record" in done.stdout and not Path(pretrained["PRETRAIN"]).exists()
    calls = (tmp_path / "calls.log").read_text().splitlines()
    assert not [c for c in calls if c.startswith("gpt pretrain")]
    tuned = [c for c in calls if c.startswith("gpt finetune")]
    assert all(f"--init {other} " in c and " --max-steps 1 " in c for c in tuned)
    assert len(tuned) == 2 * 3  # the chosen run again, then the other final runs
    s = json.loads((tmp_path / "results" / "gpt1_rte.json").read_text())
    assert s["pretraining"]["init"] == str(other) and "CHOOSE_ONLY" not in s["command"]
    assert f'PRETRAINS="{env["PRETRAINS"]}" ' in s["command"] and 'GRID="1 2"' in s["command"]
    sel = s["selection"]
    assert [[g["holdout"]["accuracy"] for g in c["grid"]] for c in sel["pretraining_candidates"]] == [
        [60.0, 80.0],
        [90.0, 90.0],
    ]
    assert [g["updates"] for g in sel["grid"]] == [1, 2] and sel["chosen"]["updates"] == 1
    assert sel["recorded"]["same"] and sel["recorded"]["chosen_holdout_remade"] == {"accuracy": 90.0}
    table = _results_docs().gpt_transfer_tables(s)
    assert "**`gpt1_pretrain_b`: accuracy 90.00 at lr 0.0001, 1 updates** (chosen)" in table
    assert "its chosen run, made again for dev, scores accuracy 90.00 on the holdout, as recorded." in table
    # a remade run that scores otherwise is said out loud; dev stays at the recorded choice
    s["command"] += " CHOOSE_ONLY=1"
    del s["variants"]
    (tmp_path / "results" / "gpt1_rte.json").write_text(json.dumps(s))
    shutil.rmtree(tmp_path / "runs")
    changed = _run("gpt1_transfer.sh", {**env, "FAKE_HOLDOUT_BY_INIT": json.dumps({"pretrain_b": 0.7})})
    assert changed.returncode == 0, changed.stderr[-2000:]
    assert "warning: the chosen run made again scores" in changed.stderr
    again = json.loads((tmp_path / "results" / "gpt1_rte.json").read_text())
    assert not again["selection"]["recorded"]["same"] and again["updates"] == 1
    assert (
        "scores accuracy 70.00 on the holdout, where the record says 90.00."
        in _results_docs().gpt_transfer_tables(again)
    )


def test_a_missing_pretrained_model_is_made_by_the_command_its_summary_records(pretrained, tmp_path):
    """On a fresh clone runs/ is empty: a candidate named like a committed pre-training summary is made first by
    replaying that summary's command (its settings, not the environment's), so the documented command gives the
    documented model; a name with no summary is a clear error, not a model made some other way."""
    recipes = tmp_path / "recipes" / "levers"
    recipes.mkdir(parents=True)
    recorded = (
        "UPDATES=3 SCHEDULE=5 WARMUP=1 PRESET=small N_CTX=64 BATCH=4 VOCAB=300 SEED=0 REPEAT_EVERY=2 THREADS=1 "
        "PRECISION=fp32 experiments/gpt1_pretrain.sh"
    )
    (recipes / "gpt1_pretrain_x.json").write_text(
        json.dumps({"name": "gpt1_pretrain_x", "command": recorded})
    )
    missing = tmp_path / "made" / "gpt1_pretrain_x"
    env = {
        **pretrained,
        "TASK": "rte",
        "GRID": "1 2",
        "SEEDS": "0 1",
        "CHOOSE_ONLY": "1",
        "RECIPES": str(tmp_path / "recipes"),
        "UPDATES": "99",  # the environment's settings lose to the recorded ones
        "PRETRAINS": f"{pretrained['PRETRAIN']} {missing}",
    }
    done = _run("gpt1_transfer.sh", env)
    assert done.returncode == 0, done.stderr[-2000:]
    made = json.loads((missing / "summary.json").read_text())
    assert made["command"] == recorded and made["name"] == "gpt1_pretrain_x"
    calls = (tmp_path / "calls.log").read_text().splitlines()
    pretrain = [c for c in calls if c.startswith("gpt pretrain")]
    assert len(pretrain) == 1 and pretrain[0].endswith(f"--out {missing}") and "--max-steps 3 " in pretrain[0]
    assert not (
        tmp_path / "results" / "gpt1_pretrain_x.json"
    ).exists()  # the committed summaries stay as they are
    sel = json.loads((tmp_path / "results" / "gpt1_rte.json").read_text())
    rows = sel["selection"]["pretraining_candidates"]
    assert [r["pretraining"]["command"] for r in rows][1] == recorded
    # a name nobody recorded: one clear line, nothing trained
    (tmp_path / "calls.log").write_text("")
    unknown = _run(
        "gpt1_transfer.sh", {**env, "PRETRAINS": f"{pretrained['PRETRAIN']} {tmp_path / 'nobody'}"}
    )
    assert unknown.returncode == 2 and "no summary under" in unknown.stderr
    assert (tmp_path / "calls.log").read_text() == ""
    # two summaries of one name that disagree: which model was meant is unknown, so nothing is made
    (recipes / "gpt1_pretrain_x_other.json").write_text(
        json.dumps({"name": "gpt1_pretrain_x", "command": recorded.replace("UPDATES=3", "UPDATES=4")})
    )
    shutil.rmtree(missing)
    both = _run("gpt1_transfer.sh", env)
    assert both.returncode == 2 and "2 different commands for 'gpt1_pretrain_x'" in both.stderr
    assert (tmp_path / "calls.log").read_text() == "" and not missing.exists()


def test_choose_only_stops_after_the_holdout_and_writes_the_selection(pretrained, tmp_path):
    """CHOOSE_ONLY=1 runs step 1 alone: the grid on the holdout and its summary, with no dev score anywhere;
    the same command without it later goes on from the finished grid runs."""
    env = {**pretrained, "TASK": "rte", "GRID": "1 2", "SEEDS": "0 1", "CHOOSE_ONLY": "1"}
    done = _run("gpt1_transfer.sh", env)
    assert done.returncode == 0, done.stderr[-2000:]
    s = json.loads((tmp_path / "results" / "gpt1_rte.json").read_text())
    assert "variants" not in s and s["selection"]["picked"] == pretrained["PRETRAIN"]
    assert s["command"].endswith(" CHOOSE_ONLY=1 experiments/gpt1_transfer.sh")
    calls = (tmp_path / "calls.log").read_text().splitlines()
    assert not [c for c in calls if "--split dev" in c] and len([c for c in calls if "finetune" in c]) == 2
    before = json.loads((tmp_path / "results" / "gpt1_rte.json").read_text())["wall_seconds"]
    env.pop("CHOOSE_ONLY")  # the same command without it: dev, from the finished grid runs
    done = _run("gpt1_transfer.sh", env)
    assert done.returncode == 0, done.stderr[-2000:]
    s = json.loads((tmp_path / "results" / "gpt1_rte.json").read_text())
    calls = (tmp_path / "calls.log").read_text().splitlines()
    grid = [c for c in calls if "finetune" in c and "/pretrained_lr" in c and "--seed 0" in c]
    assert len(grid) == 2  # the holdout step's runs kept, not trained again
    assert "variants" in s and "CHOOSE_ONLY" not in s["command"]
    assert s["command"].endswith(
        'VARIANTS="pretrained scratch noaux" experiments/gpt1_transfer.sh'
    )  # runnable
    assert s["note"].startswith("in two invocations of the same command: first CHOOSE_ONLY=1")
    assert s["wall_seconds"] >= before  # the holdout step's wall time counts


def test_only_the_holdout_step_of_the_same_command_adds_its_wall_time(tmp_path):
    """A summary on disk from another command (another grid, another task) or one that already has dev scores is
    not the holdout step of this run: it is replaced, and no wall time is added to this run's."""
    module = _experiment_module("gpt1_transfer_summary")
    command = 'TASK=rte GRID="187 373" experiments/gpt1_transfer.sh'
    result = {"command": command, "task": "rte", "wall_seconds": 600.0, "variants": {}}
    out = tmp_path / "gpt1_rte.json"
    assert module.with_holdout_step(result, out) == result  # nothing on disk
    earlier = {"command": 'TASK=rte GRID="187 373" CHOOSE_ONLY=1 experiments/gpt1_transfer.sh', "task": "rte"}
    for stale in (
        {**earlier, "command": 'TASK=rte GRID="1 2" CHOOSE_ONLY=1 experiments/gpt1_transfer.sh'},
        {**earlier, "task": "mrpc"},
        {**earlier, "variants": {}},  # a finished run, not a holdout step
    ):
        out.write_text(json.dumps({**stale, "wall_seconds": 120.0}))
        assert module.with_holdout_step(result, out) == result
    out.write_text(json.dumps({**earlier, "wall_seconds": 120.0}))
    summed = module.with_holdout_step(result, out)
    assert (
        summed["wall_seconds"] == 720.0
        and "first CHOOSE_ONLY=1 (2.0 min wall), then without it (10.0" in summed["note"]
    )


def test_a_recorded_choice_is_kept_only_for_the_same_experiment(tmp_path):
    """Dev at a recorded choice needs the holdout step of this very command: the same candidates in the same
    order and a chosen setting inside this grid; anything else (another command, other candidates, a setting
    the grid lacks, a summary that already has dev) means the holdout step is run instead."""
    module = _experiment_module("gpt1_transfer_summary")
    command = (
        'PRETRAINS="runs/a runs/b" TASK=rte GRID="187 746" LRS="6.25e-5 2.5e-4" experiments/gpt1_transfer.sh'
    )
    rows = [
        {"pretraining": {"init": p}, "chosen": {"lr": 0.00025, "clf_dropout": 0.1, "updates": 746}}
        for p in ("runs/a", "runs/b")
    ]
    step = {
        "command": command.replace(" experiments/", " CHOOSE_ONLY=1 experiments/"),
        "task": "rte",
        "selection": {"picked": "runs/b", "pretraining_candidates": rows},
    }
    path = tmp_path / "gpt1_rte_long.json"
    grids = (["6.25e-5", "2.5e-4"], ["0.1"], [187, 746])

    def kept(summary: dict, pretrains: tuple[str, ...] = ("runs/a", "runs/b"), g=grids) -> object:
        path.write_text(json.dumps(summary))
        return module.recorded_selection(path, "rte", g, command, list(pretrains))

    assert kept(step) == ("runs/b", ("2.5e-4", "0.1", 746))  # the lr as typed
    assert kept(step, ("runs/b", "runs/a")) is None  # the order decides ties: another experiment
    assert kept({**step, "command": command.replace("746", "373")}) is None
    assert kept({**step, "task": "mrpc"}) is None
    assert kept({**step, "variants": {}}) is None  # dev already scored
    assert kept(step, g=(["6.25e-5"], ["0.1"], [187, 746])) is None  # the chosen lr is not in this grid
    path.write_text("[1, 2]")
    assert module.recorded_selection(path, "rte", grids, command, ["runs/a", "runs/b"]) is None
    assert module.recorded_selection(tmp_path / "none.json", "rte", grids, command, ["runs/a"]) is None


def test_a_pretraining_recipe_is_the_one_command_its_summaries_agree_on(tmp_path):
    """Reruns of a pre-training record the same command under the same name; two different ones are refused."""
    recipe = _experiment_module("pretrained_recipe")
    a = "UPDATES=4000 THREADS=1 experiments/gpt1_pretrain.sh"
    (tmp_path / "levers").mkdir()
    (tmp_path / "m.json").write_text(json.dumps({"name": "m", "command": a}))
    (tmp_path / "levers" / "m_rerun.json").write_text(json.dumps({"name": "m", "command": a}))
    (tmp_path / "sst2.json").write_text(json.dumps({"name": "m", "command": "experiments/gpt1_sst2.sh"}))
    (tmp_path / "broken.json").write_text("{not json")
    (tmp_path / "a_list.json").write_text("[1, 2]")
    assert recipe.recipe("m", tmp_path) == a  # a fine-tuning summary of the same name is not a recipe
    (tmp_path / "levers" / "m_other.json").write_text(json.dumps({"name": "m", "command": a + " --resume"}))
    with pytest.raises(ValueError, match="2 different commands"):
        recipe.recipe("m", tmp_path)
    with pytest.raises(ValueError, match="records how the pre-trained model 'n' was made"):
        recipe.recipe("n", tmp_path)
