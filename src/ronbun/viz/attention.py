"""Attention pictures (the paper's §4 / appendix argument that self-attention is interpretable):
heat-maps of encoder self-, decoder self- and encoder-decoder attention with tokens on the axes."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from torch import Tensor


def plot_attention(
    weights: Tensor,
    rows: Sequence[str],
    cols: Sequence[str],
    out: str | Path,
    *,
    title: str = "",
) -> Path:
    """One heat-map: ``weights (T_q, T_k)``; ``rows`` label queries, ``cols`` label keys."""
    w = weights.detach().float().cpu().numpy()
    fig, ax = plt.subplots(figsize=(0.45 * len(cols) + 2.5, 0.45 * len(rows) + 1.8))
    im = ax.imshow(w, cmap="viridis", vmin=0.0, vmax=max(float(w.max()), 1e-6), aspect="auto")
    ax.set_xticks(range(len(cols)), cols, rotation=60, ha="right", fontsize=9)
    ax.set_yticks(range(len(rows)), rows, fontsize=9)
    ax.set_xlabel("attended position (key)")
    ax.set_ylabel("query position")
    if title:
        ax.set_title(title, fontsize=10)
    fig.colorbar(im, ax=ax, fraction=0.04)
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=130)
    plt.close(fig)
    return out


def plot_heads(
    weights: Tensor, rows: Sequence[str], cols: Sequence[str], out: str | Path, *, title: str = ""
) -> Path:
    """All heads of one layer side by side: ``weights (h, T_q, T_k)``."""
    h = weights.shape[0]
    ncols = min(h, 4)
    nrows = (h + ncols - 1) // ncols
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.2 * ncols, 3.0 * nrows + 0.6), squeeze=False)
    for i, ax in enumerate(axes.flat):
        if i >= h:
            ax.axis("off")
            continue
        ax.imshow(weights[i].detach().float().cpu().numpy(), cmap="viridis", vmin=0.0, aspect="auto")
        ax.set_title(f"head {i}", fontsize=9)
        ax.set_xticks(range(len(cols)), cols, rotation=90, fontsize=6)
        ax.set_yticks(range(len(rows)), rows, fontsize=6)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
