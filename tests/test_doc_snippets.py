"""Every Python snippet in the docs runs as printed.

Each fenced ```python block of ``docs/*.md`` and ``docs/ja/*.md`` is executed on its own, from the repository
root.  A block that needs something a fresh checkout lacks (a trained checkpoint) says so in a comment line
``# needs: runs/demo/averaged`` and is skipped while that path is missing.

The section pages promise a short snippet of ronbun's public API beside their shell commands: each has at
least one block that runs without a checkpoint, of 3-10 lines, and its Japanese twin carries the same code
(the comments may differ).
"""

from __future__ import annotations

import contextlib
import io
import re
import time
import tokenize
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
PAGES = [*sorted(DOCS.glob("*.md")), *sorted((DOCS / "ja").glob("*.md"))]
#: The pages that walk one section of a paper.
SECTION_PAGES = [
    "architecture.md",
    "scaled-dot-product-attention.md",
    "multi-head-attention.md",
    "feed-forward.md",
    "embeddings-and-softmax.md",
    "positional-encoding.md",
    "why-self-attention.md",
    "interpretability.md",
    "transformer-results.md",
    "training.md",
    "gpt-pretraining.md",
    "gpt-finetuning.md",
    "gpt-zero-shot.md",
]
PYTHON_BLOCK = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)
NEEDS = re.compile(r"^#\s*needs:\s*(\S+)\s*$", re.M)
#: Generous: the snippets take well under a second each, but the test machine may be busy.
SECONDS = 20.0


@dataclass(frozen=True)
class Snippet:
    page: Path
    line: int  # of the block's first line of code
    code: str

    @property
    def needs(self) -> list[str]:
        return NEEDS.findall(self.code)

    @property
    def name(self) -> str:
        return f"{self.page.relative_to(REPO)}:{self.line}"

    def lines(self) -> int:
        return sum(1 for line in self.code.splitlines() if line.strip())


def snippets(page: Path) -> list[Snippet]:
    text = page.read_text(encoding="utf-8")
    return [
        Snippet(page, text.count("\n", 0, block.start(1)) + 1, block.group(1))
        for block in PYTHON_BLOCK.finditer(text)
    ]


ALL = [snippet for page in PAGES for snippet in snippets(page)]


def code_without_comments(code: str) -> list[tuple[int, str]]:
    """The tokens of ``code`` minus comments and blank lines: what the two languages must share."""
    skip = {tokenize.COMMENT, tokenize.NL}
    return [
        (tok.type, tok.string)
        for tok in tokenize.generate_tokens(io.StringIO(code).readline)
        if tok.type not in skip
    ]


def test_the_docs_have_python_snippets() -> None:
    assert len(ALL) >= 2 * len(SECTION_PAGES)


@pytest.mark.parametrize("snippet", ALL, ids=lambda s: s.name)
def test_snippet_runs(snippet: Snippet, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = [path for path in snippet.needs if not (REPO / path).exists()]
    if missing:
        pytest.skip(f"needs {', '.join(missing)}, a trained checkpoint (see the page)")
    monkeypatch.chdir(REPO)
    # blank lines first, so that a traceback names the line of the page
    source = "\n" * (snippet.line - 1) + snippet.code
    namespace: dict[str, object] = {"__name__": "__doc_snippet__"}
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(source, str(snippet.page), "exec"), namespace)
    elapsed = time.perf_counter() - start
    assert elapsed < SECONDS, f"{snippet.name} took {elapsed:.1f} s: keep doc snippets tiny"


@pytest.mark.parametrize("lang", ["", "ja"])
@pytest.mark.parametrize("page", SECTION_PAGES)
def test_every_section_page_has_a_short_runnable_snippet(page: str, lang: str) -> None:
    found = snippets(DOCS / lang / page)
    runnable = [s for s in found if not s.needs]
    assert runnable, f"{lang}/{page}: no Python snippet that runs without a checkpoint"
    for snippet in found:
        assert 3 <= snippet.lines() <= 10, f"{snippet.name}: {snippet.lines()} lines; keep it to 3-10"


@pytest.mark.parametrize("page", SECTION_PAGES)
def test_the_japanese_snippets_are_the_english_ones(page: str) -> None:
    english = [code_without_comments(s.code) for s in snippets(DOCS / page)]
    japanese = [code_without_comments(s.code) for s in snippets(DOCS / "ja" / page)]
    assert japanese == english, f"ja/{page}: the Python snippets differ from docs/{page} (beyond comments)"
    assert [s.needs for s in snippets(DOCS / "ja" / page)] == [s.needs for s in snippets(DOCS / page)]
