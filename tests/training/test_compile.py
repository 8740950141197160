"""``--compile`` (torch.compile) is opt-in; the training step traces without graph breaks on CPU."""

from __future__ import annotations

import pytest
import torch
import torch._dynamo as dynamo

from ronbun import GPT, GPTConfig, Transformer, TransformerConfig
from ronbun.training.losses import label_smoothed_nll, nll


def test_the_translation_training_step_has_no_graph_breaks():
    model = Transformer(TransformerConfig.preset("tiny", vocab_size=100)).train()
    src, tgt = torch.randint(4, 100, (4, 9)), torch.randint(4, 100, (4, 7))

    def step(src, tgt):
        return label_smoothed_nll(model(src, tgt), tgt, ignore_index=0)[0]

    explanation = dynamo.explain(step)(src, tgt)
    assert explanation.graph_break_count == 0, explanation.break_reasons


def test_the_gpt_training_step_has_no_graph_breaks():
    model = GPT(GPTConfig.preset("tiny", vocab_size=100)).train()
    ids = torch.randint(0, 100, (2, 9))
    explanation = dynamo.explain(lambda x: nll(model(x[:, :-1]), x[:, 1:])[0])(ids)
    assert explanation.graph_break_count == 0, explanation.break_reasons


@pytest.mark.slow
@pytest.mark.ci  # the one slow test cheap enough for every run: torch.compile must keep working
def test_a_compiled_model_computes_the_same_loss():
    torch.manual_seed(0)
    model = Transformer(TransformerConfig.preset("tiny", vocab_size=100, dropout=0.0)).eval()
    src, tgt = torch.randint(4, 100, (4, 9)), torch.randint(4, 100, (4, 7))
    eager = label_smoothed_nll(model(src, tgt), tgt, ignore_index=0)[0]
    compiled = label_smoothed_nll(torch.compile(model)(src, tgt), tgt, ignore_index=0)[0]
    assert torch.allclose(eager, compiled, rtol=1e-4)
