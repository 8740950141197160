"""``ronbun experiment …``: a paper's table reproduced end to end at CPU scale.  The work is done by
:mod:`ronbun.experiments`; each command's help is its function's docstring."""

from __future__ import annotations

import argparse
import shlex
import sys

from ..experiments.table3 import SCALES, Table3Config
from ..mt.task import MTDataConfig
from . import options


def register(sub: argparse._SubParsersAction) -> None:
    esub = options.command_group(sub, "experiment", "a paper's table reproduced end to end at CPU scale")
    table3 = options.command(esub, run_table3)
    options.add_settings(table3, Table3Config)
    full, quick = SCALES["full"], SCALES["quick"]
    shown = {
        "dataset": f"{full.dataset} ({quick.dataset} with --quick)",
        "vocab_size": f"{full.vocab_size} ({quick.vocab_size} with --quick)",
        "max_tokens": f"{full.max_tokens} ({quick.max_tokens} with --quick)",
        "valid_bleu_sentences": f"{full.bleu_sentences} ({quick.bleu_sentences} with --quick)",
    }
    options.add_settings(
        table3.add_argument_group("data (as ronbun mt train)"),
        MTDataConfig,
        shown=shown,
        skip=("test_src", "test_tgt"),
    )


def run_table3(args: argparse.Namespace) -> int:
    """train the rows of the Transformer's Table 3 (model variations) and compare them with the paper

    Train every row of Table 3 (§6.2: (A) heads, (B) d_k, (C) N, d_model, d_ff, (D) dropout and label
    smoothing, (E) learned positions) as the same change to a CPU-sized base, each for the same number of
    updates with the same seed; print validation perplexity, greedy validation BLEU and parameters beside the
    paper's, each as a difference from its own base, and say which of the paper's orderings hold. Writes
    OUT/table3.json, table3.md and table3.png; rows measured before (OUT/rows/NAME/result.json) are not
    trained again. Full scale: --dataset multi30k --data-dir DIR; --quick: the built-in generated corpus.
    """
    from ..experiments.table3 import run_table3 as run

    data = options.merge_settings(MTDataConfig, args)
    command = shlex.join(["ronbun", *sys.argv[1:]])
    run(options.settings_from(Table3Config, args), data, command=command)
    return 0
