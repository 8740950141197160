"""One checkpoint format for both papers: a directory.

    ckpt/
      config.json          model config (model_type, config_version, every setting)
      model.safetensors    weights (tied matrices stored once)
      tokenizer.json       the tokenizer (Hugging Face ``tokenizers`` JSON), when there is one
      trainer_state.json   step, epoch, data position, RNG states, metrics; sha256 + size of every file
      optimizer.safetensors  optimiser + scheduler tensors (training checkpoints only)
      train_config.json    the resolved training configuration (re-run from the directory alone)

Writes are atomic: everything goes to ``<name>.tmp-<pid>``, files are fsynced, the directory is renamed into
place and its parent fsynced.  Loading never executes code: safetensors for tensors, JSON for the rest.
A torn or corrupted checkpoint is detected by the sizes and hashes recorded in ``trainer_state.json``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from ..models.config import BlockConfig, ConfigError, TransformerConfig
from ..models.decoder_only import GPT, GPTConfig
from ..models.transformer import Transformer

MODEL_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
STATE_FILE = "trainer_state.json"
TOKENIZER_FILE = "tokenizer.json"
MANIFEST_KEY = "files"

CONFIG_CLASSES: dict[str, type[BlockConfig]] = {"transformer": TransformerConfig, "gpt": GPTConfig}
MODEL_CLASSES: dict[str, Callable[[Any], nn.Module]] = {"transformer": Transformer, "gpt": GPT}


class CheckpointError(ValueError):
    """A checkpoint that cannot be used: missing, torn, corrupted, or of the wrong kind (names the path)."""


class MissingTokenizerError(CheckpointError):
    """A checkpoint that holds weights but no tokenizer (e.g. converted from a weights-only folder).

    It is legitimate: ``ronbun.load`` opens it as a bare model that works on token ids.  This error is raised
    where text has to be turned into ids or back (the message says how to provide a tokenizer).
    """

    @classmethod
    def for_model(
        cls, what: str, model: str, directory: Path | None, hint: Callable[[Any], str], id_methods: str
    ) -> MissingTokenizerError:
        """The one message every bare model gives: what needs text, how to add a tokenizer (``hint`` of the
        directory), and which id methods work without one."""
        where = directory if directory is not None else "the checkpoint directory"
        origin = f" ({directory} holds weights only)" if directory is not None else ""
        return cls(
            f"{what} needs a tokenizer and this {model} has none{origin}: {hint(where)}, or pass tokenizer= "
            f"to ronbun.load(); without one use {id_methods}"
        )


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


def read_model_config(directory: str | Path) -> BlockConfig:
    path = Path(directory) / CONFIG_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CheckpointError(f"{directory} is not a ronbun checkpoint: {CONFIG_FILE} is missing") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{path} is not valid JSON ({exc})") from None
    model_type = data.get("model_type")
    if model_type not in CONFIG_CLASSES:
        raise CheckpointError(
            f"{path}: unknown model_type {model_type!r} (expected one of {sorted(CONFIG_CLASSES)})"
        )
    try:
        return CONFIG_CLASSES[model_type].from_dict(data)
    except (ConfigError, TypeError) as exc:
        raise CheckpointError(f"{path}: {exc}") from None


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


def load_model(
    directory: str | Path,
    *,
    expect: str | None = None,
    verify: bool = True,
    device: str | torch.device = "cpu",
) -> nn.Module:
    """Build the model described by ``config.json`` and load ``model.safetensors`` into it (eval mode)."""
    directory = Path(directory)
    if verify:
        verify_checkpoint(directory)
    config = read_model_config(directory)
    if expect is not None and config.model_type() != expect:
        raise CheckpointError(
            f"{directory} holds a {config.model_type()!r} model, but this command needs a {expect!r} model"
        )
    model = MODEL_CLASSES[config.model_type()](config)
    tensors = load_tensors(directory / MODEL_FILE)
    expected = unique_state_dict(model)
    task_config = directory / "task_config.json"
    if task_config.is_file() and "head" in json.loads(task_config.read_text(encoding="utf-8")):
        # a fine-tuned GPT: the task head (head.*) is read by ronbun.gpt.finetune, the body here
        tensors = {k: v for k, v in tensors.items() if not k.startswith("head.")}
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    if missing or unexpected:
        raise CheckpointError(
            f"{directory / MODEL_FILE} does not match its config: missing {missing[:5]}, unexpected {unexpected[:5]}"
        )
    for name, tensor in tensors.items():
        if tensor.shape != expected[name].shape:
            raise CheckpointError(
                f"{directory / MODEL_FILE}: {name} has shape {tuple(tensor.shape)}, "
                f"config expects {tuple(expected[name].shape)}"
            )
    model.load_state_dict(tensors, strict=False)
    return model.to(device).eval()
