"""Opening a checkpoint: one module (``ronbun.training.checkpoint``) resolves, verifies, reads the config, builds
the model from its registry and loads the tokenizer by its kind; ``ronbun.load`` only wraps the result.  Every
kind (Transformer, GPT, GPT with a task head, a bare weights-only one) is loaded both ways, and the loading
path is measured: at most 3 ronbun modules besides the building blocks it constructs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

import ronbun
from ronbun import GPT, GPTConfig, Transformer, TransformerConfig
from ronbun.gpt.language_model import LanguageModel, TaskModel
from ronbun.models.task_head import GPTClassifier, HeadSpec, SpecialTokens
from ronbun.mt.translator import Translator
from ronbun.text.bpe import TextTokenizer
from ronbun.text.moses import MosesNormalizedTokenizer, normalization_record
from ronbun.training.checkpoint import (
    MODEL_KINDS,
    TOKENIZER_KINDS,
    Checkpoint,
    CheckpointError,
    MissingTokenizerError,
    load_checkpoint,
    resolve_checkpoint,
    save_checkpoint,
)

LINES = ["The dog sees the cat.", "The cat sees the dog.", "A small bird sings.", "The child reads a book."]
#: What loading builds (its own code runs while loading, but it is what is loaded, not the path to it).
BUILDING_BLOCKS = {"nn", "models", "text"}


@pytest.fixture(scope="module")
def tokenizer_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tok") / "tokenizer.json"
    TextTokenizer.train(LINES * 20, 120).save(path)
    return path


def _gpt_config(n_special: int = 0) -> GPTConfig:
    return GPTConfig.preset(
        "tiny", vocab_size=300, n_special=n_special, n_ctx=16, d_model=32, n_heads=2, d_ff=64, n_layers=1
    )


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory, tokenizer_file) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("ckpts")
    torch.manual_seed(0)
    mt = Transformer(TransformerConfig.preset("tiny", vocab_size=300))
    gpt = GPT(_gpt_config())
    head = HeadSpec("sst2", "classification", 2, SpecialTokens(300, 301, 302), ("negative", "positive"))
    clf = GPTClassifier(_gpt_config(n_special=3), head)
    return {
        "transformer": save_checkpoint(root / "mt", mt, tokenizer_file=tokenizer_file),
        "gpt": save_checkpoint(root / "gpt", gpt, tokenizer_file=tokenizer_file),
        "gpt+head": save_checkpoint(
            root / "clf",
            clf,
            tokenizer_file=tokenizer_file,
            extra_json={"task_config.json": {"head": head.to_dict()}},
        ),
        "bare": save_checkpoint(root / "bare", gpt),
    }


WRAPPERS = {"transformer": Translator, "gpt": LanguageModel, "gpt+head": TaskModel, "bare": LanguageModel}


@pytest.mark.parametrize("name", ["transformer", "gpt", "gpt+head", "bare"])
def test_every_kind_loads_through_the_checkpoint_module_and_ronbun_load(checkpoints, name):
    ckpt = load_checkpoint(checkpoints[name], require_tokenizer=False)
    assert isinstance(ckpt, Checkpoint) and ckpt.path == checkpoints[name]
    assert ckpt.kind == ("gpt" if name == "bare" else name)
    assert not ckpt.model.training
    assert (ckpt.tokenizer is None) == (name == "bare")
    assert (ckpt.head is not None) == (name == "gpt+head")
    obj = ronbun.load(checkpoints[name])
    assert type(obj) is WRAPPERS[name] and obj.directory == checkpoints[name]
    for a, b in zip(obj.model.state_dict().values(), ckpt.model.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_the_registry_builds_each_recorded_kind(checkpoints):
    assert sorted(MODEL_KINDS) == ["gpt", "gpt+head", "transformer"]
    assert type(load_checkpoint(checkpoints["transformer"]).model) is Transformer
    assert type(load_checkpoint(checkpoints["gpt"]).model) is GPT
    assert type(load_checkpoint(checkpoints["gpt+head"]).model) is GPTClassifier
    assert [k.name for k in TOKENIZER_KINDS] == ["bpe", "gpt1-bpe", "marian-sentencepiece"]
    assert load_checkpoint(checkpoints["gpt"]).tokenizer_kind == "bpe"


def test_expect_names_a_model_type_or_a_kind(checkpoints):
    assert load_checkpoint(checkpoints["gpt+head"], expect="gpt").kind == "gpt+head"  # a GPT, with a head
    with pytest.raises(
        CheckpointError, match="needs a 'gpt\\+head' model; it is a GPT language model without"
    ):
        load_checkpoint(checkpoints["gpt"], expect="gpt+head")
    with pytest.raises(CheckpointError, match="holds a 'transformer' model, but this command needs a 'gpt'"):
        load_checkpoint(checkpoints["transformer"], expect="gpt")


def test_a_bare_checkpoint_is_refused_only_when_a_tokenizer_is_required(checkpoints):
    with pytest.raises(MissingTokenizerError, match="has no tokenizer .*ronbun.load\\(\\) still opens it"):
        load_checkpoint(checkpoints["bare"])
    assert load_checkpoint(checkpoints["bare"], require_tokenizer=False).tokenizer is None


def test_a_run_directory_resolves_to_its_newest_intact_checkpoint(checkpoints, tmp_path):
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    for step in (2, 10):
        save_checkpoint(run / "checkpoints" / f"step_{step:08d}", GPT(_gpt_config()))
    (run / "checkpoints" / "step_00000010" / "model.safetensors").write_bytes(b"torn")
    assert resolve_checkpoint(run).name == "step_00000002"
    assert resolve_checkpoint(checkpoints["gpt"]) == checkpoints["gpt"]
    with pytest.raises(CheckpointError, match="not a ronbun checkpoint"):
        resolve_checkpoint(tmp_path)


def test_the_recorded_moses_normalisation_wraps_the_tokenizer(tmp_path, tokenizer_file):
    config = TransformerConfig.preset(
        "tiny", vocab_size=300, extra={"tokenizer": normalization_record("en", "de")}
    )
    path = save_checkpoint(tmp_path / "mt", Transformer(config), tokenizer_file=tokenizer_file)
    assert isinstance(load_checkpoint(path).tokenizer, MosesNormalizedTokenizer)


def _modules_run_by(call) -> set[str]:
    """The ronbun modules whose functions run during ``call()``."""
    seen: set[str] = set()

    def profile(frame, event, arg):
        if event == "call":
            name = frame.f_globals.get("__name__", "")
            if name == "ronbun" or name.startswith("ronbun."):
                seen.add(name)

    sys.setprofile(profile)
    try:
        call()
    finally:
        sys.setprofile(None)
    return seen


@pytest.mark.parametrize("name", ["transformer", "gpt", "gpt+head", "bare"])
def test_loading_any_kind_passes_through_at_most_three_modules(checkpoints, name):
    ronbun.load(checkpoints[name])  # imports happen here, not in the measured call
    path = _modules_run_by(lambda: ronbun.load(checkpoints[name]))
    stops = sorted(m for m in path if m.split(".")[1] not in BUILDING_BLOCKS)
    assert "ronbun.training.checkpoint" in stops
    assert len(stops) <= 3, f"ronbun.load passes through {stops}"
    direct = _modules_run_by(lambda: load_checkpoint(checkpoints[name], require_tokenizer=False))
    assert sorted(m for m in direct if m.split(".")[1] not in BUILDING_BLOCKS) == [
        "ronbun.training.checkpoint"
    ]
