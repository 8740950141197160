"""Tiny GLUE-format tasks and a tiny "pre-trained" GPT (random weights suffice) for the GPT-1 experiments."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

GOOD = ["a charming and moving film", "wonderful acting and a great story", "a delight from start to end"]
BAD = ["a dull and boring mess", "terrible acting and a weak story", "tedious from start to end"]


def _write(path: Path, header: str | None, rows: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(("" if header is None else header + "\n") + "\n".join(rows) + "\n", encoding="utf-8")


def write_glue(root: Path, n: int = 12) -> Path:
    """CoLA (headerless public release), SST-2, MRPC and RTE in GLUE's layout, ``n`` rows per split."""
    for split in ("train", "dev"):
        sentences = [(GOOD if i % 2 else BAD)[i % 3] for i in range(n)]
        _write(
            root / "SST-2" / f"{split}.tsv",
            "sentence\tlabel",
            [f"{s} \t{i % 2}" for i, s in enumerate(sentences)],
        )
        _write(
            root / "CoLA" / f"{split}.tsv", None, [f"src\t{i % 2}\t\t{s}" for i, s in enumerate(sentences)]
        )
        _write(
            root / "MRPC" / f"{split}.tsv",
            "Quality\t#1 ID\t#2 ID\t#1 String\t#2 String",
            [f"{i % 2}\t{i}\t{i + 100}\t{s}\t{GOOD[i % 3]}" for i, s in enumerate(sentences)],
        )
        labels = ("entailment", "not_entailment")
        _write(
            root / "RTE" / f"{split}.tsv",
            "index\tsentence1\tsentence2\tlabel",
            [f"{i}\t{s} indeed\t{BAD[i % 3]}\t{labels[i % 2]}" for i, s in enumerate(sentences)],
        )
    return root


def write_story_cloze(folder: Path, n: int = 6) -> Path:
    head = (
        "InputStoryid,InputSentence1,InputSentence2,InputSentence3,InputSentence4,"
        "RandomFifthSentenceQuiz1,RandomFifthSentenceQuiz2,AnswerRightEnding"
    )
    rows = [
        f"id{i},Tom woke up.,He was hungry.,He cooked eggs.,He ate them.,He felt full.,He flew.,{1 + i % 2}"
        for i in range(n)
    ]
    for split in ("val", "test"):
        _write(folder / f"cloze_test_{split}__spring2016.csv", head, rows)
    return folder


def tiny_gpt(vocab_size: int, seed: int):
    from ronbun import GPT, GPTConfig

    torch.manual_seed(seed)
    config = GPTConfig.preset(
        "tiny", vocab_size=vocab_size, n_ctx=48, d_model=32, n_heads=2, d_ff=64, n_layers=2
    )
    return GPT(config)


@pytest.fixture(scope="module")
def tiny_gpt1(tmp_path_factory) -> dict[str, Path]:
    """``glue``: the four tasks; ``story_cloze``: six stories; ``run``: a 'pre-training run' whose
    ``checkpoints/`` holds updates 1 and 2 (two random 2-block GPTs sharing a byte-level BPE); ``init``: its
    newest checkpoint."""
    from ronbun.text.bpe import TextTokenizer
    from ronbun.training.checkpoint import save_checkpoint

    root = tmp_path_factory.mktemp("gpt1")
    tok = TextTokenizer.train([*GOOD, *BAD, "Tom woke up. He was hungry. He felt full. indeed"] * 5, 300)
    tok.save(root / "tokenizer.json")
    run = root / "pretrain"
    for step in (1, 2):
        gpt = tiny_gpt(tok.vocab_size, seed=step)
        save_checkpoint(run / "checkpoints" / f"step_{step:08d}", gpt, tokenizer_file=root / "tokenizer.json")
    return {
        "glue": write_glue(root / "glue"),
        "story_cloze": write_story_cloze(root / "story_cloze"),
        "run": run,
        "init": run / "checkpoints" / "step_00000002",
    }
