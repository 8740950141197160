"""GPT-1 task metrics (Tables 2–4): accuracy, F1, MCC, Pearson, Spearman and the task → metric map."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ronbun.evaluation.metrics import (
    METRIC_FUNCTIONS,
    TASK_METRICS,
    accuracy,
    compute_metrics,
    f1_score,
    matthews_corrcoef,
    pearson,
    primary_metric,
    rankdata,
    spearman,
)


def test_accuracy_hand_computed() -> None:
    assert accuracy([1, 0, 1, 1], [1, 1, 1, 0]) == 0.5
    assert accuracy(np.array([2, 0, 1]), (2, 0, 1)) == 1.0


def test_f1_hand_computed() -> None:
    # TP = 2 (positions 0, 4), FP = 1 (position 1), FN = 1 (position 3): F1 = 2·2 / (2·2 + 1 + 1).
    preds, labels = [1, 1, 0, 0, 1], [1, 0, 0, 1, 1]
    assert f1_score(preds, labels) == pytest.approx(4 / 6)
    # Precision/recall form gives the same value.
    p, r = 2 / 3, 2 / 3
    assert f1_score(preds, labels) == pytest.approx(2 * p * r / (p + r))
    # Positive class 0 instead: TP = 1, FP = 1, FN = 1.
    assert f1_score(preds, labels, positive=0) == pytest.approx(2 / 4)


def test_f1_degenerate_is_zero_not_nan() -> None:
    assert f1_score([0, 0, 0], [0, 0, 0]) == 0.0
    assert f1_score([0, 0], [1, 1]) == 0.0


def test_mcc_hand_computed_binary() -> None:
    # TP=2 TN=1 FP=1 FN=1 → (2·1 − 1·1) / sqrt(3·3·2·2) = 1/6.
    preds = [1, 1, 1, 0, 0]
    labels = [1, 1, 0, 1, 0]
    assert matthews_corrcoef(preds, labels) == pytest.approx(1 / 6)
    assert matthews_corrcoef(labels, labels) == pytest.approx(1.0)
    assert matthews_corrcoef([1 - y for y in labels], labels) == pytest.approx(-1.0)


def test_mcc_matches_binary_formula_on_random_data() -> None:
    rng = np.random.default_rng(0)
    for _ in range(20):
        y = rng.integers(0, 2, size=50)
        p = rng.integers(0, 2, size=50)
        tp = np.sum((p == 1) & (y == 1))
        tn = np.sum((p == 0) & (y == 0))
        fp = np.sum((p == 1) & (y == 0))
        fn = np.sum((p == 0) & (y == 1))
        denom = math.sqrt(float((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)))
        expected = 0.0 if denom == 0 else float(tp * tn - fp * fn) / denom
        assert matthews_corrcoef(p, y) == pytest.approx(expected)
        # ... and equals the Pearson correlation of the two binary vectors (phi coefficient).
        assert matthews_corrcoef(p, y) == pytest.approx(pearson(p, y))


def test_mcc_constant_predictions_is_zero_not_nan() -> None:
    assert matthews_corrcoef([1, 1, 1, 1], [1, 0, 1, 0]) == 0.0
    assert matthews_corrcoef([0, 0, 0], [0, 0, 0]) == 0.0
    assert matthews_corrcoef([1, 0, 1], [1, 1, 1]) == 0.0


def test_pearson_against_numpy() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=100)
    y = 0.5 * x + rng.normal(size=100)
    assert pearson(x, y) == pytest.approx(np.corrcoef(x, y)[0, 1])
    assert pearson([1, 2, 3], [2, 4, 6]) == pytest.approx(1.0)
    assert pearson([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)


def test_pearson_constant_input_is_zero() -> None:
    assert pearson([2.5, 2.5, 2.5], [0.0, 1.0, 5.0]) == 0.0


def test_rankdata_average_ties() -> None:
    np.testing.assert_allclose(rankdata([10, 20, 20, 30]), [1, 2.5, 2.5, 4])
    np.testing.assert_allclose(rankdata([3, 1, 2]), [3, 1, 2])
    np.testing.assert_allclose(rankdata([7, 7, 7]), [2, 2, 2])
    np.testing.assert_allclose(rankdata([0.5, -1.0, 0.5, 0.5, 9.0]), [3, 1, 3, 3, 5])
    assert rankdata([]).shape == (0,)


def test_spearman_with_ties_hand_computed() -> None:
    # ranks x = [1, 2.5, 2.5, 4], y = [1, 3, 2, 4]; centred: dx = [-1.5, 0, 0, 1.5],
    # dy = [-1.5, .5, -.5, 1.5]; r = 4.5 / sqrt(4.5 · 5).
    assert spearman([1, 2, 2, 3], [1, 3, 2, 4]) == pytest.approx(4.5 / math.sqrt(4.5 * 5))


def test_spearman_monotone_is_one() -> None:
    x = [0.1, 0.5, 2.0, 3.0, 10.0]
    assert spearman(x, [v**3 for v in x]) == pytest.approx(1.0)
    assert spearman(x, [-math.exp(v) for v in x]) == pytest.approx(-1.0)
    assert spearman([1, 1, 1], [1, 2, 3]) == 0.0


@pytest.mark.parametrize("fn", list(METRIC_FUNCTIONS.values()))
def test_length_mismatch_and_empty_raise(fn) -> None:
    with pytest.raises(ValueError, match="different lengths"):
        fn([1, 0, 1], [1, 0])
    with pytest.raises(ValueError, match="empty"):
        fn([], [])


def test_correlation_rejects_nan() -> None:
    with pytest.raises(ValueError, match="finite"):
        pearson([1.0, float("nan")], [1.0, 2.0])


def test_task_metrics_follow_gpt1_tables() -> None:
    assert TASK_METRICS["cola"][0] == "mcc"
    assert TASK_METRICS["sst2"][0] == "accuracy"
    assert TASK_METRICS["mrpc"] == ("f1", "accuracy")
    assert TASK_METRICS["stsb"] == ("pearson", "spearman")
    assert TASK_METRICS["qqp"][0] == "f1"
    for task in ("mnli", "qnli", "rte", "snli", "story_cloze", "race", "race_middle", "race_high"):
        assert TASK_METRICS[task] == ("accuracy",)
    for names in TASK_METRICS.values():
        assert all(n in METRIC_FUNCTIONS for n in names)


def test_task_metrics_cover_every_registered_task() -> None:
    from ronbun.gpt.tasks import TASKS

    assert set(TASKS) <= set(TASK_METRICS)


def test_primary_metric_and_compute_metrics_names() -> None:
    assert primary_metric("CoLA") == "mcc"
    assert primary_metric("SST-2") == "accuracy"
    assert primary_metric("STS-B") == "pearson"
    assert primary_metric("MNLI-mm") == "accuracy"
    assert primary_metric("RACE-m") == "accuracy"
    out = compute_metrics("MRPC", [1, 1, 0, 0, 1], [1, 0, 0, 1, 1])
    assert list(out) == ["f1", "accuracy"]
    assert out["f1"] == pytest.approx(4 / 6)
    assert out["accuracy"] == pytest.approx(3 / 5)
    with pytest.raises(KeyError, match="unknown task"):
        primary_metric("imagenet")
