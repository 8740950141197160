"""``ronbun gpt pretrain | generate | finetune | evaluate | zeroshot`` end to end on tiny settings."""

from __future__ import annotations

import json

import pytest

from ronbun.cli.main import main

TINY = [
    "--preset",
    "tiny",
    "--set",
    "n_ctx=32",
    "--set",
    "d_model=32",
    "--set",
    "n_heads=2",
    "--set",
    "d_ff=64",
]


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "pre"
    code = main(
        [
            "gpt",
            "pretrain",
            *TINY,
            "--builtin-sentences",
            "400",
            "--batch-size",
            "4",
            "--max-steps",
            "3",
            "--eval-windows",
            "2",
            "--no-progress",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    return out


def test_pretrain_writes_a_resolved_config_and_a_checkpoint(pretrained):
    run = json.loads((pretrained / "run_config.json").read_text())
    t = run["trainer"]
    assert (t["schedule"], t["lr"], t["betas"], t["eps"], t["weight_decay"], t["warmup"]) == (
        "cosine",
        2.5e-4,
        [0.9, 0.999],
        1e-8,
        0.01,
        1,
    )
    assert (pretrained / "checkpoints" / "step_00000003" / "model.safetensors").is_file()


def test_generate_and_lm_evaluate(pretrained, capsys):
    capsys.readouterr()
    assert (
        main(
            ["gpt", "generate", str(pretrained), "The dog", "-n", "2", "--max-new-tokens", "5", "--seed", "1"]
        )
        == 0
    )
    out = capsys.readouterr().out.split("\n---\n")
    assert len(out) == 2 and all(x.startswith("The dog") for x in out)
    assert main(["gpt", "evaluate", str(pretrained), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["corpus"] == "builtin" and report["perplexity"] > 1


def test_zeroshot_winograd(pretrained, capsys):
    capsys.readouterr()
    assert main(["gpt", "zeroshot", str(pretrained), "--task", "winograd", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["n"] == 10 and 0 <= report["accuracy"] <= 1


def test_finetune_then_evaluate(pretrained, tmp_path, capsys, monkeypatch):
    """A task without settings of its own fine-tunes with §4.1's (lr 6.25e-5, 3 epochs, warm-up 0.2%)."""
    import dataclasses

    from ronbun.gpt import tasks

    monkeypatch.setitem(tasks.TASKS, "sst2", dataclasses.replace(tasks.TASKS["sst2"], finetune={}))
    folder = tmp_path / "SST-2"
    folder.mkdir()
    rows = "".join(f"{'a good film' if i % 2 else 'a bad film'}\t{i % 2}\n" for i in range(12))
    for split in ("train", "dev"):
        (folder / f"{split}.tsv").write_text("sentence\tlabel\n" + rows)
    out = tmp_path / "ft"
    assert (
        main(
            [
                "gpt",
                "finetune",
                "--init",
                str(pretrained),
                "--task",
                "sst2",
                "--data-dir",
                str(tmp_path),
                "--limit",
                "8",
                "--batch-size",
                "4",
                "--no-progress",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    run = json.loads((out / "run_config.json").read_text())["trainer"]
    assert (run["schedule"], run["lr"], run["max_steps"], run["warmup"]) == (
        "linear",
        6.25e-5,
        6,
        1,
    )  # 3 epochs × 2
    capsys.readouterr()
    assert main(["gpt", "evaluate", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["task"] == "sst2" and report["n"] == 12 and 0 <= report["accuracy"] <= 1


def test_errors_are_one_line_messages(pretrained, tmp_path, capsys):
    assert (
        main(["gpt", "finetune", "--init", str(pretrained), "--task", "nope", "--data-dir", str(tmp_path)])
        == 2
    )
    assert "unknown task 'nope'" in capsys.readouterr().err
    assert main(["gpt", "generate", str(tmp_path), "x"]) == 2
    assert "not a ronbun checkpoint" in capsys.readouterr().err
    assert main(["gpt", "zeroshot", str(pretrained), "--task", "sst2"]) == 2
    assert "needs --data-dir" in capsys.readouterr().err


def test_lowercase_is_recorded_in_the_tokenizer_and_switchable_for_zero_shot(tmp_path, capsys):
    """``pretrain --lowercase`` saves a lower-casing tokenizer (so every later use lower-cases, as GPT-1's
    BPE does); ``zeroshot --lowercase`` lower-cases for a model whose text was lower-cased beforehand."""
    from ronbun.gpt.language_model import load_gpt

    out = tmp_path / "pre"
    args = ["gpt", "pretrain", *TINY, "--builtin-sentences", "300", "--batch-size", "4", "--max-steps", "1"]
    assert main([*args, "--eval-windows", "1", "--no-progress", "--lowercase", "--out", str(out)]) == 0
    lm = load_gpt(out)
    assert lm.tokenizer.lowercase
    assert lm.tokenizer.encode("The DOG") == lm.tokenizer.encode("the dog")
    capsys.readouterr()
    assert main(["gpt", "zeroshot", str(out), "--task", "winograd", "--lowercase", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["lowercase"] is True


def test_the_lowercase_switch_of_a_byte_level_tokenizer():
    from ronbun.text.bpe import TextTokenizer

    tok = TextTokenizer.train(["the cat sat on the mat"] * 20, vocab_size=300)
    assert not tok.lowercase and tok.encode("The") != tok.encode("the")
    tok.lowercase = True
    assert tok.encode("The Cat") == tok.encode("the cat")
    tok.lowercase = False
    assert tok.encode("The") != tok.encode("the")


def test_finetune_lowercase_is_kept_by_the_fine_tuned_checkpoint(pretrained, tmp_path):
    """``finetune --lowercase`` (for a model whose pre-training text was lower-cased beforehand) lower-cases
    the task text, and the fine-tuned checkpoint's tokenizer keeps doing so for evaluation and serving."""
    from ronbun.training.checkpoint import load_checkpoint

    folder = tmp_path / "SST-2"
    folder.mkdir()
    rows = "".join(f"{'A GOOD film' if i % 2 else 'a Bad film'}\t{i % 2}\n" for i in range(8))
    for split in ("train", "dev"):
        (folder / f"{split}.tsv").write_text("sentence\tlabel\n" + rows)
    common = ["gpt", "finetune", "--init", str(pretrained), "--task", "sst2", "--data-dir", str(tmp_path)]
    common += ["--batch-size", "4", "--max-steps", "1", "--no-progress"]
    assert main([*common, "--lowercase", "--out", str(tmp_path / "lc")]) == 0
    assert main([*common, "--out", str(tmp_path / "cased")]) == 0
    lowered = load_checkpoint(tmp_path / "lc", expect="gpt+head").tokenizer
    cased = load_checkpoint(tmp_path / "cased", expect="gpt+head").tokenizer
    assert lowered.encode("A GOOD Film") == lowered.encode("a good film")
    assert cased.encode("A GOOD Film") != cased.encode("a good film")
