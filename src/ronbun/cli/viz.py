"""``ronbun viz …``: pictures of what is inside the models (matplotlib, Agg; PNG, SVG or PDF by extension).

* ``viz attention CKPT --sentence S [--kind K] [--layer L] [--head H | --all-heads | --average] --out F``
* ``viz positions --d-model 512 --length 100 --out F``            (§3.5)
* ``viz curves RUN_DIR|metrics.jsonl --out F``                      (loss, perplexity, Eq. 3, BLEU)
* ``viz complexity DATA.json --out F``                              (Table 1, measured)
* ``viz figures --out docs/figures [--checkpoint DIR]``             (every figure of the docs, one command)
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .main import CLIError

FORMATS = (".png", ".svg", ".pdf")
DEMO_CHECKPOINT = Path("runs/demo/averaged")
GPT_RUN = Path("runs/gpt-docs")
GPT_RUN_COMMAND = (
    "ronbun gpt pretrain --preset tiny --max-steps 600 --batch-size 16 --lr 1e-3 --eval-every 100 "
    "--out runs/gpt-docs --no-progress"
)
DEMO_SENTENCE = "I know that the woman reads the book."  # verb-final German: a non-monotone alignment
GPT_SENTENCE = "The old man sees the small dog in the garden."


def _out(path: Path) -> Path:
    if path.suffix.lower() not in FORMATS:
        raise CLIError(f"--out {path}: choose a file ending in {', '.join(FORMATS)}")
    return path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("viz", help="pictures: attention, positional encodings, training curves, Table 1")
    vsub = p.add_subparsers(dest="viz_command", metavar="PICTURE", required=True)

    at = vsub.add_parser(
        "attention",
        help="attention heat-maps of a checkpoint on one sentence",
        description="Run a sentence through a checkpoint and draw its attention weights with the tokens on the "
        "axes. Transformer: the sentence is translated (beam search, §6.1) and the model's own translation is "
        "teacher-forced; --kind encoder | decoder | cross (default cross). GPT: --kind self on the prompt. "
        "One head (--head H), all heads of a layer (--all-heads), or the mean over heads and layers "
        "(--average, the default; with --layer only that layer).",
    )
    at.add_argument("checkpoint", type=Path, help="checkpoint directory or run directory")
    at.add_argument("--sentence", "-s", required=True, help="the input sentence (GPT: the prompt)")
    at.add_argument("--kind", choices=("encoder", "decoder", "cross", "self"), help="which attention")
    at.add_argument("--layer", type=int, help="layer index (negative counts from the end; default last)")
    mode = at.add_mutually_exclusive_group()
    mode.add_argument("--head", type=int, help="one head of --layer")
    mode.add_argument("--all-heads", action="store_true", help="a grid of every head of --layer")
    mode.add_argument("--average", action="store_true", help="mean over heads (and layers unless --layer)")
    at.add_argument("--beam", type=int, default=4, help="beam size for the translation (1 = greedy)")
    at.add_argument("--alpha", type=float, default=0.6, help="length penalty α")
    at.add_argument("--out", type=Path, required=True, help="output file (.png, .svg, .pdf)")
    at.set_defaults(func=run_attention)

    pe = vsub.add_parser(
        "positions",
        help="the §3.5 sinusoidal positional encoding and the similarity between positions",
        description="Draw the PE matrix (positions × dimensions), the dot products PE(p)·PE(q) between "
        "positions (they depend on p−q only) and a few dimensions as curves.",
    )
    pe.add_argument("--d-model", type=int, default=512)
    pe.add_argument("--length", type=int, default=100)
    pe.add_argument("--layout", choices=("interleaved", "concatenated"), default="interleaved")
    pe.add_argument("--out", type=Path, required=True)
    pe.set_defaults(func=run_positions)

    cu = vsub.add_parser(
        "curves",
        help="training curves of a run (loss, perplexity, learning rate vs Eq. 3, BLEU)",
        description="Plot a run's metrics.jsonl. A resumed run's later records replace the ones it re-did.",
    )
    cu.add_argument("run", type=Path, help="run directory or metrics.jsonl")
    cu.add_argument("--title", default="")
    cu.add_argument("--out", type=Path, required=True)
    cu.set_defaults(func=run_curves)

    cx = vsub.add_parser(
        "complexity",
        help="plot Table 1 as measured by benchmarks/layer_complexity.py",
        description="Plot per-layer time, memory and maximum path length of self-attention, recurrent and "
        "convolutional layers from a benchmarks/layer_complexity.py result (JSON, or its CSV's JSON sibling). "
        "With --measure, measure now (about 20 s on one thread) and save the data next to --out.",
    )
    cx.add_argument("data", type=Path, nargs="?", help="layer_complexity.json")
    cx.add_argument("--measure", action="store_true", help="run the measurement first")
    cx.add_argument("--out", type=Path, required=True)
    cx.set_defaults(func=run_complexity)

    fg = vsub.add_parser(
        "figures",
        help="regenerate every figure of docs/ (one command)",
        description="Regenerate every figure the documentation embeds. Attention, embedding and FFN figures "
        f"need a trained translation checkpoint (--checkpoint, default {DEMO_CHECKPOINT}, made by `make demo`); "
        f"GPT figures need a GPT pre-training run (--gpt-run, default {GPT_RUN}, made by `{GPT_RUN_COMMAND}`). "
        "Missing inputs skip their figures with a message.",
    )
    fg.add_argument("--out", type=Path, default=Path("docs/figures"))
    fg.add_argument("--checkpoint", type=Path, help=f"translation checkpoint (default {DEMO_CHECKPOINT})")
    fg.add_argument("--run", type=Path, help="translation run dir for the curves (default: the checkpoint's)")
    fg.add_argument("--gpt-run", type=Path, help="GPT pre-training run directory")
    fg.add_argument("--sentence", default=DEMO_SENTENCE)
    fg.add_argument("--skip-complexity", action="store_true", help="do not re-measure Table 1")
    fg.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    fg.set_defaults(func=run_figures)


# -- single pictures ---------------------------------------------------------------------------------------
def _attention_picture(args: argparse.Namespace, obj: Any, view: Any, out: Path) -> Path:
    from ..inspection import check_layer_head
    from ..viz.attention import KIND_TITLES, layer_label, plot_alignment, plot_attention, plot_heads

    kind = args.kind or ("self" if obj.model_type == "gpt" else "cross")
    if kind not in view.maps:
        allowed = ", ".join(view.maps)
        raise CLIError(f"--kind {kind}: a {obj.model_type} checkpoint has {allowed} attention")
    maps = view.maps[kind]
    rows, cols = view.axes[kind]
    try:
        layer, head = check_layer_head(maps, args.layer, args.head)
    except ValueError as exc:
        raise CLIError(str(exc)) from None
    name = KIND_TITLES[kind]
    if args.head is not None:
        return plot_attention(
            maps[layer][head], rows, cols, out, title=f"{name}, {layer_label(layer)}, head {head}"
        )
    if args.all_heads:
        return plot_heads(maps[layer], rows, cols, out, title=f"{name}, {layer_label(layer)}, every head")
    layers = None if args.layer is None else [layer]
    where = layer_label(layer) if layers else f"all {len(maps)} layers"
    return plot_alignment(maps, rows, cols, out, layers=layers, title=f"{name}, mean over heads of {where}")


def run_attention(args: argparse.Namespace) -> int:
    from ..inspection import attention_view, load_inspectable

    out = _out(args.out)
    if not args.sentence.strip():
        raise CLIError("--sentence is empty")
    obj = load_inspectable(args.checkpoint)
    if obj.model_type == "gpt" and args.kind not in (None, "self"):
        raise CLIError(f"--kind {args.kind}: a GPT checkpoint has only masked self-attention (--kind self)")
    if obj.model_type == "transformer" and args.kind == "self":
        raise CLIError("--kind self is for GPT checkpoints; a Transformer has encoder, decoder and cross")
    view = attention_view(obj, args.sentence, beam=args.beam, alpha=args.alpha)
    if view.output:
        print(f"translation: {view.output}")
    print(_attention_picture(args, obj, view, out))
    return 0


def run_positions(args: argparse.Namespace) -> int:
    from ..viz.positions import plot_positions

    print(plot_positions(_out(args.out), d_model=args.d_model, length=args.length, layout=args.layout).path)
    return 0


def run_curves(args: argparse.Namespace) -> int:
    from ..viz.curves import plot_curves

    print(plot_curves(args.run, _out(args.out), title=args.title))
    return 0


def run_complexity(args: argparse.Namespace) -> int:
    from ..viz.complexity import measure, plot_complexity, write_results

    out = _out(args.out)
    if args.measure:
        import torch

        torch.set_num_threads(1)
        data = measure(log=print)
        json_path, _ = write_results(data, args.data or out.with_suffix(".json"))
        print(f"data: {json_path}")
        print(plot_complexity(data, out))
        return 0
    if args.data is None:
        raise CLIError("give the DATA file written by benchmarks/layer_complexity.py, or --measure")
    print(plot_complexity(args.data, out))
    return 0


# -- every figure of the docs ------------------------------------------------------------------------------
def _ffn_activity(obj: Any, view: Any, out: Path) -> Path:
    """§3.3 Eq. 2 on a real sentence: which inner ReLU units fire, at every position of every encoder
    layer (the same W_1, W_2 at every position; only the input differs)."""
    import matplotlib.pyplot as plt
    import torch

    acts: list[torch.Tensor] = []
    hooks = [
        layer.ffn.w_1.register_forward_hook(lambda _m, _i, o: acts.append(o.detach()[0]))
        for layer in obj.model.encoder.layers
    ]
    try:
        src = torch.tensor([view.ids["source"]])
        tgt = torch.tensor([[obj.model.config.bos_id, *view.ids["target"]]])
        with torch.no_grad():
            obj.model(src, tgt)
    finally:
        for h in hooks:
            h.remove()
    rows = view.axes["encoder"][0]
    n = len(acts)
    fig, axes = plt.subplots(1, n + 1, figsize=(4.2 * (n + 1), 3.8), squeeze=False)
    for i, a in enumerate(acts):
        ax = axes[0, i]
        active = (a > 0).float()[:, :96].numpy()
        ax.imshow(active, cmap="Greys", aspect="auto", interpolation="nearest")
        ax.set_title(
            f"encoder layer {i}: ReLU(x W₁ + b₁) > 0\n(first 96 of d_ff={a.shape[1]} units)", fontsize=9
        )
        ax.set_yticks(range(len(rows)), rows, fontsize=7)
        ax.set_xlabel("inner unit", fontsize=8)
    ax = axes[0, n]
    for i, a in enumerate(acts):
        ax.plot(range(len(rows)), (a > 0).float().mean(1).numpy(), "o-", label=f"layer {i}", markersize=3)
    ax.set_xticks(range(len(rows)), rows, rotation=90, fontsize=7)
    ax.set_ylabel("fraction of inner units active")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    ax.set_title("sparsity per position", fontsize=9)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def _embedding_norms(obj: Any, out: Path) -> Path:
    """§3.4: the shared embedding matrix times sqrt(d_model) has rows of about the size of the §3.5 PE
    vectors, so neither drowns the other when they are added."""
    import matplotlib.pyplot as plt
    import torch

    from ..nn.embeddings import sinusoid_table

    c = obj.model.config
    weight = obj.model.tgt_embed.tokens.weight.detach()[4 : obj.tokenizer.vocab_size]  # no specials
    raw = weight.norm(dim=1).numpy()
    scaled = raw * math.sqrt(c.d_model)
    pe = sinusoid_table(100, c.d_model).norm(dim=1)
    fig, ax = plt.subplots(figsize=(7.5, 3.8))
    bins = torch.logspace(math.log10(max(raw.min(), 1e-3)), math.log10(scaled.max() * 1.2), 60).numpy()
    ax.hist(raw, bins=bins, alpha=0.7, label="‖E_w‖ (embedding row as stored)")
    ax.hist(
        scaled, bins=bins, alpha=0.7, label=f"‖E_w · √d_model‖ (√{c.d_model} = {math.sqrt(c.d_model):.1f})"
    )
    ax.axvline(
        float(pe.mean()), color="k", ls="--", label=f"‖PE(pos)‖ = √(d_model/2) = {float(pe.mean()):.1f}"
    )
    ax.set_xscale("log")
    ax.set_xlabel("vector norm")
    ax.set_ylabel("tokens")
    ax.set_title(f"§3.4: shared embedding of {obj.directory} ({len(raw)} tokens)", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def _input_transformations(out: Path) -> Path:
    """GPT-1 §3.3 / Figure 1: the token sequences :mod:`ronbun.gpt.transforms` builds for each task."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    from ..gpt.transforms import SpecialTokens, transform

    vocab: dict[str, int] = {}
    words: dict[int, str] = {}

    def enc(text: str) -> list[int]:
        ids = []
        for w in text.split():
            if w not in vocab:
                vocab[w] = len(vocab) + 10
                words[vocab[w]] = w
            ids.append(vocab[w])
        return ids

    special = SpecialTokens(start=1, delim=2, extract=3)
    names = {1: "⟨s⟩", 2: "$", 3: "⟨e⟩"}
    examples = [
        ("classification", [enc("a charming film")], None),
        ("entailment", [enc("a man sleeps"), enc("a person rests")], None),
        ("similarity", [enc("the cat sat"), enc("a cat was sitting")], None),
        ("multiple_choice", [enc("Tom was hungry .")], [enc("he ate"), enc("he flew")]),
    ]
    rows: list[tuple[str, list[int]]] = []
    for kind, texts, choices in examples:
        ex = transform(kind, texts, special=special, n_ctx=64, choices=choices)
        for i, seq in enumerate(ex.sequences):
            rows.append((f"{kind}" + (f" [{i + 1}]" if ex.num_sequences > 1 else ""), list(seq)))
    fig, ax = plt.subplots(figsize=(10, 0.55 * len(rows) + 0.8))
    right_edge = 0.0
    colors = {1: "#f4a261", 2: "#e76f51", 3: "#2a9d8f"}
    for r, (label, seq) in enumerate(rows):
        y = len(rows) - 1 - r
        ax.text(-0.2, y, label, ha="right", va="center", fontsize=9)
        x = 0.0
        for tok in seq:
            text = names.get(tok, words.get(tok, str(tok)))
            w = 0.16 * len(text) + 0.35
            ax.add_patch(
                FancyBboxPatch(
                    (x, y - 0.3), w, 0.6, boxstyle="round,pad=0.02", fc=colors.get(tok, "#e9ecef"), ec="#555"
                )
            )
            ax.text(x + w / 2, y, text, ha="center", va="center", fontsize=8)
            x += w + 0.08
        right_edge = max(right_edge, x)
    ax.set_xlim(-3.2, right_edge + 0.2)
    ax.set_ylim(-0.8, len(rows) - 0.2)
    ax.axis("off")
    ax.set_title("GPT-1 §3.3: input transformations as built by ronbun.gpt.transforms.transform", fontsize=10)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def _winograd_figure(obj: Any, out: Path) -> Path:
    """GPT-1 §5: the Winograd heuristic on ronbun's illustrative twin sentences (average log-probability of
    the rest of the sentence after substituting each candidate)."""
    import matplotlib.pyplot as plt
    import numpy as np

    from ..gpt.zeroshot import WINOGRAD_EXAMPLES, winograd

    preds, scores = winograd(obj.model, obj.tokenizer, WINOGRAD_EXAMPLES)
    margins = []  # mean log-prob with the right option minus with the wrong one: > 0 = the heuristic is right
    for ex, s in zip(WINOGRAD_EXAMPLES, scores, strict=True):
        right = int(ex.label or 0)
        margins.append(float(s[right] - max(v for k, v in enumerate(s) if k != right)))
    fig, ax = plt.subplots(figsize=(12, 4.4))
    y = np.arange(len(WINOGRAD_EXAMPLES))[::-1]
    ax.barh(y, margins, color=["tab:green" if m > 0 else "tab:red" for m in margins])
    ax.axvline(0, color="k", lw=0.8)
    labels = [ex.sentence.replace("_", f"[{'/'.join(ex.options)}]") for ex in WINOGRAD_EXAMPLES]
    ax.set_yticks(y, labels, fontsize=7)
    ax.set_xlabel(
        "mean log P(rest | right option) − mean log P(rest | wrong option)   (> 0: heuristic right)"
    )
    acc = float(np.mean([p == ex.label for p, ex in zip(preds, WINOGRAD_EXAMPLES, strict=True)]))
    ax.set_title(
        f"§5 Winograd heuristic ({obj.directory.name}): {acc:.0%} of 10 twin sentences right", fontsize=9
    )
    fig.savefig(out, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return out


def run_figures(args: argparse.Namespace) -> int:
    import torch

    from ..inspection import attention_view, load_inspectable
    from ..training.checkpoint import is_checkpoint_or_run
    from ..viz.attention import (
        layer_label,
        plot_alignment,
        plot_attention,
        plot_heads,
        plot_kinds,
        plot_scaling,
    )
    from ..viz.complexity import measure, plot_complexity, write_results
    from ..viz.curves import plot_curves
    from ..viz.positions import plot_positions

    torch.set_num_threads(max(1, args.threads))
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    made: list[Path] = []
    skipped: list[str] = []

    def make(name: str, fn: Callable[[Path], Any]) -> None:
        path = out / name
        result = fn(path)
        made.append(path)
        print(f"  {path}" + (f"  ({result})" if isinstance(result, str) else ""), flush=True)

    print(f"figures → {out}")
    make("positional_encoding.png", lambda p: plot_positions(p, d_model=512, length=100))
    make("attention_scaling.png", lambda p: plot_scaling(p))
    make("gpt_input_transformations.png", _input_transformations)
    if args.skip_complexity and (out / "layer_complexity.json").is_file():
        make("table1_complexity.png", lambda p: plot_complexity(out / "layer_complexity.json", p))
    elif args.skip_complexity:
        skipped.append(f"table1_complexity.png: --skip-complexity and no {out / 'layer_complexity.json'}")
    else:
        print("  measuring Table 1 (about 20 s on one thread) …", flush=True)
        data = measure()
        write_results(data, out / "layer_complexity.json")
        make("table1_complexity.png", lambda p: plot_complexity(data, p))

    ckpt = args.checkpoint or DEMO_CHECKPOINT
    if is_checkpoint_or_run(ckpt):
        obj = load_inspectable(ckpt)
        if obj.model_type != "transformer":
            raise CLIError(f"--checkpoint {ckpt} is a {obj.model_type} model; give a translation checkpoint")
        view = attention_view(obj, args.sentence)
        print(f"  {args.sentence!r} → {view.output!r}")
        src, tgt = view.axes["cross"][1], view.axes["cross"][0]
        last = len(view.maps["cross"]) - 1
        make("attention_kinds.png", lambda p: plot_kinds(view, p, title=f"{ckpt}: {args.sentence}"))
        make(
            "attention_cross_one_head.png",
            lambda p: plot_attention(
                view.maps["cross"][last][0],
                tgt,
                src,
                p,
                title=f"encoder-decoder attention, {layer_label(last)}, head 0",
            ),
        )
        make(
            "attention_encoder_heads_layer0.png",
            lambda p: plot_heads(
                view.maps["encoder"][0],
                *view.axes["encoder"],
                p,
                title=f"encoder self-attention, {layer_label(0)}",
            ),
        )
        make(
            "attention_alignment_average.png",
            lambda p: plot_alignment(
                view.maps["cross"],
                tgt,
                src,
                p,
                title="encoder-decoder attention, mean over all layers and heads",
            ),
        )
        make("ffn_activity.png", lambda p: _ffn_activity(obj, view, p))
        make("embedding_norms.png", lambda p: _embedding_norms(obj, p))
        run_dir = args.run or (ckpt.parent if (ckpt.parent / "metrics.jsonl").is_file() else ckpt)
        if (run_dir / "metrics.jsonl").is_file():
            make("training_curves.png", lambda p: plot_curves(run_dir, p, title=f"{run_dir}: translation"))
        else:
            skipped.append(f"training_curves.png: no metrics.jsonl in {run_dir}")
    else:
        skipped.append(
            f"attention/FFN/embedding/curves figures: no checkpoint at {ckpt} (run `make demo` or give --checkpoint)"
        )

    gpt_run = args.gpt_run or GPT_RUN
    if (gpt_run / "metrics.jsonl").is_file():
        make(
            "gpt_pretraining_curves.png",
            lambda p: plot_curves(gpt_run, p, title=f"{gpt_run}: GPT pre-training"),
        )
        try:
            gpt = load_inspectable(gpt_run)
        except (ValueError, FileNotFoundError) as exc:
            skipped.append(f"GPT attention / zero-shot figures: {exc}")
        else:
            gview = attention_view(gpt, GPT_SENTENCE)
            glast = len(gview.maps["self"]) - 1
            make(
                "gpt_self_attention_heads.png",
                lambda p: plot_heads(
                    gview.maps["self"][glast],
                    *gview.axes["self"],
                    p,
                    title=f"{gpt_run}: masked self-attention, {layer_label(glast)}",
                ),
            )
            try:
                make("gpt_zeroshot_winograd.png", lambda p: _winograd_figure(gpt, p))
            except ImportError as exc:  # pragma: no cover - the GPT package is optional here
                skipped.append(f"gpt_zeroshot_winograd.png: {exc}")
    else:
        skipped.append(
            f"GPT figures: no GPT pre-training run at {gpt_run} (make it with `{GPT_RUN_COMMAND}`)"
        )
    for line in skipped:
        print(f"  skipped {line}", file=sys.stderr)
    print(f"{len(made)} figure(s) written, {len(skipped)} group(s) skipped")
    return 0
