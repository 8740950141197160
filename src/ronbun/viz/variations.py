"""Model variations as differences from a base model, side by side with the paper's (Table 3 of "Attention
Is All You Need"): one group of horizontal bars per row, one bar per series ("ours", "paper"), perplexity
on the left, BLEU on the right.  ``ronbun experiment table3`` draws it from its measured table, and
``ronbun viz figures`` redraws docs/figures/table3.png from the committed results/table3.json.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from .saving import save_figure

COLOURS = ("tab:blue", "tab:gray", "tab:orange", "tab:green")


def _bars(ax, labels: Sequence[str], series: Mapping[str, Sequence[float | None]], xlabel: str) -> None:
    """Grouped horizontal bars, one group per label; a missing value (``None``) draws no bar."""
    y = np.arange(len(labels))
    height = 0.8 / max(len(series), 1)
    for i, (name, values) in enumerate(series.items()):
        widths = [math.nan if v is None else v for v in values]
        ax.barh(y + (i - (len(series) - 1) / 2) * height, widths, height, label=name, color=COLOURS[i % 4])
    ax.axvline(0.0, color="black", linewidth=0.8)
    ax.set_yticks(y, labels)
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", alpha=0.3)


def plot_variations(
    labels: Sequence[str],
    delta_ppl_pct: Mapping[str, Sequence[float | None]],
    delta_bleu: Mapping[str, Sequence[float | None]],
    out: str | Path,
    *,
    title: str = "",
) -> Path:
    """Each row's change in perplexity (per cent of its base: lower is better) and in BLEU (points: higher is
    better), one bar per series (e.g. ``{"ours": […], "paper": […]}``, aligned with ``labels``)."""
    for series in (delta_ppl_pct, delta_bleu):
        for name, values in series.items():
            if len(values) != len(labels):
                raise ValueError(f"series {name!r} has {len(values)} values for {len(labels)} rows")
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 0.35 * len(labels) + 1.8), sharey=True)
    _bars(left, labels, delta_ppl_pct, "Δ perplexity vs base (%): lower is better")
    _bars(right, labels, delta_bleu, "Δ BLEU vs base (points): higher is better")
    left.invert_yaxis()  # the first row at the top (the axes share y: once for both)
    left.legend(loc="lower right", fontsize="small")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save_figure(fig, out)


def plot_table3(summary: Mapping[str, Any], out: str | Path) -> Path | None:
    """``ronbun experiment table3``'s summary (``table3.json``) drawn: every row but the base, ours beside the
    paper's; ``None`` (nothing drawn) when the summary holds the base row alone."""
    rows = [r for r in summary["rows"] if r["row"] != "base"]
    if not rows:
        return None
    return plot_variations(
        [r["row"] for r in rows],
        {"ours": [r["delta_ppl_pct"] for r in rows], "paper": [r["paper"]["delta_ppl_pct"] for r in rows]},
        {"ours": [r["delta_bleu"] for r in rows], "paper": [r["paper"]["delta_bleu"] for r in rows]},
        out,
        title=f"Table 3 at the {summary['scale']['name']} scale vs the paper: each row minus its base",
    )
