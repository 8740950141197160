"""Mixed precision: ``auto`` picks bf16 autocast only where the hardware computes bf16 natively."""

from __future__ import annotations

import pytest
import torch

import ronbun.training.loop as loop


@pytest.mark.parametrize(("has_bf16", "expected"), [(True, "bf16"), (False, "fp32")])
def test_auto_precision_on_cpu_follows_the_hardware(monkeypatch, has_bf16, expected):
    monkeypatch.setattr(loop, "cpu_has_bf16", lambda: has_bf16)
    assert loop.resolve_precision("auto", torch.device("cpu")) == expected


@pytest.mark.parametrize("choice", ["fp32", "bf16", "fp16"])
def test_an_explicit_precision_is_kept(choice):
    assert loop.resolve_precision(choice, torch.device("cpu")) == choice


def test_fp16_without_a_gpu_is_a_clear_error(tmp_path):
    from ronbun import Transformer, TransformerConfig

    class Task:
        model = Transformer(TransformerConfig.preset("tiny", vocab_size=20))
        tokenizer_file = None

    with pytest.raises(loop.TrainingError, match="fp16 needs a GPU"):
        loop.Trainer(Task(), loop.TrainerConfig(out_dir=str(tmp_path), precision="fp16", device="cpu"))
