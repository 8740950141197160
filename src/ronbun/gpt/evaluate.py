"""Evaluate a GPT checkpoint (``ronbun gpt evaluate``): a fine-tuned one on a task split with GPT-1's
metrics (§4.2: accuracy, MCC for CoLA, F1 for MRPC/QQP, Pearson for STS-B), a pre-trained language model by
its token-level perplexity on a corpus split or a file (windows of n_ctx, stride n_ctx: every token)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..settings import setting

__all__ = ["EvaluationConfig", "evaluate_checkpoint", "evaluate_lm", "evaluate_task"]


@dataclass
class EvaluationConfig:
    """What to evaluate a checkpoint on (``ronbun gpt evaluate``); ``None`` = what the training run
    recorded."""

    task: str | None = setting(None, "task (default: the one the checkpoint was fine-tuned on)")
    data_dir: str | None = setting(None, "task or corpus folder (default: the one used in training)")
    split: str | None = setting(
        None, "task split (default: the training run's evaluation split) or corpus split"
    )
    limit: int | None = setting(None, "only the first N examples")
    batch_size: int = setting(32, "examples per batch")
    predictions: Path | None = setting(None, "write one prediction per line here")
    corpus: str | None = setting(None, "LM: named corpus (default: the pre-training corpus)")
    file: Path | None = setting(None, "LM: plain-text file to score")
    max_windows: int | None = setting(
        None, "LM: score N windows evenly spaced over the text (default: all, every token)"
    )


def evaluate_checkpoint(checkpoint: Path, cfg: EvaluationConfig) -> dict[str, Any]:
    """The report of :func:`evaluate_task` for a checkpoint with a task head, else of :func:`evaluate_lm`."""
    from ..training.checkpoint import read_head, read_task_config, resolve_checkpoint

    ckpt = resolve_checkpoint(checkpoint)
    task_cfg = read_task_config(ckpt)
    recorded: dict[str, Any] = task_cfg.get("data", {})
    evaluate = evaluate_task if read_head(ckpt, task_cfg) is not None else evaluate_lm
    return evaluate(ckpt, recorded, cfg)


def evaluate_task(ckpt: Path, recorded: dict[str, Any], cfg: EvaluationConfig) -> dict[str, Any]:
    """Predict a task split with a fine-tuned checkpoint (default: its task and evaluation split) and
    compute the task's metrics; unlabeled splits give predictions only (written to ``predictions``)."""
    from ..evaluation.metrics import compute_metrics
    from ..training.checkpoint import GPT_WITH_HEAD, load_checkpoint
    from .finetune import DEFAULT_SPLITS, encode_examples, predict

    loaded = load_checkpoint(ckpt, expect=GPT_WITH_HEAD)
    model, tokenizer = loaded.model, loaded.tokenizer
    spec = model.spec
    data_dir = cfg.data_dir or recorded.get("data_dir")
    if data_dir is None:
        raise ValueError("give --data-dir (the checkpoint does not record one)")
    split = cfg.split or recorded.get("eval_split") or DEFAULT_SPLITS.get(spec.task, ("train", "dev"))[1]
    try:
        data = _split(cfg.task or spec.task, data_dir, split, recorded)
    except KeyError as exc:
        raise ValueError(str(exc.args[0]) if exc.args else str(exc)) from None
    if data.kind != spec.kind or (data.num_labels != spec.num_labels and spec.kind != "multiple_choice"):
        raise ValueError(
            f"{ckpt} was fine-tuned for {spec.task} ({spec.kind}, {spec.num_labels} labels); "
            f"{data.name} is {data.kind} with {data.num_labels} labels"
        )
    examples = data.examples[: cfg.limit] if cfg.limit else data.examples
    encoded, stats = encode_examples(examples, data.kind, tokenizer, spec.special, model.config.n_ctx)
    preds, _ = predict(model, encoded, batch_size=cfg.batch_size)
    if cfg.predictions:
        cfg.predictions.write_text("".join(f"{p}\n" for p in preds.tolist()), encoding="utf-8")
    report: dict[str, Any] = {"checkpoint": str(ckpt), "task": data.name, "split": split, "n": len(examples)}
    labels = [ex.label for ex in examples]
    if all(lab is not None for lab in labels):
        report.update(compute_metrics(data.name, preds.tolist(), labels))
    else:
        report["note"] = "unlabeled split: predictions only"
    report["truncated"] = str(stats)
    return report


def _split(task: str, data_dir: str, split: str, recorded: dict[str, Any]) -> Any:
    """A task split; ``holdout`` is the validation split carved from the training split at fine-tuning
    (``--holdout N``, recorded in the checkpoint), re-drawn with the same fixed seed."""
    from .finetune import DEFAULT_SPLITS
    from .tasks import carve_holdout, load_task

    if split != "holdout":
        return load_task(task, data_dir, split)
    if not recorded.get("holdout"):
        raise ValueError("this checkpoint was fine-tuned without --holdout: there is no holdout split")
    train_split = recorded.get("train_split") or DEFAULT_SPLITS.get(task, ("train", "dev"))[0]
    return carve_holdout(load_task(task, data_dir, train_split), int(recorded["holdout"]))[1]


def evaluate_lm(ckpt: Path, recorded: dict[str, Any], cfg: EvaluationConfig) -> dict[str, Any]:
    """Token-level loss and perplexity of a language model on a plain-text ``file`` or a corpus split
    (default: the pre-training corpus; its test split for wikitext2 and ptb, else its validation split)."""
    from .corpus import CorpusConfig, TokenStream, encode_lines, line_break_id, load_corpus
    from .language_model import load_gpt
    from .pretrain import evaluate_stream

    lm = load_gpt(ckpt)
    if cfg.file is not None:
        source = CorpusConfig(corpus="file", train_file=str(cfg.file), valid_file=str(cfg.file))
        lines, name, split = load_corpus(source)["valid"], str(cfg.file), "file"
    else:
        corpus = cfg.corpus or recorded.get("corpus") or "builtin"
        if corpus == "file":
            raise ValueError("the checkpoint was pre-trained on a file: give --file or --corpus")
        source = CorpusConfig(corpus=corpus, data_dir=cfg.data_dir or recorded.get("data_dir"))
        splits = load_corpus(source, eval_only=True)
        split = cfg.split or ("test" if corpus in ("wikitext2", "ptb") else "valid")  # their "valid" trains
        if split not in splits:
            raise ValueError(f"corpus {corpus!r} has no {split!r} split (has {', '.join(splits)})")
        lines, name = splits[split], corpus
    ids = encode_lines(lines, lm.tokenizer, separator=line_break_id(lm.tokenizer))
    metrics = evaluate_stream(lm.model, TokenStream(ids), lm.model.config.n_ctx, max_windows=cfg.max_windows)
    if not metrics:
        raise ValueError(f"{name} {split}: not enough text to score")
    return {
        "checkpoint": str(ckpt),
        "corpus": name,
        "split": split,
        "tokens": int(metrics["valid_tokens"]),
        "loss": metrics["valid_loss"],
        "perplexity": metrics["valid_ppl"],
    }
