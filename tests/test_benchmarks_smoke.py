"""Keeps the benchmark suite (``benchmarks/``, ``python -m benchmarks.run``) working: every benchmark once, at
tiny sizes with one or two iterations.  Numbers are not checked here (they live in docs/performance.md);
the Hugging Face parts are skipped when ``transformers`` is not installed."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks import bf16_vs_fp32, common, data_pipeline, mfu, packed_gemm, train  # noqa: E402
from benchmarks.models import HAVE_HF  # noqa: E402

needs_hf = pytest.mark.skipif(not HAVE_HF, reason="transformers is not installed")


def test_interleaved_timing_alternates_sides() -> None:
    calls: list[str] = []
    timing = common.interleaved(
        {"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, warmup=1, reps=2
    )
    assert calls == ["a", "b", "a", "b", "a", "b"]
    assert set(timing.median) == {"a", "b"} and all(len(v) == 2 for v in timing.samples.values())


def test_flop_counts_follow_the_6nd_rule() -> None:
    # gpt1: 85M non-embedding parameters + the tied output layer; 6·N·D plus attention
    flops = mfu.gpt_train_flops("gpt1", batch=4, length=256, vocab=40478)
    n_matmul = 12 * (4 * 768**2 + 2 * 768 * 3072) + 768 * 40478
    assert 1.0 <= flops / (6 * n_matmul * 1024) < 1.1


def test_mt_train_step_benchmark() -> None:
    res = train.mt_train("tiny", batch=4, src_len=8, tgt_len=8, warmup=0, reps=1, mfu=True)
    refs = {r.ref_name for r in res.rows if r.kind == "speed"}
    assert "torch.nn.Transformer fp32" in refs
    assert ("HF MarianMTModel fp32" in refs) == HAVE_HF
    assert all(math.isfinite(r.ours_ms) and r.ours_ms > 0 for r in res.rows if r.kind == "speed")
    assert any(r.kind == "mfu" for r in res.rows)


@pytest.mark.parametrize("native", [False, True])
def test_bf16_is_timed_only_where_the_cpu_has_it(monkeypatch, native: bool) -> None:
    """Emulated bf16 is not ronbun's setting (its trainer picks fp32 there) and takes minutes per GEMM peak."""
    monkeypatch.setattr("ronbun.evaluation.provenance.cpu_has_bf16", lambda: native)
    mfu = not native  # (the MFU's bf16 peak probe would be emulated on this CPU: slow)
    res = train.mt_train("tiny", batch=2, src_len=4, tgt_len=4, warmup=0, reps=1, mfu=mfu, refs=("torch",))
    sides = set(res.timing.median)
    assert ("ours_best" in sides) == native and "peak_bf16" not in sides
    assert {"ours", "torch"} <= sides and ("peak_fp32" in sides) == mfu
    assert train.bf16_timed("cuda") is True


def test_gpt_train_step_benchmark() -> None:
    res = train.gpt_train("tiny", batch=1, length=16, vocab=500, warmup=0, reps=1, mfu=True)
    assert res.rows[0].benchmark == "GPT train step" and res.rows[0].ours_ms > 0


@needs_hf
def test_decoding_benchmarks_give_identical_outputs() -> None:
    from benchmarks import decode

    rows = decode.mt_decode("tiny", n_sources=2, new_tokens=4, vocab=300, warmup=0, reps=1)
    rows += decode.gpt_generate("tiny", batch=1, prompt_len=4, new_tokens=3, vocab=300, warmup=0, reps=1)
    assert len(rows) == 3 and all(r.extra["identical outputs"] == "yes" for r in rows)


def test_peak_memory_probe_runs_in_a_subprocess() -> None:
    rows = train.memory_rows("gpt", "tiny", {"batch": 1, "length": 8, "vocab": 300}, ("ours",), 1, steps=1)
    assert rows == []  # one side: nothing to compare, but the probe ran
    peak = common.probe_memory(
        {"kind": "mt", "side": "ours", "preset": "tiny", "batch": 2, "src_len": 8, "tgt_len": 8, "vocab": 300,
         "threads": 1, "steps": 1, "import_references": False}
    )  # fmt: skip
    assert peak["peak_mib"] > 0 and peak["params_mib"] > 0


def test_data_pipeline_benchmark() -> None:
    (row,) = data_pipeline.data_pipeline(n_train=300, max_tokens=256, step_ms=1.0, reps=1)
    assert row.extra["batches/epoch"] > 0 and row.ours_ms > 0


def test_bf16_vs_fp32_curves() -> None:
    result = bf16_vs_fp32.run(
        preset="tiny", steps=3, n_train=200, window=2, warmup=2, max_tokens=256, out=None
    )
    assert len(result["curves"]["fp32"]["loss"]) == len(result["curves"]["bf16"]["loss"]) == 3
    assert math.isfinite(result["comparison"]["max_rel_diff"])
    assert len(result["curves"]["fp32_next_seed"]["loss"]) == 3  # the seed-to-seed yardstick
    assert isinstance(result["comparison"]["within_seed_noise"], bool)
    assert "seed-to-seed spread" in bf16_vs_fp32.summary_line(result)


def test_run_cli_quick_subset(capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks import run

    assert run.main(["--quick", "--only", "data", "--threads", "1", "--no-save"]) == 0
    out = capsys.readouterr().out
    assert "data pipeline" in out and "1 thread(s)" in out


def test_the_torch_nn_reference_drops_out_only_where_the_paper_does() -> None:
    """Residual and embedding dropout as in ronbun and Marian; no attention-weight or FFN-activation dropout
    (nn.Transformer's single `dropout` would add both, i.e. different work)."""
    from benchmarks.models import TorchTransformerMT

    model = TorchTransformerMT("tiny", vocab=64, pad_id=63)
    layers = [*model.core.encoder.layers, *model.core.decoder.layers]
    assert model.drop.p == 0.1
    assert all(layer.dropout1.p == 0.1 and layer.dropout2.p == 0.1 for layer in layers)
    assert all(layer.self_attn.dropout == 0.0 and layer.dropout.p == 0.0 for layer in layers)
    assert all(layer.multihead_attn.dropout == 0.0 for layer in model.core.decoder.layers)
    model.train()
    src, tgt = torch.randint(0, 63, (2, 5)), torch.randint(0, 63, (2, 4))
    assert model(src, tgt).shape == (2, 4, 64)


@pytest.mark.skipif(not torch.backends.mkl.is_available(), reason="needs PyTorch built with MKL")
def test_prepacked_gemm_gives_the_same_product(tmp_path) -> None:
    """The packed-weight measurement compares equal arithmetic: from a few rows on, MKL's prepacked product
    returns exactly ``F.linear``'s output, so only the time differs."""
    out = tmp_path / "packed.json"
    assert (
        packed_gemm.main(
            [
                "--rows",
                "4,8",
                "--d-in",
                "32",
                "--d-out",
                "64",
                "--layers",
                "2",
                "--calls",
                "1",
                "--reps",
                "1",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    rows = json.loads(out.read_text(encoding="utf-8"))["rows"]
    assert [r["rows"] for r in rows] == [4, 8]
    assert all(r["identical_output"] and r["speedup"] > 0 for r in rows)
