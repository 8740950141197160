"""The cross-sentence diagnostics (§3.3 transformations): generated data whose labels depend only on how the
two texts relate, read through the same readers as the real tasks."""

from __future__ import annotations

from collections import Counter

import pytest

from ronbun.gpt import diagnostics
from ronbun.gpt.diagnostics import DIAGNOSTICS, NOUNS, is_span, write_diagnostic
from ronbun.gpt.tasks import get_task, load_task

SPLITS = {"story_cloze": ("val", "test")}


def _read(tmp_path, name, n_train=300, n_eval=100):
    folder = write_diagnostic(name, tmp_path, n_train=n_train, n_eval=n_eval, seed=0)
    train_split, eval_split = SPLITS.get(DIAGNOSTICS[name].task, ("train", "dev"))
    task = DIAGNOSTICS[name].task
    return load_task(task, folder, train_split), load_task(task, folder, eval_split)


@pytest.mark.parametrize("name", sorted(DIAGNOSTICS))
def test_each_diagnostic_reads_as_its_real_task_with_both_splits(tmp_path, name):
    train, dev = _read(tmp_path, name)
    assert (len(train), len(dev)) == (300, 100)
    spec = get_task(DIAGNOSTICS[name].task)
    kinds = {
        "similarity_regression": "similarity",
        "similarity_classes": "similarity",
        "word_presence": "entailment",
    }
    assert spec.kind == kinds.get(name, name)  # the transformation under test is the task's own
    assert {ex.texts for ex in train}.isdisjoint({ex.texts for ex in dev}) or name == "multiple_choice"


@pytest.mark.parametrize("name", sorted(DIAGNOSTICS))
def test_no_label_is_a_majority_shortcut(tmp_path, name):
    train, _ = _read(tmp_path, name, n_train=1000)
    counts = Counter(ex.label for ex in train)
    assert max(counts.values()) / len(train) <= 0.55


def _differing_words(a: str, b: str) -> int | None:
    wa, wb = a.split(), b.split()
    return sum(x != y for x, y in zip(wa, wb, strict=True)) if len(wa) == len(wb) else None


def test_similarity_scores_grade_copy_edit_and_unrelated(tmp_path):
    train, _ = _read(tmp_path, "similarity_regression", n_train=500)
    for ex in train:
        diff = _differing_words(*ex.texts)
        if ex.label == 5.0:
            assert diff == 0
        elif ex.label == 2.5:
            assert diff == 1
        else:
            assert ex.label == 0.0 and diff != 0


def test_similarity_classes_are_exact_copies_against_everything_else(tmp_path):
    train, _ = _read(tmp_path, "similarity_classes", n_train=500)
    assert all((ex.texts[0] == ex.texts[1]) == (ex.label == 1) for ex in train)
    assert any(_differing_words(*ex.texts) == 1 for ex in train if ex.label == 0)  # hard negatives exist


def test_entailment_means_the_hypothesis_is_a_span_of_the_premise(tmp_path):
    train, _ = _read(tmp_path, "entailment", n_train=500)
    for ex in train:
        premise, hypothesis = (t.removesuffix(" .").split() for t in ex.texts)
        assert is_span(hypothesis, premise) == (ex.label == 0)  # label 0 = "entailment"


def test_word_presence_means_the_one_noun_hypothesis_occurs_in_the_premise(tmp_path):
    train, _ = _read(tmp_path, "word_presence", n_train=500)
    for ex in train:
        premise, hypothesis = (t.removesuffix(" .").split() for t in ex.texts)
        assert len(hypothesis) == 1 and hypothesis[0] in NOUNS
        assert (hypothesis[0] in premise) == (ex.label == 0)  # label 0 = "entailment"


def test_the_right_ending_names_the_contexts_last_noun(tmp_path):
    train, _ = _read(tmp_path, "multiple_choice", n_train=500)
    for ex in train:
        last_noun = [w for w in ex.texts[0].split() if w in NOUNS][-1]
        right, wrong = ex.choices[ex.label], ex.choices[1 - ex.label]
        assert right.split()[-2] == last_noun
        assert wrong.split()[-2] != last_noun and wrong.split()[-2] in ex.texts[0].split()


def test_the_files_are_the_same_on_every_run(tmp_path):
    a = write_diagnostic("entailment", tmp_path / "a", n_train=50, n_eval=10)
    b = write_diagnostic("entailment", tmp_path / "b", n_train=50, n_eval=10)
    assert (a / "train.tsv").read_bytes() == (b / "train.tsv").read_bytes()


def test_unlabelled_text_is_the_grammars_sentences_and_not_the_diagnostics_own():
    """Text to pre-train on before a diagnostic: one sentence of the same grammar per line, reproducible per
    seed, and (with another seed) not the sentences the diagnostics are built from."""
    lines = diagnostics.unlabelled_text(200, seed=1)
    assert len(lines) == 200 and lines == diagnostics.unlabelled_text(200, seed=1)
    assert all(line.startswith("the ") and line.endswith(" .") and len(line.split()) == 11 for line in lines)
    assert set(lines) != set(diagnostics.unlabelled_text(200, seed=0))


def test_unlabelled_text_can_carry_the_premises_clause_and_repeated_lines():
    """``clauses`` gives that fraction of the sentences the span-entailment premises' ``and …`` clause, and
    ``repeats`` writes that fraction of the lines twice in a row (``A A``); the sentences underneath stay the
    plain text's, so the fractions change only what they name."""
    plain = diagnostics.unlabelled_text(2000, seed=1)
    lines = diagnostics.unlabelled_text(2000, seed=1, clauses=0.5, repeats=0.2)
    assert lines == diagnostics.unlabelled_text(2000, seed=1, clauses=0.5, repeats=0.2)
    halves = [line.split(" . ") for line in lines]
    repeated = [h for h in halves if len(h) == 2]
    assert all(first + " ." == second for first, second in repeated)
    assert 0.15 < len(repeated) / len(lines) < 0.25
    once = [h[0].removesuffix(" .") for h in halves]  # each line's sentence, without its full stop
    with_clause = [words for words in once if " and the " in words]
    assert 0.45 < len(with_clause) / len(lines) < 0.55
    assert all(len(words.split()) == 16 for words in with_clause)  # the premises' shape: 10 + 6 words
    for words, base in zip(once, plain, strict=True):
        assert words.split(" and ")[0] == base.removesuffix(" .")
