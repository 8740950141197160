"""One picture per ``ronbun viz`` command (attention of a checkpoint on a sentence, Table 1 measured): the
choices the commands offer, checked, and turned into a call of the plotting functions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["FORMATS", "attention_picture", "complexity_picture", "picture_path"]

FORMATS = (".png", ".svg", ".pdf")


def picture_path(path: Path) -> Path:
    """``path`` when matplotlib can write it by its extension, else a ``ValueError`` saying which can."""
    if path.suffix.lower() not in FORMATS:
        raise ValueError(f"--out {path}: choose a file ending in {', '.join(FORMATS)}")
    return path


def _check_kind(model_type: str, kind: str | None) -> str:
    if model_type == "gpt" and kind not in (None, "self"):
        raise ValueError(f"--kind {kind}: a GPT checkpoint has only masked self-attention (--kind self)")
    if model_type == "transformer" and kind == "self":
        raise ValueError("--kind self is for GPT checkpoints; a Transformer has encoder, decoder and cross")
    return kind or ("self" if model_type == "gpt" else "cross")


def attention_picture(
    checkpoint: Path,
    sentence: str,
    out: Path,
    *,
    kind: str | None = None,
    layer: int | None = None,
    head: int | None = None,
    all_heads: bool = False,
    beam: int = 4,
    alpha: float = 0.6,
) -> tuple[str | None, Path]:
    """Draw a checkpoint's attention on ``sentence``: one ``head`` of ``layer``, every head of ``layer``
    (``all_heads``), or the mean over heads (and over layers unless ``layer`` is given).  A Transformer
    translates the sentence (beam search, §6.1) and its own translation is teacher-forced (``kind``:
    encoder, decoder or cross, the default); GPT has ``self``.  Returns ``(translation or None, path)``."""
    from ..inspection import attention_view, check_layer_head, load_inspectable
    from .attention import KIND_TITLES, layer_label, plot_alignment, plot_attention, plot_heads

    out = picture_path(out)
    if not sentence.strip():
        raise ValueError("--sentence is empty")
    obj = load_inspectable(checkpoint)
    kind = _check_kind(obj.model_type, kind)
    view = attention_view(obj, sentence, beam=beam, alpha=alpha)
    if kind not in view.maps:
        raise ValueError(f"--kind {kind}: a {obj.model_type} checkpoint has {', '.join(view.maps)} attention")
    maps = view.maps[kind]
    rows, cols = view.axes[kind]
    layer_index, head_index = check_layer_head(maps, layer, head)
    name, where = KIND_TITLES[kind], layer_label(layer_index)
    if head is not None:
        title = f"{name}, {where}, head {head_index}"
        return view.output, plot_attention(maps[layer_index][head_index], rows, cols, out, title=title)
    if all_heads:
        return view.output, plot_heads(
            maps[layer_index], rows, cols, out, title=f"{name}, {where}, every head"
        )
    layers = None if layer is None else [layer_index]
    title = f"{name}, mean over heads of {where if layers else f'all {len(maps)} layers'}"
    return view.output, plot_alignment(maps, rows, cols, out, layers=layers, title=title)


def complexity_picture(
    out: Path, data: Path | None = None, *, measure: bool = False, log: Callable[[str], Any] = print
) -> Path:
    """Plot Table 1 from a ``benchmarks/layer_complexity.py`` result, or measure it now (one thread, about
    20 s) and save the data next to ``out`` (or to ``data``)."""
    from .complexity import measure as measure_layers
    from .complexity import plot_complexity, write_results

    out = picture_path(out)
    if measure:
        import torch

        torch.set_num_threads(1)
        measured = measure_layers(log=log)
        json_path, _ = write_results(measured, data or out.with_suffix(".json"))
        log(f"data: {json_path}")
        return plot_complexity(measured, out)
    if data is None:
        raise ValueError("give the DATA file written by benchmarks/layer_complexity.py, or --measure")
    return plot_complexity(data, out)
