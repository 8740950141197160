"""``ronbun mt …``: train, translate, evaluate and average Transformer translation models (paper 1)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .common import (
    add_config_arg,
    add_model_args,
    add_trainer_args,
    data_section,
    model_section,
    read_sections,
    trainer_config_from,
)

DATA_FLAGS = {
    "dataset": str,
    "data_dir": str,
    "src_lang": str,
    "tgt_lang": str,
    "train_src": str,
    "train_tgt": str,
    "valid_src": str,
    "valid_tgt": str,
    "test_src": str,
    "test_tgt": str,
    "vocab_size": int,
    "max_len": int,
    "max_tokens": int,
    "valid_bleu_sentences": int,
}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("mt", help="machine translation with the Transformer (Vaswani et al. 2017)")
    msub = p.add_subparsers(dest="mt_command", metavar="ACTION", required=True)

    train = msub.add_parser(
        "train",
        help="train a translator on parallel text",
        description="Train a Transformer translator (§5): shared byte-level BPE, token-budget batches, Adam "
        "(0.9, 0.98, 1e-9) with the Eq. 3 warm-up schedule, label smoothing 0.1. With no data flags it trains on "
        "the built-in generated English→German corpus (no download). Settings come from --config (TOML, YAML "
        "or JSON with [data], [model] and [trainer] sections) and are overridden by flags; the resolved "
        "configuration is saved with every checkpoint.",
    )
    add_config_arg(train)
    g = train.add_argument_group("data")
    g.add_argument("--dataset", help="named dataset: builtin (default, generated) or multi30k")
    g.add_argument("--data-dir", help="local copy of the named dataset (else the cache / a download)")
    g.add_argument("--src-lang", help="source language (default en)")
    g.add_argument("--tgt-lang", help="target language (default de)")
    for split in ("train", "valid", "test"):
        g.add_argument(f"--{split}-src", help=f"{split} source file, one sentence per line (.gz ok)")
        g.add_argument(f"--{split}-tgt", help=f"{split} target file, line-aligned with --{split}-src")
    g.add_argument(
        "--lowercase-tokenized", action="store_true", default=None, help="multi30k: use lc.norm.tok files"
    )
    g.add_argument("--vocab-size", type=int, help="shared BPE vocabulary size (paper: ~37000; default 8000)")
    g.add_argument("--max-len", type=int, help="drop (and count) training pairs longer than this many tokens")
    g.add_argument("--max-tokens", type=int, help="tokens per batch and side incl. padding (paper: ~25000)")
    g.add_argument("--valid-bleu-sentences", type=int, help="validation BLEU on the first N pairs (0 = off)")
    add_model_args(train.add_argument_group("model"), "small (default), base, big, tiny, table3-*")
    add_trainer_args(train)
    train.set_defaults(func=run_train)

    tr = msub.add_parser(
        "translate",
        help="translate text with a checkpoint",
        description="Translate sentences (one per line) from --input or stdin; translations stream to stdout "
        "in input order. Defaults are the paper's §6.1: beam 4, length penalty α=0.6, max length = input + 50.",
    )
    tr.add_argument(
        "checkpoint", type=Path, help="checkpoint directory (e.g. RUN/checkpoints/step_… or an average)"
    )
    tr.add_argument("--input", "-i", type=Path, help="file to translate (default: stdin)")
    tr.add_argument("--output", "-o", type=Path, help="write the translations here (default: stdout)")
    add_decoding_args(tr)
    tr.set_defaults(func=run_translate)

    ev = msub.add_parser(
        "evaluate",
        help="translate a test set and score it (sacreBLEU, chrF, paper-style tokenised BLEU)",
        description="Translate a test set and print sacreBLEU with its signature, chrF, and the paper-style "
        "tokenised BLEU (compound-split for German) of the same outputs.",
    )
    ev.add_argument("checkpoint", type=Path)
    ev.add_argument("--dataset", help="named dataset (builtin, multi30k); uses its test split")
    ev.add_argument("--data-dir")
    ev.add_argument("--split", default="test")
    ev.add_argument("--src", type=Path, help="source file (instead of --dataset)")
    ev.add_argument("--ref", type=Path, help="reference file, line-aligned with --src")
    ev.add_argument(
        "--tokenized-ref", type=Path, help="lower-cased tokenised references (Multi30k tok/*.lc.norm.tok.*)"
    )
    ev.add_argument("--output", type=Path, help="also write the translations here")
    ev.add_argument("--limit", type=int, help="only the first N sentences")
    ev.add_argument("--json", type=Path, help="also write the scores as JSON here")
    add_decoding_args(ev)
    ev.set_defaults(func=run_evaluate)

    av = msub.add_parser(
        "average",
        help="average the last k checkpoints of a run (§6.1)",
        description="Average model weights of the last k checkpoints of a run (the paper: 5 for base, 20 for "
        "big), or of checkpoints written at least --every-minutes apart. Streams in constant memory.",
    )
    av.add_argument(
        "run", type=Path, help="run directory (holding checkpoints/) or a list of checkpoint dirs", nargs="+"
    )
    av.add_argument("--last", type=int, default=5, help="how many checkpoints (default 5)")
    av.add_argument(
        "--every-updates", type=int, help="select checkpoints at least this many updates apart (default: any)"
    )
    av.add_argument(
        "--after", type=int, default=0, help="only checkpoints later than this update (e.g. the warm-up)"
    )
    av.add_argument(
        "--every-minutes", type=float, help="select checkpoints written this many minutes of training apart"
    )
    av.add_argument("--out", type=Path, required=True, help="output checkpoint directory")
    av.set_defaults(func=run_average)


def add_decoding_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--beam", type=int, default=4, help="beam size (1 = greedy; paper: 4)")
    p.add_argument("--alpha", type=float, default=0.6, help="GNMT length penalty α (paper: 0.6)")
    p.add_argument("--batch-size", type=int, default=64, help="sentences per batch")
    p.add_argument(
        "--max-len-b", type=int, default=50, help="max output length = input length + this (paper: 50)"
    )
    p.add_argument("--threads", type=int, help="CPU threads for decoding (default: PyTorch's choice)")


def resolve_train_settings(
    args: argparse.Namespace,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], str]:
    """Merge defaults ← config file ← flags into (data, model overrides, trainer, preset)."""
    file_cfg = read_sections(args.config)
    data = data_section(args, file_cfg, DATA_FLAGS)
    if args.lowercase_tokenized:
        data["lowercase_tokenized"] = True
    if any(k in data for k in ("train_src", "train_tgt")) and "dataset" not in data:
        data["dataset"] = None
    preset, model = model_section(args, file_cfg, "small")
    trainer = trainer_config_from(args, file_cfg.get("trainer", {}))
    trainer.setdefault("out_dir", "runs/mt")
    return data, model, trainer, preset


def run_train(args: argparse.Namespace) -> int:
    from ..data.registry import list_datasets
    from ..models import TransformerConfig
    from ..mt.task import MTDataConfig, TranslationTask
    from ..training.checkpoint import ensure_output_dir
    from ..training.distributed import init_from_env, shutdown
    from ..training.loop import Trainer, TrainerConfig

    data, model, trainer, preset = resolve_train_settings(args)
    tcfg = TrainerConfig.from_dict(trainer)
    dcfg = MTDataConfig.from_dict(data)
    # check everything cheap before any data is read or a tokenizer trained
    TransformerConfig.preset(preset, **{"vocab_size": 32000, **model})
    if dcfg.dataset is not None and dcfg.train_src is None and dcfg.dataset not in list_datasets():
        raise ValueError(f"unknown dataset {dcfg.dataset!r}; available: {', '.join(list_datasets())}")
    rank, _world, _device = init_from_env()
    out = ensure_output_dir(tcfg.out_dir)
    resolved = {"preset": preset, "data": data, "model": model, "trainer": tcfg.to_dict()}
    if rank == 0:
        (out / "run_config.json").write_text(json.dumps(resolved, indent=2) + "\n", encoding="utf-8")
    task = TranslationTask(
        dcfg,
        out_dir=out,
        seed=tcfg.seed,
        preset=preset,
        model_overrides=model,
        log=lambda m: print(m, file=sys.stderr),
    )
    n = sum(p.numel() for p in task.model.parameters())
    print(
        f"model: {preset} Transformer, {n:,} parameters; vocabulary {task.tokenizer.vocab_size}; "
        f"{len(task.train_index):,} training pairs",
        file=sys.stderr,
    )
    try:
        result = Trainer(task, tcfg, resume=args.resume).fit()
    finally:
        shutdown()
    if rank == 0:
        print(json.dumps(result, default=str))
    return 0


def _translator(path: Path, threads: int | None = None):
    import torch

    from ..mt.translator import Translator

    if threads is not None:
        if threads < 1:
            raise ValueError(f"--threads must be >= 1, got {threads}")
        torch.set_num_threads(threads)
    if not path.exists():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    return Translator.from_checkpoint(path)


def _read_input(path: Path | None):
    if path is None:
        data = sys.stdin.buffer.read()
        name = "<stdin>"
    else:
        data = path.read_bytes()
        name = str(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ValueError(f"{name}: line {line} is not valid UTF-8 (byte {exc.start})") from None
    return text.splitlines()


def run_translate(args: argparse.Namespace) -> int:
    translator = _translator(args.checkpoint, args.threads)  # a wrong checkpoint is said before reading stdin
    lines = _read_input(args.input)
    if not lines:
        raise ValueError(f"no input: {args.input or 'stdin'} is empty (one sentence per line)")
    outputs = translator.stream(
        lines, beam=args.beam, alpha=args.alpha, batch_size=args.batch_size, max_len_b=args.max_len_b
    )
    if args.output is None:
        for out in outputs:
            print(out, flush=True)
        return 0
    # written next to the target and renamed at the end: a failure never leaves half a file behind
    tmp = args.output.with_name(f".{args.output.name}.partial")
    try:
        with tmp.open("w", encoding="utf-8") as f:
            for out in outputs:
                f.write(out + "\n")
        tmp.replace(args.output)
    finally:
        tmp.unlink(missing_ok=True)
    print(f"{len(lines)} translation(s) → {args.output}", file=sys.stderr)
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    from ..data.parallel import read_lines
    from ..evaluation.bleu import score_translations

    translator = _translator(args.checkpoint, args.threads)
    tok_refs = None
    if args.src is not None:
        if args.ref is None:
            raise ValueError("--src needs --ref")
        src, refs = read_lines(args.src), read_lines(args.ref)
        if len(src) != len(refs):
            raise ValueError(f"{args.src} has {len(src)} lines but {args.ref} has {len(refs)}")
        tgt_lang = "de"
    else:
        from ..data.registry import load_dataset, tokenized_references
        from ..training.checkpoint import read_task_config

        cfg = read_task_config(args.checkpoint)
        dcfg = cfg.get("data", {})
        name = args.dataset or dcfg.get("dataset") or "builtin"
        src_lang, tgt_lang = dcfg.get("src_lang", "en"), dcfg.get("tgt_lang", "de")
        # always the raw text: a model trained on lower-cased tokenised text normalises its own input
        splits = load_dataset(name, src_lang, tgt_lang, data_dir=args.data_dir or dcfg.get("data_dir"))
        if args.split not in splits:
            raise ValueError(f"dataset {name!r} has no split {args.split!r} (has {', '.join(splits)})")
        src, refs = splits[args.split]
        if name == "multi30k":
            tok_refs = tokenized_references(
                name, src_lang, tgt_lang, args.split, data_dir=args.data_dir or dcfg.get("data_dir")
            )
    if args.tokenized_ref is not None:
        tok_refs = read_lines(args.tokenized_ref)
    if args.limit:
        src, refs = src[: args.limit], refs[: args.limit]
        tok_refs = tok_refs[: args.limit] if tok_refs else None
    hyps = translator.translate(
        src, beam=args.beam, alpha=args.alpha, batch_size=args.batch_size, max_len_b=args.max_len_b
    )
    if args.output:
        args.output.write_text("\n".join(hyps) + "\n", encoding="utf-8")
    print(f"{len(hyps)} sentences, beam {args.beam}, alpha {args.alpha}")
    report = score_translations(hyps, refs, target_lang=tgt_lang)
    print("== against the raw, cased references ==")
    print(report.format())
    summary = {"sentences": len(hyps), "beam": args.beam, "alpha": args.alpha, "raw": report.as_dict()}
    if tok_refs is not None:
        lc = score_translations(hyps, tok_refs, target_lang=tgt_lang, lowercase_tokenised=True)
        print("== against the lower-cased tokenised references (the Multi30k literature's convention) ==")
        print(lc.format())
        summary["lowercase_tokenised"] = lc.as_dict()
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return 0


def run_average(args: argparse.Namespace) -> int:
    from ..training.averaging import (
        average_checkpoints,
        select_by_interval,
        select_by_steps,
        select_last,
    )
    from ..training.loop import list_checkpoints

    missing = [p for p in args.run if not p.exists()]
    if missing:
        raise ValueError(f"{missing[0]} does not exist: no checkpoints to average")
    if len(args.run) == 1 and (args.run[0] / "checkpoints").is_dir():
        candidates = list_checkpoints(args.run[0])
    else:
        candidates = list(args.run)
    if not candidates:
        raise ValueError(f"no checkpoints found in {args.run[0]}")
    if args.every_minutes:
        chosen = select_by_interval(candidates, args.last, args.every_minutes)
    elif args.every_updates or args.after:
        chosen = select_by_steps(candidates, args.last, args.every_updates or 1, args.after)
    else:
        chosen = select_last(candidates, args.last)
    if not chosen:
        raise ValueError(f"no checkpoint after update {args.after} to average")
    out = average_checkpoints(chosen, args.out)
    print(f"averaged {len(chosen)} checkpoint(s): {', '.join(p.name for p in chosen)} → {out}")
    return 0
