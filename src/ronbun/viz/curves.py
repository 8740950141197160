"""Training curves from a run's ``metrics.jsonl`` (written by :class:`ronbun.training.loop.Trainer`):
loss, perplexity, the learning rate against the shape of Eq. 3 (§5.3), validation BLEU when the run has it
(else the other validation metrics, e.g. a GPT-1 fine-tuning run's accuracy), and throughput.

Records look like ``{"step", "split": "train", "loss", "ppl", "lr", "tokens_per_s", …}`` and
``{"step", "split": "valid", "valid_loss", "valid_ppl", "valid_bleu", …}``.

**Resumed runs.**  A run resumed from an earlier checkpoint appends records for steps it already logged
once.  The later records win: when a split's step goes back to ``s``, every earlier record (of either
split) at step ``>= s`` belongs to the abandoned continuation and is dropped.  In particular the last record
for each step wins.

``ronbun viz curves runs/demo --out curves.png``
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from .saving import save_figure

METRICS_FILE = "metrics.jsonl"


@dataclass
class Curves:
    """Per split (``train``, ``valid``): steps in increasing order and one list per metric."""

    train: dict[str, list[float]] = field(default_factory=dict)
    valid: dict[str, list[float]] = field(default_factory=dict)
    resumes: int = 0  # how many times the log went back in steps (a resumed run)
    skipped_lines: int = 0  # unreadable lines (a torn last line after a crash)
    source: Path | None = None

    def series(self, split: str, key: str) -> tuple[np.ndarray, np.ndarray]:
        """``(steps, values)`` of one metric, records without it left out."""
        data = self.train if split == "train" else self.valid
        if key not in data:
            return np.zeros(0), np.zeros(0)
        steps, values = data["step"], data[key]
        pairs = [(s, v) for s, v in zip(steps, values, strict=True) if v is not None and math.isfinite(v)]
        return np.array([p[0] for p in pairs], dtype=float), np.array([p[1] for p in pairs], dtype=float)


def metrics_path(path: str | Path) -> Path:
    """``path`` itself if it is a file, else ``path/metrics.jsonl``."""
    path = Path(path)
    candidate = path / METRICS_FILE if path.is_dir() else path
    if not candidate.is_file():
        raise FileNotFoundError(f"no training log at {candidate} (expected a run directory or metrics.jsonl)")
    return candidate


def read_records(path: str | Path) -> tuple[list[dict[str, Any]], int, int]:
    """The surviving records of a metrics log, in order, plus ``(resumes, skipped_lines)``."""
    records: list[dict[str, Any]] = []
    resumes = skipped = 0
    last_step: dict[str, int] = {}
    for line in metrics_path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            step = int(rec["step"])
        except (json.JSONDecodeError, KeyError, TypeError, ValueError):
            skipped += 1
            continue
        split = str(rec.get("split", "train"))
        if split in last_step and step <= last_step[split]:
            resumes += 1
            records = [r for r in records if int(r["step"]) < step]
            last_step = {}
            for r in records:
                last_step[str(r.get("split", "train"))] = int(r["step"])
        records.append(rec)
        last_step[split] = step
    return records, resumes, skipped


def read_curves(path: str | Path) -> Curves:
    """Parse ``metrics.jsonl`` (or a run directory holding it) into :class:`Curves`."""
    records, resumes, skipped = read_records(path)
    out = Curves(resumes=resumes, skipped_lines=skipped, source=metrics_path(path))
    for split, target in (("train", out.train), ("valid", out.valid)):
        rows = [r for r in records if str(r.get("split", "train")) == split]
        keys = sorted({k for r in rows for k, v in r.items() if isinstance(v, int | float) and k != "split"})
        for key in keys:
            target[key] = [
                float(r[key])
                if isinstance(r.get(key), int | float) and not isinstance(r.get(key), bool)
                else None
                for r in rows
            ]  # type: ignore[misc]
    return out


def _run_settings(source: Path) -> dict[str, Any]:
    """The trainer settings of the run (``run_config.json`` next to the log), if recorded."""
    cfg = source.parent / "run_config.json"
    if not cfg.is_file():
        return {}
    try:
        data = json.loads(cfg.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {}
    trainer = data.get("trainer", data)
    return trainer if isinstance(trainer, dict) else {}


def eq3_reference(steps: np.ndarray, lrs: np.ndarray, warmup: int | None) -> tuple[np.ndarray, int, float]:
    """Eq. 3's shape ``c · min(step^-0.5, step · warmup^-1.5)`` fitted to the logged learning rates.

    ``c`` (= scale · d_model^-0.5 in the paper's notation) is the median ratio of logged to shape values;
    ``warmup`` defaults to the step of the largest logged rate.  Returns ``(curve, warmup, c)``."""
    if warmup is None or warmup < 1:
        warmup = max(1, int(steps[int(np.argmax(lrs))]))
    s = np.maximum(steps, 1.0)
    shape = np.minimum(s**-0.5, s * float(warmup) ** -1.5)
    c = float(np.median(lrs / shape))
    return c * shape, warmup, c


def plot_curves(path: str | Path, out: str | Path, *, title: str = "") -> Path:
    """Four panels: loss (train and valid), perplexity (log scale), learning rate (with the fitted Eq. 3
    shape for a ``noam`` run), and validation BLEU (or the other validation metrics, or tokens/s)."""
    curves = read_curves(path)
    settings = _run_settings(curves.source) if curves.source else {}
    fig, axes = plt.subplots(2, 2, figsize=(11, 7.5))
    a, b, c, d = axes.flat

    for split, key, label in (("train", "loss", "train"), ("valid", "valid_loss", "valid")):
        x, y = curves.series(split, key)
        if len(x):
            a.plot(x, y, "-" if split == "train" else "o-", label=label, markersize=3)
    a.set_ylabel("cross-entropy (nats / token)")
    a.set_title(
        "loss" + (" (label-smoothed in training)" if "valid_bleu" in curves.valid else ""), fontsize=10
    )

    for split, key, label in (("train", "ppl", "train"), ("valid", "valid_ppl", "valid")):
        x, y = curves.series(split, key)
        if len(x):
            b.plot(x, y, "-" if split == "train" else "o-", label=label, markersize=3)
    b.set_yscale("log")
    b.set_ylabel("perplexity")
    b.set_title("perplexity = exp(loss)", fontsize=10)

    x, y = curves.series("train", "lr")
    if len(x):
        c.plot(x, y, "-", label="logged lr")
        schedule = settings.get("schedule", "noam" if not settings else None)
        if schedule == "noam" and len(x) >= 2 and np.all(y > 0):
            ref, warmup, scale = eq3_reference(x, y, settings.get("warmup"))
            c.plot(x, ref, "k--", lw=1, label=f"Eq. 3 shape, warmup={warmup} (c={scale:.3g})")
            c.axvline(warmup, color="grey", lw=0.8, ls=":")
        c.legend(fontsize=8)
    c.set_ylabel("learning rate")
    c.set_title(
        "learning rate (§5.3)" if settings.get("schedule", "noam") == "noam" else "learning rate", fontsize=10
    )

    x, y = curves.series("valid", "valid_bleu")
    if len(x):
        d.plot(x, y, "o-", color="tab:green", markersize=3)
        d.set_ylabel("BLEU")
        d.set_title("validation BLEU (greedy, sacreBLEU)", fontsize=10)
    else:
        others = [
            k
            for k in curves.valid
            if k.startswith("valid_") and k not in ("valid_loss", "valid_ppl", "valid_tokens")
        ]
        if others:
            for key in others:
                xs, ys = curves.series("valid", key)
                d.plot(xs, ys, "o-", label=key.removeprefix("valid_"), markersize=3)
            d.legend(fontsize=8)
            d.set_title("validation metrics", fontsize=10)
        else:
            xs, ys = curves.series("train", "tokens_per_s")
            if len(xs):
                d.plot(xs, ys, "-", color="tab:purple")
            d.set_ylabel("tokens / s")
            d.set_title("training throughput", fontsize=10)
    for ax in axes.flat:
        ax.set_xlabel("update step")
        ax.grid(alpha=0.3)
    for ax in (a, b):
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    note = f" ({curves.resumes} resume(s): later records win)" if curves.resumes else ""
    fig.suptitle((title or f"training curves: {curves.source}") + note, fontsize=10)
    fig.tight_layout()
    return save_figure(fig, out)
