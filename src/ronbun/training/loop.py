"""The one training loop both papers use.

A :class:`Task` (translation, LM pre-training, fine-tuning) supplies deterministic batches, a loss and an
evaluation; the :class:`Trainer` owns everything else: gradient accumulation over a token count, the
learning-rate schedule, mixed precision, clipping, non-finite-loss handling, progress bar, metrics log,
atomic checkpoints with exact resume (optimiser, RNG, data position), SIGINT/SIGTERM, and DDP under torchrun.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import random
import shutil
import signal
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
import torch
import torch.distributed as dist
from torch import Tensor, nn

from ..evaluation.provenance import cpu_has_bf16
from ..settings import from_mapping, setting
from .checkpoint import (
    CHECKPOINT_PREFIX,
    CHECKPOINTS_DIR,
    TASK_FILE,
    ensure_output_dir,
    latest_intact_checkpoint,
    list_checkpoints,
    load_tensors,
    read_state,
    read_weights,
    save_checkpoint,
)
from .optim import make_optimizer
from .schedules import make_schedule


class TrainingError(RuntimeError):
    """Training cannot start or continue (unwritable output, non-finite loss, ...)."""


@dataclass
class TrainerConfig:
    """Settings of the loop itself (model and data settings live with the task): the ``[trainer]`` section
    of a run's config file and the "training" options of every training command."""

    out_dir: str = setting("runs/default", "output directory for checkpoints and metrics", flag="--out")
    max_steps: int = setting(1000, "optimizer updates to run (the budget: machine-independent)")
    max_minutes: float | None = setting(
        None, "safety cap only: stop (with a checkpoint) after this many minutes of training"
    )
    schedule: Literal["noam", "cosine", "linear", "constant"] = setting(
        "noam", "learning-rate schedule: noam (Eq. 3), cosine, linear or constant", paper="§5.3"
    )
    lr: float = setting(1.0, "noam: scale factor of Eq. 3 (paper 1.0); others: peak learning rate")
    warmup: int = setting(4000, "warm-up updates", paper="§5.3, Eq. 3")
    schedule_total: int | None = setting(
        None, "cosine/linear: update at which the learning rate reaches 0 (default max_steps)", cli=False
    )
    betas: tuple[float, float] = setting((0.9, 0.98), "Adam β1, β2", paper="§5.3", cli=False)
    eps: float = setting(1e-9, "Adam ε", paper="§5.3", cli=False)
    weight_decay: float = setting(0.0, "decoupled weight decay on matrices (GPT-1: 0.01)")
    clip_norm: float | None = setting(None, "clip the gradient norm to this value")
    accum_steps: int = setting(
        1, "micro-batches accumulated per update (reach the paper's batch on small hardware)"
    )
    seed: int = setting(0, "random seed")
    precision: Literal["auto", "fp32", "bf16", "fp16"] = setting(
        "auto", "auto: bf16 autocast where the hardware computes bf16 natively, else fp32"
    )
    compile: bool = setting(False, "torch.compile the model (opt-in)")
    log_every: int = setting(20, "log training metrics every N updates")
    eval_every: int = setting(500, "validate every N updates")
    save_every: int = setting(500, "checkpoint every N updates")
    save_every_minutes: float | None = setting(
        None, "also checkpoint every N minutes of training (the paper: 10)", paper="§6.1"
    )
    keep_last: int = setting(5, "keep only the newest N checkpoints (0 = keep every checkpoint)")
    nonfinite: Literal["skip", "stop"] = setting("stop", "on a non-finite loss: stop, or skip the update")
    max_nonfinite: int = setting(20, "non-finite losses tolerated under nonfinite = skip", cli=False)
    progress: bool = setting(True, "live progress bar", flag="--no-progress")
    threads: int | None = setting(None, "torch CPU threads")
    device: str = setting("auto", "auto = the rank's GPU under torchrun/CUDA, else CPU", cli=False)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainerConfig:
        data = dict(data)
        if "betas" in data:
            data["betas"] = tuple(data["betas"])
        return from_mapping(cls, data, "trainer")


class Task(Protocol):
    """What a paper's training job must provide to the loop."""

    model: nn.Module
    tokenizer_file: Path | None

    def epoch_batches(self, epoch: int) -> Sequence[Any]:
        """The (global) batches of one epoch, deterministic in (seed, epoch)."""

    def collate(self, batch: Any, rank: int, world: int) -> dict[str, Tensor]:
        """Tensors of this rank's shard of ``batch``; must include ``n_tokens`` (a 0-d count: what the loss is
        normalised by) and may include ``n_input_tokens`` (the tokens processed, for throughput, when the loss
        is normalised by something else, e.g. examples)."""

    def loss(self, model: nn.Module, tensors: dict[str, Tensor]) -> tuple[Tensor, Tensor]:
        """``(loss summed over tokens, n_tokens)`` of one micro-batch."""

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        """Validation metrics (``valid_loss``, ``valid_ppl``, ``valid_bleu`` …)."""

    def describe(self) -> dict[str, Any]:
        """The task's resolved configuration (saved as ``task_config.json``)."""


def resolve_precision(precision: str, device: torch.device) -> str:
    """``auto`` = bf16 autocast where the hardware computes bf16 natively, else fp32.

    Measured on the 2-core AVX-512-BF16 CPU this project develops on (small preset, docs/performance.md):
    bf16 autocast trains 1.4x faster per step than fp32 (loss curves within 2.3% over 300 steps), so it is on there;
    on CPUs without native bf16 it would be slower, so ``auto`` stays fp32.  GPUs: bf16 when supported.
    """
    if precision != "auto":
        return precision
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return "bf16" if device.type == "cpu" and cpu_has_bf16() else "fp32"


def expected_total_steps(
    step: int, max_steps: int, max_minutes: float | None, train_seconds: float, seconds_per_update: float
) -> int:
    """The update count the run will actually reach: ``max_steps``, or fewer when the ``max_minutes`` cap
    binds first at the measured pace (``train_seconds`` spent so far, ``seconds_per_update`` lately; 0 =
    not measured yet).

    This is the progress bar's total, so its ETA is the time to whichever budget ends the run first.
    """
    if max_minutes is None or seconds_per_update <= 0:
        return max_steps
    remaining = max(0.0, 60 * max_minutes - train_seconds)
    by_time = step + math.ceil(remaining / seconds_per_update)
    return max(step, min(max_steps, by_time))


def stop_message(result: dict[str, Any], max_steps: int, max_minutes: float | None) -> str:
    """One line saying why training stopped; the time cap firing is said loudly because the model then
    depends on the machine's speed, not on the recipe."""
    step, reason = result["step"], result["stop_reason"]
    minutes = result["train_seconds"] / 60
    if reason == "max_minutes":
        return (
            f"stopped by the --max-minutes {max_minutes:g} safety cap after {step:,} of {max_steps:,} updates "
            f"({minutes:.1f} min): this model depends on the machine's speed; raise the cap to train the full "
            f"budget"
        )
    if reason == "max_steps":
        return f"trained the full budget of {step:,} updates in {minutes:.1f} min"
    return f"stopped by {reason} after {step:,} of {max_steps:,} updates ({minutes:.1f} min)"


def _dist_info() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def _optimizer_tensors(opt: torch.optim.Optimizer) -> tuple[dict[str, Tensor], list[dict[str, Any]]]:
    sd = opt.state_dict()
    tensors = {
        f"state.{idx}.{key}": (value if isinstance(value, Tensor) else torch.tensor(value))
        for idx, st in sd["state"].items()
        for key, value in st.items()
    }
    return tensors, sd["param_groups"]


def _load_optimizer(opt: torch.optim.Optimizer, tensors: dict[str, Tensor], groups: list[dict]) -> None:
    state: dict[int, dict[str, Tensor]] = {}
    for name, value in tensors.items():
        _, idx, key = name.split(".", 2)
        state.setdefault(int(idx), {})[key] = value
    for g in groups:
        if "betas" in g:
            g["betas"] = tuple(g["betas"])
    opt.load_state_dict({"state": state, "param_groups": groups})


@dataclass
class _Window:
    """The steps since the last ``train`` line of the log (``log_every`` steps): their losses, tokens and
    training time."""

    losses: list[float] = dataclasses.field(default_factory=list)
    tokens: int = 0
    seconds: float = 0.0

    def add(self, loss: float, tokens: int, seconds: float) -> None:
        self.losses.append(loss)
        self.tokens += tokens
        self.seconds += seconds

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / max(self.seconds, 1e-9)


class Trainer:
    """Runs a :class:`Task` with the paper's optimiser and schedule; see the module docstring."""

    def __init__(self, task: Task, config: TrainerConfig, *, resume: bool = False, log=None) -> None:
        self.task, self.config = task, config
        self.rank, self.world = _dist_info()
        self.is_main = self.rank == 0
        self.out = Path(config.out_dir)
        self._log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
        self._stop_signal: str | None = None
        if config.threads:
            torch.set_num_threads(config.threads)
        self._preflight()
        if config.device == "auto":
            if self.world > 1 and torch.cuda.is_available():
                self.device = torch.device("cuda", torch.cuda.current_device())
            else:
                self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        else:
            self.device = torch.device(config.device)
        self.precision = resolve_precision(config.precision, self.device)
        if self.precision == "fp16" and self.device.type != "cuda":
            raise TrainingError("precision fp16 needs a GPU (use bf16 on CPU)")
        self.model = task.model.to(self.device)
        self.scaler = torch.amp.GradScaler("cuda") if self.precision == "fp16" else None
        d_model = getattr(self.model.config, "d_model", 512)
        self.optimizer = make_optimizer(
            self.model, lr=0.0, betas=config.betas, eps=config.eps, weight_decay=config.weight_decay
        )
        total = config.schedule_total or config.max_steps
        self.lr_at = make_schedule(
            config.schedule, d_model=d_model, lr=config.lr, warmup=config.warmup, total=total
        )
        self.step = 0
        self.epoch = 0
        self.batch_index = 0
        self.tokens_seen = 0
        self.train_seconds = 0.0
        self.nonfinite_count = 0
        self.last_save_time = 0.0
        self._seed_everything(config.seed)
        if resume:
            self._resume()
        self.train_model: nn.Module = self.model
        if self.world > 1:
            from torch.nn.parallel import DistributedDataParallel

            self.train_model = DistributedDataParallel(
                self.model, device_ids=[self.device.index] if self.device.type == "cuda" else None
            )
        if config.compile:
            self.train_model = torch.compile(self.train_model)  # type: ignore[assignment]

    # -- setup ------------------------------------------------------------------------------------------
    def _log_main(self, msg: str) -> None:
        if self.is_main:
            self._log(msg)

    def _preflight(self) -> None:
        """Fail before training if checkpoints could not be written (unwritable or full disk)."""
        if not self.is_main:
            return
        try:
            ensure_output_dir(self.out)
        except PermissionError as exc:
            raise TrainingError(str(exc)) from None
        n_params = sum(p.numel() for p in self.task.model.parameters())
        need = n_params * 4 * 3 * 2  # weights + two Adam moments, twice (old + new checkpoint)
        free = shutil.disk_usage(self.out).free
        if free < need:
            raise TrainingError(
                f"not enough disk space in {self.out}: {free / 2**20:.0f} MiB free, checkpoints need "
                f"about {need / 2**20:.0f} MiB"
            )

    def _seed_everything(self, seed: int) -> None:
        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed + self.rank)

    def _resume(self) -> None:
        path = latest_intact_checkpoint(self.out, self._log_main)
        if path is None:
            self._log_main(
                f"--resume: no intact checkpoint in {self.out / 'checkpoints'}; starting from scratch"
            )
            return
        state = read_state(path)
        weights = read_weights(path)
        self.model.load_state_dict(weights, strict=False)
        _load_optimizer(
            self.optimizer, load_tensors(path / "optimizer.safetensors"), state["optimizer_param_groups"]
        )
        rng = load_tensors(path / "rng.safetensors")
        torch.set_rng_state(rng[f"torch.{self.rank}"] if f"torch.{self.rank}" in rng else rng["torch.0"])
        random.setstate((state["rng_python"][0], tuple(state["rng_python"][1]), state["rng_python"][2]))
        np_state = state["rng_numpy"]
        np.random.set_state((np_state[0], np.array(np_state[1], dtype=np.uint32), *np_state[2:]))
        for key in ("step", "epoch", "batch_index", "tokens_seen", "train_seconds", "nonfinite_count"):
            setattr(self, key, state[key])
        if self.is_main:
            self._forget_metrics_after(self.step)
        self._log_main(
            f"resumed from {path} (step {self.step}, epoch {self.epoch}, batch {self.batch_index})"
        )

    # -- checkpoints ------------------------------------------------------------------------------------
    def save(self) -> Path | None:
        if not self.is_main:
            return None
        opt_tensors, groups = _optimizer_tensors(self.optimizer)
        py_state = random.getstate()
        np_state = np.random.get_state()
        state = {
            "step": self.step,
            "epoch": self.epoch,
            "batch_index": self.batch_index,
            "tokens_seen": self.tokens_seen,
            "train_seconds": self.train_seconds,
            "nonfinite_count": self.nonfinite_count,
            "saved_at": time.time(),
            "optimizer_param_groups": groups,
            "rng_python": [py_state[0], list(py_state[1]), py_state[2]],
            "rng_numpy": [
                np_state[0],
                np_state[1].tolist(),
                *[int(x) if i < 2 else float(x) for i, x in enumerate(np_state[2:])],
            ],
        }
        path = self.out / CHECKPOINTS_DIR / f"{CHECKPOINT_PREFIX}{self.step:08d}"
        save_checkpoint(
            path,
            self.model,
            tokenizer_file=self.task.tokenizer_file,
            trainer_state=state,
            extra_tensors={
                "optimizer.safetensors": opt_tensors,
                "rng.safetensors": {"torch.0": torch.get_rng_state()},
            },
            extra_json={"train_config.json": self.config.to_dict(), TASK_FILE: self.task.describe()},
            extra_files=getattr(self.task, "extra_checkpoint_files", dict)(),
        )
        self.last_save_time = self.train_seconds
        if self.config.keep_last > 0:  # 0 keeps them all (e.g. for zero-shot curves over pre-training)
            for old in list_checkpoints(self.out)[: -self.config.keep_last]:
                shutil.rmtree(old, ignore_errors=True)
        return path

    # -- metrics ----------------------------------------------------------------------------------------
    def _forget_metrics_after(self, step: int) -> None:
        """Drop the ``metrics.jsonl`` records an interrupted run wrote after its last checkpoint: the resumed
        run writes them again, so the log holds each step once, in order (rewritten atomically)."""
        path = self.out / "metrics.jsonl"
        if not path.exists():
            return
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        kept = [line for line in lines if not line.strip() or json.loads(line).get("step", 0) <= step]
        if len(kept) == len(lines):
            return
        tmp = path.with_suffix(".jsonl.tmp")
        tmp.write_text("".join(kept), encoding="utf-8")
        tmp.replace(path)
        self._log_main(
            f"--resume: dropped {len(lines) - len(kept)} metrics records written after step {step}"
        )

    def _last_validation(self) -> dict[str, float]:
        """The last validation record of ``metrics.jsonl`` (its metrics only), or ``{}``."""
        path = self.out / "metrics.jsonl"
        records = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        valid = [r for r in map(json.loads, filter(str.strip, records)) if r.get("split") == "valid"]
        return {k: v for k, v in valid[-1].items() if k not in ("step", "split")} if valid else {}

    def log_metrics(self, record: dict[str, Any]) -> None:
        """Append to ``metrics.jsonl`` (and TensorBoard event files when ``tensorboard`` is installed)."""
        if not self.is_main:
            return
        with (self.out / "metrics.jsonl").open("a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
        writer = self._tensorboard()
        if writer is not None:
            for key, value in record.items():
                if key not in ("step", "split", "epoch") and isinstance(value, int | float):
                    writer.add_scalar(f"{record.get('split', 'train')}/{key}", value, record["step"])
            writer.flush()

    def _tensorboard(self):
        if not hasattr(self, "_tb"):
            try:
                from torch.utils.tensorboard import SummaryWriter

                self._tb = SummaryWriter(str(self.out / "tensorboard"))
            except ImportError:  # tensorboard is optional
                self._tb = None
        return self._tb

    # -- the loop ---------------------------------------------------------------------------------------
    def _micro_batches(self) -> Iterator[Any]:
        """Batches from the saved data position onwards, epoch after epoch."""
        while True:
            batches = self.task.epoch_batches(self.epoch)
            if not batches:
                raise TrainingError("the training data produced no batches (is the corpus empty?)")
            while self.batch_index < len(batches):
                batch = batches[self.batch_index]
                self.batch_index += 1
                yield batch
            self.epoch += 1
            self.batch_index = 0

    def _autocast(self):
        if self.precision == "fp32":
            return contextlib.nullcontext()
        device = next(self.model.parameters()).device.type
        dtype = torch.bfloat16 if self.precision == "bf16" else torch.float16
        return torch.autocast(device_type=device, dtype=dtype)

    def _install_signal_handlers(self) -> dict:
        def handler(signum, _frame):
            self._stop_signal = signal.Signals(signum).name

        previous = {}
        with contextlib.suppress(ValueError):  # not in the main thread: leave handlers alone
            for sig in (signal.SIGINT, signal.SIGTERM):
                previous[sig] = signal.signal(sig, handler)
        return previous

    def train_step(self, micro: list[dict[str, Tensor]]) -> tuple[float, int]:
        """One optimiser update over ``micro`` batches; the loss is normalised by the total token count."""
        micro = [{k: v.to(self.device, non_blocking=True) for k, v in m.items()} for m in micro]
        n_total = torch.stack([m["n_tokens"] for m in micro]).sum().float()
        if self.world > 1:
            dist.all_reduce(n_total)
        scale = self.world / n_total.clamp(min=1)  # DDP averages gradients over ranks
        loss_total = torch.zeros(())
        self.model.train()
        for i, tensors in enumerate(micro):
            sync = i == len(micro) - 1 or self.world == 1
            ctx = contextlib.nullcontext() if sync else self.train_model.no_sync()  # type: ignore[operator]
            with ctx, self._autocast():
                loss_sum, _ = self.task.loss(self.train_model, tensors)
            scaled = loss_sum * scale
            (self.scaler.scale(scaled) if self.scaler is not None else scaled).backward()
            loss_total += loss_sum.detach().float().cpu()
        if self.world > 1:
            loss_total = loss_total.to(self.device)
            dist.all_reduce(loss_total)
            loss_total = loss_total.cpu()
        if self.scaler is not None:
            self.scaler.unscale_(self.optimizer)
        max_norm = self.config.clip_norm if self.config.clip_norm is not None else float("inf")
        grad_norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), max_norm)
        loss_value = float(loss_total / n_total.cpu().clamp(min=1))
        if not (math.isfinite(loss_value) and math.isfinite(float(grad_norm))):
            self.optimizer.zero_grad(set_to_none=True)
            if self.scaler is not None:  # fp16 overflow: the scaler lowers its scale and we skip the step
                self.scaler.update()
                return loss_value, int(n_total)
            self.nonfinite_count += 1
            message = f"non-finite loss/gradient at step {self.step + 1} (loss={loss_value}, grad norm={float(grad_norm)})"
            if self.config.nonfinite == "stop" or self.nonfinite_count > self.config.max_nonfinite:
                raise TrainingError(
                    message + "; stopped without updating the weights (last checkpoint is intact)"
                )
            self._log_main(message + f"; step skipped ({self.nonfinite_count} so far)")
            return loss_value, int(n_total)
        self.step += 1
        lr = self.lr_at(self.step)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        if self.scaler is not None:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        return loss_value, int(n_total)

    def evaluate(self) -> dict[str, float]:
        if not self.is_main:
            return {}
        self.model.eval()
        with torch.no_grad(), self._autocast():
            metrics = self.task.evaluate(self.model)
        self.log_metrics({"step": self.step, "split": "valid", **metrics})
        return metrics

    def fit(self) -> dict[str, Any]:
        """Train until ``max_steps`` / ``max_minutes`` / a signal; returns a summary."""
        cfg = self.config
        previous = self._install_signal_handlers()
        bar = self._progress_bar()
        batches = self._micro_batches()
        window = _Window()
        start = (self.step, self.train_seconds)
        stop_reason = "max_steps"
        metrics: dict[str, float] = {}
        try:
            while self.step < cfg.max_steps:
                t0 = time.perf_counter()
                micro = [
                    self.task.collate(next(batches), self.rank, self.world) for _ in range(cfg.accum_steps)
                ]
                loss, _ = self.train_step(micro)
                n_tok = sum(int(m.get("n_input_tokens", m["n_tokens"])) for m in micro)  # for tokens/s
                dt = time.perf_counter() - t0
                self.train_seconds += dt
                self.tokens_seen += n_tok
                window.add(loss, n_tok, dt)
                if bar is not None:
                    self._show_progress(bar, loss, window, start)
                if self.step % cfg.log_every == 0 and window.losses:
                    self._log_window(window)
                    window = _Window()
                if cfg.eval_every and self.step % cfg.eval_every == 0:
                    metrics = self.evaluate()
                    self._log_main(
                        f"step {self.step}: " + ", ".join(f"{k}={v:.4g}" for k, v in metrics.items())
                    )
                if self._save_due():
                    self.save()
                reason = self._stop_requested()
                if reason is not None:
                    stop_reason = reason
                    break
        finally:
            if bar is not None:
                bar.close()
            for sig, h in previous.items():
                signal.signal(sig, h)
        return self._finish(stop_reason, metrics, trained=self.step > start[0] or start[0] == 0)

    # -- the steps of fit ---------------------------------------------------------------------------------------
    def _progress_bar(self) -> Any:
        """A tqdm bar on stderr (main process with ``progress``), else ``None``."""
        if not (self.config.progress and self.is_main):
            return None
        from tqdm.auto import tqdm

        return tqdm(
            total=self.config.max_steps, initial=self.step, unit="step", dynamic_ncols=True, file=sys.stderr
        )

    def _show_progress(self, bar: Any, loss: float, window: _Window, start: tuple[int, float]) -> None:
        """Move the bar to this step; its total is re-estimated when ``max_minutes`` will stop training
        first.  ``start`` is ``(step, train_seconds)`` when this process began (a resumed run: resuming)."""
        cfg = self.config
        done = self.step - start[0]  # the pace of this process
        pace = (self.train_seconds - start[1]) / done if done else 0.0
        bar.total = expected_total_steps(self.step, cfg.max_steps, cfg.max_minutes, self.train_seconds, pace)
        bar.n = self.step
        bar.set_postfix(
            loss=f"{loss:.3f}",
            lr=f"{self.lr_at(max(self.step, 1)):.2e}",
            tok_s=f"{window.tokens_per_s:.0f}",
        )

    def _log_window(self, window: _Window) -> None:
        """One ``train`` line of ``metrics.jsonl``: the mean loss of the window and its throughput."""
        avg = sum(window.losses) / len(window.losses)
        self.log_metrics(
            {
                "step": self.step,
                "split": "train",
                "loss": avg,
                "ppl": math.exp(min(avg, 50)),
                "lr": self.lr_at(self.step),
                "tokens_per_s": window.tokens_per_s,
                "epoch": self.epoch,
                "train_seconds": self.train_seconds,
            }
        )

    def _save_due(self) -> bool:
        """A checkpoint is due every ``save_every`` steps and every ``save_every_minutes`` of training."""
        cfg = self.config
        due_time = (
            cfg.save_every_minutes and self.train_seconds - self.last_save_time >= 60 * cfg.save_every_minutes
        )
        return bool((cfg.save_every and self.step % cfg.save_every == 0) or due_time)

    def _stop_requested(self) -> str | None:
        """``"SIGINT"``/``"SIGTERM"`` after a signal, ``"max_minutes"`` when the time budget is spent."""
        if self._stop_signal is not None:
            return self._stop_signal
        if self.config.max_minutes is not None and self.train_seconds >= 60 * self.config.max_minutes:
            return "max_minutes"
        return None

    def _finish(self, stop_reason: str, metrics: dict[str, float], trained: bool = True) -> dict[str, Any]:
        """Checkpoint the last step (unless just saved), validate it (unless just evaluated, stopped by a
        signal, or a resumed run that had nothing left to train: its log already ends with that validation)
        and return the summary of the run."""
        cfg = self.config
        if not trained:
            self._log_main(f"--resume: the run had already trained its {self.step:,} updates; nothing to do")
            metrics = self._last_validation()
        existing = list_checkpoints(self.out)
        if not existing or existing[-1].name != f"{CHECKPOINT_PREFIX}{self.step:08d}":
            path = self.save()
        else:
            path = existing[-1]
        if stop_reason in ("SIGINT", "SIGTERM"):
            self._log_main(
                f"{stop_reason}: stopped after step {self.step}; checkpoint {path} written. "
                "Resume with the same command plus --resume."
            )
        elif trained and not (cfg.eval_every and self.step % cfg.eval_every == 0):
            metrics = self.evaluate()  # final validation unless this step was just evaluated
        result = {
            "step": self.step,
            "max_steps": cfg.max_steps,
            "stop_reason": stop_reason,
            "checkpoint": str(path),
            "metrics": metrics,
            "train_seconds": self.train_seconds,
            "tokens_seen": self.tokens_seen,
        }
        result["summary"] = stop_message(result, cfg.max_steps, cfg.max_minutes)
        self._log_main(result["summary"])
        return result
