"""Shared measurement machinery: threads, interleaved timing, machine description, peak-memory probes.

Timing method: every side gets ``warmup`` untimed calls, then the sides are called in turn
(A, B, C, A, B, C, …) ``reps`` times; the reported number is each side's median.  Interleaving makes a
background load (another process, frequency changes) hit every side alike, so the *ratios* stay fair even
when absolute times drift.  The garbage collector is paused while timing.

Memory method: each side runs in a fresh subprocess (``python -m benchmarks.memprobe``) that imports the
same modules for both sides, records its resident set size (``VmRSS``), resets the kernel's high-water mark
(``echo 5 > /proc/self/clear_refs``), builds the model, runs a few steps and reads ``VmHWM``.  The reported
peak is ``VmHWM - VmRSS(before the model)``: weights + gradients + optimiser state + activations + allocator
slack, everything the workload itself added to the process.
"""

from __future__ import annotations

import gc
import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch

from ronbun.evaluation.provenance import machine_description

ROOT = Path(__file__).resolve().parent.parent


def set_threads(n: int) -> None:
    """Intra-op threads for this process (inter-op stays 1: the benchmarks run one op at a time)."""
    torch.set_num_threads(n)


def device_sync(device: str) -> Callable[[], None] | None:
    """What the timer must call around each sample on ``device`` (``None`` on the CPU)."""
    return torch.cuda.synchronize if str(device).startswith("cuda") else None


# -- timing ----------------------------------------------------------------------------------------------------
@dataclass
class Timing:
    """Medians (seconds) of interleaved calls, plus every sample."""

    median: dict[str, float]
    samples: dict[str, list[float]]

    def ratio(self, ours: str, ref: str) -> float:
        """Speed of ``ours`` relative to ``ref``: ``t_ref / t_ours`` (> 1 means ours is faster)."""
        return self.median[ref] / self.median[ours]

    def spread(self, name: str) -> float:
        """Relative spread of one side's samples: ``(p75 - p25) / median``."""
        s = sorted(self.samples[name])
        if len(s) < 4:
            return 0.0
        q = statistics.quantiles(s, n=4)
        return (q[2] - q[0]) / self.median[name]


def spread(timing: Timing, ours: str, ref: str) -> dict[str, str]:
    """The samples' interquartile range relative to the median, per side (how noisy the medians are)."""
    return {"IQR": f"{100 * timing.spread(ours):.0f}% / {100 * timing.spread(ref):.0f}%"}


def interleaved(
    fns: dict[str, Callable[[], Any]],
    *,
    warmup: int = 2,
    reps: int = 5,
    sync: Callable[[], None] | None = None,
) -> Timing:
    """Time each callable ``reps`` times, interleaved A, B, … after ``warmup`` untimed calls each.

    ``sync`` (e.g. ``torch.cuda.synchronize``) runs before the clock starts and before it stops."""
    sync = sync or (lambda: None)
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    samples: dict[str, list[float]] = {name: [] for name in fns}
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        for _ in range(reps):
            for name, fn in fns.items():
                sync()
                t0 = time.perf_counter()
                fn()
                sync()
                samples[name].append(time.perf_counter() - t0)
    finally:
        if was_enabled:
            gc.enable()
    return Timing({k: statistics.median(v) for k, v in samples.items()}, samples)


# -- the machine -----------------------------------------------------------------------------------------------
def machine(threads: int) -> dict[str, Any]:
    """What a results table must carry: date, CPU, core count, versions, threads."""
    try:
        import transformers

        tf_version = transformers.__version__
    except ImportError:
        tf_version = "not installed"
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        **machine_description(threads),  # CPU model, vector unit, native bf16, cores, versions
        "transformers": tf_version,
        "command": " ".join(["python", *sys.orig_argv[1:]]),  # the command as typed (-m module included)
    }


# -- results ---------------------------------------------------------------------------------------------------
@dataclass
class Row:
    """One line of a results table."""

    benchmark: str
    setting: str
    ours_ms: float
    ref_name: str
    ref_ms: float | None
    speedup: float | None  # t_ref / t_ours
    target: float | None = None  # required speed-up, when the suite sets one
    extra: dict[str, Any] = field(default_factory=dict)
    kind: str = "speed"  # "speed" (times and a speed-up), "mfu" or "memory" (the numbers are in ``extra``)

    @property
    def met(self) -> str:
        if self.target is None or self.speedup is None:
            return ""
        return "yes" if self.speedup >= self.target else "no"


def rows_to_json(rows: list[Row], path: Path, meta: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"machine": meta, "rows": [asdict(r) for r in rows]}, indent=2) + "\n")


def markdown(rows: list[Row]) -> str:
    """The speed table, then one table per other kind of row (MFU, memory)."""
    out = []
    speed = [r for r in rows if r.kind == "speed"]
    if speed:
        lines = [
            "| benchmark | setting | ronbun (ms) | reference | reference (ms) | speed-up | target | met | notes |",
            "|---|---|---:|---|---:|---:|---:|:-:|---|",
        ]
        for r in speed:
            ref = f"{r.ref_ms:.1f}" if r.ref_ms is not None else "–"
            sp = f"{r.speedup:.2f}×" if r.speedup is not None else "–"
            tgt = f"≥ {r.target:g}×" if r.target is not None else ""
            notes = ", ".join(f"{k} {v}" for k, v in r.extra.items())
            lines.append(
                f"| {r.benchmark} | {r.setting} | {r.ours_ms:.1f} | {r.ref_name} | {ref} | {sp} | {tgt} | {r.met} "
                f"| {notes} |"
            )
        out.append("\n".join(lines))
    for kind in ("mfu", "memory"):
        group = [r for r in rows if r.kind == kind]
        if not group:
            continue
        keys: list[str] = []
        for r in group:
            keys += [k for k in r.extra if k not in keys]
        lines = [
            "| benchmark | setting | compared with | " + " | ".join(keys) + " |",
            "|---|---|---|" + "---:|" * len(keys),
        ]
        for r in group:
            lines.append(
                f"| {r.benchmark} | {r.setting} | {r.ref_name} | "
                + " | ".join(str(r.extra.get(k, "")) for k in keys)
                + " |"
            )
        out.append("\n".join(lines))
    return "\n\n".join(out)


# -- memory ----------------------------------------------------------------------------------------------------
def _status_kib(key: str) -> int:
    text = Path("/proc/self/status").read_text()
    match = re.search(rf"^{key}:\s+(\d+) kB", text, re.M)
    if match is None:
        raise RuntimeError(f"/proc/self/status has no {key}")
    return int(match.group(1))


def rss_mib() -> float:
    return _status_kib("VmRSS") / 1024


def peak_rss_mib() -> float:
    return _status_kib("VmHWM") / 1024


def reset_peak_rss() -> None:
    """Reset the kernel's resident-set high-water mark to the current RSS (Linux >= 4.0)."""
    Path("/proc/self/clear_refs").write_text("5")


#: glibc settings for an allocator-neutral second opinion: every block of 64 KiB or more is its own mmap,
#: returned to the kernel when freed, so RSS follows live tensors instead of the heap's high-water mark.
FIXED_MMAP_ENV = {"MALLOC_MMAP_THRESHOLD_": "65536", "MALLOC_TRIM_THRESHOLD_": "65536"}


def probe_memory(
    spec: dict[str, Any], timeout: float = 600, env: dict[str, str] | None = None
) -> dict[str, float]:
    """Run one side's peak-memory probe in a fresh interpreter; returns ``{"peak_mib": …, …}``.

    ``env`` adds environment variables (e.g. :data:`FIXED_MMAP_ENV`)."""
    env = {
        **os.environ,
        **(env or {}),
        "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.memprobe", json.dumps(spec)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=env,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"memory probe {spec} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])
