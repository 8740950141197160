"""What identifies a measured result besides its command: the machine (CPU model, cores, threads) and the
software versions.  Written into every JSON summary (``make demo``, ``experiments/summarize.py``)."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from pathlib import Path
from typing import Any


def cpu_model() -> str:
    """The CPU's model name (Linux ``/proc/cpuinfo``), else what :mod:`platform` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()
    return {
        flag
        for line in text.splitlines()
        if line.startswith("flags")
        for flag in line.split(":", 1)[1].split()
    }


def cpu_has_bf16() -> bool:
    """Native bf16 matrix instructions (AVX-512 BF16 or AMX) on this CPU (Linux ``/proc/cpuinfo``)."""
    return bool({"avx512_bf16", "amx_bf16"} & _cpu_flags())


def cpu_capability() -> str:
    """The widest vector unit (what PyTorch's CPU kernels dispatch on): AVX512, AVX2, or the machine name."""
    flags = _cpu_flags()
    if "avx512f" in flags:
        return "AVX512" + (" BF16" if cpu_has_bf16() else "")
    return "AVX2" if "avx2" in flags else platform.machine()


def package_version(name: str) -> str:
    """The installed version of ``name`` from its package metadata (no import), else its ``__version__``."""
    from importlib import import_module
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return str(getattr(import_module(name), "__version__", "unknown"))


def gpu_name() -> str | None:
    """The first NVIDIA GPU's name as ``nvidia-smi`` reports it (``None`` on a machine without one)."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return None
    try:
        out = subprocess.run(
            [smi, "--query-gpu=name", "--format=csv,noheader"], capture_output=True, text=True, timeout=20
        )
    except (OSError, subprocess.SubprocessError):
        return None
    names = out.stdout.strip().splitlines() if out.returncode == 0 else []
    return names[0].strip() if names else None


def machine_description(threads: int | None = None) -> dict[str, Any]:
    """CPU model, cores, threads (default: PyTorch's current setting) and versions (from the packages'
    metadata: a summary writer need not import torch)."""
    if threads is None:
        import torch

        threads = torch.get_num_threads()
    return {
        "gpu": gpu_name(),
        "cpu": cpu_model(),
        # the vector unit decides the speed and whether precision "auto" trains in bf16 (native) or fp32
        "cpu_capability": cpu_capability(),
        "native_bf16": cpu_has_bf16(),
        "cores": os.cpu_count() or 0,
        "threads": threads,
        "python": platform.python_version(),
        "torch": package_version("torch"),
        "tokenizers": package_version("tokenizers"),
        "sacrebleu": package_version("sacrebleu"),
    }
