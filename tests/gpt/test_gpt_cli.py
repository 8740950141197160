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


def test_finetune_then_evaluate(pretrained, tmp_path, capsys):
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
