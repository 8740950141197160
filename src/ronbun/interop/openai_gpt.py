"""GPT-1 weights → ronbun :class:`~ronbun.GPT`: from Hugging Face ``openai-gpt`` or OpenAI's own release.

Both sources hold the same post-LN decoder (GPT-1 Figure 1; ``h = LN(x + attn(x)); out = LN(h + mlp(h))``)
and the same parameters under different names.  Their projections are "Conv1D" matrices stored
``(in, out)`` (``y = x W + b``); ronbun's are ``nn.Linear`` ``(out, in)``, so every one is transposed (ᵀ).
OpenAI's release order (``params_shapes.json``) → Hugging Face name → ronbun name:

* 0: positions ``(n_ctx, d)`` → ``positions_embed`` → ``embed.positions`` (W_p)
* 1: tokens ``(n_vocab, d)`` → ``tokens_embed`` → ``embed.tokens`` (W_e, also the output layer)
* then per layer ``i``, 12 tensors:

  - ``h{i}/attn/c_attn/w (1, d, 3d)``, ``b`` → ``h.i.attn.c_attn`` → ``self_attn.qkv_proj`` (ᵀ)
  - ``h{i}/attn/c_proj/w (1, d, d)``, ``b`` → ``h.i.attn.c_proj`` → ``self_attn.out_proj`` (ᵀ)
  - ``h{i}/ln_1/g``, ``b`` → ``h.i.ln_1`` → ``self_attn_norm``
  - ``h{i}/mlp/c_fc/w (1, d, 4d)``, ``b`` → ``h.i.mlp.c_fc`` → ``ffn.w_1`` (ᵀ)
  - ``h{i}/mlp/c_proj/w (1, 4d, d)``, ``b`` → ``h.i.mlp.c_proj`` → ``ffn.w_2`` (ᵀ)
  - ``h{i}/ln_2/g``, ``b`` → ``h.i.ln_2`` → ``ffn_norm``

The fused ``c_attn`` output is split ``q, k, v`` in that order, each head a contiguous slice: ronbun's
``qkv_proj`` layout exactly.  The output layer is tied to W_e (Eq. 2).  Activation: OpenAI's ``gelu`` and
Hugging Face's ``afn="gelu"`` (``gelu_new``) are the tanh approximation → ``activation="gelu_tanh"``.
Masking: OpenAI's code fills masked logits with -1e9 (ronbun's GPT default, kept), Hugging Face with -1e4;
after an fp32 softmax both are exactly 0.

**The original release** is ``params_shapes.json`` plus ``params_0.npy`` … ``params_9.npy``: the shards of
one flat float32 vector, all parameters flattened in the order of the shapes file (``finetune-transformer-lm``
loads them with ``np.split(np.concatenate(shards), np.cumsum(sizes))[:-1]``).  There is no names file; the
order above is fixed, so :func:`openai_original_plan` derives every name, checks every shape and reads the
model size from the shapes (146 = 2 + 12 × 12 for the 12-layer release).  Only the head count is not in
the shapes: it defaults to GPT-1's 12 (``n_heads``).  The fine-tuning special tokens are not part of the
release (the original code appends them at random); ``GPT.add_special_tokens`` does the same.

GPT-1's BPE files travel with the weights when present: ``encoder_bpe_40000.json`` and
``vocab_40000.bpe`` (from the release), or Hugging Face's ``vocab.json`` and ``merges.txt``, which are the
same two files under other names and are copied under the release's names, so that
``ronbun.text.gpt1_bpe.GPT1Tokenizer.from_dir(checkpoint)`` reads them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..models.config import ConfigError
from ..models.decoder_only import GPT, GPTConfig
from . import (
    ConversionError,
    HFDirectory,
    load_mapped_state,
    one_line,
    read_json,
    read_vocab,
    require_directory,
    write_converted,
)

# GPT-1 BPE file names as ronbun.text.gpt1_bpe reads them (OpenAI's names) and Hugging Face's names.
ENCODER_FILE, MERGES_FILE = "encoder_bpe_40000.json", "vocab_40000.bpe"
HF_TOKENIZER_FILES = {"vocab.json": ENCODER_FILE, "merges.txt": MERGES_FILE}

#: ``OpenAIGPTConfig`` defaults, used for keys a ``config.json`` leaves out.
HF_DEFAULTS: dict[str, Any] = {
    "vocab_size": 40478,
    "n_positions": 512,
    "n_embd": 768,
    "n_layer": 12,
    "n_head": 12,
    "afn": "gelu",
    "resid_pdrop": 0.1,
    "embd_pdrop": 0.1,
    "attn_pdrop": 0.1,
    "layer_norm_epsilon": 1e-5,
    "initializer_range": 0.02,
    "tie_word_embeddings": True,
}

#: Hugging Face openai-gpt ``afn`` → ronbun activation (its ``"gelu"`` is ``gelu_new``, the tanh form).
ACTIVATIONS: dict[str, str] = {
    "gelu": "gelu_tanh",
    "gelu_new": "gelu_tanh",
    "relu": "relu",
    "silu": "silu",
    "swish": "silu",
}

#: Per-layer parameters in the release's order: (original name, ronbun name, conv weight?).
LAYER_PARAMS: tuple[tuple[str, str, bool], ...] = (
    ("attn/c_attn/w", "self_attn.qkv_proj.weight", True),
    ("attn/c_attn/b", "self_attn.qkv_proj.bias", False),
    ("attn/c_proj/w", "self_attn.out_proj.weight", True),
    ("attn/c_proj/b", "self_attn.out_proj.bias", False),
    ("ln_1/g", "self_attn_norm.weight", False),
    ("ln_1/b", "self_attn_norm.bias", False),
    ("mlp/c_fc/w", "ffn.w_1.weight", True),
    ("mlp/c_fc/b", "ffn.w_1.bias", False),
    ("mlp/c_proj/w", "ffn.w_2.weight", True),
    ("mlp/c_proj/b", "ffn.w_2.bias", False),
    ("ln_2/g", "ffn_norm.weight", False),
    ("ln_2/b", "ffn_norm.bias", False),
)

#: The same parameters under Hugging Face names (``transformer.`` stripped), same order.
HF_LAYER_NAMES: tuple[str, ...] = (
    "attn.c_attn.weight",
    "attn.c_attn.bias",
    "attn.c_proj.weight",
    "attn.c_proj.bias",
    "ln_1.weight",
    "ln_1.bias",
    "mlp.c_fc.weight",
    "mlp.c_fc.bias",
    "mlp.c_proj.weight",
    "mlp.c_proj.bias",
    "ln_2.weight",
    "ln_2.bias",
)


def _from_conv(weight: Tensor, name: str) -> Tensor:
    """A Conv1D matrix ``(in, out)`` (or OpenAI's ``(1, in, out)``) as an ``nn.Linear`` weight
    ``(out, in)``."""
    if weight.dim() == 3 and weight.shape[0] == 1:
        weight = weight[0]
    if weight.dim() != 2:
        raise ConversionError(f"{name} has shape {tuple(weight.shape)}; expected a matrix")
    return weight.t().contiguous()


def _gpt_config(**settings: Any) -> GPTConfig:
    try:
        return GPTConfig(**settings)
    except ConfigError as exc:
        raise ConversionError(f"the model cannot be represented: {exc}") from None


def _copy_bpe_files(directory: Path, names: dict[str, str], vocab_size: int) -> dict[str, Path]:
    """GPT-1 BPE files found in ``directory`` (checkpoint name → source), checked against ``vocab_size``."""
    files = {target: directory / source for source, target in names.items() if (directory / source).is_file()}
    if ENCODER_FILE in files:
        path = files[ENCODER_FILE]
        encoder = read_vocab(path, "BPE tokens")
        if encoder and max(encoder.values()) >= vocab_size:
            raise ConversionError(
                f"mismatched vocabulary sizes: {path.name} has token id {max(encoder.values())} but the "
                f"token embedding has {vocab_size} rows"
            )
    return files


# -- Hugging Face openai-gpt -------------------------------------------------------------------------
def _read_hf(path: str | Path) -> tuple[GPT, dict[str, Any], dict[str, Path]]:
    source = HFDirectory.open(path, "Hugging Face openai-gpt model", ("openai-gpt",), "hf-openai-gpt")
    directory, hf_config = source.path, source.config
    cfg = {**HF_DEFAULTS, **{k: v for k, v in hf_config.items() if v is not None}}
    if cfg["afn"] not in ACTIVATIONS:
        raise ConversionError(
            f"config.json afn={cfg['afn']!r} has no ronbun equivalent "
            f"(supported: {', '.join(sorted(ACTIVATIONS))})"
        )
    tensors, weights_file = source.weights()
    weights = {
        (k[len("transformer.") :] if k.startswith("transformer.") else k): v for k, v in tensors.items()
    }
    used: set[str] = set()
    notes: list[str] = []

    def get(name: str, why: str = "") -> Tensor:
        if name not in weights:
            raise ConversionError(f"{weights_file} has no tensor {name}{f' ({why})' if why else ''}")
        used.add(name)
        return weights[name]

    d, n_layers = int(cfg["n_embd"]), int(cfg["n_layer"])
    tokens = get("tokens_embed.weight")
    if tokens.dim() != 2 or tokens.shape[0] != cfg["vocab_size"]:
        raise ConversionError(
            f"mismatched vocabulary sizes: tokens_embed.weight in {weights_file} has shape "
            f"{tuple(tokens.shape)} but config.json vocab_size={cfg['vocab_size']}"
        )
    if cfg["embd_pdrop"] != cfg["resid_pdrop"]:
        notes.append(
            f"embd_pdrop={cfg['embd_pdrop']} differs from resid_pdrop={cfg['resid_pdrop']}; ronbun uses one "
            "dropout rate for both (resid_pdrop kept; training-time only)"
        )
    config = _gpt_config(
        d_model=d,
        n_heads=int(cfg["n_head"]),
        d_ff=4 * d,  # Hugging Face's MLP width is always 4 * n_embd
        n_layers=n_layers,
        vocab_size=int(cfg["vocab_size"]),
        n_special=0,
        n_ctx=int(cfg["n_positions"]),
        tie_output=bool(cfg["tie_word_embeddings"]),
        dropout=float(cfg["resid_pdrop"]),
        attention_dropout=float(cfg["attn_pdrop"]),
        activation=ACTIVATIONS[cfg["afn"]],
        layer_norm_eps=float(cfg["layer_norm_epsilon"]),
        init_std=float(cfg["initializer_range"]),
    )
    state = {"embed.tokens.weight": tokens, "embed.positions.weight": get("positions_embed.weight")}
    sources = {
        "embed.tokens.weight": "tokens_embed.weight",
        "embed.positions.weight": "positions_embed.weight",
    }
    why = f"config.json says n_layer={n_layers}"
    for i in range(n_layers):
        for hf_name, (_, ours, conv) in zip(HF_LAYER_NAMES, LAYER_PARAMS, strict=True):
            full = f"h.{i}.{hf_name}"
            tensor = get(full, why)
            state[f"blocks.layers.{i}.{ours}"] = _from_conv(tensor, full) if conv else tensor
            sources[f"blocks.layers.{i}.{ours}"] = full
        mask = weights.get(f"h.{i}.attn.bias")  # the causal mask, a persistent buffer in older exports
        if mask is not None:
            used.add(f"h.{i}.attn.bias")
            if not torch.equal(mask.reshape(mask.shape[-2:]).float(), torch.ones(mask.shape[-2:]).tril()):
                raise ConversionError(
                    f"h.{i}.attn.bias in {weights_file} is not a causal (lower-triangular) mask"
                )
    if not config.tie_output:
        state["output_proj.weight"] = get("lm_head.weight", "tie_word_embeddings=false needs it")
        sources["output_proj.weight"] = "lm_head.weight"
    else:
        used.add("lm_head.weight")
    heads = sorted(k for k in weights if k.startswith("multiple_choice_head."))
    if heads:
        used.update(heads)
        notes.append("the multiple-choice head of OpenAIGPTDoubleHeadsModel was not converted")
    used.add("position_ids")
    leftover = sorted(set(weights) - used)
    if leftover:
        raise ConversionError(
            f"{weights_file} has tensor {leftover[0]} ({len(leftover)} unmapped in all), which an openai-gpt "
            "model with this config.json does not have"
        )
    model = GPT(config)
    load_mapped_state(model, state, sources)
    files = _copy_bpe_files(directory, HF_TOKENIZER_FILES, config.total_vocab)
    provenance = {
        "imported_from": source.imported_from(weights_file),
        "tokenizer": {"kind": "gpt1-bpe", "files": sorted(files)} if files else None,
        "notes": notes,
    }
    return model, provenance, files


def load_hf_openai_gpt(path: str | Path) -> GPT:
    """A ronbun :class:`GPT` (eval mode) with the weights of the Hugging Face ``openai-gpt`` directory
    ``path``."""
    return _read_hf(path)[0]


def convert_hf_openai_gpt(path: str | Path, out: str | Path, *, overwrite: bool = False) -> Path:
    """Convert a Hugging Face ``OpenAIGPTLMHeadModel`` directory into the ronbun checkpoint ``out``."""
    model, provenance, files = _read_hf(path)
    return write_converted(out, model, provenance=provenance, files=files, overwrite=overwrite)


# -- OpenAI's original release -------------------------------------------------------------------------
@dataclass(frozen=True)
class OriginalParam:
    """One entry of ``params_shapes.json``: its position, a derived name, its shape and ronbun target."""

    index: int
    name: str  # as the TF variable is called in finetune-transformer-lm (model/h{i}/attn/c_attn/w, …)
    shape: tuple[int, ...]
    target: str  # ronbun state-dict name
    conv: bool  # a (1, in, out) Conv1D weight, transposed on the way in


def openai_original_plan(
    shapes: list[list[int]], *, n_heads: int = 12, source: str = "params_shapes.json"
) -> tuple[GPTConfig, list[OriginalParam]]:
    """The :class:`GPTConfig` and per-parameter mapping implied by the list of shapes of the release.

    Positions ``(n_ctx, d)`` come first, then tokens ``(n_vocab, d)``, then 12 tensors per layer (see the
    module docstring); every shape is checked against the sizes read from the first ones.
    """
    if not isinstance(shapes, list) or not all(
        isinstance(s, list) and all(isinstance(n, int) and n > 0 for n in s) for s in shapes
    ):
        raise ConversionError(f"{source} must be a JSON list of shapes (lists of positive integers)")
    per_layer = len(LAYER_PARAMS)
    if len(shapes) < 2 + per_layer or (len(shapes) - 2) % per_layer:
        raise ConversionError(
            f"{source} lists {len(shapes)} shapes; GPT-1's layout has 2 + {per_layer} per layer "
            "(positions, tokens, then each layer's attention, LayerNorm and MLP parameters)"
        )
    if len(shapes[0]) != 2 or len(shapes[1]) != 2 or shapes[0][1] != shapes[1][1]:
        raise ConversionError(
            f"{source}: the first two shapes must be the positional (n_ctx, d) and token (n_vocab, d) "
            f"embeddings, got {shapes[0]} and {shapes[1]}"
        )
    (n_ctx, d), (n_vocab, _) = shapes[0], shapes[1]
    n_layers = (len(shapes) - 2) // per_layer
    c_fc = shapes[2 + 6]
    d_ff = c_fc[-1] if len(c_fc) == 3 else -1
    expected = (
        [1, d, 3 * d], [3 * d], [1, d, d], [d], [d], [d], [1, d, d_ff], [d_ff], [1, d_ff, d], [d], [d], [d]
    )  # fmt: skip
    plan = [
        OriginalParam(0, "model/positions", (n_ctx, d), "embed.positions.weight", False),
        OriginalParam(1, "model/tokens", (n_vocab, d), "embed.tokens.weight", False),
    ]
    for layer in range(n_layers):
        for j, ((name, target, conv), want) in enumerate(zip(LAYER_PARAMS, expected, strict=True)):
            index = 2 + layer * per_layer + j
            full = f"model/h{layer}/{name}"
            if shapes[index] != want:
                raise ConversionError(
                    f"{source} entry {index} ({full}) has shape {shapes[index]}, expected {want} "
                    f"for d_model={d}"
                )
            plan.append(OriginalParam(index, full, tuple(want), f"blocks.layers.{layer}.{target}", conv))
    if d % n_heads:
        raise ConversionError(f"d_model={d} is not divisible by n_heads={n_heads}; pass the right --n-heads")
    config = _gpt_config(
        d_model=d, n_heads=n_heads, d_ff=d_ff, n_layers=n_layers, vocab_size=n_vocab, n_special=0, n_ctx=n_ctx
    )  # the rest are GPTConfig's defaults, which are GPT-1's (gelu_tanh, -1e9 mask, eps 1e-5, dropout 0.1)
    return config, plan


def _shard_paths(directory: Path) -> list[Path]:
    found: dict[int, Path] = {}
    for path in directory.glob("params_*.npy"):
        match = re.fullmatch(r"params_(\d+)\.npy", path.name)
        if match:
            found[int(match.group(1))] = path
    if not found:
        raise ConversionError(f"{directory} holds no params_0.npy … params_N.npy shards")
    for i in range(max(found) + 1):
        if i not in found:
            raise ConversionError(
                f"shard params_{i}.npy is missing from {directory} (found up to params_{max(found)})"
            )
    return [found[i] for i in range(len(found))]


def _load_shard(path: Path) -> np.ndarray:
    try:
        array = np.load(path, allow_pickle=False)
    except ValueError as exc:  # object arrays (pickles) and malformed headers
        raise ConversionError(
            f"{path} cannot be read without unpickling ({one_line(exc)}); refusing"
        ) from None
    except (OSError, EOFError) as exc:
        raise ConversionError(f"{path} is not a readable .npy file ({one_line(exc)})") from None
    if not isinstance(array, np.ndarray) or not np.issubdtype(array.dtype, np.floating):
        raise ConversionError(f"{path} holds {getattr(array, 'dtype', type(array))} values, expected floats")
    return array.reshape(-1)


def _read_original(path: str | Path, n_heads: int) -> tuple[GPT, dict[str, Any], dict[str, Path]]:
    directory = require_directory(path, "OpenAI GPT-1 release (model/)")
    shapes_path = directory / "params_shapes.json"
    if not shapes_path.is_file():
        raise ConversionError(f"{directory} is not OpenAI's GPT-1 release: params_shapes.json is missing")
    shapes = read_json(shapes_path)
    config, plan = openai_original_plan(shapes, n_heads=n_heads, source=str(shapes_path))
    shards = _shard_paths(directory)
    flat = np.concatenate([_load_shard(p) for p in shards])
    sizes = [math.prod(p.shape) for p in plan]
    if flat.size != sum(sizes):
        raise ConversionError(
            f"the {len(shards)} shards hold {flat.size:,} values but params_shapes.json needs {sum(sizes):,} "
            "(a shard is missing, truncated or from another model)"
        )
    arrays = np.split(flat, np.cumsum(sizes))[:-1]  # exactly as finetune-transformer-lm's train.py
    state: dict[str, Tensor] = {}
    sources: dict[str, str] = {}
    for param, array in zip(plan, arrays, strict=True):
        tensor = torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32).reshape(param.shape))
        state[param.target] = _from_conv(tensor, param.name) if param.conv else tensor
        sources[param.target] = f"{param.name} (params_shapes.json entry {param.index})"
    model = GPT(config)
    load_mapped_state(model, state, sources)
    files = _copy_bpe_files(
        directory, {ENCODER_FILE: ENCODER_FILE, MERGES_FILE: MERGES_FILE}, config.total_vocab
    )
    provenance = {
        "imported_from": {
            "format": "openai-original",
            "path": str(directory.resolve()),
            "shards": [p.name for p in shards],
            "n_heads": n_heads,
        },
        "tokenizer": {"kind": "gpt1-bpe", "files": sorted(files)} if files else None,
        "notes": ["the release has no special-token embeddings; add them with GPT.add_special_tokens"],
    }
    return model, provenance, files


def load_openai_original(path: str | Path, *, n_heads: int = 12) -> GPT:
    """A ronbun :class:`GPT` (eval mode) from OpenAI's release directory (``params_shapes.json`` + shards)."""
    return _read_original(path, n_heads)[0]


def convert_openai_original(
    path: str | Path, out: str | Path, *, n_heads: int = 12, overwrite: bool = False
) -> Path:
    """Convert OpenAI's GPT-1 release directory into the ronbun checkpoint ``out``."""
    model, provenance, files = _read_original(path, n_heads)
    return write_converted(out, model, provenance=provenance, files=files, overwrite=overwrite)
