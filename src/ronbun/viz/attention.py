"""Attention pictures (the paper's §4 / appendix argument that self-attention is interpretable):
heat-maps of encoder self-, decoder self- and encoder-decoder attention with tokens on the axes, the grid of
all heads of one layer, and the *averaged alignment* (mean over layers and heads) of a sentence.

This module only draws.  Opening a checkpoint and collecting its maps (:func:`load_inspectable`,
:func:`attention_view`, :func:`averaged_alignment`) is :mod:`ronbun.inspection`, which the web server uses
without loading matplotlib.

Usage::

    from ronbun.inspection import attention_view, averaged_alignment, load_inspectable
    from ronbun.viz.attention import plot_attention
    view = attention_view(load_inspectable("runs/demo/averaged"), "The dog sees the cat.")
    rows, cols = view.axes["cross"]
    plot_attention(averaged_alignment(view.maps["cross"]), rows, cols, "alignment.png")
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torch
from torch import Tensor

from ..inspection import KINDS, AttentionView, as_layer, averaged_alignment
from .saving import save_figure

__all__ = [
    "KEY_LABEL",
    "KIND_TITLES",
    "QUERY_LABEL",
    "WEIGHT_LABEL",
    "count_from_zero",
    "layer_label",
    "plot_alignment",
    "plot_attention",
    "plot_heads",
    "plot_kinds",
    "plot_scaling",
    "scaling_data",
]

KIND_TITLES = {
    "encoder": "encoder self-attention",
    "decoder": "decoder masked self-attention",
    "cross": "encoder-decoder attention",
    "self": "masked self-attention",
}

#: Colour-bar label of every attention heat-map: each cell is one softmax weight of Eq. 1.
WEIGHT_LABEL = "attention weight"
#: Axis labels: rows are queries (the position that attends), columns keys (the positions attended to).
QUERY_LABEL = "query (attends from)"
KEY_LABEL = "key (attends to)"
_LAYER_NUMBER = re.compile(r"\blayer (-?\d+)\b(?! \(counting from 0\))")


def layer_label(layer: int) -> str:
    """``"layer N (counting from 0)"``: how pictures name a layer, so that ``layer 0`` reads as the first."""
    return f"layer {layer} (counting from 0)"


def count_from_zero(title: str) -> str:
    """``title`` with every ``layer N`` spelled as :func:`layer_label` (idempotent; other words unchanged)."""
    return _LAYER_NUMBER.sub(lambda m: layer_label(int(m.group(1))), title)


def _tick_labels(ax: Any, rows: Sequence[str], cols: Sequence[str], size: float, rotation: int) -> None:
    ax.set_xticks(range(len(cols)), cols, rotation=rotation, ha="right" if rotation < 90 else "center")
    ax.set_yticks(range(len(rows)), rows)
    ax.tick_params(labelsize=size)


def plot_attention(
    weights: Tensor,
    rows: Sequence[str],
    cols: Sequence[str],
    out: str | Path,
    *,
    title: str = "",
) -> Path:
    """One heat-map: ``weights (T_q, T_k)``; ``rows`` label queries, ``cols`` label keys.

    A colour bar gives the scale of the weights; a ``layer N`` in ``title`` gains "(counting from 0)"."""
    w = weights.detach().float().cpu().numpy()
    fig, ax = plt.subplots(figsize=(min(0.45 * len(cols) + 2.5, 16), min(0.45 * len(rows) + 1.8, 16)))
    im = ax.imshow(w, cmap="viridis", vmin=0.0, vmax=max(float(w.max()), 1e-6), aspect="auto")
    _tick_labels(ax, rows, cols, 9 if max(len(rows), len(cols)) <= 30 else 6, rotation=60)
    ax.set_xlabel(KEY_LABEL)
    ax.set_ylabel(QUERY_LABEL)
    if title:
        ax.set_title(count_from_zero(title), fontsize=10)
    fig.colorbar(im, ax=ax, fraction=0.04).set_label(WEIGHT_LABEL)
    fig.tight_layout()
    return save_figure(fig, out, 130)


def plot_heads(
    weights: Tensor, rows: Sequence[str], cols: Sequence[str], out: str | Path, *, title: str = ""
) -> Path:
    """All heads of one layer side by side: ``weights (h, T_q, T_k)`` (§3.2.2: each head attends on its own
    projection, so different heads can learn different relations).

    Every head is drawn on one colour scale (0 to the largest weight of the layer), shown by one colour bar;
    queries are labelled on the first column, keys on the bottom row; a ``layer N`` in ``title`` gains
    "(counting from 0)" (heads are numbered from 0 as well)."""
    w = weights.detach().float().cpu().numpy()
    h = w.shape[0]
    ncols = min(h, 4)
    nrows = (h + ncols - 1) // ncols
    vmax = max(float(w.max()), 1e-6) if w.size else 1.0
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(3.2 * ncols + 0.8, 3.0 * nrows + 0.9), squeeze=False, layout="constrained"
    )
    im = None
    for i, ax in enumerate(axes.flat):
        if i >= h:
            ax.axis("off")
            continue
        im = ax.imshow(w[i], cmap="viridis", vmin=0.0, vmax=vmax, aspect="auto")
        ax.set_title(f"head {i}", fontsize=9)
        _tick_labels(ax, rows, cols, 6, rotation=90)
        if i % ncols == 0:
            ax.set_ylabel(QUERY_LABEL, fontsize=8)
        if i + ncols >= h:  # nothing drawn below this one
            ax.set_xlabel(KEY_LABEL, fontsize=8)
    if title:
        fig.suptitle(count_from_zero(title), fontsize=10)
    if im is not None:  # one bar for the whole grid: the heads share its scale
        fig.colorbar(im, ax=axes, fraction=0.025, pad=0.01).set_label(WEIGHT_LABEL)
    return save_figure(fig, out, 110)


def plot_alignment(
    maps: Sequence[Tensor],
    rows: Sequence[str],
    cols: Sequence[str],
    out: str | Path,
    *,
    layers: Sequence[int] | None = None,
    title: str = "",
) -> Path:
    """:func:`averaged_alignment` as one heat-map."""
    n = len(maps) if layers is None else len(layers)
    heads = as_layer(maps[0]).shape[0]
    return plot_attention(
        averaged_alignment(maps, layers),
        rows,
        cols,
        out,
        title=title or f"mean over {n} layer(s) × {heads} heads",
    )


def plot_kinds(view: AttentionView, out: str | Path, *, title: str = "") -> Path:
    """The averaged map of every attention kind of ``view`` side by side (Figure 1's three uses of
    attention, §3.2.3: encoder self-, decoder masked self- and encoder-decoder attention)."""
    kinds = [k for k in KINDS if k in view.maps]
    fig, axes = plt.subplots(1, len(kinds), figsize=(4.4 * len(kinds), 4.6), squeeze=False)
    for ax, kind in zip(axes.flat, kinds, strict=True):
        rows, cols = view.axes[kind]
        w = averaged_alignment(view.maps[kind]).numpy()
        ax.imshow(w, cmap="viridis", vmin=0.0, aspect="auto")
        ax.set_title(f"{KIND_TITLES[kind]}\n(mean of {len(view.maps[kind])} layers × heads)", fontsize=9)
        ax.set_xticks(range(len(cols)), cols, rotation=90, fontsize=7)
        ax.set_yticks(range(len(rows)), rows, fontsize=7)
        ax.set_xlabel(KEY_LABEL, fontsize=8)
        ax.set_ylabel(QUERY_LABEL, fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return save_figure(fig, out, 110)


# -- §3.2.1: why the 1/sqrt(d_k) ---------------------------------------------------------------------------
def scaling_data(
    d_ks: Sequence[int] = (4, 16, 64, 256, 1024), n_keys: int = 32, samples: int = 256, seed: int = 0
) -> dict[str, list[float]]:
    """§3.2.1's footnote, measured: with q, k of independent unit-variance components, ``q·k`` has variance
    ``d_k``; unscaled, the softmax over ``n_keys`` saturates (entropy → 0, max weight → 1) as ``d_k`` grows,
    while ``q·k / sqrt(d_k)`` keeps it spread.  Returns mean entropy (nats) and mean max weight per d_k."""
    gen = torch.Generator().manual_seed(seed)
    out: dict[str, list[float]] = {
        "d_k": [float(d) for d in d_ks],
        "entropy_unscaled": [],
        "entropy_scaled": [],
        "max_unscaled": [],
        "max_scaled": [],
        "std_unscaled": [],
    }
    for d in d_ks:
        q = torch.randn(samples, 1, d, generator=gen)
        k = torch.randn(samples, n_keys, d, generator=gen)
        logits = (q * k).sum(-1)  # (samples, n_keys)
        for name, x in (("unscaled", logits), ("scaled", logits / math.sqrt(d))):
            p = torch.softmax(x, dim=-1)
            ent = -(p * p.clamp_min(1e-30).log()).sum(-1)
            out[f"entropy_{name}"].append(float(ent.mean()))
            out[f"max_{name}"].append(float(p.max(-1).values.mean()))
        out["std_unscaled"].append(float(logits.std()))
    out["entropy_uniform"] = [math.log(n_keys)] * len(d_ks)
    return out


def plot_scaling(out: str | Path, **kwargs: Any) -> Path:
    """Plot :func:`scaling_data`: softmax entropy and largest weight vs d_k, with and without 1/sqrt(d_k)."""
    data = scaling_data(**kwargs)
    fig, (a, b) = plt.subplots(1, 2, figsize=(9.5, 3.6))
    a.plot(data["d_k"], data["entropy_unscaled"], "o-", label="softmax(q·k)")
    a.plot(data["d_k"], data["entropy_scaled"], "s-", label="softmax(q·k / √d_k)  (Eq. 1)")
    a.plot(data["d_k"], data["entropy_uniform"], "k:", label="uniform")
    a.set_xscale("log", base=2)
    a.set_xlabel("d_k")
    a.set_ylabel("entropy of the attention weights (nats)")
    a.legend(fontsize=8)
    b.plot(data["d_k"], data["max_unscaled"], "o-", label="softmax(q·k)")
    b.plot(data["d_k"], data["max_scaled"], "s-", label="softmax(q·k / √d_k)")
    b.set_xscale("log", base=2)
    b.set_ylim(0, 1.05)
    b.set_xlabel("d_k")
    b.set_ylabel("largest attention weight")
    b.legend(fontsize=8)
    fig.suptitle("§3.2.1: without the 1/√d_k factor the softmax saturates as d_k grows", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, out, 120)
