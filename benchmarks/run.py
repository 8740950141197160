"""Run the benchmark suite and print the tables recorded in ``docs/performance.md``.

    python -m benchmarks.run                       # everything (make bench), all cores
    python -m benchmarks.run --threads 1 --only mt-train gpt-train
    python -m benchmarks.run --quick               # tiny sizes, 1-2 iterations: checks that it all works

Groups (``--only``): ``mt-train`` (small, base; with MFU), ``mt-decode`` (greedy, beam 4), ``gpt-train``
(small, gpt1; with MFU), ``gpt-generate``, ``memory`` (peak training memory, one subprocess per side),
``data`` (batching + collation vs a model step), ``bf16-curve`` (``benchmarks.bf16_vs_fp32``).
Results go to stdout and to ``benchmarks/results/<name>.{json,md}`` (``--name``, default ``latest``).

Two benchmarks need a trained checkpoint and real data, so they are commands of their own, not groups:
``python -m benchmarks.translation`` (a test set translated by ronbun, Hugging Face ``generate`` and
CTranslate2 on the same exported weights) and ``python -m benchmarks.serve_load`` (the serving API).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

from .common import Row, machine, markdown, rows_to_json, set_threads

GROUPS = ("mt-train", "mt-decode", "gpt-train", "gpt-generate", "memory", "data", "bf16-curve")
RESULTS = Path(__file__).resolve().parent / "results"


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run(
    groups: tuple[str, ...],
    *,
    threads: int,
    quick: bool = False,
    reps: int | None = None,
    presets: tuple[str, ...] | None = None,
) -> tuple[list[Row], list[str]]:
    """Run ``groups``; returns the table rows and free-text notes (bf16 curve summary, skipped parts)."""
    from . import data_pipeline, decode, train
    from .models import HAVE_HF

    set_threads(threads)
    warnings.filterwarnings("ignore", module="transformers")
    rows: list[Row] = []
    notes: list[str] = []
    r = reps if reps is not None else (2 if quick else 7)
    w = 1 if quick else 2
    peak = train.peaks() if {"mt-train", "gpt-train"} & set(groups) else None
    if peak is not None:
        measured = ", ".join(f"{p} {v / 1e9:.1f} GFLOP/s" for p, v in peak.items())
        notes.append(
            f"matmul peak measured once before the runs at {threads} thread(s) (best of n = 512, 1024, 2048): "
            f"{measured}; the MFU tables divide by the n = 1024 peak timed interleaved with the steps"
        )
    if {"mt-train", "gpt-train"} & set(groups) and not train.bf16_timed():
        notes.append(
            "bf16 sides skipped: this CPU has no native bf16 (AVX-512 BF16 or AMX); emulated bf16 is several "
            "times slower than fp32 and is not ronbun's setting there"
        )
    small_step_ms: float | None = None
    mt_presets = ("tiny",) if quick else ("small", "base")
    gpt_presets = ("tiny",) if quick else ("small", "gpt1")
    if presets:
        mt_presets = tuple(p for p in mt_presets if p in presets)
        gpt_presets = tuple(p for p in gpt_presets if p in presets)
    if not HAVE_HF:
        notes.append("transformers is not installed: Hugging Face references skipped")
    if "mt-train" in groups:
        for preset in mt_presets:
            _log(f"mt-train {preset}")
            batch = 8 if quick else 64
            res = train.mt_train(
                preset, batch=batch, warmup=w, reps=r if preset != "base" else max(r - 2, 1), mfu=True
            )
            rows += res.rows
            if preset in ("small", "tiny"):
                small_step_ms = res.timing.median["ours"] * 1e3 * (64 / batch)
    if "mt-decode" in groups and HAVE_HF:
        for preset in mt_presets:
            _log(f"mt-decode {preset}")
            kw = {"n_sources": 4, "new_tokens": 8} if quick else {}
            rows += decode.mt_decode(preset, warmup=1 if not quick else 0, reps=max(r - 2, 1), **kw)
    if "gpt-train" in groups:
        for preset in gpt_presets:
            _log(f"gpt-train {preset}")
            kw = {"batch": 2, "length": 32} if quick else {}
            rows += train.gpt_train(
                preset, warmup=w, reps=r if preset != "gpt1" else max(r - 2, 1), mfu=True, **kw
            ).rows
    if "gpt-generate" in groups and HAVE_HF:
        for preset in gpt_presets:
            _log(f"gpt-generate {preset}")
            kw = {"batch": 2, "prompt_len": 4, "new_tokens": 4} if quick else {}
            rows += decode.gpt_generate(preset, warmup=1 if not quick else 0, reps=max(r - 2, 1), **kw)
    if "memory" in groups:
        sides_mt = ("ours", "hf", "torch") if HAVE_HF else ("ours", "torch")
        sides_gpt = ("ours", "hf", "ours_best", "hf_bf16") if HAVE_HF else ("ours",)
        for preset in mt_presets:
            _log(f"memory mt {preset}")
            shape = {"batch": 8 if quick else 64, "src_len": 32, "tgt_len": 32, "vocab": 8000}
            rows += train.memory_rows("mt", preset, shape, sides_mt, threads, steps=1 if quick else 3)
        for preset in gpt_presets:
            _log(f"memory gpt {preset}")
            shape = {"batch": 2 if quick else 4, "length": 32 if quick else 256, "vocab": 40478}
            if len(sides_gpt) > 1:
                rows += train.memory_rows("gpt", preset, shape, sides_gpt, threads, steps=1 if quick else 3)
                if preset == "gpt1":  # the target's pair again, allocator-neutral
                    rows += train.memory_rows(
                        "gpt", preset, shape, ("ours", "hf"), threads, 3, fixed_mmap=True
                    )
    if "data" in groups:
        _log("data")
        rows += data_pipeline.data_pipeline(
            n_train=2000 if quick else 40_000, step_ms=small_step_ms, preset="tiny" if quick else "small",
            reps=1 if quick else 3,
        )  # fmt: skip
    if "bf16-curve" in groups:
        _log("bf16-curve")
        from . import bf16_vs_fp32

        kw = (
            {"preset": "tiny", "steps": 4, "n_train": 500, "window": 2, "warmup": 2, "out": None}
            if quick
            else {}
        )
        result = bf16_vs_fp32.run(threads=threads, **kw)  # type: ignore[arg-type]
        notes.append("bf16 vs fp32 loss curves: " + bf16_vs_fp32.summary_line(result))
        set_threads(threads)
    return rows, notes


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="+", choices=GROUPS, default=list(GROUPS), metavar="GROUP")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument(
        "--reps", type=int, default=None, help="timed repetitions per side (default 7; --quick 2)"
    )
    ap.add_argument("--quick", action="store_true", help="tiny sizes and 1-2 iterations (smoke test)")
    ap.add_argument("--presets", nargs="+", default=None, help="only these presets (small, base, gpt1, tiny)")
    ap.add_argument("--name", default="latest", help="results file stem under benchmarks/results/")
    ap.add_argument("--no-save", action="store_true", help="print only")
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    meta = machine(a.threads)
    rows, notes = run(tuple(a.only), threads=a.threads, quick=a.quick, reps=a.reps, presets=a.presets)
    meta["wall_seconds"] = round(time.perf_counter() - t0, 1)
    header = (
        f"`{meta['command']}` — {meta['date']} — {meta['cpu']}, {meta['cores']} cores ({meta['cpu_capability']}), "
        f"torch {meta['torch']}, transformers {meta['transformers']}, Python {meta['python']}, "
        f"**{meta['threads']} thread(s)**, {meta['wall_seconds']} s"
    )
    text = "\n\n".join([header, markdown(rows), *(f"- {n}" for n in notes)])
    print(text)
    if not a.no_save:
        rows_to_json(rows, RESULTS / f"{a.name}.json", {**meta, "notes": notes})
        (RESULTS / f"{a.name}.md").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
