"""A checkpoint directory, end to end: the one format both papers write, and the one way to open it.

    ckpt/
      config.json          model config (model_type, config_version, every setting)
      model.safetensors    weights (tied matrices stored once)
      tokenizer.json       the tokenizer (Hugging Face ``tokenizers`` JSON), when there is one; or GPT-1's
                           BPE files, or a converted Marian model's sentencepiece files
      trainer_state.json   step, epoch, data position, RNG states, metrics; sha256 + size of every file
      optimizer.safetensors  optimiser + scheduler tensors (training checkpoints only)
      train_config.json    the resolved training configuration (re-run from the directory alone)
      task_config.json     the training task's description (data, tokenizer, a fine-tuned GPT's task head)

**Writing** (:func:`save_checkpoint`) is atomic: everything goes to ``<name>.tmp-<pid>``, files are fsynced,
the directory is renamed into place and its parent fsynced.  A torn or corrupted checkpoint is detected by the
sizes and hashes recorded in ``trainer_state.json`` (:func:`verify_checkpoint`).

**Opening** (:func:`load_checkpoint`) never executes code (safetensors for tensors, JSON for the rest) and
takes five steps, each in this module:

1. resolve the path (:func:`resolve_checkpoint`): a checkpoint directory (a ``step_…`` directory, an
   ``averaged`` one, a conversion) is itself; a run directory gives its newest intact ``checkpoints/step_…``;
2. verify it (sizes and sha256 of every file);
3. read ``config.json`` (:func:`read_model_config`) and the task description (:func:`read_task_config`);
4. build the model from :data:`MODEL_KINDS`, keyed by the recorded model type and whether a task head is
   recorded (Transformer, GPT, GPT with a task head), and load the weights with one check of missing,
   unexpected and misshapen tensors (:func:`model_from_tensors`);
5. load the tokenizer by its kind (:data:`TOKENIZER_KINDS`: ``tokenizer.json`` byte-level BPE, GPT-1's original
   BPE files, Marian sentencepiece), wrapped in the Moses normalisation that ``config.extra["tokenizer"]``
   records, or none for a weights-only checkpoint (:class:`MissingTokenizerError` when one is required).

The result is one :class:`Checkpoint`.  ``ronbun.load`` wraps it in the object that uses it
(:class:`~ronbun.mt.translator.Translator`, :class:`~ronbun.gpt.language_model.LanguageModel` or
:class:`~ronbun.gpt.language_model.TaskModel`); nothing else in ronbun opens a checkpoint's files.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from ..models.config import BlockConfig, ConfigError, TransformerConfig
from ..models.decoder_only import GPT, GPTConfig
from ..models.task_head import GPTClassifier, HeadSpec
from ..models.transformer import Transformer
from ..text.gpt1_bpe import ENCODER_FILENAME, MERGES_FILENAME

MODEL_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
STATE_FILE = "trainer_state.json"
TOKENIZER_FILE = "tokenizer.json"
TASK_FILE = "task_config.json"
MANIFEST_KEY = "files"
CHECKPOINTS_DIR = "checkpoints"  # a run directory's checkpoints: checkpoints/step_00001000, …
CHECKPOINT_PREFIX = "step_"

CONFIG_CLASSES: dict[str, type[BlockConfig]] = {"transformer": TransformerConfig, "gpt": GPTConfig}


class CheckpointError(ValueError):
    """A checkpoint that cannot be used: missing, torn, corrupted, or of the wrong kind (names the path)."""


class MissingTokenizerError(CheckpointError):
    """A checkpoint that holds weights but no tokenizer (e.g. converted from a weights-only folder).

    It is legitimate: ``ronbun.load`` opens it as a bare model that works on token ids.  This error is raised
    where text has to be turned into ids or back (the message says how to provide a tokenizer).
    """

    @classmethod
    def unless(cls, wrapper: Any, what: str, model: str, ids: str) -> Any:
        """The tokenizer of ``wrapper`` (a ``Translator`` or ``LanguageModel``: ``.tokenizer``,
        ``.directory``, ``.model``), or the one error every bare model gives: ``what`` needs text, how to
        add a tokenizer (:func:`tokenizer_hint`), and which token-id methods (``ids``) work without one."""
        if wrapper.tokenizer is not None:
            return wrapper.tokenizer
        directory = wrapper.directory
        where = directory if directory is not None else "the checkpoint directory"
        origin = f" ({directory} holds weights only)" if directory is not None else ""
        raise cls(
            f"{what} needs a tokenizer and this {model} has none{origin}: "
            f"{tokenizer_hint(where, wrapper.model.config)}, or pass tokenizer= to ronbun.load(); without one "
            f"use {ids}"
        )


class TokenizerFolderError(MissingTokenizerError, FileNotFoundError):
    """A folder given as ``tokenizer=`` that holds no tokenizer files."""


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _fsync_file(path: Path) -> None:
    with path.open("rb") as f:
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_directory(built: Path, out: Path, staging: Path) -> Path:
    """Move the finished directory ``built`` to ``out`` (a sibling of ``staging``, where the old ``out`` is
    parked and put back if the rename fails), then fsync the parent: readers see the old or the new
    directory, never half of one."""
    if out.exists():
        old = staging / "old"
        out.rename(old)
        try:
            built.rename(out)
        except BaseException:
            old.rename(out)
            raise
    else:
        built.rename(out)
    _fsync_dir(out.parent)
    return out


def unique_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """The model's tensors with tied matrices stored once (first name wins), contiguous, on CPU."""
    seen: dict[int, str] = {}
    out: dict[str, torch.Tensor] = {}
    for name, tensor in model.state_dict().items():
        key = tensor.data_ptr()
        if key in seen and tensor.numel() > 0:
            continue
        seen[key] = name
        out[name] = tensor.detach().to("cpu").contiguous()
    return out


def ensure_output_dir(path: str | Path) -> Path:
    """Create ``path`` and prove it is writable, or fail with one clear line (before any work is done)."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-test-{os.getpid()}"
        probe.write_bytes(b"x" * 4096)
        probe.unlink()
    except OSError as exc:
        raise PermissionError(f"output directory {path} is not writable: {exc.strerror or exc}") from None
    return path


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n", encoding="utf-8")


def save_checkpoint(
    directory: str | Path,
    model: nn.Module,
    *,
    tokenizer_file: str | Path | None = None,
    trainer_state: dict[str, Any] | None = None,
    extra_tensors: dict[str, dict[str, torch.Tensor]] | None = None,
    extra_json: dict[str, Any] | None = None,
    extra_files: dict[str, str | Path] | None = None,
) -> Path:
    """Write ``model`` (and optionally tokenizer, trainer state, extra tensor files) as a checkpoint dir.

    ``extra_tensors`` maps file names (e.g. ``"optimizer.safetensors"``) to tensor dicts; ``extra_json`` maps
    file names to JSON-serialisable objects; ``extra_files`` maps file names to files copied in as they are
    (e.g. GPT-1's original BPE files, so a checkpoint never depends on a folder elsewhere).  An existing ``directory`` is replaced only once the new one is
    complete; a crash at any moment leaves either the old or the new checkpoint, never a mix.
    """
    directory = Path(directory)
    parent = directory.parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = parent / f".{directory.name}.tmp-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        config: BlockConfig = model.config  # type: ignore[assignment]
        config.save(tmp / CONFIG_FILE)
        save_file(
            unique_state_dict(model), str(tmp / MODEL_FILE), metadata={"model_type": config.model_type()}
        )
        if tokenizer_file is not None:
            shutil.copyfile(tokenizer_file, tmp / TOKENIZER_FILE)
        for name, tensors in (extra_tensors or {}).items():
            save_file({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, str(tmp / name))
        for name, data in (extra_json or {}).items():
            write_json(tmp / name, data)
        for name, source in (extra_files or {}).items():
            shutil.copyfile(source, tmp / name)
        state = dict(trainer_state or {})
        state[MANIFEST_KEY] = {
            p.name: {"size": p.stat().st_size, "sha256": _sha256(p)}
            for p in sorted(tmp.iterdir())
            if p.is_file()
        }
        write_json(tmp / STATE_FILE, state)
        for p in tmp.iterdir():
            _fsync_file(p)
        _fsync_dir(tmp)
        if directory.exists():
            old = parent / f".{directory.name}.old-{os.getpid()}"
            directory.rename(old)
            tmp.rename(directory)
            shutil.rmtree(old)
        else:
            tmp.rename(directory)
        _fsync_dir(parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return directory


def read_state(directory: str | Path) -> dict[str, Any]:
    path = Path(directory) / STATE_FILE
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{path} is not valid JSON ({exc}); the checkpoint is corrupted") from None


def verify_checkpoint(directory: str | Path, *, deep: bool = True) -> None:
    """Raise :class:`CheckpointError` naming the problem if ``directory`` is not an intact checkpoint."""
    directory = Path(directory)
    if not directory.is_dir():
        raise CheckpointError(f"checkpoint directory {directory} does not exist")
    for name in (CONFIG_FILE, MODEL_FILE):
        if not (directory / name).is_file():
            if any(directory.glob("*.pt")) or any(directory.glob("*.bin")):
                raise CheckpointError(
                    f"{directory} holds pickle-based weights (*.pt/*.bin), which ronbun never unpickles; "
                    "convert them with `ronbun convert` first"
                )
            raise CheckpointError(f"{directory} is not a ronbun checkpoint: {name} is missing")
    manifest = read_state(directory).get(MANIFEST_KEY, {})
    for name, meta in manifest.items():
        path = directory / name
        if not path.is_file():
            raise CheckpointError(f"checkpoint {directory} is torn: {name} is missing")
        if path.stat().st_size != meta["size"]:
            raise CheckpointError(
                f"checkpoint {directory} is torn: {name} has {path.stat().st_size} bytes, expected {meta['size']}"
            )
        if deep and _sha256(path) != meta["sha256"]:
            raise CheckpointError(f"checkpoint {directory} is corrupted: sha256 of {name} does not match")


# -- resolving a path ----------------------------------------------------------------------------------------
def list_checkpoints(out_dir: str | Path) -> list[Path]:
    """Checkpoint directories under ``out_dir/checkpoints``, oldest step first."""
    root = Path(out_dir) / CHECKPOINTS_DIR
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if p.is_dir() and p.name.startswith(CHECKPOINT_PREFIX)]
    return sorted(found, key=lambda p: int(p.name[len(CHECKPOINT_PREFIX) :]))


def latest_intact_checkpoint(out_dir: str | Path, log: Callable[[str], Any] = print) -> Path | None:
    """The newest checkpoint that passes verification; torn or corrupted ones are reported by name."""
    for path in reversed(list_checkpoints(out_dir)):
        try:
            verify_checkpoint(path)
            return path
        except CheckpointError as exc:
            log(f"skipping damaged checkpoint: {exc}")
    return None


def is_checkpoint_or_run(path: str | Path) -> bool:
    """Whether ``path`` looks like something :func:`resolve_checkpoint` opens (reads nothing)."""
    path = Path(path)
    return (path / CONFIG_FILE).is_file() or (path / CHECKPOINTS_DIR).is_dir()


def resolve_checkpoint(path: str | Path) -> Path:
    """A checkpoint directory (a step, an average, a conversion) is itself; a run directory gives its newest
    intact checkpoint (``RUN/checkpoints/step_…``)."""
    path = Path(path)
    if (path / CONFIG_FILE).is_file():
        return path
    if (path / CHECKPOINTS_DIR).is_dir():
        found = latest_intact_checkpoint(path, log=lambda _msg: None)
        if found is not None:
            return found
        raise CheckpointError(f"{path} is a run directory without an intact checkpoint")
    if not path.exists():
        raise CheckpointError(f"checkpoint directory {path} does not exist")
    raise CheckpointError(
        f"{path} is not a ronbun checkpoint (no {CONFIG_FILE}) nor a run directory (no {CHECKPOINTS_DIR}/)"
    )


# -- reading its files ---------------------------------------------------------------------------------------
def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{path} is not valid JSON ({exc})") from None


def read_model_config(directory: str | Path) -> BlockConfig:
    """The model configuration recorded in ``config.json``, as its own config class."""
    path = Path(directory) / CONFIG_FILE
    if not path.is_file():
        raise CheckpointError(f"{directory} is not a ronbun checkpoint: {CONFIG_FILE} is missing")
    data = _read_json(path)
    model_type = data.get("model_type") if isinstance(data, dict) else None
    if model_type not in CONFIG_CLASSES:
        raise CheckpointError(
            f"{path}: unknown model_type {model_type!r} (expected one of {sorted(CONFIG_CLASSES)})"
        )
    try:
        return CONFIG_CLASSES[model_type].from_dict(data)
    except (ConfigError, TypeError) as exc:
        raise CheckpointError(f"{path}: {exc}") from None


def read_task_config(directory: str | Path) -> dict[str, Any]:
    """The training task's description (``task_config.json``: data, tokenizer, task head), ``{}`` if none."""
    path = Path(directory) / TASK_FILE
    if not path.is_file():
        return {}
    data = _read_json(path)
    if not isinstance(data, dict):
        raise CheckpointError(f"{path} does not hold a JSON object")
    return data


def read_head(directory: str | Path, task_config: dict[str, Any] | None = None) -> HeadSpec | None:
    """The task head recorded for a fine-tuned GPT, ``None`` for every other checkpoint."""
    try:
        return HeadSpec.from_task_config(read_task_config(directory) if task_config is None else task_config)
    except ConfigError as exc:
        raise CheckpointError(f"{Path(directory) / TASK_FILE}: {exc}") from None


def load_tensors(path: str | Path) -> dict[str, torch.Tensor]:
    """Read a safetensors file; anything else (e.g. a pickle) is refused with an explanation."""
    path = Path(path)
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        with path.open("rb") as f:
            head = f.read(2)
        if head[:1] == b"\x80" or head == b"PK":
            raise CheckpointError(
                f"{path} is a pickle/zip file, not safetensors; ronbun never unpickles (it could run code)"
            ) from None
        raise CheckpointError(f"{path} is not a readable safetensors file ({exc})") from None


def read_weights(directory: str | Path) -> dict[str, torch.Tensor]:
    """Every tensor of the checkpoint's ``model.safetensors``."""
    return load_tensors(Path(directory) / MODEL_FILE)


@contextmanager
def open_weights(directory: str | Path) -> Iterator[Any]:
    """The checkpoint's weights opened for reading one tensor at a time (``.keys()``, ``.get_tensor(name)``)."""
    with safe_open(str(Path(directory) / MODEL_FILE), framework="pt") as f:
        yield f


# -- the models: a registry keyed by the recorded model type -------------------------------------------------
@dataclass(frozen=True)
class ModelKind:
    """One kind of network a checkpoint can hold: ``build(config, head)`` makes it with fresh weights."""

    name: str  # "transformer", "gpt", "gpt+head"
    model_type: str  # config.json's model_type
    description: str
    build: Callable[[Any, HeadSpec | None], nn.Module]


TRANSFORMER, GPT_LM, GPT_WITH_HEAD = "transformer", "gpt", "gpt+head"
MODEL_KINDS: dict[str, ModelKind] = {
    kind.name: kind
    for kind in (
        ModelKind(TRANSFORMER, "transformer", "an encoder-decoder Transformer", lambda c, _: Transformer(c)),
        ModelKind(GPT_LM, "gpt", "a GPT language model without a task head", lambda c, _: GPT(c)),
        ModelKind(GPT_WITH_HEAD, "gpt", "a fine-tuned GPT with a task head", GPTClassifier),  # type: ignore[arg-type]
    )
}


def model_kind(config: BlockConfig, head: HeadSpec | None, where: str | Path = "checkpoint") -> ModelKind:
    """The :data:`MODEL_KINDS` entry of a model type (``config``) with or without a recorded task head."""
    name = config.model_type() + ("+head" if head is not None else "")
    if name not in MODEL_KINDS:
        raise CheckpointError(f"{where}: no model kind {name!r} (ronbun builds {', '.join(MODEL_KINDS)})")
    return MODEL_KINDS[name]


def _check_kind(directory: Path, kind: ModelKind, expect: str | None) -> None:
    """``expect`` is a model type (``"gpt"`` accepts a GPT with or without head) or a kind name."""
    if expect is not None and expect not in (kind.name, kind.model_type):
        raise CheckpointError(
            f"{directory} holds a {kind.name!r} model, but this command needs a {expect!r} model; "
            f"it is {kind.description}"
        )


def model_from_tensors(
    config: BlockConfig, head: HeadSpec | None, tensors: dict[str, torch.Tensor], source: str | Path
) -> nn.Module:
    """The registry's model for ``config`` (and ``head``) holding ``tensors``; missing, unexpected or
    misshapen tensors are refused, naming ``source``."""
    model = model_kind(config, head, source).build(config, head)
    expected = unique_state_dict(model)
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    if missing or unexpected:
        raise CheckpointError(
            f"{source} does not match its config: missing {missing[:5]}, unexpected {unexpected[:5]}"
        )
    for name, tensor in tensors.items():
        if tensor.shape != expected[name].shape:
            raise CheckpointError(
                f"{source}: {name} has shape {tuple(tensor.shape)}, config expects {tuple(expected[name].shape)}"
            )
    model.load_state_dict(tensors, strict=False)
    return model


def load_model(
    directory: str | Path,
    *,
    expect: str | None = None,
    verify: bool = True,
    device: str | torch.device = "cpu",
) -> nn.Module:
    """The model of the checkpoint ``directory`` without its tokenizer (eval mode); ``expect`` names the
    model type or kind the caller needs."""
    directory = Path(directory)
    if verify:
        verify_checkpoint(directory)
    config, head = read_model_config(directory), read_head(directory)
    _check_kind(directory, model_kind(config, head, directory), expect)
    return model_from_tensors(config, head, read_weights(directory), directory / MODEL_FILE).to(device).eval()


# -- the tokenizers: a registry keyed by kind ----------------------------------------------------------------
MARIAN_FILES = ("source.spm", "target.spm", "vocab.json")
GPT1_BPE_FILES = (ENCODER_FILENAME, MERGES_FILENAME)


def is_marian(config: BlockConfig) -> bool:
    """Whether the model is a converted Marian model (it tokenises with sentencepiece files)."""
    extra = getattr(config, "extra", None) or {}
    spec = extra.get("tokenizer") or {}
    origin = extra.get("imported_from") or {}
    return spec.get("kind") == "marian-sentencepiece" or origin.get("format") == "hf-marian"


def _load_bpe(folder: Path, config: BlockConfig, record: dict[str, Any]) -> Any:
    from ..text.bpe import TextTokenizer

    return TextTokenizer.load(folder / TOKENIZER_FILE)


def _load_gpt1_bpe(folder: Path, config: BlockConfig, record: dict[str, Any]) -> Any:
    from ..text.gpt1_bpe import GPT1Tokenizer

    unk = bool(record.get("special_unk_literal", False))
    return GPT1Tokenizer.from_dir(folder, record.get("pre_tokenizer", "auto"), special_unk_literal=unk)


def _load_marian(folder: Path, config: BlockConfig, record: dict[str, Any]) -> Any:
    from ..text.marian_spm import MarianTokenizer

    c: TransformerConfig = config  # type: ignore[assignment]
    return MarianTokenizer(folder, eos_id=c.eos_id, unk_id=c.unk_id, pad_id=c.pad_id)


@dataclass(frozen=True)
class TokenizerKind:
    """One kind of tokenizer a checkpoint can carry: the files it is read from, and for which models."""

    name: str
    files: tuple[str, ...]
    description: str
    load: Callable[[Path, BlockConfig, dict[str, Any]], Any]
    applies: Callable[[BlockConfig], bool]


#: Looked for in this order (a ``tokenizer.json`` copied into any checkpoint wins).
TOKENIZER_KINDS: tuple[TokenizerKind, ...] = (
    TokenizerKind("bpe", (TOKENIZER_FILE,), TOKENIZER_FILE, _load_bpe, lambda c: True),
    TokenizerKind(
        "gpt1-bpe",
        GPT1_BPE_FILES,
        f"GPT-1's BPE files {' + '.join(GPT1_BPE_FILES)}",
        _load_gpt1_bpe,
        lambda c: c.model_type() == "gpt",
    ),
    TokenizerKind("marian-sentencepiece", MARIAN_FILES, ", ".join(MARIAN_FILES), _load_marian, is_marian),
)


def tokenizer_record(config: BlockConfig, task_config: dict[str, Any]) -> dict[str, Any]:
    """What the checkpoint records about its tokenizer: ``config.extra["tokenizer"]`` (imports, the Moses
    normalisation), else the training task's ``tokenizer`` (GPT-1's BPE: its options and source folder)."""
    return dict((getattr(config, "extra", None) or {}).get("tokenizer") or task_config.get("tokenizer") or {})


def find_tokenizer(
    folder: str | Path, config: BlockConfig, record: dict[str, Any] | None = None
) -> tuple[TokenizerKind, Path] | None:
    """The kind of tokenizer ``folder`` holds for a model with ``config`` and where its files are (the
    folder, or the source folder ``record["dir"]`` names); ``None`` for a weights-only checkpoint.  Loads
    nothing."""
    folder, record = Path(folder), record or {}
    for kind in TOKENIZER_KINDS:
        if not kind.applies(config):
            continue
        recorded = Path(record["dir"]) if record.get("dir") and record.get("kind") == kind.name else None
        for where in (folder, recorded):
            if where is not None and all((where / name).is_file() for name in kind.files):
                return kind, where
    return None


def tokenizer_hint(directory: str | Path, config: BlockConfig) -> str:
    """How to give the checkpoint ``directory`` a tokenizer (the end of a one-line message)."""
    if is_marian(config):
        return f"copy the Hugging Face model's {', '.join(MARIAN_FILES)} into {directory}"
    if config.model_type() == "gpt":
        return (
            f"copy GPT-1's BPE files {' + '.join(GPT1_BPE_FILES)} (Hugging Face's vocab.json + merges.txt, "
            f"renamed) or the {TOKENIZER_FILE} the model was trained with into {directory}"
        )
    return f"copy the {TOKENIZER_FILE} the model was trained with into {directory}"


def _normalized(tokenizer: Any, record: dict[str, Any]) -> Any:
    """The tokenizer inside the Moses pipeline when the model was trained on lower-cased Moses-tokenised
    text (recorded in ``config.extra["tokenizer"]``; docs/design.md, "Tokenisation")."""
    from ..text.moses import MOSES_LOWERCASE, MosesNormalizedTokenizer

    if record.get("normalization") != MOSES_LOWERCASE:
        return tokenizer
    return MosesNormalizedTokenizer(tokenizer, record["src_lang"], record["tgt_lang"])


@dataclass(frozen=True)
class LoadedTokenizer:
    """A tokenizer with where it came from."""

    tokenizer: Any | None  # None: none found (a weights-only checkpoint)
    kind: str | None = None  # a TOKENIZER_KINDS name; None when given as an object or not found
    folder: Path | None = None  # where its files were read


def _given_tokenizer(given: str | Path, config: BlockConfig, record: dict[str, Any]) -> LoadedTokenizer:
    """``tokenizer=`` as a path: a ``tokenizer.json`` file, or a folder holding tokenizer files."""
    path = Path(given)
    if path.is_file():
        from ..text.bpe import TextTokenizer

        return LoadedTokenizer(_normalized(TextTokenizer.load(path), record), "bpe", path.parent)
    if not path.is_dir():
        raise FileNotFoundError(
            f"tokenizer {path} does not exist (give a {TOKENIZER_FILE} or a folder holding one)"
        )
    found = find_tokenizer(path, config)
    if found is None:
        wanted = [kind.description for kind in TOKENIZER_KINDS if kind.applies(config)]
        what = f"has no {wanted[0]}" if len(wanted) == 1 else f"holds neither {' nor '.join(wanted)}"
        raise TokenizerFolderError(f"tokenizer folder {path} {what}")
    kind, folder = found
    return LoadedTokenizer(_normalized(kind.load(folder, config, record), record), kind.name, folder)


def load_tokenizer(
    directory: str | Path,
    config: BlockConfig,
    task_config: dict[str, Any] | None = None,
    *,
    given: Any | str | Path | None = None,
    required: bool = True,
) -> LoadedTokenizer:
    """The tokenizer of the checkpoint ``directory`` (a model with ``config``) by its kind, or ``given``: a
    tokenizer object (used as it is), a ``tokenizer.json`` or a folder holding tokenizer files.  Without
    one: :class:`MissingTokenizerError` when ``required``, else an empty :class:`LoadedTokenizer`."""
    directory = Path(directory)
    record = tokenizer_record(config, task_config if task_config is not None else read_task_config(directory))
    if given is not None and not isinstance(given, (str, Path)):
        loaded = LoadedTokenizer(given)
    elif given is not None:
        loaded = _given_tokenizer(given, config, record)
    else:
        found = find_tokenizer(directory, config, record)
        if found is None:
            if required:
                recorded = (
                    f"; {TASK_FILE} names {record['dir']}, which lacks one" if record.get("dir") else ""
                )
                raise MissingTokenizerError(
                    f"{directory} has no tokenizer (weights only{recorded}), and text needs one: "
                    f"{tokenizer_hint(directory, config)} (ronbun.load() still opens it as a bare model that "
                    "works on token ids)"
                )
            return LoadedTokenizer(None)
        kind, folder = found
        loaded = LoadedTokenizer(_normalized(kind.load(folder, config, record), record), kind.name, folder)
    vocab = getattr(loaded.tokenizer, "vocab_size", 0)
    if vocab > config.vocab_size:  # type: ignore[attr-defined]
        raise CheckpointError(
            f"vocabulary mismatch in {directory}: the tokenizer has {vocab} tokens but the model's embedding "
            f"only {config.vocab_size}"  # type: ignore[attr-defined]
        )
    return loaded


# -- the one object --------------------------------------------------------------------------------------------
@dataclass
class Checkpoint:
    """An opened checkpoint: the model (eval mode) by its kind, and its tokenizer (``None``: weights only)."""

    path: Path  # the checkpoint directory (a run directory resolves to its newest intact checkpoint)
    kind: str  # a MODEL_KINDS name: "transformer", "gpt" or "gpt+head"
    config: BlockConfig
    model: nn.Module
    tokenizer: Any | None
    head: HeadSpec | None = None  # a fine-tuned GPT's task head
    task_config: dict[str, Any] = field(default_factory=dict)  # the training task's description
    tokenizer_kind: str | None = None  # a TOKENIZER_KINDS name
    tokenizer_dir: Path | None = None  # the folder the tokenizer's files were read from

    @property
    def gpt1_bpe_dir(self) -> Path | None:
        """The folder GPT-1's BPE files were read from (a run that continues from this checkpoint carries
        them into its own), ``None`` for every other tokenizer."""
        return self.tokenizer_dir if self.tokenizer_kind == "gpt1-bpe" else None


def load_checkpoint(
    path: str | Path,
    *,
    expect: str | None = None,
    device: str | torch.device = "cpu",
    tokenizer: Any | str | Path | None = None,
    require_tokenizer: bool = True,
) -> Checkpoint:
    """Open a checkpoint (or the newest one of a run directory): see the module docstring.

    ``expect`` names the model type (``"transformer"``, ``"gpt"``) or kind (``"gpt+head"``) the caller
    needs.  ``tokenizer`` replaces the checkpoint's own (see :func:`load_tokenizer`).  A checkpoint without a
    tokenizer raises :class:`MissingTokenizerError` when ``require_tokenizer`` (the command line: it fails
    before reading any input), else loads with ``tokenizer=None`` (``ronbun.load``: a bare model)."""
    directory = resolve_checkpoint(path)
    verify_checkpoint(directory)
    config, task_config = read_model_config(directory), read_task_config(directory)
    head = read_head(directory, task_config)
    kind = model_kind(config, head, directory)
    _check_kind(directory, kind, expect)
    tok = load_tokenizer(directory, config, task_config, given=tokenizer, required=require_tokenizer)
    model = model_from_tensors(config, head, read_weights(directory), directory / MODEL_FILE)
    return Checkpoint(
        directory, kind.name, config, model.to(device).eval(), tok.tokenizer, head, task_config, tok.kind,
        tok.folder,
    )  # fmt: skip
