"""``ronbun experiment …``: a paper's table or figure reproduced end to end at CPU scale.  The work is done by
:mod:`ronbun.experiments`; each command's help is its function's docstring."""

from __future__ import annotations

import argparse
import shlex
import sys

from ..experiments.figure2 import Figure2Config
from ..experiments.table3 import SCALES, Table3Config
from ..experiments.table5 import Table5Config
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
    options.add_settings(options.command(esub, run_table5), Table5Config)
    options.add_settings(options.command(esub, run_figure2), Figure2Config)


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


def run_table5(args: argparse.Namespace) -> int:
    """fine-tune the rows of GPT-1's Table 5 (ablations) and compare them with the paper

    Fine-tune a pre-trained GPT (--init) three ways on CoLA, SST-2, MRPC and RTE (--data-dir, the GLUE
    folder): the full method (aux LM λ = 0.5), without pre-training (random initialisation, the same
    tokenizer) and without the aux LM (λ = 0); every row of a task gets the same updates and learning rate
    (the setting the task's declaration chose on a holdout of its training split; else, or with --lr,
    --max-updates or --limit, the paper's 3 epochs of 32 capped at --max-updates) and the same seeds
    (--seeds for SST-2, --other-seeds for the others). Print the dev scores beside the paper's Table 5. Writes OUT/table5.json, table5.md and
    table5.png; runs measured before (OUT/runs/ROW/TASK/seedS/result.json) are not trained again.
    """
    from ..experiments.table5 import run_table5 as run

    command = shlex.join(["ronbun", *sys.argv[1:]])
    run(options.settings_from(Table5Config, args), command=command)
    return 0


def run_figure2(args: argparse.Namespace) -> int:
    """GPT-1's Figure 2: layers transferred (left) and zero-shot heuristics over pre-training (right)

    Left: fine-tune the newest checkpoint of --pretrain-run on SST-2 and RTE (--tasks) with the first k blocks
    transferred, k = 0 (embeddings only) … N, and with nothing transferred. Right: the four §5 zero-shot
    heuristics (sentiment, Winograd, acceptability, question answering with --race-dir or --story-cloze-dir)
    on every checkpoint the pre-training run kept (pre-train with --keep-last 0 to keep them all). Writes
    OUT/figure2.json, figure2.md and figure2.png; units measured before are not measured again.
    """
    from ..experiments.figure2 import run_figure2 as run

    command = shlex.join(["ronbun", *sys.argv[1:]])
    run(options.settings_from(Figure2Config, args), command=command)
    return 0
