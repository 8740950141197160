"""The pieces every converter shares: the Hugging Face directory reader, JSON/vocabulary files, and the
staged directory that makes writing a conversion or an export atomic."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ronbun.interop import ConversionError, HFDirectory, read_json, read_vocab, staged_directory


def test_hf_directory_reads_config_and_records_provenance(tmp_path: Path) -> None:
    config = {"model_type": "marian", "architectures": ["MarianMTModel"], "transformers_version": "4.40.0"}
    (tmp_path / "config.json").write_text(json.dumps(config), encoding="utf-8")
    source = HFDirectory.open(tmp_path, "Hugging Face Marian model", ("marian",), "hf-marian")
    assert (source.path, source.config, source.format) == (tmp_path, config, "hf-marian")
    assert source.imported_from("model.safetensors") == {
        "format": "hf-marian",
        "path": str(tmp_path.resolve()),
        "weights_file": "model.safetensors",
        "architectures": ["MarianMTModel"],
        "transformers_version": "4.40.0",
    }
    with pytest.raises(ConversionError, match="holds no model weights"):
        source.weights()
    with pytest.raises(ConversionError, match="expects 'openai-gpt'"):
        HFDirectory.open(tmp_path, "Hugging Face openai-gpt model", ("openai-gpt",), "hf-openai-gpt")


def test_json_and_vocabulary_files_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(ConversionError, match=r"bad\.json is not valid JSON"):
        read_json(bad)
    vocab = tmp_path / "vocab.json"
    vocab.write_text(json.dumps({"a": 0, "b": 1}), encoding="utf-8")
    assert read_vocab(vocab) == {"a": 0, "b": 1}
    vocab.write_text(json.dumps({"a": "0"}), encoding="utf-8")
    with pytest.raises(ConversionError, match=r"vocab\.json must map BPE tokens to integer ids"):
        read_vocab(vocab, "BPE tokens")


def test_staged_directory_replaces_on_success_and_keeps_the_old_on_failure(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError), staged_directory(out, "test") as built:
        built.mkdir()
        (built / "new.txt").write_text("new", encoding="utf-8")
        raise RuntimeError("interrupted")
    assert [p.name for p in out.iterdir()] == ["old.txt"]
    with staged_directory(out, "test") as built:
        built.mkdir()
        (built / "new.txt").write_text("new", encoding="utf-8")
    assert [p.name for p in out.iterdir()] == ["new.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no staging directory left behind
