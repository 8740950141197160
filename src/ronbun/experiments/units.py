"""What every experiment of this package shares: a table is made of *units* (a row of Table 3, one fine-tuning
run of Table 5, one checkpoint's zero-shot scores …), each measured once and saved as its own ``result.json``
beside the recipe it was measured with, so that an interrupted experiment resumes where it stopped and a
changed recipe is never mixed with an old one.

* :func:`read_result` / :func:`write_result` — a unit's result, read back only when its recipe matches;
* :func:`run_jobs` — units one after another, or ``parallel`` at a time, each in a spawned process;
* :func:`as_given` — a path as a report should print it (read on other machines).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["Log", "as_given", "read_result", "run_jobs", "say", "write_result"]

Log = Callable[[str], None]
J = TypeVar("J")
R = TypeVar("R")


def say(message: str) -> None:
    """The default log: one line on stdout, flushed (parallel workers interleave by line)."""
    print(message, flush=True)


def as_given(path: str | Path) -> str:
    """``path`` relative to the working directory when it lies inside it (reports name no machine's folders;
    units keep absolute paths, so that a result is found again from any working directory)."""
    try:
        return str(Path(path).relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def read_result(path: Path, recipe: Mapping[str, Any], what: str = "recipe") -> dict[str, Any] | None:
    """The result saved at ``path`` when it was measured with ``recipe`` (``None`` when there is none yet).
    A result measured with another recipe is an error: ``what`` names what a recipe holds."""
    if not path.is_file():
        return None
    result = json.loads(path.read_text(encoding="utf-8"))
    if result.get("recipe") != json.loads(json.dumps(recipe)):
        raise ValueError(
            f"{path} was measured with another recipe ({what}): use another --out, or delete its folder to "
            "measure it again"
        )
    return result


def write_result(path: Path, result: Mapping[str, Any]) -> None:
    """Write ``result`` to ``path`` atomically (a partial file, then a rename): an interrupted write leaves
    no result, so the unit is measured again."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    partial.replace(path)


def _prefixed(job: tuple[Callable[..., Any], Any, str]) -> Any:
    """``work(item)`` in a worker process, its log lines prefixed with the unit's name."""
    work, item, name = job
    return work(item, log=lambda message: say(f"[{name}] {message}"))


def run_jobs(
    work: Callable[..., R],
    items: Sequence[J],
    names: Sequence[str],
    *,
    parallel: int = 1,
    log: Log = say,
) -> list[R]:
    """``[work(item, log=…) for item in items]``, in order; with ``parallel > 1`` that many at a time, each
    in a spawned process (``work`` must then be a module-level function and the items picklable)."""
    if parallel < 1:
        raise ValueError(f"--parallel must be >= 1, got {parallel}")
    if parallel > 1 and len(items) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        context = multiprocessing.get_context("spawn")
        jobs = [(work, item, name) for item, name in zip(items, names, strict=True)]
        with ProcessPoolExecutor(max_workers=parallel, mp_context=context) as pool:
            return list(pool.map(_prefixed, jobs))
    out = []
    for i, (item, name) in enumerate(zip(items, names, strict=True), 1):
        log(f"\n{i}/{len(items)}: {name}")
        out.append(work(item, log=log))
    return out
