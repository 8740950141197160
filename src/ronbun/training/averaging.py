"""Checkpoint averaging (Transformer §6.1: "averaging the last 5 checkpoints, which were written at
10-minute intervals" for base; the last 20 for big).

Streaming: one running float64 sum of the model's size, whatever ``k`` is; tensors are read one at a time
with ``safetensors.safe_open`` (:func:`~ronbun.training.checkpoint.open_weights`).  Integer tensors (none in ronbun's models, but in imported ones) are taken
from the newest checkpoint unchanged.
"""

from __future__ import annotations

from pathlib import Path

import torch

from .checkpoint import (
    GPT1_BPE_FILES,
    TASK_FILE,
    TOKENIZER_FILE,
    CheckpointError,
    model_from_tensors,
    open_weights,
    read_head,
    read_model_config,
    read_state,
    save_checkpoint,
    verify_checkpoint,
)

# files that describe how the model was made and how to use it travel with the average
CARRIED_FILES = (TASK_FILE, "train_config.json", "conversion.json", *GPT1_BPE_FILES)


def select_last(checkpoints: list[Path], k: int) -> list[Path]:
    """The newest ``k`` checkpoints (``checkpoints`` ordered oldest first)."""
    if k < 1:
        raise ValueError(f"number of checkpoints to average must be >= 1, got {k}")
    return checkpoints[-k:]


def select_by_interval(checkpoints: list[Path], k: int, minutes: float) -> list[Path]:
    """Up to ``k`` checkpoints, newest first, each written at least ``minutes`` of training time before the
    next selected one (the paper's "written at 10-minute intervals"); uses ``train_seconds`` of the state."""
    chosen: list[Path] = []
    last_time: float | None = None
    for path in reversed(checkpoints):
        t = float(read_state(path).get("train_seconds", 0.0))
        if last_time is None or last_time - t >= 60 * minutes - 1e-6:
            chosen.append(path)
            last_time = t
        if len(chosen) == k:
            break
    return list(reversed(chosen))


def checkpoint_step(path: Path) -> int:
    """The update count of a checkpoint directory named ``step_00001234``."""
    try:
        return int(path.name.rsplit("_", 1)[-1])
    except ValueError:
        raise ValueError(f"{path} is not a step_N checkpoint directory") from None


def select_by_steps(checkpoints: list[Path], k: int, every: int = 1, after: int = 0) -> list[Path]:
    """Up to ``k`` checkpoints, newest first, each at least ``every`` updates after the next selected one and
    all later than update ``after`` (e.g. the warm-up: weights still moving fast average badly).

    The update-count counterpart of :func:`select_by_interval`: the same run selects the same checkpoints on
    any machine, however fast it is.
    """
    if k < 1:
        raise ValueError(f"number of checkpoints to average must be >= 1, got {k}")
    if every < 1:
        raise ValueError(f"checkpoint spacing must be >= 1 update, got {every}")
    chosen: list[Path] = []
    last: int | None = None
    for path in reversed(checkpoints):
        step = checkpoint_step(path)
        if step <= after:
            break
        if last is None or last - step >= every:
            chosen.append(path)
            last = step
        if len(chosen) == k:
            break
    return list(reversed(chosen))


def average_checkpoints(paths: list[Path], out: str | Path) -> Path:
    """Write the element-wise mean of the models in ``paths`` as a new checkpoint directory ``out``."""
    if not paths:
        raise ValueError("no checkpoints to average")
    for p in paths:
        verify_checkpoint(p)
    configs = [read_model_config(p).to_dict() for p in paths]
    if any(c != configs[0] for c in configs[1:]):
        raise CheckpointError("cannot average checkpoints of different model configurations")
    total: dict[str, torch.Tensor] = {}
    dtypes: dict[str, torch.dtype] = {}
    for p in paths:
        with open_weights(p) as f:
            keys = set(f.keys())
            if total and keys != set(total):
                raise CheckpointError(f"{p} holds different tensors than {paths[0]}")
            for name in keys:
                t = f.get_tensor(name)
                dtypes[name] = t.dtype
                if not t.is_floating_point():
                    total[name] = t  # integer buffers: the newest wins
                elif name in total:
                    total[name] += t.double()
                else:
                    total[name] = t.double()
    averaged = {
        name: (t / len(paths)).to(dtypes[name]) if dtypes[name].is_floating_point else t
        for name, t in total.items()
    }
    newest = paths[-1]
    out = Path(out)
    model = model_from_tensors(
        read_model_config(newest), read_head(newest), averaged, f"the average of {newest}"
    )
    tokenizer = newest / TOKENIZER_FILE
    carried = {n: newest / n for n in CARRIED_FILES if (newest / n).is_file()}
    save_checkpoint(
        out,
        model,
        tokenizer_file=tokenizer if tokenizer.is_file() else None,
        extra_files=carried,
        trainer_state={
            "averaged_from": [str(p) for p in paths],
            "step": read_state(newest).get("step"),
        },
    )
    return out
