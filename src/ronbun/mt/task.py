"""Translation training (Transformer §5): data → shared BPE → token-budget batches → label-smoothed loss.

:class:`TranslationTask` is what the one training loop (:mod:`ronbun.training.loop`) runs for paper 1.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from ..data.batching import TokenizedCache, collate, token_budget_batches
from ..data.parallel import read_parallel
from ..data.registry import load_dataset
from ..models import Transformer, TransformerConfig
from ..settings import from_mapping, setting
from ..text.bpe import BOS_ID, EOS_ID, PAD_ID, TextTokenizer
from ..text.bpe_dropout import BPEDropout
from ..text.moses import normalization_record
from ..training.checkpoint import ensure_output_dir
from ..training.distributed import rank_zero_first
from ..training.losses import nll, output_layer_nll


@dataclass
class MTDataConfig:
    """Where the parallel text comes from and how it is tokenised and batched (the ``[data]`` section of
    ``ronbun mt train``)."""

    dataset: str | None = setting(
        "builtin", "named dataset: builtin (generated, no download) or multi30k; none with explicit files"
    )
    data_dir: str | None = setting(
        None, "local copy of the named dataset (else RONBUN_DATA_DIR, the cache, a download)"
    )
    src_lang: str = setting("en", "source language")
    tgt_lang: str = setting("de", "target language")
    train_src: str | None = setting(None, "training source file, one sentence per line (.gz ok)")
    train_tgt: str | None = setting(None, "training target file, line-aligned with --train-src")
    valid_src: str | None = setting(None, "validation source file, one sentence per line (.gz ok)")
    valid_tgt: str | None = setting(None, "validation target file, line-aligned with --valid-src")
    test_src: str | None = setting(None, "test source file, one sentence per line (.gz ok)")
    test_tgt: str | None = setting(None, "test target file, line-aligned with --test-src")
    lowercase_tokenized: bool = setting(
        False, "multi30k: train on the lower-cased tokenised lc.norm.tok files (the literature's setup)"
    )
    vocab_size: int = setting(8000, "shared BPE vocabulary size (paper: ~37000)", paper="§5.1")
    bpe_dropout: float = setting(
        0.0,
        "BPE-dropout: re-segment the training text every epoch, dropping each merge with this probability "
        "(Provilkov et al., 2020; not in the paper; 0 = off)",
    )
    max_len: int = setting(200, "drop (and count) training pairs longer than this many tokens, either side")
    max_tokens: int = setting(
        4096, "tokens per batch and side, padding included (paper: ~25000)", paper="§5.1"
    )
    valid_bleu_sentences: int = setting(300, "validation BLEU (greedy) on the first N valid pairs (0 = off)")
    cache_dir: str | None = setting(None, "download and tokenizer cache", cli=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MTDataConfig:
        return from_mapping(cls, data, "data")


@dataclass
class SplitData:
    src_lines: list[str]
    tgt_lines: list[str]
    src_ids: list[np.ndarray] = field(default_factory=list)
    tgt_ids: list[np.ndarray] = field(default_factory=list)


def load_splits(cfg: MTDataConfig) -> dict[str, tuple[list[str], list[str]]]:
    """Raw sentence pairs per split, validated (equal counts, UTF-8, empty lines reported)."""
    if cfg.dataset is not None and cfg.train_src is None:
        return load_dataset(
            cfg.dataset,
            cfg.src_lang,
            cfg.tgt_lang,
            data_dir=cfg.data_dir,
            cache_dir=cfg.cache_dir,
            tokenized=cfg.lowercase_tokenized,
        )
    if not (cfg.train_src and cfg.train_tgt):
        raise ValueError("give --dataset NAME or both --train-src and --train-tgt")
    splits: dict[str, tuple[list[str], list[str]]] = {}
    for split in ("train", "valid", "test"):
        src, tgt = getattr(cfg, f"{split}_src"), getattr(cfg, f"{split}_tgt")
        if src is None and tgt is None:
            continue
        if src is None or tgt is None:
            raise ValueError(f"--{split}-src and --{split}-tgt must be given together")
        corpus = read_parallel(src, tgt)
        if corpus.report.n_dropped:
            print(corpus.report.summary())
        splits[split] = (corpus.src, corpus.tgt)
    return splits


class TranslationTask:
    """Paper 1's training job for :class:`ronbun.training.loop.Trainer`."""

    def __init__(
        self,
        data: MTDataConfig,
        model_config: TransformerConfig | None = None,
        *,
        out_dir: str | Path,
        seed: int = 0,
        preset: str = "small",
        model_overrides: dict[str, Any] | None = None,
        tokenizer: TextTokenizer | None = None,
        log=print,
    ) -> None:
        self.data, self.seed, self.log = data, seed, log
        self.out_dir = ensure_output_dir(out_dir)
        with rank_zero_first():  # under torchrun, rank 0 trains the tokenizer and fills the caches first
            self._prepare(data, tokenizer, log)
        train = self.splits["train"]
        src_len = np.array([len(x) for x in train.src_ids])
        tgt_len = np.array([len(x) + 1 for x in train.tgt_ids])  # + BOS/EOS
        keep = (src_len <= data.max_len) & (tgt_len <= data.max_len) & (src_len > 0) & (tgt_len > 1)
        n_filtered = int((~keep).sum())
        if n_filtered:
            log(f"filtered {n_filtered} training pair(s) longer than max_len={data.max_len} tokens or empty")
        self.train_index = np.nonzero(keep)[0]
        self.train_src_len = src_len[keep]
        self.train_tgt_len = tgt_len[keep]
        if model_config is None:
            model_config = TransformerConfig.preset(
                preset,
                vocab_size=self.tokenizer.vocab_size,
                pad_id=PAD_ID,
                bos_id=BOS_ID,
                eos_id=EOS_ID,
                max_positions=max(1024, data.max_len + 64),
                **(model_overrides or {}),
            )
        if data.lowercase_tokenized:  # the translator must lower-case/tokenise input and detokenise output
            spec = {
                **model_config.extra.get("tokenizer", {}),
                **normalization_record(data.src_lang, data.tgt_lang),
            }
            model_config.extra = {**model_config.extra, "tokenizer": spec}
        self.model_config = model_config
        torch.manual_seed(seed)
        self.model: nn.Module = Transformer(model_config)
        self._epoch_cache: tuple[int, list] | None = None
        self._epoch_ids: tuple[list, list] | None = None  # this epoch's BPE-dropout segmentation
        self._dropout = BPEDropout(self.tokenizer, data.bpe_dropout) if data.bpe_dropout != 0 else None

    def _prepare(self, data: MTDataConfig, tokenizer: TextTokenizer | None, log) -> None:
        raw = load_splits(data)
        if "train" not in raw or not raw["train"][0]:
            raise ValueError("the training split is empty")
        self.raw = raw
        self.tokenizer_file = self.out_dir / "tokenizer.json"
        if tokenizer is None:
            if self.tokenizer_file.is_file():
                tokenizer = TextTokenizer.load(self.tokenizer_file)
            else:
                src, tgt = raw["train"]
                tokenizer = TextTokenizer.train([*src, *tgt], data.vocab_size)
                tokenizer.save(self.tokenizer_file)
                log(
                    f"trained a shared byte-level BPE vocabulary of {tokenizer.vocab_size} tokens → {self.tokenizer_file}"
                )
        else:
            tokenizer.save(self.tokenizer_file)
        self.tokenizer = tokenizer
        cache = TokenizedCache(data.cache_dir or self.out_dir / "cache")
        self.splits: dict[str, SplitData] = {}
        for name, (src, tgt) in raw.items():
            split = SplitData(src, tgt)
            split.src_ids = cache.encode(src, tokenizer.encode_batch, tokenizer.fingerprint())
            split.tgt_ids = cache.encode(tgt, tokenizer.encode_batch, tokenizer.fingerprint())
            self.splits[name] = split

    # -- Task protocol -------------------------------------------------------------------------------------
    def epoch_batches(self, epoch: int) -> list[np.ndarray]:
        if self._epoch_cache is None or self._epoch_cache[0] != epoch:
            index, src_len, tgt_len = self.train_index, self.train_src_len, self.train_tgt_len
            if self._dropout is not None:  # a fresh segmentation for this epoch, from (seed, epoch) alone
                train = self.splits["train"]
                src_ids = self._dropout.encode_epoch(train.src_lines, self.seed, epoch)
                tgt_ids = self._dropout.encode_epoch(train.tgt_lines, self.seed + 1, epoch)
                self._epoch_ids = (src_ids, tgt_ids)
                src_len = np.array([len(src_ids[i]) for i in index])
                tgt_len = np.array([len(tgt_ids[i]) + 1 for i in index])
                fits = (src_len <= self.data.max_len) & (tgt_len <= self.data.max_len)
                index, src_len, tgt_len = index[fits], src_len[fits], tgt_len[fits]
            batches = token_budget_batches(
                src_len, tgt_len, self.data.max_tokens, epoch=epoch, seed=self.seed
            )
            self._epoch_cache = (epoch, [index[b] for b in batches])
        return self._epoch_cache[1]

    def collate(self, batch: np.ndarray, rank: int = 0, world: int = 1) -> dict[str, Tensor]:
        rows = batch[rank::world] if world > 1 else batch
        train = self.splits["train"]
        src_ids, tgt_ids = self._epoch_ids if self._dropout is not None else (train.src_ids, train.tgt_ids)
        src, tgt_in, tgt_out = collate(
            [src_ids[i] for i in rows], [tgt_ids[i] for i in rows], PAD_ID, BOS_ID, EOS_ID
        )
        return {"src": src, "tgt_in": tgt_in, "tgt_out": tgt_out, "n_tokens": (tgt_out != PAD_ID).sum()}

    def loss(self, model: nn.Module, t: dict[str, Tensor]) -> tuple[Tensor, Tensor]:
        """§5.4: label-smoothed cross-entropy summed over target tokens, with the §3.4 projection fused in."""
        hidden = model(t["src"], t["tgt_in"], return_hidden=True)  # (B, T, d_model)
        c = self.model_config
        return output_layer_nll(
            model,
            hidden,
            t["tgt_out"],
            epsilon=c.label_smoothing,
            ignore_index=PAD_ID,
            mass=c.label_smoothing_mass,
        )

    @torch.no_grad()
    def evaluate(self, model: nn.Module) -> dict[str, float]:
        if "valid" not in self.splits:
            return {}
        valid = self.splits["valid"]
        lens_s = np.array([len(x) for x in valid.src_ids])
        lens_t = np.array([len(x) + 1 for x in valid.tgt_ids])
        ok = np.nonzero((lens_s > 0) & (lens_s <= self.data.max_len) & (lens_t <= self.data.max_len))[0]
        total, count = 0.0, 0
        for b in token_budget_batches(
            lens_s[ok], lens_t[ok], self.data.max_tokens, epoch=0, seed=0, shuffle=False
        ):
            rows = ok[b]
            src, tgt_in, tgt_out = collate(
                [valid.src_ids[i] for i in rows], [valid.tgt_ids[i] for i in rows], PAD_ID, BOS_ID, EOS_ID
            )
            dev = next(model.parameters()).device
            loss, n = nll(model(src.to(dev), tgt_in.to(dev)), tgt_out.to(dev), ignore_index=PAD_ID)
            total += float(loss)
            count += int(n)
        metrics = {"valid_loss": total / max(count, 1), "valid_ppl": math.exp(min(total / max(count, 1), 50))}
        n_bleu = min(self.data.valid_bleu_sentences, len(valid.src_lines))
        if n_bleu:
            from ..evaluation.bleu import score_translations
            from .translator import Translator

            translator = Translator(model, self.tokenizer)  # type: ignore[arg-type]
            hyps = translator.translate(valid.src_lines[:n_bleu], beam=1)
            report = score_translations(hyps, valid.tgt_lines[:n_bleu], target_lang=self.data.tgt_lang)
            metrics["valid_bleu"] = report.sacrebleu.score
        return metrics

    def describe(self) -> dict[str, Any]:
        return {"task": "translation", "data": dataclasses.asdict(self.data), "seed": self.seed}
