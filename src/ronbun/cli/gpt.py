"""``ronbun gpt …``: pre-train, generate, fine-tune, evaluate and zero-shot GPT-1 models (Radford et al. 2018).
The work is done by :mod:`ronbun.gpt.commands` and :mod:`ronbun.gpt.evaluate`; each command's help is
its function's docstring.

Quick start (built-in text, no files needed; a few minutes on a laptop CPU)::

    ronbun gpt pretrain --preset tiny --max-steps 300 --lr 1e-3 --out runs/gpt-demo
    ronbun gpt generate runs/gpt-demo "The dog" --max-new-tokens 20 --top-k 20 --seed 0
    ronbun gpt finetune --init runs/gpt-demo --task sst2 --data-dir ../shared/data/glue --limit 500 --out runs/gpt-sst2
    ronbun gpt evaluate runs/gpt-sst2
    ronbun gpt zeroshot runs/gpt-demo --task winograd
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..gpt.commands import SamplingConfig, ZeroShotConfig
from ..gpt.evaluate import EvaluationConfig
from ..gpt.finetune import FINETUNE_TRAINER_DEFAULTS, FineTuneConfig
from ..gpt.pretrain import PRETRAIN_TRAINER_DEFAULTS, LMDataConfig
from .options import (
    add_settings,
    add_training_options,
    command,
    command_group,
    settings_from,
    training_settings,
)

PRESETS = "tiny (default), small, mini, gpt1"


def register(sub: argparse._SubParsersAction) -> None:
    gsub = command_group(
        sub, "gpt", "GPT-1: pre-train, generate, fine-tune, evaluate, zero-shot (Radford et al. 2018)"
    )
    pt = command(gsub, run_pretrain)
    shown = {**PRETRAIN_TRAINER_DEFAULTS, "max_steps": 1000, "warmup": "2000, capped at 10% of --max-steps"}
    model = add_training_options(pt, LMDataConfig, data_title="data", presets=PRESETS, trainer_defaults=shown)
    model.add_argument("--init", help="continue pre-training from this GPT checkpoint (uses its tokenizer)")

    gen = command(gsub, run_generate)
    gen.add_argument(
        "checkpoint", type=Path, help="checkpoint directory or run directory (newest checkpoint)"
    )
    gen.add_argument("prompts", nargs="*", help="prompt texts")
    gen.add_argument("--input", "-i", type=Path, help="file of prompts, one per line")
    add_settings(gen, SamplingConfig)

    ft = command(gsub, run_finetune)
    shown = {**FINETUNE_TRAINER_DEFAULTS, "max_steps": "--epochs worth", "warmup": "0.2% of training"}
    note = "--from-scratch without --init: "
    add_training_options(
        ft,
        FineTuneConfig,
        data_title="task and fine-tuning",
        presets=PRESETS,
        model_note=note,
        trainer_defaults=shown,
    )

    for func, settings in ((run_evaluate, EvaluationConfig), (run_zeroshot, ZeroShotConfig)):
        p = command(gsub, func)
        p.add_argument("checkpoint", type=Path)
        add_settings(p, settings)
        p.add_argument("--json", action="store_true", help="print the result as JSON")


def _print_report(report: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(report, default=str))
        return
    for key, value in report.items():
        print(f"{key}: {value:.4f}" if isinstance(value, float) else f"{key}: {value}")


def run_pretrain(args: argparse.Namespace) -> int:
    """pre-train a GPT language model on text (§3.1, §4.1)

    Pre-train GPT-1's decoder-only LM (Eq. 1) on random contiguous windows of n_ctx tokens. Defaults are the
    paper's §4.1: Adam (0.9, 0.999, 1e-8), max lr 2.5e-4 with linear warm-up over 2,000 updates (capped at
    10% of a shorter run) then cosine annealing to 0, decoupled weight decay 0.01 on matrices, 64 windows per
    update (reach it with --batch-size × --accum-steps). With no corpus flags it trains on built-in generated
    English text. Settings come from --config ([data], [model], [trainer]) and are overridden by flags; the
    resolved configuration is saved in the run directory.
    """
    from ..gpt.commands import pretrain

    result = pretrain(training_settings(args, LMDataConfig), init=args.init, resume=args.resume)
    print(json.dumps(result, default=str))
    return 0


def run_finetune(args: argparse.Namespace) -> int:
    """fine-tune a pre-trained GPT on a task (§3.2, §3.3)

    Fine-tune with the §3.3 input transformation of the task (classification, entailment, similarity with
    both orders summed, multiple choice with a softmax over candidates) and L3 = L2 + λ·L1 (Eq. 5). Defaults
    are §4.1: lr 6.25e-5, batch 32, 3 epochs, linear warm-up over 0.2% of training then linear decay,
    classifier dropout 0.1, λ = 0.5, Adam (0.9, 0.999, 1e-8), weight decay 0.01.
    """
    from ..gpt.commands import finetune

    print(json.dumps(finetune(training_settings(args, FineTuneConfig), resume=args.resume), default=str))
    return 0


def _read_prompts(args: argparse.Namespace) -> list[str]:
    if args.prompts:
        return list(args.prompts)
    if args.input is not None:
        from ..data.parallel import read_lines

        return read_lines(args.input)
    if not sys.stdin.isatty():
        lines = sys.stdin.read().splitlines()
        if lines:
            return lines
    return [""]


def run_generate(args: argparse.Namespace) -> int:
    """sample text from a GPT checkpoint (KV-cached)

    Continue prompts with the language model (Eq. 2). Prompts come from the arguments, --input (one per
    line) or stdin; with none, one unconditional sample. Each output is printed as prompt + continuation.
    """
    from ..gpt.commands import generate

    outputs = generate(args.checkpoint, lambda: _read_prompts(args), settings_from(SamplingConfig, args))
    for i, text in enumerate(outputs):
        if i and len(outputs) > 1:
            print("---")
        print(text, flush=True)
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    """task metrics of a fine-tuned checkpoint, or perplexity of a language model

    A fine-tuned checkpoint: predict a task split and print its GPT-1 metrics (accuracy, MCC for CoLA, F1
    for MRPC/QQP, Pearson for STS-B). A pre-trained LM: token-level perplexity on a corpus split (windows of
    n_ctx, stride n_ctx).
    """
    from ..gpt.evaluate import evaluate_checkpoint

    _print_report(evaluate_checkpoint(args.checkpoint, settings_from(EvaluationConfig, args)), args.json)
    return 0


def run_zeroshot(args: argparse.Namespace) -> int:
    """GPT-1's zero-shot heuristics (§5, Figure 2 right) with a pre-trained LM

    sst2: append ' very' and compare P(positive) vs P(negative); cola: average token log-probability above a
    threshold fitted on the train split (max MCC) unless --threshold; story_cloze / race: the answer with the
    highest average log-probability given the context; winograd: substitute each candidate for the pronoun
    ('_') and compare the average log-probability of the rest (--winograd-file JSONL, else 10 built-in
    examples).
    """
    from ..gpt.commands import zeroshot

    _print_report(zeroshot(args.checkpoint, settings_from(ZeroShotConfig, args)), args.json)
    return 0
