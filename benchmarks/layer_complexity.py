"""Table 1 of "Attention Is All You Need" (§4), measured: per-layer forward time and activation memory of
self-attention vs a recurrent layer (an unrolled RNN cell and ``nn.LSTM``) vs a convolutional layer
(``Conv1d``, kernel k) vs restricted self-attention (a neighbourhood of r, banded mask) as the sequence
length n and the width d grow, and the maximum path length between two positions (1 vs n vs log_k n vs
n/r) measured by gradient probes.

    python -m benchmarks.layer_complexity --out runs/benchmarks/layer_complexity.json   # ~20 s, 1 thread
    ronbun viz complexity runs/benchmarks/layer_complexity.json --out table1.png

Writes JSON (settings, Table 1's theory, one row per measurement, path lengths) and the rows as CSV next to
it.  The measurement code lives in :mod:`ronbun.viz.complexity` so that ``ronbun viz figures`` can
regenerate the figure from an installed package.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from ronbun.viz.complexity import LAYERS, WINDOW, measure, write_results


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=Path("runs/benchmarks/layer_complexity.json"))
    p.add_argument("--n", type=_ints, default=[16, 32, 64, 128, 256, 512, 1024], help="lengths (d fixed)")
    p.add_argument("--d", type=_ints, default=[32, 64, 128, 256, 512], help="widths (n fixed)")
    p.add_argument("--d-fixed", type=int, default=64)
    p.add_argument("--n-fixed", type=int, default=64)
    p.add_argument("--k", type=int, default=3, help="convolution kernel width")
    p.add_argument("--window", type=int, default=WINDOW, help="restricted self-attention's neighbourhood r")
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--layers", default=",".join(LAYERS), help=f"comma-separated subset of {','.join(LAYERS)}")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    layers = [x.strip() for x in args.layers.split(",") if x.strip()]
    unknown = sorted(set(layers) - set(LAYERS))
    if unknown:
        p.error(f"unknown layer(s) {', '.join(unknown)}; choose from {', '.join(LAYERS)}")
    data = measure(
        args.n,
        args.d,
        d_fixed=args.d_fixed,
        n_fixed=args.n_fixed,
        k=args.k,
        window=args.window,
        batch=args.batch,
        repeats=args.repeats,
        layers=layers,
        device=args.device,
        log=(lambda _m: None) if args.quiet else print,
    )
    json_path, csv_path = write_results(data, args.out)
    print(f"wrote {json_path} and {csv_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
