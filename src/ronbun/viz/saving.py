"""Writing a finished figure: the one way every picture of :mod:`ronbun.viz` is saved."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure


def save_figure(fig: Figure, out: str | Path, dpi: int = 110) -> Path:
    """Write ``fig`` to ``out`` (its folder created if needed), close it, and return the path."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=dpi)
    plt.close(fig)
    return out
