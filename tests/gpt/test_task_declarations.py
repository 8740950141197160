"""Every declared GPT-1 task (§4.2) reads a small generated file of its declared layout, and a malformed
row gives the same clear error (file and 1-based line) in every reader, or is skipped when not strict."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ronbun.gpt.tasks import TASKS, TaskDataError, TaskExample, TaskSpec, load_task

GLUE_LAYOUT = sorted(name for name, spec in TASKS.items() if spec.reader is None)
ALL_SPLITS = [(name, split) for name, spec in TASKS.items() for split in spec.splits]


def _raw_labels(spec: TaskSpec) -> list[str]:
    """Three raw label values as the files store them (class labels cycle; STS-B scores)."""
    if spec.is_regression:
        return ["0.0", "2.5", "5.0"]
    raw = list(spec.label_map)
    return [raw[i % len(raw)] for i in range(3)]


def _expected_label(spec: TaskSpec, raw: str) -> int | float:
    return float(raw) if spec.is_regression else spec.label_map[raw]


def _text(column: str, i: int) -> str:
    return f'{column} {i}: a "quoted" word, kept as is '  # bare quotes and spaces survive


def write_glue_split(spec: TaskSpec, root: Path, split: str, *, labeled: bool = True) -> list[TaskExample]:
    """Write the first declared file candidate of ``split`` with three rows (and, for tasks that drop a
    label by convention, one dropped row); return the examples it must read as."""
    expected: list[TaskExample] = []
    for name in spec.candidates(split)[0]:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        rows: list[dict[str, str]] = []
        for i, raw in enumerate(_raw_labels(spec)):
            row = {c: _text(c, i) for c in spec.text_columns}
            uid = None
            if spec.headerless and labeled:  # fixed columns, no uid
                row[spec.label_column or ""] = raw
            else:
                row.update({c: f"{c[-2:]}{i}" for c in spec.uid_columns[0]})
                uid = "-".join(row[c] for c in spec.uid_columns[0])
                if labeled:
                    row[spec.label_column or ""] = raw
            rows.append(row)
            label = _expected_label(spec, raw) if labeled else None
            expected.append(TaskExample(tuple(row[c] for c in spec.text_columns), None, label, uid))
        for dropped in spec.drop_labels[:1] if labeled else ():
            rows.append({**rows[0], spec.label_column or "": dropped})
        if path.suffix == ".jsonl":
            path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
            continue
        if spec.headerless and labeled:
            columns, lines = list(spec.headerless), []
        elif spec.headerless:  # a GLUE test file of a headerless task: exactly ``index<TAB>texts``
            columns = ["index", *spec.text_columns]
            lines = ["\t".join(columns)]
        else:
            columns = [*spec.uid_columns[0], "extra", *spec.text_columns, *rows[0].keys()]
            columns = list(dict.fromkeys(columns))  # columns are found by name, in any order
            lines = ["\t".join(columns)]
        lines += ["\t".join(r.get(c, "x") for c in columns) for r in rows]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return expected


@pytest.mark.parametrize(("name", "split"), [(n, s) for n, s in ALL_SPLITS if n in GLUE_LAYOUT])
def test_every_glue_layout_declaration_reads_its_files(tmp_path: Path, name: str, split: str) -> None:
    spec = TASKS[name]
    expected = write_glue_split(spec, tmp_path, split)
    data = load_task(name, tmp_path, split)
    assert data.examples == expected
    assert (data.name, data.kind, data.num_labels, data.split) == (name, spec.kind, spec.num_labels, split)
    assert data.skipped == len(spec.drop_labels[:1])
    assert [f.relative_to(tmp_path).as_posix() for f in data.files] == list(spec.candidates(split)[0])
    for dir_name in spec.dir_names[:1]:  # the parent folder finds the task's own folder
        sub = tmp_path / "parent" / dir_name
        write_glue_split(spec, sub, split)
        assert load_task(name, tmp_path / "parent", split).examples == expected


def _test_split(spec: TaskSpec) -> str:
    return next(s for s in spec.splits if s.startswith("test"))


@pytest.mark.parametrize(
    "name",  # the JSON-lines releases (SNLI) have no unlabeled test file
    [n for n in GLUE_LAYOUT if not TASKS[n].candidates(_test_split(TASKS[n]))[0][0].endswith(".jsonl")],
)
def test_every_glue_layout_declaration_reads_unlabeled_test_files(tmp_path: Path, name: str) -> None:
    spec = TASKS[name]
    split = _test_split(spec)
    expected = write_glue_split(spec, tmp_path, split, labeled=False)
    data = load_task(name, tmp_path, split)
    assert data.examples == expected and not data.labeled


def _first_file(spec: TaskSpec, root: Path) -> Path:
    return root / spec.candidates(spec.splits[0])[0][0]


@pytest.mark.parametrize("name", GLUE_LAYOUT)
def test_malformed_row_names_file_and_line(tmp_path: Path, name: str) -> None:
    spec = TASKS[name]
    expected = write_glue_split(spec, tmp_path, spec.splits[0])
    path = _first_file(spec, tmp_path)
    text = path.read_text(encoding="utf-8")
    line = text.count("\n") + 1
    if path.suffix == ".jsonl":
        bad, message = "{not json", "invalid JSON"
    else:
        n = len(text.split("\n", 1)[0].split("\t"))
        bad, message = "\t".join(["x"] * (n - 1)), f"expected {n} tab-separated fields .* found {n - 1}"
    path.write_text(text + bad + "\n", encoding="utf-8")
    with pytest.raises(TaskDataError, match=rf"^{path}:{line}: {message}") as info:
        load_task(name, tmp_path, spec.splits[0])
    assert (info.value.path, info.value.line) == (path, line)
    lenient = load_task(name, tmp_path, spec.splits[0], strict=False)
    assert lenient.examples == expected and lenient.skipped == len(spec.drop_labels[:1]) + 1


@pytest.mark.parametrize("name", GLUE_LAYOUT)
def test_bad_label_names_file_and_line(tmp_path: Path, name: str) -> None:
    spec = TASKS[name]
    write_glue_split(spec, tmp_path, spec.splits[0])
    path = _first_file(spec, tmp_path)
    lines = path.read_text(encoding="utf-8").split("\n")
    bad_line = 1 if (spec.headerless or path.suffix == ".jsonl") else 2
    raw = _raw_labels(spec)[0]
    if path.suffix == ".jsonl":
        lines[bad_line - 1] = lines[bad_line - 1].replace(
            f'"{spec.label_column}": "{raw}"', f'"{spec.label_column}": "bogus"'
        )
    else:
        fields = lines[bad_line - 1].split("\t")
        label_at = (list(spec.headerless) if spec.headerless else lines[0].split("\t")).index(
            spec.label_column
        )
        fields[label_at] = "bogus"
        lines[bad_line - 1] = "\t".join(fields)
    path.write_text("\n".join(lines), encoding="utf-8")
    message = "label 'bogus' is not a number" if spec.is_regression else "unknown label 'bogus'"
    with pytest.raises(TaskDataError, match=rf"^{path}:{bad_line}: {message}"):
        load_task(name, tmp_path, spec.splits[0])
    assert load_task(name, tmp_path, spec.splits[0], strict=False).skipped == 1 + len(spec.drop_labels[:1])


# ----------------------------------------------------------------------------------------------------
# the two special formats share the error policy
# ----------------------------------------------------------------------------------------------------

STORY_COLUMNS = (
    "InputStoryid,InputSentence1,InputSentence2,InputSentence3,InputSentence4,"
    "RandomFifthSentenceQuiz1,RandomFifthSentenceQuiz2,AnswerRightEnding"
)


@pytest.mark.parametrize("split", TASKS["story_cloze"].splits)
def test_story_cloze_declaration_and_malformed_row(tmp_path: Path, split: str) -> None:
    path = tmp_path / f"cloze_test_{split}__spring2016.csv"
    rows = [f"s{i},A{i}.,B.,C.,D.,E1.,E2.,{1 + i % 2}" for i in range(3)]
    path.write_text("\n".join([STORY_COLUMNS, *rows]) + "\n", encoding="utf-8")
    data = load_task("story_cloze", tmp_path, split)
    assert [(e.texts, e.choices, e.label, e.uid) for e in data] == [
        ((f"A{i}. B. C. D.",), ("E1.", "E2."), i % 2, f"s{i}") for i in range(3)
    ]
    path.write_text("\n".join([STORY_COLUMNS, *rows, "s9,only,four,fields"]) + "\n", encoding="utf-8")
    with pytest.raises(TaskDataError, match=rf"^{path}:5: expected 8 comma-separated fields"):
        load_task("story_cloze", tmp_path, split)
    lenient = load_task("story_cloze", tmp_path, split, strict=False)
    assert (len(lenient), lenient.skipped) == (3, 1)


@pytest.mark.parametrize(("name", "split"), [(n, s) for n, s in ALL_SPLITS if n.startswith("race")])
def test_race_declarations_and_malformed_question(tmp_path: Path, name: str, split: str) -> None:
    for level, answer in (("middle", "A"), ("high", "D")):
        obj = {
            "article": level,
            "questions": ["q?", "r?"],
            "options": [list("abcd")] * 2,
            "answers": [answer, "Z"],
        }
        (tmp_path / "RACE" / split / level).mkdir(parents=True)
        (tmp_path / "RACE" / split / level / "1.txt").write_text(json.dumps(obj), encoding="utf-8")
    levels = {"race": ("middle", "high"), "race_middle": ("middle",), "race_high": ("high",)}[name]
    with pytest.raises(
        TaskDataError, match=rf"^{tmp_path / 'RACE' / split / levels[0] / '1.txt'}:1: question 2: unknown"
    ):
        load_task(name, tmp_path, split)
    data = load_task(name, tmp_path, split, strict=False)
    assert [(e.texts, e.label) for e in data] == [((lv, "q?"), 0 if lv == "middle" else 3) for lv in levels]
    assert data.skipped == len(levels)
