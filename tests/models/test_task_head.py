"""GPT-1 task heads (§3.2, §3.3, Figure 1): the three special tokens, the logits of each input transformation,
the similarity sum, one score per multiple-choice candidate, layer transfer (Figure 2 left) and the plain
language model underneath.  The fine-tuning losses on top of the heads are tests/gpt/test_finetune_losses.py."""

from __future__ import annotations

import pytest
import torch

from ronbun.gpt.transforms import collate, transform
from ronbun.models.task_head import GPTClassifier, SpecialTokens, transfer_layers


def test_special_tokens_are_three_new_embeddings_after_the_vocabulary(tiny_heads):
    V = tiny_heads.V
    model, gpt = tiny_heads.classifier("classification", 2)
    assert model.spec.special == SpecialTokens(start=V, delim=V + 1, extract=V + 2)
    assert model.config.n_special == 3 and gpt.config.n_special == 0  # the pre-trained config is untouched
    assert model.embed.tokens.weight.shape == (V + 3, 32)
    assert torch.equal(model.embed.tokens.weight[:V], gpt.embed.tokens.weight)


@pytest.mark.parametrize(
    ("kind", "num_labels", "shape"),
    [
        ("classification", 2, (3, 2)),
        ("entailment", 3, (3, 3)),
        ("similarity", 2, (3, 2)),
        ("similarity", 1, (3,)),  # STS-B regression
        ("multiple_choice", 4, (3, 4)),
    ],
)
def test_each_transformation_gives_the_right_logits_shape(tiny_heads, kind, num_labels, shape):
    model, _ = tiny_heads.classifier(kind, num_labels)
    _, b = tiny_heads.batch(model, kind)
    logits, lm = model(b.input_ids, b.extract_positions, lm=True)
    assert logits.shape == shape
    bc, t = b.input_ids.shape[0] * b.input_ids.shape[1], b.input_ids.shape[2]
    assert lm.shape == (bc, t, tiny_heads.V + 3)
    assert model(b.input_ids, b.extract_positions)[1] is None  # no LM projection unless asked


def test_similarity_adds_the_final_states_of_both_orders_before_the_linear_layer(tiny_heads):
    model, _ = tiny_heads.classifier("similarity", 2)
    sp = model.spec.special
    a, b = [5, 6, 7, 8], [9, 10]
    ex = transform("similarity", [a, b], special=sp, n_ctx=24)
    assert ex.sequences == (
        (sp.start, *a, sp.delim, *b, sp.extract),
        (sp.start, *b, sp.delim, *a, sp.extract),
    )
    got, _ = model(collate([ex]).input_ids, collate([ex]).extract_positions)
    h_ab = model.hidden_states(torch.tensor([ex.sequences[0]]))[0][0, -1]  # h_l at ⟨e⟩ of A $ B
    h_ba = model.hidden_states(torch.tensor([ex.sequences[1]]))[0][0, -1]  # … of B $ A
    expected = model.head(h_ab + h_ba)
    torch.testing.assert_close(got[0], expected, rtol=1e-5, atol=1e-5)


def test_multiple_choice_scores_each_candidate_alone(tiny_heads):
    model, _ = tiny_heads.classifier("multiple_choice", 3)
    examples, b = tiny_heads.batch(model, "multiple_choice", n=2, choices=3)
    logits, _ = model(b.input_ids, b.extract_positions)
    for i, ex in enumerate(examples):
        for k, seq in enumerate(ex.sequences):
            h = model.hidden_states(torch.tensor([seq]))[0][0, -1]
            torch.testing.assert_close(logits[i, k], model.head(h)[0], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("n", [0, 1, 3])
def test_n_transfer_copies_exactly_the_embeddings_and_the_first_n_layers(tiny_heads, n):
    torch.manual_seed(0)
    model, gpt = tiny_heads.classifier("classification", 2, n_transfer=n)
    src, dst = gpt.state_dict(), model.state_dict()
    assert torch.equal(dst["embed.positions.weight"], src["embed.positions.weight"])
    for name, value in src.items():
        if name.startswith("blocks.layers."):
            same = torch.equal(dst[name], value)
            layer = int(name.split(".")[2])
            if value.dim() >= 2:  # matrices are random: equal iff transferred (LayerNorm/bias inits coincide)
                assert same == (layer < n), name


def test_transfer_rejects_more_layers_than_the_source_has(tiny_heads):
    with pytest.raises(ValueError, match="n_transfer must be between 0 and 3"):
        transfer_layers(tiny_heads.base_gpt(), tiny_heads.base_gpt(), 4)


def test_from_scratch_keeps_nothing_of_the_pretrained_model(tiny_heads):
    V = tiny_heads.V
    gpt = tiny_heads.base_gpt()
    model = GPTClassifier.from_gpt(gpt, task="t", kind="classification", num_labels=2, pretrained=False)
    assert not torch.equal(model.embed.tokens.weight[:V], gpt.embed.tokens.weight)
    assert not torch.equal(model.blocks.layers[0].ffn.w_1.weight, gpt.blocks.layers[0].ffn.w_1.weight)


def test_plain_forward_is_still_the_language_model(tiny_heads):
    model, _ = tiny_heads.classifier("classification", 2)
    ids = torch.tensor([[1, 2, 3]])
    torch.testing.assert_close(model(ids), model.project(model.hidden_states(ids)[0]))
