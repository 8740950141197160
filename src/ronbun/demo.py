"""``make demo``: train a Transformer translator on the built-in generated English→German corpus (no
download), average its last checkpoints (§6.1), score the held-out test split with beam search, translate a
few sentences and draw the encoder-decoder attention of a verb-final sentence.  About 6-9 minutes on a
2-core CPU.  Everything lands in ``runs/demo/``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

from .evaluation.bleu import score_translations
from .mt.task import MTDataConfig, TranslationTask
from .mt.translator import Translator
from .training.averaging import average_checkpoints, select_last
from .training.loop import Trainer, TrainerConfig, list_checkpoints
from .viz.attention import plot_attention, plot_heads

EXAMPLES = [
    "The old man sees the small dog.",
    "I know that the woman reads the book.",
    "Yesterday the children played in the garden.",
    "The teacher says that the students have found the keys.",
]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--out", type=Path, default=Path("runs/demo"))
    p.add_argument("--minutes", type=float, default=5.0, help="training time budget (default 5)")
    p.add_argument("--test-sentences", type=int, default=500)
    args = p.parse_args(argv)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    t_start = time.perf_counter()
    say = lambda msg: print(msg, flush=True)  # noqa: E731
    say("ronbun demo: Transformer (Vaswani et al. 2017) on the built-in English→German corpus\n")
    data = MTDataConfig(dataset="builtin", vocab_size=4000, max_tokens=3000, valid_bleu_sentences=200)
    task = TranslationTask(data, out_dir=args.out, preset="small", model_overrides={"dropout": 0.1}, log=say)
    n_params = sum(p.numel() for p in task.model.parameters())
    say(f"model: small preset (3+3 layers, d_model 256, 4 heads, d_ff 1024), {n_params:,} parameters")
    cfg = TrainerConfig(
        out_dir=str(args.out),
        max_steps=100_000,
        max_minutes=args.minutes,
        lr=0.7,  # Eq. 3 scale: peak 2.2e-3 at step 400, as in the Multi30k run (docs/results.md)
        warmup=400,
        eval_every=300,
        save_every=100_000,
        save_every_minutes=args.minutes / 6,
        keep_last=5,
        log_every=20,
    )
    result = Trainer(task, cfg, resume=False).fit()
    say(f"trained {result['step']} updates in {result['train_seconds'] / 60:.1f} min")
    checkpoints = list_checkpoints(args.out)
    averaged = average_checkpoints(select_last(checkpoints, 5), args.out / "averaged")
    say(f"averaged the last {min(5, len(checkpoints))} checkpoints → {averaged}")
    translator = Translator.from_checkpoint(averaged)
    src, refs = task.raw["test"]
    n = min(args.test_sentences, len(src))
    hyps = translator.translate(src[:n], beam=4, alpha=0.6)
    report = score_translations(hyps, refs[:n], target_lang="de")
    say(f"\nheld-out test ({n} sentences, beam 4, α 0.6):\n{report.format()}\n")
    for sentence, translation in zip(EXAMPLES, translator.translate(EXAMPLES), strict=True):
        say(f"  {sentence}\n  → {translation}")
    sentence = EXAMPLES[1]
    src_tok, tgt_tok, maps = translator.attention(sentence)
    pictures = args.out / "pictures"
    last = len(maps.cross) - 1
    cross = plot_attention(
        maps.cross[last][0].mean(0),
        tgt_tok,
        src_tok,
        pictures / "cross_attention.png",
        title=f"encoder-decoder attention, layer {last}, mean over heads",
    )
    heads = plot_heads(
        maps.cross[last][0],
        tgt_tok,
        src_tok,
        pictures / "cross_attention_heads.png",
        title=f"encoder-decoder attention, layer {last}, every head",
    )
    enc = plot_heads(
        maps.encoder[0][0],
        src_tok,
        src_tok,
        pictures / "encoder_self_attention_layer0.png",
        title="encoder self-attention, layer 0",
    )
    say(f"\ncheckpoint: {averaged}\npictures:   {cross}\n            {heads}\n            {enc}")
    say(
        f"metrics log: {args.out / 'metrics.jsonl'}\ntotal time: {(time.perf_counter() - t_start) / 60:.1f} min"
    )
    say(f"\ntry: .venv/bin/ronbun mt translate {averaged} <<< 'The dog sees the cat.'")
    return 0


if __name__ == "__main__":
    sys.exit(main())
