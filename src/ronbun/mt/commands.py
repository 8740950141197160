"""Paper 1's workflows, one function per ``ronbun mt`` command: train a translator (§5), translate with it
(§6.1 decoding) and average a run's last checkpoints (§6.1).  Evaluation is :mod:`ronbun.mt.evaluate`.

Each takes plain values (no argparse), so the library and the command line run the same code.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from ..settings import RunSettings, setting

__all__ = [
    "AveragingConfig",
    "DecodingConfig",
    "average_run",
    "load_translator",
    "read_input",
    "train",
    "translate_lines",
]

Log = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class DecodingConfig:
    """How a translator decodes (the options of ``ronbun mt translate`` and ``ronbun mt evaluate``)."""

    beam: int = setting(4, "beam size (1 = greedy)", paper="§6.1")
    alpha: float = setting(0.6, "GNMT length penalty α", paper="§6.1")
    batch_size: int = setting(64, "sentences per batch")
    max_len_b: int = setting(50, "max output length = input length + this", paper="§6.1")
    precision: Literal["fp32", "bf16", "int8"] = setting(
        "fp32", "arithmetic: fp32, bf16 weights, or int8 dynamic quantisation of the Linear layers"
    )
    threads: int | None = setting(None, "CPU threads for decoding (default: PyTorch's choice)")
    streams: int = setting(
        1, "batches decoded side by side, sharing the threads (faster for files; the same output)"
    )
    device: str = setting(
        "cpu", "where decoding runs: cpu, cuda, cuda:N, or auto (the GPU when there is one)"
    )

    def search(self) -> dict[str, Any]:
        """The keyword arguments of :meth:`Translator.translate` / :meth:`Translator.stream`."""
        return {k: v for k, v in asdict(self).items() if k not in ("threads", "device")}


def train(run: RunSettings, *, resume: bool = False, log: Log = _stderr) -> dict[str, Any] | None:
    """Train a translator (§5) from a run's resolved sections (``[data]``, ``[model]`` overrides of the
    preset, ``small`` by default, ``[trainer]``); the run directory gets ``run_config.json``.  Returns the
    loop's result on rank 0 (and ``None`` on the other ranks of a distributed run)."""
    from ..data.registry import list_datasets
    from ..models import TransformerConfig
    from ..training.checkpoint import ensure_output_dir
    from ..training.distributed import init_from_env, shutdown
    from ..training.loop import Trainer, TrainerConfig
    from .task import MTDataConfig, TranslationTask

    preset, data, model = run.preset or "small", dict(run.data), run.model
    if any(k in data for k in ("train_src", "train_tgt")) and "dataset" not in data:
        data["dataset"] = None
    tcfg = TrainerConfig.from_dict({"out_dir": "runs/mt", **run.trainer})
    dcfg = MTDataConfig.from_dict(data)
    # check everything cheap before any data is read or a tokenizer trained
    TransformerConfig.preset(preset, **{"vocab_size": 32000, **model})
    if dcfg.dataset is not None and dcfg.train_src is None and dcfg.dataset not in list_datasets():
        raise ValueError(f"unknown dataset {dcfg.dataset!r}; available: {', '.join(list_datasets())}")
    rank, _world, _device = init_from_env()
    out = ensure_output_dir(tcfg.out_dir)
    resolved = {"preset": preset, "data": data, "model": model, "trainer": tcfg.to_dict()}
    if rank == 0:
        (out / "run_config.json").write_text(json.dumps(resolved, indent=2) + "\n", encoding="utf-8")
    task = TranslationTask(dcfg, out_dir=out, seed=tcfg.seed, preset=preset, model_overrides=model, log=log)
    n = sum(p.numel() for p in task.model.parameters())
    log(
        f"model: {preset} Transformer, {n:,} parameters; vocabulary {task.tokenizer.vocab_size}; "
        f"{len(task.train_index):,} training pairs"
    )
    try:
        result = Trainer(task, tcfg, resume=resume).fit()
    finally:
        shutdown()
    return result if rank == 0 else None


def load_translator(path: Path | Sequence[Path], threads: int | None = None, device: str = "cpu"):
    """The :class:`~ronbun.mt.translator.Translator` of a checkpoint (several: their ensemble,
    :meth:`~ronbun.mt.translator.Translator.from_checkpoints`), decoding on ``device`` (``auto``: the GPU when
    there is one) with ``threads`` CPU threads."""
    import torch

    from .translator import Translator

    if threads is not None:
        if threads < 1:
            raise ValueError(f"--threads must be >= 1, got {threads}")
        torch.set_num_threads(threads)
    paths = [path] if isinstance(path, Path) else list(path)
    for p in paths:
        if not p.exists():
            raise FileNotFoundError(f"checkpoint {p} does not exist")
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    elif not re.fullmatch(r"cpu|cuda(:\d+)?", device):
        raise ValueError(f"--device must be cpu, cuda, cuda:N or auto, got {device!r}")
    elif device != "cpu" and not torch.cuda.is_available():
        raise ValueError(f"--device {device}: this machine has no CUDA GPU (use cpu or auto)")
    return Translator.from_checkpoints(paths, device)


def read_input(path: Path | None) -> list[str]:
    """The lines of ``path`` (stdin when ``None``), with a clear error for text that is not UTF-8."""
    if path is None:
        data, name = sys.stdin.buffer.read(), "<stdin>"
    else:
        data, name = path.read_bytes(), str(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ValueError(f"{name}: line {line} is not valid UTF-8 (byte {exc.start})") from None
    return text.splitlines()


def translate_lines(
    checkpoint: Path | Sequence[Path],
    source: Path | None,
    decoding: DecodingConfig,
    output: Path | None = None,
) -> Iterator[str]:
    """Translate the lines of ``source`` (stdin when ``None``) in input order, yielding each translation.

    The checkpoint is opened before the input is read, so a wrong checkpoint is said before waiting on
    stdin.  With ``output`` the translations also go to that file, written next to it and renamed at the
    end: a failure never leaves half a file behind.
    """
    translator = load_translator(checkpoint, decoding.threads, decoding.device)
    lines = read_input(source)
    if not lines:
        raise ValueError(f"no input: {source or 'stdin'} is empty (one sentence per line)")
    outputs = translator.stream(lines, **decoding.search())
    if output is None:
        yield from outputs
        return
    tmp = output.with_name(f".{output.name}.partial")
    try:
        with tmp.open("w", encoding="utf-8") as f:
            for line in outputs:
                f.write(line + "\n")
                yield line
        tmp.replace(output)
    finally:
        tmp.unlink(missing_ok=True)


@dataclass
class AveragingConfig:
    """Which checkpoints ``ronbun mt average`` averages (§6.1: the last 5 for base, 20 for big, written at
    10-minute intervals) and where the average goes."""

    out: Path = setting(help="output checkpoint directory")
    last: int = setting(5, "how many checkpoints", paper="§6.1")
    every_updates: int | None = setting(
        None, "select checkpoints at least this many updates apart (default: any)"
    )
    after: int = setting(0, "only checkpoints later than this update (e.g. the warm-up)")
    every_minutes: float | None = setting(
        None, "select checkpoints written this many minutes of training apart", paper="§6.1"
    )


def average_run(runs: Iterable[Path], cfg: AveragingConfig) -> tuple[list[Path], Path]:
    """Average the chosen checkpoints of a run directory (or of the checkpoint directories given); returns
    ``(chosen, output directory)``."""
    from ..training.averaging import average_checkpoints, select_by_interval, select_by_steps, select_last
    from ..training.checkpoint import list_checkpoints

    runs = list(runs)
    missing = [p for p in runs if not p.exists()]
    if missing:
        raise ValueError(f"{missing[0]} does not exist: no checkpoints to average")
    single_run = len(runs) == 1 and (runs[0] / "checkpoints").is_dir()
    candidates = list_checkpoints(runs[0]) if single_run else runs
    if not candidates:
        raise ValueError(f"no checkpoints found in {runs[0]}")
    if cfg.every_minutes:
        chosen = select_by_interval(candidates, cfg.last, cfg.every_minutes)
    elif cfg.every_updates or cfg.after:
        chosen = select_by_steps(candidates, cfg.last, cfg.every_updates or 1, cfg.after)
    else:
        chosen = select_last(candidates, cfg.last)
    if not chosen:
        raise ValueError(f"no checkpoint after update {cfg.after} to average")
    return chosen, average_checkpoints(chosen, cfg.out)
