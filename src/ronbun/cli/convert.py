"""``ronbun convert``: import weights from Hugging Face Marian / openai-gpt or OpenAI's GPT-1 release."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .options import command

DESCRIPTION = """\
Turn a model trained elsewhere into a ronbun checkpoint directory (config.json + model.safetensors),
which every other ronbun command can load.  The conversion is exact: tests/interop checks that the
converted model gives the same logits and the same greedy/beam outputs as the original.

Sources (--from):
  hf-marian        a Hugging Face MarianMTModel folder, e.g. a downloaded Helsinki-NLP/opus-mt-en-de:
                   config.json + model.safetensors (or pytorch_model.bin), source.spm, target.spm,
                   vocab.json.  Becomes an encoder-decoder Transformer; the sentencepiece files are
                   copied into the checkpoint.
  hf-openai-gpt    a Hugging Face openai-gpt folder (OpenAIGPTLMHeadModel): config.json + weights,
                   vocab.json + merges.txt.  Becomes a GPT; the BPE files are copied under GPT-1's
                   original names (encoder_bpe_40000.json, vocab_40000.bpe).
  openai-original  the model/ folder of OpenAI's finetune-transformer-lm release: params_shapes.json +
                   params_0.npy ... params_9.npy (+ encoder_bpe_40000.json, vocab_40000.bpe).
                   Becomes a GPT; the head count is not in the files (--n-heads, default 12).

Nothing is unpickled or executed: weights are read with safetensors, numpy (allow_pickle=False) or
torch.load(weights_only=True).  --out is written atomically; on any error it is left untouched.

A folder with weights but no tokenizer files converts too (a note on stderr says so): ronbun.load() opens
the result as a bare model that works on token ids; text (generate, score, translate, serve) needs the
tokenizer files copied into DIR afterwards.
"""

EPILOG = """\
examples:
  ronbun convert --from hf-marian ~/models/opus-mt-en-de --out ckpt/opus-en-de
  ronbun convert --from hf-openai-gpt ~/models/openai-gpt --out ckpt/gpt1
  ronbun convert --from openai-original finetune-transformer-lm/model --out ckpt/gpt1
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = command(sub, run_convert, description=DESCRIPTION, epilog=EPILOG)
    p.add_argument(
        "--from",
        dest="source",
        required=True,
        choices=("hf-marian", "hf-openai-gpt", "openai-original"),
        help="the format of PATH (see above)",
    )
    p.add_argument("path", type=Path, metavar="PATH", help="the folder holding the model to convert")
    p.add_argument(
        "--out", type=Path, required=True, metavar="DIR", help="the ronbun checkpoint folder to write"
    )
    p.add_argument("--force", action="store_true", help="replace DIR if it already exists")
    p.add_argument(
        "--n-heads",
        type=int,
        default=None,
        metavar="H",
        help="openai-original only: attention heads per layer (not stored in the release; GPT-1 has 12)",
    )


def run_convert(args: argparse.Namespace) -> int:
    """import Marian / openai-gpt / original GPT-1 weights as a ronbun checkpoint"""
    from ..interop import CONVERSION_FILE, convert
    from ..models import deviations
    from ..training.checkpoint import read_model_config, read_state

    options: dict = {"overwrite": args.force}
    if args.n_heads is not None:
        if args.source != "openai-original":
            raise ValueError("--n-heads applies only to --from openai-original (the others store it)")
        options["n_heads"] = args.n_heads
    out = convert(args.source, args.path, args.out, **options)
    config = read_model_config(out)
    files = sorted(read_state(out).get("files", {}))
    print(f"converted {args.path} ({args.source}) -> {out}")
    print(f"model: {config.model_type()}  files: {', '.join(files)}")
    devs = deviations(config)
    if devs:
        print(f"faithfulness: {len(devs)} setting(s) of the imported model depart from the paper")
        for d in devs:
            print(f"  - {d.format()}")
    print(f"provenance and conversion notes: {out / CONVERSION_FILE}")
    note = _missing_tokenizer_note(args.path, out, config)
    if note:
        print(note, file=sys.stderr)
    return 0


def _missing_tokenizer_note(source: Path, out: Path, config) -> str | None:
    """One line saying that ``out`` has no tokenizer and what that means, or ``None`` when it has one."""
    from ..training.checkpoint import find_tokenizer, tokenizer_hint

    if find_tokenizer(out, config) is not None:
        return None
    hint = tokenizer_hint(out, config)
    text = (
        "generate, score, zero-shot, serve" if config.model_type() == "gpt" else "translate, evaluate, serve"
    )
    return (
        f"note: no tokenizer found in {source}: {out} holds the weights only; ronbun.load() opens it as a "
        f"bare model that works on token ids, but text ({text}) needs a tokenizer: {hint}"
    )
