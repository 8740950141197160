"""``ronbun mt train|translate|evaluate|average`` end to end on a tiny corpus, and the bad-input tour."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

import ronbun
from ronbun.cli.main import main
from ronbun.data.synthetic import write_corpus
from ronbun.mt.translator import Translator
from ronbun.training.checkpoint import save_checkpoint


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("mt")
    write_corpus(root / "data", n_train=300, n_valid=20, n_test=20, seed=3)
    d = root / "data"
    config = root / "run.toml"
    config.write_text(
        "[data]\nvocab_size = 300\nmax_tokens = 500\nvalid_bleu_sentences = 5\n"
        "[model]\npreset = 'tiny'\n[trainer]\nwarmup = 5\nlr = 2.0\nsave_every = 4\nkeep_last = 3\n",
        encoding="utf-8",
    )
    args = [
        "mt",
        "train",
        "--config",
        str(config),
        "--out",
        str(root / "run"),
        "--max-steps",
        "8",
        "--eval-every",
        "8",
        "--no-progress",
    ]
    for split in ("train", "valid", "test"):
        args += [f"--{split}-src", str(d / f"{split}.en"), f"--{split}-tgt", str(d / f"{split}.de")]
    assert main(args) == 0
    return root, root / "run"


def test_train_writes_checkpoints_metrics_and_the_resolved_config(trained):
    _, run = trained
    ckpts = sorted((run / "checkpoints").iterdir())
    assert [p.name for p in ckpts] == ["step_00000004", "step_00000008"]
    resolved = json.loads((run / "run_config.json").read_text())
    assert resolved["preset"] == "tiny" and resolved["trainer"]["max_steps"] == 8
    assert resolved["data"]["vocab_size"] == 300
    for name in (
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "trainer_state.json",
        "optimizer.safetensors",
        "train_config.json",
        "task_config.json",
    ):
        assert (ckpts[-1] / name).is_file(), name
    valid = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines() if '"valid"' in x]
    assert {"valid_loss", "valid_ppl", "valid_bleu"} <= set(valid[-1])


def test_translate_streams_one_line_per_input_line(trained, tmp_path, capsys):
    _, run = trained
    src = tmp_path / "in.txt"
    src.write_text("The dog sees the cat.\n\nI know that the man reads.\n", encoding="utf-8")
    assert (
        main(["mt", "translate", str(run / "checkpoints" / "step_00000008"), "-i", str(src), "--beam", "2"])
        == 0
    )
    assert len(capsys.readouterr().out.splitlines()) == 3


def test_evaluate_prints_sacrebleu_with_signature_chrf_and_tokenised_bleu(trained, capsys):
    root, run = trained
    d = root / "data"
    ck = run / "checkpoints" / "step_00000008"
    assert (
        main(
            [
                "mt",
                "evaluate",
                str(ck),
                "--src",
                str(d / "test.en"),
                "--ref",
                str(d / "test.de"),
                "--beam",
                "1",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "sacreBLEU" in out and "nrefs:1" in out and "chrF" in out and "tokenised" in out.lower()


def test_several_checkpoints_translate_and_evaluate_as_one_ensemble(trained, tmp_path, capsys):
    root, run = trained
    d = root / "data"
    cks = [str(p) for p in sorted((run / "checkpoints").iterdir())]
    scores = tmp_path / "scores.json"
    out = tmp_path / "out.de"
    argv = ["mt", "evaluate", *cks, "--src", str(d / "test.en"), "--ref", str(d / "test.de"), "--beam", "2"]
    assert main([*argv, "--json", str(scores), "--output", str(out)]) == 0
    assert json.loads(scores.read_text())["ensemble"] == 2
    assert "sacreBLEU" in capsys.readouterr().out
    assert main(["mt", "translate", *cks, "-i", str(d / "test.en"), "--beam", "2"]) == 0
    assert capsys.readouterr().out.splitlines() == out.read_text(encoding="utf-8").splitlines()
    with pytest.raises(ValueError, match="attention maps are those of one model"):
        Translator.from_checkpoints(cks).attention("The dog sees the cat.")
    sentences = ["The dog sees the cat.", "I know that the man reads."]
    ensemble = ronbun.load(cks)  # a list of checkpoints: one ensemble
    assert len(ensemble.model) == 2
    assert ensemble.translate(sentences, beam=2) == Translator.from_checkpoints(cks).translate(
        sentences, beam=2
    )


def test_average_writes_a_checkpoint(trained, tmp_path, capsys):
    _, run = trained
    assert main(["mt", "average", str(run), "--last", "2", "--out", str(tmp_path / "avg")]) == 0
    assert (tmp_path / "avg" / "model.safetensors").is_file() and (
        tmp_path / "avg" / "tokenizer.json"
    ).is_file()
    assert "averaged 2 checkpoint(s)" in capsys.readouterr().out
    assert (tmp_path / "avg" / "task_config.json").is_file(), (
        "how the model was made travels with the average"
    )


# ---- the bad-input tour: one clear line, non-zero exit, nothing damaged --------------------------------


def bad_cases(root: Path, run: Path, tmp: Path) -> list[tuple[list[str], str]]:
    d = root / "data"
    ck = str(run / "checkpoints" / "step_00000008")
    short = tmp / "short.de"
    short.write_text("eins\nzwei\n", encoding="utf-8")
    latin1 = tmp / "latin1.en"
    latin1.write_bytes("gr\xfc\xdfe\n".encode("latin-1"))
    empty = tmp / "empty.en"
    empty.write_text("", encoding="utf-8")
    pickled = tmp / "pickled"
    pickled.mkdir()
    (pickled / "pytorch_model.bin").write_bytes(b"\x80\x04K\x01.")
    spec = json.loads((Path(ck) / "tokenizer.json").read_text(encoding="utf-8"))
    spec["normalizer"] = {"type": "Lowercase"}  # the same vocabulary, a tokenizer that lower-cases
    (tmp / "lowercasing.json").write_text(json.dumps(spec), encoding="utf-8")
    other_tokenizer = save_checkpoint(
        tmp / "other_tokenizer", Translator.from_checkpoint(ck).model, tokenizer_file=tmp / "lowercasing.json"
    )
    return [
        (
            [
                "mt",
                "train",
                "--train-src",
                str(tmp / "missing.en"),
                "--train-tgt",
                str(d / "train.de"),
                "--out",
                str(tmp / "o1"),
            ],
            "missing.en",
        ),
        (
            [
                "mt",
                "train",
                "--train-src",
                str(d / "train.en"),
                "--train-tgt",
                str(short),
                "--out",
                str(tmp / "o2"),
            ],
            "line",
        ),
        (
            ["mt", "train", "--train-src", str(latin1), "--train-tgt", str(latin1), "--out", str(tmp / "o3")],
            "UTF-8",
        ),
        (
            ["mt", "train", "--train-src", str(empty), "--train-tgt", str(empty), "--out", str(tmp / "o4")],
            "empty",
        ),
        (
            ["mt", "train", "--dataset", "builtin", "--preset", "huge", "--out", str(tmp / "o5")],
            "unknown preset",
        ),
        (
            ["mt", "train", "--dataset", "builtin", "--set", "heads=3", "--out", str(tmp / "o6")],
            "unknown TransformerConfig key",
        ),
        (["mt", "train", "--dataset", "nope", "--out", str(tmp / "o7")], "nope"),
        (["mt", "translate", str(tmp / "no-such-checkpoint")], "does not exist"),
        (["mt", "translate", str(pickled)], "pickle"),
        (["mt", "translate", ck, "--beam", "0", "-i", str(d / "test.en")], "beam size must be >= 1"),
        (["mt", "translate", ck, "--alpha", "-1", "-i", str(d / "test.en")], "alpha must be >= 0"),
        (["mt", "translate", ck, "-i", str(latin1)], "not valid UTF-8"),
        (["mt", "translate", ck, str(tmp / "no-such-checkpoint")], "does not exist"),
        (["mt", "translate", ck, str(other_tokenizer), "-i", str(d / "test.en")], "share one tokenizer"),
        (["mt", "evaluate", ck, "--src", str(d / "test.en"), "--ref", str(short)], "lines"),
        (["mt", "translate", ck, "--device", "tpu", "-i", str(d / "test.en")], "--device must be"),
        *(
            []
            if torch.cuda.is_available()
            else [(["mt", "translate", ck, "--device", "cuda", "-i", str(d / "test.en")], "no CUDA GPU")]
        ),
        (["mt", "train", "--dataset", "builtin", "--out", str(d / "train.en" / "run")], "not writable"),
        (["mt", "average", str(tmp / "nothing-here"), "--out", str(tmp / "avg")], "no checkpoints"),
    ]


def test_bad_input_gets_one_clear_line_and_a_nonzero_exit(trained, tmp_path, capsys):
    root, run = trained
    before = {p: p.read_bytes() for p in (run / "checkpoints").rglob("*") if p.is_file()}
    failures = []
    for argv, expected in bad_cases(root, run, tmp_path):
        code = main(argv)
        err = capsys.readouterr().err.strip()
        last = err.splitlines()[-1] if err else ""
        if code == 0 or expected.lower() not in last.lower() or not last.startswith("ronbun: error:"):
            failures.append((argv[:2], code, expected, err[-300:]))
    assert not failures, failures
    after = {p: p.read_bytes() for p in (run / "checkpoints").rglob("*") if p.is_file()}
    assert before == after, "no existing checkpoint was touched"


@pytest.mark.parametrize(
    "command", [["mt", "train"], ["gpt", "pretrain"], ["gpt", "finetune", "--task", "sst2"]]
)
def test_a_config_file_with_an_unknown_section_is_refused_by_every_training_command(
    command, tmp_path, capsys
):
    config = tmp_path / "run.toml"
    config.write_text("[modle]\nd_model = 64\n\n[trainer]\nmax_steps = 1\n")
    assert main([*command, "--config", str(config), "--out", str(tmp_path / "out")]) == 2
    assert "unknown section(s) modle; use data, model, trainer, preset" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_translate_writes_output_files_whole_and_refuses_empty_input(trained, tmp_path, capsys):
    root, run = trained
    ck = str(run / "checkpoints" / "step_00000008")
    src = root / "data" / "test.en"
    out = tmp_path / "out.de"
    assert (
        main(["mt", "translate", ck, "-i", str(src), "--output", str(out), "--threads", "1", "--beam", "2"])
        == 0
    )
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(src.read_text(encoding="utf-8").splitlines())
    assert not list(tmp_path.glob(".*.partial"))  # written next to the target, then renamed
    empty = tmp_path / "empty.en"
    empty.write_text("")
    assert main(["mt", "translate", ck, "-i", str(empty), "--output", str(out)]) == 2
    assert "no input" in capsys.readouterr().err
    assert len(out.read_text(encoding="utf-8").splitlines()) == len(lines)  # the earlier output is untouched
