"""The documentation stays true to the project.

Every Markdown page a reader meets — ``README.md``, ``DEVELOPERS.md``, ``docs/**/*.md`` and
``experiments/*.md`` — is held to three promises:

* every relative link and image points at a file or folder that exists;
* every ``ronbun …`` command it quotes (in a fenced code block or in inline code) names sub-commands the
  command-line parser knows;
* every ``--option`` such a command passes is an option of that sub-command.

The checks read the files and build the argument parser only; nothing is trained or run.
"""

from __future__ import annotations

import argparse
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import pytest

from ronbun.cli.main import build_parser

REPO = Path(__file__).resolve().parents[1]

#: A fenced code block (possibly indented inside a list item); group 2 is its body.
FENCED_BLOCK = re.compile(r"^[ \t]*(`{3,}|~{3,})[^\n]*\n(.*?)^[ \t]*\1[ \t]*$", re.M | re.S)
#: An inline code span; it may wrap onto the next line but never crosses a blank line.
INLINE_CODE = re.compile(r"(`+)((?:(?!\n[ \t]*\n).)+?)\1", re.S)
#: ``[text](target)`` or ``![alt](target)``, with an optional title after the target.
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^()\s<>]+)>?(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)")
#: A target with a scheme (``https:``, ``mailto:``) leaves the repository.
EXTERNAL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
#: Where one shell command ends and the next may begin on the same line.
SHELL_SEPARATOR = re.compile(r"\s*(?:&&|\|\||;|\|)\s*")
#: How a quoted command line starts.
PROGRAMS = ("ronbun", ".venv/bin/ronbun")
#: A word that can be a sub-command: a lowercase identifier (no path, flag, quote, ``/`` or ``.``).
SUBCOMMAND_WORD = re.compile(r"[a-z][a-z0-9_]*")
#: An option as written on the command line, possibly ``[bracketed]`` as optional, possibly with ``=value``.
OPTION = re.compile(r"\[?(--?[A-Za-z][A-Za-z0-9-]*)(?:=.*|\]?)")


@dataclass(frozen=True)
class Place:
    """Where something was found, for failure messages: ``docs/training.md:53``."""

    path: Path
    line: int

    def __str__(self) -> str:
        return f"{self.path.relative_to(REPO)}:{self.line}"


@dataclass(frozen=True)
class Command:
    """One quoted ``ronbun`` command line: its sub-command words and every word after them."""

    subcommands: tuple[str, ...]
    arguments: tuple[str, ...]

    def __str__(self) -> str:
        return " ".join(("ronbun", *self.subcommands))


# -- reading the pages -------------------------------------------------------------------------------------


def markdown_files() -> list[Path]:
    """The pages under test, in a fixed order."""
    candidates = [
        REPO / "README.md",
        REPO / "DEVELOPERS.md",
        *sorted((REPO / "docs").rglob("*.md")),
        *sorted((REPO / "experiments").glob("*.md")),
    ]
    return [path for path in candidates if path.is_file()]


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def blank_out(text: str, pattern: re.Pattern[str], keep: str = "") -> str:
    """``text`` with every match of ``pattern`` replaced by ``keep`` plus its newlines (so lines still count)."""
    return pattern.sub(lambda m: keep + "\n" * m.group(0).count("\n"), text)


def prose(text: str) -> str:
    """The page without code: fenced blocks removed, inline code reduced to a placeholder word."""
    return blank_out(blank_out(text, FENCED_BLOCK), INLINE_CODE, keep="code")


def code_lines(text: str) -> Iterator[tuple[int, str]]:
    """``(line number, shell line)`` for every line of code on the page.

    Fenced blocks give one entry per line, with backslash continuations joined; an inline code span gives
    one entry, its line breaks turned into spaces.
    """
    for block in FENCED_BLOCK.finditer(text):
        first = line_of(text, block.start(2))
        pending, start = "", first
        for number, line in enumerate(block.group(2).splitlines(), start=first):
            if not pending:
                start = number
            if line.rstrip().endswith("\\"):
                pending += line.rstrip()[:-1] + " "
                continue
            yield start, pending + line
            pending = ""
        if pending:
            yield start, pending
    without_blocks = blank_out(text, FENCED_BLOCK)
    for span in INLINE_CODE.finditer(without_blocks):
        yield line_of(without_blocks, span.start()), " ".join(span.group(2).split())


# -- links -------------------------------------------------------------------------------------------------


def relative_links(path: Path) -> Iterator[tuple[Place, str]]:
    """Every link or image target on the page that stays inside the repository, anchor removed."""
    text = prose(path.read_text(encoding="utf-8"))
    for link in LINK.finditer(text):
        target = link.group(1)
        if EXTERNAL.match(target) or target.startswith("#"):
            continue
        yield Place(path, line_of(text, link.start())), unquote(target.split("#", 1)[0].split("?", 1)[0])


def resolve(page: Path, target: str) -> Path:
    return REPO / target.lstrip("/") if target.startswith("/") else page.parent / target


# -- commands ----------------------------------------------------------------------------------------------


def split_words(line: str) -> list[str]:
    try:
        return shlex.split(line, comments=True)
    except ValueError:  # an unbalanced quote in a shortened example: plain words are good enough
        return line.split()


def parse_command(segment: str) -> Command | None:
    """The command a shell segment runs, if it runs ``ronbun``."""
    program, *words = segment.strip().removeprefix("$ ").split() or [""]
    if program not in PROGRAMS:
        return None
    count = 0  # judged on the words as written, so that a quoted word is never a sub-command
    while count < len(words) and SUBCOMMAND_WORD.fullmatch(words[count]):
        count += 1
    return Command(tuple(words[:count]), tuple(split_words(" ".join(words[count:]))))


def quoted_commands(path: Path) -> Iterator[tuple[Place, Command]]:
    for number, line in code_lines(path.read_text(encoding="utf-8")):
        for segment in SHELL_SEPARATOR.split(line):
            command = parse_command(segment)
            if command is not None:
                yield Place(path, number), command


def documented_commands() -> dict[Command, list[Place]]:
    """Every distinct quoted command, with every place that quotes it."""
    found: dict[Command, list[Place]] = {}
    for path in markdown_files():
        for place, command in quoted_commands(path):
            found.setdefault(command, []).append(place)
    return found


def subcommand_parser(
    parser: argparse.ArgumentParser, words: tuple[str, ...]
) -> argparse.ArgumentParser | None:
    """The parser that reads the options after ``words``; ``None`` if a word names no sub-command.

    Words past the last level of sub-commands are positional arguments (``ronbun serve runs``).
    """
    for word in words:
        groups = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not groups:
            break
        if word not in groups[0].choices:
            return None
        parser = groups[0].choices[word]
    return parser


def options_of(parser: argparse.ArgumentParser) -> set[str]:
    return {option for action in parser._actions for option in action.option_strings}


def where(places: list[Place]) -> str:
    return ", ".join(str(p) for p in places[:3]) + (f" and {len(places) - 3} more" if len(places) > 3 else "")


# -- the promises ------------------------------------------------------------------------------------------


def test_the_pages_under_test_include_the_readme_and_the_docs() -> None:
    names = {str(path.relative_to(REPO)) for path in markdown_files()}
    assert {"README.md", "docs/index.md", "docs/ja/index.md"} <= names


def test_every_relative_link_and_image_points_at_an_existing_file() -> None:
    broken = [
        f"{place}: {target}"
        for path in markdown_files()
        for place, target in relative_links(path)
        if target and not resolve(path, target).exists()
    ]
    assert not broken, "links to files that do not exist:\n  " + "\n  ".join(broken)


def test_the_docs_quote_ronbun_commands_of_every_group() -> None:
    groups = {command.subcommands[0] for command in documented_commands() if command.subcommands}
    assert {"mt", "gpt", "viz", "model"} <= groups


def test_every_documented_command_exists(capsys: pytest.CaptureFixture[str]) -> None:
    by_subcommands: dict[tuple[str, ...], list[Place]] = {}
    for command, places in documented_commands().items():
        by_subcommands.setdefault(command.subcommands, []).extend(places)
    parser = build_parser()
    missing = []
    for words, places in sorted(by_subcommands.items()):
        with pytest.raises(SystemExit) as exit_info:
            parser.parse_args([*words, "--help"])
        if exit_info.value.code != 0:
            missing.append(f"{' '.join(('ronbun', *words))}  ({where(places)})")
    capsys.readouterr()  # the help texts and error messages printed on the way
    assert not missing, "documented commands the CLI does not have:\n  " + "\n  ".join(missing)


def test_every_documented_option_belongs_to_its_command() -> None:
    parser = build_parser()
    unknown = []
    for command, places in documented_commands().items():
        reader = subcommand_parser(parser, command.subcommands)
        if reader is None:
            continue  # a missing sub-command is reported by test_every_documented_command_exists
        known = options_of(reader)
        for word in command.arguments:
            option = OPTION.fullmatch(word)
            if option and option.group(1) not in known:
                unknown.append(f"{command} {option.group(1)}  ({where(places)})")
    assert not unknown, "documented options the CLI does not have:\n  " + "\n  ".join(sorted(set(unknown)))
