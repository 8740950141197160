"""Every figure the documentation embeds, made by one call (``ronbun viz figures``, ``make figures``).

Figures that need no trained model are always made (§3.5 positional encodings, attention scaling, GPT-1's
§3.3 input transformations, Table 1 measured); the attention, FFN and embedding figures need a translation
checkpoint (:data:`DEMO_CHECKPOINT`, made by ``make demo``), the appendix figures (Figures 3-5, also
``ronbun viz appendix``) the Multi30k model (:data:`APPENDIX_CHECKPOINT`, made by
:data:`APPENDIX_CHECKPOINT_COMMAND`) and the GPT figures a GPT pre-training run (:data:`GPT_RUN`, made by
:data:`GPT_RUN_COMMAND`).  Missing inputs skip their figures with a message.

Importing this module loads no plotting library (the command line reads its defaults); drawing does.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..settings import setting

__all__ = [
    "APPENDIX_CHECKPOINT",
    "APPENDIX_CHECKPOINT_COMMAND",
    "DEMO_CHECKPOINT",
    "DEMO_SENTENCE",
    "GPT_RUN",
    "GPT_RUN_COMMAND",
    "GPT_SENTENCE",
    "AppendixConfig",
    "Figures",
    "FiguresConfig",
    "appendix_figures",
    "embedding_norms",
    "ffn_activity",
    "input_transformations",
    "make_figures",
    "winograd_figure",
]

DEMO_CHECKPOINT = Path("runs/demo/averaged")
#: The model of the appendix figures: the appendix sentences are news text, out of reach of the demo's corpus.
APPENDIX_CHECKPOINT = Path("runs/multi30k/averaged")
APPENDIX_CHECKPOINT_COMMAND = "experiments/multi30k.sh"
#: Table 3 at CPU scale, as measured by ``ronbun experiment table3 --dataset multi30k`` (committed).
TABLE3_RESULTS = Path("results/table3.json")
#: GPT-1 Figure 2 at CPU scale, as measured by ``ronbun experiment figure2``: each panel's summary (committed).
FIGURE2_RESULTS = {"right": Path("results/figure2.json"), "left": Path("results/figure2_left.json")}
#: GPT-1 Table 5 at CPU scale, as measured by ``ronbun experiment table5`` (committed).
TABLE5_RESULTS = Path("results/table5.json")
GPT_RUN = Path("runs/gpt-docs")
GPT_RUN_COMMAND = (
    "ronbun gpt pretrain --preset tiny --max-steps 600 --batch-size 16 --lr 1e-3 --eval-every 100 "
    "--out runs/gpt-docs --no-progress"
)
DEMO_SENTENCE = "I know that the woman reads the book."  # verb-final German: a non-monotone alignment
GPT_SENTENCE = "The old man sees the small dog in the garden."


def _say(message: str) -> None:
    print(message, flush=True)


@dataclass
class Figures:
    """The figures written into ``out`` so far, and the groups skipped (with the reason)."""

    out: Path
    log: Callable[[str], Any] = _say
    made: list[Path] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def make(self, name: str, draw: Callable[[Path], Any]) -> None:
        """Draw figure ``name`` into ``out`` (``draw(path)``) and say so."""
        path = self.out / name
        result = draw(path)
        self.made.append(path)
        self.log(f"  {path}" + (f"  ({result})" if isinstance(result, str) else ""))


@dataclass
class FiguresConfig:
    """Where ``ronbun viz figures`` writes and what it reads."""

    out: Path = setting(Path("docs/figures"), "folder the figures go to")
    checkpoint: Path | None = setting(None, f"translation checkpoint (default {DEMO_CHECKPOINT})")
    run: Path | None = setting(None, "translation run directory for the curves (default: the checkpoint's)")
    gpt_run: Path | None = setting(None, f"GPT pre-training run directory (default {GPT_RUN})")
    sentence: str = setting(DEMO_SENTENCE, "the sentence of the attention figures")
    appendix_checkpoint: Path | None = setting(
        None, f"translation checkpoint of the appendix figures (default {APPENDIX_CHECKPOINT})"
    )
    skip_complexity: bool = setting(False, "do not re-measure Table 1 (re-plot the saved measurement)")
    threads: int = setting(1, "torch CPU threads")


@dataclass
class AppendixConfig:
    """What ``ronbun viz appendix`` draws (the checkpoint is its positional argument)."""

    out: Path = setting(Path("docs/figures"), "folder the figures and appendix_attention.json go to")
    layer: int | None = setting(
        None,
        "encoder layer, counting from 0 (negative: from the end); default the second-to-last, as the paper's "
        "layer 5 of 6",
        paper="appendix, Figures 3-5",
    )
    sentence: str | None = setting(None, "one more sentence: its head grid (and, with --word, that word's)")
    word: str | None = setting(None, "the word of --sentence whose attention is drawn")
    threads: int = setting(1, "torch CPU threads")


def make_figures(cfg: FiguresConfig, log: Callable[[str], Any] = _say) -> Figures:
    """Write every figure of the docs into ``cfg.out``: a translation ``checkpoint`` (default
    :data:`DEMO_CHECKPOINT`) with its ``run`` directory's curves, the appendix figures of
    ``appendix_checkpoint`` (default :data:`APPENDIX_CHECKPOINT`), and a GPT pre-training ``gpt_run``
    (default :data:`GPT_RUN`); ``skip_complexity`` re-plots Table 1 from the saved measurement."""
    import torch

    from .attention import plot_scaling
    from .positions import plot_positions

    torch.set_num_threads(max(1, cfg.threads))
    out = cfg.out
    out.mkdir(parents=True, exist_ok=True)
    figures = Figures(out, log)
    log(f"figures → {out}")
    figures.make("positional_encoding.png", lambda p: plot_positions(p, d_model=512, length=100))
    figures.make("attention_scaling.png", lambda p: plot_scaling(p))
    figures.make("gpt_input_transformations.png", input_transformations)
    _complexity_figure(figures, cfg.skip_complexity)
    _results_figures(figures)
    from ..training.checkpoint import is_checkpoint_or_run

    ckpt = cfg.checkpoint or DEMO_CHECKPOINT
    if is_checkpoint_or_run(ckpt):
        _translation_figures(figures, ckpt, cfg.run, cfg.sentence)
    else:
        figures.skipped.append(
            f"attention/FFN/embedding/curves figures: no checkpoint at {ckpt} (run `make demo` or give --checkpoint)"
        )
    appendix = cfg.appendix_checkpoint or APPENDIX_CHECKPOINT
    if is_checkpoint_or_run(appendix):
        _appendix_figures(figures, appendix, None)
    else:
        figures.skipped.append(
            f"appendix figures: no checkpoint at {appendix} (run `{APPENDIX_CHECKPOINT_COMMAND}` or give "
            "--appendix-checkpoint)"
        )
    gpt_run = cfg.gpt_run or GPT_RUN
    if (gpt_run / "metrics.jsonl").is_file():
        _gpt_figures(figures, gpt_run)
    else:
        figures.skipped.append(
            f"GPT figures: no GPT pre-training run at {gpt_run} (make it with `{GPT_RUN_COMMAND}`)"
        )
    return figures


def _complexity_figure(figures: Figures, skip_complexity: bool) -> None:
    """Table 1 measured (about 20 s on one thread), or re-plotted from the saved measurement."""
    from .complexity import measure, plot_complexity, write_results

    saved = figures.out / "layer_complexity.json"
    if skip_complexity and saved.is_file():
        figures.make("table1_complexity.png", lambda p: plot_complexity(saved, p))
    elif skip_complexity:
        figures.skipped.append(f"table1_complexity.png: --skip-complexity and no {saved}")
    else:
        figures.log("  measuring Table 1 (about 20 s on one thread) …")
        data = measure()
        write_results(data, saved)
        figures.make("table1_complexity.png", lambda p: plot_complexity(data, p))


def _results_figures(figures: Figures) -> None:
    """The papers' tables and figures at CPU scale, redrawn from their committed summaries (measuring them
    takes hours): Table 3 of the Transformer, Table 5 and Figure 2 of GPT-1 (each panel of Figure 2 from the
    run that measured it)."""
    import json

    from .ablations import plot_figure2_summary, plot_table5_summary
    from .variations import plot_table3

    def read(path: Path) -> dict | None:
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None

    for name, summary_file, command, draw in (
        ("table3.png", TABLE3_RESULTS, "ronbun experiment table3 --dataset multi30k", plot_table3),
        ("gpt1_table5.png", TABLE5_RESULTS, "ronbun experiment table5", plot_table5_summary),
    ):
        summary = read(summary_file)
        if summary is None:
            figures.skipped.append(f"{name}: no {summary_file} (run `{command}`)")
            continue
        figures.make(name, lambda p, summary=summary, draw=draw: draw(summary, p))
    panels = {panel: (read(path) or {}).get(panel) for panel, path in FIGURE2_RESULTS.items()}
    if not any(panels.values()):
        files = " or ".join(str(p) for p in FIGURE2_RESULTS.values())
        figures.skipped.append(f"gpt1_figure2.png: no {files} (run `ronbun experiment figure2`)")
    else:
        figures.make("gpt1_figure2.png", lambda p: plot_figure2_summary(panels, p))


def _translation_figures(figures: Figures, ckpt: Path, run: Path | None, sentence: str) -> None:
    """Attention (every kind, one head, every head, the alignment), FFN activity, embedding norms and the
    training curves of a translation checkpoint."""
    from ..inspection import attention_view, load_inspectable
    from .attention import layer_label, plot_alignment, plot_attention, plot_heads, plot_kinds
    from .curves import plot_curves

    obj = load_inspectable(ckpt)
    if obj.model_type != "transformer":
        raise ValueError(f"--checkpoint {ckpt} is a {obj.model_type} model; give a translation checkpoint")
    view = attention_view(obj, sentence)
    figures.log(f"  {sentence!r} → {view.output!r}")
    src, tgt = view.axes["cross"][1], view.axes["cross"][0]
    cross, last = view.maps["cross"], len(view.maps["cross"]) - 1
    figures.make("attention_kinds.png", lambda p: plot_kinds(view, p, title=f"{ckpt}: {sentence}"))
    one_head = f"encoder-decoder attention, {layer_label(last)}, head 0"
    figures.make(
        "attention_cross_one_head.png", lambda p: plot_attention(cross[last][0], tgt, src, p, title=one_head)
    )
    heads = f"encoder self-attention, {layer_label(0)}"
    encoder = view.maps["encoder"][0]
    figures.make(
        "attention_encoder_heads_layer0.png",
        lambda p: plot_heads(encoder, *view.axes["encoder"], p, title=heads),
    )
    mean = "encoder-decoder attention, mean over all layers and heads"
    figures.make("attention_alignment_average.png", lambda p: plot_alignment(cross, tgt, src, p, title=mean))
    figures.make("ffn_activity.png", lambda p: ffn_activity(obj, view, p))
    figures.make("embedding_norms.png", lambda p: embedding_norms(obj, p))
    run_dir = run or (ckpt.parent if (ckpt.parent / "metrics.jsonl").is_file() else ckpt)
    if (run_dir / "metrics.jsonl").is_file():
        figures.make(
            "training_curves.png", lambda p: plot_curves(run_dir, p, title=f"{run_dir}: translation")
        )
    else:
        figures.skipped.append(f"training_curves.png: no metrics.jsonl in {run_dir}")


def appendix_figures(checkpoint: Path, cfg: AppendixConfig, log: Callable[[str], Any] = _say) -> Figures:
    """The paper's appendix (Figures 3-5) from ``checkpoint``: encoder self-attention of ``cfg.layer`` on
    the appendix sentences (and ``cfg.sentence``), merged to words, drawn into ``cfg.out`` with the measured
    shares in ``appendix_attention.json``."""
    import torch

    from ..inspection import AppendixSentence

    torch.set_num_threads(max(1, cfg.threads))
    if cfg.word is not None and cfg.sentence is None:
        raise ValueError("--word names a word of --sentence: give --sentence too")
    cfg.out.mkdir(parents=True, exist_ok=True)
    figures = Figures(cfg.out, log)
    extra = () if cfg.sentence is None else (AppendixSentence("sentence", cfg.sentence, word=cfg.word),)
    _appendix_figures(figures, checkpoint, cfg.layer, extra)
    return figures


def _appendix_figures(figures: Figures, ckpt: Path, layer: int | None, extra: tuple[Any, ...] = ()) -> None:
    """Figures 3-5 of the appendix and ``appendix_attention.json`` (see :func:`appendix_figures`)."""
    import datetime
    import json

    from ..evaluation.provenance import machine_description
    from ..inspection import appendix_attention, load_inspectable
    from .appendix import plot_word_highlight, plot_word_lines
    from .attention import layer_label, plot_heads

    found = appendix_attention(load_inspectable(ckpt), layer, extra)
    fig3, fig4, *more = found.sentences

    def where(s: Any) -> str:
        return (
            f"encoder self-attention, {layer_label(found.layer)}, every head: {s.sentence.figure or 'words'}"
        )

    figures.make("appendix_fig3_making.png", lambda p: plot_word_lines(fig3, p))
    figures.make(
        "appendix_fig3_heads.png",
        lambda p: plot_heads(fig3.weights, fig3.words, fig3.words, p, title=where(fig3)),
    )
    figures.make("appendix_fig4_its.png", lambda p: plot_word_highlight(fig4, p))
    figures.make(
        "appendix_fig5_heads.png",
        lambda p: plot_heads(fig4.weights, fig4.words, fig4.words, p, title=where(fig4)),
    )
    for s in more:
        figures.make(
            "appendix_sentence_heads.png",
            lambda p, s=s: plot_heads(s.weights, s.words, s.words, p, title=where(s)),
        )
        if s.row is not None:
            figures.make("appendix_sentence_word.png", lambda p, s=s: plot_word_lines(s, p))
    record = {
        **found.summary(),
        "command": f"ronbun viz appendix {ckpt} --layer {found.layer} --out {figures.out}",
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": machine_description(),
    }

    def write(path: Path) -> Path:
        path.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        return path

    figures.make("appendix_attention.json", write)


def _gpt_figures(figures: Figures, gpt_run: Path) -> None:
    """The pre-training curves, the last layer's self-attention heads and the §5 Winograd heuristic."""
    from ..inspection import attention_view, load_inspectable
    from .attention import layer_label, plot_heads
    from .curves import plot_curves

    figures.make(
        "gpt_pretraining_curves.png", lambda p: plot_curves(gpt_run, p, title=f"{gpt_run}: GPT pre-training")
    )
    try:
        gpt = load_inspectable(gpt_run)
    except (ValueError, FileNotFoundError) as exc:
        figures.skipped.append(f"GPT attention / zero-shot figures: {exc}")
        return
    gview = attention_view(gpt, GPT_SENTENCE)
    last = len(gview.maps["self"]) - 1
    title = f"{gpt_run}: masked self-attention, {layer_label(last)}"
    figures.make(
        "gpt_self_attention_heads.png",
        lambda p: plot_heads(gview.maps["self"][last], *gview.axes["self"], p, title=title),
    )
    figures.make("gpt_zeroshot_winograd.png", lambda p: winograd_figure(gpt, p))


# -- figures drawn here ------------------------------------------------------------------------------------
def _saved(fig: Any, out: Path, **options: Any) -> Path:
    """Write ``fig`` to ``out`` (laid out tightly unless ``bbox_inches`` says how) and close it."""
    import matplotlib.pyplot as plt

    if "bbox_inches" not in options:
        fig.tight_layout()
    fig.savefig(out, dpi=110, **options)
    plt.close(fig)
    return out


def ffn_activity(obj: Any, view: Any, out: Path) -> Path:
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
    return _saved(fig, out)


def embedding_norms(obj: Any, out: Path) -> Path:
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
    return _saved(fig, out)


def input_transformations(out: Path) -> Path:
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
    return _saved(fig, out)


def winograd_figure(obj: Any, out: Path) -> Path:
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
    return _saved(fig, out, bbox_inches="tight")
