"""``ronbun export``: a ronbun Transformer checkpoint as a Hugging Face Marian model or a CTranslate2 model
(see :mod:`ronbun.interop.export` for the mapping and its limits)."""

from __future__ import annotations

import argparse
from pathlib import Path

from .options import command

DESCRIPTION = """\
Write a ronbun Transformer checkpoint in a format other tools serve.  The export is exact: tests/interop
checks that the exported model gives the same logits and the same greedy translations as ronbun.

Targets (--to):
  hf-marian     a Hugging Face MarianMTModel folder: config.json, generation_config.json,
                model.safetensors and a tokenizer AutoTokenizer loads (tokenizer.json +
                tokenizer_config.json; opus-mt imports get their sentencepiece files back).
  ctranslate2   a CTranslate2 model folder (model.bin, config.json, shared vocabulary, tokenizer
                files), made by CTranslate2's own TransformersConverter from the hf-marian export.
                Needs pip install 'ronbun[deploy]'.  Decode with translate_batch(...,
                suppress_sequences=[["<pad>"]], min_decoding_length=0) to match ronbun.

Exportable: post-LN, sinusoidal positions (ronbun's interleaved layout is permuted into Marian's
concatenated one, exactly), d_k = d_v = d_model / n_heads, LayerNorm eps 1e-5, one shared vocabulary.
Anything else (pre-LN, learned positions, a final LayerNorm, restricted attention, GPT models) is
refused with the setting named.  OUT is written atomically; an existing non-empty OUT needs --force.
"""

EPILOG = """\
examples:
  ronbun export runs/multi30k --to hf-marian exports/multi30k-hf
  ronbun export runs/multi30k --to ctranslate2 exports/multi30k-ct2 --quantization int8
"""


def register(sub: argparse._SubParsersAction) -> None:
    from ..interop.export import EXPORT_FORMATS, QUANTIZATIONS

    p = command(sub, run_export, description=DESCRIPTION, epilog=EPILOG)
    p.add_argument("checkpoint", type=Path, metavar="DIR", help="the ronbun checkpoint folder to export")
    p.add_argument("--to", required=True, choices=EXPORT_FORMATS, help="the target format (see above)")
    p.add_argument("out", type=Path, metavar="OUT", help="the folder to write")
    p.add_argument(
        "--quantization",
        choices=QUANTIZATIONS,
        default=None,
        metavar="Q",
        help=f"ctranslate2 only: weight type, one of {', '.join(QUANTIZATIONS)} (default float32, the only "
        "one that keeps ronbun's outputs)",
    )
    p.add_argument("--force", action="store_true", help="replace OUT if it exists and is not empty")


def run_export(args: argparse.Namespace) -> int:
    """export a Transformer checkpoint to Hugging Face Marian or CTranslate2"""
    import json

    from ..interop.export import EXPORT_FILE, export

    if args.quantization is not None and args.to != "ctranslate2":
        raise ValueError("--quantization applies only to --to ctranslate2")
    quantization = {"quantization": args.quantization} if args.quantization else {}
    out = export(args.to, args.checkpoint, args.out, overwrite=args.force, **quantization)
    record = json.loads((out / EXPORT_FILE).read_text(encoding="utf-8"))
    print(f"exported {args.checkpoint} -> {out} ({args.to})")
    print(f"files: {', '.join(sorted(p.name for p in out.iterdir() if p.is_file()))}")
    for note in record.get("notes", []):
        print(f"  - {note}")
    return 0
