"""Training-step benchmarks: encoder-decoder (vs Marian and torch.nn.Transformer) and GPT-1 (vs openai-gpt).

Sides, all timed interleaved in one process on the same batch:

* ``ours`` fp32 and ``ours_best`` bf16 autocast (ronbun's best CPU setting and its trainer's default on a CPU
  with native bf16; attention there takes the spelled-out Eq. 1 path automatically, see
  ``ronbun.nn.attention``),
* ``hf`` (``MarianMTModel`` / ``OpenAIGPTLMHeadModel``, identical weights, SDPA attention where the model
  has it) in fp32 and, for context, bf16 autocast,
* ``torch`` (``torch.nn.Transformer`` + embeddings + tied output; encoder-decoder only) in fp32.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from .common import FIXED_MMAP_ENV, Row, Timing, device_sync, interleaved, probe_memory, spread
from .mfu import gpt_train_flops, matmul_peak, mt_train_flops, peak_probe
from .models import HAVE_HF, VOCAB_GPT, VOCAB_MT, TorchTransformerMT, gpt_batch, gpt_pair, mt_batch, mt_pair
from .steps import gpt_train_step, mt_train_step

#: Required speed-ups, by (benchmark, preset, comparison): the targets docs/performance.md reports on.
MT_TARGETS = {"small": 1.3, "base": 1.1}
BF16_TARGET = 2.5
GPT_TARGET = 1.3
GPT_MEMORY_TARGET = 0.7
MFU_TARGET = 0.7


@dataclass
class TrainResult:
    rows: list[Row]
    timing: Timing
    flops: float
    extra: dict[str, Any] = field(default_factory=dict)


SIDE_LABEL = {
    "ours": "ronbun fp32",
    "ours_best": "ronbun bf16",
    "hf": "HF fp32",
    "hf_bf16": "HF bf16",
    "torch": "torch.nn fp32",
}
SIDE_DTYPE = {
    "ours": "fp32",
    "ours_best": "bf16",
    "hf": "fp32",
    "hf_bf16": "bf16",
    "torch": "fp32",
}


def bf16_timed(device: str = "cpu") -> bool:
    """Whether bf16 sides are timed: on a GPU, and on a CPU with native bf16 (AVX-512 BF16 or AMX).  Elsewhere
    bf16 is emulated (several times slower than fp32), is not ronbun's setting, and is skipped."""
    from ronbun.evaluation.provenance import cpu_has_bf16

    return not device.startswith("cpu") or cpu_has_bf16()


def _precisions(device: str) -> tuple[tuple[str, torch.dtype], ...]:
    fp32 = ("fp32", torch.float32)
    return (fp32, ("bf16", torch.bfloat16)) if bf16_timed(device) else (fp32,)


def _add_peak_probes(fns: dict[str, Callable[[], Any]], device: str) -> dict[str, float]:
    """Add the matmul-peak sides to an interleaved set; returns their FLOPs per call."""
    flops = {}
    for dtype_name, dtype in _precisions(device):
        fns[f"peak_{dtype_name}"], flops[dtype_name] = peak_probe(dtype, device)
    return flops


def _mfu_rows(
    name: str, preset: str, timing: Timing, flops: float, peak_flops: dict[str, float]
) -> list[Row]:
    peaks = {p: f / timing.median[f"peak_{p}"] for p, f in peak_flops.items()}
    rows = []
    for side in ("ours", "ours_best", "hf", "hf_bf16", "torch"):
        if side not in timing.median:
            continue
        dtype = SIDE_DTYPE[side]
        t = timing.median[side]
        achieved = flops / t
        mfu = achieved / peaks[dtype]
        extra = {
            "GFLOP/step": f"{flops / 1e9:.1f}",
            "GFLOP/s": f"{achieved / 1e9:.1f}",
            "peak GFLOP/s (interleaved)": f"{peaks[dtype] / 1e9:.1f}",
            "MFU": f"{100 * mfu:.0f}%",
        }
        if side == "ours" and preset == "small":
            extra["target"] = f"≥ {100 * MFU_TARGET:.0f}%"
            extra["met"] = "yes" if mfu >= MFU_TARGET else "no"
        rows.append(Row(f"{name} MFU", f"{preset}, {SIDE_LABEL[side]}", t * 1e3, f"{dtype} matmul peak", None,
                        None, extra=extra, kind="mfu"))  # fmt: skip
    return rows


def _speed_rows(
    name: str, size: str, timing: Timing, comparisons: list[tuple[str, str, str, float | None]]
) -> list[Row]:
    """``comparisons``: (our side, reference side, reference label, target)."""
    rows = []
    for ours, ref, label, target in comparisons:
        if ours in timing.median and ref in timing.median:
            rows.append(
                Row(name, f"{size}, {SIDE_LABEL[ours]}", timing.median[ours] * 1e3, label,
                    timing.median[ref] * 1e3, timing.ratio(ours, ref), target, extra=spread(timing, ours, ref))
            )  # fmt: skip
    return rows


def peaks(device: str = "cpu") -> dict[str, float]:
    """Measured matmul peak per precision (CPU: n ≤ 2048; GPU: n up to 8192); bf16 only where it is timed
    (:func:`bf16_timed`)."""
    sizes = (2048, 4096, 8192) if device.startswith("cuda") else (512, 1024, 2048)
    return {p: matmul_peak(dt, sizes, device=device) for p, dt in _precisions(device)}


def mt_train(
    preset: str,
    *,
    batch: int = 64,
    src_len: int = 32,
    tgt_len: int = 32,
    vocab: int = VOCAB_MT,
    warmup: int = 2,
    reps: int = 7,
    refs: tuple[str, ...] = ("hf", "torch"),
    bf16: bool | None = None,
    mfu: bool = False,
    memory: bool = False,
    threads: int = 1,
    device: str = "cpu",
) -> TrainResult:
    """Encoder-decoder training step, label smoothing 0.1, dropout 0.1, Adam; ``bf16`` sides by default where
    :func:`bf16_timed`."""
    pair = mt_pair(preset, vocab).to(device)
    data = {k: v.to(device) for k, v in mt_batch(batch, src_len, tgt_len, vocab).items()}
    pad = vocab - 1
    fns = {"ours": mt_train_step("ours", pair.ours, data, pad_id=pad)}
    if "hf" in refs and pair.hf is not None:
        fns["hf"] = mt_train_step("hf", pair.hf, data, pad_id=pad)
    if "torch" in refs:
        fns["torch"] = mt_train_step(
            "torch", TorchTransformerMT(preset, vocab, pad_id=pad).to(device), data, pad_id=pad
        )
    if bf16_timed(device) if bf16 is None else bf16:
        fns["ours_best"] = mt_train_step("ours", pair.ours, data, "bf16", pad_id=pad)
        if "hf" in fns:
            fns["hf_bf16"] = mt_train_step("hf", pair.hf, data, "bf16", pad_id=pad)
    peak_flops = _add_peak_probes(fns, device) if mfu else {}
    timing = interleaved(fns, warmup=warmup, reps=reps, sync=device_sync(device))
    flops = mt_train_flops(preset, batch, src_len, tgt_len, vocab)
    hf, tn, hf16 = "HF MarianMTModel fp32", "torch.nn.Transformer fp32", "HF MarianMTModel bf16"
    rows = _speed_rows("MT train step", f"{preset}, {batch}×{src_len}→{tgt_len}, V {vocab}", timing, [
        ("ours", "hf", hf, MT_TARGETS.get(preset)),
        ("ours", "torch", tn, None),
        ("ours_best", "hf", hf, BF16_TARGET),
        ("ours_best", "torch", tn, BF16_TARGET),
        ("ours_best", "hf_bf16", hf16, None),
    ])  # fmt: skip
    if mfu:
        rows += _mfu_rows("MT train", preset, timing, flops, peak_flops)
    if memory:
        rows += memory_rows("mt", preset, {"batch": batch, "src_len": src_len, "tgt_len": tgt_len,
                            "vocab": vocab}, ("ours", *(r for r in refs if r in fns)), threads)  # fmt: skip
    return TrainResult(rows, timing, flops)


def gpt_train(
    preset: str,
    *,
    batch: int = 4,
    length: int = 256,
    vocab: int = VOCAB_GPT,
    warmup: int = 2,
    reps: int = 7,
    bf16: bool | None = None,
    mfu: bool = False,
    memory: bool = False,
    threads: int = 1,
    device: str = "cpu",
) -> TrainResult:
    """GPT-1 language-model training step (dropout 0.1 everywhere, Adam); ``bf16`` sides by default where
    :func:`bf16_timed`."""
    pair = gpt_pair(preset, vocab).to(device)
    ids = gpt_batch(batch, length, vocab).to(device)
    fns = {"ours": gpt_train_step("ours", pair.ours, ids)}
    if pair.hf is not None:
        fns["hf"] = gpt_train_step("hf", pair.hf, ids)
    if bf16_timed(device) if bf16 is None else bf16:
        fns["ours_best"] = gpt_train_step("ours", pair.ours, ids, "bf16")
        if pair.hf is not None:
            fns["hf_bf16"] = gpt_train_step("hf", pair.hf, ids, "bf16")
    peak_flops = _add_peak_probes(fns, device) if mfu else {}
    timing = interleaved(fns, warmup=warmup, reps=reps, sync=device_sync(device))
    flops = gpt_train_flops(preset, batch, length, vocab)
    hf, hf16 = "HF OpenAIGPTLMHeadModel fp32", "HF OpenAIGPTLMHeadModel bf16"
    rows = _speed_rows("GPT train step", f"{preset}, {batch}×{length}, V {vocab}", timing, [
        ("ours", "hf", hf, GPT_TARGET if preset == "gpt1" else None),
        ("ours_best", "hf", hf, None),
        ("ours_best", "hf_bf16", hf16, None),
    ])  # fmt: skip
    if pair.hf is None:
        rows.append(Row("GPT train step", f"{preset}, {batch}×{length}, fp32", timing.median["ours"] * 1e3, "–",
                        None, None))  # fmt: skip
    if mfu:
        rows += _mfu_rows("GPT train", preset, timing, flops, peak_flops)
    if memory:
        sides = ("ours", "hf") if pair.hf is not None else ("ours",)
        rows += memory_rows("gpt", preset, {"batch": batch, "length": length, "vocab": vocab}, sides, threads)
    return TrainResult(rows, timing, flops)


def memory_rows(
    kind: str,
    preset: str,
    shape: dict[str, int],
    sides: tuple[str, ...],
    threads: int,
    steps: int = 3,
    fixed_mmap: bool = False,
) -> list[Row]:
    """Peak training memory of each side, each in a fresh subprocess (see ``benchmarks.memprobe``).

    ``sides`` from ``ours``, ``ours_best`` (bf16), ``hf``, ``hf_bf16``, ``torch``; ronbun's
    sides are compared with every reference side of the same precision and with fp32 ``hf``.  ``fixed_mmap``
    runs the probes with :data:`~benchmarks.common.FIXED_MMAP_ENV` (allocator-neutral second opinion)."""
    peaks: dict[str, dict[str, float]] = {}
    for side in sides:
        spec = {"kind": kind, "side": side, "preset": preset, "threads": threads, "steps": steps, **shape}
        peaks[side] = probe_memory(spec, env=FIXED_MMAP_ENV if fixed_mmap else None)
    hf = "HF" if kind == "gpt" else "HF Marian"
    labels = {"hf": f"{hf} fp32", "hf_bf16": f"{hf} bf16", "torch": "torch.nn.Transformer fp32"}
    pairs = [("ours", "hf"), ("ours", "torch"), ("ours_best", "hf_bf16"), ("ours_best", "hf")]
    rows = []
    for ours_side, ref_side in pairs:
        if ours_side not in peaks or ref_side not in peaks:
            continue
        ours, ref = peaks[ours_side]["peak_mib"], peaks[ref_side]["peak_mib"]
        note = {
            "ronbun MiB": f"{ours:.0f}",
            "reference MiB": f"{ref:.0f}",
            "ratio ours/ref": f"{ours / ref:.2f}",
            "params MiB": f"{peaks[ours_side]['params_mib']:.0f}",
        }
        if kind == "gpt" and preset == "gpt1" and (ours_side, ref_side) == ("ours", "hf"):
            note["target"] = f"≤ {GPT_MEMORY_TARGET}"
            note["met"] = "yes" if ours / ref <= GPT_MEMORY_TARGET else "no"
        rows.append(
            Row(f"{'GPT' if kind == 'gpt' else 'MT'} train peak memory", f"{preset}, {SIDE_LABEL[ours_side]}, "
                f"{steps} steps{', glibc mmap threshold 64 KiB' if fixed_mmap else ''}", float("nan"),
                labels[ref_side], None, None, extra=note, kind="memory")
        )  # fmt: skip
    return rows


__all__ = ["HAVE_HF", "TrainResult", "gpt_train", "memory_rows", "mt_train", "peaks"]
