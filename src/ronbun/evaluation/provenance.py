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


def machine_description(threads: int | None = None) -> dict[str, Any]:
    """CPU model, cores, threads (default: PyTorch's current setting) and versions."""
    import sacrebleu
    import tokenizers
    import torch

    from ..training.loop import cpu_has_bf16

    return {
        "cpu": cpu_model(),
        # the vector unit decides the speed and whether precision "auto" trains in bf16 (native) or fp32
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "native_bf16": cpu_has_bf16(),
        "cores": os.cpu_count() or 0,
        "threads": torch.get_num_threads() if threads is None else threads,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "tokenizers": tokenizers.__version__,
        "sacrebleu": sacrebleu.__version__,
    }
