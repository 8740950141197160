"""GPT-1's workflows, one function per ``ronbun gpt`` command: pre-train (§3.1, §4.1), fine-tune (§3.2,
§3.3), generate and run the §5 zero-shot heuristics.  Evaluation is :mod:`ronbun.gpt.evaluate`.

Each takes plain values (no argparse), so the library and the command line run the same code.  The
training functions apply GPT-1's §4.1 defaults under the settings they are given and save the resolved
configuration as ``run_config.json`` in the run directory.
"""

from __future__ import annotations

import dataclasses
import json
import math
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..settings import RunSettings, setting

__all__ = ["SamplingConfig", "ZeroShotConfig", "finetune", "generate", "pretrain", "zeroshot"]

Log = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _write_run_config(out: Path, resolved: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "run_config.json").write_text(json.dumps(resolved, indent=2, default=str) + "\n", encoding="utf-8")


def pretrain(
    run: RunSettings, *, init: str | None = None, resume: bool = False, log: Log = _stderr
) -> dict[str, Any]:
    """Pre-train GPT-1's language model (Eq. 1) from a run's resolved sections over the §4.1 defaults
    (preset ``tiny``, 1,000 updates; warm-up 2,000, capped at 10% of a shorter run), or continue
    pre-training the checkpoint ``init``."""
    from ..training.loop import Trainer, TrainerConfig
    from .pretrain import PRETRAIN_TRAINER_DEFAULTS, LMDataConfig, LMTask, default_warmup

    preset, data, model = run.preset or "tiny", dict(run.data), run.model
    if data.get("train_file") and "corpus" not in data:
        data["corpus"] = "file"
    trainer = {**PRETRAIN_TRAINER_DEFAULTS, "max_steps": 1000, **run.trainer}
    if "warmup" not in trainer:
        trainer["warmup"] = default_warmup(trainer["max_steps"])
        if trainer["warmup"] != 2000:
            log(
                f"warm-up: {trainer['warmup']} updates (the paper's 2000, capped at 10% of {trainer['max_steps']} steps)"
            )
    tcfg = TrainerConfig.from_dict(trainer)
    dcfg = LMDataConfig.from_dict(data)
    out = Path(tcfg.out_dir)
    _write_run_config(
        out, {"preset": preset, "data": data, "model": model, "trainer": tcfg.to_dict(), "init": init}
    )
    task = LMTask(dcfg, out_dir=out, seed=tcfg.seed, preset=preset, model_overrides=model, init=init, log=log)
    n = sum(p.numel() for p in task.model.parameters())
    c = task.model_config
    log(
        f"model: {'--init ' + init if init else preset} GPT, {c.n_layers} layers × d_model {c.d_model}, "
        f"n_ctx {c.n_ctx}, {n:,} parameters; vocabulary {task.tokenizer.vocab_size:,}; "
        f"{len(task.train_stream):,} training tokens; epoch = {task.windows_per_epoch:,} windows; "
        f"{dcfg.batch_size * tcfg.accum_steps} windows per update"
    )
    return Trainer(task, tcfg, resume=resume).fit()


def _finetune_trainer(trainer: dict[str, Any], task: Any) -> dict[str, Any]:
    """§4.1 fine-tuning defaults under ``trainer``: ``epochs`` worth of updates, warm-up over 0.2% of
    training, linear decay to 0, evaluation and a checkpoint every epoch."""
    from .finetune import FINETUNE_TRAINER_DEFAULTS

    trainer = {**FINETUNE_TRAINER_DEFAULTS, **trainer}
    accum = int(trainer.get("accum_steps", 1))
    per_epoch = max(1, math.ceil(task.batches_per_epoch / accum))
    trainer.setdefault("max_steps", task.total_updates(accum))
    trainer.setdefault("schedule_total", trainer["max_steps"])
    trainer.setdefault("warmup", max(1, math.ceil(0.002 * trainer["schedule_total"])))
    trainer.setdefault("eval_every", per_epoch)
    trainer.setdefault("save_every", per_epoch)
    trainer.setdefault("log_every", max(1, min(20, per_epoch)))
    return trainer


def _with_task_settings(run: RunSettings, log: Log) -> RunSettings:
    """``run`` with the settings its task's declaration chose on a holdout (:attr:`TaskSpec.finetune`) under
    the ones given: ``lr`` and ``max_steps`` (unless ``epochs`` or a ``limit`` on the training examples is
    given) in ``[trainer]``, ``clf_dropout`` in ``[data]``."""
    from .tasks import get_task

    try:
        chosen = dict(get_task(run.data["task"]).finetune)
    except KeyError:
        return run  # an unknown task: FineTuneTask reports it
    if not chosen:
        return run
    trainer = {k: chosen[k] for k in ("lr", "max_steps") if k in chosen}
    if (
        "epochs" in run.data or run.data.get("limit") is not None
    ):  # a budget for the whole training split only
        trainer.pop("max_steps", None)
    data = {k: chosen[k] for k in ("clf_dropout",) if k in chosen}
    used = {
        **{k: v for k, v in trainer.items() if k not in run.trainer},
        **{k: v for k, v in data.items() if k not in run.data},
    }
    if used:
        log(
            f"{run.data['task']}: "
            + ", ".join(f"{k} {v:g}" for k, v in used.items())
            + f" (the task's settings, chosen on a holdout: {chosen.get('chosen_by', 'see its declaration')})"
        )
    return dataclasses.replace(run, data={**data, **run.data}, trainer={**trainer, **run.trainer})


def finetune(run: RunSettings, *, resume: bool = False, log: Log = _stderr) -> dict[str, Any]:
    """Fine-tune a pre-trained GPT on a task (§3.2, §3.3) with L3 = L2 + λ·L1 (Eq. 5) from a run's resolved
    sections over the §4.1 defaults: ``[data]`` is a :class:`~ronbun.gpt.finetune.FineTuneConfig`,
    ``[model]`` applies to ``--from-scratch`` without ``init`` only."""
    from ..training.loop import Trainer, TrainerConfig
    from .finetune import FINETUNE_TRAINER_DEFAULTS, FineTuneConfig, FineTuneTask

    if "task" not in run.data:
        raise ValueError("give --task (e.g. sst2, cola, mrpc, rte, story_cloze)")
    run = _with_task_settings(run, log)
    fcfg, model, preset = FineTuneConfig.from_dict(run.data), run.model, run.preset or "tiny"
    out = Path(run.trainer.get("out_dir", FINETUNE_TRAINER_DEFAULTS["out_dir"]))
    seed = int(run.trainer.get("seed", 0))
    try:
        task = FineTuneTask(fcfg, out_dir=out, seed=seed, preset=preset, model_overrides=model, log=log)
    except KeyError as exc:  # unknown task name
        raise ValueError(str(exc.args[0]) if exc.args else str(exc)) from None
    tcfg = TrainerConfig.from_dict(_finetune_trainer(run.trainer, task))
    resolved = {"preset": preset, "data": dataclasses.asdict(fcfg), "model": model}
    _write_run_config(out, {**resolved, "trainer": tcfg.to_dict()})
    n = sum(p.numel() for p in task.model.parameters())
    source = (
        "random initialisation (no pre-training)" if fcfg.from_scratch else f"pre-trained {task.init_dir}"
    )
    if fcfg.n_transfer is not None and not fcfg.from_scratch:
        source += f", first {fcfg.n_transfer} layer(s) transferred"
    batch, examples = fcfg.batch_size * tcfg.accum_steps, len(task.train_examples)
    epochs = tcfg.max_steps * batch / max(1, examples)  # the budget, given in epochs or in updates
    log(
        f"fine-tuning {task.task_name} ({task.spec.kind}, {task.spec.num_labels} label(s)) from {source}: "
        f"{n:,} parameters; {tcfg.max_steps} updates of {batch} = {epochs:.2f} epochs of {examples:,} "
        f"examples; warm-up {tcfg.warmup}; λ = {fcfg.aux_lm:g}"
    )
    result = Trainer(task, tcfg, resume=resume, log=log).fit()
    result["truncated_examples"] = {
        "train": task.train_stats.truncated_examples,
        "eval": task.eval_stats.truncated_examples,
    }
    return result


@dataclass
class SamplingConfig:
    """How ``ronbun gpt generate`` continues a prompt (Eq. 2)."""

    max_new_tokens: int = setting(50, "tokens to add to each prompt")
    temperature: float = setting(1.0, "softmax temperature")
    top_k: int | None = setting(None, "sample among the k most probable tokens")
    top_p: float | None = setting(None, "nucleus sampling: the smallest set with probability >= p")
    greedy: bool = setting(False, "argmax decoding")
    seed: int | None = setting(None, "random seed (reproducible samples)")
    num_samples: int = setting(1, "samples per prompt", flag=("--num-samples", "-n"))
    stop_at_newline: bool = setting(False, "end each continuation at its first line break")


def generate(
    checkpoint: Path, prompts: list[str] | Callable[[], list[str]], sampling: SamplingConfig
) -> list[str]:
    """Continue each prompt ``sampling.num_samples`` times with the language model (KV-cached);
    ``prompts`` may be a function that reads them, called once the checkpoint has loaded (a wrong
    checkpoint is said before waiting on stdin)."""
    from .language_model import load_gpt

    lm = load_gpt(checkpoint)
    texts = prompts() if callable(prompts) else prompts
    options = asdict(sampling)
    repeated = [p for p in texts for _ in range(max(1, options.pop("num_samples")))]
    return lm.generate(repeated, options.pop("max_new_tokens"), **options)


@dataclass
class ZeroShotConfig:
    """A §5 zero-shot evaluation (Figure 2 right): the options of ``ronbun gpt zeroshot``."""

    task: str = setting(help="sst2, cola, story_cloze, race or winograd", paper="§5")
    data_dir: str | None = setting(None, "the task's folder or its parent")
    split: str | None = setting(None, "split to evaluate (default dev; story_cloze: test)")
    limit: int | None = setting(None, "a seeded random subset of N examples")
    threshold: float | None = setting(None, "cola: fixed threshold on the average log-probability")
    threshold_examples: int = setting(2000, "cola: train examples to fit the threshold on (max MCC)")
    winograd_file: Path | None = setting(None, "winograd: JSONL file (see ronbun.gpt.zeroshot)")
    lowercase: bool = setting(
        False,
        "lower-case the task text: for a model pre-trained on text lower-cased before its tokenizer was "
        "trained (the tokenizer cannot know; pre-train with --lowercase to record it)",
    )
    seed: int = setting(0, "random seed of the subset")
    batch_size: int = setting(16, "examples per batch")


def zeroshot(checkpoint: Path, cfg: ZeroShotConfig) -> dict[str, Any]:
    """GPT-1's §5 zero-shot heuristic for ``cfg.task`` with a pre-trained LM (see
    :func:`~ronbun.gpt.zeroshot.run_zeroshot`)."""
    from .language_model import load_gpt
    from .zeroshot import run_zeroshot

    lm = load_gpt(checkpoint)
    if cfg.lowercase and hasattr(lm.tokenizer, "lowercase"):  # GPT-1's own BPE lower-cases already
        lm.tokenizer.lowercase = True
    options = {k: v for k, v in asdict(cfg).items() if k not in ("task", "lowercase")}
    try:
        report = run_zeroshot(lm.model, lm.tokenizer, cfg.task, **options)
    except KeyError as exc:
        raise ValueError(str(exc.args[0]) if exc.args else str(exc)) from None
    return {"checkpoint": str(lm.directory), **report, "lowercase": bool(cfg.lowercase)}
