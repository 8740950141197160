"""Attention pictures (the paper's §4 / appendix argument that self-attention is interpretable):
heat-maps of encoder self-, decoder self- and encoder-decoder attention with tokens on the axes, the grid of
all heads of one layer, and the *averaged alignment* (mean over layers and heads) of a sentence.

Also the bridge from a checkpoint to pictures: :func:`load_inspectable` opens a Transformer or GPT checkpoint,
:func:`attention_view` runs one sentence through it and returns every map with its axis labels (used by
``ronbun viz attention`` and by the ``ronbun serve`` page).

Usage::

    from ronbun.viz.attention import load_inspectable, attention_view, plot_attention, averaged_alignment
    view = attention_view(load_inspectable("runs/demo/averaged"), "The dog sees the cat.")
    rows, cols = view.axes["cross"]
    plot_attention(averaged_alignment(view.maps["cross"]), rows, cols, "alignment.png")
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torch
from torch import Tensor

KINDS = ("encoder", "decoder", "cross", "self")
KIND_TITLES = {
    "encoder": "encoder self-attention",
    "decoder": "decoder masked self-attention",
    "cross": "encoder-decoder attention",
    "self": "masked self-attention",
}


def _save(fig: Any, out: str | Path, dpi: int) -> Path:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=dpi)
    plt.close(fig)
    return out


#: Colour-bar label of every attention heat-map: each cell is one softmax weight of Eq. 1.
WEIGHT_LABEL = "attention weight"
#: Axis labels: rows are queries (the position that attends), columns keys (the positions attended to).
QUERY_LABEL = "query (attends from)"
KEY_LABEL = "key (attends to)"
_LAYER_NUMBER = re.compile(r"\blayer (-?\d+)\b(?! \(counting from 0\))")


def layer_label(layer: int) -> str:
    """``"layer N (counting from 0)"``: how pictures name a layer, so that ``layer 0`` reads as the first."""
    return f"layer {layer} (counting from 0)"


def count_from_zero(title: str) -> str:
    """``title`` with every ``layer N`` spelled as :func:`layer_label` (idempotent; other words unchanged)."""
    return _LAYER_NUMBER.sub(lambda m: layer_label(int(m.group(1))), title)


def _tick_labels(ax: Any, rows: Sequence[str], cols: Sequence[str], size: float, rotation: int) -> None:
    ax.set_xticks(range(len(cols)), cols, rotation=rotation, ha="right" if rotation < 90 else "center")
    ax.set_yticks(range(len(rows)), rows)
    ax.tick_params(labelsize=size)


def plot_attention(
    weights: Tensor,
    rows: Sequence[str],
    cols: Sequence[str],
    out: str | Path,
    *,
    title: str = "",
) -> Path:
    """One heat-map: ``weights (T_q, T_k)``; ``rows`` label queries, ``cols`` label keys.

    A colour bar gives the scale of the weights; a ``layer N`` in ``title`` gains "(counting from 0)"."""
    w = weights.detach().float().cpu().numpy()
    fig, ax = plt.subplots(figsize=(min(0.45 * len(cols) + 2.5, 16), min(0.45 * len(rows) + 1.8, 16)))
    im = ax.imshow(w, cmap="viridis", vmin=0.0, vmax=max(float(w.max()), 1e-6), aspect="auto")
    _tick_labels(ax, rows, cols, 9 if max(len(rows), len(cols)) <= 30 else 6, rotation=60)
    ax.set_xlabel(KEY_LABEL)
    ax.set_ylabel(QUERY_LABEL)
    if title:
        ax.set_title(count_from_zero(title), fontsize=10)
    fig.colorbar(im, ax=ax, fraction=0.04).set_label(WEIGHT_LABEL)
    fig.tight_layout()
    return _save(fig, out, 130)


def plot_heads(
    weights: Tensor, rows: Sequence[str], cols: Sequence[str], out: str | Path, *, title: str = ""
) -> Path:
    """All heads of one layer side by side: ``weights (h, T_q, T_k)`` (§3.2.2: each head attends on its own
    projection, so different heads can learn different relations).

    Every head is drawn on one colour scale (0 to the largest weight of the layer), shown by one colour bar;
    queries are labelled on the first column, keys on the bottom row; a ``layer N`` in ``title`` gains
    "(counting from 0)" (heads are numbered from 0 as well)."""
    w = weights.detach().float().cpu().numpy()
    h = w.shape[0]
    ncols = min(h, 4)
    nrows = (h + ncols - 1) // ncols
    vmax = max(float(w.max()), 1e-6) if w.size else 1.0
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(3.2 * ncols + 0.8, 3.0 * nrows + 0.9), squeeze=False, layout="constrained"
    )
    im = None
    for i, ax in enumerate(axes.flat):
        if i >= h:
            ax.axis("off")
            continue
        im = ax.imshow(w[i], cmap="viridis", vmin=0.0, vmax=vmax, aspect="auto")
        ax.set_title(f"head {i}", fontsize=9)
        _tick_labels(ax, rows, cols, 6, rotation=90)
        if i % ncols == 0:
            ax.set_ylabel(QUERY_LABEL, fontsize=8)
        if i + ncols >= h:  # nothing drawn below this one
            ax.set_xlabel(KEY_LABEL, fontsize=8)
    if title:
        fig.suptitle(count_from_zero(title), fontsize=10)
    if im is not None:  # one bar for the whole grid: the heads share its scale
        fig.colorbar(im, ax=axes, fraction=0.025, pad=0.01).set_label(WEIGHT_LABEL)
    return _save(fig, out, 110)


# -- selecting and averaging maps --------------------------------------------------------------------------
def _as_layer(w: Tensor) -> Tensor:
    """``(B, h, T_q, T_k)`` (batch row 0 is used) or ``(h, T_q, T_k)`` → ``(h, T_q, T_k)``."""
    if w.dim() == 4:
        return w[0]
    if w.dim() == 3:
        return w
    raise ValueError(f"attention weights must be (B, h, T_q, T_k) or (h, T_q, T_k), got {tuple(w.shape)}")


def check_layer_head(maps: Sequence[Tensor], layer: int | None, head: int | None) -> tuple[int, int | None]:
    """Resolve a (possibly negative) layer index and validate the head index; readable errors."""
    n_layers = len(maps)
    if n_layers == 0:
        raise ValueError("no attention maps of this kind")
    layer = n_layers - 1 if layer is None else layer
    if not -n_layers <= layer < n_layers:
        raise ValueError(f"layer {layer} does not exist: the model has {n_layers} layers (0..{n_layers - 1})")
    layer %= n_layers
    n_heads = _as_layer(maps[layer]).shape[0]
    if head is not None and not 0 <= head < n_heads:
        raise ValueError(f"head {head} does not exist: each layer has {n_heads} heads (0..{n_heads - 1})")
    return layer, head


def averaged_alignment(maps: Sequence[Tensor], layers: Sequence[int] | None = None) -> Tensor:
    """The mean attention over the chosen ``layers`` (default: all) and every head → ``(T_q, T_k)``.

    For encoder-decoder attention this is a soft *alignment* between target and source tokens (Bahdanau et
    al. 2015 read their single attention this way; the Transformer's is spread over N·h maps, §3.2.3).
    Each row still sums to 1, since it is an average of distributions."""
    if len(maps) == 0:
        raise ValueError("no attention maps to average")
    chosen = range(len(maps)) if layers is None else [check_layer_head(maps, i, None)[0] for i in layers]
    stacked = torch.stack([_as_layer(maps[i]).float() for i in chosen])  # (L, h, T_q, T_k)
    return stacked.mean(dim=(0, 1))


def plot_alignment(
    maps: Sequence[Tensor],
    rows: Sequence[str],
    cols: Sequence[str],
    out: str | Path,
    *,
    layers: Sequence[int] | None = None,
    title: str = "",
) -> Path:
    """:func:`averaged_alignment` as one heat-map."""
    n = len(maps) if layers is None else len(layers)
    heads = _as_layer(maps[0]).shape[0]
    return plot_attention(
        averaged_alignment(maps, layers),
        rows,
        cols,
        out,
        title=title or f"mean over {n} layer(s) × {heads} heads",
    )


def plot_kinds(view: AttentionView, out: str | Path, *, title: str = "") -> Path:
    """The averaged map of every attention kind of ``view`` side by side (Figure 1's three uses of
    attention, §3.2.3: encoder self-, decoder masked self- and encoder-decoder attention)."""
    kinds = [k for k in KINDS if k in view.maps]
    fig, axes = plt.subplots(1, len(kinds), figsize=(4.4 * len(kinds), 4.6), squeeze=False)
    for ax, kind in zip(axes.flat, kinds, strict=True):
        rows, cols = view.axes[kind]
        w = averaged_alignment(view.maps[kind]).numpy()
        ax.imshow(w, cmap="viridis", vmin=0.0, aspect="auto")
        ax.set_title(f"{KIND_TITLES[kind]}\n(mean of {len(view.maps[kind])} layers × heads)", fontsize=9)
        ax.set_xticks(range(len(cols)), cols, rotation=90, fontsize=7)
        ax.set_yticks(range(len(rows)), rows, fontsize=7)
        ax.set_xlabel(KEY_LABEL, fontsize=8)
        ax.set_ylabel(QUERY_LABEL, fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return _save(fig, out, 110)


# -- §3.2.1: why the 1/sqrt(d_k) ---------------------------------------------------------------------------
def scaling_data(
    d_ks: Sequence[int] = (4, 16, 64, 256, 1024), n_keys: int = 32, samples: int = 256, seed: int = 0
) -> dict[str, list[float]]:
    """§3.2.1's footnote, measured: with q, k of independent unit-variance components, ``q·k`` has variance
    ``d_k``; unscaled, the softmax over ``n_keys`` saturates (entropy → 0, max weight → 1) as ``d_k`` grows,
    while ``q·k / sqrt(d_k)`` keeps it spread.  Returns mean entropy (nats) and mean max weight per d_k."""
    gen = torch.Generator().manual_seed(seed)
    out: dict[str, list[float]] = {
        "d_k": [float(d) for d in d_ks],
        "entropy_unscaled": [],
        "entropy_scaled": [],
        "max_unscaled": [],
        "max_scaled": [],
        "std_unscaled": [],
    }
    for d in d_ks:
        q = torch.randn(samples, 1, d, generator=gen)
        k = torch.randn(samples, n_keys, d, generator=gen)
        logits = (q * k).sum(-1)  # (samples, n_keys)
        for name, x in (("unscaled", logits), ("scaled", logits / math.sqrt(d))):
            p = torch.softmax(x, dim=-1)
            ent = -(p * p.clamp_min(1e-30).log()).sum(-1)
            out[f"entropy_{name}"].append(float(ent.mean()))
            out[f"max_{name}"].append(float(p.max(-1).values.mean()))
        out["std_unscaled"].append(float(logits.std()))
    out["entropy_uniform"] = [math.log(n_keys)] * len(d_ks)
    return out


def plot_scaling(out: str | Path, **kwargs: Any) -> Path:
    """Plot :func:`scaling_data`: softmax entropy and largest weight vs d_k, with and without 1/sqrt(d_k)."""
    data = scaling_data(**kwargs)
    fig, (a, b) = plt.subplots(1, 2, figsize=(9.5, 3.6))
    a.plot(data["d_k"], data["entropy_unscaled"], "o-", label="softmax(q·k)")
    a.plot(data["d_k"], data["entropy_scaled"], "s-", label="softmax(q·k / √d_k)  (Eq. 1)")
    a.plot(data["d_k"], data["entropy_uniform"], "k:", label="uniform")
    a.set_xscale("log", base=2)
    a.set_xlabel("d_k")
    a.set_ylabel("entropy of the attention weights (nats)")
    a.legend(fontsize=8)
    b.plot(data["d_k"], data["max_unscaled"], "o-", label="softmax(q·k)")
    b.plot(data["d_k"], data["max_scaled"], "s-", label="softmax(q·k / √d_k)")
    b.set_xscale("log", base=2)
    b.set_ylim(0, 1.05)
    b.set_xlabel("d_k")
    b.set_ylabel("largest attention weight")
    b.legend(fontsize=8)
    fig.suptitle("§3.2.1: without the 1/√d_k factor the softmax saturates as d_k grows", fontsize=10)
    fig.tight_layout()
    return _save(fig, out, 120)


# -- from a checkpoint to maps -----------------------------------------------------------------------------
@dataclass
class Inspectable:
    """A loaded checkpoint ready for inspection: ``model_type`` is ``"transformer"`` or ``"gpt"``."""

    model_type: str
    model: Any
    tokenizer: Any
    directory: Path
    translator: Any = None  # ronbun.mt.translator.Translator for Transformer checkpoints
    line_break: int | None = None  # GPT: the id that starts every line of the pre-training stream
    banned_ids: list[int] = field(default_factory=list)  # GPT: ids never to sample

    @property
    def n_layers(self) -> int:
        c = self.model.config
        return c.n_layers if self.model_type == "gpt" else c.n_encoder_layers

    @property
    def n_heads(self) -> int:
        return int(self.model.config.n_heads)

    def describe(self) -> dict[str, Any]:
        c = self.model.config
        layers = (
            {"self": c.n_layers}
            if self.model_type == "gpt"
            else {"encoder": c.n_encoder_layers, "decoder": c.n_decoder_layers, "cross": c.n_decoder_layers}
        )
        return {
            "name": self.directory.name,
            "path": str(self.directory),
            "model_type": self.model_type,
            "layers": layers,
            "heads": self.n_heads,
            "d_model": c.d_model,
            "parameters": sum(p.numel() for p in self.model.parameters()),
            "max_positions": c.n_ctx if self.model_type == "gpt" else c.max_positions,
        }


def resolve_checkpoint_dir(path: str | Path) -> Path:
    """A checkpoint directory, or the newest intact checkpoint of a run directory (``RUN/checkpoints/…``)."""
    from ..training.checkpoint import CheckpointError
    from ..training.loop import latest_intact_checkpoint

    path = Path(path)
    if (path / "config.json").is_file():
        return path
    if (path / "checkpoints").is_dir():
        found = latest_intact_checkpoint(path, log=lambda _msg: None)
        if found is not None:
            return found
        raise CheckpointError(f"{path} is a run directory without an intact checkpoint")
    if not path.exists():
        raise CheckpointError(f"checkpoint directory {path} does not exist")
    raise CheckpointError(f"{path} is not a ronbun checkpoint (no config.json) nor a run (no checkpoints/)")


def _gpt_tokenizer(directory: Path) -> tuple[Any, int | None]:
    try:  # GPT-1's own BPE or a byte-level tokenizer.json, as the GPT package finds it
        from ..gpt.corpus import find_checkpoint_tokenizer, line_break_id

        tok = find_checkpoint_tokenizer(directory)[0]
        return tok, line_break_id(tok)
    except ImportError:  # pragma: no cover - the GPT package is optional for this module
        from ..text.bpe import TextTokenizer
        from ..training.checkpoint import TOKENIZER_FILE

        tok = TextTokenizer.load(directory / TOKENIZER_FILE)
        found = tok.tokenizer.token_to_id("Ċ")
        return tok, None if found is None else int(found)


def load_inspectable(path: str | Path, device: str = "cpu") -> Inspectable:
    """Open a Transformer or GPT checkpoint (or the newest checkpoint of a run) with its tokenizer."""
    from ..training.checkpoint import CheckpointError, load_config, load_model

    directory = resolve_checkpoint_dir(path)
    kind = load_config(directory).model_type()
    if kind == "transformer":
        from ..mt.translator import Translator

        tr = Translator.from_checkpoint(directory, device=device)
        return Inspectable("transformer", tr.model, tr.tokenizer, directory, translator=tr)
    if kind == "gpt":
        model = load_model(directory, expect="gpt", device=device)
        tok, line_break = _gpt_tokenizer(directory)
        c = model.config
        if tok.vocab_size > c.total_vocab:
            raise CheckpointError(
                f"vocabulary mismatch: tokenizer has {tok.vocab_size} tokens, the model {c.total_vocab}"
            )
        banned = set(range(tok.vocab_size, c.total_vocab))
        if type(tok).__name__ == "TextTokenizer":
            banned |= {0, 1, 2, 3}  # <pad> <s> </s> <unk> never occur in the pre-training stream
        return Inspectable("gpt", model, tok, directory, line_break=line_break, banned_ids=sorted(banned))
    raise CheckpointError(f"{directory}: cannot inspect model_type {kind!r}")  # pragma: no cover


def token_pieces(tokenizer: Any, ids: Sequence[int], line_break: int | None = None) -> list[str]:
    """Readable labels for ``ids``: sub-word pieces, the line-break token shown as ``⏎``."""
    pieces = getattr(tokenizer, "pieces", None)
    out = (
        list(pieces(ids))
        if pieces is not None
        else [tokenizer.decode([int(i)]) or tokenizer.id_to_token(int(i)) for i in ids]
    )
    return [
        "⏎" if line_break is not None and int(i) == line_break else printable(p)
        for p, i in zip(out, ids, strict=True)
    ]


def printable(piece: str) -> str:
    """A label every font can draw: control characters become ``\\xNN``, line breaks ``⏎``."""
    return "".join(
        "⏎" if ch == "\n" else ch if ch.isprintable() or ch == " " else f"\\x{ord(ch):02x}" for ch in piece
    )


@dataclass
class AttentionView:
    """Every attention map of one input: ``maps[kind]`` is a list over layers of ``(h, T_q, T_k)``;
    ``axes[kind] = (query labels, key labels)``; ``output`` is the translation / continuation."""

    model_type: str
    text: str
    output: str
    maps: dict[str, list[Tensor]]
    axes: dict[str, tuple[list[str], list[str]]]
    ids: dict[str, list[int]] = field(default_factory=dict)


def attention_view(
    obj: Inspectable, text: str, *, beam: int = 4, alpha: float = 0.6, continuation: Sequence[int] = ()
) -> AttentionView:
    """Run ``text`` through the checkpoint and collect its attention maps.

    Transformer: translate (beam search, §6.1; ``beam=1`` is greedy) and teacher-force the model's own
    translation → ``encoder``, ``decoder`` (both axes: the decoder's input ``<s> y_1 …``) and ``cross`` (rows:
    the token each decoder position *produces*, the usual alignment reading; columns: source pieces).  GPT: the prompt (after the line-break token the model saw at the start of every
    line) plus ``continuation`` ids → ``self``."""
    if obj.model_type == "transformer":
        c = obj.model.config
        src_ids = obj.tokenizer.encode(text) or [c.eos_id]
        if len(src_ids) > c.max_positions:
            raise ValueError(
                f"the sentence has {len(src_ids)} tokens; this model reads at most {c.max_positions}"
            )
        out_ids = obj.translator.translate_ids([src_ids], beam=beam, alpha=alpha)[0]
        device = next(obj.model.parameters()).device
        tgt_in_ids = [c.bos_id, *out_ids][: c.max_positions]
        maps = obj.model.attention_maps(
            torch.tensor([src_ids], device=device), torch.tensor([tgt_in_ids], device=device)
        )
        src_pieces = token_pieces(obj.tokenizer, src_ids)
        tgt_in = ["<s>", *token_pieces(obj.tokenizer, out_ids)][: len(tgt_in_ids)]
        produced = [*token_pieces(obj.tokenizer, out_ids), "</s>"][: len(tgt_in_ids)]
        return AttentionView(
            model_type="transformer",
            text=text,
            output=obj.tokenizer.decode(out_ids),
            maps={
                "encoder": [_as_layer(w) for w in maps.encoder],
                "decoder": [_as_layer(w) for w in maps.decoder],
                "cross": [_as_layer(w) for w in maps.cross],
            },
            axes={
                "encoder": (src_pieces, src_pieces),
                "decoder": (tgt_in, tgt_in),
                "cross": (produced, src_pieces),
            },
            ids={"source": list(src_ids), "target": list(out_ids)},
        )
    ids = list(obj.tokenizer.encode(text)) if text else []
    if obj.line_break is not None:
        ids = [obj.line_break, *ids]
    if not ids:
        raise ValueError("the prompt is empty: type some text")
    ids += [int(i) for i in continuation]
    n_ctx = obj.model.config.n_ctx
    if len(ids) > n_ctx:
        ids = ids[-n_ctx:]
    device = next(obj.model.parameters()).device
    maps_gpt = obj.model.attention_maps(torch.tensor([ids], device=device))
    labels = token_pieces(obj.tokenizer, ids, obj.line_break)
    return AttentionView(
        model_type="gpt",
        text=text,
        output=obj.tokenizer.decode([int(i) for i in continuation]) if continuation else "",
        maps={"self": [_as_layer(w) for w in maps_gpt]},
        axes={"self": (labels, labels)},
        ids={"tokens": ids},
    )
