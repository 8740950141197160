"""GPT-1's zero-shot heuristics (§5 "Zero-shot Behaviors", Figure 2 right): the pre-trained language model
solves tasks it was never fine-tuned on, by comparing log-probabilities.

* **Sentiment (SST-2)** — "we append the token *very* to each example and restrict the language model's output
  distribution to only the words *positive* and *negative* and guess the token it assigns higher probability
  to": :func:`sentiment` compares ``log P(" positive" | text + " very")`` with ``log P(" negative" | …)``
  (a word's log-probability is the sum over its BPE pieces; exactly those two words are compared).
* **Linguistic acceptability (CoLA)** — "examples are scored as the average token log-probability the generative
  model assigns and predictions are made by thresholding": :func:`acceptability_scores`.  The threshold is
  **not** chosen on the evaluated examples (that would leak their labels): :func:`fit_threshold` picks the
  score cut that maximises MCC on a seeded random sample of the *train* split (``ronbun gpt zeroshot --task
  cola`` does this; ``--threshold`` fixes it instead).
* **Question answering (RACE) / Story Cloze** — "we pick the answer the generative model assigns the highest
  average token log-probability when conditioned on the document and question": :func:`multiple_choice`.
* **Winograd schemas (DPRD)** — "we replace the definite pronoun with the two possible referrents and predict the
  resolution that the generative model assigns higher average token log-probability to the rest of the sequence
  after the substitution": :func:`winograd`.  Examples use WinoGrande's convention, a sentence with one ``_``
  where the pronoun was; :func:`read_winograd_jsonl` reads ``{"sentence", "options": [...], "label": 0-based}``
  or WinoGrande's own ``{"sentence", "option1", "option2", "answer": "1"|"2"}`` lines.
  :data:`WINOGRAD_EXAMPLES` is a tiny built-in illustration (10 twin sentences written for ronbun; not a
  benchmark).

Conditioning on "nothing": the first token of a text is scored given the line-break token that separates lines
in the pre-training stream (:func:`ronbun.gpt.corpus.line_break_id`); without one, the first token is not scored.
Inputs longer than ``n_ctx`` lose context tokens from the left (the continuation is kept, cut at its end only if
it alone exceeds the window).

The paper reports these only as a normalised curve (random = 0, state of the art = 1) over pre-training updates;
:func:`run_zeroshot` returns the raw metric next to the chance level.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..evaluation.metrics import compute_metrics, matthews_corrcoef
from ..models.decoder_only import GPT
from .corpus import line_break_id
from .tasks import TaskDataError, TaskExample, load_task

__all__ = [
    "CHANCE",
    "TASKS",
    "WINOGRAD_EXAMPLES",
    "WinogradExample",
    "acceptability",
    "acceptability_scores",
    "continuation_logprobs",
    "fit_threshold",
    "multiple_choice",
    "read_winograd_jsonl",
    "run_zeroshot",
    "sentiment",
    "text_logprobs",
    "winograd",
]

#: Tasks of ``ronbun gpt zeroshot`` and their chance-level scores (metric as in Tables 2–4).
TASKS: tuple[str, ...] = ("sst2", "cola", "story_cloze", "race", "winograd")
CHANCE: dict[str, float] = {"sst2": 0.5, "cola": 0.0, "story_cloze": 0.5, "race": 0.25, "winograd": 0.5}

Pair = tuple[Sequence[int], Sequence[int]]


# -- scoring ---------------------------------------------------------------------------------------------
def _fit(context: list[int], cont: list[int], n_ctx: int) -> tuple[list[int], list[int]]:
    """Left-truncate the context (keeping >= 1 token when there is one) so that context + continuation fits."""
    if len(context) + len(cont) <= n_ctx:
        return context, cont
    keep = max(n_ctx - len(cont), 1 if context else 0)
    context = context[-keep:] if keep else []
    return context, cont[: n_ctx - len(context)]


@torch.no_grad()
def continuation_logprobs(model: GPT, pairs: Sequence[Pair], *, batch_size: int = 16) -> list[np.ndarray]:
    """Per-token ``log P(cont_t | context, cont_<t)`` of every ``(context_ids, continuation_ids)`` pair.

    Returns one float64 array per pair (its length is the number of scored continuation tokens: all of them,
    minus the first when the context is empty).  Only the scored positions are projected onto the vocabulary,
    so memory stays ``O(batch · T · d_model)``.
    """
    n_ctx = model.config.n_ctx
    fitted = [_fit([int(t) for t in c], [int(t) for t in x], n_ctx) for c, x in pairs]
    order = sorted(range(len(fitted)), key=lambda i: -(len(fitted[i][0]) + len(fitted[i][1])))
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    out: list[np.ndarray] = [np.zeros(0)] * len(fitted)
    for b in range(0, len(order), batch_size):
        idx = order[b : b + batch_size]
        seqs = [fitted[i][0] + fitted[i][1] for i in idx]
        width = max(1, max(len(s) for s in seqs))
        ids = torch.zeros((len(seqs), width), dtype=torch.long)
        for r, s in enumerate(seqs):
            ids[r, : len(s)] = torch.tensor(s, dtype=torch.long)
        h, _ = model.hidden_states(ids.to(device))  # (B, T, d)
        for r, i in enumerate(idx):
            ctx, cont = fitted[i]
            first = max(len(ctx), 1)  # position of the first scored token
            end = len(ctx) + len(cont)
            if end <= first:
                out[i] = np.zeros(0)
                continue
            logp = torch.log_softmax(model.project(h[r, first - 1 : end - 1]).float(), dim=-1)  # (n, V)
            target = ids[r, first:end].to(device)
            out[i] = logp.gather(1, target[:, None]).squeeze(1).double().cpu().numpy()
    model.train(was_training)
    return out


def _context(tokenizer: Any) -> list[int]:
    sep = line_break_id(tokenizer)
    return [sep] if sep is not None else []


def text_logprobs(
    model: GPT, tokenizer: Any, texts: Sequence[str], *, batch_size: int = 16
) -> list[np.ndarray]:
    """Per-token log-probabilities of each whole text (its first token given the line-break context)."""
    ctx = _context(tokenizer)
    ids = tokenizer.encode_batch(list(texts))
    return continuation_logprobs(model, [(ctx, x) for x in ids], batch_size=batch_size)


def _mean(x: np.ndarray) -> float:
    return float(x.mean()) if x.size else float("-inf")


# -- the four heuristics -------------------------------------------------------------------------------------
def sentiment(
    model: GPT,
    tokenizer: Any,
    texts: Sequence[str],
    *,
    cue: str = " very",
    label_words: tuple[str, str] = ("negative", "positive"),
    batch_size: int = 16,
) -> tuple[np.ndarray, np.ndarray]:
    """SST-2 zero-shot: ``(predictions (N,), scores (N, 2))`` with ``scores[:, k] = log P(label_words[k] |
    text + cue)``; prediction = the label word with the higher probability (0 = negative, 1 = positive, SST-2's
    ids)."""
    words = [tokenizer.encode(" " + w.strip()) for w in label_words]
    contexts = [_context(tokenizer) + tokenizer.encode(t.rstrip() + cue) for t in texts]
    pairs = [(c, w) for c in contexts for w in words]
    lp = continuation_logprobs(model, pairs, batch_size=batch_size)
    scores = np.array([x.sum() for x in lp], dtype=np.float64).reshape(len(texts), len(words))
    return scores.argmax(axis=1), scores


def acceptability_scores(
    model: GPT, tokenizer: Any, sentences: Sequence[str], *, batch_size: int = 16
) -> np.ndarray:
    """CoLA zero-shot score: the average token log-probability of each sentence, ``(N,)``."""
    return np.array([_mean(x) for x in text_logprobs(model, tokenizer, sentences, batch_size=batch_size)])


def fit_threshold(scores: Sequence[float], labels: Sequence[int]) -> float:
    """The cut maximising the Matthews correlation of ``score >= threshold → 1`` on ``(scores, labels)``
    (midpoints between consecutive distinct scores; ties → the lowest such threshold)."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels)
    if s.size == 0:
        raise ValueError("fit_threshold needs at least one scored example")
    finite = np.isfinite(s)
    s, y = s[finite], y[finite]
    distinct = np.unique(s)
    candidates = np.concatenate(
        [[distinct[0] - 1.0], (distinct[1:] + distinct[:-1]) / 2, [distinct[-1] + 1.0]]
    )
    best, best_t = -2.0, float(candidates[0])
    for t in candidates:
        m = matthews_corrcoef((s >= t).astype(int), y)
        if m > best:
            best, best_t = m, float(t)
    return best_t


def acceptability(
    model: GPT, tokenizer: Any, sentences: Sequence[str], threshold: float, *, batch_size: int = 16
) -> tuple[np.ndarray, np.ndarray]:
    """``(predictions, scores)``: acceptable (1) when the average token log-probability is ``>= threshold``."""
    scores = acceptability_scores(model, tokenizer, sentences, batch_size=batch_size)
    return (scores >= threshold).astype(int), scores


def _pick_best(
    model: GPT, pairs: Sequence[Pair], owners: Sequence[int], n: int, batch_size: int
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Score every candidate ``pairs[j]`` of example ``owners[j]`` by its average token log-probability;
    returns ``(the best candidate of each of the n examples (n,), per-example score arrays (K,))``."""
    scores: list[list[float]] = [[] for _ in range(n)]
    for i, x in zip(owners, continuation_logprobs(model, pairs, batch_size=batch_size), strict=True):
        scores[i].append(_mean(x))
    arrays = [np.array(s) for s in scores]
    return np.array([int(a.argmax()) for a in arrays], dtype=np.int64), arrays


def multiple_choice(
    model: GPT,
    tokenizer: Any,
    contexts: Sequence[str],
    choices: Sequence[Sequence[str]],
    *,
    batch_size: int = 16,
) -> tuple[np.ndarray, list[np.ndarray]]:
    """RACE / Story Cloze zero-shot: for each context, the choice with the highest average token log-probability
    given the context.  Returns ``(predictions (N,), per-example score arrays (K,))``."""
    if len(contexts) != len(choices):
        raise ValueError(f"{len(contexts)} contexts but {len(choices)} choice lists")
    ctx_ids = tokenizer.encode_batch(list(contexts))
    pairs, owners = [], []
    for i, (c, opts) in enumerate(zip(ctx_ids, choices, strict=True)):
        if not opts:
            raise ValueError(f"example {i} has no choices")
        for o in tokenizer.encode_batch(list(opts)):
            pairs.append((_context(tokenizer) + c, o))
            owners.append(i)
    return _pick_best(model, pairs, owners, len(contexts), batch_size)


@dataclass(frozen=True)
class WinogradExample:
    """A Winograd schema as a sentence with one ``_`` where the pronoun was, and its candidate referents."""

    sentence: str
    options: tuple[str, ...]
    label: int | None = None

    def __post_init__(self) -> None:
        if self.sentence.count("_") != 1:
            raise ValueError(f"a Winograd sentence needs exactly one '_' placeholder: {self.sentence!r}")
        if len(self.options) < 2:
            raise ValueError(f"a Winograd example needs at least two options: {self.options!r}")
        if self.label is not None and not 0 <= self.label < len(self.options):
            raise ValueError(f"label {self.label} out of range for {len(self.options)} options")

    def substituted(self, k: int) -> tuple[str, str]:
        """``(prefix with option k, rest of the sentence)``."""
        i = self.sentence.index("_")
        option = self.options[k]
        if i == 0 or self.sentence[:i].rstrip().endswith((".", "!", "?")):
            option = option[:1].upper() + option[1:]
        return self.sentence[:i] + option, self.sentence[i + 1 :]


#: Ten illustrative twin sentences (written for ronbun in the style of Winograd schemas; not a benchmark).
WINOGRAD_EXAMPLES: tuple[WinogradExample, ...] = (
    WinogradExample("The dog chased the cat until _ climbed up a tree to escape.", ("the dog", "the cat"), 1),
    WinogradExample(
        "The dog chased the cat until _ got tired of running after it.", ("the dog", "the cat"), 0
    ),
    WinogradExample("The bottle did not fit in the bag because _ was too big.", ("the bottle", "the bag"), 0),
    WinogradExample(
        "The bottle did not fit in the bag because _ was too small.", ("the bottle", "the bag"), 1
    ),
    WinogradExample("The man could not lift the box because _ was too heavy.", ("the man", "the box"), 1),
    WinogradExample("The man could not lift the box because _ was too weak.", ("the man", "the box"), 0),
    WinogradExample("Tom thanked Bill because _ had received a gift from him.", ("Tom", "Bill"), 0),
    WinogradExample("Tom thanked Bill because _ had given him a gift.", ("Tom", "Bill"), 1),
    WinogradExample("The lamp could not light the hall because _ was too dim.", ("the lamp", "the hall"), 0),
    WinogradExample(
        "The lamp could not light the hall because _ was too large.", ("the lamp", "the hall"), 1
    ),
)


def read_winograd_jsonl(path: str | Path) -> list[WinogradExample]:
    """Read Winograd examples, one JSON object a line: ``{"sentence", "options", "label"}`` (0-based label,
    optional) or WinoGrande's ``{"sentence", "option1", "option2", "answer"}`` (``"1"``/``"2"``, optional).
    Errors name ``path:line``."""
    path = Path(path)
    out: list[WinogradExample] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise TaskDataError(f"invalid JSON: {exc.msg}", path, n) from None
        if not isinstance(obj, dict) or not isinstance(obj.get("sentence"), str):
            raise TaskDataError("expected an object with a string 'sentence'", path, n)
        try:
            if "options" in obj:
                options = obj["options"]
                label = obj.get("label")
                if not isinstance(options, list) or not all(isinstance(o, str) for o in options):
                    raise ValueError("'options' must be a list of strings")
                if label is not None and (isinstance(label, bool) or not isinstance(label, int)):
                    raise ValueError(f"'label' must be a 0-based integer, got {label!r}")
            elif "option1" in obj and "option2" in obj:
                options = [obj["option1"], obj["option2"]]
                answer = obj.get("answer")
                if answer not in (None, "", "1", "2", 1, 2):
                    raise ValueError(f"unknown answer {answer!r} (expected '1' or '2')")
                label = None if answer in (None, "") else int(answer) - 1
            else:
                raise ValueError("missing 'options' (or WinoGrande's 'option1'/'option2')")
            out.append(WinogradExample(obj["sentence"], tuple(options), label))
        except ValueError as exc:
            raise TaskDataError(str(exc), path, n) from None
    if not out:
        raise TaskDataError("no examples", path)
    return out


def winograd(
    model: GPT, tokenizer: Any, examples: Sequence[WinogradExample], *, batch_size: int = 16
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Winograd zero-shot: substitute each option for the pronoun and pick the one under which the rest of the
    sentence has the higher average token log-probability.  Returns ``(predictions, per-example scores)``."""
    pairs, owners = [], []
    for i, ex in enumerate(examples):
        for k in range(len(ex.options)):
            prefix, rest = ex.substituted(k)
            if not rest.strip():
                raise ValueError(
                    f"nothing follows the placeholder in {ex.sentence!r}; there is no rest to score"
                )
            pairs.append((_context(tokenizer) + tokenizer.encode(prefix), tokenizer.encode(rest)))
            owners.append(i)
    return _pick_best(model, pairs, owners, len(examples), batch_size)


# -- one entry point -----------------------------------------------------------------------------------------
def _subset(examples: list[TaskExample], limit: int | None, seed: int) -> list[TaskExample]:
    if limit is None or limit >= len(examples):
        return examples
    keep = np.sort(np.random.default_rng([seed, 0x2E50]).permutation(len(examples))[:limit])
    return [examples[i] for i in keep]


def run_zeroshot(
    model: GPT,
    tokenizer: Any,
    task: str,
    *,
    data_dir: str | Path | None = None,
    split: str | None = None,
    limit: int | None = None,
    threshold: float | None = None,
    threshold_examples: int = 2000,
    winograd_file: str | Path | None = None,
    seed: int = 0,
    batch_size: int = 16,
) -> dict[str, Any]:
    """Evaluate one §5 heuristic; returns ``{"task", "split", "n", metrics…, "chance", …}``.

    ``limit`` evaluates a seeded random subset.  CoLA: the threshold is ``threshold`` if given, else fitted on
    ``threshold_examples`` random *train* examples (never on the evaluated split).
    """
    task = task.lower().replace("-", "").replace("_", "")
    task = {"storycloze": "story_cloze", "sst": "sst2", "wsc": "winograd", "dprd": "winograd"}.get(task, task)
    if task not in TASKS:
        raise ValueError(f"unknown zero-shot task {task!r}; choose one of {', '.join(TASKS)}")
    report: dict[str, Any] = {"task": task, "chance": CHANCE[task]}
    if task == "winograd":
        examples = read_winograd_jsonl(winograd_file) if winograd_file else list(WINOGRAD_EXAMPLES)
        if limit is not None:
            examples = examples[:limit]
        preds, _ = winograd(model, tokenizer, examples, batch_size=batch_size)
        labels = [ex.label for ex in examples]
        if any(lab is None for lab in labels):
            raise ValueError("every Winograd example needs a label to be scored")
        report.update(split=str(winograd_file) if winograd_file else "builtin", n=len(examples))
        report["accuracy"] = float(np.mean(preds == np.array(labels)))
        return report
    if data_dir is None:
        raise ValueError(f"zero-shot {task} needs --data-dir (the task's folder or its parent)")
    default_split = {"story_cloze": "test"}.get(task, "dev")
    split = split or default_split
    data = load_task(task, data_dir, split)
    examples = _subset(data.examples, limit, seed)
    if not examples or any(ex.label is None for ex in examples):
        raise ValueError(f"{task} {split} has no labelled examples to score")
    labels = [ex.label for ex in examples]
    report.update(split=split, n=len(examples))
    if task == "sst2":
        preds, _ = sentiment(model, tokenizer, [ex.texts[0] for ex in examples], batch_size=batch_size)
    elif task == "cola":
        if threshold is None:
            train = load_task(task, data_dir, "train")
            fit = _subset(train.examples, threshold_examples, seed + 1)
            fit_scores = acceptability_scores(
                model, tokenizer, [ex.texts[0] for ex in fit], batch_size=batch_size
            )
            threshold = fit_threshold(fit_scores, [ex.label for ex in fit])
            report["threshold_fitted_on"] = f"train ({len(fit)} examples, max MCC)"
        else:
            report["threshold_fitted_on"] = "given"
        report["threshold"] = float(threshold)
        preds, _ = acceptability(
            model, tokenizer, [ex.texts[0] for ex in examples], threshold, batch_size=batch_size
        )
    else:
        contexts = [" ".join(ex.texts) for ex in examples]
        preds, _ = multiple_choice(
            model, tokenizer, contexts, [ex.choices or () for ex in examples], batch_size=batch_size
        )
    report.update(compute_metrics(task, preds.tolist(), labels))
    return report
