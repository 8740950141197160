"""GPT-1 task heads (§3.2, §3.3, Figure 1): the four input transformations, the similarity sum, the softmax over
multiple-choice candidates, L3 = L2 + λ·L1 (Eq. 5), layer transfer (Figure 2 left) and special tokens."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from ronbun import GPT, GPTConfig
from ronbun.gpt.finetune import FineTuneConfig, FineTuneTask, lm_loss_per_example, lm_loss_sum, task_loss
from ronbun.gpt.transforms import collate, transform
from ronbun.models.task_head import GPTClassifier, SpecialTokens, transfer_layers

V = 50


def base_gpt(n_layers: int = 3) -> GPT:
    return GPT(
        GPTConfig.preset("tiny", vocab_size=V, n_ctx=24, d_model=32, n_heads=2, d_ff=64, n_layers=n_layers)
    )


def classifier(kind: str, num_labels: int, n_transfer: int | None = None) -> tuple[GPTClassifier, GPT]:
    gpt = base_gpt()
    model = GPTClassifier.from_gpt(gpt, task="t", kind=kind, num_labels=num_labels, n_transfer=n_transfer)
    return model.eval(), gpt


def batch(model: GPTClassifier, kind: str, n: int = 3, choices: int = 4):
    sp = model.spec.special
    g = torch.Generator().manual_seed(1)

    def text(k: int) -> list[int]:
        return torch.randint(4, V, (k,), generator=g).tolist()

    examples = []
    for i in range(n):
        if kind == "classification":
            examples.append(transform(kind, [text(5 + i)], special=sp, n_ctx=24))
        elif kind in ("entailment", "similarity"):
            examples.append(transform(kind, [text(4 + i), text(3)], special=sp, n_ctx=24))
        else:
            examples.append(
                transform(
                    kind,
                    [text(6), text(2)],
                    special=sp,
                    n_ctx=24,
                    choices=[text(2 + k) for k in range(choices)],
                )
            )
    return examples, collate(examples)


def test_special_tokens_are_three_new_embeddings_after_the_vocabulary():
    model, gpt = classifier("classification", 2)
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
def test_each_transformation_gives_the_right_logits_shape(kind, num_labels, shape):
    model, _ = classifier(kind, num_labels)
    _, b = batch(model, kind)
    logits, lm = model(b.input_ids, b.extract_positions, lm=True)
    assert logits.shape == shape
    bc, t = b.input_ids.shape[0] * b.input_ids.shape[1], b.input_ids.shape[2]
    assert lm.shape == (bc, t, V + 3)
    assert model(b.input_ids, b.extract_positions)[1] is None  # no LM projection unless asked


def test_similarity_adds_the_final_states_of_both_orders_before_the_linear_layer():
    model, _ = classifier("similarity", 2)
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


def test_multiple_choice_scores_each_candidate_alone_and_softmaxes_over_candidates():
    model, _ = classifier("multiple_choice", 3)
    examples, b = batch(model, "multiple_choice", n=2, choices=3)
    logits, _ = model(b.input_ids, b.extract_positions)
    for i, ex in enumerate(examples):
        for k, seq in enumerate(ex.sequences):
            h = model.hidden_states(torch.tensor([seq]))[0][0, -1]
            torch.testing.assert_close(logits[i, k], model.head(h)[0], rtol=1e-5, atol=1e-5)
    labels = torch.tensor([2, 0])
    expected = -(torch.log_softmax(logits, dim=1)[torch.arange(2), labels]).sum()
    torch.testing.assert_close(task_loss(logits, labels, model.spec), expected)


def test_regression_uses_squared_error():
    model, _ = classifier("similarity", 1)
    assert model.spec.regression
    pred, gold = torch.tensor([1.0, 2.5]), torch.tensor([0.5, 4.5])
    assert float(task_loss(pred, gold, model.spec)) == pytest.approx(0.25 + 4.0)


def test_lm_loss_is_the_mean_nll_of_the_real_tokens_after_the_start_token():
    model, _ = classifier("entailment", 2)
    _, b = batch(model, "entailment", n=2)
    _, lm_logits = model(b.input_ids, b.extract_positions, lm=True)
    per_ex = lm_loss_per_example(lm_logits, b.input_ids, b.attention_mask)
    for i in range(2):
        n = int(b.attention_mask[i, 0].sum())
        ids = b.input_ids[i, 0, :n]
        manual = F.cross_entropy(model(ids[None, :-1])[0], ids[1:])  # plain LM on the unpadded sequence
        torch.testing.assert_close(per_ex[i], manual, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kind", ["classification", "multiple_choice"])
def test_the_fused_aux_lm_loss_equals_the_sum_of_per_example_losses(kind):
    """Training computes L1 from the hidden states with the tied output layer fused into the loss; it is
    the same value and gradient as summing :func:`lm_loss_per_example` over the full LM logits."""
    model, _ = classifier(kind, 3 if kind == "multiple_choice" else 2)
    _, b = batch(model, kind, n=3)
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


def test_aux_lm_changes_the_loss_by_exactly_lambda_times_l1(tmp_path):
    task = object.__new__(FineTuneTask)  # the loss only needs the config and the head
    model, _ = classifier("classification", 2)
    task.spec = model.spec
    _, b = batch(model, "classification", n=4)
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


@pytest.mark.parametrize("n", [0, 1, 3])
def test_n_transfer_copies_exactly_the_embeddings_and_the_first_n_layers(n):
    torch.manual_seed(0)
    model, gpt = classifier("classification", 2, n_transfer=n)
    src, dst = gpt.state_dict(), model.state_dict()
    assert torch.equal(dst["embed.positions.weight"], src["embed.positions.weight"])
    for name, value in src.items():
        if name.startswith("blocks.layers."):
            same = torch.equal(dst[name], value)
            layer = int(name.split(".")[2])
            if value.dim() >= 2:  # matrices are random: equal iff transferred (LayerNorm/bias inits coincide)
                assert same == (layer < n), name


def test_transfer_rejects_more_layers_than_the_source_has():
    with pytest.raises(ValueError, match="n_transfer must be between 0 and 3"):
        transfer_layers(base_gpt(), base_gpt(), 4)


def test_from_scratch_keeps_nothing_of_the_pretrained_model():
    gpt = base_gpt()
    model = GPTClassifier.from_gpt(gpt, task="t", kind="classification", num_labels=2, pretrained=False)
    assert not torch.equal(model.embed.tokens.weight[:V], gpt.embed.tokens.weight)
    assert not torch.equal(model.blocks.layers[0].ffn.w_1.weight, gpt.blocks.layers[0].ffn.w_1.weight)


def test_plain_forward_is_still_the_language_model():
    model, _ = classifier("classification", 2)
    ids = torch.tensor([[1, 2, 3]])
    torch.testing.assert_close(model(ids), model.project(model.hidden_states(ids)[0]))
