"""Model FLOPs utilisation: the training step's model FLOPs per second over the machine's matmul peak.

*Model FLOPs* count the matrix products the model needs, nothing else (no recomputation, no elementwise
work): every projection ``2 · d_in · d_out`` per token, the two attention products ``2 · 2 · T_q · T_k · d``
per head group, the output projection ``2 · d · V`` per target token; the backward pass costs twice the
forward, so a training step is ``3 ×`` the forward.  The embedding lookup is a gather, not a matmul.

*Peak* is measured here, on this machine, with the same precision and thread count: square ``torch.mm``
(n = 1024 on the CPU, where oneDNN/MKL reach their best; 8192 on a GPU) timed **interleaved with the training
steps it is compared with** (:func:`peak_probe` is one more side in the same round-robin), so a background
load slows the peak and the step alike.  MFU = model FLOPs / median step time / median peak.
:func:`matmul_peak` (best of n ∈ {512, 1024, 2048}, measured once) is printed alongside for reference.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch

from .models import GPT_PRESETS, MT_PRESETS


def matmul_peak(
    dtype: torch.dtype = torch.float32,
    sizes: tuple[int, ...] = (512, 1024, 2048),
    reps: int = 7,
    device: str = "cpu",
) -> float:
    """Best median FLOP/s of square matmuls at the current thread count (on ``device``)."""
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    best = 0.0
    for n in sizes:
        a = torch.randn(n, n, dtype=dtype, device=device)
        b = torch.randn(n, n, dtype=dtype, device=device)
        for _ in range(2):
            torch.mm(a, b)
        times = []
        for _ in range(reps):
            sync()
            t0 = time.perf_counter()
            torch.mm(a, b)
            sync()
            times.append(time.perf_counter() - t0)
        best = max(best, 2 * n**3 / statistics.median(times))
    return best


def peak_probe(
    dtype: torch.dtype, device: str = "cpu", n: int | None = None, inner: int | None = None
) -> tuple[Callable[[], None], float]:
    """A callable doing ``inner`` square GEMMs of size ``n`` and the FLOPs it does (``inner · 2n³``)."""
    gpu = device.startswith("cuda")
    n = n or (8192 if gpu else 1024)
    inner = inner or (10 if gpu else (8 if dtype == torch.float32 else 16))
    a = torch.randn(n, n, dtype=dtype, device=device)
    b = torch.randn(n, n, dtype=dtype, device=device)
    out = torch.empty(n, n, dtype=dtype, device=device)

    def run() -> None:
        for _ in range(inner):
            torch.mm(a, b, out=out)

    return run, inner * 2.0 * n**3


def mt_train_flops(preset: str, batch: int, src_len: int, tgt_len: int, vocab: int) -> float:
    """Model FLOPs of one encoder-decoder training step (forward + backward)."""
    p = MT_PRESETS[preset]
    d, ff, n = p["d_model"], p["d_ff"], p["layers"]
    s_tok, t_tok = batch * src_len, batch * tgt_len
    enc = s_tok * (4 * d * d + 2 * d * ff) + batch * 2 * src_len * src_len * d
    dec_self = t_tok * (4 * d * d) + batch * 2 * tgt_len * tgt_len * d
    dec_cross = t_tok * (2 * d * d) + s_tok * (2 * d * d) + batch * 2 * tgt_len * src_len * d
    dec_ffn = t_tok * (2 * d * ff)
    macs = n * (enc + dec_self + dec_cross + dec_ffn) + t_tok * d * vocab
    return 3 * 2 * macs


def gpt_train_flops(preset: str, batch: int, length: int, vocab: int) -> float:
    """Model FLOPs of one GPT-1 training step (forward + backward)."""
    p = GPT_PRESETS[preset]
    d, ff, n = p["d_model"], p["d_ff"], p["layers"]
    tok = batch * length
    layer = tok * (4 * d * d + 2 * d * ff) + batch * 2 * length * length * d
    macs = n * layer + tok * d * vocab
    return 3 * 2 * macs
