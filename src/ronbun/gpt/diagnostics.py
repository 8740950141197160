"""Diagnostic tasks for GPT-1's cross-sentence transfer (§3.3): small generated data sets that a model can
solve only by *comparing* the texts the input transformation puts side by side.

Real pair tasks (RTE, MRPC, STS-B) mix what the model knows about language with what the pair path lets it
see, so a chance-level score does not say which one failed.  These diagnostics remove the first factor: the
sentences come from a tiny grammar, and the label depends only on how the two texts relate.  A model that
cannot learn them has a defect in the pair path (delimiters, positions, the order of the two sequences, the
extract token, the head, the loss), not a lack of scale.

Each diagnostic is written in the file layout of a real task, so it goes through exactly the reader, input
transformation and head that task uses (``ronbun gpt finetune --task stsb --data-dir DIR/similarity_regression``):

====================== ============ ================================================== =====================
diagnostic              layout of    the label says                                      transformation
====================== ============ ================================================== =====================
similarity_regression   ``stsb``     copy 5.0 · one-word edit 2.5 · unrelated 0.0        similarity (both orders)
similarity_classes      ``mrpc``     1 iff the second sentence is an exact copy          similarity (both orders)
                                     (negatives: one-word edits and unrelated sentences)
word_presence           ``rte``      entailment iff the one-word hypothesis (a noun)     entailment
                                     occurs in the premise; the simplest comparison,
                                     no word order involved
entailment              ``rte``      entailment iff the hypothesis is a contiguous span  entailment
                                     of the premise (negatives: a span with one word
                                     replaced, or a span of another sentence)
multiple_choice         ``story_cloze`` the right ending names the context's last noun;   multiple choice
                                     the wrong one names another noun of the context
====================== ============ ================================================== =====================

Run ``python -m ronbun.gpt.diagnostics OUT_DIR`` to write all four (seeded: the same files on every machine).
"""

from __future__ import annotations

import csv
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "DIAGNOSTICS",
    "Diagnostic",
    "clause",
    "is_span",
    "one_word_edit",
    "sentence",
    "unlabelled_text",
    "write_diagnostic",
    "write_diagnostics",
]

NOUNS = (
    "cat", "dog", "bird", "horse", "farmer", "teacher", "child", "doctor", "river", "garden", "house", "boat",
    "apple", "letter", "window", "street", "market", "forest", "train", "king", "queen", "baker", "singer",
    "student", "table", "bridge", "tower", "island", "lamp", "book",
)  # fmt: skip
ADJECTIVES = (
    "old", "young", "small", "big", "red", "green", "quiet", "happy", "tired", "clever", "brave", "dark",
    "bright", "slow", "quick", "strange",
)  # fmt: skip
VERBS = (
    "sees", "finds", "likes", "follows", "paints", "visits", "watches", "carries", "builds", "calls",
    "helps", "hears",
)  # fmt: skip
PLACES = ("near", "behind", "beside", "under", "above", "inside")


def sentence(rng: random.Random) -> list[str]:
    """One sentence of the grammar, as words: ``the ADJ NOUN VERB the ADJ NOUN PLACE the NOUN``."""
    return [
        "the", rng.choice(ADJECTIVES), rng.choice(NOUNS), rng.choice(VERBS), "the", rng.choice(ADJECTIVES),
        rng.choice(NOUNS), rng.choice(PLACES), "the", rng.choice(NOUNS),
    ]  # fmt: skip


def clause(rng: random.Random) -> list[str]:
    """The clause the span-entailment premises end with: ``and the NOUN VERB the NOUN``."""
    return ["and", "the", rng.choice(NOUNS), rng.choice(VERBS), "the", rng.choice(NOUNS)]


def unlabelled_text(n: int, seed: int = 0, *, clauses: float = 0.0, repeats: float = 0.0) -> list[str]:
    """``n`` lines of the grammar with no labels and no pairs: text a model can be pre-trained on (Eq. 1 of
    GPT-1) before it is fine-tuned on a diagnostic, as GPT-1 pre-trains on unlabelled text in the tasks'
    language.  With ``clauses`` that fraction of the sentences carries the premises' ``and …`` clause (the
    span-entailment premises' shape); with ``repeats`` that fraction of the lines is written twice in a row
    (``A A``), the repetitions that teach a language model to copy.  Both default to 0: plain sentences."""
    rng = random.Random(seed)
    # clauses and repeats come from their own stream: the sentences stay those of ``rng`` alone
    draws = random.Random(f"unlabelled/{seed}")
    lines = []
    for _ in range(n):
        words = sentence(rng)
        extra = clause(draws)
        if draws.random() < clauses:
            words = [*words, *extra]
        line = _text(words)
        lines.append(f"{line} {line}" if draws.random() < repeats else line)
    return lines


def _pool(word: str) -> tuple[str, ...]:
    for pool in (NOUNS, ADJECTIVES, VERBS, PLACES):
        if word in pool:
            return pool
    return ()


def one_word_edit(words: list[str], rng: random.Random) -> list[str]:
    """``words`` with one content word replaced by a different word of the same kind (still grammatical)."""
    positions = [i for i, w in enumerate(words) if _pool(w)]
    i = rng.choice(positions)
    edited = list(words)
    edited[i] = rng.choice([w for w in _pool(words[i]) if w != words[i]])
    return edited


def is_span(part: list[str], words: list[str]) -> bool:
    """True iff ``part`` occurs in ``words`` as a contiguous run of whole words."""
    n = len(part)
    return any(words[i : i + n] == part for i in range(len(words) - n + 1))


def _text(words: list[str]) -> str:
    return " ".join(words) + " ."


# -- the four diagnostics: each returns rows (texts..., label) -------------------------------------------------
def _similarity(rng: random.Random, graded: bool) -> tuple[str, str, str]:
    first = sentence(rng)
    kind = rng.choices(("copy", "edit", "unrelated"), weights=(2, 1, 1))[0]
    second = {"copy": first, "edit": one_word_edit(first, rng), "unrelated": sentence(rng)}[kind]
    if graded:
        label = {"copy": "5.0", "edit": "2.5", "unrelated": "0.0"}[kind]
    else:
        label = "1" if kind == "copy" else "0"
    return _text(first), _text(second), label


def _word_presence(rng: random.Random) -> tuple[str, str, str]:
    premise = sentence(rng)
    if rng.random() < 0.5:
        noun, label = rng.choice([w for w in premise if w in NOUNS]), "entailment"
    else:
        noun, label = rng.choice([w for w in NOUNS if w not in premise]), "not_entailment"
    return _text(premise), _text([noun]), label


def _entailment(rng: random.Random) -> tuple[str, str, str]:
    premise = [*sentence(rng), *clause(rng)]
    n = rng.randint(3, 6)
    start = rng.randrange(len(premise) - n + 1)
    span = premise[start : start + n]
    kind = rng.choices(("span", "edited", "other"), weights=(2, 1, 1))[0]
    if kind == "edited":
        while not any(_pool(w) for w in span):
            start = rng.randrange(len(premise) - n + 1)
            span = premise[start : start + n]
        span = one_word_edit(span, rng)
    elif kind == "other":
        other = sentence(rng)
        start = rng.randrange(len(other) - n + 1)
        span = other[start : start + n]
    label = "entailment" if is_span(span, premise) else "not_entailment"  # an edit may land on another span
    return _text(premise), _text(span), label


def _multiple_choice(rng: random.Random) -> tuple[str, ...]:
    nouns = rng.sample(NOUNS, 5)
    story = [
        f"the {rng.choice(ADJECTIVES)} {nouns[i]} {rng.choice(VERBS)} the {nouns[i + 1]} ." for i in range(4)
    ]
    right = f"then everybody talked about the {nouns[4]} ."
    wrong = f"then everybody talked about the {rng.choice(nouns[:4])} ."
    endings, answer = ((right, wrong), "1") if rng.random() < 0.5 else ((wrong, right), "2")
    return (*story, *endings, answer)


@dataclass(frozen=True)
class Diagnostic:
    """A diagnostic: the real task whose layout and transformation it uses, and what it must reach."""

    name: str
    task: str  # the ``ronbun.gpt.tasks`` task it is read as
    metric: str
    target: float
    make_row: Callable[[random.Random], tuple[str, ...]]


DIAGNOSTICS: dict[str, Diagnostic] = {
    d.name: d
    for d in (
        Diagnostic("similarity_regression", "stsb", "pearson", 0.9, lambda r: _similarity(r, graded=True)),
        Diagnostic("similarity_classes", "mrpc", "accuracy", 0.95, lambda r: _similarity(r, graded=False)),
        Diagnostic("word_presence", "rte", "accuracy", 0.95, _word_presence),
        Diagnostic("entailment", "rte", "accuracy", 0.95, _entailment),
        Diagnostic("multiple_choice", "story_cloze", "accuracy", 0.95, _multiple_choice),
    )
}

_HEADERS = {
    "stsb": ("index", "sentence1", "sentence2", "score"),
    "mrpc": ("Quality", "#1 ID", "#2 ID", "#1 String", "#2 String"),
    "rte": ("index", "sentence1", "sentence2", "label"),
    "story_cloze": (
        "InputStoryid", "InputSentence1", "InputSentence2", "InputSentence3", "InputSentence4",
        "RandomFifthSentenceQuiz1", "RandomFifthSentenceQuiz2", "AnswerRightEnding",
    ),
}  # fmt: skip


def _layout_row(task: str, i: int, row: tuple[str, ...]) -> tuple[str, ...]:
    if task == "mrpc":
        return (row[2], str(2 * i), str(2 * i + 1), row[0], row[1])
    if task == "story_cloze":
        return (f"story-{i}", *row)
    return (str(i), *row)


def write_diagnostic(
    name: str, out_dir: str | Path, n_train: int = 2000, n_eval: int = 500, seed: int = 0
) -> Path:
    """Write diagnostic ``name`` under ``out_dir/name`` in its task's layout; returns that folder.

    The training split is ``train`` (``val`` for the Story Cloze layout), the evaluation split ``dev``
    (``test``); they are drawn from different seeds of the same generator."""
    spec = DIAGNOSTICS[name]
    folder = Path(out_dir) / name
    folder.mkdir(parents=True, exist_ok=True)
    splits = (
        (("val", n_train), ("test", n_eval))
        if spec.task == "story_cloze"
        else (("train", n_train), ("dev", n_eval))
    )
    for offset, (split, n) in enumerate(splits):
        rng = random.Random(f"{name}/{seed}/{offset}")
        rows = [_layout_row(spec.task, i, spec.make_row(rng)) for i in range(n)]
        if spec.task == "story_cloze":
            path = folder / f"cloze_test_{split}__spring2016.csv"
            with path.open("w", encoding="utf-8", newline="") as f:
                writer = csv.writer(f)
                writer.writerow(_HEADERS[spec.task])
                writer.writerows(rows)
        else:
            path = folder / f"{split}.tsv"
            lines = ["\t".join(_HEADERS[spec.task]), *("\t".join(r) for r in rows)]
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def write_diagnostics(out_dir: str | Path, **kwargs: int) -> dict[str, Path]:
    """Write every diagnostic under ``out_dir``; returns name → folder."""
    return {name: write_diagnostic(name, out_dir, **kwargs) for name in DIAGNOSTICS}


def main(argv: list[str] | None = None) -> None:
    import argparse

    p = argparse.ArgumentParser(prog="python -m ronbun.gpt.diagnostics", description=__doc__.split("\n\n")[0])
    p.add_argument("out_dir", nargs="?", default="runs/diagnostics")
    p.add_argument("--train", type=int, default=2000, help="training examples per diagnostic")
    p.add_argument("--eval", type=int, default=500, help="evaluation examples per diagnostic")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    for name, folder in write_diagnostics(
        args.out_dir, n_train=args.train, n_eval=args.eval, seed=args.seed
    ).items():
        spec = DIAGNOSTICS[name]
        print(f"{name}: {folder}  (read as --task {spec.task}; target {spec.metric} ≥ {spec.target})")


if __name__ == "__main__":
    main(sys.argv[1:])
