"""``make demo``: train a Transformer translator on the built-in generated English→German corpus (no
download), average checkpoints written after the warm-up (§6.1), score the held-out test split with beam
search, translate four sentences whose correct German is known and draw the encoder-decoder attention of a
verb-final sentence.  Everything lands in ``runs/demo/``.

The budget is a fixed number of updates with a fixed seed, so every machine trains the same model and gets
the same score; only the wall time differs (5.8 minutes on a 2-vCPU AVX2 CPU in fp32, docs/results.md §0).  ``--max-minutes`` is a
safety cap: if it stops training early the demo says so, because the result then depends on the machine.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from .evaluation.bleu import score_translations
from .evaluation.provenance import machine_description
from .mt.task import MTDataConfig, TranslationTask
from .mt.translator import Translator
from .training.averaging import average_checkpoints, select_by_steps
from .training.checkpoint import list_checkpoints
from .training.loop import Trainer, TrainerConfig
from .viz.attention import plot_attention, plot_heads

# Four sentences of the built-in language pair that are in none of its splits, with their German.
EXAMPLES = {
    "The old man sees the small dog.": "Der alte Mann sieht den kleinen Hund.",
    "I know that the woman reads the book.": "Ich weiß, dass die Frau das Buch liest.",
    "Yesterday the children played in the garden.": "Gestern haben die Kinder im Garten gespielt.",
    "The teacher says that the students found the keys.": (
        "Der Lehrer sagt, dass die Studenten die Schlüssel gefunden haben."
    ),
}


@dataclass(frozen=True)
class DemoRecipe:
    """The demo's whole recipe.  Chosen on the corpus's validation split (docs/training.md)."""

    updates: int = 2000  # the budget (machine-independent); wall time per machine class in docs/results.md §0
    warmup: int = 500  # linear warm-up to the peak learning rate
    schedule: str = "linear"  # linear decay to 0 at `updates` (or noam: Eq. 3, the paper's schedule)
    lr: float = 3e-3  # linear: the peak; noam: Eq. 3's scale factor
    save_every: int = 40  # checkpoints by update count …
    average: int = 5  # … the last 5 are averaged (§6.1): updates 1840-2000, the last 8%, lr ≤ 8% of peak
    preset: str = "small"
    d_model: int = 128
    d_ff: int = 512
    layers: int = 3
    dropout: float = 0.1
    vocab_size: int = 4000
    max_tokens: int = 1000  # per batch and side: ~85 sentence pairs
    seed: int = 0
    precision: str = "auto"  # bf16 autocast where the CPU has it natively, else fp32 (both measured)


def say(message: str) -> None:
    """Print one line of the demo's report at once (training runs for minutes between lines)."""
    print(message, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Train, average, score, translate the examples and draw, then write ``summary.json``."""
    given = list(sys.argv[1:] if argv is None else argv)
    args, recipe = parse_arguments(given)
    if args.threads:
        torch.set_num_threads(args.threads)
    t_start = time.perf_counter()
    say("ronbun demo: Transformer (Vaswani et al. 2017) on the built-in English→German corpus\n")
    task, trainer, result = train(recipe, args.out, max_minutes=args.max_minutes, precision=args.precision)
    chosen = select_by_steps(
        list_checkpoints(args.out), recipe.average, every=recipe.save_every, after=recipe.warmup
    )
    averaged = average_checkpoints(chosen, args.out / "averaged")
    say(f"averaged checkpoints {', '.join(c.name for c in chosen)} (after the warm-up) → {averaged}")
    translator = Translator.from_checkpoint(averaged)
    src, refs = task.raw["test"]
    n = min(args.test_sentences, len(src))
    report = score_translations(translator.translate(src[:n], beam=4, alpha=0.6), refs[:n], target_lang="de")
    say(f"\nheld-out test ({n} sentences, beam 4, α 0.6):\n{report.format()}\n")
    examples, right = translate_examples(translator)
    pictures = draw(translator, list(EXAMPLES)[1], args.out / "pictures")
    total = time.perf_counter() - t_start
    summary = {
        "command": " ".join(["python -m ronbun.demo", *given]) if given else "make demo",
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
        "recipe": asdict(recipe),
        "updates": result["step"],
        "stop_reason": result["stop_reason"],
        "validation": result["metrics"],  # the last checkpoint on the valid split: how the recipe was chosen
        "averaged": [c.name for c in chosen],
        "train_seconds": round(result["train_seconds"], 1),
        "total_seconds": round(total, 1),
        "test_sentences": n,
        "scores": report.as_dict(),
        "examples": dict(zip(EXAMPLES, examples, strict=True)),
        "examples_right": right,
        "precision": trainer.precision,
        "machine": machine_description(),
    }
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    say(f"\ncheckpoint: {averaged}\npictures:   " + "\n            ".join(str(p) for p in pictures))
    say(f"metrics log: {args.out / 'metrics.jsonl'}\nsummary:     {args.out / 'summary.json'}")
    say(f"total time: {total / 60:.1f} min ({result['summary']})")
    say(f"\ntry: .venv/bin/ronbun mt translate {averaged} <<< 'The dog sees the cat.'")
    return 0


def parse_arguments(given: list[str]) -> tuple[argparse.Namespace, DemoRecipe]:
    """The command line and the :class:`DemoRecipe` it asks for (``--updates``, ``--recipe KEY=VALUE``)."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=Path("runs/demo"))
    p.add_argument("--updates", type=int, default=DemoRecipe.updates, help="training budget in updates")
    p.add_argument("--max-minutes", type=float, default=30.0, help="safety cap on training time (default 30)")
    p.add_argument(
        "--test-sentences", type=int, default=1000, help="held-out pairs scored (default: all 1,000)"
    )
    p.add_argument("--threads", type=int, help="CPU threads (default: PyTorch's choice)")
    p.add_argument("--precision", choices=("auto", "fp32", "bf16"), help="default auto (bf16 where native)")
    p.add_argument(
        "--recipe", action="append", default=[], metavar="KEY=VALUE", help="change a DemoRecipe field"
    )
    args = p.parse_args(given)
    changes = {"updates": args.updates}
    for item in args.recipe:
        key, _, value = item.partition("=")
        if key not in DemoRecipe.__dataclass_fields__:
            p.error(f"unknown recipe field {key!r}; fields: {', '.join(DemoRecipe.__dataclass_fields__)}")
        changes[key] = type(getattr(DemoRecipe, key))(value)
    return args, DemoRecipe(**changes)


def train(
    recipe: DemoRecipe, out: Path, *, max_minutes: float, precision: str | None
) -> tuple[TranslationTask, Trainer, dict[str, Any]]:
    """Train the recipe's model for its budget of updates (§5), checkpointing every ``save_every``; returns
    the task (its data), the trainer and the loop's result."""
    data = MTDataConfig(
        dataset="builtin",
        vocab_size=recipe.vocab_size,
        max_tokens=recipe.max_tokens,
        valid_bleu_sentences=200,
    )
    overrides = {
        "d_model": recipe.d_model,
        "d_ff": recipe.d_ff,
        "n_encoder_layers": recipe.layers,
        "n_decoder_layers": recipe.layers,
        "dropout": recipe.dropout,
    }
    task = TranslationTask(
        data, out_dir=out, preset=recipe.preset, model_overrides=overrides, seed=recipe.seed, log=say
    )
    n_params = sum(p.numel() for p in task.model.parameters())
    say(
        f"model: {recipe.layers}+{recipe.layers} layers, d_model {recipe.d_model}, d_ff {recipe.d_ff}, "
        f"{n_params:,} parameters; budget {recipe.updates:,} updates"
    )
    cfg = TrainerConfig(
        out_dir=str(out),
        max_steps=recipe.updates,
        max_minutes=max_minutes,
        schedule=recipe.schedule,  # type: ignore[arg-type]
        lr=recipe.lr,
        warmup=recipe.warmup,
        seed=recipe.seed,
        precision=precision or recipe.precision,  # type: ignore[arg-type]
        eval_every=recipe.updates // 4,
        save_every=recipe.save_every,
        keep_last=recipe.average,
        log_every=20,
    )
    trainer = Trainer(task, cfg, resume=False, log=say)
    return task, trainer, trainer.fit()


def translate_examples(translator: Translator) -> tuple[list[str], int]:
    """Translate the four :data:`EXAMPLES` (beam 4, α 0.6), print each against its German; returns the
    translations and how many are exactly right."""
    examples = translator.translate(list(EXAMPLES), beam=4, alpha=0.6)
    right = 0
    for (sentence, expected), translation in zip(EXAMPLES.items(), examples, strict=True):
        ok = translation == expected
        right += ok
        say(f"  {sentence}\n  → {translation}  {'✓' if ok else '✗ expected: ' + expected}")
    say(f"  {right} of {len(EXAMPLES)} example translations exactly right")
    return examples, right


def draw(translator: Translator, sentence: str, out: Path) -> list[Path]:
    """Encoder-decoder attention (last layer: mean and every head) and encoder self-attention (layer 0)."""
    src_tok, tgt_tok, maps = translator.attention(sentence)
    last = len(maps.cross) - 1
    return [
        plot_attention(
            maps.cross[last][0].mean(0),
            tgt_tok,
            src_tok,
            out / "cross_attention.png",
            title=f"encoder-decoder attention, layer {last}, mean over heads",
        ),
        plot_heads(
            maps.cross[last][0],
            tgt_tok,
            src_tok,
            out / "cross_attention_heads.png",
            title=f"encoder-decoder attention, layer {last}, every head",
        ),
        plot_heads(
            maps.encoder[0][0],
            src_tok,
            src_tok,
            out / "encoder_self_attention_layer0.png",
            title="encoder self-attention, layer 0",
        ),
    ]


if __name__ == "__main__":
    sys.exit(main())
