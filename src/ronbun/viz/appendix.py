"""The appendix pictures of "Attention Is All You Need" (Figures 3-5), drawn in the paper's style from the
word-level attention that :mod:`ronbun.inspection.appendix` measures.

* :func:`plot_word_lines` — Figure 3: the sentence twice, one row above the other, and a line from the chosen
  word (top) to every word (bottom) per head, one colour per head, its opacity the attention weight; below,
  the same weights as bars.
* :func:`plot_word_highlight` — Figure 4 (bottom): the sentence once per head, each word shaded by the
  attention the chosen word gives it.
* The full grid of a layer's heads (Figure 5's "heads doing different tasks") is
  :func:`ronbun.viz.attention.plot_heads` on the word-level maps.

``ronbun viz appendix CHECKPOINT --out DIR`` (:func:`ronbun.viz.figures.appendix_figures`) draws them all and
writes the measured shares to ``DIR/appendix_attention.json``.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from ..inspection.appendix import SentenceAttention
from .attention import WEIGHT_LABEL, count_from_zero, layer_label
from .saving import save_figure

__all__ = ["head_colours", "plot_word_highlight", "plot_word_lines"]


def head_colours(n_heads: int) -> list[tuple[float, float, float, float]]:
    """One distinct colour per head (the paper: "different colors represent different heads")."""
    cmap = plt.get_cmap("tab10" if n_heads <= 10 else "tab20")
    return [cmap(i % cmap.N) for i in range(n_heads)]


def _title(found: SentenceAttention, what: str) -> str:
    return count_from_zero(f"encoder self-attention, {layer_label(found.layer)}: {what}")


def _mark_words(ax: plt.Axes, found: SentenceAttention) -> None:
    """Bold the chosen word and the target words among the x tick labels."""
    targets = {t.lower() for t in found.sentence.targets}
    for j, label in enumerate(ax.get_xticklabels()):
        if j == found.query or found.words[j].lower() in targets:
            label.set_fontweight("bold")


def plot_word_lines(found: SentenceAttention, out: str | Path) -> Path:
    """Figure 3's picture: the attention from ``found.sentence.word`` to every word, one colour per head."""
    if found.row is None or found.query is None:
        raise ValueError("plot_word_lines needs a sentence with a chosen word")
    row = found.row.numpy()  # (h, W)
    h, w = row.shape
    colours = head_colours(h)
    fig, (top, bars) = plt.subplots(
        2, 1, figsize=(max(8.0, 0.62 * w + 1.5), 6.8), height_ratios=(1.15, 1.0), layout="constrained"
    )
    x = np.arange(w)
    scale = max(float(row.max()), 1e-6)
    for head in range(h):
        shift = (head - (h - 1) / 2) * 0.06  # heads side by side, as the paper's coloured bands
        for j in range(w):
            alpha = float(row[head, j]) / scale
            if alpha > 0.02:
                top.plot([found.query + shift, j + shift], [1, 0], color=colours[head], alpha=alpha, lw=2.2)
    for j, word in enumerate(found.words):
        weight = "bold" if j == found.query else "normal"
        top.text(j, 1.04, word, rotation=90, ha="center", va="bottom", fontsize=9, fontweight=weight)
        top.text(j, -0.04, word, rotation=90, ha="center", va="top", fontsize=9)
    top.set_xlim(-0.8, w - 0.2)
    top.set_ylim(-0.75, 1.95)
    top.axis("off")
    top.set_title(
        _title(found, f'attention from "{found.words[found.query]}", one colour per head'), fontsize=10
    )
    width = 0.8 / h
    for head in range(h):
        bars.bar(
            x + (head - (h - 1) / 2) * width, row[head], width, color=colours[head], label=f"head {head}"
        )
    bars.set_xticks(x, found.words, rotation=90, fontsize=8)
    _mark_words(bars, found)
    bars.set_ylabel(WEIGHT_LABEL)
    bars.set_xlabel(f'key word (attended to by "{found.words[found.query]}"; bold: the word and its targets)')
    bars.set_xlim(-0.6, w - 0.4)
    bars.legend(fontsize=7, ncol=min(h, 8))
    return save_figure(fig, out, 120)


def plot_word_highlight(found: SentenceAttention, out: str | Path) -> Path:
    """Figure 4's (bottom) picture: the sentence once per head, each word shaded by the attention that
    ``found.sentence.word`` (framed) gives it (full colour: the largest weight of the figure); weights of
    0.05 and more are written under the word."""
    if found.row is None or found.query is None:
        raise ValueError("plot_word_highlight needs a sentence with a chosen word")
    row = found.row.numpy()  # (h, W)
    h = row.shape[0]
    colours = head_colours(h)
    lengths = [0.12 * len(word) + 0.3 for word in found.words]  # ≈ inches at font size 9
    starts = np.concatenate([[0.0], np.cumsum(lengths)[:-1]])
    scale = max(float(row.max()), 1e-6)  # the strongest weight of the figure is the full colour
    fig, ax = plt.subplots(figsize=(min(max(8.0, 0.62 * float(sum(lengths)) + 1.6), 24), 0.62 * h + 1.1))
    for head in range(h):
        y = h - 1 - head
        ax.text(-0.15, y, f"head {head}", ha="right", va="center", fontsize=8, color=colours[head])
        for j, word in enumerate(found.words):
            r, g, b, _ = colours[head]
            box = {"boxstyle": "round,pad=0.2", "fc": (r, g, b, float(row[head, j]) / scale), "ec": "none"}
            if j == found.query:
                box.update(ec="black", lw=1.2)
            ax.text(starts[j], y, word, ha="left", va="center", fontsize=9, bbox=box)
            if row[head, j] >= 0.05:
                ax.text(starts[j], y - 0.33, f"{row[head, j]:.2f}", ha="left", va="center", fontsize=6)
    ax.set_xlim(-1.0, float(starts[-1] + lengths[-1]))
    ax.set_ylim(-0.7, h - 0.4)
    ax.axis("off")
    what = f'words shaded by the attention from "{found.words[found.query]}" (framed), per head'
    ax.set_title(_title(found, what), fontsize=10)
    return save_figure(fig, out, 120)
