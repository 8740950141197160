"""Is repacking the weight at every call what makes a decoder step's matrix products slow on a CPU?

A decoder step multiplies a few rows (beam × sentences) by every weight matrix of the decoder.  MKL's
``sgemm`` copies the weight into its blocked layout at every call; ``cblas_sgemm_pack`` does that once, and
PyTorch exposes it as ``torch.ops.mkl._mkl_reorder_linear_weight(W, M)`` (packed for M rows) and
``torch.ops.mkl._mkl_linear``.  This times ``F.linear`` against the packed product for M rows, cycling over
``--layers`` different weights so that, as in a real decoder, no weight stays in cache from one product to
the next.  Both sides are interleaved (:func:`benchmarks.common.interleaved`); the ratio is what counts.

    python -m benchmarks.packed_gemm --out runs/benchmarks/packed_gemm.json   # ~30 s, 1 thread
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

from .common import interleaved, machine, set_threads


def measure(rows: list[int], d_in: int, d_out: int, layers: int, calls: int, reps: int) -> list[dict]:
    """Per M in ``rows``: µs per product for ``F.linear`` and for weights packed for M rows, and their ratio."""
    torch.manual_seed(0)
    weights = [torch.randn(d_out, d_in) for _ in range(layers)]
    biases = [torch.randn(d_out) for _ in range(layers)]
    out = []
    for m in rows:
        packed = [torch.ops.mkl._mkl_reorder_linear_weight(w, m) for w in weights]
        x = torch.randn(m, d_in)

        def plain(x: torch.Tensor = x) -> None:
            for _ in range(calls):
                for w, b in zip(weights, biases, strict=True):
                    F.linear(x, w, b)

        def prepacked(x: torch.Tensor = x, m: int = m, packed: list = packed) -> None:
            for _ in range(calls):
                for p, w, b in zip(packed, weights, biases, strict=True):
                    torch.ops.mkl._mkl_linear(x, p, w, b, m)

        same = torch.equal(
            F.linear(x, weights[0], biases[0]),
            torch.ops.mkl._mkl_linear(x, packed[0], weights[0], biases[0], m),
        )
        t = interleaved({"F.linear": plain, "packed": prepacked}, warmup=1, reps=reps).median
        per_call = {k: v / (calls * layers) * 1e6 for k, v in t.items()}
        out.append(
            {
                "rows": m,
                "f_linear_us": round(per_call["F.linear"], 1),
                "packed_us": round(per_call["packed"], 1),
                "speedup": round(per_call["F.linear"] / per_call["packed"], 3),
                "identical_output": same,
                "packed_size_vs_weight": round(packed[0].numel() / weights[0].numel(), 2),
            }
        )
        print(
            f"M={m:4d}  F.linear {per_call['F.linear']:8.1f} µs  packed {per_call['packed']:8.1f} µs  "
            f"{out[-1]['speedup']:.2f}×  identical {same}  packed size {out[-1]['packed_size_vs_weight']}× W"
        )
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", default="1,4,8,16,32,64,128", help="rows per product (beam × sentences)")
    p.add_argument("--d-in", type=int, default=512)
    p.add_argument("--d-out", type=int, default=2048, help="2048 × 512: a base model's first FFN matrix")
    p.add_argument("--layers", type=int, default=24, help="distinct weights cycled (no cache reuse)")
    p.add_argument("--calls", type=int, default=20, help="passes over the weights per timed sample")
    p.add_argument("--reps", type=int, default=7)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)
    if not torch.backends.mkl.is_available():
        p.error("this PyTorch build has no MKL: nothing to compare")
    set_threads(args.threads)
    rows = [int(r) for r in args.rows.split(",")]
    result = {
        "machine": machine(args.threads),
        "shape": [args.d_out, args.d_in],
        "layers": args.layers,
        "rows": measure(rows, args.d_in, args.d_out, args.layers, args.calls, args.reps),
    }
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
