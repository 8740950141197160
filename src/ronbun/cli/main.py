"""``ronbun`` command line: thin wrappers over the library.  Each sub-command group lives in its own
module ``ronbun.cli.<group>`` exposing ``register(subparsers)``."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys

GROUPS = ("model", "mt", "gpt", "convert", "export", "viz", "serve", "experiment")


class CLIError(Exception):
    """A user-facing error: printed as one line, exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ronbun",
        description="The Transformer and GPT-1, built for real: train, translate, pre-train, fine-tune, inspect.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for group in GROUPS:
        name = f"ronbun.cli.{group}"
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (CLIError, ValueError, FileNotFoundError, PermissionError, IsADirectoryError, OSError) as exc:
        print(f"ronbun: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
