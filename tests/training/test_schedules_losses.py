"""§5.3 optimiser and schedule (Eq. 3), §5.4 label smoothing; GPT-1 §4.1 schedules and weight decay."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from ronbun import Transformer, TransformerConfig
from ronbun.training.losses import label_smoothed_nll, nll
from ronbun.training.optim import make_optimizer, parameter_groups
from ronbun.training.schedules import make_schedule, noam, warmup_cosine, warmup_linear


def test_eq3_schedule_is_the_papers_formula():
    for step in (1, 10, 3999, 4000, 4001, 100_000):
        expected = 512**-0.5 * min(step**-0.5, step * 4000**-1.5)
        assert noam(step, 512, 4000) == pytest.approx(expected)


def test_eq3_peaks_at_the_end_of_warmup_and_decays_as_inverse_square_root():
    lrs = [noam(s, 512, 4000) for s in range(1, 20_001)]
    assert max(range(len(lrs)), key=lrs.__getitem__) + 1 == 4000
    assert noam(16_000, 512) / noam(4_000, 512) == pytest.approx(0.5)
    assert noam(100, 512, scale=2.0) == pytest.approx(2 * noam(100, 512))


def test_gpt1_schedules_warm_up_then_anneal_to_zero():
    assert warmup_cosine(1000, 2.5e-4, 2000, 10_000) == pytest.approx(1.25e-4)
    assert warmup_cosine(2000, 2.5e-4, 2000, 10_000) == pytest.approx(2.5e-4)
    assert warmup_cosine(6000, 2.5e-4, 2000, 10_000) == pytest.approx(1.25e-4)
    assert warmup_cosine(10_000, 2.5e-4, 2000, 10_000) == pytest.approx(0.0, abs=1e-12)
    assert warmup_linear(50, 6.25e-5, 100, 1100) == pytest.approx(3.125e-5)
    assert warmup_linear(600, 6.25e-5, 100, 1100) == pytest.approx(3.125e-5)
    with pytest.raises(ValueError, match="unknown lr schedule"):
        make_schedule("triangle", d_model=8, lr=1, warmup=1, total=2)


def explicit_smoothed_loss(logits, target, eps, pad, mass):
    v = logits.shape[-1]
    logp = F.log_softmax(logits, -1)
    if mass == "others":
        q = torch.full_like(logp, eps / (v - 1))
        q.scatter_(1, target[:, None], 1 - eps)
    else:
        q = torch.full_like(logp, eps / v)
        q.scatter_(1, target[:, None], 1 - eps + eps / v)
    per_token = -(q * logp).sum(-1)
    return per_token[target != pad].sum()


@pytest.mark.parametrize("mass", ["others", "all"])
def test_label_smoothing_equals_cross_entropy_against_the_explicit_distribution(mass):
    logits, target = torch.randn(12, 7), torch.randint(1, 7, (12,))
    target[[2, 5]] = 0  # padding
    loss, n = label_smoothed_nll(logits, target, epsilon=0.1, ignore_index=0, mass=mass)
    assert n == 10
    assert loss.item() == pytest.approx(explicit_smoothed_loss(logits, target, 0.1, 0, mass).item(), rel=1e-5)


def test_padding_contributes_nothing_and_epsilon_zero_is_nll():
    logits, target = torch.randn(6, 5), torch.randint(1, 5, (6,))
    padded_t = torch.cat([target, torch.zeros(3, dtype=torch.long)])
    padded_l = torch.cat([logits, torch.randn(3, 5) * 100])
    a, _ = label_smoothed_nll(logits, target, ignore_index=0)
    b, _ = label_smoothed_nll(padded_l, padded_t, ignore_index=0)
    assert a.item() == pytest.approx(b.item(), rel=1e-6)
    plain, _ = nll(logits, target, ignore_index=0)
    assert plain.item() == pytest.approx(F.cross_entropy(logits, target, reduction="sum").item(), rel=1e-6)


def test_adam_settings_and_decay_only_on_matrices():
    model = Transformer(TransformerConfig.preset("tiny", vocab_size=30))
    opt = make_optimizer(model, lr=1.0, weight_decay=0.01)
    assert opt.defaults["betas"] == (0.9, 0.98) and opt.defaults["eps"] == 1e-9
    decay, no_decay = parameter_groups(model, 0.01)
    assert all(p.dim() >= 2 for p in decay["params"]) and all(p.dim() == 1 for p in no_decay["params"])
    n_unique = len({id(p) for p in model.parameters()})
    assert len(decay["params"]) + len(no_decay["params"]) == n_unique, "tied matrix counted once"
    assert math.isclose(no_decay["weight_decay"], 0.0)
