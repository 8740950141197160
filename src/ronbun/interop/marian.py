"""Hugging Face ``MarianMTModel`` (the opus-mt models) → ronbun :class:`~ronbun.Transformer`.

Marian is the paper's encoder-decoder (§3), post-LN, with three deviations that ronbun has as named options
and per-projection weights that ronbun stores fused.  What maps to what (HF names without ``model.``):

* ``activation_function``: ``swish``/``silu`` → ``activation="silu"``; ``relu`` → ``"relu"``; ``gelu`` (erf)
  → ``"gelu"``; ``gelu_new`` → ``"gelu_tanh"`` (§3.3 uses ReLU).
* ``MarianSinusoidalPositionalEmbedding`` (sin of ``pos / 10000^(2i/d)`` in dimensions ``[0, d/2)``, cos in
  ``[d/2, d)``; position ids start at 0, no fairseq-style padding offset) → ``positional="sinusoidal"``,
  ``sinusoid_layout="concatenated"`` (§3.5 interleaves them), positions from 0 as well.  Tables stored in
  the checkpoint (older full dumps) are checked against ronbun's, never trusted blindly.
* ``scale_embedding`` → ``scale_embedding`` (× sqrt(d_model), §3.4).
* ``final_logits_bias`` ``(1, V)`` → ``final_logits_bias=True`` and the buffer ``final_logits_bias`` ``(V,)``.
* ``share_encoder_decoder_embeddings`` and ``tie_word_embeddings`` both → ``tie_embeddings="all"`` (§3.4
  three-way tying); tying only → ``"decoder"``; no tying → ``"none"``.
* ``{layer}.self_attn.{q,k,v}_proj`` → ``self_attn.qkv_proj`` = ``cat(q, k, v)`` (weights and biases);
  ``encoder_attn.q_proj`` → ``cross_attn.q_proj``; ``encoder_attn.{k,v}_proj`` → ``cross_attn.kv_proj`` =
  ``cat(k, v)``; ``out_proj`` → ``out_proj``.
* ``self_attn_layer_norm`` → ``self_attn_norm``, ``encoder_attn_layer_norm`` → ``cross_attn_norm``, the
  per-layer (!) ``final_layer_norm`` → ``ffn_norm``; post-LN (§3.1), no LayerNorm after the stacks.
* ``fc1``, ``fc2`` → ``ffn.w_1``, ``ffn.w_2``.
* ``pad_token_id`` → ``pad_id``; ``eos_token_id`` → ``eos_id``; ``decoder_start_token_id`` → ``bos_id``
  (Marian starts decoding with the pad token); ``unk_id`` = ``<unk>`` of ``vocab.json`` (else 1).

How the embedding matrices are chosen follows what transformers 5.x does on load: with
``tie_word_embeddings`` the shared matrix (``model.shared.weight``) feeds the encoder, the decoder and
``lm_head`` when ``share_encoder_decoder_embeddings`` is set, and the decoder embedding feeds ``lm_head``
otherwise; without it, ``encoder.embed_tokens``, ``decoder.embed_tokens`` and ``lm_head`` are used as stored.

Refused, with the setting named: different encoder/decoder FFN widths or head counts (ronbun has one
``d_ff`` and one ``n_heads``), and the BART-era keys old opus-mt ``config.json`` files carry with their
neutral values — ``normalize_before``, ``add_final_layer_norm``, ``normalize_embedding``/
``layernorm_embedding``, ``add_bias_logits`` true or ``static_position_embeddings`` false.  transformers'
``MarianMTModel`` ignores those keys (it always runs post-LN, fixed sinusoids, no extra LayerNorms), so a
checkpoint that sets them is ambiguous: ronbun would rather stop than silently compute something else.

The tokenizer is not converted: ``source.spm``, ``target.spm``, ``vocab.json`` (and ``target_vocab.json``,
``tokenizer_config.json``, ``special_tokens_map.json`` when present) are copied byte for byte into the
checkpoint and listed in ``config.extra["tokenizer"]``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from ..models.config import ConfigError, TransformerConfig
from ..models.transformer import Transformer
from ..nn.embeddings import sinusoid_table
from . import (
    ConversionError,
    HFDirectory,
    load_mapped_state,
    read_json,
    read_vocab,
    write_converted,
)

FORMAT = "hf-marian"

#: ``MarianConfig`` defaults (transformers 4.x and 5.x), used for keys a ``config.json`` leaves out.
HF_DEFAULTS: dict[str, Any] = {
    "vocab_size": 58101,
    "decoder_vocab_size": None,
    "max_position_embeddings": 1024,
    "encoder_layers": 12,
    "encoder_ffn_dim": 4096,
    "encoder_attention_heads": 16,
    "decoder_layers": 12,
    "decoder_ffn_dim": 4096,
    "decoder_attention_heads": 16,
    "activation_function": "gelu",
    "d_model": 1024,
    "dropout": 0.1,
    "attention_dropout": 0.0,
    "activation_dropout": 0.0,
    "init_std": 0.02,
    "decoder_start_token_id": 58100,
    "scale_embedding": False,
    "pad_token_id": 58100,
    "eos_token_id": 0,
    "share_encoder_decoder_embeddings": True,
    "tie_word_embeddings": True,
    "encoder_layerdrop": 0.0,
    "decoder_layerdrop": 0.0,
}

#: transformers' ``ACT2FN`` names → ronbun activations (``"gelu"`` there is the exact erf GELU).
ACTIVATIONS: dict[str, str] = {
    "swish": "silu",
    "silu": "silu",
    "relu": "relu",
    "gelu": "gelu",
    "gelu_new": "gelu_tanh",
    "gelu_pytorch_tanh": "gelu_tanh",
}

#: Keys ``MarianMTModel`` ignores; any value but the neutral one makes the checkpoint ambiguous.
AMBIGUOUS_KEYS: dict[str, tuple[Any, str]] = {
    "normalize_before": (False, "pre-LN sub-layers"),
    "add_final_layer_norm": (False, "an extra LayerNorm after each stack"),
    "normalize_embedding": (False, "a LayerNorm on the embeddings"),
    "layernorm_embedding": (False, "a LayerNorm on the embeddings"),
    "add_bias_logits": (False, "a second output-logits bias"),
    "static_position_embeddings": (True, "learned positional embeddings"),
}

TOKENIZER_FILES: dict[str, str] = {
    "source_spm": "source.spm",
    "target_spm": "target.spm",
    "vocab": "vocab.json",
    "target_vocab": "target_vocab.json",
    "tokenizer_config": "tokenizer_config.json",
    "special_tokens_map": "special_tokens_map.json",
}

GENERATION_KEYS = (
    "num_beams",
    "max_length",
    "max_new_tokens",
    "length_penalty",
    "early_stopping",
    "no_repeat_ngram_size",
    "bad_words_ids",
    "forced_eos_token_id",
    "decoder_start_token_id",
    "renormalize_logits",
)


def with_defaults(hf_config: dict[str, Any]) -> dict[str, Any]:
    """``config.json`` completed with ``MarianConfig``'s defaults (an explicit ``null`` also means default)."""
    return {**HF_DEFAULTS, **{k: v for k, v in hf_config.items() if v is not None or k not in HF_DEFAULTS}}


def _int_id(cfg: dict[str, Any], key: str, source: str) -> int:
    value = cfg[key]
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ConversionError(f"{source} {key}={value!r} is not a single token id, which ronbun needs")
    return value


def marian_config(
    hf_config: dict[str, Any],
    *,
    has_final_logits_bias: bool = True,
    source_vocab: dict[str, int] | None = None,
    target_vocab: dict[str, int] | None = None,
    source: str = "config.json",
) -> TransformerConfig:
    """The :class:`TransformerConfig` equivalent to a Marian ``config.json`` (see the module docstring).

    ``source_vocab``/``target_vocab`` (``vocab.json``/``target_vocab.json``) are checked against the
    vocabulary sizes and give ``unk_id`` (``<unk>``; Marian's sentencepiece convention ``</s>`` = 0,
    ``<unk>`` = 1 is the fallback).  Raises :class:`ConversionError` for configurations ronbun cannot
    represent exactly; ``source`` names the config file in its messages.
    """
    cfg = with_defaults(hf_config)
    for key, (neutral, meaning) in AMBIGUOUS_KEYS.items():
        if key in cfg and cfg[key] is not None and bool(cfg[key]) != neutral:
            raise ConversionError(
                f"{source} sets {key}={cfg[key]!r} ({meaning}), which transformers' MarianMTModel "
                "ignores (it always runs post-LN with fixed sinusoids and no extra LayerNorms); refusing an "
                "ambiguous checkpoint"
            )
    for enc_key, dec_key, what in (
        ("encoder_ffn_dim", "decoder_ffn_dim", "one d_ff"),
        ("encoder_attention_heads", "decoder_attention_heads", "one n_heads"),
    ):
        if cfg[enc_key] != cfg[dec_key]:
            raise ConversionError(
                f"{source} has {enc_key}={cfg[enc_key]} but {dec_key}={cfg[dec_key]}; ronbun uses {what} "
                "for both stacks"
            )
    activation = cfg["activation_function"]
    if activation not in ACTIVATIONS:
        raise ConversionError(
            f"{source} activation_function={activation!r} has no ronbun equivalent "
            f"(supported: {', '.join(sorted(ACTIVATIONS))})"
        )
    share = bool(cfg["share_encoder_decoder_embeddings"])
    tie = bool(cfg["tie_word_embeddings"])
    src_vocab = int(cfg["vocab_size"])
    tgt_vocab = int(cfg["decoder_vocab_size"] or src_vocab)
    if share and tgt_vocab != src_vocab:
        raise ConversionError(
            f"{source} sets share_encoder_decoder_embeddings=true but decoder_vocab_size={tgt_vocab} != "
            f"vocab_size={src_vocab}"
        )
    if cfg["d_model"] % 2:
        raise ConversionError(f"{source} d_model={cfg['d_model']} is odd; sinusoids need an even width")
    pad_id, eos_id = _int_id(cfg, "pad_token_id", source), _int_id(cfg, "eos_token_id", source)
    bos_id = _int_id(cfg, "decoder_start_token_id", source)
    for name, vocab, size, key in (
        ("vocab.json", source_vocab, src_vocab, "vocab_size"),
        ("target_vocab.json" if target_vocab is not None else "vocab.json", target_vocab or source_vocab,
         tgt_vocab, "decoder_vocab_size" if not share else "vocab_size"),
    ):  # fmt: skip
        if vocab and max(vocab.values()) >= size:
            raise ConversionError(
                f"mismatched vocabulary sizes: {name} has token id {max(vocab.values())} but {source} "
                f"{key}={size}"
            )
    unk_id = cfg.get("unk_token_id")
    if not isinstance(unk_id, int):
        unk_id = (target_vocab or source_vocab or {}).get("<unk>", 1 if tgt_vocab > 1 else 0)
    if pad_id >= src_vocab:
        raise ConversionError(
            f"{source} pad_token_id={pad_id} is outside the source vocabulary ({src_vocab})"
        )
    try:
        return TransformerConfig(
            vocab_size=tgt_vocab,
            src_vocab_size=None if src_vocab == tgt_vocab else src_vocab,
            d_model=int(cfg["d_model"]),
            n_heads=int(cfg["encoder_attention_heads"]),
            d_ff=int(cfg["encoder_ffn_dim"]),
            n_encoder_layers=int(cfg["encoder_layers"]),
            n_decoder_layers=int(cfg["decoder_layers"]),
            dropout=float(cfg["dropout"]),
            attention_dropout=float(cfg["attention_dropout"]),
            activation_dropout=float(cfg["activation_dropout"]),
            activation=ACTIVATIONS[activation],  # type: ignore[arg-type]
            norm_position="post",
            final_layer_norm=False,
            layer_norm_eps=1e-5,  # nn.LayerNorm's default, which Marian uses
            positional="sinusoidal",
            sinusoid_layout="concatenated",
            max_positions=int(cfg["max_position_embeddings"]),
            scale_embedding=bool(cfg["scale_embedding"]),
            tie_embeddings="all" if share and tie else "decoder" if tie else "none",
            final_logits_bias=has_final_logits_bias,
            pad_id=pad_id,
            bos_id=bos_id,
            eos_id=eos_id,
            unk_id=int(unk_id),
            init="normal",
            init_std=float(cfg["init_std"]),
        )
    except ConfigError as exc:
        raise ConversionError(f"{source} cannot be represented: {exc}") from None


class _Weights:
    """The checkpoint's tensors under normalised names (``model.`` stripped), tracking what was used."""

    def __init__(self, tensors: dict[str, Tensor], file: str) -> None:
        self.file = file
        self.tensors = {(k[len("model.") :] if k.startswith("model.") else k): v for k, v in tensors.items()}
        self.used: set[str] = set()

    def has(self, name: str) -> bool:
        return name in self.tensors

    def get(self, name: str, why: str = "") -> Tensor:
        if name not in self.tensors:
            raise ConversionError(f"{self.file} has no tensor {name}{f' ({why})' if why else ''}")
        self.used.add(name)
        return self.tensors[name]

    def first(self, *names: str) -> tuple[str, Tensor]:
        for name in names:
            if name in self.tensors:
                return name, self.get(name)
        raise ConversionError(f"{self.file} has none of the tensors {', '.join(names)}")


def _embeddings(
    w: _Weights, config: TransformerConfig, share: bool, notes: list[str]
) -> tuple[dict[str, Tensor], dict[str, str]]:
    """Token embeddings, output projection and final_logits_bias under ronbun names."""
    state: dict[str, Tensor] = {}
    sources: dict[str, str] = {}
    mode = config.tie_embeddings
    out: tuple[str, Tensor] | None = None  # the output projection, when it is not tied
    if mode == "all":
        name, emb = w.first("shared.weight", "decoder.embed_tokens.weight", "encoder.embed_tokens.weight")
        src = tgt = (name, emb)
        for other in ("encoder.embed_tokens.weight", "decoder.embed_tokens.weight", "lm_head.weight"):
            if w.has(other) and other != name and not torch.equal(w.get(other), emb):
                notes.append(
                    f"{other} differs from {name} but the weights are tied: ignored, as transformers does"
                )
    else:
        src = w.first("encoder.embed_tokens.weight", *(("shared.weight",) if share else ()))
        tgt = w.first("decoder.embed_tokens.weight", *(("shared.weight",) if share else ()))
        if mode == "decoder":
            if w.has("lm_head.weight") and not torch.equal(w.get("lm_head.weight"), tgt[1]):
                notes.append(
                    "lm_head.weight differs from the decoder embedding but tie_word_embeddings=true: ignored"
                )
        else:
            out = ("lm_head.weight", w.get("lm_head.weight", "tie_word_embeddings=false needs it"))
        if w.has("shared.weight"):
            w.get("shared.weight")  # unused by transformers in this configuration
    tgt_key = "vocab_size" if share else "decoder_vocab_size"
    roles = [
        ("src_embed.tokens.weight", src, config.source_vocab_size, "vocab_size"),
        ("tgt_embed.tokens.weight", tgt, config.vocab_size, tgt_key),
    ]
    if out is not None:
        roles.append(("output_proj.weight", out, config.vocab_size, tgt_key))
    for ronbun_name, (hf_name, tensor), rows, key in roles:
        if tensor.dim() != 2 or tensor.shape[0] != rows:
            raise ConversionError(
                f"mismatched vocabulary sizes: {hf_name} in {w.file} has shape {tuple(tensor.shape)} but "
                f"config.json {key}={rows}"
            )
        state[ronbun_name], sources[ronbun_name] = tensor, hf_name
    if config.final_logits_bias:
        bias = w.get("final_logits_bias")
        if bias.numel() != config.vocab_size:
            raise ConversionError(
                f"mismatched vocabulary sizes: final_logits_bias in {w.file} has {bias.numel()} entries but "
                f"the target vocabulary has {config.vocab_size}"
            )
        state["final_logits_bias"], sources["final_logits_bias"] = bias.reshape(-1), "final_logits_bias"
    return state, sources


def _attention(w: _Weights, hf: str, ours: str, cross: bool, why: str) -> dict[str, Tensor]:
    q, k, v, o = (f"{hf}.{p}_proj" for p in ("q", "k", "v", "out"))
    state: dict[str, Tensor] = {}
    for kind in ("weight", "bias"):
        qt, kt, vt = (w.get(f"{n}.{kind}", why) for n in (q, k, v))
        if cross:
            state[f"{ours}.q_proj.{kind}"] = qt
            state[f"{ours}.kv_proj.{kind}"] = torch.cat([kt, vt], dim=0)  # [W^K; W^V]
        else:
            state[f"{ours}.qkv_proj.{kind}"] = torch.cat([qt, kt, vt], dim=0)  # [W^Q; W^K; W^V]
        state[f"{ours}.out_proj.{kind}"] = w.get(f"{o}.{kind}", why)
    return state


def _layer(w: _Weights, stack: str, i: int, n: int, cross: bool) -> tuple[dict[str, Tensor], dict[str, str]]:
    hf = ours = f"{stack}.layers.{i}"  # the same prefix in both
    why = f"config.json says {stack}_layers={n}"
    state = _attention(w, f"{hf}.self_attn", f"{ours}.self_attn", False, why)
    pairs = {
        "self_attn_norm": "self_attn_layer_norm",
        "ffn.w_1": "fc1",
        "ffn.w_2": "fc2",
        "ffn_norm": "final_layer_norm",
    }
    if cross:
        state.update(_attention(w, f"{hf}.encoder_attn", f"{ours}.cross_attn", True, why))
        pairs["cross_attn_norm"] = "encoder_attn_layer_norm"
    sources: dict[str, str] = {}
    for ronbun_part, hf_part in pairs.items():
        for kind in ("weight", "bias"):
            state[f"{ours}.{ronbun_part}.{kind}"] = w.get(f"{hf}.{hf_part}.{kind}", why)
            sources[f"{ours}.{ronbun_part}.{kind}"] = f"{hf}.{hf_part}.{kind}"
    for name in state:
        sources.setdefault(name, f"{hf} ({name.rsplit('.', 2)[-2]})")
    return state, sources


def _check_positions(w: _Weights, config: TransformerConfig) -> None:
    """Stored sinusoid tables (older exports have them) must be the concatenated layout ronbun computes."""
    expected = sinusoid_table(config.max_positions, config.d_model, "concatenated")
    for stack in ("encoder", "decoder"):
        name = f"{stack}.embed_positions.weight"
        if not w.has(name):
            continue
        table = w.get(name).float()
        if tuple(table.shape) != tuple(expected.shape):
            raise ConversionError(
                f"{name} in {w.file} has shape {tuple(table.shape)}, but max_position_embeddings and d_model "
                f"give {tuple(expected.shape)}"
            )
        diff = float((table - expected).abs().max())
        if diff > 1e-4:
            raise ConversionError(
                f"{name} in {w.file} is not Marian's concatenated sinusoid table (max difference {diff:.3g})"
            )


def _generation_settings(directory: Path, hf_config: dict[str, Any]) -> dict[str, Any]:
    settings = {k: hf_config[k] for k in GENERATION_KEYS if k in hf_config}
    path = directory / "generation_config.json"
    if path.is_file():
        data = read_json(path)
        settings.update({k: data[k] for k in GENERATION_KEYS if k in data})
    return settings


def _read_marian(path: str | Path) -> tuple[Transformer, dict[str, Any], dict[str, Path]]:
    source = HFDirectory.open(path, "Hugging Face Marian model", ("marian",), FORMAT)
    directory, hf_config = source.path, source.config
    tokenizer_files = {
        key: directory / name for key, name in TOKENIZER_FILES.items() if (directory / name).is_file()
    }
    source_vocab = read_vocab(tokenizer_files["vocab"]) if "vocab" in tokenizer_files else None
    target_vocab = read_vocab(tokenizer_files["target_vocab"]) if "target_vocab" in tokenizer_files else None
    tensors, weights_file = source.weights()
    w = _Weights(tensors, weights_file)
    config = marian_config(
        hf_config,
        has_final_logits_bias=w.has("final_logits_bias"),
        source_vocab=source_vocab,
        target_vocab=target_vocab,
        source=str(directory / "config.json"),
    )
    cfg = with_defaults(hf_config)
    notes: list[str] = []
    state, sources = _embeddings(w, config, bool(cfg["share_encoder_decoder_embeddings"]), notes)
    for stack, n, cross in (
        ("encoder", config.n_encoder_layers, False),
        ("decoder", config.n_decoder_layers, True),
    ):
        for i in range(n):
            layer_state, layer_sources = _layer(w, stack, i, n, cross)
            state.update(layer_state)
            sources.update(layer_sources)
    _check_positions(w, config)
    leftover = sorted(
        set(w.tensors) - w.used - {f"{s}.embed_positions.weight" for s in ("encoder", "decoder")}
    )
    if leftover:
        raise ConversionError(
            f"{weights_file} has tensor {leftover[0]} ({len(leftover)} unmapped in all), which a "
            "MarianMTModel with this config.json does not have"
        )
    for key in ("encoder_layerdrop", "decoder_layerdrop"):
        if cfg.get(key):
            notes.append(f"{key}={cfg[key]} (training-time only) has no ronbun equivalent and was dropped")
    config.extra = {
        "imported_from": source.imported_from(weights_file),
        "tokenizer": (
            {"kind": "marian-sentencepiece", "files": {k: TOKENIZER_FILES[k] for k in tokenizer_files}}
            if tokenizer_files
            else None
        ),
        "hf_generation": _generation_settings(directory, hf_config),
        "notes": notes,
    }
    model = Transformer(config)
    load_mapped_state(model, state, sources)
    return model, config.extra, {TOKENIZER_FILES[k]: p for k, p in tokenizer_files.items()}


def load_hf_marian(path: str | Path) -> Transformer:
    """A ronbun :class:`Transformer` (eval mode) with the weights of the ``MarianMTModel`` directory ``path``.

    ``model.config.extra`` records the source, the tokenizer files and Marian's generation settings.
    """
    return _read_marian(path)[0]


def convert_hf_marian(path: str | Path, out: str | Path, *, overwrite: bool = False) -> Path:
    """Convert the ``MarianMTModel`` directory ``path`` into the ronbun checkpoint directory ``out``
    (tokenizer files copied along; ``conversion.json`` records the provenance).  Returns ``out``."""
    model, extra, files = _read_marian(path)
    return write_converted(out, model, provenance=extra, files=files, overwrite=overwrite)
