"""Model inspection without drawing: open a checkpoint, run one input through it and collect every attention
map with its axis labels (the paper's §4 / appendix argument that self-attention is interpretable).

:func:`load_inspectable` opens a Transformer or GPT checkpoint (or the newest checkpoint of a run) with its
tokenizer through :func:`ronbun.training.checkpoint.load_checkpoint`; :func:`attention_view` returns an :class:`AttentionView`: ``maps[kind]`` per layer and head,
``axes[kind]`` their token labels.  :func:`averaged_alignment` and :func:`check_layer_head` select and average
maps.  The pictures (:mod:`ronbun.viz.attention`) and the web page (:mod:`ronbun.serve`) both start here; this
module never imports matplotlib, so the server does not load it.

Usage::

    from ronbun.inspection import attention_view, averaged_alignment, load_inspectable
    view = attention_view(load_inspectable("runs/demo/averaged"), "The dog sees the cat.")
    rows, cols = view.axes["cross"]
    alignment = averaged_alignment(view.maps["cross"])  # (len(rows), len(cols)), each row sums to 1
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

__all__ = [
    "KINDS",
    "AttentionView",
    "Inspectable",
    "as_layer",
    "attention_view",
    "averaged_alignment",
    "check_layer_head",
    "load_inspectable",
    "printable",
    "token_pieces",
]

#: The attention kinds of an :class:`AttentionView`: the Transformer's three uses of attention (§3.2.3) and
#: GPT-1's masked self-attention.
KINDS = ("encoder", "decoder", "cross", "self")


# -- selecting and averaging maps --------------------------------------------------------------------------
def as_layer(w: Tensor) -> Tensor:
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
    n_heads = as_layer(maps[layer]).shape[0]
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
    stacked = torch.stack([as_layer(maps[i]).float() for i in chosen])  # (L, h, T_q, T_k)
    return stacked.mean(dim=(0, 1))


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


def load_inspectable(path: str | Path, device: str = "cpu") -> Inspectable:
    """Open a Transformer or GPT checkpoint (or the newest checkpoint of a run) with its tokenizer."""
    from ..training.checkpoint import TRANSFORMER, load_checkpoint

    ckpt = load_checkpoint(path, device=device)
    if ckpt.kind == TRANSFORMER:
        from ..mt.translator import Translator

        tr = Translator(ckpt.model, ckpt.tokenizer, directory=ckpt.path)  # type: ignore[arg-type]
        return Inspectable("transformer", tr.model, tr.tokenizer, ckpt.path, translator=tr)
    from ..gpt.language_model import LanguageModel

    lm = LanguageModel(ckpt.model, ckpt.tokenizer, directory=ckpt.path)  # type: ignore[arg-type]
    return Inspectable(
        "gpt", lm.model, lm.tokenizer, ckpt.path, line_break=lm.line_break, banned_ids=lm.banned_ids
    )


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
    the token each decoder position *produces*, the usual alignment reading; columns: source pieces).
    GPT: the prompt (after the line-break token the model saw at the start of every line) plus
    ``continuation`` ids → ``self``."""
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
                "encoder": [as_layer(w) for w in maps.encoder],
                "decoder": [as_layer(w) for w in maps.decoder],
                "cross": [as_layer(w) for w in maps.cross],
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
        maps={"self": [as_layer(w) for w in maps_gpt]},
        axes={"self": (labels, labels)},
        ids={"tokens": ids},
    )
