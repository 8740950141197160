"""``ronbun model info``: parameter counts and the faithfulness profile of a configuration."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..models import GPT, GPTConfig, Transformer, TransformerConfig, deviations
from ..models.config import BlockConfig
from .options import command, command_group, parse_overrides

TABLE3_PARAMS_M = {"base": 65, "big": 213, "table3-B16": 58, "table3-B32": 60}


def register(sub: argparse._SubParsersAction) -> None:
    info = command(command_group(sub, "model", "inspect model configurations"), run_info)
    info.add_argument("--model-type", choices=("transformer", "gpt"), default="transformer")
    info.add_argument(
        "--preset", default="base", help="transformer: base, big, small, tiny, table3-*; gpt: gpt1, …"
    )
    info.add_argument("--config", type=Path, help="a config.json (e.g. inside a checkpoint directory)")
    info.add_argument(
        "--vocab-size", type=int, help="vocabulary size (Table 3 uses a 37,000-token shared BPE)"
    )
    info.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="override a setting (JSON value)"
    )
    info.add_argument("--json", action="store_true", help="machine-readable output")


def config_from_args(args: argparse.Namespace) -> BlockConfig:
    overrides = parse_overrides(args.set)
    if args.vocab_size is not None:
        overrides["vocab_size"] = args.vocab_size
    if args.config is not None:
        data = json.loads(args.config.read_text(encoding="utf-8"))
        cls = GPTConfig if data.get("model_type") == "gpt" else TransformerConfig
        return cls.from_dict({**data, **overrides})
    cls = GPTConfig if args.model_type == "gpt" else TransformerConfig
    return cls.preset(args.preset, **overrides)


def run_info(args: argparse.Namespace) -> int:
    """parameter count and where a configuration departs from the paper

    Build a model from a preset (or a config.json) and print its parameter count and every setting that
    departs from the paper, with the section it departs from.
    """
    config = config_from_args(args)
    model = GPT(config) if isinstance(config, GPTConfig) else Transformer(config)  # type: ignore[arg-type]
    n = model.num_parameters()
    devs = deviations(config)
    if args.json:
        print(
            json.dumps(
                {"parameters": n, "config": config.to_dict(), "deviations": [d.__dict__ for d in devs]}
            )
        )
        return 0
    print(f"model: {config.model_type()}  preset: {args.preset if args.config is None else args.config}")
    print(f"parameters: {n:,} ({n / 1e6:.1f}M)")
    paper = TABLE3_PARAMS_M.get(args.preset) if args.config is None else None
    if paper is not None and isinstance(config, TransformerConfig) and config.vocab_size == 37000:
        print(f"Table 3 lists {paper}M for this row: {100 * (n / 1e6 - paper) / paper:+.1f}%")
    if not devs:
        print("faithfulness: every setting is the paper's")
    else:
        print(f"faithfulness: {len(devs)} setting(s) depart from the paper")
        for d in devs:
            print(f"  - {d.format()}")
    return 0
