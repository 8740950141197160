"""When does a GPT trained from random initialisation learn to copy?  The measurement behind the cross-sentence
diagnostics' "from random initialisation" column (docs/results.md, §2).

Every diagnostic of :mod:`ronbun.gpt.diagnostics` is solved by comparing the second text with the first, which
a decoder does with *copying* attention: at each token of the second text, attend to the token after the
previous token's earlier occurrence.  This script trains a GPT as a plain language model (Eq. 1) on
``⟨s⟩ A $ A`` (A: a sentence of the diagnostics' grammar) and logs the loss on the first copy of A (it can only
be guessed) and on the second (it can be copied).  The update where the copied half's loss first falls below
half of the first half's is the *onset*: before it, no comparison of two texts is possible, whatever the head
on top.

    python experiments/gpt_copy_onset.py --updates 3000 --out results/levers/gpt_copy_onset.json

With ``--checkpoints RUN`` it measures instead whether a *pre-trained* model copies: every checkpoint of the run
scores held-out sentences followed by themselves (``A A``, each sentence of ``--texts`` and of the grammar), and
the loss on the second A is compared with the loss on the first.  A language model with copying heads predicts
the repeat almost perfectly; one without them finds it as hard as the first.

    python experiments/gpt_copy_onset.py --checkpoints runs/gpt1_pretrain \
        --texts runs/gpt_corpus/heldout/multi30k.txt --out results/levers/gpt_pretrained_copying.json

``⟨s⟩ A $ A`` puts every copy at the same offset, so a head can copy by *position*.  Pre-training sees text as a
stream cut into windows at random offsets, where a head must find the earlier occurrence by *content*.  With
``--corpus`` the script writes that stream instead (``A A`` per line, seeded), for ``ronbun gpt pretrain
--train-file``; ``--checkpoints`` then measures the run's copying with ``--texts`` set to grammar sentences:

    python experiments/gpt_copy_onset.py --corpus --out runs/copy_stream.txt
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from ronbun.evaluation.provenance import machine_description
from ronbun.gpt.diagnostics import sentence
from ronbun.models.decoder_only import GPT, GPTConfig


def copy_sequences(n: int, seed: int = 0) -> tuple[torch.Tensor, int, int]:
    """``(N, 2L+2)`` word ids of ``⟨s⟩ A $ A``, the vocabulary size and L (every sentence has L words)."""
    rng = random.Random(seed)
    vocab = {"<s>": 0, "$": 1}
    rows = []
    for _ in range(n):
        a = [vocab.setdefault(w, len(vocab)) for w in sentence(rng)]
        rows.append([0, *a, 1, *a])
    return torch.tensor(rows), len(vocab), len(rows[0]) // 2 - 1


def run(
    updates: int, lr: float, overrides: dict[str, Any], seed: int = 0, every: int = 100
) -> dict[str, Any]:
    """Train and log; returns the curve and the onset (``None`` if the copied half never halves)."""
    data, vocab, length = copy_sequences(20000, seed)
    torch.manual_seed(seed)
    cfg = GPTConfig.preset("tiny", vocab_size=vocab, n_ctx=64, **overrides)
    model = GPT(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    curve, onset, start = [], None, time.perf_counter()
    for step in range(1, updates + 1):
        batch = data[torch.randint(0, len(data), (32,), generator=torch.Generator().manual_seed(step))]
        for group in opt.param_groups:
            group["lr"] = lr * min(1.0, step / 100)  # warm-up, then constant
        logits = model(batch[:, :-1])  # (B, T, V)
        nll = F.cross_entropy(logits.flatten(0, 1), batch[:, 1:].flatten(), reduction="none").view(32, -1)
        loss = nll.mean()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % every == 0:
            first = float(nll[:, :length].mean().detach())  # predicting A's words the first time
            copied = float(nll[:, length + 1 :].mean().detach())  # predicting them again, after $
            curve.append({"update": step, "first_half": round(first, 4), "copied_half": round(copied, 4)})
            if onset is None and copied < 0.5 * first:
                onset = step
    return {
        "lr": lr,
        "model": {"preset": "tiny", **overrides},
        "onset_update": onset,
        "curve": curve,
        "seconds": round(time.perf_counter() - start, 1),
    }


def copy_stream(n: int, seed: int = 0) -> list[str]:
    """``n`` lines ``A A`` (A a sentence of the diagnostics' grammar with its full stop): the copying task as a
    text stream, the way pre-training sees text."""
    rng = random.Random(seed)
    lines = []
    for _ in range(n):
        a = " ".join(sentence(rng)) + " ."
        lines.append(f"{a} {a}")
    return lines


@torch.no_grad()
def repeat_losses(model: GPT, tokenizer: Any, texts: list[str]) -> dict[str, float]:
    """Mean NLL per token of each text the first time and when it is repeated at once (its first token
    excepted both times), for the texts whose ``A A`` fits the model's context."""
    model.eval()
    first, second, n = 0.0, 0.0, 0
    for text in texts:
        ids = tokenizer.encode(text)
        if len(ids) < 3 or 2 * len(ids) > model.config.n_ctx:
            continue
        seq = torch.tensor([ids + ids])  # (1, 2L)
        nll = F.cross_entropy(model(seq[:, :-1])[0], seq[0, 1:], reduction="none")  # (2L-1,)
        first += float(nll[: len(ids) - 1].mean())  # tokens 2..L of A
        second += float(nll[len(ids) :].mean())  # tokens 2..L of the repeat, each copyable from A
        n += 1
    return {"texts": n, "first": round(first / n, 4), "repeated": round(second / n, 4)}


def pretrained_copying(run: Path, texts: Path, n: int = 300, steps: set[int] | None = None) -> dict[str, Any]:
    """:func:`repeat_losses` of every checkpoint of a pre-training run (``steps``: those of these updates), on
    ``n`` held-out lines and ``n`` sentences of the diagnostics' grammar."""
    from ronbun.training.checkpoint import load_checkpoint

    lines = [line.strip() for line in texts.read_text(encoding="utf-8").splitlines() if line.strip()][:n]
    rng = random.Random(0)
    grammar = [" ".join(sentence(rng)) + " ." for _ in range(n)]
    rows = []
    found = {int(c.name.split("_")[1]): c for c in (run / "checkpoints").glob("step_*")}
    if steps is not None and not steps <= set(found):
        missing = ", ".join(map(str, sorted(steps - set(found))))
        raise SystemExit(
            f"{run}: no checkpoint of update {missing} (it has {', '.join(map(str, sorted(found)))})"
        )
    for update, ckpt in sorted(found.items()):
        if steps is not None and update not in steps:
            continue
        loaded = load_checkpoint(ckpt, expect="gpt")
        rows.append(
            {
                "update": update,
                "heldout": repeat_losses(loaded.model, loaded.tokenizer, lines),
                "grammar": repeat_losses(loaded.model, loaded.tokenizer, grammar),
            }
        )
    return {"run": str(run), "texts": str(texts), "checkpoints": rows}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--updates", type=int, default=3000)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--checkpoints", type=Path, help="a pre-training run: measure its checkpoints instead")
    p.add_argument("--texts", type=Path, help="with --checkpoints: held-out text, one sentence per line")
    p.add_argument(
        "--steps",
        help="with --checkpoints: only the checkpoints of these updates, comma-separated (default: all)",
    )
    p.add_argument(
        "--corpus", action="store_true", help="write the copying stream (20,000 lines A A) to --out"
    )
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.corpus:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n".join(copy_stream(20000, args.seed)) + "\n", encoding="utf-8")
        return 0
    if args.checkpoints is not None:
        if args.texts is None:
            p.error("--checkpoints needs --texts")
        try:
            steps = {int(x) for x in args.steps.split(",")} if args.steps else None
        except ValueError:
            p.error(f"--steps takes update numbers separated by commas, got {args.steps!r}")
        summary = {
            "command": f"python experiments/gpt_copy_onset.py --checkpoints {args.checkpoints} --texts {args.texts} "
            + (f"--steps {args.steps} " if args.steps else "")
            + f"--out {args.out}",
            "date": time.strftime("%Y-%m-%d", time.gmtime()),
            "machine": machine_description(threads=args.threads),
            **pretrained_copying(args.checkpoints, args.texts, steps=steps),
        }
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return 0
    variants = {
        "tiny (2 layers × 64), dropout 0.1": {},
        "tiny, no dropout": {"dropout": 0.0, "attention_dropout": 0.0},
        "4 layers × 128, dropout 0.1": {"n_layers": 4, "d_model": 128, "d_ff": 512},
    }
    runs = {}
    for name, overrides in variants.items():
        runs[name] = run(args.updates, args.lr, overrides, args.seed)
        print(
            f"{name}: copying from update {runs[name]['onset_update']} ({runs[name]['seconds']} s)",
            flush=True,
        )
    summary = {
        "command": f"python experiments/gpt_copy_onset.py --updates {args.updates} --lr {args.lr:g} "
        f"--seed {args.seed} --threads {args.threads} --out {args.out}",
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
        "machine": machine_description(threads=args.threads),
        "data": "⟨s⟩ A $ A, A a 10-word sentence of ronbun.gpt.diagnostics' grammar; batches of 32; warm-up 100 "
        "then constant lr; AdamW, weight decay 0.01, clipping 1.0",
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
