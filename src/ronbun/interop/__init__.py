"""Weight import from other implementations, proven equal by tests (``tests/interop``).

Three sources, each converted into a ronbun checkpoint directory (see :mod:`ronbun.training.checkpoint`):

* ``hf-marian``: a Hugging Face ``MarianMTModel`` directory (``config.json`` + ``model.safetensors`` or
  ``pytorch_model.bin``) → :class:`~ronbun.Transformer`.  The sentencepiece files ``source.spm``,
  ``target.spm`` and ``vocab.json`` are copied along (see :mod:`ronbun.interop.marian`).
* ``hf-openai-gpt``: a Hugging Face ``OpenAIGPTLMHeadModel`` directory → :class:`~ronbun.GPT`.
* ``openai-original``: OpenAI's own GPT-1 release, ``params_shapes.json`` + ``params_0.npy`` …
  ``params_N.npy``, read directly from the shapes (no extra names file) → :class:`~ronbun.GPT`
  (see :mod:`ronbun.interop.openai_gpt`).

The way back, ronbun checkpoint → Hugging Face ``MarianMTModel`` → CTranslate2, is
:mod:`ronbun.interop.export` (``ronbun export``; ``export("hf-marian", "ckpt/en-de", "hf/en-de")``).

Nothing here imports ``transformers`` (only ``--to ctranslate2``, through CTranslate2's converter) or unpickles arbitrary objects: Hugging Face configs are read as JSON,
weights with ``safetensors`` (or ``torch.load(weights_only=True)`` for legacy ``*.bin``), OpenAI's shards
with ``numpy.load(allow_pickle=False)``.  Every failure is a :class:`ConversionError` with a one-line message
that names the offending file or setting, and the output directory is written atomically: after a failure
``--out`` is exactly as it was before.

Usage::

    from ronbun.interop import convert
    convert("hf-marian", "opus-mt-en-de/", "ckpt/en-de")        # then ronbun.training.checkpoint.load_model
    model = load_hf_marian("opus-mt-en-de/")                   # or just the in-memory model
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

import torch
from torch import Tensor, nn

from ..training.checkpoint import CheckpointError, replace_directory, save_checkpoint

SourceFormat = Literal["hf-marian", "hf-openai-gpt", "openai-original"]
FORMATS: tuple[str, ...] = ("hf-marian", "hf-openai-gpt", "openai-original")
CONVERSION_FILE = "conversion.json"  # provenance record written into every converted checkpoint


class ConversionError(CheckpointError):
    """Input that cannot be converted faithfully (message names the file or setting; one line)."""


def one_line(exc: BaseException | str) -> str:
    """First line of an exception message (torch/numpy errors can span many lines)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# -- reading Hugging Face directories ------------------------------------------------------------------
def require_directory(path: str | Path, what: str) -> Path:
    """``path`` must be an existing directory; a file (e.g. a lone ``*.bin`` pickle) is refused, with a
    hint."""
    path = Path(path)
    if not path.exists():
        raise ConversionError(f"{path} does not exist")
    if not path.is_dir():
        raise ConversionError(
            f"{path} is a file, not a directory; pass the {what} directory (the one holding its config "
            "and weight files)"
        )
    return path


def read_hf_config(directory: Path, model_types: tuple[str, ...], source: str) -> dict[str, Any]:
    """``config.json`` of a Hugging Face model directory, checked to be of one of ``model_types``."""
    path = directory / "config.json"
    if not path.is_file():
        hint = f" ({hint})" if (hint := detect_hint(directory)) else ""
        raise ConversionError(
            f"{directory} is not a Hugging Face model directory: config.json is missing{hint}"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConversionError(f"{path} is not valid JSON ({one_line(exc)})") from None
    if not isinstance(data, dict):
        raise ConversionError(f"{path} must hold a JSON object")
    model_type = data.get("model_type")
    if model_type not in model_types:
        raise ConversionError(
            f"{path} describes a model_type={model_type!r} model, but --from {source} expects "
            f"{' or '.join(repr(t) for t in model_types)}"
        )
    return data


def detect_hint(directory: Path) -> str:
    """A short guess at what ``directory`` holds, for error messages."""
    if (directory / "params_shapes.json").is_file():
        return "it looks like OpenAI's original GPT-1 release: use --from openai-original"
    if (directory / "config.json").is_file():
        return "it has a config.json: try --from hf-marian or --from hf-openai-gpt"
    if (directory / "model.safetensors").is_file() and (directory / "trainer_state.json").is_file():
        return "it looks like a ronbun checkpoint already"
    return ""


def _load_torch_bin(path: Path) -> dict[str, Tensor]:
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # weights_only refusals, zip/pickle corruption: all one message
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        reason = next((line for line in lines if "WeightsUnpickler error" in line), one_line(exc))
        raise ConversionError(
            f"{path} cannot be read safely with torch.load(weights_only=True) ({reason}); ronbun never "
            "unpickles arbitrary objects: save the weights as safetensors"
        ) from None
    if isinstance(data, Mapping) and "state_dict" in data and isinstance(data["state_dict"], Mapping):
        data = data["state_dict"]
    if not isinstance(data, Mapping) or not all(
        isinstance(k, str) and isinstance(v, Tensor) for k, v in data.items()
    ):
        raise ConversionError(f"{path} does not hold a mapping of parameter names to tensors")
    return dict(data)


def _load_safetensors(path: Path) -> dict[str, Tensor]:
    """The one safe reader of :mod:`ronbun.training.checkpoint`, with conversion's error type."""
    from ..training.checkpoint import load_tensors

    try:
        return load_tensors(path)
    except ConversionError:
        raise
    except CheckpointError as exc:
        raise ConversionError(str(exc)) from None


def _load_index(index: Path, loader: Callable[[Path], dict[str, Tensor]]) -> dict[str, Tensor]:
    try:
        weight_map = json.loads(index.read_text(encoding="utf-8"))["weight_map"]
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as exc:
        raise ConversionError(f"{index} is not a valid shard index ({one_line(exc)})") from None
    tensors: dict[str, Tensor] = {}
    for shard in sorted(set(weight_map.values())):
        shard_path = index.parent / shard
        if not shard_path.is_file():
            raise ConversionError(f"{index} lists shard {shard}, which is missing")
        tensors.update(loader(shard_path))
    return tensors


def read_hf_weights(directory: Path) -> tuple[dict[str, Tensor], str]:
    """All tensors of a Hugging Face model directory and the file they came from.

    Looks for ``model.safetensors``, a sharded ``model.safetensors.index.json``, then the legacy
    ``pytorch_model.bin`` (read with ``torch.load(weights_only=True)``: tensors only, no code runs).
    """
    candidates: list[tuple[str, Callable[[Path], dict[str, Tensor]]]] = [
        ("model.safetensors", _load_safetensors),
        ("model.safetensors.index.json", lambda p: _load_index(p, _load_safetensors)),
        ("pytorch_model.bin", _load_torch_bin),
        ("pytorch_model.bin.index.json", lambda p: _load_index(p, _load_torch_bin)),
    ]
    for name, loader in candidates:
        path = directory / name
        if path.is_file():
            return loader(path), name
    others = [p.name for p in directory.iterdir() if p.suffix in (".h5", ".msgpack", ".ckpt", ".pt", ".pkl")]
    extra = f" (found {', '.join(sorted(others))}, which ronbun does not read)" if others else ""
    raise ConversionError(
        f"{directory} holds no model weights: expected model.safetensors or pytorch_model.bin{extra}"
    )


# -- building and checking state dicts --------------------------------------------------------------------
def load_mapped_state(model: nn.Module, state: dict[str, Tensor], sources: Mapping[str, str]) -> None:
    """Copy ``state`` (ronbun names) into ``model``; every tensor must be present with the right shape.

    ``sources`` maps ronbun names to a description of where each tensor came from, for error messages.
    """
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    if missing:
        raise ConversionError(f"conversion produced no tensor for {missing[0]} ({len(missing)} missing)")
    unexpected = sorted(set(state) - set(expected))
    if unexpected:
        raise ConversionError(f"conversion produced unexpected tensor {unexpected[0]}")
    for name, tensor in state.items():
        if tuple(tensor.shape) != tuple(expected[name].shape):
            raise ConversionError(
                f"shape mismatch: {sources.get(name, name)} has shape {tuple(tensor.shape)}, but the "
                f"converted config needs {tuple(expected[name].shape)} for {name}"
            )
        if not tensor.is_floating_point():
            raise ConversionError(f"{sources.get(name, name)} has dtype {tensor.dtype}, expected floats")
    with torch.no_grad():
        model.load_state_dict(state, strict=True)
    model.eval()


# -- writing ----------------------------------------------------------------------------------------------
def write_converted(
    out: str | Path,
    model: nn.Module,
    *,
    provenance: dict[str, Any],
    files: Mapping[str, Path] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write ``model`` as a ronbun checkpoint at ``out`` plus ``conversion.json`` and extra ``files``
    (name in the checkpoint → source path, copied byte for byte and recorded in the manifest).

    Atomic: the checkpoint is assembled in a hidden sibling directory and renamed into place, so a failure
    at any point leaves ``out`` untouched.  An existing ``out`` is refused unless ``overwrite``.
    """
    out = Path(out)
    if out.exists() and not overwrite:
        raise ConversionError(f"{out} already exists; choose another --out or pass --force to replace it")
    if out.exists() and not out.is_dir():
        raise ConversionError(f"{out} exists and is not a directory")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.convert-", dir=out.parent))
    try:
        ckpt = save_checkpoint(
            staging / "ckpt", model, extra_json={CONVERSION_FILE: provenance}, extra_files=dict(files or {})
        )
        replace_directory(ckpt, out, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out


def convert(source: SourceFormat | str, path: str | Path, out: str | Path, **options: Any) -> Path:
    """Convert ``path`` (format ``source``, one of :data:`FORMATS`) into a ronbun checkpoint at ``out``.

    ``options`` go to the format's converter: ``overwrite`` (all), ``n_heads`` (``openai-original``).
    """
    if source == "hf-marian":
        return convert_hf_marian(path, out, **options)
    if source == "hf-openai-gpt":
        return convert_hf_openai_gpt(path, out, **options)
    if source == "openai-original":
        return convert_openai_original(path, out, **options)
    raise ConversionError(f"unknown source format {source!r}; choose one of {', '.join(FORMATS)}")


# The converters import the helpers above, so they are imported last.
from .export import EXPORT_FORMATS, ExportError, export, export_ctranslate2, export_hf_marian  # noqa: E402
from .marian import convert_hf_marian, load_hf_marian, marian_config  # noqa: E402
from .openai_gpt import (  # noqa: E402
    convert_hf_openai_gpt,
    convert_openai_original,
    load_hf_openai_gpt,
    load_openai_original,
    openai_original_plan,
)

__all__ = [
    "CONVERSION_FILE",
    "EXPORT_FORMATS",
    "FORMATS",
    "ConversionError",
    "ExportError",
    "convert",
    "convert_hf_marian",
    "convert_hf_openai_gpt",
    "convert_openai_original",
    "export",
    "export_ctranslate2",
    "export_hf_marian",
    "load_hf_marian",
    "load_hf_openai_gpt",
    "load_openai_original",
    "marian_config",
    "openai_original_plan",
]
