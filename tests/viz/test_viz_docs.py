"""The section-by-section docs stay true to the code: every link into ``src/`` names a function or class that
exists in the linked file, every embedded figure is one that ``ronbun viz figures`` writes, and every page has
its Japanese twin with the same figures."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
OTHERS = {"design.md", "performance.md", "results.md"}  # pages written by other parts of the project
PAGES = sorted(p.name for p in DOCS.glob("*.md") if p.name not in OTHERS)
LINK = re.compile(r"\[`([^`]+)`\]\(([^)\s]+)\)")
FIGURE = re.compile(r"!\[[^\]]*\]\(([^)\s]+\.png)\)")
WITHOUT_FIGURES = {"index.md", "glossary.md"}  # a table of contents and a table of terms


@pytest.mark.parametrize("lang", ["", "ja"])
@pytest.mark.parametrize("page", PAGES)
def test_code_links_name_real_functions(page: str, lang: str) -> None:
    path = DOCS / lang / page
    text = path.read_text(encoding="utf-8")
    for names, target in LINK.findall(text):
        file = (path.parent / target).resolve()
        if REPO / "src" not in file.parents and REPO / "benchmarks" not in file.parents:
            continue
        assert file.is_file(), f"{path.name}: link to missing {target}"
        if file.suffix != ".py":
            continue
        if "/" in names or names.endswith(".py") or names.startswith("ronbun"):
            continue  # the link text is a file or module name, not a function
        source = file.read_text(encoding="utf-8")
        for name in re.findall(r"[A-Za-z_][A-Za-z0-9_.]*", names.split("(")[0]):
            leaf = name.split(".")[-1]
            assert re.search(rf"^\s*(def|class) {leaf}\b", source, re.M), f"{path}: {leaf} not in {target}"


@pytest.mark.parametrize("page", PAGES)
def test_every_page_has_a_japanese_twin_with_the_same_figures(page: str) -> None:
    en = FIGURE.findall((DOCS / page).read_text(encoding="utf-8"))
    ja = FIGURE.findall((DOCS / "ja" / page).read_text(encoding="utf-8"))
    assert [Path(f).name for f in en] == [Path(f).name for f in ja]
    made_by_figures = (REPO / "src/ronbun/viz/figures.py").read_text(encoding="utf-8")
    for figure in en:
        assert f'"{Path(figure).name}"' in made_by_figures, (
            f"{page}: {figure} is not made by `ronbun viz figures`"
        )
    if page not in WITHOUT_FIGURES:
        assert en, f"{page} embeds no figure"
