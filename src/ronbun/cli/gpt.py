"""``ronbun gpt …``: pre-train, generate, fine-tune, evaluate and zero-shot GPT-1 models (Radford et al. 2018).

Quick start (built-in text, no files needed; a few minutes on a laptop CPU)::

    ronbun gpt pretrain --preset tiny --max-steps 300 --lr 1e-3 --out runs/gpt-demo
    ronbun gpt generate runs/gpt-demo "The dog" --max-new-tokens 20 --top-k 20 --seed 0
    ronbun gpt finetune --init runs/gpt-demo --task sst2 --data-dir ../shared/data/glue --limit 500 --out runs/gpt-sst2
    ronbun gpt evaluate runs/gpt-sst2
    ronbun gpt zeroshot runs/gpt-demo --task winograd
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
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
from .main import CLIError

PRETRAIN_DATA_FLAGS: dict[str, type] = {
    "corpus": str,
    "data_dir": str,
    "train_file": str,
    "valid_file": str,
    "valid_fraction": float,
    "builtin_sentences": int,
    "tokenizer": str,
    "bpe_dir": str,
    "pre_tokenizer": str,
    "vocab_size": int,
    "lowercase": bool,
    "batch_size": int,
    "windows_per_epoch": int,
    "eval_windows": int,
}

FINETUNE_DATA_FLAGS: dict[str, type] = {
    "task": str,
    "data_dir": str,
    "train_split": str,
    "eval_split": str,
    "limit": int,
    "eval_limit": int,
    "batch_size": int,
    "epochs": float,
    "aux_lm": float,
    "clf_dropout": float,
    "n_transfer": int,
    "init": str,
    "vocab_size": int,
    "lowercase": bool,
}


def _err(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "gpt", help="GPT-1: pre-train, generate, fine-tune, evaluate, zero-shot (Radford et al. 2018)"
    )
    gsub = p.add_subparsers(dest="gpt_command", metavar="ACTION", required=True)

    # -- pretrain --------------------------------------------------------------------------------------------
    pt = gsub.add_parser(
        "pretrain",
        help="pre-train a GPT language model on text (§3.1, §4.1)",
        description="Pre-train GPT-1's decoder-only LM (Eq. 1) on random contiguous windows of n_ctx tokens. "
        "Defaults are the paper's §4.1: Adam (0.9, 0.999, 1e-8), max lr 2.5e-4 with linear warm-up over 2,000 "
        "updates (capped at 10% of a shorter run) then cosine annealing to 0, decoupled weight decay 0.01 on "
        "matrices, 64 windows per update (reach it with --batch-size × --accum-steps). With no corpus flags it "
        "trains on built-in generated English text. Settings come from --config ([data], [model], [trainer]) "
        "and are overridden by flags; the resolved configuration is saved in the run directory.",
    )
    add_config_arg(pt)
    g = pt.add_argument_group("data")
    g.add_argument("--corpus", help="builtin (default), tiny_shakespeare, brown, wikitext2, ptb")
    g.add_argument("--data-dir", help="folder holding the named corpus (e.g. the shared data folder)")
    g.add_argument("--train-file", help="plain-text training file instead of a named corpus (.gz ok)")
    g.add_argument(
        "--valid-file", help="plain-text validation file (default: the last --valid-fraction of --train-file)"
    )
    g.add_argument("--valid-fraction", type=float, help="held-out tail of --train-file (default 0.05)")
    g.add_argument(
        "--builtin-sentences", type=int, help="size of the built-in corpus (default 20000 sentences)"
    )
    g.add_argument(
        "--tokenizer",
        choices=("bpe", "gpt1"),
        help="bpe: train byte-level BPE on the corpus (default); "
        "gpt1: GPT-1's original 40,000-merge BPE (needs --bpe-dir)",
    )
    g.add_argument("--bpe-dir", help="folder with encoder_bpe_40000.json and vocab_40000.bpe")
    g.add_argument(
        "--pre-tokenizer", choices=("auto", "spacy", "basic"), help="GPT-1 BPE pre-tokenizer (default auto)"
    )
    g.add_argument("--vocab-size", type=int, help="byte-level BPE vocabulary size (default 8000)")
    g.add_argument(
        "--lowercase", action="store_true", default=None,
        help="byte-level BPE: lower-case all text (saved in the tokenizer, applied by every later use)",
    )  # fmt: skip
    g.add_argument("--batch-size", type=int, help="windows per micro-batch (paper: 64 per update)")
    g.add_argument(
        "--windows-per-epoch", type=int, help="windows that make one 'epoch' (default: tokens / n_ctx)"
    )
    g.add_argument("--eval-windows", type=int, help="validation windows (default 200; 0 = the whole split)")
    m = pt.add_argument_group("model")
    add_model_args(m, "tiny (default), small, mini, gpt1")
    m.add_argument("--init", help="continue pre-training from this GPT checkpoint (uses its tokenizer)")
    add_trainer_args(pt)
    pt.set_defaults(func=run_pretrain)

    # -- generate --------------------------------------------------------------------------------------------
    gen = gsub.add_parser(
        "generate",
        help="sample text from a GPT checkpoint (KV-cached)",
        description="Continue prompts with the language model (Eq. 2). Prompts come from the arguments, --input "
        "(one per line) or stdin; with none, one unconditional sample. Each output is printed as prompt + "
        "continuation.",
    )
    gen.add_argument(
        "checkpoint", type=Path, help="checkpoint directory or run directory (newest checkpoint)"
    )
    gen.add_argument("prompts", nargs="*", help="prompt texts")
    gen.add_argument("--input", "-i", type=Path, help="file of prompts, one per line")
    gen.add_argument("--max-new-tokens", type=int, default=50)
    gen.add_argument("--temperature", type=float, default=1.0)
    gen.add_argument("--top-k", type=int, help="sample among the k most probable tokens")
    gen.add_argument("--top-p", type=float, help="nucleus sampling: the smallest set with probability >= p")
    gen.add_argument("--greedy", action="store_true", help="argmax decoding")
    gen.add_argument("--seed", type=int, help="random seed (reproducible samples)")
    gen.add_argument("--num-samples", "-n", type=int, default=1, help="samples per prompt")
    gen.add_argument(
        "--stop-at-newline", action="store_true", help="end each continuation at its first line break"
    )
    gen.set_defaults(func=run_generate)

    # -- finetune --------------------------------------------------------------------------------------------
    ft = gsub.add_parser(
        "finetune",
        help="fine-tune a pre-trained GPT on a task (§3.2, §3.3)",
        description="Fine-tune with the §3.3 input transformation of the task (classification, entailment, "
        "similarity with both orders summed, multiple choice with a softmax over candidates) and L3 = L2 + λ·L1 "
        "(Eq. 5). Defaults are §4.1: lr 6.25e-5, batch 32, 3 epochs, linear warm-up over 0.2% of training then "
        "linear decay, classifier dropout 0.1, λ = 0.5, Adam (0.9, 0.999, 1e-8), weight decay 0.01.",
    )
    add_config_arg(ft)
    g = ft.add_argument_group("task")
    g.add_argument(
        "--task", help="cola, sst2, mrpc, stsb, qqp, mnli, qnli, rte, snli, scitail, story_cloze, race"
    )
    g.add_argument("--data-dir", help="the task's folder or its parent (e.g. the shared glue folder)")
    g.add_argument("--train-split", help="training split (default train; story_cloze: val)")
    g.add_argument(
        "--eval-split", help="evaluation split (default dev; story_cloze: test; mnli: dev_matched)"
    )
    g.add_argument("--limit", type=int, help="train on a seeded random subset of N examples")
    g.add_argument("--eval-limit", type=int, help="evaluate on the first N examples")
    g.add_argument(
        "--non-strict", action="store_true", help="skip (and count) malformed rows instead of failing"
    )
    g = ft.add_argument_group("fine-tuning")
    g.add_argument("--init", help="pre-trained GPT checkpoint or run directory")
    g.add_argument(
        "--from-scratch",
        action="store_true",
        default=None,
        help="no pre-training (Table 5): random initialisation, same budget",
    )
    g.add_argument("--batch-size", type=int, help="examples per micro-batch (paper: 32)")
    g.add_argument("--epochs", type=float, help="epochs (paper: 3)")
    g.add_argument("--aux-lm", type=float, help="λ of the auxiliary LM loss (paper 0.5; 0 = off, Table 5)")
    g.add_argument("--clf-dropout", type=float, help="dropout before the classifier (paper 0.1)")
    g.add_argument(
        "--n-transfer", type=int, help="transfer only the first N pre-trained layers (Figure 2 left)"
    )
    g.add_argument(
        "--lowercase", action="store_true", default=None,
        help="lower-case the task text, for a model pre-trained on text lower-cased before its tokenizer was "
        "trained (recorded in the fine-tuned checkpoint's tokenizer)",
    )  # fmt: skip
    g.add_argument("--vocab-size", type=int, help="--from-scratch without --init: BPE vocabulary size")
    add_model_args(g, "tiny (default), small, mini, gpt1", note="--from-scratch without --init: ")
    add_trainer_args(ft)
    ft.set_defaults(func=run_finetune)

    # -- evaluate --------------------------------------------------------------------------------------------
    ev = gsub.add_parser(
        "evaluate",
        help="task metrics of a fine-tuned checkpoint, or perplexity of a language model",
        description="A fine-tuned checkpoint: predict a task split and print its GPT-1 metrics (accuracy, MCC for "
        "CoLA, F1 for MRPC/QQP, Pearson for STS-B). A pre-trained LM: token-level perplexity on a corpus split "
        "(windows of n_ctx, stride n_ctx).",
    )
    ev.add_argument("checkpoint", type=Path)
    ev.add_argument("--task", help="task (default: the one the checkpoint was fine-tuned on)")
    ev.add_argument("--data-dir", help="task or corpus folder (default: the one used in training)")
    ev.add_argument(
        "--split", help="task split (default: the training run's evaluation split) or corpus split"
    )
    ev.add_argument("--limit", type=int, help="only the first N examples")
    ev.add_argument("--batch-size", type=int, default=32)
    ev.add_argument("--predictions", type=Path, help="write one prediction per line here")
    ev.add_argument("--corpus", help="LM: named corpus (default: the pre-training corpus)")
    ev.add_argument("--file", type=Path, help="LM: plain-text file to score")
    ev.add_argument("--max-windows", type=int, help="LM: score at most N windows")
    ev.add_argument("--json", action="store_true", help="print the result as JSON")
    ev.set_defaults(func=run_evaluate)

    # -- zeroshot --------------------------------------------------------------------------------------------
    zs = gsub.add_parser(
        "zeroshot",
        help="GPT-1's zero-shot heuristics (§5, Figure 2 right) with a pre-trained LM",
        description="sst2: append ' very' and compare P(positive) vs P(negative); cola: average token "
        "log-probability above a threshold fitted on the train split (max MCC) unless --threshold; story_cloze / "
        "race: the answer with the highest average log-probability given the context; winograd: substitute each "
        "candidate for the pronoun ('_') and compare the average log-probability of the rest (--winograd-file "
        "JSONL, else 10 built-in examples).",
    )
    zs.add_argument("checkpoint", type=Path)
    zs.add_argument("--task", required=True, help="sst2, cola, story_cloze, race, winograd")
    zs.add_argument("--data-dir", help="the task's folder or its parent")
    zs.add_argument("--split", help="split to evaluate (default dev; story_cloze: test)")
    zs.add_argument("--limit", type=int, help="a seeded random subset of N examples")
    zs.add_argument("--threshold", type=float, help="cola: fixed threshold on the average log-probability")
    zs.add_argument("--threshold-examples", type=int, default=2000, help="cola: train examples to fit it on")
    zs.add_argument("--winograd-file", type=Path, help="winograd: JSONL file (see ronbun.gpt.zeroshot)")
    zs.add_argument(
        "--lowercase", action="store_true",
        help="lower-case the task text: for a model pre-trained on text lower-cased before its tokenizer was "
        "trained (the tokenizer cannot know; pre-train with --lowercase to record it)",
    )  # fmt: skip
    zs.add_argument("--seed", type=int, default=0)
    zs.add_argument("--batch-size", type=int, default=16)
    zs.add_argument("--json", action="store_true")
    zs.set_defaults(func=run_zeroshot)


# -- helpers ---------------------------------------------------------------------------------------------------
def _write_run_config(out: Path, resolved: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "run_config.json").write_text(json.dumps(resolved, indent=2, default=str) + "\n", encoding="utf-8")


def _trainer_settings(
    defaults: dict[str, Any], args: argparse.Namespace, file_cfg: dict[str, Any]
) -> dict[str, Any]:
    """Paper defaults ← the config file's [trainer] section ← command-line flags."""
    return {**defaults, **trainer_config_from(args, file_cfg.get("trainer", {}))}


def _print_lines(report: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(report, default=str))
        return
    for key, value in report.items():
        print(f"{key}: {value:.4f}" if isinstance(value, float) else f"{key}: {value}")


# -- commands ------------------------------------------------------------------------------------------------
def run_pretrain(args: argparse.Namespace) -> int:
    from ..gpt.pretrain import PRETRAIN_TRAINER_DEFAULTS, LMDataConfig, LMTask, default_warmup
    from ..training.loop import Trainer, TrainerConfig

    file_cfg = read_sections(args.config)
    data = data_section(args, file_cfg, PRETRAIN_DATA_FLAGS)
    if data.get("train_file") and "corpus" not in data:
        data["corpus"] = "file"
    preset, model = model_section(args, file_cfg, "tiny")
    trainer = _trainer_settings(PRETRAIN_TRAINER_DEFAULTS, args, file_cfg)
    trainer.setdefault("max_steps", 1000)
    if "warmup" not in trainer:
        trainer["warmup"] = default_warmup(trainer["max_steps"])
        if trainer["warmup"] != 2000:
            _err(
                f"warm-up: {trainer['warmup']} updates (the paper's 2000, capped at 10% of {trainer['max_steps']} steps)"
            )
    tcfg = TrainerConfig.from_dict(trainer)
    dcfg = LMDataConfig.from_dict(data)
    out = Path(tcfg.out_dir)
    _write_run_config(
        out, {"preset": preset, "data": data, "model": model, "trainer": tcfg.to_dict(), "init": args.init}
    )
    task = LMTask(
        dcfg, out_dir=out, seed=tcfg.seed, preset=preset, model_overrides=model, init=args.init, log=_err
    )
    n = sum(p.numel() for p in task.model.parameters())
    c = task.model_config
    _err(
        f"model: {'--init ' + args.init if args.init else preset} GPT, {c.n_layers} layers × d_model {c.d_model}, "
        f"n_ctx {c.n_ctx}, {n:,} parameters; vocabulary {task.tokenizer.vocab_size:,}; "
        f"{len(task.train_stream):,} training tokens; epoch = {task.windows_per_epoch:,} windows; "
        f"{dcfg.batch_size * tcfg.accum_steps} windows per update"
    )
    result = Trainer(task, tcfg, resume=args.resume).fit()
    print(json.dumps(result, default=str))
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
    from ..gpt.language_model import load_gpt

    lm = load_gpt(args.checkpoint)
    prompts = [p for p in _read_prompts(args) for _ in range(max(1, args.num_samples))]
    outputs = lm.generate(
        prompts,
        args.max_new_tokens,
        temperature=args.temperature,
        top_k=args.top_k,
        top_p=args.top_p,
        seed=args.seed,
        greedy=args.greedy,
        stop_at_newline=args.stop_at_newline,
    )
    for i, text in enumerate(outputs):
        if i and len(outputs) > 1:
            print("---")
        print(text, flush=True)
    return 0


def run_finetune(args: argparse.Namespace) -> int:
    from ..gpt.finetune import FINETUNE_TRAINER_DEFAULTS, FineTuneConfig, FineTuneTask
    from ..training.loop import Trainer, TrainerConfig

    file_cfg = read_sections(args.config)
    data = data_section(args, file_cfg, FINETUNE_DATA_FLAGS)
    if args.from_scratch:
        data["from_scratch"] = True
    if args.non_strict:
        data["strict"] = False
    if "task" not in data:
        raise CLIError("give --task (e.g. sst2, cola, mrpc, rte, story_cloze)")
    preset, model = model_section(args, file_cfg, "tiny")
    trainer = _trainer_settings(FINETUNE_TRAINER_DEFAULTS, args, file_cfg)
    fcfg = FineTuneConfig.from_dict(data)
    out = Path(trainer["out_dir"])
    seed = int(trainer.get("seed", 0))
    try:
        task = FineTuneTask(fcfg, out_dir=out, seed=seed, preset=preset, model_overrides=model, log=_err)
    except KeyError as exc:  # unknown task name
        raise CLIError(str(exc.args[0]) if exc.args else str(exc)) from None
    accum = int(trainer.get("accum_steps", 1))
    total = task.total_updates(accum)
    per_epoch = max(1, math.ceil(task.batches_per_epoch / accum))
    trainer.setdefault("max_steps", total)
    trainer.setdefault("schedule_total", trainer["max_steps"])
    trainer.setdefault(
        "warmup", max(1, math.ceil(0.002 * trainer["schedule_total"]))
    )  # 0.2% of training (§4.1)
    trainer.setdefault("eval_every", per_epoch)
    trainer.setdefault("save_every", per_epoch)
    trainer.setdefault("log_every", max(1, min(20, per_epoch)))
    tcfg = TrainerConfig.from_dict(trainer)
    _write_run_config(
        out, {"preset": preset, "data": dataclasses.asdict(fcfg), "model": model, "trainer": tcfg.to_dict()}
    )
    n = sum(p.numel() for p in task.model.parameters())
    source = (
        "random initialisation (no pre-training)" if fcfg.from_scratch else f"pre-trained {task.init_dir}"
    )
    if fcfg.n_transfer is not None and not fcfg.from_scratch:
        source += f", first {fcfg.n_transfer} layer(s) transferred"
    _err(
        f"fine-tuning {task.task_name} ({task.spec.kind}, {task.spec.num_labels} label(s)) from {source}: "
        f"{n:,} parameters; {len(task.train_examples):,} examples × {fcfg.epochs:g} epochs = {tcfg.max_steps} "
        f"updates of {fcfg.batch_size * tcfg.accum_steps}; warm-up {tcfg.warmup}; λ = {fcfg.aux_lm:g}"
    )
    result = Trainer(task, tcfg, resume=args.resume).fit()
    result["truncated_examples"] = {
        "train": task.train_stats.truncated_examples,
        "eval": task.eval_stats.truncated_examples,
    }
    print(json.dumps(result, default=str))
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    from ..training.checkpoint import read_head, read_task_config, resolve_checkpoint

    ckpt = resolve_checkpoint(args.checkpoint)
    task_cfg = read_task_config(ckpt)
    if read_head(ckpt, task_cfg) is not None:
        return _evaluate_task(args, ckpt, task_cfg)
    return _evaluate_lm(args, ckpt, task_cfg)


def _evaluate_task(args: argparse.Namespace, ckpt: Path, task_cfg: dict[str, Any]) -> int:
    from ..evaluation.metrics import compute_metrics
    from ..gpt.finetune import DEFAULT_SPLITS, encode_examples, predict
    from ..gpt.tasks import load_task
    from ..training.checkpoint import GPT_WITH_HEAD, load_checkpoint

    loaded = load_checkpoint(ckpt, expect=GPT_WITH_HEAD)
    model, tokenizer = loaded.model, loaded.tokenizer
    spec = model.spec
    data_cfg = task_cfg.get("data", {})
    task = args.task or spec.task
    data_dir = args.data_dir or data_cfg.get("data_dir")
    if data_dir is None:
        raise CLIError("give --data-dir (the checkpoint does not record one)")
    split = args.split or data_cfg.get("eval_split") or DEFAULT_SPLITS.get(spec.task, ("train", "dev"))[1]
    try:
        data = load_task(task, data_dir, split)
    except KeyError as exc:
        raise CLIError(str(exc.args[0]) if exc.args else str(exc)) from None
    if data.kind != spec.kind or (data.num_labels != spec.num_labels and spec.kind != "multiple_choice"):
        raise CLIError(
            f"{ckpt} was fine-tuned for {spec.task} ({spec.kind}, {spec.num_labels} labels); "
            f"{data.name} is {data.kind} with {data.num_labels} labels"
        )
    examples = data.examples[: args.limit] if args.limit else data.examples
    encoded, stats = encode_examples(examples, data.kind, tokenizer, spec.special, model.config.n_ctx)
    preds, _ = predict(model, encoded, batch_size=args.batch_size)
    if args.predictions:
        args.predictions.write_text("".join(f"{p}\n" for p in preds.tolist()), encoding="utf-8")
    report: dict[str, Any] = {"checkpoint": str(ckpt), "task": data.name, "split": split, "n": len(examples)}
    labels = [ex.label for ex in examples]
    if all(lab is not None for lab in labels):
        report.update(compute_metrics(data.name, preds.tolist(), labels))
    else:
        report["note"] = "unlabeled split: predictions only"
    report["truncated"] = str(stats)
    _print_lines(report, args.json)
    return 0


def _evaluate_lm(args: argparse.Namespace, ckpt: Path, task_cfg: dict[str, Any]) -> int:
    from ..gpt.corpus import CorpusConfig, TokenStream, encode_lines, line_break_id, load_corpus
    from ..gpt.language_model import load_gpt
    from ..gpt.pretrain import evaluate_stream

    lm = load_gpt(ckpt)
    data_cfg = task_cfg.get("data", {})
    if args.file is not None:
        cfg = CorpusConfig(corpus="file", train_file=str(args.file), valid_file=str(args.file))
        lines = load_corpus(cfg)["valid"]
        name, split = str(args.file), "file"
    else:
        corpus = args.corpus or data_cfg.get("corpus") or "builtin"
        if corpus == "file":
            raise CLIError("the checkpoint was pre-trained on a file: give --file or --corpus")
        data_dir = args.data_dir or data_cfg.get("data_dir")
        splits = load_corpus(CorpusConfig(corpus=corpus, data_dir=data_dir), eval_only=True)
        split = args.split or ("test" if corpus in ("wikitext2", "ptb") else "valid")  # their "valid" trains
        if split not in splits:
            raise CLIError(f"corpus {corpus!r} has no {split!r} split (has {', '.join(splits)})")
        lines, name = splits[split], corpus
    ids = encode_lines(lines, lm.tokenizer, separator=line_break_id(lm.tokenizer))
    metrics = evaluate_stream(lm.model, TokenStream(ids), lm.model.config.n_ctx, max_windows=args.max_windows)
    if not metrics:
        raise CLIError(f"{name} {split}: not enough text to score")
    report = {
        "checkpoint": str(ckpt),
        "corpus": name,
        "split": split,
        "tokens": int(metrics["valid_tokens"]),
        "loss": metrics["valid_loss"],
        "perplexity": metrics["valid_ppl"],
    }
    _print_lines(report, args.json)
    return 0


def run_zeroshot(args: argparse.Namespace) -> int:
    from ..gpt.language_model import load_gpt
    from ..gpt.zeroshot import run_zeroshot as zeroshot

    lm = load_gpt(args.checkpoint)
    if args.lowercase and hasattr(lm.tokenizer, "lowercase"):  # GPT-1's own BPE lower-cases already
        lm.tokenizer.lowercase = True
    try:
        report = zeroshot(
            lm.model,
            lm.tokenizer,
            args.task,
            data_dir=args.data_dir,
            split=args.split,
            limit=args.limit,
            threshold=args.threshold,
            threshold_examples=args.threshold_examples,
            winograd_file=args.winograd_file,
            seed=args.seed,
            batch_size=args.batch_size,
        )
    except KeyError as exc:
        raise CLIError(str(exc.args[0]) if exc.args else str(exc)) from None
    _print_lines({"checkpoint": str(lm.directory), **report, "lowercase": bool(args.lowercase)}, args.json)
    return 0
