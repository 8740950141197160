"""ronbun :class:`~ronbun.Transformer` checkpoint → Hugging Face ``MarianMTModel`` → CTranslate2.

The exact inverse of :mod:`ronbun.interop.marian` (ronbun names on the left, HF names without ``model.``):

* ``src_embed.tokens.weight`` → ``encoder.embed_tokens.weight``; ``tgt_embed.tokens.weight`` →
  ``decoder.embed_tokens.weight``; the output projection (the target embedding when tied, else
  ``output_proj.weight``) → ``lm_head.weight``; with ``tie_embeddings="all"`` also ``shared.weight``.  Every
  name is written with its values (tied ones as equal copies), so any transformers version's tying gives
  the same model.  ``tie_embeddings`` ``"all"`` → ``share_encoder_decoder_embeddings`` and
  ``tie_word_embeddings`` true; ``"decoder"`` → tying only; ``"none"`` → neither.
* ``final_logits_bias`` ``(V,)`` → ``final_logits_bias`` ``(1, V)`` (zeros when ronbun has none).
* ``self_attn.qkv_proj`` = ``cat(q, k, v)`` → ``self_attn.{q,k,v}_proj``; ``cross_attn.q_proj`` →
  ``encoder_attn.q_proj``; ``cross_attn.kv_proj`` = ``cat(k, v)`` → ``encoder_attn.{k,v}_proj``;
  ``out_proj`` → ``out_proj`` (weights and biases).
* ``self_attn_norm`` → ``self_attn_layer_norm``, ``cross_attn_norm`` → ``encoder_attn_layer_norm``,
  ``ffn_norm`` → the per-layer ``final_layer_norm``; ``ffn.w_1``, ``ffn.w_2`` → ``fc1``, ``fc2``.
* ``activation``: ``relu`` → ``relu``, ``gelu`` → ``gelu`` (erf), ``gelu_tanh`` → ``gelu_new``,
  ``silu`` → ``swish``.  ``scale_embedding`` → ``scale_embedding``; ``max_positions`` →
  ``max_position_embeddings``; ``dropout``s as they are.
* ``pad_id`` → ``pad_token_id``; ``eos_id`` → ``eos_token_id``; ``bos_id`` → ``bos_token_id`` and
  ``decoder_start_token_id`` (ronbun starts decoding with ``<s>``; opus-mt models with ``<pad>``).
  ``generation_config.json`` bans ``<pad>`` (``bad_words_ids``) and forces ``</s>`` at the length limit, as
  ronbun's search does.

**Positions.**  Marian's sinusoids are ``sinusoid_layout="concatenated"`` (sines in ``[0, d/2)``, cosines in
``[d/2, d)``, positions from 0).  ronbun's default is the paper's ``"interleaved"`` (§3.5), the same
functions in a permuted order.  Such a model is exported *exactly* by permuting the residual stream: with
``π = [0, 2, …, d-2, 1, 3, …, d-1]``, every tensor that reads the ``d_model``-wide stream gets its input
columns permuted (embeddings, Q/K/V, ``fc1``, the output projection), every tensor that writes it its output
rows (``out_proj``, ``fc2``) and the LayerNorm gains and biases their entries.  LayerNorm, attention and the
tied projection are invariant under a common permutation, so the interleaved model in the permuted basis is
the concatenated model; only float summation order changes (≈1e-7).

**Refused** (:class:`ExportError`, one line naming the setting), because ``MarianMTModel`` cannot compute
them: GPT checkpoints, ``norm_position="pre"``, ``final_layer_norm``, ``positional="learned"``,
``attention_window``, ``d_k``/``d_v`` other than ``d_model / n_heads``, ``layer_norm_eps`` ≠ 1e-5
(``nn.LayerNorm``'s default, which Marian uses), and separate source/target vocabularies.  ``mask_fill``
is accepted: masked keys get weight 0 under every fill value ronbun offers and transformers' own.

**Tokenizer.**  A ronbun ``tokenizer.json`` (``tokenizers`` JSON) is written with a ``tokenizer_config.json``
naming ``PreTrainedTokenizerFast`` and ronbun's special tokens, so ``AutoTokenizer`` loads it (padded with
``<ronbun_unused_N>`` tokens when the model's vocabulary is larger).  Checkpoints imported from opus-mt
get their sentencepiece files back (``MarianTokenizer``).  A model trained on lower-cased Moses-tokenised
text needs that preprocessing outside the tokenizer (noted in ``ronbun_export.json``).

**CTranslate2** goes through ``ctranslate2.converters.TransformersConverter`` applied to the Hugging Face
export, with one difference from its stock ``MarianMTLoader``: that loader assumes opus-mt's convention
(decoder starts from a zero embedding, trailing ``<pad>`` dropped from the vocabulary), whereas ronbun's
decoder starts from the embedding of ``<s>``.  ronbun's loader keeps Marian's layers and uses BART's
start: the embedding of ``decoder_start_token_id``, every vocabulary entry kept (ids never shift).
CTranslate2 does not ban ``<pad>`` by itself: pass ``suppress_sequences=[["<pad>"]]`` and
``min_decoding_length=0`` to ``translate_batch`` to decode as ronbun does.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

import torch
from safetensors.torch import save_file
from torch import Tensor

from ..models.config import TransformerConfig
from ..models.transformer import Transformer
from ..training.checkpoint import TOKENIZER_FILE, load_model
from . import ConversionError, one_line, staged_directory

ExportFormat = Literal["hf-marian", "ctranslate2"]
EXPORT_FORMATS: tuple[str, ...] = ("hf-marian", "ctranslate2")
#: CTranslate2's weight types; only ``float32`` keeps the outputs equal to ronbun's.
QUANTIZATIONS: tuple[str, ...] = (
    "float32",
    "int8",
    "int8_float32",
    "int8_float16",
    "int8_bfloat16",
    "int16",
    "float16",
    "bfloat16",
)
EXPORT_FILE = "ronbun_export.json"  # provenance and notes, written into every export
HF_ACTIVATIONS: dict[str, str] = {"relu": "relu", "gelu": "gelu", "gelu_tanh": "gelu_new", "silu": "swish"}
MARIAN_LAYER_NORM_EPS = 1e-5
UNUSED_TOKEN = "<ronbun_unused_{}>"


class ExportError(ConversionError):
    """A checkpoint that cannot be exported faithfully (one line naming the setting or file)."""


# -- what Marian can express ---------------------------------------------------------------------------------
def check_exportable(config: TransformerConfig) -> None:
    """Raise :class:`ExportError` naming the first setting ``MarianMTModel`` cannot compute exactly."""
    refusals: list[tuple[bool, str]] = [
        (
            config.norm_position != "post",
            f"norm_position={config.norm_position!r}: Marian's layers are post-LN only (§3.1)",
        ),
        (
            config.use_final_layer_norm,
            "final_layer_norm=True: Marian has no LayerNorm after the encoder and decoder stacks",
        ),
        (
            config.positional != "sinusoidal",
            f"positional={config.positional!r}: Marian has fixed sinusoidal positions only",
        ),
        (
            config.attention_window is not None,
            f"attention_window={config.attention_window}: Marian has no restricted self-attention",
        ),
        (
            config.d_model % config.n_heads != 0
            or config.head_dim_k != config.d_model // config.n_heads
            or config.head_dim_v != config.d_model // config.n_heads,
            f"d_k={config.d_k}, d_v={config.d_v} with n_heads={config.n_heads}, d_model={config.d_model}: "
            "Marian's heads are d_model / n_heads wide",
        ),
        (
            config.layer_norm_eps != MARIAN_LAYER_NORM_EPS,
            f"layer_norm_eps={config.layer_norm_eps}: Marian's LayerNorms use {MARIAN_LAYER_NORM_EPS}",
        ),
        (
            config.source_vocab_size != config.vocab_size,
            f"src_vocab_size={config.src_vocab_size} != vocab_size={config.vocab_size}: the export needs one "
            "shared vocabulary (one tokenizer, one CTranslate2 vocabulary)",
        ),
        (
            config.activation not in HF_ACTIVATIONS,
            f"activation={config.activation!r} has no Marian equivalent",
        ),
    ]
    for refused, why in refusals:
        if refused:
            raise ExportError(f"cannot export to Marian: {why}")


def hf_marian_config(config: TransformerConfig) -> dict[str, Any]:
    """The ``config.json`` of the ``MarianMTModel`` equal to ``config`` (see the module docstring)."""
    check_exportable(config)
    return {
        "architectures": ["MarianMTModel"],
        "model_type": "marian",
        "is_encoder_decoder": True,
        "vocab_size": config.vocab_size,
        "decoder_vocab_size": config.vocab_size,
        "d_model": config.d_model,
        "encoder_layers": config.n_encoder_layers,
        "decoder_layers": config.n_decoder_layers,
        "encoder_attention_heads": config.n_heads,
        "decoder_attention_heads": config.n_heads,
        "encoder_ffn_dim": config.d_ff,
        "decoder_ffn_dim": config.d_ff,
        "activation_function": HF_ACTIVATIONS[config.activation],
        "max_position_embeddings": config.max_positions,
        "scale_embedding": config.scale_embedding,
        "share_encoder_decoder_embeddings": config.tie_embeddings == "all",
        "tie_word_embeddings": config.tie_embeddings != "none",
        "dropout": config.dropout,
        "attention_dropout": config.attention_dropout,
        "activation_dropout": config.activation_dropout,
        "encoder_layerdrop": 0.0,
        "decoder_layerdrop": 0.0,
        "init_std": config.init_std,
        "pad_token_id": config.pad_id,
        "bos_token_id": config.bos_id,
        "eos_token_id": config.eos_id,
        "decoder_start_token_id": config.bos_id,
        "dtype": "float32",
    }


def hf_generation_config(config: TransformerConfig) -> dict[str, Any]:
    """``generation_config.json``: ronbun's decoding conventions (``<pad>`` banned, ``</s>`` forced at the
    limit).  The beam size and ronbun's GNMT length penalty are not set: Hugging Face's ``len ** α`` differs.
    A model imported from Marian gets its original generation settings back (``config.extra["hf_generation"]``)."""
    imported = (config.extra or {}).get("hf_generation") or {}
    return {
        "bos_token_id": config.bos_id,
        "eos_token_id": config.eos_id,
        "pad_token_id": config.pad_id,
        "decoder_start_token_id": config.bos_id,
        "forced_eos_token_id": config.eos_id,
        "bad_words_ids": [[config.pad_id]],
        "max_length": config.max_positions,
        **imported,
    }


def residual_permutation(config: TransformerConfig) -> Tensor | None:
    """``π`` with ``concatenated[:, j] = interleaved[:, π[j]]``, or ``None`` when the layouts already match."""
    if config.sinusoid_layout == "concatenated":
        return None
    d = config.d_model
    return torch.cat([torch.arange(0, d, 2), torch.arange(1, d, 2)])


def hf_marian_state(model: Transformer) -> dict[str, Tensor]:
    """The ``MarianMTModel`` state dict (HF names, float32, contiguous, no shared storage) of ``model``."""
    c = model.config
    check_exportable(c)
    perm = residual_permutation(c)
    ours = {k: v.detach().to("cpu", torch.float32) for k, v in model.state_dict().items()}

    def reads(w: Tensor) -> Tensor:  # a (out, d_model) matrix applied to the residual stream
        return w if perm is None else w[:, perm]

    def writes(t: Tensor) -> Tensor:  # a (d_model, …) weight or (d_model,) bias/gain added to the stream
        return t if perm is None else t[perm]

    state: dict[str, Tensor] = {}
    src, tgt = reads(ours["src_embed.tokens.weight"]), reads(ours["tgt_embed.tokens.weight"])
    out_w, _ = model.output_layer()
    out = reads(out_w.detach().to("cpu", torch.float32))
    state["model.encoder.embed_tokens.weight"] = src
    state["model.decoder.embed_tokens.weight"] = tgt
    state["lm_head.weight"] = out
    if c.tie_embeddings == "all":
        state["model.shared.weight"] = tgt
    bias = ours.get("final_logits_bias")
    state["final_logits_bias"] = (torch.zeros(c.vocab_size) if bias is None else bias).reshape(1, -1)

    def attention(ronbun: str, hf: str, fused: str) -> None:
        d = c.d_model
        for kind in ("weight", "bias"):
            if fused == "qkv":
                q, k, v = ours[f"{ronbun}.qkv_proj.{kind}"].split(d, dim=0)
            else:
                q = ours[f"{ronbun}.q_proj.{kind}"]
                k, v = ours[f"{ronbun}.kv_proj.{kind}"].split(d, dim=0)
            for name, t in (("q", q), ("k", k), ("v", v)):
                state[f"{hf}.{name}_proj.{kind}"] = reads(t) if kind == "weight" else t
            state[f"{hf}.out_proj.{kind}"] = writes(ours[f"{ronbun}.out_proj.{kind}"])

    for stack, n in (("encoder", c.n_encoder_layers), ("decoder", c.n_decoder_layers)):
        for i in range(n):
            ronbun, hf = f"{stack}.layers.{i}", f"model.{stack}.layers.{i}"
            attention(f"{ronbun}.self_attn", f"{hf}.self_attn", "qkv")
            norms = {"self_attn_norm": "self_attn_layer_norm", "ffn_norm": "final_layer_norm"}
            if stack == "decoder":
                attention(f"{ronbun}.cross_attn", f"{hf}.encoder_attn", "q+kv")
                norms["cross_attn_norm"] = "encoder_attn_layer_norm"
            for ours_norm, hf_norm in norms.items():
                for kind in ("weight", "bias"):
                    state[f"{hf}.{hf_norm}.{kind}"] = writes(ours[f"{ronbun}.{ours_norm}.{kind}"])
            state[f"{hf}.fc1.weight"] = reads(ours[f"{ronbun}.ffn.w_1.weight"])
            state[f"{hf}.fc1.bias"] = ours[f"{ronbun}.ffn.w_1.bias"]
            state[f"{hf}.fc2.weight"] = writes(ours[f"{ronbun}.ffn.w_2.weight"])
            state[f"{hf}.fc2.bias"] = writes(ours[f"{ronbun}.ffn.w_2.bias"])
    return {k: v.clone().contiguous() for k, v in state.items()}


# -- tokenizer -----------------------------------------------------------------------------------------------
def _tokenizer_files(
    directory: Path, config: TransformerConfig, notes: list[str]
) -> tuple[dict[str, bytes], str | None]:
    """Files (name → bytes) that let ``AutoTokenizer.from_pretrained`` load the export's tokenizer, and the
    padding token's string (``None`` without a tokenizer)."""
    spec = (config.extra or {}).get("tokenizer") or {}
    if spec.get("kind") == "marian-sentencepiece":
        names = list((spec.get("files") or {}).values())
        missing = [n for n in names if not (directory / n).is_file()]
        if missing:
            raise ExportError(f"{directory} lists tokenizer file {missing[0]} in config.json but lacks it")
        files = {name: (directory / name).read_bytes() for name in names}
        try:
            vocab = json.loads(files.get("vocab.json", b"{}"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ExportError(f"{directory / 'vocab.json'} is not valid JSON ({one_line(exc)})") from None
        pad = next((t for t, i in vocab.items() if i == config.pad_id), None)
        return files, pad
    path = directory / TOKENIZER_FILE
    if not path.is_file():
        notes.append(f"{directory} has no {TOKENIZER_FILE}: the export has no tokenizer")
        return {}, None
    from tokenizers import AddedToken, Tokenizer

    try:
        tok = Tokenizer.from_file(str(path))
    except Exception as exc:  # tokenizers raises a bare Exception on malformed JSON
        raise ExportError(f"{path} is not a valid tokenizers JSON file ({one_line(exc)})") from None
    size = tok.get_vocab_size(with_added_tokens=True)
    if size > config.vocab_size:
        raise ExportError(
            f"{path} has {size} tokens but the model's vocab_size is {config.vocab_size}; they must match"
        )
    if size < config.vocab_size:
        fillers = [UNUSED_TOKEN.format(i) for i in range(size, config.vocab_size)]
        tok.add_special_tokens([AddedToken(t, special=True) for t in fillers])
        notes.append(f"{len(fillers)} unused model ids got placeholder tokens {fillers[0]} …")
    vocab = tok.get_vocab(with_added_tokens=True)
    if sorted(vocab.values()) != list(range(config.vocab_size)):
        raise ExportError(f"{path} does not give every id 0…{config.vocab_size - 1} exactly one token")
    specials = {
        "pad_token": tok.id_to_token(config.pad_id),
        "bos_token": tok.id_to_token(config.bos_id),
        "eos_token": tok.id_to_token(config.eos_id),
        "unk_token": tok.id_to_token(config.unk_id),
    }
    if spec.get("normalization"):
        notes.append(
            f"the model was trained on {spec['normalization']} text: lower-case and Moses-tokenise input (and "
            "detokenise output) outside the exported tokenizer, as ronbun's Translator does"
        )
    tokenizer_config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        **specials,
        "model_max_length": config.max_positions,
        "clean_up_tokenization_spaces": False,
    }
    files = {
        TOKENIZER_FILE: tok.to_str().encode("utf-8"),
        "tokenizer_config.json": _json_bytes(tokenizer_config),
        "special_tokens_map.json": _json_bytes(specials),
    }
    return files, specials["pad_token"]


def _json_bytes(data: Any) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


# -- writing -------------------------------------------------------------------------------------------------
def _load_transformer(checkpoint: str | Path) -> tuple[Path, Transformer]:
    directory = Path(checkpoint)
    if not directory.exists():
        raise ExportError(f"checkpoint directory {directory} does not exist")
    model = load_model(directory)
    if not isinstance(model, Transformer):
        raise ExportError(
            f"{directory} holds a {model.config.model_type()!r} model; only encoder-decoder Transformer "
            "checkpoints can be exported to Marian"
        )
    return directory, model


def write_hf_marian(checkpoint: Path, model: Transformer, directory: Path) -> list[str]:
    """Write the Hugging Face Marian export of ``model`` into the existing empty ``directory``; the notes."""
    c = model.config
    config = hf_marian_config(c)
    notes: list[str] = []
    if c.sinusoid_layout == "interleaved":
        notes.append(
            "sinusoid_layout='interleaved' exported exactly by permuting the residual stream into Marian's "
            "concatenated layout"
        )
    files, pad_token = _tokenizer_files(checkpoint, c, notes)
    save_file(hf_marian_state(model), str(directory / "model.safetensors"), metadata={"format": "pt"})
    (directory / "config.json").write_bytes(_json_bytes(config))
    (directory / "generation_config.json").write_bytes(_json_bytes(hf_generation_config(c)))
    for name, data in files.items():
        (directory / name).write_bytes(data)
    provenance = {
        "exported_from": str(checkpoint.resolve()),
        "format": "hf-marian",
        "residual_permutation": None if c.sinusoid_layout == "concatenated" else "interleaved→concatenated",
        "tokenizer_files": sorted(files),
        "pad_token": pad_token,
        "notes": notes,
    }
    (directory / EXPORT_FILE).write_bytes(_json_bytes(provenance))
    return notes


def _ctranslate2_converter(hf_dir: Path) -> Any:
    """``TransformersConverter`` on ``hf_dir`` whose Marian loader starts decoding as ronbun does."""
    try:
        from ctranslate2.converters import TransformersConverter
        from ctranslate2.converters import transformers as ct2_transformers
    except ImportError as exc:
        raise ExportError(
            f"--to ctranslate2 needs CTranslate2 ({one_line(exc)}); install it with pip install 'ronbun[deploy]'"
        ) from None
    registry = getattr(ct2_transformers, "_MODEL_LOADERS", None)
    base = getattr(ct2_transformers, "MarianMTLoader", None)
    bart = getattr(ct2_transformers, "BartLoader", None)
    if not isinstance(registry, dict) or base is None or bart is None:
        raise ExportError(
            "this CTranslate2 version has no MarianMTLoader/BartLoader; ronbun needs CTranslate2 4.x"
        )

    class BosStartMarianLoader(base):  # type: ignore[misc, valid-type]
        """Marian's layers (post-LN, no embedding LayerNorm) with BART's decoder start and full vocabulary."""

        def get_model_spec(self, model: Any) -> Any:
            model.config.normalize_before = False
            model.config.normalize_embedding = False
            return bart.get_model_spec(self, model)  # without dropping a trailing <pad>

        def set_decoder(self, spec: Any, decoder: Any) -> None:
            bart.set_decoder(self, spec, decoder)  # start_from_zero_embedding stays False

        def set_config(self, config: Any, model: Any, tokenizer: Any) -> None:
            token = tokenizer.convert_ids_to_tokens
            config.bos_token = token(model.config.bos_token_id)
            config.eos_token = token(model.config.eos_token_id)
            config.unk_token = tokenizer.unk_token
            config.decoder_start_token = token(model.config.decoder_start_token_id)
            config.layer_norm_epsilon = MARIAN_LAYER_NORM_EPS

        def get_vocabulary(self, model: Any, tokenizer: Any) -> list[str]:
            by_id = {i: t for t, i in tokenizer.get_vocab().items()}
            size = model.config.vocab_size
            if sorted(by_id) != list(range(size)):
                raise ExportError(
                    f"the tokenizer has {len(by_id)} distinct ids but the model's vocabulary has {size}; "
                    "CTranslate2 needs one token per id"
                )
            return [by_id[i] for i in range(size)]

    class Converter(TransformersConverter):  # type: ignore[misc, valid-type]
        def _load(self) -> Any:
            saved = registry.get("MarianConfig")
            registry["MarianConfig"] = BosStartMarianLoader()
            try:
                return super()._load()
            finally:  # leave CTranslate2's registry as it was
                if saved is None:
                    registry.pop("MarianConfig", None)
                else:
                    registry["MarianConfig"] = saved

    return Converter(str(hf_dir), copy_files=None)


def _write_atomically(out: Path, protect: Path, overwrite: bool, fill: Callable[[Path], None]) -> Path:
    """Assemble the export in a hidden sibling directory with ``fill`` and rename it to ``out``."""
    if out.exists():
        if not out.is_dir():
            raise ExportError(f"{out} exists and is not a directory")
        if any(out.iterdir()) and not overwrite:
            raise ExportError(f"{out} already exists and is not empty; choose another OUT or pass --force")
        resolved, source = out.resolve(), protect.resolve()
        if resolved == source or resolved in source.parents:
            raise ExportError(f"{out} holds the checkpoint being exported; choose another OUT")
    with staged_directory(out, "export") as built:
        fill(built)
    return out


def export_hf_marian(checkpoint: str | Path, out: str | Path, *, overwrite: bool = False) -> Path:
    """Export the ronbun Transformer checkpoint ``checkpoint`` as a Hugging Face ``MarianMTModel`` directory
    ``out`` (``config.json``, ``generation_config.json``, ``model.safetensors``, tokenizer files,
    ``ronbun_export.json``).  Atomic; an existing non-empty ``out`` needs ``overwrite``.  Returns ``out``."""
    directory, model = _load_transformer(checkpoint)
    check_exportable(model.config)

    def fill(target: Path) -> None:
        target.mkdir()
        write_hf_marian(directory, model, target)

    return _write_atomically(Path(out), directory, overwrite, fill)


def export_ctranslate2(
    checkpoint: str | Path, out: str | Path, *, quantization: str = "float32", overwrite: bool = False
) -> Path:
    """Export ``checkpoint`` to CTranslate2: the Hugging Face Marian export (in a temporary directory) goes
    through ``ctranslate2.converters.TransformersConverter`` (see the module docstring).  ``out`` gets
    ``model.bin``, ``config.json``, the shared vocabulary, the tokenizer files and ``ronbun_export.json``."""
    if quantization not in QUANTIZATIONS:
        raise ExportError(f"unknown quantization {quantization!r}; choose one of {', '.join(QUANTIZATIONS)}")
    directory, model = _load_transformer(checkpoint)
    check_exportable(model.config)
    spec = (model.config.extra or {}).get("tokenizer") or {}
    if not (directory / TOKENIZER_FILE).is_file() and spec.get("kind") != "marian-sentencepiece":
        raise ExportError(
            f"{directory} has no {TOKENIZER_FILE}; CTranslate2 needs the tokenizer to write its vocabulary"
        )

    def fill(target: Path) -> None:
        hf_dir = target.parent / "hf"
        hf_dir.mkdir()
        notes = write_hf_marian(directory, model, hf_dir)
        converter = _ctranslate2_converter(hf_dir)
        from transformers.utils import logging as hf_logging

        bar = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()  # the converter's from_pretrained would draw one on stderr
        try:
            converter.convert(str(target), quantization=quantization, force=False)
        except ExportError:
            raise
        except Exception as exc:  # the converter raises ValueError/RuntimeError/NotImplementedError
            raise ExportError(f"CTranslate2's converter failed: {one_line(exc)}") from None
        finally:
            if bar:
                hf_logging.enable_progress_bar()
        provenance = json.loads((hf_dir / EXPORT_FILE).read_text(encoding="utf-8"))
        extra = [] if quantization == "float32" else [f"quantization={quantization}: outputs may differ"]
        provenance.update(format="ctranslate2", quantization=quantization, notes=notes + extra)
        provenance["translate_batch"] = {
            "suppress_sequences": [[provenance["pad_token"]]],
            "min_decoding_length": 0,
        }
        for name in provenance["tokenizer_files"]:
            if not (target / name).exists():
                shutil.copyfile(hf_dir / name, target / name)
        (target / EXPORT_FILE).write_bytes(_json_bytes(provenance))

    return _write_atomically(Path(out), directory, overwrite, fill)


EXPORTERS: Mapping[str, Callable[..., Path]] = {
    "hf-marian": export_hf_marian,
    "ctranslate2": export_ctranslate2,
}


def export(to: ExportFormat | str, checkpoint: str | Path, out: str | Path, **options: Any) -> Path:
    """Export the ronbun checkpoint ``checkpoint`` to format ``to`` (one of :data:`EXPORT_FORMATS`) at
    ``out``.  ``options``: ``overwrite`` (both), ``quantization`` (``ctranslate2``)."""
    if to not in EXPORTERS:
        raise ExportError(f"unknown export format {to!r}; choose one of {', '.join(EXPORT_FORMATS)}")
    return EXPORTERS[to](checkpoint, out, **options)
