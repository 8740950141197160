"""Readers for the GPT-1 fine-tuning tasks (Radford et al., 2018, §4.2, Tables 2–4).

Every task is read into a list of :class:`TaskExample` (``texts``, ``choices``, ``label``) plus the
task's ``kind``, which decides the GPT-1 input transformation (§3.3, Figure 1; see
:mod:`ronbun.data.transforms`):

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
  drops malformed rows).
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
import io
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ronbun.data.errors import DataError

__all__ = [
    "KINDS",
    "TASKS",
    "TaskData",
    "TaskDataError",
    "TaskExample",
    "TaskKind",
    "TaskSpec",
    "canonical_task_name",
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


@dataclass(frozen=True)
class TaskSpec:
    """Static description of a task: kind, labels, splits and how to find/read its files."""

    name: str
    kind: str
    num_labels: int
    label_names: tuple[str, ...]
    label_map: Mapping[str, int]
    splits: tuple[str, ...]
    reader: Reader
    files: Mapping[str, tuple[tuple[str, ...], ...]] = field(default_factory=dict)
    dir_names: tuple[str, ...] = ()
    split_aliases: Mapping[str, str] = field(default_factory=dict)
    resolver: Resolver | None = None
    paper: str = ""
    #: TSV/jsonl column names: texts (in order), label (``None``: no label column), uid alternatives.
    text_columns: tuple[str, ...] = ()
    label_column: str | None = None
    uid_columns: tuple[tuple[str, ...], ...] = ()
    #: Raw label values whose rows are dropped by convention (SNLI/MNLI ``-``).
    drop_labels: tuple[str, ...] = ()
    #: For regression tasks: inclusive valid range of the target.
    label_range: tuple[float, float] | None = None

    @property
    def is_regression(self) -> bool:
        return self.num_labels == 1

    def canonical_split(self, split: str) -> str:
        s = self.split_aliases.get(split, split)
        if s not in self.splits:
            raise ValueError(f"task {self.name!r} has no split {split!r}; splits: {', '.join(self.splits)}")
        return s


# ----------------------------------------------------------------------------------------------------
# low-level reading
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


def _uid(row: Mapping[str, str], spec: TaskSpec) -> str | None:
    for cols in spec.uid_columns:
        if all(c in row for c in cols):
            return "-".join(row[c] for c in cols)
    return None


def _make_example(
    spec: TaskSpec, row: Mapping[str, str], path: Path, line: int, labeled: bool
) -> TaskExample | None:
    """Example from a name → value row; ``None`` if its label is in ``spec.drop_labels``."""
    texts = tuple(row[c] for c in spec.text_columns)
    label: int | float | None = None
    if labeled:
        raw = row[spec.label_column]  # type: ignore[index]
        if raw in spec.drop_labels:
            return None
        label = _parse_label(spec, raw, path, line)
    return TaskExample(texts=texts, label=label, uid=_uid(row, spec))


def _read_header_tsv(spec: TaskSpec, path: Path, strict: bool) -> tuple[list[TaskExample], int]:
    """GLUE-style TSV with a header row; columns located by name; label column optional (test)."""
    lines = _lines(path)
    try:
        header_line, header = next(lines)
    except StopIteration:
        raise TaskDataError("file is empty (expected a header row)", path, 1) from None
    names = header.split("\t")
    missing = [c for c in spec.text_columns if c not in names]
    if missing:
        raise TaskDataError(
            f"missing column(s) {', '.join(repr(m) for m in missing)} in header {names!r}", path, header_line
        )
    index = {n: names.index(n) for n in dict.fromkeys(names)}
    labeled = spec.label_column is not None and spec.label_column in index
    examples: list[TaskExample] = []
    skipped = 0
    for line_no, line in lines:
        fields = line.split("\t")
        try:
            if len(fields) != len(names):
                raise TaskDataError(
                    f"expected {len(names)} tab-separated fields (as in the header), found {len(fields)}",
                    path,
                    line_no,
                )
            row = {n: fields[i] for n, i in index.items()}
            ex = _make_example(spec, row, path, line_no, labeled)
        except TaskDataError:
            if strict:
                raise
            skipped += 1
            continue
        if ex is None:
            skipped += 1
        else:
            examples.append(ex)
    return examples, skipped


def _read_headerless_tsv(
    spec: TaskSpec, path: Path, strict: bool, columns: Sequence[str]
) -> tuple[list[TaskExample], int]:
    """TSV without a header whose columns are ``columns`` in order (CoLA public release, SciTail)."""
    examples: list[TaskExample] = []
    skipped = 0
    for line_no, line in _lines(path):
        fields = line.split("\t")
        try:
            if len(fields) != len(columns):
                raise TaskDataError(
                    f"expected {len(columns)} tab-separated fields ({', '.join(columns)}), found {len(fields)}",
                    path,
                    line_no,
                )
            ex = _make_example(spec, dict(zip(columns, fields, strict=True)), path, line_no, True)
        except TaskDataError:
            if strict:
                raise
            skipped += 1
            continue
        if ex is None:
            skipped += 1
        else:
            examples.append(ex)
    return examples, skipped


def _read_jsonl(spec: TaskSpec, path: Path, strict: bool) -> tuple[list[TaskExample], int]:
    """JSON-lines (SNLI / MultiNLI official releases): one object per line."""
    examples: list[TaskExample] = []
    skipped = 0
    for line_no, line in _lines(path):
        try:
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
            labeled = spec.label_column is not None and spec.label_column in row
            ex = _make_example(spec, row, path, line_no, labeled)
        except TaskDataError:
            if strict:
                raise
            skipped += 1
            continue
        if ex is None:
            skipped += 1
        else:
            examples.append(ex)
    return examples, skipped


def _read_tsv_or_jsonl(spec: TaskSpec, path: Path, strict: bool) -> tuple[list[TaskExample], int]:
    if path.suffix == ".jsonl":
        return _read_jsonl(spec, path, strict)
    return _read_header_tsv(spec, path, strict)


# ----------------------------------------------------------------------------------------------------
# task-specific readers
# ----------------------------------------------------------------------------------------------------

_COLA_COLUMNS = ("source", "label", "mark", "sentence")


def _read_cola(spec: TaskSpec, path: Path, strict: bool) -> tuple[list[TaskExample], int]:
    """CoLA: public release / GLUE train+dev (4 columns, no header) or GLUE test (``index, sentence``)."""
    first = next(_lines(path), (1, ""))[1]
    if first.split("\t") == ["index", "sentence"]:
        return _read_header_tsv(spec, path, strict)  # unlabeled GLUE test set
    return _read_headerless_tsv(spec, path, strict, _COLA_COLUMNS)


def _read_scitail(spec: TaskSpec, path: Path, strict: bool) -> tuple[list[TaskExample], int]:
    """SciTail ``tsv_format``: ``premise<TAB>hypothesis<TAB>label`` without header."""
    return _read_headerless_tsv(spec, path, strict, ("premise", "hypothesis", "label"))


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
    labeled = "AnswerRightEnding" in index
    examples: list[TaskExample] = []
    skipped = 0
    while True:
        line_no = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise TaskDataError(f"CSV error: {exc}", path, line_no) from None
        if not any(f.strip() for f in fields):
            continue
        try:
            if len(fields) != len(header):
                raise TaskDataError(
                    f"expected {len(header)} comma-separated fields (as in the header), found {len(fields)}",
                    path,
                    line_no,
                )
            label = None
            if labeled:
                label = _parse_label(spec, fields[index["AnswerRightEnding"]].strip(), path, line_no)
        except TaskDataError:
            if strict:
                raise
            skipped += 1
            continue
        context = " ".join(fields[index[c]] for c in _STORY_COLUMNS)
        choices = tuple(fields[index[c]] for c in _ENDING_COLUMNS)
        uid = fields[index["InputStoryid"]] if "InputStoryid" in index else None
        examples.append(TaskExample(texts=(context,), choices=choices, label=label, uid=uid))
    return examples, skipped


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
    examples: list[TaskExample] = []
    skipped = 0
    for q, (question, opts) in enumerate(zip(questions, options, strict=True)):
        try:
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
                raw = answers[q]
                if raw not in spec.label_map:
                    raise TaskDataError(
                        f"question {q + 1}: unknown answer {raw!r} (expected one of A, B, C, D)", path, 1
                    )
                label = spec.label_map[raw]
        except TaskDataError:
            if strict:
                raise
            skipped += 1
            continue
        examples.append(
            TaskExample(texts=(article, question), choices=tuple(opts), label=label, uid=f"{base_id}-{q}")
        )
    return examples, skipped


def _natural_key(path: Path) -> tuple[object, ...]:
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", str(path)))


def _race_levels(spec: TaskSpec) -> tuple[str, ...]:
    return {"race_middle": ("middle",), "race_high": ("high",)}.get(spec.name, ("middle", "high"))


def _resolve_race(spec: TaskSpec, data_dir: Path, split: str) -> list[Path]:
    if any(data_dir.glob("*.txt")):  # a folder of RACE files, e.g. RACE/test/high
        return sorted(data_dir.glob("*.txt"), key=_natural_key)
    tried = []
    for base in (data_dir, data_dir / "RACE"):
        dirs = [base / split / level for level in _race_levels(spec)]
        tried.extend(dirs)
        if all(d.is_dir() for d in dirs):
            files = [f for d in dirs for f in sorted(d.glob("*.txt"), key=_natural_key)]
            if not files:
                raise TaskDataError(f"no RACE *.txt files in {', '.join(map(str, dirs))}")
            return files
    raise FileNotFoundError(
        f"task {spec.name!r}, split {split!r}: none of these folders exist: {', '.join(map(str, tried))}"
    )


def _resolve_files(spec: TaskSpec, data_dir: Path, split: str) -> list[Path]:
    """First candidate (a tuple of files read in order) that exists, under ``data_dir`` or a
    ``data_dir/<dir_name>`` subfolder."""
    tried: list[str] = []
    for base in (data_dir, *(data_dir / d for d in spec.dir_names)):
        for candidate in spec.files[split]:
            paths = [base / p for p in candidate]
            if all(p.is_file() for p in paths):
                return paths
            tried.append(" + ".join(str(p) for p in paths))
    raise FileNotFoundError(
        f"task {spec.name!r}, split {split!r}: no data file found; tried: " + "; ".join(tried)
    )


# ----------------------------------------------------------------------------------------------------
# registry
# ----------------------------------------------------------------------------------------------------


def _glue_files(*splits: str) -> dict[str, tuple[tuple[str, ...], ...]]:
    return {s: ((f"{s}.tsv",),) for s in splits}


_BINARY = {"0": 0, "1": 1}
_ENTAIL2 = {"entailment": 0, "not_entailment": 1}
_NLI3 = {"entailment": 0, "neutral": 1, "contradiction": 2}
_GLUE_SPLITS = ("train", "dev", "test")
_GLUE_ALIASES = {"validation": "dev", "val": "dev"}


def _glue_tsv(**fields: Any) -> TaskSpec:
    """A GLUE task in ``glue_data/``'s layout: ``{train,dev,test}.tsv`` with a header row, ids in ``index``."""
    defaults: dict[str, Any] = {
        "splits": _GLUE_SPLITS,
        "split_aliases": _GLUE_ALIASES,
        "reader": _read_header_tsv,
        "files": _glue_files(*_GLUE_SPLITS),
        "uid_columns": (("index",),),
    }
    return TaskSpec(**{**defaults, **fields})


def _specs() -> list[TaskSpec]:
    return [
        TaskSpec(
            name="cola",
            kind="classification",
            num_labels=2,
            label_names=("unacceptable", "acceptable"),
            label_map=_BINARY,
            splits=("train", "dev", "dev_in_domain", "dev_out_of_domain", "test"),
            split_aliases=_GLUE_ALIASES,
            reader=_read_cola,
            files={
                "train": (("train.tsv",), ("raw/in_domain_train.tsv",), ("in_domain_train.tsv",)),
                "dev": (
                    ("dev.tsv",),
                    ("raw/in_domain_dev.tsv", "raw/out_of_domain_dev.tsv"),
                    ("in_domain_dev.tsv", "out_of_domain_dev.tsv"),
                ),
                "dev_in_domain": (("raw/in_domain_dev.tsv",), ("in_domain_dev.tsv",)),
                "dev_out_of_domain": (("raw/out_of_domain_dev.tsv",), ("out_of_domain_dev.tsv",)),
                "test": (("test.tsv",),),
            },
            dir_names=("CoLA", "cola_public"),
            text_columns=("sentence",),
            label_column="label",
            uid_columns=(("index",),),
            paper="GPT-1 Table 4: CoLA mc (Matthews correlation) 45.4",
        ),
        _glue_tsv(
            name="sst2",
            kind="classification",
            num_labels=2,
            label_names=("negative", "positive"),
            label_map=_BINARY,
            dir_names=("SST-2", "SST2"),
            text_columns=("sentence",),
            label_column="label",
            paper="GPT-1 Table 4: SST-2 accuracy 91.3",
        ),
        _glue_tsv(
            name="mrpc",
            kind="similarity",
            num_labels=2,
            label_names=("not_paraphrase", "paraphrase"),
            label_map=_BINARY,
            dir_names=("MRPC",),
            text_columns=("#1 String", "#2 String"),
            label_column="Quality",
            uid_columns=(("index",), ("#1 ID", "#2 ID")),
            paper="GPT-1 Table 4: MRPC F1 82.3",
        ),
        _glue_tsv(
            name="stsb",
            kind="similarity",
            num_labels=1,
            label_names=(),
            label_map={},
            dir_names=("STS-B", "STSB"),
            text_columns=("sentence1", "sentence2"),
            label_column="score",
            label_range=(0.0, 5.0),
            paper="GPT-1 Table 4: STS-B Pearson correlation 82.0",
        ),
        _glue_tsv(
            name="qqp",
            kind="similarity",
            num_labels=2,
            label_names=("not_duplicate", "duplicate"),
            label_map=_BINARY,
            dir_names=("QQP",),
            text_columns=("question1", "question2"),
            label_column="is_duplicate",
            uid_columns=(("id",),),
            paper="GPT-1 Table 4: QQP F1 70.3",
        ),
        TaskSpec(
            name="mnli",
            kind="entailment",
            num_labels=3,
            label_names=("entailment", "neutral", "contradiction"),
            label_map=_NLI3,
            splits=("train", "dev_matched", "dev_mismatched", "test_matched", "test_mismatched"),
            split_aliases={
                "dev_m": "dev_matched",
                "dev_mm": "dev_mismatched",
                "test_m": "test_matched",
                "test_mm": "test_mismatched",
                "validation_matched": "dev_matched",
                "validation_mismatched": "dev_mismatched",
            },
            reader=_read_tsv_or_jsonl,
            files={
                s: ((f"{s}.tsv",), (f"multinli_1.0_{s}.jsonl",))
                for s in ("train", "dev_matched", "dev_mismatched", "test_matched", "test_mismatched")
            },
            dir_names=("MNLI", "multinli_1.0"),
            text_columns=("sentence1", "sentence2"),
            label_column="gold_label",
            uid_columns=(("index",), ("pairID",)),
            drop_labels=("-",),
            paper="GPT-1 Table 2: MNLI-m 82.1 / MNLI-mm 81.4 accuracy",
        ),
        _glue_tsv(
            name="qnli",
            kind="entailment",
            num_labels=2,
            label_names=("entailment", "not_entailment"),
            label_map=_ENTAIL2,
            dir_names=("QNLI", "QNLIv2"),
            text_columns=("question", "sentence"),
            label_column="label",
            paper="GPT-1 Table 2: QNLI accuracy 88.1",
        ),
        _glue_tsv(
            name="rte",
            kind="entailment",
            num_labels=2,
            label_names=("entailment", "not_entailment"),
            label_map=_ENTAIL2,
            dir_names=("RTE",),
            text_columns=("sentence1", "sentence2"),
            label_column="label",
            paper="GPT-1 Table 2: RTE accuracy 56.0",
        ),
        TaskSpec(
            name="snli",
            kind="entailment",
            num_labels=3,
            label_names=("entailment", "neutral", "contradiction"),
            label_map=_NLI3,
            splits=_GLUE_SPLITS,
            split_aliases=_GLUE_ALIASES,
            reader=_read_tsv_or_jsonl,
            files={
                s: ((f"snli_1.0_{s}.jsonl",), (f"snli_1.0_{s}.txt",), (f"{s}.jsonl",), (f"{s}.tsv",))
                for s in _GLUE_SPLITS
            },
            dir_names=("snli_1.0", "SNLI"),
            text_columns=("sentence1", "sentence2"),
            label_column="gold_label",
            uid_columns=(("pairID",), ("index",)),
            drop_labels=("-",),
            paper="GPT-1 Table 2: SNLI accuracy 89.9",
        ),
        TaskSpec(
            name="scitail",
            kind="entailment",
            num_labels=2,
            label_names=("entailment", "neutral"),
            label_map={"entails": 0, "neutral": 1},
            splits=_GLUE_SPLITS,
            split_aliases=_GLUE_ALIASES,
            reader=_read_scitail,
            files={
                s: ((f"scitail_1.0_{s}.tsv",), (f"tsv_format/scitail_1.0_{s}.tsv",)) for s in _GLUE_SPLITS
            },
            dir_names=("SciTailV1.1", "SciTailV1", "SciTail"),
            text_columns=("premise", "hypothesis"),
            label_column="label",
            paper="GPT-1 Table 2: SciTail accuracy 88.3",
        ),
        TaskSpec(
            name="story_cloze",
            kind="multiple_choice",
            num_labels=2,
            label_names=("ending1", "ending2"),
            label_map={"1": 0, "2": 1},
            splits=("val", "test"),
            split_aliases={"dev": "val", "validation": "val"},
            reader=_read_story_cloze,
            files={
                s: (
                    (f"cloze_test_{s}__spring2016.csv",),
                    (f"cloze_test_{s}__spring2016 - cloze_test_ALL_{s}.csv",),
                    (f"{s}.csv",),
                )
                for s in ("val", "test")
            },
            dir_names=("story_cloze", "story_cloze_RESTRICTED", "ROCStories"),
            paper="GPT-1 Table 3: Story Cloze accuracy 86.5",
        ),
        *(
            TaskSpec(
                name=name,
                kind="multiple_choice",
                num_labels=4,
                label_names=("A", "B", "C", "D"),
                label_map={"A": 0, "B": 1, "C": 2, "D": 3},
                splits=_GLUE_SPLITS,
                split_aliases=_GLUE_ALIASES,
                reader=_read_race_file,
                resolver=_resolve_race,
                dir_names=("RACE",),
                paper=f"GPT-1 Table 3: {label} accuracy {acc}",
            )
            for name, label, acc in (
                ("race", "RACE", 59.0),
                ("race_middle", "RACE-m", 62.9),
                ("race_high", "RACE-h", 57.4),
            )
        ),
    ]


#: Canonical task name → :class:`TaskSpec`.
TASKS: dict[str, TaskSpec] = {spec.name: spec for spec in _specs()}

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
        files = (spec.resolver or _resolve_files)(spec, path, split)
    else:
        raise FileNotFoundError(f"data_dir {str(path)!r} does not exist")
    examples: list[TaskExample] = []
    skipped = 0
    for f in files:
        ex, sk = spec.reader(spec, f, strict)
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
