"""GPT-1 supervised fine-tuning (§3.2, §3.3, §4.1) as a :class:`~ronbun.training.loop.Task`.

§3.2: the final transformer block's activation ``h_l^m`` at the last input token feeds "an added linear output
layer with parameters ``W_y``": ``P(y | x^1..x^m) = softmax(h_l^m W_y)`` (Eq. 3), trained with
``L2(C) = Σ log P(y | x^1..x^m)`` (Eq. 4) plus the language-modelling objective on the task's own text as an
auxiliary loss: ``L3(C) = L2(C) + λ · L1(C)`` (Eq. 5, λ = 0.5).

§3.3 input transformations (Figure 1; :mod:`ronbun.gpt.transforms`), with randomly initialised start ``⟨s⟩``,
delimiter ``$`` and extract ``⟨e⟩`` embeddings (:meth:`GPT.add_special_tokens`); the state at ``⟨e⟩`` is used:

* classification: ``⟨s⟩ text ⟨e⟩`` → linear → ``(B, num_labels)``;
* entailment: ``⟨s⟩ premise $ hypothesis ⟨e⟩`` → linear → ``(B, num_labels)``;
* similarity: ``⟨s⟩ A $ B ⟨e⟩`` and ``⟨s⟩ B $ A ⟨e⟩``, "processed independently to produce two sequence
  representations ``h_l^m`` which are added element-wise before being fed into the linear output layer";
* multiple choice: ``⟨s⟩ z ; q $ a_k ⟨e⟩`` for every answer ``k``, one scalar each, "normalized via a softmax
  layer to produce an output distribution over possible answers".

Regression (STS-B, ``num_labels = 1``) uses the same similarity input with one output and a squared error.

§4.1 "Fine-tuning details": dropout 0.1 before the classifier, lr 6.25e-5, batch 32, 3 epochs, linear
learning-rate decay with warm-up over 0.2% of training, λ = 0.5; everything else as in pre-training.

Losses as in OpenAI's ``finetune-transformer-lm`` (the only released fine-tuning code): the task loss is the
mean over examples; the auxiliary LM loss of a sequence is its mean token NLL (predicting every token after
``⟨s⟩``, the delimiter and ``⟨e⟩`` included), averaged over the example's sequences; ``L3 = mean(L2) + λ ·
mean(L1)``.  For the trainer this is ``Σ_examples (L2_i + λ L1_i)`` with ``n_tokens`` = number of examples.

**Checkpoint.**  The network, :class:`~ronbun.models.task_head.GPTClassifier` (a GPT with the head ``W_y``),
its :class:`~ronbun.models.task_head.HeadSpec` and the layer transfer live on the models floor
(:mod:`ronbun.models.task_head`), so the Trainer's ordinary checkpoint holds the fine-tuned model and
:func:`ronbun.training.checkpoint.load_checkpoint` (hence :func:`ronbun.load`) opens it without this module;
:meth:`FineTuneTask.describe` records the head in ``task_config.json``.  Resume is exact with no Trainer
change.

Layer transfer (Figure 2 left, ``n_transfer``): the token and position embeddings and the first ``n`` blocks
come from the pre-trained model; the other blocks keep their random N(0, 0.02) initialisation.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..evaluation.metrics import compute_metrics
from ..models.decoder_only import GPT, GPTConfig
from ..models.task_head import HEAD_KEY, GPTClassifier, HeadSpec, SpecialTokens
from ..settings import from_mapping, setting
from ..training.checkpoint import CheckpointError, load_checkpoint
from .corpus import tokenizer_spec
from .pretrain import PRETRAIN_TRAINER_DEFAULTS
from .tasks import TaskData, TaskExample, carve_holdout, load_task
from .transforms import TransformedExample, TruncationStats, collate, transform

__all__ = [
    "DEFAULT_SPLITS",
    "FINETUNE_TRAINER_DEFAULTS",
    "FineTuneConfig",
    "FineTuneTask",
    "encode_examples",
    "lm_loss_per_example",
    "lm_loss_sum",
    "predict",
    "task_loss",
]

#: §4.1 fine-tuning optimisation (``TrainerConfig`` keys): "unless specified, we reuse the hyperparameter
#: settings from unsupervised pre-training" (Adam, weight decay, clipping); the learning rate and its linear
#: decay are specified.  ``max_steps``/``warmup`` follow from the data.
FINETUNE_TRAINER_DEFAULTS: dict[str, Any] = {
    **PRETRAIN_TRAINER_DEFAULTS,
    "schedule": "linear",
    "lr": 6.25e-5,
    "out_dir": "runs/gpt-finetune",
}

#: Default (train, evaluation) splits.  GPT-1 fine-tunes Story Cloze on part of the *val* file and reports *test*.
DEFAULT_SPLITS: dict[str, tuple[str, str]] = {
    "story_cloze": ("val", "test"),
    "mnli": ("train", "dev_matched"),
}


# -- losses ------------------------------------------------------------------------------------------------
def task_loss(logits: Tensor, labels: Tensor, spec: HeadSpec) -> Tensor:
    """L2 (Eq. 4) summed over the batch: cross-entropy over classes or candidates (softmax over the
    multiple-choice scalars), squared error for regression."""
    if spec.regression:
        return F.mse_loss(logits.float(), labels.float(), reduction="sum")
    return F.cross_entropy(logits.float(), labels, reduction="sum")


def lm_loss_per_example(lm_logits: Tensor, ids: Tensor, mask: Tensor) -> Tensor:
    """L1 (Eq. 1) on the task input, per example ``(B,)``: each sequence's mean NLL of its tokens after the
    first (``lm_logits (B·C, T, V)``, ``ids``/``mask (B, C, T)``), averaged over the C sequences."""
    b, c, t = ids.shape
    flat_ids = ids.reshape(b * c, t)
    keep = mask.reshape(b * c, t)[:, 1:].float()  # (B·C, T-1): target position is a real token
    tok = F.cross_entropy(
        lm_logits[:, :-1].float().reshape(-1, lm_logits.shape[-1]),
        flat_ids[:, 1:].reshape(-1),
        reduction="none",
    ).view(b * c, t - 1)
    per_seq = (tok * keep).sum(1) / keep.sum(1).clamp(min=1.0)  # (B·C,)
    return per_seq.view(b, c).mean(1)  # (B,)


def lm_loss_sum(model: nn.Module, hidden: Tensor, ids: Tensor, mask: Tensor) -> Tensor:
    """``Σ_examples`` of :func:`lm_loss_per_example` from the final hidden states ``(B·C, T, d)``, with the
    model's tied output layer fused into the loss (no ``(B·C, T, V)`` logits: 40,478 wide for GPT-1)."""
    from ..training.losses import output_layer_nll

    b, c, t = ids.shape
    keep = mask.reshape(b * c, t)[:, 1:].bool()  # (B·C, T-1): target position is a real token
    target = ids.reshape(b * c, t)[:, 1:].masked_fill(~keep, -100)  # (B·C, T-1)
    per_token = 1.0 / (keep.sum(1, keepdim=True).clamp(min=1) * c)  # (B·C, 1): mean over tokens and C
    loss, _ = output_layer_nll(
        model, hidden[:, :-1], target, row_weight=per_token.expand(-1, t - 1).to(hidden.dtype)
    )
    return loss


# -- data --------------------------------------------------------------------------------------------------
def encode_examples(
    data: TaskData | Sequence[TaskExample], kind: str, tokenizer: Any, special: SpecialTokens, n_ctx: int
) -> tuple[list[TransformedExample], TruncationStats]:
    """Tokenise and transform examples (§3.3), batch-encoding every distinct text once."""
    examples = list(data.examples if isinstance(data, TaskData) else data)
    texts: dict[str, int] = {}
    for ex in examples:
        for s in (*ex.texts, *(ex.choices or ())):
            texts.setdefault(s, len(texts))
    ids = tokenizer.encode_batch(list(texts)) if texts else []
    stats = TruncationStats()
    out = []
    for ex in examples:
        enc = [ids[texts[s]] for s in ex.texts]
        choices = [ids[texts[s]] for s in ex.choices] if ex.choices is not None else None
        out.append(stats.add(transform(kind, enc, special=special, n_ctx=n_ctx, choices=choices)))
    return out, stats


@torch.no_grad()
def predict(
    model: GPTClassifier, examples: Sequence[TransformedExample], *, batch_size: int = 32
) -> tuple[np.ndarray, np.ndarray]:
    """``(predictions, scores)``: class / candidate index (argmax) or the regression value, and the raw
    task logits (``(N, n)`` or ``(N,)``)."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    scores = []
    for i in range(0, len(examples), batch_size):
        batch = collate(examples[i : i + batch_size]).to(device)
        logits, _ = model(batch.input_ids, batch.extract_positions)  # type: ignore[misc]
        scores.append(logits.float().cpu())
    model.train(was_training)
    if not scores:
        return np.zeros(0), np.zeros(0)
    s = torch.cat(scores).numpy()
    preds = s if model.spec.regression else s.argmax(axis=-1)
    return preds, s


def _texts_for_tokenizer(data: TaskData) -> list[str]:
    return [s for ex in data.examples for s in (*ex.texts, *(ex.choices or ()))]


@dataclass
class FineTuneConfig:
    """Task, data and fine-tuning settings (the ``[data]`` section of ``ronbun gpt finetune``)."""

    task: str = setting(
        "sst2",
        "cola, sst2, mrpc, stsb, qqp, mnli, qnli, rte, snli, scitail, story_cloze or race",
        paper="§4.2",
    )
    data_dir: str | None = setting(None, "the task's folder or its parent (e.g. the shared glue folder)")
    train_split: str | None = setting(None, "training split (default train; story_cloze: val)")
    eval_split: str | None = setting(
        None, "evaluation split (default dev; story_cloze: test; mnli: dev_matched)"
    )
    holdout: int | None = setting(
        None,
        "carve N examples (fixed seed) from the training split as the validation split: training uses the "
        "rest and evaluates on these instead of the evaluation split (choose settings on them, not on dev)",
    )
    limit: int | None = setting(None, "train on a seeded random subset of N examples")
    eval_limit: int | None = setting(None, "evaluate on the first N examples of the evaluation split")
    batch_size: int = setting(32, "examples per micro-batch", paper="§4.1")
    epochs: float = setting(3.0, "epochs of fine-tuning", paper="§4.1")
    aux_lm: float = setting(0.5, "λ of the auxiliary LM loss (0 = off, Table 5)", paper="§3.2, Eq. 5")
    clf_dropout: float = setting(0.1, "dropout before the classifier", paper="§4.1")
    group_by_length: bool = setting(
        True,
        "batch examples of similar length together (within windows of 50 shuffled batches): far less padding",
        flag="--no-group-by-length",
    )
    n_transfer: int | None = setting(
        None, "transfer only the first N pre-trained layers (default all)", paper="§5, Figure 2 left"
    )
    from_scratch: bool = setting(
        False, "no pre-training: random initialisation, same budget", paper="§5, Table 5"
    )
    init: str | None = setting(None, "pre-trained GPT checkpoint or run directory")
    vocab_size: int = setting(8000, "--from-scratch without --init: BPE vocabulary size")
    strict: bool = setting(
        True, "malformed task rows are errors (off: skipped and counted)", flag="--non-strict"
    )
    lowercase: bool = setting(
        False,
        "lower-case the task text, for a model pre-trained on text lower-cased before its tokenizer was "
        "trained (recorded in the fine-tuned checkpoint's tokenizer)",
    )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FineTuneConfig:
        return from_mapping(cls, data, "fine-tuning")

    def splits(self, task: str) -> tuple[str, str]:
        train, evals = DEFAULT_SPLITS.get(task, ("train", "dev"))
        return self.train_split or train, self.eval_split or evals


class FineTuneTask:
    """GPT-1 fine-tuning for :class:`ronbun.training.loop.Trainer` (see the module docstring)."""

    def __init__(
        self,
        cfg: FineTuneConfig,
        *,
        out_dir: str | Path,
        seed: int = 0,
        preset: str = "tiny",
        model_overrides: dict[str, Any] | None = None,
        log=print,
    ) -> None:
        self.cfg, self.seed, self.log = cfg, seed, log
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        if cfg.data_dir is None:
            raise ValueError(
                f"fine-tuning on {cfg.task!r} needs --data-dir (the task's folder or its parent)"
            )
        if cfg.aux_lm < 0.0:
            raise ValueError(f"aux_lm (λ) must be >= 0, got {cfg.aux_lm}")
        train_split, eval_split = cfg.splits(cfg.task)
        train, evaluation = self._read_splits(train_split, eval_split)
        self.task_name = train.name
        self.train_data, self.eval_data = train, evaluation
        base = self._starting_model(train, preset, model_overrides)
        torch.manual_seed(seed)
        self.model: GPTClassifier = GPTClassifier.from_gpt(
            base,
            task=train.name,
            kind=train.kind,
            num_labels=train.num_labels,
            label_names=train.label_names,
            clf_dropout=cfg.clf_dropout,
            n_transfer=cfg.n_transfer,
            pretrained=not cfg.from_scratch,
        )
        self.spec = self.model.spec
        self._encode_splits(train_split, eval_split)
        self._epoch_cache: tuple[int, list[np.ndarray]] | None = None

    # -- the steps of __init__ -----------------------------------------------------------------------------
    def _read_splits(self, train_split: str, eval_split: str) -> tuple[TaskData, TaskData | None]:
        """The labelled training split (``limit``: a seeded random subset) and the evaluation split
        (``eval_limit``: its first examples; ``None`` when it is missing, empty or unlabelled)."""
        cfg, log = self.cfg, self.log
        train = load_task(cfg.task, cfg.data_dir, train_split, strict=cfg.strict)
        if not train.examples:
            raise ValueError(f"{cfg.task} {train_split}: no examples")
        if not train.labeled:
            raise ValueError(f"{cfg.task} {train_split} is unlabeled; fine-tuning needs labels")
        if train.skipped:
            log(f"{cfg.task} {train_split}: skipped {train.skipped} malformed/unlabelled row(s)")
        holdout = None
        if cfg.holdout:
            before = len(train.examples)
            train, holdout = carve_holdout(train, cfg.holdout)
            inside = before - len(train.examples) - len(holdout.examples)  # parts of held-out sentences
            log(
                f"{cfg.task}: {cfg.holdout:,} {'whole sentences' if inside else 'examples'} of {train_split} held "
                "out as the validation split"
                + (f"; the {inside:,} training examples inside them are dropped" if inside else "")
            )
        if cfg.limit is not None and cfg.limit < len(train.examples):
            keep = np.sort(
                np.random.default_rng([self.seed, 0x11A7]).permutation(len(train.examples))[: cfg.limit]
            )
            train = dataclasses.replace(train, examples=[train.examples[i] for i in keep])
        evaluation: TaskData | None = holdout
        try:
            if holdout is None:
                evaluation = load_task(cfg.task, cfg.data_dir, eval_split, strict=cfg.strict)
        except FileNotFoundError as exc:
            log(f"no evaluation split: {exc}")
            evaluation = None
        if evaluation is not None and cfg.eval_limit is not None:
            evaluation = dataclasses.replace(evaluation, examples=evaluation.examples[: cfg.eval_limit])
        if evaluation is not None and (not evaluation.examples or not evaluation.labeled):
            log(f"{cfg.task} {eval_split} is empty or unlabeled: no validation metrics during training")
            evaluation = None
        return train, evaluation

    def _starting_model(self, train: TaskData, preset: str, model_overrides: dict[str, Any] | None) -> GPT:
        """The pre-trained language model of ``init`` with its tokenizer, or (``from_scratch``, §5 Table 5) a
        random one of ``preset`` with a BPE trained on the task's text; the tokenizer is saved in the run."""
        cfg, log = self.cfg, self.log
        self.bpe_dir: Path | None = None
        self.tokenizer_file: Path | None = None
        if cfg.init is not None:
            ckpt = load_checkpoint(cfg.init, expect="gpt")
            if ckpt.head is not None:
                raise CheckpointError(
                    f"{ckpt.path} is already fine-tuned (on {ckpt.head.task}); start from a pre-trained LM"
                )
            base, self.tokenizer = ckpt.model, ckpt.tokenizer
            self.bpe_dir = ckpt.gpt1_bpe_dir
            self.init_dir: Path | None = ckpt.path
        elif cfg.from_scratch:
            from ..text.bpe import TextTokenizer

            if (self.out_dir / "tokenizer.json").is_file():  # a resumed run keeps its vocabulary
                self.tokenizer = TextTokenizer.load(self.out_dir / "tokenizer.json")
            else:
                self.tokenizer = TextTokenizer.train(_texts_for_tokenizer(train), cfg.vocab_size)
                log(f"no --init: trained a {self.tokenizer.vocab_size}-token BPE on the task's training text")
            base = GPT(
                GPTConfig.preset(preset, vocab_size=self.tokenizer.vocab_size, **(model_overrides or {}))
            )
            self.init_dir = None
        else:
            raise ValueError("give --init CHECKPOINT (a pre-trained GPT) or --from-scratch")
        if cfg.lowercase and hasattr(self.tokenizer, "lowercase"):  # GPT-1's own BPE lower-cases already
            self.tokenizer.lowercase = True  # saved below, so evaluation and serving lower-case too
        if hasattr(self.tokenizer, "save"):
            self.tokenizer_file = self.out_dir / "tokenizer.json"
            self.tokenizer.save(self.tokenizer_file)
        return base  # type: ignore[return-value]

    def _encode_splits(self, train_split: str, eval_split: str) -> None:
        """Both splits as the §3.3 input transformations of the task, truncated to ``n_ctx`` (counted)."""
        train, evaluation, log = self.train_data, self.eval_data, self.log
        n_ctx = self.model.config.n_ctx
        self.train_examples, self.train_stats = encode_examples(
            train, train.kind, self.tokenizer, self.spec.special, n_ctx
        )
        self.train_labels = [ex.label for ex in train.examples]
        self.train_lengths = np.array(
            [max(len(s) for s in ex.sequences) for ex in self.train_examples]
        )  # (N,)
        log(
            f"{train.name} {train_split}: {len(train.examples):,} examples; truncation to n_ctx={n_ctx}: {self.train_stats}"
        )
        self.eval_examples: list[TransformedExample] = []
        self.eval_stats = TruncationStats()
        if evaluation is not None:
            self.eval_examples, self.eval_stats = encode_examples(
                evaluation, evaluation.kind, self.tokenizer, self.spec.special, n_ctx
            )
            log(
                f"{train.name} {evaluation.split or eval_split}: {len(evaluation.examples):,} examples; "
                f"truncation: {self.eval_stats}"
            )

    # -- sizes used to set up the trainer ----------------------------------------------------------------------
    @property
    def batches_per_epoch(self) -> int:
        return math.ceil(len(self.train_examples) / self.cfg.batch_size)

    def total_updates(self, accum_steps: int = 1) -> int:
        """Optimiser updates of ``epochs`` epochs (GPT-1: 3)."""
        return max(1, math.ceil(self.cfg.epochs * self.batches_per_epoch / max(accum_steps, 1)))

    # -- Task protocol ---------------------------------------------------------------------------------------
    def epoch_batches(self, epoch: int) -> list[np.ndarray]:
        """The epoch's batches of ``batch_size`` example indices: a seeded shuffle; with ``group_by_length``,
        each window of 50 batches of it is sorted by length before it is cut, and the batches are shuffled
        again, so a batch pads to little more than its own longest example (every example is still seen once
        per epoch, in random company)."""
        if self._epoch_cache is None or self._epoch_cache[0] != epoch:
            rng = np.random.default_rng([self.seed, epoch, 0xF17E])
            order = rng.permutation(len(self.train_examples))
            bs = self.cfg.batch_size
            if self.cfg.group_by_length:
                window = 50 * bs
                order = np.concatenate(
                    [
                        w[np.argsort(-self.train_lengths[w], kind="stable")]
                        for w in np.split(order, range(window, len(order), window))
                    ]
                )
            batches = [order[i : i + bs] for i in range(0, len(order), bs)]
            if self.cfg.group_by_length:
                batches = [batches[i] for i in rng.permutation(len(batches))]
            self._epoch_cache = (epoch, batches)
        return self._epoch_cache[1]

    def collate(self, batch: np.ndarray, rank: int = 0, world: int = 1) -> dict[str, Tensor]:
        rows = batch[rank::world] if world > 1 else batch
        b = collate([self.train_examples[i] for i in rows], labels=[self.train_labels[i] for i in rows])
        return {
            "input_ids": b.input_ids,  # (B, C, T)
            "attention_mask": b.attention_mask,  # (B, C, T)
            "extract_positions": b.extract_positions,  # (B, C)
            "labels": b.labels,  # (B,)
            "n_tokens": torch.tensor(len(rows)),  # examples: L3 is a mean over examples
            "n_input_tokens": b.attention_mask.sum(),  # tokens processed, for tokens/s and tokens_seen
        }

    def loss_parts(self, model: nn.Module, t: dict[str, Tensor]) -> dict[str, Tensor]:
        """``{"task": Σ L2, "lm": Σ L1, "n": examples}`` of one micro-batch (``lm`` is 0 when λ = 0)."""
        want_lm = self.cfg.aux_lm > 0
        device = next(model.parameters()).device  # a no-op on CPU / when the trainer already moved them
        t = {k: v.to(device) if isinstance(v, Tensor) else v for k, v in t.items()}
        logits, hidden = model(t["input_ids"], t["extract_positions"], hidden=want_lm)
        l2 = task_loss(logits, t["labels"], self.spec)
        l1 = (
            lm_loss_sum(model, hidden, t["input_ids"], t["attention_mask"])
            if want_lm
            else torch.zeros((), device=l2.device)
        )
        return {"task": l2, "lm": l1, "n": t["n_tokens"]}

    def loss(self, model: nn.Module, t: dict[str, Tensor]) -> tuple[Tensor, Tensor]:
        """Eq. 5: ``Σ_i L2_i + λ Σ_i L1_i`` and the number of examples."""
        parts = self.loss_parts(model, t)
        return parts["task"] + self.cfg.aux_lm * parts["lm"], parts["n"]

    @torch.no_grad()
    def evaluate(self, model: nn.Module) -> dict[str, float]:
        if not self.eval_examples or self.eval_data is None:
            return {}
        preds, _ = predict(model, self.eval_examples, batch_size=self.cfg.batch_size)  # type: ignore[arg-type]
        labels = [ex.label for ex in self.eval_data.examples]
        return {f"valid_{k}": v for k, v in compute_metrics(self.task_name, preds.tolist(), labels).items()}

    def describe(self) -> dict[str, Any]:
        return {
            "task": "gpt_finetune",
            HEAD_KEY: self.spec.to_dict(),
            "data": dataclasses.asdict(self.cfg),
            "init": str(self.init_dir) if self.init_dir is not None else None,
            "tokenizer": tokenizer_spec(self.tokenizer, self.bpe_dir),
            "seed": self.seed,
            "train_examples": len(self.train_examples),
            "truncation": {
                "train": dataclasses.asdict(self.train_stats),
                "eval": dataclasses.asdict(self.eval_stats),
            },
        }

    def extra_checkpoint_files(self) -> dict[str, Path]:
        """GPT-1's BPE files for every checkpoint when that tokenizer is used (see :mod:`ronbun.gpt`)."""
        if self.bpe_dir is None:
            return {}
        from ..text.gpt1_bpe import ENCODER_FILENAME, MERGES_FILENAME

        return {name: self.bpe_dir / name for name in (ENCODER_FILENAME, MERGES_FILENAME)}
