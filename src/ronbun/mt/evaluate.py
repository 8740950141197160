"""Evaluate a translator on a test set (Transformer §6.1, Table 2): translate it and score the outputs with
sacreBLEU (with its signature), chrF and the paper-style tokenised BLEU, and, where the dataset has them,
against the lower-cased tokenised references the Multi30k literature reports on.

:func:`evaluate_checkpoint` is ``ronbun mt evaluate``; :func:`evaluate_translator` scores any object with a
``translate`` method.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..evaluation.bleu import BleuReport, score_translations
from ..settings import setting
from .commands import DecodingConfig, load_translator

__all__ = [
    "EvaluationConfig",
    "EvaluationData",
    "MTEvaluation",
    "evaluate_checkpoint",
    "evaluate_translator",
    "read_test_set",
]


class _Translates(Protocol):
    def translate(self, sentences: Sequence[str], **search: Any) -> list[str]: ...


@dataclass
class EvaluationData:
    """Source sentences, their references, and optionally lower-cased tokenised references."""

    src: list[str]
    refs: list[str]
    target_lang: str = "de"
    tokenised_refs: list[str] | None = None

    def head(self, limit: int | None) -> EvaluationData:
        """The first ``limit`` sentences (all when ``limit`` is falsy)."""
        if not limit:
            return self
        tok = self.tokenised_refs[:limit] if self.tokenised_refs else None
        return EvaluationData(self.src[:limit], self.refs[:limit], self.target_lang, tok)


@dataclass
class MTEvaluation:
    """The translations of a test set and their scores."""

    hyps: list[str]
    decoding: DecodingConfig
    raw: BleuReport
    lowercase_tokenised: BleuReport | None = None
    summary: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.summary = {
            "sentences": len(self.hyps),
            "beam": self.decoding.beam,
            "alpha": self.decoding.alpha,
            "precision": self.decoding.precision,
            "raw": self.raw.as_dict(),
        }
        if self.lowercase_tokenised is not None:
            self.summary["lowercase_tokenised"] = self.lowercase_tokenised.as_dict()

    def format(self) -> str:
        """The report as printed by ``ronbun mt evaluate``."""
        lines = [
            f"{len(self.hyps)} sentences, beam {self.decoding.beam}, alpha {self.decoding.alpha}",
            "== against the raw, cased references ==",
            self.raw.format(),
        ]
        if self.lowercase_tokenised is not None:
            lines.append(
                "== against the lower-cased tokenised references (the Multi30k literature's convention) =="
            )
            lines.append(self.lowercase_tokenised.format())
        return "\n".join(lines)


def evaluate_translator(
    translator: _Translates, test: EvaluationData, decoding: DecodingConfig
) -> MTEvaluation:
    """Translate ``test.src`` and score the outputs against the raw references (and the tokenised ones)."""
    hyps = translator.translate(test.src, **decoding.search())
    raw = score_translations(hyps, test.refs, target_lang=test.target_lang)
    lc = None
    if test.tokenised_refs is not None:
        lc = score_translations(
            hyps, test.tokenised_refs, target_lang=test.target_lang, lowercase_tokenised=True
        )
    return MTEvaluation(hyps, decoding, raw, lc)


@dataclass
class EvaluationConfig:
    """Which test set ``ronbun mt evaluate`` translates, and where its outputs go."""

    dataset: str | None = setting(None, "named dataset (builtin, multi30k); default: the checkpoint's")
    data_dir: str | None = setting(None, "local copy of the named dataset")
    split: str = setting("test", "split of the named dataset")
    src: Path | None = setting(None, "source file (instead of --dataset)")
    ref: Path | None = setting(None, "reference file, line-aligned with --src")
    tokenized_ref: Path | None = setting(
        None, "lower-cased tokenised references (Multi30k tok/*.lc.norm.tok.*)"
    )
    limit: int | None = setting(None, "only the first N sentences")
    output: Path | None = setting(None, "also write the translations here")
    json: Path | None = setting(None, "also write the scores as JSON here")


def read_test_set(checkpoint: Path, cfg: EvaluationConfig) -> EvaluationData:
    """Line-aligned ``src`` and ``ref`` files, else a split of a named dataset (by default the one the
    checkpoint was trained on, from its ``task_config.json``), always as raw text: a model trained on
    lower-cased tokenised text normalises its own input."""
    from ..data.parallel import read_lines

    if cfg.src is not None:
        if cfg.ref is None:
            raise ValueError("--src needs --ref")
        sources, refs = read_lines(cfg.src), read_lines(cfg.ref)
        if len(sources) != len(refs):
            raise ValueError(f"{cfg.src} has {len(sources)} lines but {cfg.ref} has {len(refs)}")
        test = EvaluationData(sources, refs)
    else:
        test = _dataset_split(checkpoint, cfg.dataset, cfg.data_dir, cfg.split)
    if cfg.tokenized_ref is not None:
        test.tokenised_refs = read_lines(cfg.tokenized_ref)
    return test.head(cfg.limit)


def _dataset_split(checkpoint: Path, dataset: str | None, data_dir: str | None, split: str) -> EvaluationData:
    from ..data.registry import load_dataset, tokenized_references
    from ..training.checkpoint import read_task_config

    trained = read_task_config(checkpoint).get("data", {})
    name = dataset or trained.get("dataset") or "builtin"
    src_lang, tgt_lang = trained.get("src_lang", "en"), trained.get("tgt_lang", "de")
    data_dir = data_dir or trained.get("data_dir")
    splits = load_dataset(name, src_lang, tgt_lang, data_dir=data_dir)
    if split not in splits:
        raise ValueError(f"dataset {name!r} has no split {split!r} (has {', '.join(splits)})")
    sources, refs = splits[split]
    tok = None
    if name == "multi30k":
        tok = tokenized_references(name, src_lang, tgt_lang, split, data_dir=data_dir)
    return EvaluationData(sources, refs, tgt_lang, tok)


def evaluate_checkpoint(
    checkpoint: Path | Sequence[Path], cfg: EvaluationConfig, decoding: DecodingConfig
) -> MTEvaluation:
    """``ronbun mt evaluate``: load the checkpoint (several: their ensemble), read the test set (by default
    the dataset the first checkpoint was trained on), translate and score it; the translations go to
    ``cfg.output`` and the scores to ``cfg.json`` (with the checkpoints' number as ``ensemble``) when given."""
    paths = [checkpoint] if isinstance(checkpoint, Path) else list(checkpoint)
    translator = load_translator(paths, decoding.threads, decoding.device)
    result = evaluate_translator(translator, read_test_set(paths[0], cfg), decoding)
    if len(paths) > 1:
        result.summary["ensemble"] = len(paths)
    if cfg.output:
        cfg.output.write_text("\n".join(result.hyps) + "\n", encoding="utf-8")
    if cfg.json:
        cfg.json.write_text(json.dumps(result.summary, indent=2) + "\n", encoding="utf-8")
    return result
