"""The suite on one CUDA GPU: bf16 autocast training with SDPA (flash where the kernel applies), fp32 decoding.

    bash benchmarks/gpu.sh            # → benchmarks/results/gpu.{json,md}

Same comparisons and the same code as the CPU suite (``benchmarks.train``, ``benchmarks.decode``), with the
models and batches on ``cuda`` and ``torch.cuda.synchronize()`` around every timed call.  Differences:
TF32 is off for the fp32 rows (so "fp32" means fp32, and decoding outputs stay comparable); peak memory is
the CUDA caching allocator's ``max_memory_allocated`` of each side, built and run one after the other in
this process (the GPU analogue of the CPU suite's per-subprocess RSS); the matmul peak is measured with
square GEMMs up to 8192.  Before timing, the script checks which SDPA kernel ronbun's causal attention gets
in bf16 by allowing *only* the flash kernel for one GPT forward pass.
"""

from __future__ import annotations

import argparse
import gc
import sys
from pathlib import Path

import torch

from .common import Row, machine, markdown, rows_to_json

RESULTS = Path(__file__).resolve().parent / "results"


def flash_check(device: str) -> str:
    """Run one bf16 GPT forward with only FlashAttention allowed; the answer goes into the report."""
    from torch.nn.attention import SDPBackend, sdpa_kernel

    from .models import GPT, ronbun_gpt_config

    model = GPT(ronbun_gpt_config("small")).to(device).eval()
    ids = torch.randint(0, 1000, (4, 256), device=device)
    try:
        with (
            torch.no_grad(),
            torch.autocast("cuda", dtype=torch.bfloat16),
            sdpa_kernel([SDPBackend.FLASH_ATTENTION]),
        ):
            model(ids)
        return "ronbun causal self-attention runs on the FlashAttention SDPA kernel in bf16"
    except RuntimeError as exc:  # no flash kernel for this GPU/dtype/shape
        return f"FlashAttention kernel NOT used: {str(exc).splitlines()[0]}"


def cuda_peak_rows(device: str) -> list[Row]:
    """Peak allocator memory of a training step, each side alone (GPT-1 4×256 and the MT small/base)."""
    from .models import (
        GPT,
        TorchTransformerMT,
        Transformer,
        gpt_batch,
        marian_hf_config,
        mt_batch,
        openai_gpt_hf_config,
        ronbun_gpt_config,
        ronbun_mt_config,
    )
    from .steps import gpt_train_step, mt_train_step

    def measure(build, make_step, precision: str) -> float:
        gc.collect()
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        model = build().to(device)
        step = make_step(model, precision)
        for _ in range(3):
            step()
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated() - base
        del model, step
        return peak / 2**20

    rows = []
    from transformers import MarianMTModel, OpenAIGPTLMHeadModel

    ids = gpt_batch(4, 256).to(device)
    for precision in ("fp32", "bf16"):
        ours = measure(
            lambda: GPT(ronbun_gpt_config("gpt1")), lambda m, p: gpt_train_step("ours", m, ids, p), precision
        )
        hf = measure(lambda: OpenAIGPTLMHeadModel(openai_gpt_hf_config("gpt1")),
                     lambda m, p: gpt_train_step("hf", m, ids, p), precision)  # fmt: skip
        rows.append(Row("GPT train peak memory (CUDA allocator)", f"gpt1, 4×256, {precision}", float("nan"), "HF",
                        None, None, extra={"ronbun MiB": f"{ours:.0f}", "reference MiB": f"{hf:.0f}",
                                           "ratio ours/ref": f"{ours / hf:.2f}"}, kind="memory"))  # fmt: skip
    for preset in ("small", "base"):
        data = {k: v.to(device) for k, v in mt_batch(64, 32, 32).items()}
        sides = {
            "ours": lambda preset=preset: Transformer(ronbun_mt_config(preset)),
            "hf": lambda preset=preset: MarianMTModel(marian_hf_config(preset)),
            "torch": lambda preset=preset: TorchTransformerMT(preset),
        }
        peaks = {
            k: measure(b, lambda m, p, k=k, data=data: mt_train_step(k, m, data, p), "bf16")
            for k, b in sides.items()
        }
        for ref in ("hf", "torch"):
            rows.append(Row("MT train peak memory (CUDA allocator)", f"{preset}, 64×32→32, bf16", float("nan"),
                            {"hf": "HF Marian", "torch": "torch.nn.Transformer"}[ref], None, None,
                            extra={"ronbun MiB": f"{peaks['ours']:.0f}", "reference MiB": f"{peaks[ref]:.0f}",
                                   "ratio ours/ref": f"{peaks['ours'] / peaks[ref]:.2f}"}, kind="memory"))  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument(
        "--dry-run", action="store_true", help="same code path on the CPU with tiny sizes (no GPU)"
    )
    a = ap.parse_args(argv)
    if a.dry_run:
        device, mt_presets, gpt_presets, reps, small = (
            "cpu",
            ("tiny",),
            ("tiny",),
            1,
            {"batch": 2, "length": 32},
        )
        torch.set_num_threads(1)
    elif not torch.cuda.is_available():
        print(
            "no CUDA device: this script only runs on a GPU (--dry-run checks it on the CPU)", file=sys.stderr
        )
        return 2
    else:
        device, mt_presets, gpt_presets, reps, small = (
            "cuda",
            ("small", "base"),
            ("small", "gpt1"),
            a.reps,
            {},
        )
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    from . import decode, train

    meta = machine(torch.get_num_threads())
    meta["gpu"] = torch.cuda.get_device_name() if device == "cuda" else "none (dry run on the CPU)"
    notes = [flash_check(device)] if device == "cuda" else []
    peak = train.peaks(device)
    notes.append(
        f"measured matmul peak: fp32 {peak['fp32'] / 1e12:.2f} TFLOP/s, bf16 {peak['bf16'] / 1e12:.2f} TFLOP/s"
    )
    rows: list[Row] = []
    warm = 5 if device == "cuda" else 1
    for preset in mt_presets:
        rows += train.mt_train(preset, warmup=warm, reps=reps, mfu=True, device=device).rows
        rows += decode.mt_decode(preset, warmup=warm, reps=max(reps // 2, 1), device=device)
    for preset in gpt_presets:
        rows += train.gpt_train(preset, warmup=warm, reps=reps, mfu=True, device=device, **small).rows
        rows += decode.gpt_generate(preset, warmup=warm, reps=max(reps // 2, 1), device=device)
    if not a.skip_memory and device == "cuda":
        rows += cuda_peak_rows(device)
    header = f"GPU run — {meta['date']} — {meta['gpu']}, torch {meta['torch']}, transformers {meta['transformers']}"
    text = "\n\n".join([header, markdown(rows), *(f"- {n}" for n in notes)])
    print(text)
    if device == "cuda":
        rows_to_json(rows, RESULTS / "gpu.json", {**meta, "notes": notes})
        (RESULTS / "gpu.md").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
