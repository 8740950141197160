"""The command that made a pre-trained model, read from its committed summary, so a script can make it again.

Every run of ``experiments/gpt1_pretrain.sh`` writes a summary (``results/.../NAME.json``) whose ``command`` is the
exact invocation, its settings included.  A fine-tuning script that is handed ``runs/NAME`` on a machine where that
folder does not exist yet looks the name up here and replays the command, instead of failing or, worse, making a
different model under that name.

    python experiments/pretrained_recipe.py gpt1_pretrain_ctx256_u4000        # prints the command, exit 0
    python experiments/pretrained_recipe.py no_such_model                     # a one-line error, exit 1
    (exit 2: summaries of that name that disagree on the command)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

SCRIPT = "experiments/gpt1_pretrain.sh"


def recorded_commands(name: str, results: Path) -> set[str]:
    """The commands of every pre-training summary under ``results`` whose run was called ``name``."""
    found = set()
    for path in sorted(results.rglob("*.json")):
        try:
            summary = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue
        if not isinstance(summary, dict):  # a JSON file that is not a run's summary
            continue
        command = summary.get("command")
        if summary.get("name") == name and isinstance(command, str) and SCRIPT in command:
            found.add(command)
    return found


class NoRecipe(ValueError):
    """No summary records how the model was made."""


def recipe(name: str, results: Path) -> str:
    """The one command that made ``name``; NoRecipe when there is none, a ValueError when several disagree."""
    found = recorded_commands(name, results)
    if not found:
        raise NoRecipe(f"no summary under {results}/ records how the pre-trained model {name!r} was made")
    if len(found) > 1:
        raise ValueError(f"the summaries under {results}/ give {len(found)} different commands for {name!r}")
    return found.pop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", help="the pre-trained model's run name (its folder's basename)")
    parser.add_argument("--results", type=Path, default=Path("results"), help="where the summaries are")
    args = parser.parse_args(argv)
    try:
        print(recipe(args.name, args.results))
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1 if isinstance(err, NoRecipe) else 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
