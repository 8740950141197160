"""Task metrics for GPT-1 fine-tuning (Radford et al., 2018, §4.1, Tables 2–5).

The GPT-1 paper reports, per task (Table 4 abbreviations: mc = Matthews correlation, acc = accuracy,
pc = Pearson correlation):

* CoLA — Matthews correlation coefficient (mc);
* SST-2 — accuracy;
* MRPC — F1 (GLUE also reports accuracy);
* STS-B — Pearson correlation (GLUE also reports Spearman);
* QQP — F1 (GLUE also reports accuracy);
* MNLI-m/-mm, SNLI, SciTail, QNLI, RTE (Table 2) — accuracy;
* Story Cloze, RACE (Table 3) — accuracy.

Every function here is a plain function on sequences (lists, tuples, numpy arrays or 1-D tensors
converted with ``.tolist()``) and returns a Python ``float`` **as a fraction** (accuracy/F1 in
``[0, 1]``, correlations in ``[-1, 1]``); multiply by 100 to compare with the paper's tables.
Only numpy is used (no scipy / scikit-learn).

Degenerate inputs follow scikit-learn's conventions where they exist and never return NaN:
MCC of a constant prediction (or constant labels) is ``0.0``; F1 with no predicted and no true
positives is ``0.0``; Pearson/Spearman with a constant input (zero variance, correlation undefined)
is reported as ``0.0`` as well, so that a collapsed regression head scores "no correlation" instead of
poisoning an average with NaN.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = [
    "METRIC_FUNCTIONS",
    "TASK_METRICS",
    "accuracy",
    "compute_metrics",
    "f1_score",
    "matthews_corrcoef",
    "pearson",
    "primary_metric",
    "rankdata",
    "spearman",
]


def _as_1d(values: Sequence[Any] | np.ndarray, name: str, dtype: Any = None) -> np.ndarray:
    arr = np.asarray(values, dtype=dtype)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    return arr


def _check_pair(a: np.ndarray, b: np.ndarray, names: tuple[str, str] = ("predictions", "labels")) -> None:
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"{names[0]} and {names[1]} have different lengths: {a.shape[0]} != {b.shape[0]}")
    if a.shape[0] == 0:
        raise ValueError(f"{names[0]} and {names[1]} are empty; a metric needs at least one example")


def accuracy(predictions: Sequence[Any], labels: Sequence[Any]) -> float:
    """Fraction of positions where ``predictions[i] == labels[i]``.

    GPT-1 reports accuracy for SST-2, the NLI tasks (Table 2) and Story Cloze / RACE (Table 3).
    """
    p = _as_1d(predictions, "predictions")
    y = _as_1d(labels, "labels")
    _check_pair(p, y)
    return float(np.mean(p == y))


def _binary(values: Sequence[Any], name: str, positive: Any) -> np.ndarray:
    arr = _as_1d(values, name)
    return arr == positive


def f1_score(predictions: Sequence[Any], labels: Sequence[Any], *, positive: Any = 1) -> float:
    """Binary F1 of the ``positive`` class (default 1): ``2·TP / (2·TP + FP + FN)``.

    Used for MRPC and QQP (GPT-1 Table 4). Any value other than ``positive`` counts as negative.
    When there is neither a true nor a predicted positive the score is ``0.0`` (scikit-learn's
    ``zero_division=0``).
    """
    p = _binary(predictions, "predictions", positive)
    y = _binary(labels, "labels", positive)
    _check_pair(p, y)
    tp = int(np.sum(p & y))
    fp = int(np.sum(p & ~y))
    fn = int(np.sum(~p & y))
    denom = 2 * tp + fp + fn
    return 0.0 if denom == 0 else 2.0 * tp / denom


def matthews_corrcoef(predictions: Sequence[Any], labels: Sequence[Any]) -> float:
    """Matthews correlation coefficient (CoLA's metric, GPT-1 Table 4 "mc").

    Binary case: ``(TP·TN − FP·FN) / sqrt((TP+FP)(TP+FN)(TN+FP)(TN+FN))``. Implemented with the
    multi-class generalisation (Gorodkin 2004, as scikit-learn does) over the confusion matrix ``C``:
    ``(c·s − Σ_k p_k t_k) / sqrt((s² − Σ p_k²)(s² − Σ t_k²))`` with ``c`` = correct, ``s`` = total,
    ``p_k``/``t_k`` = predicted/true counts of class ``k``; it equals the binary formula for two classes.
    If either side is constant (a zero factor in the denominator) the result is ``0.0``, not NaN.
    """
    p = _as_1d(predictions, "predictions")
    y = _as_1d(labels, "labels")
    _check_pair(p, y)
    classes, inverse = np.unique(np.concatenate([p, y]), return_inverse=True)
    n = p.shape[0]
    p_idx, y_idx = inverse[:n], inverse[n:]
    k = classes.shape[0]
    p_counts = np.bincount(p_idx, minlength=k).astype(np.float64)
    t_counts = np.bincount(y_idx, minlength=k).astype(np.float64)
    correct = float(np.sum(p_idx == y_idx))
    s = float(n)
    cov_ytyp = correct * s - float(np.dot(t_counts, p_counts))
    cov_ypyp = s * s - float(np.dot(p_counts, p_counts))
    cov_ytyt = s * s - float(np.dot(t_counts, t_counts))
    if cov_ypyp == 0.0 or cov_ytyt == 0.0:
        return 0.0
    return float(cov_ytyp / np.sqrt(cov_ytyt * cov_ypyp))


def _float_pair(x: Sequence[float], y: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    a = _as_1d(x, "x", dtype=np.float64)
    b = _as_1d(y, "y", dtype=np.float64)
    _check_pair(a, b, ("x", "y"))
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ValueError("correlation inputs must be finite (found NaN or inf)")
    return a, b


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    da = a - a.mean()
    db = b - b.mean()
    denom = float(np.sqrt(np.dot(da, da) * np.dot(db, db)))
    if denom == 0.0:
        return 0.0
    r = float(np.dot(da, db)) / denom
    return max(-1.0, min(1.0, r))


def pearson(x: Sequence[float], y: Sequence[float]) -> float:
    """Pearson correlation coefficient (STS-B's metric, GPT-1 Table 4 "pc").

    ``r = Σ(x−x̄)(y−ȳ) / sqrt(Σ(x−x̄)² Σ(y−ȳ)²)``; ``0.0`` if either input is constant.
    """
    a, b = _float_pair(x, y)
    return _pearson(a, b)


def rankdata(values: Sequence[float]) -> np.ndarray:
    """1-based ranks with ties given the average of the ranks they span (``scipy.stats.rankdata``
    with ``method="average"``): ``[10, 20, 20, 30] → [1, 2.5, 2.5, 4]``."""
    a = _as_1d(values, "values", dtype=np.float64)
    n = a.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.float64)
    order = np.argsort(a, kind="mergesort")
    sorted_a = a[order]
    # Start index of each run of equal values in the sorted array.
    starts = np.flatnonzero(np.concatenate([[True], sorted_a[1:] != sorted_a[:-1]]))
    ends = np.concatenate([starts[1:], [n]])
    # Average of 1-based ranks start+1 .. end  ==  (start + 1 + end) / 2.
    avg = (starts + 1 + ends) / 2.0
    run_lengths = ends - starts
    ranks = np.empty(n, dtype=np.float64)
    ranks[order] = np.repeat(avg, run_lengths)
    return ranks


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman rank correlation: Pearson correlation of the average ranks (ties averaged).

    Reported by GLUE for STS-B next to Pearson. ``0.0`` if either input is constant.
    """
    a, b = _float_pair(x, y)
    return _pearson(rankdata(a), rankdata(b))


#: Metric name → function ``(predictions, labels) -> float``.
METRIC_FUNCTIONS: Mapping[str, Callable[[Sequence[Any], Sequence[Any]], float]] = {
    "accuracy": accuracy,
    "f1": f1_score,
    "mcc": matthews_corrcoef,
    "pearson": pearson,
    "spearman": spearman,
}

#: Task name → metric names, the metric GPT-1 reports first (Tables 2–4), GLUE's companion
#: metric (if any) second. Keys use the task names of :mod:`ronbun.gpt.tasks`.
TASK_METRICS: Mapping[str, tuple[str, ...]] = {
    "cola": ("mcc",),
    "sst2": ("accuracy",),
    "mrpc": ("f1", "accuracy"),
    "stsb": ("pearson", "spearman"),
    "qqp": ("f1", "accuracy"),
    "mnli": ("accuracy",),
    "qnli": ("accuracy",),
    "rte": ("accuracy",),
    "snli": ("accuracy",),
    "scitail": ("accuracy",),
    "story_cloze": ("accuracy",),
    "race": ("accuracy",),
    "race_middle": ("accuracy",),
    "race_high": ("accuracy",),
}

_ALIASES = {"mnlim": "mnli", "mnlimm": "mnli", "mnlimatched": "mnli", "mnlimismatched": "mnli",
            "storycloze": "story_cloze", "rocstories": "story_cloze", "racem": "race_middle",
            "raceh": "race_high", "racemiddle": "race_middle", "racehigh": "race_high"}  # fmt: skip


def _key(name: str) -> str:
    return re.sub(r"[\s_\-]", "", name.lower())


def _task_key(task: str) -> str:
    k = _key(task)
    for name in TASK_METRICS:
        if _key(name) == k:
            return name
    if k in _ALIASES:
        return _ALIASES[k]
    raise KeyError(f"unknown task {task!r}; known: {', '.join(TASK_METRICS)}")


def primary_metric(task: str) -> str:
    """The metric GPT-1 reports for ``task`` (e.g. ``"mcc"`` for CoLA). Names are matched
    case-insensitively ignoring ``-``/``_`` (``"SST-2"`` → ``sst2``, ``"MNLI-mm"`` → ``mnli``)."""
    return TASK_METRICS[_task_key(task)][0]


def compute_metrics(task: str, predictions: Sequence[Any], labels: Sequence[Any]) -> dict[str, float]:
    """All metrics of :data:`TASK_METRICS` for ``task``, as ``{name: fraction}`` in table order."""
    return {m: METRIC_FUNCTIONS[m](predictions, labels) for m in TASK_METRICS[_task_key(task)]}
