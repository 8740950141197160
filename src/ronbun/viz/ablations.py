"""GPT-1's §5 analysis drawn from measured numbers: Table 5's ablations as grouped bars beside the paper's
(``ronbun experiment table5``), and Figure 2's two panels, fine-tuning score against the number of layers
transferred and the zero-shot heuristics against pre-training updates (``ronbun experiment figure2``).
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

__all__ = ["plot_ablations", "plot_figure2"]

COLOURS = ("tab:blue", "tab:gray", "tab:orange", "tab:green", "tab:red", "tab:purple")
Series = Mapping[str, Sequence[float | None]]


def _nan(values: Sequence[float | None]) -> list[float]:
    return [math.nan if v is None else float(v) for v in values]


def plot_ablations(
    labels: Sequence[str],
    panels: Mapping[str, tuple[Series, Series]],
    out: str | Path,
    *,
    title: str = "",
) -> Path:
    """One panel per table (e.g. ``{"ours": (scores, spreads), "paper": (scores, {})}``): a group of bars per
    task (``labels``), one bar per method; ``spreads`` (a standard deviation, ``None`` for one seed) draws an
    error bar.  A method keeps its colour in every panel."""
    methods = list(dict.fromkeys(m for series, _ in panels.values() for m in series))
    colour = {m: COLOURS[i % len(COLOURS)] for i, m in enumerate(methods)}
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4.2), sharey=True, squeeze=False)
    x = np.arange(len(labels))
    for ax, (name, (series, spreads)) in zip(axes[0], panels.items(), strict=True):
        width = 0.8 / max(len(series), 1)
        for i, (method, values) in enumerate(series.items()):
            if len(values) != len(labels):
                raise ValueError(f"{name}: {method!r} has {len(values)} values for {len(labels)} tasks")
            where = x + (i - (len(series) - 1) / 2) * width
            ax.bar(where, _nan(values), width, label=method, color=colour[method])
            err = np.array(_nan(spreads.get(method) or [None] * len(labels)))
            shown = np.isfinite(err)  # only the scores measured over several seeds
            if shown.any():
                heights = np.array(_nan(values))
                ax.errorbar(
                    where[shown], heights[shown], yerr=err[shown], fmt="none", ecolor="black", capsize=3
                )
        ax.set_xticks(x, labels)
        ax.set_title(name)
        ax.axhline(0.0, color="black", linewidth=0.8)
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].set_ylabel("dev score ×100 (± 1 s.d. over seeds)")
    handles = [plt.Rectangle((0, 0), 1, 1, color=colour[m]) for m in methods]
    fig.legend(handles, methods, loc="lower center", ncol=len(methods), fontsize="small")
    if title:
        fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return save_figure(fig, out)


def plot_figure2(
    transfer: Mapping[str, tuple[Sequence[int], Sequence[float | None], float | None]],
    zeroshot: Mapping[str, tuple[Sequence[int], Sequence[float | None]]],
    out: str | Path,
    *,
    spread: Mapping[str, tuple[Sequence[float | None], float | None]] | None = None,
    title: str = "",
) -> Path:
    """Figure 2 of GPT-1.  Left: per task, ``(layers transferred, scores, score with nothing transferred)``:
    a line over the layers and a dashed line at the no-transfer score; ``spread`` gives a task's standard
    deviations over seeds (per layer count, and with nothing transferred), drawn as ± 1 sd error bars and a
    band.  Right: per heuristic, ``(pre-training updates, normalised scores)`` (0 = chance, 1 = perfect).  An
    empty mapping leaves its panel blank."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 5.6))
    spread = spread or {}
    for i, (task, (layers, scores, none)) in enumerate(transfer.items()):
        c = COLOURS[i % len(COLOURS)]
        sds, none_sd = spread.get(task, ([None] * len(layers), None))
        err = np.array(_nan(sds))
        left.errorbar(
            layers,
            _nan(scores),
            yerr=np.where(np.isfinite(err), err, 0.0),
            marker="o",
            color=c,
            capsize=3,
            label=task,
        )
        if none is not None:
            left.axhline(none, color=c, linestyle="--", linewidth=1, label=f"{task}: no transfer")
            if none_sd:
                left.axhspan(none - none_sd, none + none_sd, color=c, alpha=0.12, linewidth=0)
    layers = sorted({k for ks, _, _ in transfer.values() for k in ks})
    if layers:
        left.set_xticks(layers)
    left.set_xlabel("layers transferred (0 = embeddings only)")
    left.set_ylabel("dev score ×100")
    left.set_title("fine-tuning vs layers transferred")
    for i, (name, (steps, scores)) in enumerate(zeroshot.items()):
        right.plot(steps, _nan(scores), marker="o", color=COLOURS[i % len(COLOURS)], label=name)
    right.axhline(0.0, color="black", linewidth=0.8)
    right.set_xlabel("pre-training updates")
    right.set_ylabel("(score − chance) / (perfect − chance)")
    right.set_title("zero-shot heuristics vs pre-training")
    for ax, data in ((left, transfer), (right, zeroshot)):
        ax.grid(alpha=0.3)
        if data:  # below the axes, so that it never hides a curve
            ax.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.15))
        else:
            ax.text(0.5, 0.5, "not measured", ha="center", va="center", transform=ax.transAxes)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save_figure(fig, out)


def _seed_sd(score: Mapping[str, Any] | None) -> float | None:
    """The standard deviation over seeds of a summary's ``{"mean", "std", "n"}`` score; None for one seed."""
    return score["std"] if score and score.get("n", 1) > 1 else None


def plot_figure2_summary(summary: Mapping[str, Any], out: str | Path) -> Path:
    """``ronbun experiment figure2``'s summary (``figure2.json``) drawn with :func:`plot_figure2`: the left
    panel's score per number of transferred layers (and with nothing transferred) of every task, the right
    panel's normalised zero-shot score per pre-training update of every heuristic (either panel may be
    missing)."""
    transfer, spread = {}, {}
    for t in (summary.get("left") or {}).get("tasks", []):
        ks = [p for p in t["points"] if p["layers"] is not None]
        none = next((p["score"] for p in t["points"] if p["layers"] is None), None)
        name = f"{t.get('label', t['task'])} ({t['metric']})"
        transfer[name] = ([p["layers"] for p in ks], [p["score"]["mean"] for p in ks], none and none["mean"])
        spread[name] = ([_seed_sd(p["score"]) for p in ks], _seed_sd(none))
    curves = {}
    right = summary.get("right") or {}
    for h in right.get("heuristics", []):
        checkpoints = right["checkpoints"]
        curves[h["label"]] = (
            [c["step"] for c in checkpoints],
            [c["scores"][h["name"]]["normalised"] for c in checkpoints],
        )
    several_seeds = any(sd is not None for sds, none_sd in spread.values() for sd in (*sds, none_sd))
    title = "GPT-1 Figure 2 at CPU scale" + (" (left: mean ± 1 sd over seeds)" if several_seeds else "")
    return plot_figure2(transfer, curves, out, spread=spread, title=title)


def plot_table5_summary(summary: Mapping[str, Any], out: str | Path) -> Path:
    """``ronbun experiment table5``'s summary (``table5.json``) drawn with :func:`plot_ablations`: every measured
    row's score per task (mean ± sd over seeds) beside the paper's Table 5."""
    tasks = summary["tasks"]
    ours: dict[str, list[float | None]] = {}
    spread: dict[str, list[float | None]] = {}
    for r in summary["rows"]:
        if r["measured"]:
            cells = [r["scores"][t["task"]][r["scores"][t["task"]]["metric"]] for t in tasks]
            ours[r["method"]] = [c["mean"] for c in cells]
            spread[r["method"]] = [c["std"] for c in cells]
    paper = {r["method"]: [r["paper"][t["task"]] for t in tasks] for r in summary["rows"]}
    labels = [f"{t['label']} ({t['paper_column']})" for t in tasks]
    return plot_ablations(
        labels,
        {"ours (CPU scale, dev)": (ours, spread), "paper (Table 5)": (paper, {})},
        out,
        title=f"GPT-1 Table 5 at CPU scale (recipe '{summary['recipe']['name']}') vs the paper",
    )
