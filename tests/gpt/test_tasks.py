"""Task readers for GPT-1 fine-tuning (§4.2): exact formats, labels, errors with file and line."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from ronbun.data.errors import DataError
from ronbun.gpt.tasks import (
    KINDS,
    TASKS,
    TaskData,
    TaskDataError,
    TaskExample,
    canonical_task_name,
    get_task,
    load_task,
)


def write(path: Path, text: str, *, bom: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


# ----------------------------------------------------------------------------------------------------
# registry
# ----------------------------------------------------------------------------------------------------


def test_registry_kinds_and_labels() -> None:
    expected = {
        "cola": ("classification", 2),
        "sst2": ("classification", 2),
        "mrpc": ("similarity", 2),
        "stsb": ("similarity", 1),
        "qqp": ("similarity", 2),
        "mnli": ("entailment", 3),
        "qnli": ("entailment", 2),
        "rte": ("entailment", 2),
        "snli": ("entailment", 3),
        "story_cloze": ("multiple_choice", 2),
        "race": ("multiple_choice", 4),
    }
    for name, (kind, n) in expected.items():
        assert (TASKS[name].kind, TASKS[name].num_labels) == (kind, n), name
    for spec in TASKS.values():
        assert spec.kind in KINDS
        if spec.num_labels == 1:
            assert spec.label_names == ()
        else:
            assert len(spec.label_names) == spec.num_labels
            assert sorted(spec.label_map.values()) == list(range(spec.num_labels))


def test_names_are_normalised() -> None:
    assert canonical_task_name("SST-2") == "sst2"
    assert canonical_task_name("STS-B") == "stsb"
    assert canonical_task_name("StoryCloze") == "story_cloze"
    assert canonical_task_name("RACE-m") == "race_middle"
    assert canonical_task_name("race_h") == "race_high"
    assert get_task("CoLA").name == "cola"
    with pytest.raises(KeyError, match="unknown task"):
        get_task("squad")


# ----------------------------------------------------------------------------------------------------
# GLUE TSVs (synthetic files in the exact GLUE formats)
# ----------------------------------------------------------------------------------------------------


def test_sst2_train_and_unlabeled_test(tmp_path: Path) -> None:
    d = tmp_path / "SST-2"
    write(d / "train.tsv", 'sentence\tlabel\nhide new secretions " quoted \t0\na patient viewer \t1\n')
    write(d / "test.tsv", "index\tsentence\n0\tuneasy mishmash .\n1\tdazzling .\n")
    train = load_task("SST-2", tmp_path, "train")  # parent folder works
    assert isinstance(train, TaskData)
    assert (train.name, train.kind, train.num_labels, train.split) == ("sst2", "classification", 2, "train")
    assert train.examples == [
        TaskExample(texts=('hide new secretions " quoted ',), label=0),  # no quote processing, no strip
        TaskExample(texts=("a patient viewer ",), label=1),
    ]
    assert train.labeled and train.label_names == ("negative", "positive")
    test = load_task("sst2", d, "test")  # task folder works too
    assert [e.label for e in test] == [None, None]
    assert [e.uid for e in test] == ["0", "1"]
    assert not test.labeled
    assert load_task("sst2", d / "test.tsv", "test").examples == test.examples  # a single file


def test_cola_public_release_layout(tmp_path: Path) -> None:
    d = tmp_path / "CoLA"
    write(d / "raw" / "in_domain_train.tsv", "gj04\t1\t\tOur friends won't buy this.\ngj04\t0\t*\tBad one.\n")
    write(d / "raw" / "in_domain_dev.tsv", "bc01\t1\t\tIn-domain dev.\n")
    write(d / "raw" / "out_of_domain_dev.tsv", "clc95\t0\t*\tOut-of-domain dev.")  # no final newline
    train = load_task("cola", tmp_path, "train")
    assert [(e.texts, e.label) for e in train] == [(("Our friends won't buy this.",), 1), (("Bad one.",), 0)]
    dev = load_task("cola", d, "dev")
    assert [e.texts[0] for e in dev] == ["In-domain dev.", "Out-of-domain dev."]  # GLUE dev = in + out
    assert len(dev.files) == 2
    assert [e.texts[0] for e in load_task("cola", d, "dev_out_of_domain")] == ["Out-of-domain dev."]
    with pytest.raises(FileNotFoundError, match="test"):
        load_task("cola", d, "test")  # the public release has no test set


def test_cola_glue_layout_and_test(tmp_path: Path) -> None:
    d = tmp_path / "CoLA"
    write(d / "dev.tsv", "gj04\t1\t\tA.\nclc95\t0\t*\tB.\n")
    write(d / "test.tsv", "index\tsentence\n0\tBill whistled past the house.\n")
    assert [e.label for e in load_task("cola", d, "dev")] == [1, 0]
    test = load_task("cola", d, "test")
    assert test.examples == [TaskExample(texts=("Bill whistled past the house.",), label=None, uid="0")]


def test_mrpc_with_utf8_bom(tmp_path: Path) -> None:
    header = "Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n"
    write(
        tmp_path / "MRPC" / "train.tsv",
        header + "1\t702876\t702977\tAmrozi accused .\tReferring .\n",
        bom=True,
    )
    data = load_task("mrpc", tmp_path, "train")
    assert data.kind == "similarity"
    assert data.examples == [
        TaskExample(texts=("Amrozi accused .", "Referring ."), label=1, uid="702876-702977")
    ]


def test_stsb_regression_labels(tmp_path: Path) -> None:
    header = "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n"
    row = "0\tmain-captions\tMSRvid\t2012test\t0001\tnone\tnone\tA plane is taking off.\tAn air plane is taking off.\t5.000\n"
    row2 = "1\tmain-captions\tMSRvid\t2012test\t0004\tnone\tnone\tA man plays.\tA man sings.\t0.600\n"
    write(tmp_path / "STS-B" / "train.tsv", header + row + row2)
    data = load_task("sts-b", tmp_path, "train")
    assert data.num_labels == 1 and data.label_names == ()
    assert [e.label for e in data] == [5.0, 0.6]
    assert isinstance(data[0].label, float)
    assert data[1].texts == ("A man plays.", "A man sings.")
    write(tmp_path / "bad.tsv", header + row.replace("5.000", "7.5"))
    with pytest.raises(TaskDataError, match=r"bad\.tsv:2: label 7\.5 outside"):
        load_task("stsb", tmp_path / "bad.tsv", "train")
    write(tmp_path / "bad2.tsv", header + row.replace("5.000", "five"))
    with pytest.raises(TaskDataError, match=r"bad2\.tsv:2: label 'five' is not a number"):
        load_task("stsb", tmp_path / "bad2.tsv", "train")


def test_rte_qnli_qqp(tmp_path: Path) -> None:
    write(
        tmp_path / "RTE" / "dev.tsv",
        "index\tsentence1\tsentence2\tlabel\n0\tP one.\tH one.\tnot_entailment\n1\tP two.\tH two.\tentailment\n",
    )
    rte = load_task("rte", tmp_path, "dev")
    assert rte.kind == "entailment"
    assert [(e.texts, e.label) for e in rte] == [(("P one.", "H one."), 1), (("P two.", "H two."), 0)]
    assert load_task("rte", tmp_path, "validation").split == "dev"  # alias
    write(tmp_path / "QNLI" / "train.tsv", "index\tquestion\tsentence\tlabel\n0\tWhat?\tThis.\tentailment\n")
    qnli = load_task("qnli", tmp_path, "train")
    assert qnli.examples == [TaskExample(texts=("What?", "This."), label=0, uid="0")]
    write(
        tmp_path / "QQP" / "dev.tsv",
        "id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n7\t1\t2\tHow?\tHow so?\t1\n",
    )
    write(tmp_path / "QQP" / "test.tsv", "id\tquestion1\tquestion2\n0\tWhy?\tWhy not?\n")
    assert load_task("qqp", tmp_path, "dev").examples == [TaskExample(("How?", "How so?"), None, 1, "7")]
    assert load_task("qqp", tmp_path, "test").examples == [TaskExample(("Why?", "Why not?"), None, None, "0")]


def test_mnli_matched_mismatched_and_dash_labels(tmp_path: Path) -> None:
    cols = ["index", "promptID", "pairID", "genre", "sentence1_binary_parse", "sentence2_binary_parse",
            "sentence1_parse", "sentence2_parse", "sentence1", "sentence2",
            "label1", "label2", "label3", "label4", "label5", "gold_label"]  # fmt: skip

    def row(i: int, gold: str) -> str:
        return "\t".join(
            [str(i), "1", f"{i}e", "fiction", "(", "(", "(", "(", f"P{i}", f"H{i}", *[gold] * 5, gold]
        )

    text = (
        "\t".join(cols) + "\n" + "\n".join([row(0, "neutral"), row(1, "-"), row(2, "contradiction")]) + "\n"
    )
    write(tmp_path / "MNLI" / "dev_matched.tsv", text)
    write(tmp_path / "MNLI" / "dev_mismatched.tsv", "\t".join(cols) + "\n" + row(5, "entailment") + "\n")
    m = load_task("mnli", tmp_path, "dev_matched")
    assert [(e.texts, e.label) for e in m] == [(("P0", "H0"), 1), (("P2", "H2"), 2)]
    assert m.skipped == 1  # the "-" (no consensus) pair is dropped by convention
    mm = load_task("mnli", tmp_path, "dev_mm")
    assert mm.split == "dev_mismatched" and mm[0].label == 0
    with pytest.raises(ValueError, match="no split 'dev'"):
        load_task("mnli", tmp_path, "dev")


def test_snli_jsonl_and_txt(tmp_path: Path) -> None:
    d = tmp_path / "snli_1.0"
    lines = [
        {"gold_label": "entailment", "sentence1": "A man.", "sentence2": "A person.", "pairID": "p1"},
        {"gold_label": "-", "sentence1": "X.", "sentence2": "Y.", "pairID": "p2"},
        {"gold_label": "contradiction", "sentence1": "A dog.", "sentence2": "A cat.", "pairID": "p3"},
    ]
    write(d / "snli_1.0_dev.jsonl", "\n".join(json.dumps(x) for x in lines) + "\n")
    dev = load_task("snli", tmp_path, "dev")
    assert [(e.texts, e.label, e.uid) for e in dev] == [
        (("A man.", "A person."), 0, "p1"),
        (("A dog.", "A cat."), 2, "p3"),
    ]
    assert dev.skipped == 1
    header = "gold_label\tsentence1_binary_parse\tsentence2_binary_parse\tsentence1_parse\tsentence2_parse\t"
    header += "sentence1\tsentence2\tcaptionID\tpairID\tlabel1\tlabel2\tlabel3\tlabel4\tlabel5\n"
    row = "neutral\t(\t(\t(\t(\tA kid.\tA happy kid.\tc1\tp9\tneutral\tneutral\t\t\t\n"
    write(d / "snli_1.0_test.txt", header + row)
    assert load_task("snli", d, "test").examples == [TaskExample(("A kid.", "A happy kid."), None, 1, "p9")]
    write(tmp_path / "bad.jsonl", '{"gold_label": "entailment", "sentence1": "A."}\n')
    with pytest.raises(TaskDataError, match=r"bad\.jsonl:1: missing or non-string field"):
        load_task("snli", tmp_path / "bad.jsonl", "dev")


def test_scitail_headerless(tmp_path: Path) -> None:
    write(tmp_path / "SciTailV1.1" / "tsv_format" / "scitail_1.0_dev.tsv", "Premise.\tHypothesis.\tentails\n")
    assert load_task("scitail", tmp_path, "dev").examples == [
        TaskExample(("Premise.", "Hypothesis."), None, 0)
    ]


# ----------------------------------------------------------------------------------------------------
# errors: file name and line number
# ----------------------------------------------------------------------------------------------------


def test_missing_column_in_header(tmp_path: Path) -> None:
    f = write(tmp_path / "RTE" / "train.tsv", "index\tsentence1\tlabel\n0\tP.\tentailment\n")
    with pytest.raises(TaskDataError, match=r"train\.tsv:1: missing column\(s\) 'sentence2'") as info:
        load_task("rte", tmp_path, "train")
    assert info.value.path == f and info.value.line == 1
    assert isinstance(info.value, ValueError) and isinstance(info.value, DataError)


def test_wrong_number_of_fields_and_unknown_label(tmp_path: Path) -> None:
    text = "index\tsentence1\tsentence2\tlabel\n0\tP.\tH.\tentailment\n1\tP.\tH\twith tab.\tentailment\n"
    write(tmp_path / "RTE" / "train.tsv", text)
    with pytest.raises(TaskDataError, match=r"train\.tsv:3: expected 4 tab-separated fields .* found 5"):
        load_task("rte", tmp_path, "train")
    lenient = load_task("rte", tmp_path, "train", strict=False)
    assert len(lenient) == 1 and lenient.skipped == 1

    write(tmp_path / "RTE" / "dev.tsv", "index\tsentence1\tsentence2\tlabel\n\n0\tP.\tH.\tentails\n")
    with pytest.raises(TaskDataError, match=r"dev\.tsv:3: unknown label 'entails'") as info:
        load_task("rte", tmp_path, "dev")
    assert info.value.line == 3  # blank line 2 skipped but counted
    assert load_task("rte", tmp_path, "dev", strict=False).skipped == 1


def test_cola_bad_rows(tmp_path: Path) -> None:
    write(tmp_path / "train.tsv", "gj04\t1\t\tFine.\ngj04\t2\t\tBad label.\n")
    with pytest.raises(TaskDataError, match=r"train\.tsv:2: unknown label '2'"):
        load_task("cola", tmp_path, "train")
    write(tmp_path / "dev.tsv", "gj04\t1\tFine, but only three columns.\n")
    with pytest.raises(TaskDataError, match=r"dev\.tsv:1: expected 4 tab-separated fields"):
        load_task("cola", tmp_path, "dev")


def test_invalid_utf8_reports_line(tmp_path: Path) -> None:
    f = tmp_path / "SST-2" / "train.tsv"
    f.parent.mkdir()
    f.write_bytes(b"sentence\tlabel\ngood\t1\nbad \xff byte\t0\n")
    with pytest.raises(TaskDataError, match=r"train\.tsv:3: not valid UTF-8"):
        load_task("sst2", tmp_path, "train")


def test_missing_files_and_bad_split(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no data file found"):
        load_task("sst2", tmp_path, "train")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_task("sst2", tmp_path / "nope", "train")
    with pytest.raises(ValueError, match="no split 'valid'"):
        load_task("sst2", tmp_path, "valid")


# ----------------------------------------------------------------------------------------------------
# multiple choice: Story Cloze CSV, RACE JSON
# ----------------------------------------------------------------------------------------------------

STORY_HEADER = (
    "InputStoryid,InputSentence1,InputSentence2,InputSentence3,InputSentence4,"
    "RandomFifthSentenceQuiz1,RandomFifthSentenceQuiz2,AnswerRightEnding\n"
)


def test_story_cloze_csv(tmp_path: Path) -> None:
    rows = (
        'id1,Rick grew up.,"He never found support, and turned to gangs.",He got shot.,'
        "He turned a new leaf.,He is happy now.,He joined a gang.,1\n"
        'id2,A.,B.,C.,D.,"Ending, one.","Ending ""two"".",2\n'
    )
    write(tmp_path / "cloze_test_val__spring2016.csv", STORY_HEADER + rows)
    data = load_task("story_cloze", tmp_path, "dev")  # alias of "val"
    assert (data.kind, data.num_labels, data.split) == ("multiple_choice", 2, "val")
    first = data[0]
    assert first.texts == (
        "Rick grew up. He never found support, and turned to gangs. He got shot. He turned a new leaf.",
    )
    assert first.choices == ("He is happy now.", "He joined a gang.")
    assert (first.label, first.uid) == (0, "id1")
    assert data[1].choices == ("Ending, one.", 'Ending "two".')
    assert data[1].label == 1


def test_story_cloze_unlabeled_and_bad_label(tmp_path: Path) -> None:
    header = STORY_HEADER.replace(",AnswerRightEnding", "")
    write(tmp_path / "cloze_test_test__spring2016.csv", header + "id,A.,B.,C.,D.,E1.,E2.\n")
    assert load_task("storycloze", tmp_path, "test")[0].label is None
    write(
        tmp_path / "bad.csv",
        STORY_HEADER + "id,A.,B.,C.,D.,E1.,E2.,1\n" + 'id,"A\nmultiline",B.,C.,D.,E,F,3\n',
    )
    with pytest.raises(TaskDataError, match=r"bad\.csv:3: unknown label '3'"):
        load_task("story_cloze", tmp_path / "bad.csv", "val")
    write(tmp_path / "short.csv", STORY_HEADER + "id,A.,B.,C.,D.,E1.\n")
    with pytest.raises(TaskDataError, match=r"short\.csv:2: expected 8 comma-separated fields"):
        load_task("story_cloze", tmp_path / "short.csv", "val")
    write(tmp_path / "wrong.csv", "storyid,storytitle,sentence1\n")
    with pytest.raises(TaskDataError, match=r"wrong\.csv:1: missing column"):
        load_task("story_cloze", tmp_path / "wrong.csv", "val")


def race_file(path: Path, answers: list[str] | None = None, n_options: int = 4) -> Path:
    obj: dict[str, object] = {
        "article": "Tom likes apples. He eats one every day.",
        "questions": ["What does Tom like?", "Tom eats an apple _ ."],
        "options": [["pears", "apples", "plums", "figs"][:n_options], ["daily", "weekly", "never", "once"]],
        "id": path.name,
    }
    if answers is not None:
        obj["answers"] = answers
    return write(path, json.dumps(obj))


def test_race_levels_and_examples(tmp_path: Path) -> None:
    race_file(tmp_path / "RACE" / "dev" / "middle" / "2.txt", ["B", "A"])
    race_file(tmp_path / "RACE" / "dev" / "middle" / "10.txt", ["B", "A"])
    race_file(tmp_path / "RACE" / "dev" / "high" / "1.txt", ["B", "D"])
    both = load_task("race", tmp_path, "dev")
    assert len(both) == 6
    assert [f.name for f in both.files] == ["2.txt", "10.txt", "1.txt"]  # natural order, middle first
    ex = both[0]
    assert ex.texts == ("Tom likes apples. He eats one every day.", "What does Tom like?")
    assert ex.choices == ("pears", "apples", "plums", "figs")
    assert (ex.label, ex.uid) == (1, "2.txt-0")
    high = load_task("RACE-h", tmp_path, "dev")
    assert [e.label for e in high] == [1, 3]
    assert len(load_task("race_middle", tmp_path / "RACE", "dev")) == 4
    single = load_task("race", tmp_path / "RACE" / "dev" / "high", "dev")  # a folder of files
    assert len(single) == 2


def test_race_errors(tmp_path: Path) -> None:
    f = race_file(tmp_path / "a.txt", ["B", "E"])
    with pytest.raises(TaskDataError, match=r"a\.txt:1: question 2: unknown answer 'E'"):
        load_task("race", f, "test")
    assert len(load_task("race", f, "test", strict=False)) == 1
    g = race_file(tmp_path / "b.txt", ["B", "A"], n_options=3)
    with pytest.raises(TaskDataError, match="question 1: expected 4 string options"):
        load_task("race", g, "test")
    h = write(tmp_path / "c.txt", "{not json")
    with pytest.raises(TaskDataError, match=r"c\.txt:1: invalid JSON"):
        load_task("race", h, "test")
    u = race_file(tmp_path / "u.txt", None)
    assert [e.label for e in load_task("race", u, "test")] == [None, None]


# ----------------------------------------------------------------------------------------------------
# the real files in shared/data (skipped when absent)
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("task", "split", "size", "labels"),
    [
        ("cola", "train", 8551, {1: 6023, 0: 2528}),
        ("cola", "dev", 1043, {1: 719, 0: 324}),
        ("cola", "dev_in_domain", 527, None),
        ("cola", "dev_out_of_domain", 516, None),
        ("sst2", "train", 67349, {1: 37569, 0: 29780}),
        ("sst2", "dev", 872, {1: 444, 0: 428}),
        ("sst2", "test", 1821, {None: 1821}),
        ("mrpc", "train", 3668, {1: 2474, 0: 1194}),
        ("mrpc", "dev", 408, {1: 279, 0: 129}),
        ("mrpc", "test", 1725, None),
        ("rte", "train", 2490, {0: 1249, 1: 1241}),
        ("rte", "dev", 277, {0: 146, 1: 131}),
        ("rte", "test", 3000, {None: 3000}),
    ],
)
def test_real_glue_files(shared_data: Path, task: str, split: str, size: int, labels: dict | None) -> None:
    data = load_task(task, shared_data / "glue", split)
    assert len(data) == size
    assert data.skipped == 0
    if labels is not None:
        assert Counter(e.label for e in data) == labels
    assert all(isinstance(t, str) and t for e in data for t in e.texts)


def test_real_mrpc_bom_is_not_in_header(shared_data: Path) -> None:
    data = load_task("mrpc", shared_data / "glue" / "MRPC", "dev")
    assert data[0].texts[0].startswith("He said the foodservice pie business")


@pytest.mark.parametrize(("split", "counts"), [("val", {0: 962, 1: 909}), ("test", {0: 960, 1: 911})])
def test_real_story_cloze(shared_data: Path, split: str, counts: dict[int, int]) -> None:
    data = load_task("story_cloze", shared_data / "story_cloze_RESTRICTED", split)
    assert len(data) == 1871
    assert Counter(e.label for e in data) == counts
    assert all(len(e.choices or ()) == 2 and len(e.texts) == 1 for e in data)


def test_every_setting_a_declaration_records_was_chosen_on_a_holdout_and_says_how() -> None:
    """A task's recorded fine-tuning settings (the defaults of `ronbun gpt finetune --task X`) are the complete
    choice (learning rate, budget, classifier dropout) and name the command and date that chose them."""
    recorded = {name: spec.finetune for name, spec in TASKS.items() if spec.finetune}
    assert {"sst2", "rte"} <= set(recorded)
    for name, chosen in recorded.items():
        assert set(chosen) == {"lr", "max_steps", "clf_dropout", "chosen_by"}, name
        assert 0 < chosen["lr"] < 1e-2 and chosen["max_steps"] > 0 and 0 <= chosen["clf_dropout"] < 1
        assert "experiments/gpt1_" in chosen["chosen_by"] and "held-out" in chosen["chosen_by"]
