"""``ronbun viz …``: pictures of what is inside the models (matplotlib, Agg; PNG, SVG or PDF by extension).
The work is done by :mod:`ronbun.viz` (:mod:`~ronbun.viz.pictures`, :mod:`~ronbun.viz.figures`); each
command's help is its function's docstring.

* ``viz attention CKPT --sentence S [--kind K] [--layer L] [--head H | --all-heads | --average] --out F``
* ``viz positions --d-model 512 --length 100 --out F``            (§3.5)
* ``viz curves RUN_DIR|metrics.jsonl --out F``                      (loss, perplexity, Eq. 3, BLEU)
* ``viz complexity DATA.json --out F``                              (Table 1, measured)
* ``viz appendix CKPT --out DIR [--layer L] [--sentence S --word W]`` (the appendix's Figures 3-5, measured)
* ``viz figures --out docs/figures [--checkpoint DIR] [--appendix-checkpoint DIR]`` (every figure of the docs)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..mt.commands import DecodingConfig
from .options import add_settings, command, command_group, settings_from


def register(sub: argparse._SubParsersAction) -> None:
    from ..viz.figures import (
        APPENDIX_CHECKPOINT,
        APPENDIX_CHECKPOINT_COMMAND,
        DEMO_CHECKPOINT,
        GPT_RUN,
        GPT_RUN_COMMAND,
        AppendixConfig,
        FiguresConfig,
    )

    vsub = command_group(
        sub, "viz", "pictures: attention, positional encodings, training curves, Table 1", "PICTURE"
    )
    at = command(vsub, run_attention)
    at.add_argument("checkpoint", type=Path, help="checkpoint directory or run directory")
    at.add_argument("--sentence", "-s", required=True, help="the input sentence (GPT: the prompt)")
    at.add_argument("--kind", choices=("encoder", "decoder", "cross", "self"), help="which attention")
    at.add_argument("--layer", type=int, help="layer index (negative counts from the end; default last)")
    mode = at.add_mutually_exclusive_group()
    mode.add_argument("--head", type=int, help="one head of --layer")
    mode.add_argument("--all-heads", action="store_true", help="a grid of every head of --layer")
    mode.add_argument("--average", action="store_true", help="mean over heads (and layers unless --layer)")
    add_settings(at, DecodingConfig, skip=("batch_size", "max_len_b", "threads"))

    pe = command(vsub, run_positions)
    pe.add_argument("--d-model", type=int, default=512)
    pe.add_argument("--length", type=int, default=100)
    pe.add_argument("--layout", choices=("interleaved", "concatenated"), default="interleaved")

    cu = command(vsub, run_curves)
    cu.add_argument("run", type=Path, help="run directory or metrics.jsonl")
    cu.add_argument("--title", default="")

    cx = command(vsub, run_complexity)
    cx.add_argument("data", type=Path, nargs="?", help="layer_complexity.json")
    cx.add_argument("--measure", action="store_true", help="run the measurement first")
    for p in (at, pe, cu, cx):
        p.add_argument("--out", type=Path, required=True, help="output file (.png, .svg, .pdf)")

    ap = command(vsub, run_appendix)
    ap.add_argument("checkpoint", type=Path, help="translation checkpoint directory or run directory")
    add_settings(ap, AppendixConfig)

    fg = command(
        vsub,
        run_figures,
        description="Regenerate every figure the documentation embeds. Attention, embedding and FFN figures "
        f"need a trained translation checkpoint (--checkpoint, default {DEMO_CHECKPOINT}, made by `make demo`); "
        f"the appendix figures the Multi30k model (--appendix-checkpoint, default {APPENDIX_CHECKPOINT}, made by "
        f"`{APPENDIX_CHECKPOINT_COMMAND}`); GPT figures need a GPT pre-training run (--gpt-run, default {GPT_RUN}, made by `{GPT_RUN_COMMAND}`). "
        "Missing inputs skip their figures with a message.",
    )
    add_settings(fg, FiguresConfig)


def run_attention(args: argparse.Namespace) -> int:
    """attention heat-maps of a checkpoint on one sentence

    Run a sentence through a checkpoint and draw its attention weights with the tokens on the axes.
    Transformer: the sentence is translated (beam search, §6.1) and the model's own translation is
    teacher-forced; --kind encoder | decoder | cross (default cross). GPT: --kind self on the prompt. One head
    (--head H), all heads of a layer (--all-heads), or the mean over heads and layers (--average, the
    default; with --layer only that layer).
    """
    from ..viz.pictures import attention_picture

    options = {k: getattr(args, k) for k in ("kind", "layer", "head", "all_heads")}
    decoding = {k: v for k in ("beam", "alpha") if (v := getattr(args, k)) is not None}
    translation, path = attention_picture(args.checkpoint, args.sentence, args.out, **options, **decoding)
    if translation:
        print(f"translation: {translation}")
    print(path)
    return 0


def run_positions(args: argparse.Namespace) -> int:
    """the §3.5 sinusoidal positional encoding and the similarity between positions

    Draw the PE matrix (positions × dimensions), the dot products PE(p)·PE(q) between positions (they depend
    on p−q only) and a few dimensions as curves.
    """
    from ..viz.pictures import picture_path
    from ..viz.positions import plot_positions

    out = picture_path(args.out)
    print(plot_positions(out, d_model=args.d_model, length=args.length, layout=args.layout).path)
    return 0


def run_curves(args: argparse.Namespace) -> int:
    """training curves of a run (loss, perplexity, learning rate vs Eq. 3, BLEU)

    Plot a run's metrics.jsonl. A resumed run's later records replace the ones it re-did.
    """
    from ..viz.curves import plot_curves
    from ..viz.pictures import picture_path

    print(plot_curves(args.run, picture_path(args.out), title=args.title))
    return 0


def run_complexity(args: argparse.Namespace) -> int:
    """plot Table 1 as measured by benchmarks/layer_complexity.py

    Plot per-layer time, memory and maximum path length of self-attention, recurrent and convolutional layers
    from a benchmarks/layer_complexity.py result (JSON, or its CSV's JSON sibling). With --measure, measure
    now (about 20 s on one thread) and save the data next to --out.
    """
    from ..viz.pictures import complexity_picture

    print(complexity_picture(args.out, args.data, measure=args.measure))
    return 0


def run_appendix(args: argparse.Namespace) -> int:
    """the paper's appendix attention pictures (Figures 3-5), with the measured shares

    Encoder self-attention of one layer (default the second-to-last, as the paper's layer 5 of 6; layers count
    from 0) on the appendix sentences, sub-words merged to words: Figure 3's attention from "making" (one
    colour per head), Figure 4's from "its" (words shaded per head), and every head of the layer (Figure 5).
    Writes the pictures and appendix_attention.json (per head: the share of "making"'s attention on "more" and
    "difficult", of "its"'s on "Law" and "application") into --out.
    """
    from ..viz.figures import AppendixConfig, appendix_figures

    figures = appendix_figures(args.checkpoint, settings_from(AppendixConfig, args))
    print(f"{len(figures.made)} file(s) written to {figures.out}")
    return 0


def run_figures(args: argparse.Namespace) -> int:
    """regenerate every figure of docs/ (one command)"""
    from ..viz.figures import FiguresConfig, make_figures

    figures = make_figures(settings_from(FiguresConfig, args))
    for line in figures.skipped:
        print(f"  skipped {line}", file=sys.stderr)
    print(f"{len(figures.made)} figure(s) written, {len(figures.skipped)} group(s) skipped")
    return 0
