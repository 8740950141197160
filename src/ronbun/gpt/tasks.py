"""Readers for the GPT-1 fine-tuning tasks (Radford et al., 2018, §4.2, Tables 2–4).

Every task is read into a list of :class:`TaskExample` (``texts``, ``choices``, ``label``) plus the
task's ``kind``, which decides the GPT-1 input transformation (§3.3, Figure 1; see
:mod:`ronbun.gpt.transforms`):

* ``cola`` — classification, 2 labels, ``(sentence,)``; the official public release
  (``raw/in_domain_{train,dev}.tsv``, ``raw/out_of_domain_dev.tsv``, no header) or GLUE's
  ``CoLA/{train,dev,test}.tsv``;
* ``sst2`` — classification, 2 labels, ``(sentence,)``; GLUE ``SST-2/*.tsv``;
* ``mrpc`` — similarity, 2 labels, ``(#1 String, #2 String)``; GLUE ``MRPC/*.tsv`` (UTF-8 BOM);
* ``stsb`` — similarity, regression (``num_labels`` 1, score in [0, 5]), ``(sentence1, sentence2)``;
  GLUE ``STS-B/*.tsv``;
* ``qqp`` — similarity, 2 labels, ``(question1, question2)``; GLUE ``QQP/*.tsv``;
* ``mnli`` — entailment, 3 labels, ``(sentence1, sentence2)``; GLUE ``MNLI/*.tsv`` (splits
  ``train``, ``dev_matched``, ``dev_mismatched``, ``test_matched``, ``test_mismatched``) or the official
  ``multinli_1.0_*.jsonl``;
* ``qnli`` — entailment, 2 labels, ``(question, sentence)``; GLUE ``QNLI/*.tsv``;
* ``rte`` — entailment, 2 labels, ``(sentence1, sentence2)``; GLUE ``RTE/*.tsv``;
* ``snli`` — entailment, 3 labels, ``(sentence1, sentence2)``; official ``snli_1.0_*.jsonl`` or ``.txt``;
* ``scitail`` — entailment, 2 labels, ``(premise, hypothesis)``; ``tsv_format/scitail_1.0_*.tsv``
  (no header);
* ``story_cloze`` — multiple choice, 2 endings, ``(four context sentences joined,)``;
  ``cloze_test_{val,test}__spring2016.csv``;
* ``race`` — multiple choice, 4 options, ``(article, question)``; ``RACE/{train,dev,test}/{middle,high}/*.txt``.

(``race_middle`` / ``race_high`` read one level only: RACE-m / RACE-h of Table 3.)

Each task is one :class:`TaskSpec` declaration (files per split, columns, label map, kind; its metrics
are :data:`~ronbun.evaluation.metrics.TASK_METRICS`). All GLUE-layout tasks — every one above except Story
Cloze and RACE — are read by one generic reader; Story Cloze (CSV) and RACE (one JSON per file) have a
small reader each. All readers share one error policy (:func:`_collect`).

Text order follows the files (GLUE column order), so an entailment example's ``texts`` are
``(premise, hypothesis)`` and QNLI's are ``(question, sentence)`` as in GLUE. Texts are returned exactly
as stored (no stripping or re-spacing). Labels are integer class ids (``label_names[i]`` names class
``i``; ``label_map`` maps the raw value in the file to the id), a ``float`` for STS-B (num_labels 1,
regression) or ``None`` for unlabeled test sets.

Conventions worth knowing:

* TSVs are read like GLUE's own processors: tab-separated, **no quote processing** (GLUE text contains
  bare ``"``), UTF-8 with an optional BOM (MRPC's ``train.tsv``/``dev.tsv`` start with one), columns
  located by header name. A row whose number of fields differs from the header is an error (a stray
  tab would silently shift the label otherwise); ``strict=False`` skips such rows and rows with
  unknown labels and counts them in :attr:`TaskData.skipped` (GLUE's reference QQP processor also
  drops malformed rows). Headerless TSVs (CoLA's public release, SciTail) have fixed columns, except a
  GLUE test file that starts with the header ``index<TAB>text columns``. ``.jsonl`` files are read as
  JSON lines with the same column names.
* SNLI/MNLI pairs whose gold label is ``-`` (no annotator consensus) are always dropped, the universal
  convention (counted in ``skipped``).
* CoLA ``dev`` is GLUE's dev set: in-domain dev followed by out-of-domain dev (527 + 516 = 1,043);
  ``dev_in_domain`` / ``dev_out_of_domain`` give the parts.
* Story Cloze: ``context = " ".join(sentences 1–4)``, ``choices = (ending 1, ending 2)``,
  ``label = AnswerRightEnding − 1`` (as in OpenAI's ``finetune-transformer-lm``). GPT-1 trains on
  part of the *val* file and reports accuracy on *test*.
* RACE: one example per question (``texts = (article, question)``, 4 options, answer letter → 0–3);
  fill-in-the-blank questions keep their ``_`` (GPT-1 concatenates document and question, §3.3).

``data_dir`` may be the task's own folder (``glue_data/SST-2``), its parent (``glue_data``), or a
single file (read with the task's format). Problems in a file raise :class:`TaskDataError` (a
``ValueError``) naming the file and the 1-based line number.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import itertools
import json
import random
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Literal

from ..data.errors import DataError
from ..evaluation.metrics import TASK_METRICS

__all__ = [
    "HOLDOUT_SEED",
    "KINDS",
    "TASKS",
    "TaskData",
    "TaskDataError",
    "TaskExample",
    "TaskKind",
    "TaskSpec",
    "canonical_task_name",
    "carve_holdout",
    "get_task",
    "load_task",
]

TaskKind = Literal["classification", "entailment", "similarity", "multiple_choice"]
#: The four input-transformation kinds of GPT-1 §3.3 / Figure 1.
KINDS: tuple[str, ...] = ("classification", "entailment", "similarity", "multiple_choice")


class TaskDataError(DataError):
    """Malformed task data (a :class:`~ronbun.data.errors.DataError`, hence a ``ValueError``): the
    message is prefixed by ``path:line:`` (line is 1-based, header included)."""

    def __init__(self, message: str, path: str | Path | None = None, line: int | None = None) -> None:
        self.reason = message
        self.path = Path(path) if path is not None else None
        self.line = line
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(where + message)


@dataclass(frozen=True)
class TaskExample:
    """One task example.

    Attributes:
        texts: one text (single-sentence tasks), two (pairs: premise/hypothesis, A/B), or the context
            pieces of a multiple-choice example (Story Cloze: the story; RACE: article, question).
        choices: candidate answers/endings for multiple choice, else ``None``.
        label: class id, regression target (STS-B) or ``None`` when unlabeled.
        uid: identifier from the file where there is one (GLUE ``index``, SNLI ``pairID``, ...).
    """

    texts: tuple[str, ...]
    choices: tuple[str, ...] | None = None
    label: int | float | None = None
    uid: str | None = None


@dataclass
class TaskData:
    """The examples of one split of one task, with what a model head needs to know."""

    name: str
    kind: str
    num_labels: int
    examples: list[TaskExample]
    split: str = ""
    label_names: tuple[str, ...] = ()
    files: tuple[Path, ...] = ()
    skipped: int = 0

    def __len__(self) -> int:
        return len(self.examples)

    def __iter__(self) -> Iterator[TaskExample]:
        return iter(self.examples)

    def __getitem__(self, index: int) -> TaskExample:
        return self.examples[index]

    @property
    def labeled(self) -> bool:
        """True when every example has a label (False for unlabeled test sets)."""
        return all(ex.label is not None for ex in self.examples)


Reader = Callable[["TaskSpec", Path, bool], tuple[list[TaskExample], int]]
Resolver = Callable[["TaskSpec", Path, str], list[Path]]
#: Parses one row: an example, ``None`` (dropped by convention) or a raised :class:`TaskDataError`.
RowParser = Callable[[], "TaskExample | None"]

_GLUE_SPLITS = ("train", "dev", "test")
_GLUE_ALIASES = {"validation": "dev", "val": "dev"}


@dataclass(frozen=True)
class TaskSpec:
    """Declaration of a task; the defaults describe GLUE's layout (``{train,dev,test}.tsv`` with a
    header row, labels in ``label``, ids in ``index``), read by the generic reader.

    Attributes:
        name, kind: registry key and §3.3 input transformation (one of :data:`KINDS`).
        label_names: class names (``label_names[i]`` names class ``i``); empty for regression (STS-B).
        label_map: raw label value in the file → class id; default: the label names themselves.
        text_columns: columns giving ``TaskExample.texts``, in order; ``label_column``: ``None`` for none.
        uid_columns: alternatives for ``TaskExample.uid`` (the first whose columns all exist, joined by
            ``-``).
        headerless: the columns of a TSV without header row (CoLA's public release, SciTail).
        drop_labels: raw labels whose rows are dropped by convention (SNLI/MNLI ``-``), counted as skipped.
        label_range: inclusive valid range of a regression target.
        splits, split_aliases: split names and other accepted spellings.
        files: candidate file names of every split (``{split}`` is replaced); ``split_files`` overrides
            them for one split. A candidate may name several files read in order (``"a.tsv + b.tsv"``).
        dir_names: subfolders of ``data_dir`` also searched (``glue_data`` → ``glue_data/SST-2``).
        reader, resolver: a task-specific reader / file finder instead of the generic ones.
        paper: the result GPT-1 reports.
        phrase_level: the training split holds the phrases of its sentences' parse trees besides the
            sentences (SST-2), so a holdout is made of whole sentences (see :func:`carve_holdout`).
    """

    name: str
    kind: TaskKind
    label_names: tuple[str, ...] = ()
    label_map: Mapping[str, int] = field(default_factory=dict)
    text_columns: tuple[str, ...] = ()
    label_column: str | None = "label"
    uid_columns: tuple[tuple[str, ...], ...] = (("index",),)
    headerless: tuple[str, ...] = ()
    drop_labels: tuple[str, ...] = ()
    label_range: tuple[float, float] | None = None
    splits: tuple[str, ...] = _GLUE_SPLITS
    split_aliases: Mapping[str, str] = field(default_factory=lambda: dict(_GLUE_ALIASES))
    files: tuple[str, ...] = ("{split}.tsv",)
    split_files: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    dir_names: tuple[str, ...] = ()
    reader: Reader | None = None
    resolver: Resolver | None = None
    paper: str = ""
    finetune: Mapping[str, Any] = field(default_factory=dict)
    phrase_level: bool = False

    # ``finetune``: the fine-tuning settings chosen for this task on a holdout carved from its training split
    # (never on dev): ``lr``, ``max_steps`` (updates of 32 examples), ``clf_dropout``, and ``chosen_by`` (the
    # command and date of the selection).  ``ronbun gpt finetune --task NAME`` uses them unless a flag or the
    # config file sets them (``--epochs`` or ``--limit`` replaces ``max_steps``); a task without any uses §4.1's defaults.

    def __post_init__(self) -> None:
        if not self.label_map:
            object.__setattr__(self, "label_map", {n: i for i, n in enumerate(self.label_names)})

    @property
    def num_labels(self) -> int:
        """Number of classes; 1 for a regression task."""
        return len(self.label_names) or 1

    @property
    def is_regression(self) -> bool:
        return self.num_labels == 1

    @property
    def metrics(self) -> tuple[str, ...]:
        """The metrics GPT-1 reports for this task (first) and GLUE's companion, if any."""
        return TASK_METRICS[self.name]

    def canonical_split(self, split: str) -> str:
        s = self.split_aliases.get(split, split)
        if s not in self.splits:
            raise ValueError(f"task {self.name!r} has no split {split!r}; splits: {', '.join(self.splits)}")
        return s

    def candidates(self, split: str) -> list[tuple[str, ...]]:
        """The file-name candidates of ``split``, each a tuple of files read in order."""
        names = self.split_files.get(split) or tuple(f.format(split=split) for f in self.files)
        return [tuple(n.split(" + ")) for n in names]

    def read(self, path: Path, strict: bool) -> tuple[list[TaskExample], int]:
        return (self.reader or _read_glue)(self, path, strict)

    def find_files(self, data_dir: Path, split: str) -> list[Path]:
        return (self.resolver or _resolve_files)(self, data_dir, split)


# ----------------------------------------------------------------------------------------------------
# the shared pieces: decoding, lines, labels, the error policy
# ----------------------------------------------------------------------------------------------------


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise TaskDataError(f"not valid UTF-8 ({exc.reason} at byte {exc.start})", path, line) from None


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """(1-based line number, line) for every non-blank line; splits on ``\\n`` only (GLUE text may
    contain other Unicode line separators), strips a trailing ``\\r``."""
    for i, line in enumerate(_read_text(path).split("\n"), start=1):
        if line.endswith("\r"):
            line = line[:-1]
        if line.strip():
            yield i, line


def _parse_label(spec: TaskSpec, raw: str, path: Path, line: int) -> int | float:
    if spec.is_regression:
        try:
            value = float(raw)
        except ValueError:
            raise TaskDataError(f"label {raw!r} is not a number", path, line) from None
        lo, hi = spec.label_range or (float("-inf"), float("inf"))
        if not lo <= value <= hi:
            raise TaskDataError(f"label {value} outside the valid range [{lo}, {hi}]", path, line)
        return value
    try:
        return spec.label_map[raw]
    except KeyError:
        known = ", ".join(repr(k) for k in spec.label_map)
        raise TaskDataError(f"unknown label {raw!r} (expected one of {known})", path, line) from None


def _collect(rows: Iterable[RowParser], strict: bool) -> tuple[list[TaskExample], int]:
    """The one error policy of every reader: a row whose parser raises :class:`TaskDataError` stops the
    read when ``strict``, else is skipped; skipped and dropped (``None``) rows are counted. Errors raised
    by ``rows`` itself (empty file, bad header, bad encoding) always propagate."""
    examples: list[TaskExample] = []
    skipped = 0
    for parse in rows:
        try:
            example = parse()
        except TaskDataError:
            if strict:
                raise
            example = None
        if example is None:
            skipped += 1
        else:
            examples.append(example)
    return examples, skipped


# ----------------------------------------------------------------------------------------------------
# the generic reader: GLUE-layout TSV (or JSON lines with the same column names)
# ----------------------------------------------------------------------------------------------------


def _make_example(
    spec: TaskSpec, row: Mapping[str, str], path: Path, line: int, labeled: bool
) -> TaskExample | None:
    """Example from a name → value row; ``None`` if its label is in ``spec.drop_labels``."""
    label: int | float | None = None
    if labeled:
        raw = row[spec.label_column]  # type: ignore[index]
        if raw in spec.drop_labels:
            return None
        label = _parse_label(spec, raw, path, line)
    uid = next(
        ("-".join(row[c] for c in cols) for cols in spec.uid_columns if all(c in row for c in cols)), None
    )
    return TaskExample(texts=tuple(row[c] for c in spec.text_columns), label=label, uid=uid)


def _tsv_rows(spec: TaskSpec, path: Path) -> Iterator[RowParser]:
    """Row parsers of a TSV: columns named by its header row, or ``spec.headerless``."""
    lines = _lines(path)
    first = next(lines, None)
    if first is None:
        if spec.headerless:
            return
        raise TaskDataError("file is empty (expected a header row)", path, 1)
    header = first[1].split("\t")
    if spec.headerless and header != ["index", *spec.text_columns]:  # no header (else: GLUE test file)
        names, labeled, described = list(spec.headerless), True, ", ".join(spec.headerless)
        lines = itertools.chain([first], lines)
    else:
        missing = [c for c in spec.text_columns if c not in header]
        if missing:
            raise TaskDataError(
                f"missing column(s) {', '.join(repr(m) for m in missing)} in header {header!r}",
                path,
                first[0],
            )
        names, labeled, described = header, spec.label_column in header, "as in the header"
    index = {n: names.index(n) for n in dict.fromkeys(names)}

    def parse(line_no: int, line: str) -> TaskExample | None:
        fields = line.split("\t")
        if len(fields) != len(names):
            raise TaskDataError(
                f"expected {len(names)} tab-separated fields ({described}), found {len(fields)}",
                path,
                line_no,
            )
        return _make_example(spec, {n: fields[i] for n, i in index.items()}, path, line_no, labeled)

    for line_no, line in lines:
        yield partial(parse, line_no, line)


def _jsonl_rows(spec: TaskSpec, path: Path) -> Iterator[RowParser]:
    """Row parsers of JSON lines (SNLI / MultiNLI official releases): one object per line."""

    def parse(line_no: int, line: str) -> TaskExample | None:
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise TaskDataError(f"invalid JSON: {exc.msg}", path, line_no) from None
        if not isinstance(obj, dict):
            raise TaskDataError("expected a JSON object", path, line_no)
        missing = [c for c in spec.text_columns if not isinstance(obj.get(c), str)]
        if missing:
            raise TaskDataError(f"missing or non-string field(s) {missing!r}", path, line_no)
        row = {k: str(v) for k, v in obj.items() if isinstance(v, str | int | float)}
        return _make_example(spec, row, path, line_no, spec.label_column in row)

    for line_no, line in _lines(path):
        yield partial(parse, line_no, line)


def _read_glue(spec: TaskSpec, path: Path, strict: bool) -> tuple[list[TaskExample], int]:
    """The generic reader of every GLUE-layout task."""
    rows = _jsonl_rows(spec, path) if path.suffix == ".jsonl" else _tsv_rows(spec, path)
    return _collect(rows, strict)


def _resolve_files(spec: TaskSpec, data_dir: Path, split: str) -> list[Path]:
    """First candidate (a tuple of files read in order) that exists, under ``data_dir`` or a
    ``data_dir/<dir_name>`` subfolder."""
    tried: list[str] = []
    for base in (data_dir, *(data_dir / d for d in spec.dir_names)):
        for candidate in spec.candidates(split):
            paths = [base / p for p in candidate]
            if all(p.is_file() for p in paths):
                return paths
            tried.append(" + ".join(str(p) for p in paths))
    raise FileNotFoundError(
        f"task {spec.name!r}, split {split!r}: no data file found; tried: " + "; ".join(tried)
    )


# ----------------------------------------------------------------------------------------------------
# the two other formats: Story Cloze CSV, RACE JSON
# ----------------------------------------------------------------------------------------------------

_STORY_COLUMNS = ("InputSentence1", "InputSentence2", "InputSentence3", "InputSentence4")
_ENDING_COLUMNS = ("RandomFifthSentenceQuiz1", "RandomFifthSentenceQuiz2")


def _read_story_cloze(spec: TaskSpec, path: Path, strict: bool) -> tuple[list[TaskExample], int]:
    """Story Cloze CSV (RFC-4180 quoting, header row). Label column ``AnswerRightEnding`` (1/2) optional."""
    reader = csv.reader(io.StringIO(_read_text(path), newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise TaskDataError("file is empty (expected a header row)", path, 1) from None
    missing = [c for c in (*_STORY_COLUMNS, *_ENDING_COLUMNS) if c not in header]
    if missing:
        raise TaskDataError(f"missing column(s) {missing!r} in header {header!r}", path, 1)
    index = {n: header.index(n) for n in dict.fromkeys(header)}

    def parse(line_no: int, fields: list[str]) -> TaskExample:
        if len(fields) != len(header):
            raise TaskDataError(
                f"expected {len(header)} comma-separated fields (as in the header), found {len(fields)}",
                path,
                line_no,
            )
        label = None
        if "AnswerRightEnding" in index:
            label = _parse_label(spec, fields[index["AnswerRightEnding"]].strip(), path, line_no)
        return TaskExample(
            texts=(" ".join(fields[index[c]] for c in _STORY_COLUMNS),),
            choices=tuple(fields[index[c]] for c in _ENDING_COLUMNS),
            label=label,
            uid=fields[index["InputStoryid"]] if "InputStoryid" in index else None,
        )

    def rows() -> Iterator[RowParser]:
        while True:
            line_no = reader.line_num + 1
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise TaskDataError(f"CSV error: {exc}", path, line_no) from None
            if any(f.strip() for f in fields):
                yield partial(parse, line_no, fields)

    return _collect(rows(), strict)


def _read_race_file(spec: TaskSpec, path: Path, strict: bool) -> tuple[list[TaskExample], int]:
    """One RACE file: a JSON object ``{article, questions[], options[][4], answers[], id}``."""
    try:
        obj = json.loads(_read_text(path))
    except json.JSONDecodeError as exc:
        raise TaskDataError(f"invalid JSON: {exc.msg}", path, exc.lineno) from None
    if not isinstance(obj, dict):
        raise TaskDataError("expected a JSON object", path, 1)
    for key in ("article", "questions", "options"):
        if key not in obj:
            raise TaskDataError(f"missing field {key!r}", path, 1)
    article, questions, options = obj["article"], obj["questions"], obj["options"]
    answers = obj.get("answers")
    if not isinstance(article, str) or not isinstance(questions, list) or not isinstance(options, list):
        raise TaskDataError("'article' must be a string, 'questions' and 'options' lists", path, 1)
    if len(options) != len(questions) or (answers is not None and len(answers) != len(questions)):
        n_ans = "-" if answers is None else len(answers)
        raise TaskDataError(
            f"{len(questions)} questions but {len(options)} option lists and {n_ans} answers", path, 1
        )
    base_id = str(obj.get("id", path.name))

    def parse(q: int, question: object, opts: object) -> TaskExample:
        if not isinstance(question, str):
            raise TaskDataError(f"question {q + 1}: not a string", path, 1)
        if (
            not isinstance(opts, list)
            or len(opts) != spec.num_labels
            or not all(isinstance(o, str) for o in opts)
        ):
            raise TaskDataError(f"question {q + 1}: expected {spec.num_labels} string options", path, 1)
        label = None
        if answers is not None:
            if answers[q] not in spec.label_map:
                raise TaskDataError(
                    f"question {q + 1}: unknown answer {answers[q]!r} (expected one of A, B, C, D)", path, 1
                )
            label = spec.label_map[answers[q]]
        return TaskExample(texts=(article, question), choices=tuple(opts), label=label, uid=f"{base_id}-{q}")

    return _collect(
        (partial(parse, q, *qo) for q, qo in enumerate(zip(questions, options, strict=True))), strict
    )


def _natural_key(path: Path) -> tuple[object, ...]:
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", str(path)))


def _resolve_race(spec: TaskSpec, data_dir: Path, split: str) -> list[Path]:
    if any(data_dir.glob("*.txt")):  # a folder of RACE files, e.g. RACE/test/high
        return sorted(data_dir.glob("*.txt"), key=_natural_key)
    levels = {"race_middle": ("middle",), "race_high": ("high",)}.get(spec.name, ("middle", "high"))
    tried = []
    for base in (data_dir, data_dir / "RACE"):
        dirs = [base / split / level for level in levels]
        tried.extend(dirs)
        if all(d.is_dir() for d in dirs):
            files = [f for d in dirs for f in sorted(d.glob("*.txt"), key=_natural_key)]
            if not files:
                raise TaskDataError(f"no RACE *.txt files in {', '.join(map(str, dirs))}")
            return files
    raise FileNotFoundError(
        f"task {spec.name!r}, split {split!r}: none of these folders exist: {', '.join(map(str, tried))}"
    )


# ----------------------------------------------------------------------------------------------------
# the registry: one declaration per task
# ----------------------------------------------------------------------------------------------------

_BINARY = {"0": 0, "1": 1}
_NLI3 = ("entailment", "neutral", "contradiction")
_ENTAIL2 = ("entailment", "not_entailment")
_MNLI_SPLITS = ("train", "dev_matched", "dev_mismatched", "test_matched", "test_mismatched")

# fmt: off
_SPECS: tuple[TaskSpec, ...] = (
    TaskSpec(
        "cola", "classification", ("unacceptable", "acceptable"), _BINARY, text_columns=("sentence",),
        headerless=("source", "label", "mark", "sentence"),
        splits=("train", "dev", "dev_in_domain", "dev_out_of_domain", "test"),
        split_files={
            "train": ("train.tsv", "raw/in_domain_train.tsv", "in_domain_train.tsv"),
            "dev": ("dev.tsv", "raw/in_domain_dev.tsv + raw/out_of_domain_dev.tsv",
                    "in_domain_dev.tsv + out_of_domain_dev.tsv"),
            "dev_in_domain": ("raw/in_domain_dev.tsv", "in_domain_dev.tsv"),
            "dev_out_of_domain": ("raw/out_of_domain_dev.tsv", "out_of_domain_dev.tsv"),
        },
        dir_names=("CoLA", "cola_public"), paper="GPT-1 Table 4: CoLA mc (Matthews correlation) 45.4",
    ),
    TaskSpec(
        "sst2", "classification", ("negative", "positive"), _BINARY, text_columns=("sentence",),
        dir_names=("SST-2", "SST2"), paper="GPT-1 Table 4: SST-2 accuracy 91.3", phrase_level=True,
        finetune={"lr": 1e-4, "max_steps": 1761, "clf_dropout": 0.1,
                  "chosen_by": "experiments/gpt1_sst2.sh, 2026-12-02: accuracy on 1,000 held-out whole sentences "
                               "79.7 % at 1,761 updates (1 epoch) against 75.2 % at 881 and 73.5 % at 587"},
    ),
    TaskSpec(
        "mrpc", "similarity", ("not_paraphrase", "paraphrase"), _BINARY,
        text_columns=("#1 String", "#2 String"), label_column="Quality",
        uid_columns=(("index",), ("#1 ID", "#2 ID")), dir_names=("MRPC",),
        paper="GPT-1 Table 4: MRPC F1 82.3",
        finetune={"lr": 6.25e-5, "max_steps": 297, "clf_dropout": 0.1,
                  "chosen_by": "PRETRAIN=runs/gpt1_pretrain_ctx256 TASK=mrpc HOLDOUT=500 GRID=\"297 594\" "
                               "LRS=\"6.25e-5 2.5e-4\" experiments/gpt1_transfer.sh, 2026-12-04: accuracy on 500 "
                               "held-out training pairs 72.2 % at lr 6.25e-5 and 297 updates (3 epochs) against "
                               "70.6 % at 594, and 67.4 % / 67.2 % at lr 2.5e-4 (majority class about 68 %)"},
    ),
    TaskSpec(
        "stsb", "similarity", text_columns=("sentence1", "sentence2"), label_column="score",
        label_range=(0.0, 5.0), dir_names=("STS-B", "STSB"),
        paper="GPT-1 Table 4: STS-B Pearson correlation 82.0",
    ),
    TaskSpec(
        "qqp", "similarity", ("not_duplicate", "duplicate"), _BINARY, text_columns=("question1", "question2"),
        label_column="is_duplicate", uid_columns=(("id",),), dir_names=("QQP",),
        paper="GPT-1 Table 4: QQP F1 70.3",
    ),
    TaskSpec(
        "mnli", "entailment", _NLI3, text_columns=("sentence1", "sentence2"), label_column="gold_label",
        uid_columns=(("index",), ("pairID",)), drop_labels=("-",), splits=_MNLI_SPLITS,
        split_aliases={"dev_m": "dev_matched", "dev_mm": "dev_mismatched", "test_m": "test_matched",
                       "test_mm": "test_mismatched", "validation_matched": "dev_matched",
                       "validation_mismatched": "dev_mismatched"},
        files=("{split}.tsv", "multinli_1.0_{split}.jsonl"), dir_names=("MNLI", "multinli_1.0"),
        paper="GPT-1 Table 2: MNLI-m 82.1 / MNLI-mm 81.4 accuracy",
    ),
    TaskSpec(
        "qnli", "entailment", _ENTAIL2, text_columns=("question", "sentence"), dir_names=("QNLI", "QNLIv2"),
        paper="GPT-1 Table 2: QNLI accuracy 88.1",
    ),
    TaskSpec(
        "rte", "entailment", _ENTAIL2, text_columns=("sentence1", "sentence2"), dir_names=("RTE",),
        paper="GPT-1 Table 2: RTE accuracy 56.0",
        finetune={"lr": 6.25e-5, "max_steps": 187, "clf_dropout": 0.1,
                  "chosen_by": "PRETRAIN=runs/gpt1_pretrain_ctx256 TASK=rte HOLDOUT=500 GRID=\"187 373\" "
                               "LRS=\"6.25e-5 2.5e-4\" experiments/gpt1_transfer.sh, 2026-12-03: accuracy on 500 "
                               "held-out training pairs 54.6 % at lr 6.25e-5 and 187 updates (3 epochs) against "
                               "54.2 % at 373, and 54.0 % / 53.4 % at lr 2.5e-4 (all near chance)"},
    ),
    TaskSpec(
        "snli", "entailment", _NLI3, text_columns=("sentence1", "sentence2"), label_column="gold_label",
        uid_columns=(("pairID",), ("index",)), drop_labels=("-",),
        files=("snli_1.0_{split}.jsonl", "snli_1.0_{split}.txt", "{split}.jsonl", "{split}.tsv"),
        dir_names=("snli_1.0", "SNLI"), paper="GPT-1 Table 2: SNLI accuracy 89.9",
    ),
    TaskSpec(
        "scitail", "entailment", ("entailment", "neutral"), {"entails": 0, "neutral": 1},
        text_columns=("premise", "hypothesis"), headerless=("premise", "hypothesis", "label"),
        files=("scitail_1.0_{split}.tsv", "tsv_format/scitail_1.0_{split}.tsv"),
        dir_names=("SciTailV1.1", "SciTailV1", "SciTail"), paper="GPT-1 Table 2: SciTail accuracy 88.3",
    ),
    TaskSpec(
        "story_cloze", "multiple_choice", ("ending1", "ending2"), {"1": 0, "2": 1}, reader=_read_story_cloze,
        splits=("val", "test"), split_aliases={"dev": "val", "validation": "val"},
        files=("cloze_test_{split}__spring2016.csv",
               "cloze_test_{split}__spring2016 - cloze_test_ALL_{split}.csv", "{split}.csv"),
        dir_names=("story_cloze", "story_cloze_RESTRICTED", "ROCStories"),
        paper="GPT-1 Table 3: Story Cloze accuracy 86.5",
        finetune={"lr": 2.5e-4, "max_steps": 141, "clf_dropout": 0.1,
                  "chosen_by": "PRETRAIN=runs/gpt1_pretrain_ctx256_rep2_u4000 TASK=story_cloze HOLDOUT=371 "
                               "GRID=\"47 141\" LRS=\"6.25e-5 2.5e-4\" experiments/gpt1_transfer.sh, 2026-12-04: "
                               "accuracy on 371 held-out validation stories 68.5 % at lr 2.5e-4 and 141 updates "
                               "(3 epochs of the other 1,500) against 57.7 % at 47, and 60.6 % / 56.3 % at lr 6.25e-5"},
    ),
    *(
        TaskSpec(
            name, "multiple_choice", ("A", "B", "C", "D"), reader=_read_race_file, resolver=_resolve_race,
            dir_names=("RACE",), paper=f"GPT-1 Table 3: {label} accuracy {acc}",
        )
        for name, label, acc in
        (("race", "RACE", 59.0), ("race_middle", "RACE-m", 62.9), ("race_high", "RACE-h", 57.4))
    ),
)
# fmt: on

#: Canonical task name → :class:`TaskSpec`.
TASKS: dict[str, TaskSpec] = {spec.name: spec for spec in _SPECS}

_NAME_ALIASES = {"storycloze": "story_cloze", "rocstories": "story_cloze", "sct": "story_cloze",
                 "racem": "race_middle", "racemiddle": "race_middle", "raceh": "race_high",
                 "racehigh": "race_high", "multinli": "mnli", "stsbenchmark": "stsb"}  # fmt: skip


def canonical_task_name(name: str) -> str:
    """Registry key for ``name``, ignoring case and ``-``/``_``/spaces (``"SST-2"`` → ``"sst2"``,
    ``"RACE-m"`` → ``"race_middle"``, ``"StoryCloze"`` → ``"story_cloze"``)."""
    key = re.sub(r"[^a-z0-9]", "", name.lower())
    for canonical in TASKS:
        if re.sub(r"[^a-z0-9]", "", canonical) == key:
            return canonical
    if key in _NAME_ALIASES:
        return _NAME_ALIASES[key]
    raise KeyError(f"unknown task {name!r}; known tasks: {', '.join(TASKS)}")


def get_task(name: str) -> TaskSpec:
    """The :class:`TaskSpec` registered for ``name`` (see :func:`canonical_task_name`)."""
    return TASKS[canonical_task_name(name)]


def load_task(name: str, data_dir: str | Path, split: str, *, strict: bool = True) -> TaskData:
    """Read one split of a GPT-1 fine-tuning task.

    Args:
        name: task name (``"sst2"``, ``"SST-2"``, ``"mnli"``, ``"story_cloze"``, ``"race_high"``, ...).
        data_dir: the task folder (e.g. ``glue_data/SST-2``), its parent (``glue_data``), or one file.
        split: ``"train"``, ``"dev"``, ``"test"`` (GLUE tasks); MNLI ``"dev_matched"`` /
            ``"dev_mismatched"`` / ``"test_matched"`` / ``"test_mismatched"``; CoLA also
            ``"dev_in_domain"`` / ``"dev_out_of_domain"``; Story Cloze ``"val"`` / ``"test"``.
        strict: raise on malformed rows (default); ``False`` skips and counts them in ``skipped``.

    Raises:
        KeyError: unknown task. ValueError: unknown split. FileNotFoundError: no data file found.
        TaskDataError: malformed content (message starts with ``file:line:``).
    """
    spec = get_task(name)
    split = spec.canonical_split(split)
    path = Path(data_dir)
    if path.is_file():
        files = [path]
    elif path.is_dir():
        files = spec.find_files(path, split)
    else:
        raise FileNotFoundError(f"data_dir {str(path)!r} does not exist")
    examples: list[TaskExample] = []
    skipped = 0
    for f in files:
        ex, sk = spec.read(f, strict)
        examples.extend(ex)
        skipped += sk
    return TaskData(
        name=spec.name,
        kind=spec.kind,
        num_labels=spec.num_labels,
        examples=examples,
        split=split,
        label_names=spec.label_names,
        files=tuple(files),
        skipped=skipped,
    )


#: Fixed seed of :func:`carve_holdout`: every run, whatever its training seed, holds out the same examples.
HOLDOUT_SEED = 0x5E1EC7


def carve_holdout(data: TaskData, n: int) -> tuple[TaskData, TaskData]:
    """``(rest, holdout)``: ``n`` examples of ``data`` drawn with :data:`HOLDOUT_SEED` become a validation
    split (split name ``"holdout"``), the others stay for training, both in file order.  Settings are chosen
    on the holdout so that dev (or test) is reported once, for the chosen setting only.

    A phrase-level task (:attr:`TaskSpec.phrase_level`: SST-2's training split holds every phrase of the
    parse trees of its sentences) holds out ``n`` whole sentences instead, the examples that are no
    word-span of another, and drops from training every example that is a word-span of a held-out
    sentence.  A random draw of phrases would be a leaky holdout unlike dev: nine in ten of them occur inside
    a training example, against 2 of dev's 872 sentences."""
    if not 0 < n < len(data.examples):
        raise ValueError(f"holdout must be between 1 and {len(data.examples) - 1} examples, got {n}")
    rng = random.Random(HOLDOUT_SEED)
    if data.name in TASKS and TASKS[data.name].phrase_level:
        words = [" ".join(ex.texts).split() for ex in data.examples]
        inside = set().union(*(_word_spans(w, proper=True) for w in words))
        sentences = [i for i, w in enumerate(words) if " ".join(w) not in inside]
        if n >= len(sentences):
            raise ValueError(f"holdout must be fewer than the {len(sentences):,} whole sentences, got {n}")
        held = set(rng.sample(sentences, n))
        leaked = set().union(*(_word_spans(words[i]) for i in held))
        out = {i for i, w in enumerate(words) if " ".join(w) in leaked}  # held out, or a part of one
    else:
        held = out = set(rng.sample(range(len(data.examples)), n))
    rest = [ex for i, ex in enumerate(data.examples) if i not in out]
    kept = [ex for i, ex in enumerate(data.examples) if i in held]
    return dataclasses.replace(data, examples=rest), dataclasses.replace(data, examples=kept, split="holdout")


def _word_spans(words: list[str], proper: bool = False) -> set[str]:
    """Every contiguous run of ``words``, joined by spaces (``proper``: all but the whole)."""
    n = len(words)
    return {
        " ".join(words[i:j]) for i in range(n) for j in range(i + 1, n + 1) if not (proper and j - i == n)
    }
