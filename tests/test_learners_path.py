"""The learner's path through the docs holds together: both index pages lead to "how to read a paper" and to
the glossary before anything else, the reading page keeps the order abstract → conclusion → figures → method,
the glossary has one complete row per term in both languages, and facts readers once found wrong stay fixed
(the base model's size against Table 3, where the 12 hours on 8 P100 come from, one Japanese word for
fine-tuning)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
LANGS = ["", "ja"]
#: Terms the glossary must explain (English column).
REQUIRED_TERMS = [
    "attention",
    "query / key / value",
    "multi-head attention",
    "positional encoding",
    "label smoothing",
    "beam search",
    "length penalty",
    "checkpoint averaging",
    "fine-tuning",
    "pre-training",
    "auxiliary LM loss",
    "zero-shot",
    "BPE (byte-pair encoding)",
]
#: The headings of the reading page, in the order it must take them.
STEPS = {
    "": ["abstract", "conclusion", "figures", "method"],
    "ja": ["アブストラクト", "結論", "図と表", "手法"],
}


def read(lang: str, page: str) -> str:
    return (DOCS / lang / page).read_text(encoding="utf-8")


def paragraphs(text: str) -> list[str]:
    return [p for p in re.split(r"\n\s*\n", text) if p.strip()]


def table_rows(text: str) -> list[list[str]]:
    """The body rows of the page's table, as cells (header and separator dropped)."""
    rows = [line for line in text.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in re.split(r"(?<!\\)\|", row)[1:-1]] for row in rows[2:]]


@pytest.mark.parametrize("lang", LANGS)
def test_the_index_leads_to_the_reading_page_and_the_glossary_first(lang: str) -> None:
    top = read(lang, "index.md").split("\n## ", 1)[0]  # everything before the first section
    assert "(how-to-read-a-paper.md)" in top
    assert "(glossary.md)" in top


@pytest.mark.parametrize("lang", LANGS)
def test_the_reading_page_goes_abstract_conclusion_figures_method(lang: str) -> None:
    headings = re.findall(r"^## (.+)$", read(lang, "how-to-read-a-paper.md"), re.M)
    positions = [next(i for i, h in enumerate(headings) if word in h) for word in STEPS[lang]]
    assert positions == sorted(positions), headings


@pytest.mark.parametrize("lang", LANGS)
def test_the_glossary_has_one_complete_row_per_term(lang: str) -> None:
    rows = table_rows(read(lang, "glossary.md"))
    assert rows and all(len(row) == 4 and all(row) for row in rows), "each row: 4 non-empty cells"
    english = [row[1 if lang == "ja" else 0] for row in rows]
    assert len(set(english)) == len(english), "a term appears twice"
    missing = [term for term in REQUIRED_TERMS if term not in english]
    assert not missing, f"{lang}/glossary.md lacks {missing}"
    assert all(re.search(r"(Transformer|GPT-1)|papers|論文", row[3]) for row in rows), (
        "every row names its paper"
    )


def test_both_glossaries_list_the_same_terms_in_the_same_order() -> None:
    en = [(row[0], row[1]) for row in table_rows(read("", "glossary.md"))]
    ja = [(row[1], row[0]) for row in table_rows(read("ja", "glossary.md"))]
    assert en == ja


def test_the_glossary_gives_the_word_the_japanese_pages_use_for_fine_tuning() -> None:
    rows = {row[0]: row[1] for row in table_rows(read("", "glossary.md"))}
    assert rows["fine-tuning"] == "ファインチューニング"


def test_the_japanese_pages_use_one_word_for_fine_tuning() -> None:
    other = re.compile(r"微調整|ファインチューン(?!ニング)|ファイン・チューニング")
    found = [
        f"{path.relative_to(REPO)}:{n}: {line.strip()}"
        for path in sorted((DOCS / "ja").glob("*.md"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if other.search(line)
    ]
    assert not found, "use ファインチューニング:\n  " + "\n  ".join(found)


def test_the_base_model_size_is_compared_with_table_3_not_rounded_to_it() -> None:
    ours, table_3 = 63_082_496, 65e6
    difference = f"{abs(100 * (ours - table_3) / table_3):.1f}%"  # 3.0%
    for path in sorted(DOCS.rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"rounds? to 65M|丸めて 65M", text), f"{path}: 63.1M does not round to 65M"
        for paragraph in paragraphs(text):
            if "63,082,496" in paragraph and "65M" in paragraph:
                assert difference in paragraph, f"{path}: say how far 63,082,496 is from Table 3's 65M"


@pytest.mark.parametrize("lang", LANGS)
def test_the_12_hours_on_8_p100_are_credited_to_section_5_2(lang: str) -> None:
    hours = "12 時間" if lang else "12 hours"
    quoted = [p for p in paragraphs(read(lang, "index.md")) if hours in p]
    assert quoted and all("§5.2" in p for p in quoted)
