"""What identifies a measured result besides its command: the machine (CPU model, cores, threads) and the
software versions.  Written into every JSON summary (``make demo``, ``experiments/summarize.py``)."""

from __future__ import annotations

import os
import platform
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


def package_version(name: str) -> str:
    """The installed version of ``name`` from its package metadata (no import), else its ``__version__``."""
    from importlib import import_module
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return str(getattr(import_module(name), "__version__", "unknown"))


def machine_description(threads: int | None = None) -> dict[str, Any]:
    """CPU model, cores, threads (default: PyTorch's current setting) and versions (from the packages'
    metadata: a summary writer need not import torch)."""
    if threads is None:
        import torch

        threads = torch.get_num_threads()
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count() or 0,
        "threads": threads,
        "python": platform.python_version(),
        "torch": package_version("torch"),
        "tokenizers": package_version("tokenizers"),
        "sacrebleu": package_version("sacrebleu"),
    }
