"""GPT-1 input transformations (§3.3, Figure 1): exact sequences, truncation rule, padding."""

from __future__ import annotations

import random
from types import SimpleNamespace

import pytest
import torch

from ronbun.gpt.tasks import TaskExample
from ronbun.gpt.transforms import (
    GPTBatch,
    SpecialTokens,
    TransformedExample,
    TruncationStats,
    classification,
    collate,
    entailment,
    longest_first,
    multiple_choice,
    similarity,
    transform,
    transform_task,
)

SP = SpecialTokens(start=100, delim=101, extract=102)
S, D, E = SP.start, SP.delim, SP.extract


# ----------------------------------------------------------------------------------------------------
# exact sequences (Figure 1)
# ----------------------------------------------------------------------------------------------------


def test_classification_exact() -> None:
    out = classification([1, 2, 3], special=SP, n_ctx=512)
    assert out.sequences == ((S, 1, 2, 3, E),)
    assert out.extract_positions == (4,)
    assert not out.truncated and out.tokens_removed == 0


def test_entailment_exact() -> None:
    out = entailment([1, 2], [3, 4, 5], special=SP, n_ctx=512)
    assert out.sequences == ((S, 1, 2, D, 3, 4, 5, E),)
    assert out.extract_positions == (7,)


def test_similarity_both_orders() -> None:
    out = similarity([1, 2], [3], special=SP, n_ctx=512)
    assert out.sequences == ((S, 1, 2, D, 3, E), (S, 3, D, 1, 2, E))
    assert out.num_sequences == 2
    assert out.extract_positions == (5, 5)


def test_multiple_choice_story_cloze_and_race() -> None:
    out = multiple_choice([1, 2, 3], [[7], [8, 9]], special=SP, n_ctx=512)
    assert out.sequences == ((S, 1, 2, 3, D, 7, E), (S, 1, 2, 3, D, 8, 9, E))
    assert out.extract_positions == (6, 7)
    # RACE: document z and question q concatenated, then $ and the answer ([z; q; $; a_k]).
    race = multiple_choice([1, 2], [[7], [8], [9], [10]], question=[5, 6], special=SP, n_ctx=512)
    assert race.sequences == tuple((S, 1, 2, 5, 6, D, a, E) for a in (7, 8, 9, 10))


def test_transform_dispatch_matches_direct_calls() -> None:
    assert transform("classification", [[1]], special=SP, n_ctx=8) == classification([1], special=SP, n_ctx=8)
    assert transform("entailment", [[1], [2]], special=SP, n_ctx=8) == entailment(
        [1], [2], special=SP, n_ctx=8
    )
    assert transform("similarity", [[1], [2]], special=SP, n_ctx=8) == similarity(
        [1], [2], special=SP, n_ctx=8
    )
    mc = transform("multiple_choice", [[1], [2]], choices=[[3], [4]], special=SP, n_ctx=8)
    assert mc == multiple_choice([1], [[3], [4]], question=[2], special=SP, n_ctx=8)


def test_transform_rejects_wrong_arity() -> None:
    with pytest.raises(ValueError, match="entailment takes 2"):
        transform("entailment", [[1]], special=SP, n_ctx=8)
    with pytest.raises(ValueError, match="needs choices"):
        transform("multiple_choice", [[1]], special=SP, n_ctx=8)
    with pytest.raises(ValueError, match="takes no choices"):
        transform("classification", [[1]], choices=[[2]], special=SP, n_ctx=8)
    with pytest.raises(ValueError, match="unknown kind"):
        transform("regression", [[1]], special=SP, n_ctx=8)
    with pytest.raises(TypeError, match="encode it first"):
        classification("raw text", special=SP, n_ctx=8)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least one"):
        multiple_choice([1], [], special=SP, n_ctx=8)


# ----------------------------------------------------------------------------------------------------
# truncation
# ----------------------------------------------------------------------------------------------------


def naive_longest_first(lengths: list[int], budget: int) -> list[int]:
    """The rule as stated: drop one token from the longest segment (earliest on ties) until it fits."""
    kept = list(lengths)
    while sum(kept) > budget:
        i = max(range(len(kept)), key=lambda k: (kept[k], -k))
        kept[i] -= 1
    return kept


def test_longest_first_closed_form_equals_naive_rule() -> None:
    rng = random.Random(0)
    for _ in range(2000):
        lengths = [rng.randint(0, 40) for _ in range(rng.randint(1, 4))]
        budget = rng.randint(0, 100)
        assert longest_first(lengths, budget) == naive_longest_first(lengths, budget), (lengths, budget)
    assert longest_first([5, 5], 7) == [3, 4]  # ties: the earlier segment is cut first
    assert longest_first([10, 3], 7) == [4, 3]  # the short second segment stays intact
    with pytest.raises(ValueError):
        longest_first([1], -1)


def test_classification_truncates_from_the_end() -> None:
    out = classification(list(range(10)), special=SP, n_ctx=6)
    assert out.sequences == ((S, 0, 1, 2, 3, E),)
    assert (out.tokens_removed, out.truncated_sequences, out.truncated) == (6, 1, True)


def test_entailment_keeps_hypothesis_while_premise_is_longer() -> None:
    out = entailment(list(range(10)), [50, 51, 52], special=SP, n_ctx=10)  # budget 7
    assert out.sequences == ((S, 0, 1, 2, 3, D, 50, 51, 52, E),)
    assert out.tokens_removed == 6
    # Once the premise is down to the hypothesis' length both shrink (ties: premise first).
    out = entailment([0, 1, 2, 3], [50, 51, 52, 53, 54, 55], special=SP, n_ctx=10)
    assert out.sequences == ((S, 0, 1, 2, D, 50, 51, 52, 53, E),)
    assert len(out.sequences[0]) == 10


def test_similarity_truncates_both_orders_identically() -> None:
    out = similarity(list(range(8)), [50, 51], special=SP, n_ctx=8)  # budget 5
    a, b = out.sequences
    assert a == (S, 0, 1, 2, D, 50, 51, E)
    assert b == (S, 50, 51, D, 0, 1, 2, E)
    assert (out.tokens_removed, out.truncated_sequences) == (5, 2)


def test_multiple_choice_shares_one_truncated_context() -> None:
    context = list(range(20))
    out = multiple_choice(context, [[50, 51], [60, 61, 62, 63, 64]], special=SP, n_ctx=16)
    # longest_first([20, 5], 13) = [8, 5]: the same 8 context tokens in both sequences.
    assert out.sequences[0] == (S, *range(8), D, 50, 51, E)
    assert out.sequences[1] == (S, *range(8), D, 60, 61, 62, 63, 64, E)
    assert (out.tokens_removed, out.truncated_sequences) == (12, 2)
    # Only an over-long answer is cut when the context fits.
    out = multiple_choice([1, 2], [[50], list(range(60, 80))], special=SP, n_ctx=12)  # budget 9
    assert out.sequences[0] == (S, 1, 2, D, 50, E)
    assert out.sequences[1] == (S, 1, 2, D, *range(60, 67), E)
    assert (out.tokens_removed, out.truncated_sequences) == (13, 1)


def test_race_question_kept_while_article_is_cut() -> None:
    out = multiple_choice(list(range(30)), [[50], [51]], question=[40, 41, 42], special=SP, n_ctx=12)
    # budget 9 over (article 30, question 3, answer 1) → (5, 3, 1)
    assert out.sequences[0] == (S, 0, 1, 2, 3, 4, 40, 41, 42, D, 50, E)
    assert out.tokens_removed == 25


def test_every_sequence_respects_n_ctx_random() -> None:
    rng = random.Random(1)

    def piece() -> list[int]:
        return [rng.randint(0, 99) for _ in range(rng.randint(0, 60))]

    stats = TruncationStats()
    for _ in range(300):
        n_ctx = rng.randint(4, 64)
        kind = rng.choice(["classification", "entailment", "similarity", "multiple_choice"])
        if kind == "classification":
            texts, choices = [piece()], None
        elif kind == "multiple_choice":
            texts = [piece()] if rng.random() < 0.5 else [piece(), piece()]
            choices = [piece() for _ in range(rng.randint(1, 4))]
        else:
            texts, choices = [piece(), piece()], None
        out = stats.add(transform(kind, texts, choices=choices, special=SP, n_ctx=n_ctx))
        for seq in out.sequences:
            assert len(seq) <= n_ctx
            assert seq[0] == S and seq[-1] == E
        kept = sum(len(s) for s in out.sequences)
        assert out.truncated == (out.tokens_removed > 0)
        assert kept > 0
    assert 0 < stats.truncated_examples < stats.examples
    assert stats.max_length <= 64


def test_n_ctx_too_small() -> None:
    with pytest.raises(ValueError, match="cannot hold the 3 special tokens"):
        entailment([1], [2], special=SP, n_ctx=2)
    assert entailment([1], [2], special=SP, n_ctx=3).sequences == ((S, D, E),)


def test_truncation_stats_counts_and_merge() -> None:
    stats = TruncationStats()
    stats.add(classification([1, 2, 3], special=SP, n_ctx=4))  # 1 removed
    stats.add(classification([1], special=SP, n_ctx=4))
    stats.add(similarity([1, 2, 3], [4, 5, 6], special=SP, n_ctx=6))  # 3 removed, 2 sequences
    assert (stats.examples, stats.sequences) == (3, 4)
    assert (stats.truncated_examples, stats.truncated_sequences, stats.tokens_removed) == (2, 3, 4)
    assert stats.truncated_fraction == pytest.approx(2 / 3)
    assert stats.max_length == 6
    other = TruncationStats()
    other.add(classification([1] * 10, special=SP, n_ctx=8))  # 4 removed
    stats += other
    assert (stats.examples, stats.tokens_removed, stats.max_length) == (4, 8, 8)
    assert "3/4 examples truncated" in str(stats)


# ----------------------------------------------------------------------------------------------------
# batching
# ----------------------------------------------------------------------------------------------------


def test_collate_shapes_padding_and_extract_positions() -> None:
    exs = [
        multiple_choice([1, 2], [[7], [8, 9]], special=SP, n_ctx=32),
        multiple_choice([1, 2, 3, 4], [[7], [8]], special=SP, n_ctx=32),
    ]
    batch = collate(exs, labels=[1, 0], pad_id=-1)
    assert isinstance(batch, GPTBatch)
    assert batch.input_ids.shape == (2, 2, 8)  # (B, C, T), T = longest sequence
    assert batch.attention_mask.shape == (2, 2, 8) and batch.attention_mask.dtype == torch.bool
    assert batch.extract_positions.tolist() == [[5, 6], [7, 7]]
    assert batch.input_ids[0, 0].tolist() == [S, 1, 2, D, 7, E, -1, -1]
    assert batch.attention_mask[0, 0].tolist() == [True] * 6 + [False] * 2
    assert batch.labels is not None and batch.labels.dtype == torch.long and batch.labels.tolist() == [1, 0]
    assert batch.num_sequences == 2
    # Gathering at the extract positions finds the extract token everywhere.
    gathered = batch.input_ids.gather(-1, batch.extract_positions.unsqueeze(-1)).squeeze(-1)
    assert (gathered == E).all()


def test_collate_single_sequence_float_labels_and_multiple_of() -> None:
    exs = [entailment([1], [2], special=SP, n_ctx=16), entailment([1, 2, 3], [4], special=SP, n_ctx=16)]
    batch = collate(exs, labels=[4.5, 0.0], pad_to_multiple_of=8)
    assert batch.input_ids.shape == (2, 1, 8)
    assert batch.labels is not None and batch.labels.dtype == torch.float32
    assert batch.extract_positions.tolist() == [[4], [6]]
    assert collate(exs, labels=[None, None]).labels is None
    assert collate(exs).labels is None
    assert batch.to("cpu").input_ids.shape == (2, 1, 8)


def test_collate_errors() -> None:
    one = classification([1], special=SP, n_ctx=8)
    two = similarity([1], [2], special=SP, n_ctx=8)
    with pytest.raises(ValueError, match="same number of sequences"):
        collate([one, two])
    with pytest.raises(ValueError, match="empty batch"):
        collate([])
    with pytest.raises(ValueError, match="either labeled or unlabeled"):
        collate([one, one], labels=[1, None])
    with pytest.raises(ValueError, match="got 1 labels for 2"):
        collate([one, one], labels=[1])


def test_transform_task_with_toy_encoder() -> None:
    data = SimpleNamespace(
        kind="similarity",
        examples=[TaskExample(texts=("ab", "c")), TaskExample(texts=("abcdef", "xyz"), label=1)],
    )
    encode = lambda s: [ord(ch) for ch in s]  # noqa: E731
    out, stats = transform_task(data, encode, special=SP, n_ctx=8)
    assert out[0].sequences == ((S, 97, 98, D, 99, E), (S, 99, D, 97, 98, E))
    assert all(isinstance(x, TransformedExample) for x in out)
    assert (stats.examples, stats.sequences, stats.truncated_examples) == (2, 4, 1)
    assert max(len(s) for x in out for s in x.sequences) == 8
