"""``ronbun mt …``: train, translate, evaluate and average Transformer translation models (paper 1).
The work is done by :mod:`ronbun.mt.commands` and :mod:`ronbun.mt.evaluate`; each command's help is its
function's docstring."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..mt.commands import AveragingConfig, DecodingConfig
from ..mt.evaluate import EvaluationConfig
from ..mt.task import MTDataConfig
from . import options

CHECKPOINTS_HELP = (
    "checkpoint directory (e.g. RUN/checkpoints/step_… or an average); several: an ensemble that averages "
    "their next-token probabilities at every step (they must share one tokenizer, e.g. one run's checkpoints)"
)


def register(sub: argparse._SubParsersAction) -> None:
    msub = options.command_group(sub, "mt", "machine translation with the Transformer (Vaswani et al. 2017)")
    presets = "small (default), base, big, tiny, table3-*"
    train = options.command(msub, run_train)
    options.add_training_options(
        train, MTDataConfig, data_title="data", presets=presets, trainer_defaults={"out_dir": "runs/mt"}
    )

    tr = options.command(msub, run_translate)
    tr.add_argument("checkpoint", type=Path, nargs="+", help=CHECKPOINTS_HELP)
    tr.add_argument("--input", "-i", type=Path, help="file to translate (default: stdin)")
    tr.add_argument("--output", "-o", type=Path, help="write the translations here (default: stdout)")
    options.add_settings(tr, DecodingConfig)

    ev = options.command(msub, run_evaluate)
    ev.add_argument("checkpoint", type=Path, nargs="+", help=CHECKPOINTS_HELP)
    options.add_settings(ev, EvaluationConfig)
    options.add_settings(ev, DecodingConfig)

    av = options.command(msub, run_average)
    av.add_argument(
        "run", type=Path, nargs="+", help="run directory (holding checkpoints/) or checkpoint dirs"
    )
    options.add_settings(av, AveragingConfig)


def run_train(args: argparse.Namespace) -> int:
    """train a translator on parallel text

    Train a Transformer translator (§5): shared byte-level BPE, token-budget batches, Adam (0.9, 0.98, 1e-9)
    with the Eq. 3 warm-up schedule, label smoothing 0.1. With no data flags it trains on the built-in
    generated English→German corpus (no download). Settings come from --config (TOML, YAML or JSON with
    [data], [model] and [trainer] sections) and are overridden by flags; the resolved configuration is saved
    with every checkpoint.
    """
    from ..mt.commands import train

    result = train(options.training_settings(args, MTDataConfig), resume=args.resume)
    if result is not None:
        print(json.dumps(result, default=str))
    return 0


def run_translate(args: argparse.Namespace) -> int:
    """translate text with a checkpoint

    Translate sentences (one per line) from --input or stdin; translations stream to stdout in input order.
    Defaults are the paper's §6.1: beam 4, length penalty α=0.6, max length = input + 50. Several
    checkpoints decode as one ensemble (their next-token probabilities averaged at every step).
    """
    from ..mt.commands import translate_lines

    translations = translate_lines(
        args.checkpoint, args.input, options.settings_from(DecodingConfig, args), args.output
    )
    if args.output is None:
        for line in translations:
            print(line, flush=True)
        return 0
    n = sum(1 for _ in translations)
    print(f"{n} translation(s) → {args.output}", file=sys.stderr)
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    """translate a test set and score it (sacreBLEU, chrF, paper-style tokenised BLEU)

    Translate a test set and print sacreBLEU with its signature, chrF, and the paper-style tokenised BLEU
    (compound-split for German) of the same outputs. Several checkpoints decode as one ensemble.
    """
    from ..mt.evaluate import evaluate_checkpoint

    test, decoding = (
        options.settings_from(EvaluationConfig, args),
        options.settings_from(DecodingConfig, args),
    )
    print(evaluate_checkpoint(args.checkpoint, test, decoding).format())
    return 0


def run_average(args: argparse.Namespace) -> int:
    """average the last k checkpoints of a run (§6.1)

    Average model weights of the last k checkpoints of a run (the paper: 5 for base, 20 for big), or of
    checkpoints written at least --every-minutes apart. Streams in constant memory.
    """
    from ..mt.commands import average_run

    chosen, out = average_run(args.run, options.settings_from(AveragingConfig, args))
    print(f"averaged {len(chosen)} checkpoint(s): {', '.join(p.name for p in chosen)} → {out}")
    return 0
