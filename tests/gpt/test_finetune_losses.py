"""GPT-1 fine-tuning losses (§3.2): the softmax over multiple-choice candidates, squared error for regression,
the auxiliary language-modelling loss L1 and L3 = L2 + λ·L1 (Eq. 5).  The task heads they train are
tests/models/test_task_head.py."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from ronbun.gpt.finetune import FineTuneConfig, FineTuneTask, lm_loss_per_example, lm_loss_sum, task_loss


def test_multiple_choice_softmaxes_over_candidates(tiny_heads):
    model, _ = tiny_heads.classifier("multiple_choice", 3)
    _, b = tiny_heads.batch(model, "multiple_choice", n=2, choices=3)
    logits, _ = model(b.input_ids, b.extract_positions)
    labels = torch.tensor([2, 0])
    expected = -(torch.log_softmax(logits, dim=1)[torch.arange(2), labels]).sum()
    torch.testing.assert_close(task_loss(logits, labels, model.spec), expected)


def test_regression_uses_squared_error(tiny_heads):
    model, _ = tiny_heads.classifier("similarity", 1)
    assert model.spec.regression
    pred, gold = torch.tensor([1.0, 2.5]), torch.tensor([0.5, 4.5])
    assert float(task_loss(pred, gold, model.spec)) == pytest.approx(0.25 + 4.0)


def test_lm_loss_is_the_mean_nll_of_the_real_tokens_after_the_start_token(tiny_heads):
    model, _ = tiny_heads.classifier("entailment", 2)
    _, b = tiny_heads.batch(model, "entailment", n=2)
    _, lm_logits = model(b.input_ids, b.extract_positions, lm=True)
    per_ex = lm_loss_per_example(lm_logits, b.input_ids, b.attention_mask)
    for i in range(2):
        n = int(b.attention_mask[i, 0].sum())
        ids = b.input_ids[i, 0, :n]
        manual = F.cross_entropy(model(ids[None, :-1])[0], ids[1:])  # plain LM on the unpadded sequence
        torch.testing.assert_close(per_ex[i], manual, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kind", ["classification", "multiple_choice"])
def test_the_fused_aux_lm_loss_equals_the_sum_of_per_example_losses(tiny_heads, kind):
    """Training computes L1 from the hidden states with the tied output layer fused into the loss; it is
    the same value and gradient as summing :func:`lm_loss_per_example` over the full LM logits."""
    model, _ = tiny_heads.classifier(kind, 3 if kind == "multiple_choice" else 2)
    _, b = tiny_heads.batch(model, kind, n=3)
    model.train()  # as in training (same dropout masks in both passes)
    emb = model.output_layer()[0]  # (V, d): the tied token embedding
    torch.manual_seed(0)
    _, lm_logits = model(b.input_ids, b.extract_positions, lm=True)
    ref = lm_loss_per_example(lm_logits, b.input_ids, b.attention_mask).sum()
    ref_grad = torch.autograd.grad(ref, emb)[0]
    torch.manual_seed(0)
    _, hidden = model(b.input_ids, b.extract_positions, hidden=True)
    fused = lm_loss_sum(model, hidden, b.input_ids, b.attention_mask)
    grad = torch.autograd.grad(fused, emb)[0]
    torch.testing.assert_close(fused, ref, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(grad, ref_grad, rtol=1e-4, atol=1e-6)


def test_aux_lm_changes_the_loss_by_exactly_lambda_times_l1(tiny_heads):
    task = object.__new__(FineTuneTask)  # the loss only needs the config and the head
    model, _ = tiny_heads.classifier("classification", 2)
    task.spec = model.spec
    _, b = tiny_heads.batch(model, "classification", n=4)
    t = {
        "input_ids": b.input_ids,
        "attention_mask": b.attention_mask,
        "extract_positions": b.extract_positions,
        "labels": torch.tensor([0, 1, 1, 0]),
        "n_tokens": torch.tensor(4),
    }
    task.cfg = FineTuneConfig(aux_lm=0.5)
    with_lm, n = task.loss(model, t)
    parts = task.loss_parts(model, t)
    task.cfg = FineTuneConfig(aux_lm=0.0)
    without, _ = task.loss(model, t)
    assert int(n) == 4
    assert float(parts["lm"].detach()) > 0
    torch.testing.assert_close(with_lm - without, 0.5 * parts["lm"])
    torch.testing.assert_close(without, parts["task"])
