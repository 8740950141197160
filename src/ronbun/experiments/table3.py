"""Table 3 of "Attention Is All You Need" (§6.2, "Model Variations") at CPU scale: ``ronbun experiment table3``.

The paper varies the base model one dimension at a time and reports development-set perplexity (per
word-piece), BLEU and parameter count: (A) the number of heads at constant compute (h·d_k = d_model),
(B) a smaller d_k with h fixed, (C) depth N, width d_model and d_ff, (D) dropout P_drop and label smoothing
ε_ls, (E) learned positional embeddings instead of sinusoids.

Here every row is the same change made to *our* base, keeping the paper's ratios: a width of the paper
(d_model, d_k, d_v) is multiplied by ``our d_model / 512``, d_ff by ``our d_ff / 2048``, N by ``our N / 6``;
h, P_drop, ε_ls and the positional encoding are copied.  So (A) keeps h·d_k = d_model, (B) keeps h = 8 with
d_k a quarter and a half of ours, (C) halves and doubles our widths.  :data:`ROWS` is the table: each row's
change in the paper's numbers, beside the paper's PPL, BLEU and parameters.

Every row trains the same number of updates (the budget, machine-independent) with the same seed, on one
shared BPE vocabulary, and is scored like ``ronbun mt train`` validates: perplexity of the whole validation
split (plain NLL per BPE token, no smoothing) and greedy BLEU on its first ``valid_bleu_sentences`` pairs.
The paper decodes Table 3 with beam 4 (§6.2); greedy keeps the table within a CPU's budget.

Two scales (:data:`SCALES`): ``full`` (Multi30k, ``--dataset multi30k --data-dir …``) and ``quick`` (the
built-in generated corpus, tiny rows).  ``OUT/rows/NAME/`` holds each row's run and its ``result.json``; a row
whose result exists is not trained again (resumable; a result measured with another recipe is an error).
``OUT/table3.json``, ``table3.md`` and ``table3.png`` hold the table, the paper's orderings checked on the
measured numbers (:func:`orderings`) and a bar chart of each row's difference from our base.
"""

from __future__ import annotations

import dataclasses
import json
import math
import statistics
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..settings import setting
from .units import Log, read_result, run_jobs, say, write_result

if TYPE_CHECKING:
    from ..mt.task import MTDataConfig

__all__ = [
    "CLAIMS",
    "PAPER_BASE",
    "ROWS",
    "SCALES",
    "Claim",
    "Row",
    "Scale",
    "Table3Config",
    "orderings",
    "row_settings",
    "run_table3",
    "scaled_change",
]

# -- the paper's table -------------------------------------------------------------------------------------
#: The base model's settings (Table 3, first row; §3, §5.4).  ``layers`` is N of both stacks.
PAPER_BASE: dict[str, Any] = {
    "layers": 6,
    "d_model": 512,
    "d_ff": 2048,
    "n_heads": 8,
    "d_k": 64,
    "d_v": 64,
    "dropout": 0.1,
    "label_smoothing": 0.1,
    "positional": "sinusoidal",
}
SYMBOLS = {
    "layers": "N",
    "d_model": "d_model",
    "d_ff": "d_ff",
    "n_heads": "h",
    "d_k": "d_k",
    "d_v": "d_v",
    "dropout": "P_drop",
    "label_smoothing": "ε_ls",
    "positional": "PE",
}


@dataclass(frozen=True)
class Row:
    """One row of Table 3: what it changes from the base, in the paper's numbers, and what the paper
    measured (EN-DE newstest2013: perplexity per word-piece, BLEU, parameters ×10⁶; ``None`` = blank)."""

    name: str
    group: str  # "base", "A" … "E"
    change: dict[str, Any]
    ppl: float
    bleu: float
    params_m: float | None = None


ROWS: tuple[Row, ...] = (
    Row("base", "base", {}, 4.92, 25.8, 65),
    Row("A-h1", "A", {"n_heads": 1, "d_k": 512, "d_v": 512}, 5.29, 24.9),
    Row("A-h4", "A", {"n_heads": 4, "d_k": 128, "d_v": 128}, 5.00, 25.5),
    Row("A-h16", "A", {"n_heads": 16, "d_k": 32, "d_v": 32}, 4.91, 25.8),
    Row("A-h32", "A", {"n_heads": 32, "d_k": 16, "d_v": 16}, 5.01, 25.4),
    Row("B-dk16", "B", {"d_k": 16}, 5.16, 25.1, 58),
    Row("B-dk32", "B", {"d_k": 32}, 5.01, 25.4, 60),
    Row("C-N2", "C", {"layers": 2}, 6.11, 23.7, 36),
    Row("C-N4", "C", {"layers": 4}, 5.19, 25.3, 50),
    Row("C-N8", "C", {"layers": 8}, 4.88, 25.5, 80),
    Row("C-d256", "C", {"d_model": 256, "d_k": 32, "d_v": 32}, 5.75, 24.5, 28),
    Row("C-d1024", "C", {"d_model": 1024, "d_k": 128, "d_v": 128}, 4.66, 26.0, 168),
    Row("C-dff1024", "C", {"d_ff": 1024}, 5.12, 25.4, 53),
    Row("C-dff4096", "C", {"d_ff": 4096}, 4.75, 26.2, 90),
    Row("D-drop0.0", "D", {"dropout": 0.0}, 5.77, 24.6),
    Row("D-drop0.2", "D", {"dropout": 0.2}, 4.95, 25.5),
    Row("D-ls0.0", "D", {"label_smoothing": 0.0}, 4.67, 25.3),
    Row("D-ls0.2", "D", {"label_smoothing": 0.2}, 5.47, 25.7),
    Row("E-learned", "E", {"positional": "learned"}, 4.92, 25.7),
)
ROW_BY_NAME = {row.name: row for row in ROWS}


# -- our scale ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Scale:
    """Our base row (its widths and depth; h = 8, d_k = d_v = d_model / 8, P_drop = ε_ls = 0.1 as the
    paper's) and the recipe every row trains with: the budget in updates, the Eq. 3 schedule, the data."""

    name: str
    d_model: int
    d_ff: int
    layers: int
    updates: int
    warmup: int
    lr: float  # noam: Eq. 3's scale factor; linear: the peak learning rate
    dataset: str
    vocab_size: int
    max_tokens: int  # per batch and side
    bleu_sentences: int  # greedy validation BLEU on the first N validation pairs
    schedule: str = "noam"  # noam (Eq. 3) or linear (warm-up, then linear decay to 0 at the last update)


SCALES: dict[str, Scale] = {
    # Multi30k (29,000 pairs): half the `small` preset's widths with the paper's 8 heads, a 4,000-token BPE;
    # the budget aims at 90 minutes for the whole table on a 2-core CPU, two rows at a time (an estimate
    # from timing a few updates of the base row, not a measured table)
    "full": Scale("full", 128, 512, 3, 600, 200, 0.5, "multi30k", 4000, 2000, 300),
    # the built-in generated corpus, tiny rows, far from converged: a smoke run of the whole table.  On this
    # base Eq. 3's scale 1.0 stalled at a training loss of 5.3 by update 250; 0.5 reached 3.9 by update 240
    "quick": Scale("quick", 64, 256, 3, 300, 100, 0.5, "builtin", 1000, 1000, 200),
}


def _ratio(value: int, ours: int, paper: int, key: str) -> int:
    """``value · ours / paper``, which must be a whole number."""
    if (value * ours) % paper:
        raise ValueError(
            f"{key}={value} × {ours}/{paper} is not a whole number: choose a base whose d_model is a "
            "multiple of 32, d_ff of 128 and N of 3"
        )
    return value * ours // paper


def scaled_change(change: Mapping[str, Any], scale: Scale) -> dict[str, Any]:
    """A change in the paper's numbers as the same change to our base (see the module docstring)."""
    out: dict[str, Any] = {}
    for key, value in change.items():
        if key in ("d_model", "d_k", "d_v"):
            out[key] = _ratio(value, scale.d_model, PAPER_BASE["d_model"], key)
        elif key == "d_ff":
            out[key] = _ratio(value, scale.d_ff, PAPER_BASE["d_ff"], key)
        elif key == "layers":
            out[key] = _ratio(value, scale.layers, PAPER_BASE["layers"], key)
        else:
            out[key] = value
    return out


def row_settings(row: Row, scale: Scale) -> dict[str, Any]:
    """Every setting of ``row`` at our scale: our base with the row's change."""
    return scaled_change({**PAPER_BASE, **row.change}, scale)


def model_overrides(settings: Mapping[str, Any]) -> dict[str, Any]:
    """A row's settings as :class:`~ronbun.models.TransformerConfig` fields (N for both stacks)."""
    overrides = {k: v for k, v in settings.items() if k != "layers"}
    return {**overrides, "n_encoder_layers": settings["layers"], "n_decoder_layers": settings["layers"]}


def describe(settings: Mapping[str, Any]) -> str:
    """``{"n_heads": 1, "d_k": 512}`` → ``"h=1 d_k=512"``."""
    return " ".join(f"{SYMBOLS[k]}={v}" for k, v in settings.items())


def select_rows(spec: str | None) -> list[str]:
    """The rows named in ``spec`` (comma-separated; ``None`` = all) in the table's order, base always."""
    if spec is None:
        return [row.name for row in ROWS]
    wanted = {name.strip() for name in spec.split(",") if name.strip()}
    unknown = sorted(wanted - set(ROW_BY_NAME))
    if unknown:
        raise ValueError(f"unknown Table 3 row(s) {', '.join(unknown)}; rows: {', '.join(ROW_BY_NAME)}")
    return [row.name for row in ROWS if row.name in wanted or row.name == "base"]


# -- the paper's orderings ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Claim:
    """An ordering the paper draws from Table 3 (§6.2).  ``ppl``/``bleu``: ``(worse, better)`` row pairs
    that must hold in that metric; ``close``: two rows that must differ less than the median row of A-D."""

    name: str
    text: str
    where: str
    ppl: tuple[tuple[str, str], ...] = ()
    bleu: tuple[tuple[str, str], ...] = ()
    close: tuple[str, str] | None = None


_BIGGER = (
    ("C-N2", "C-N4"),
    ("C-N4", "base"),
    ("base", "C-N8"),
    ("C-d256", "base"),
    ("base", "C-d1024"),
    ("C-dff1024", "base"),
    ("base", "C-dff4096"),
)
CLAIMS: tuple[Claim, ...] = (
    Claim(
        "single_head",
        "single-head attention is worse than 8 heads",
        "Table 3 (A)",
        (("A-h1", "base"),),
        (("A-h1", "base"),),
    ),
    Claim(
        "too_many_heads",
        "quality drops off with too many heads (32 worse than 16)",
        "Table 3 (A)",
        (("A-h32", "A-h16"),),
        (("A-h32", "A-h16"),),
    ),
    Claim(
        "smaller_dk_hurts",
        "reducing the key size d_k hurts (16 < 32 < 64)",
        "Table 3 (B)",
        (("B-dk16", "B-dk32"), ("B-dk32", "base")),
        (("B-dk16", "B-dk32"), ("B-dk32", "base")),
    ),
    Claim("bigger_is_better", "bigger models are better (N, d_model, d_ff)", "Table 3 (C)", _BIGGER, _BIGGER),
    Claim(
        "dropout_helps",
        "dropout helps avoid over-fitting (P_drop 0.0 worse than 0.1)",
        "Table 3 (D)",
        (("D-drop0.0", "base"),),
        (("D-drop0.0", "base"),),
    ),
    Claim(
        "label_smoothing_trade",
        "label smoothing hurts perplexity but improves BLEU (ε_ls 0.1 vs 0.0)",
        "Table 3 (D), §5.4",
        (("base", "D-ls0.0"),),
        (("D-ls0.0", "base"),),
    ),
    Claim(
        "learned_positions",
        "learned positional embeddings ≈ sinusoids",
        "Table 3 (E), §3.5",
        close=("E-learned", "base"),
    ),
)


Verdict = tuple[bool | None, str]


def _order(
    values: Mapping[str, float | None], pairs: Sequence[tuple[str, str]], higher_is_better: bool, unit: str
) -> Verdict:
    """``(holds, evidence)`` of ``(worse, better)`` pairs in one metric; ``holds`` is ``None`` when a row
    was not measured."""
    if not pairs or any(values.get(r) is None for pair in pairs for r in pair):
        return None, f"{unit}: not measured"
    parts, holds = [], True
    for worse, better in pairs:
        w, b = values[worse], values[better]
        ok = b > w if higher_is_better else b < w  # type: ignore[operator]
        holds &= ok
        parts.append(
            f"{worse} {w:.2f} {'<' if higher_is_better else '>'} {better} {b:.2f} {'✓' if ok else '✗'}"
        )
    return holds, f"{unit}: " + ", ".join(parts)


def _close(values: Mapping[str, float | None], pair: tuple[str, str], relative: bool, unit: str) -> Verdict:
    """Whether rows ``pair`` differ less than the median row of A-D differs from base."""
    row, base = pair
    if values.get(row) is None or values.get(base) is None:
        return None, f"{unit}: not measured"

    def delta(name: str) -> float:
        d = values[name] - values[base]  # type: ignore[operator]
        return abs(100 * d / values[base] if relative else d)  # type: ignore[operator]

    others = [
        delta(r.name) for r in ROWS if r.group in ("A", "B", "C", "D") and values.get(r.name) is not None
    ]
    if not others:
        return None, f"{unit}: no row of A-D measured to compare with"
    limit, d = statistics.median(others), delta(row)
    sign = "%" if relative else ""
    ok = d <= limit
    return ok, f"{unit}: |Δ| {d:.2f}{sign} {'≤' if ok else '>'} median |Δ| of A-D {limit:.2f}{sign}"


def orderings(ppl: Mapping[str, float | None], bleu: Mapping[str, float | None]) -> list[dict[str, Any]]:
    """Which of the paper's orderings (:data:`CLAIMS`) hold for these perplexities and BLEU scores (row name
    → value): one record per claim, with ``ppl``/``bleu`` = True, False or None (a row not measured)."""
    out = []
    for claim in CLAIMS:
        if claim.close is not None:
            p, p_text = _close(ppl, claim.close, relative=True, unit="PPL")
            b, b_text = _close(bleu, claim.close, relative=False, unit="BLEU")
        else:
            p, p_text = _order(ppl, claim.ppl, higher_is_better=False, unit="PPL")
            b, b_text = _order(bleu, claim.bleu, higher_is_better=True, unit="BLEU")
        out.append(
            {
                "claim": claim.name,
                "text": claim.text,
                "where": claim.where,
                "ppl": p,
                "bleu": b,
                "evidence": f"{p_text}; {b_text}",
            }
        )
    return out


def paper_orderings() -> list[dict[str, Any]]:
    """:func:`orderings` on the paper's own numbers (the paper's BLEU has N = 8 below the base)."""
    return orderings({r.name: r.ppl for r in ROWS}, {r.name: r.bleu for r in ROWS})


# -- the run -----------------------------------------------------------------------------------------------
@dataclass
class Table3Config:
    """How ``ronbun experiment table3`` runs (the data settings are ``ronbun mt train``'s)."""

    out: str = setting(
        "runs/table3", "output directory: a run per row, table3.json, table3.md, table3.png", flag="--out"
    )
    quick: bool = setting(False, "the quick scale on the built-in generated corpus (tiny rows, few updates)")
    updates: int | None = setting(None, "updates per row, the same for every row (default: the scale's)")
    warmup: int | None = setting(None, "warm-up updates (default: the scale's)", paper="§5.3, Eq. 3")
    schedule: Literal["noam", "linear"] | None = setting(
        None, "learning-rate schedule: noam (Eq. 3) or linear decay to 0 (default: the scale's)"
    )
    lr: float | None = setting(
        None, "noam: Eq. 3's scale factor; linear: the peak rate (default: the scale's)"
    )
    rows: str | None = setting(
        None, "comma-separated rows to train, e.g. A-h1,C-N2 (base always; default all)"
    )
    parallel: int = setting(1, "rows trained at the same time, each in its own process")
    threads: int | None = setting(
        None, "torch CPU threads per row (default: 1 with --parallel > 1, else PyTorch's choice)"
    )
    seed: int = setting(0, "random seed, the same for every row")
    precision: Literal["auto", "fp32", "bf16"] = setting(
        "auto", "auto: bf16 autocast where the CPU computes bf16 natively, else fp32"
    )
    max_minutes: float | None = setting(
        None, "safety cap per row in minutes of training (a row it stops is marked in the results)"
    )

    def scale(self) -> Scale:
        """The scale's recipe with ``--updates``, ``--warmup``, ``--schedule`` and ``--lr`` applied."""
        scale = SCALES["quick" if self.quick else "full"]
        changes = {"updates": self.updates, "warmup": self.warmup, "schedule": self.schedule, "lr": self.lr}
        return dataclasses.replace(scale, **{k: v for k, v in changes.items() if v is not None})


def _schedule_words(scale: Mapping[str, Any]) -> str:
    """``Eq. 3 × 0.5`` or ``linear decay from 0.005``: how a row's learning rate moves."""
    if scale.get("schedule", "noam") == "linear":
        return f"peak rate {scale['lr']:g}, decaying linearly to 0"
    return f"Eq. 3 × {scale['lr']:g}"


def run_table3(
    cfg: Table3Config, data: Mapping[str, Any] | None = None, *, command: str = "", log: Log = say
) -> dict[str, Any]:
    """Train every row of Table 3 at our scale for the same budget, then print the table beside the paper's
    and write ``table3.json``, ``table3.md`` and ``table3.png`` into ``cfg.out``; returns the JSON's content.

    ``data`` holds the ``[data]`` settings given (``ronbun mt train``'s: dataset, data_dir, …); the scale
    supplies the dataset, vocabulary, batch size and BLEU sentences not given.
    """
    from ..training.checkpoint import ensure_output_dir

    scale = cfg.scale()
    if cfg.parallel < 1:
        raise ValueError(f"--parallel must be >= 1, got {cfg.parallel}")
    names = select_rows(cfg.rows)
    for name in names:  # a base that cannot carry the paper's ratios fails here, before any work
        row_settings(ROW_BY_NAME[name], scale)
    out = ensure_output_dir(cfg.out)
    dcfg = data_config(scale, data or {}, out)
    recipe = {
        "scale": dataclasses.asdict(scale),
        "data": {k: v for k, v in dataclasses.asdict(dcfg).items() if k not in ("data_dir", "cache_dir")},
        "seed": cfg.seed,
        "precision": cfg.precision,
    }
    log(
        f"Table 3 at the {scale.name} scale: {len(names)} rows × {scale.updates:,} updates on "
        f"{dcfg.dataset or dcfg.train_src}; "
        f"our base {describe(row_settings(ROW_BY_NAME['base'], scale))}"
    )
    shared_tokenizer(dcfg, out, log)
    results = train_rows(names, recipe, dcfg, out, cfg, log)
    threads = cfg.threads or (1 if cfg.parallel > 1 else None)
    provenance = {
        "command": command,
        "data": dcfg.dataset or f"{dcfg.train_src} → {dcfg.train_tgt}",
        "data_dir": dcfg.data_dir,
        "parallel": cfg.parallel,
        "threads_per_row": threads,
    }
    summary = summarise(results, scale, recipe, provenance)
    write_reports(summary, out, log)
    return summary


def data_config(scale: Scale, given: Mapping[str, Any], out: Path) -> MTDataConfig:
    """The ``[data]`` settings: those given, the scale's under them, one token cache for every row."""
    from ..mt.task import MTDataConfig

    defaults = {
        "dataset": scale.dataset,
        "vocab_size": scale.vocab_size,
        "max_tokens": scale.max_tokens,
        "valid_bleu_sentences": scale.bleu_sentences,
    }
    data = {**defaults, **given, "cache_dir": str(out / "cache")}
    if any(k in given for k in ("train_src", "train_tgt")) and "dataset" not in given:
        data["dataset"] = None
    return MTDataConfig.from_dict(data)


def shared_tokenizer(data: MTDataConfig, out: Path, log: Log) -> Path:
    """``OUT/tokenizer.json``: one shared BPE vocabulary (§5.1) for every row, trained once, so that the
    rows' perplexities count the same tokens."""
    from ..mt.task import load_splits
    from ..text.bpe import TextTokenizer

    path = out / "tokenizer.json"
    if not path.is_file():
        splits = load_splits(data)
        if "valid" not in splits:
            raise ValueError("Table 3 is measured on a validation split: give --valid-src and --valid-tgt")
        src, tgt = splits["train"]
        tokenizer = TextTokenizer.train([*src, *tgt], data.vocab_size)
        tokenizer.save(path)
        log(f"trained a shared byte-level BPE vocabulary of {tokenizer.vocab_size} tokens → {path}")
    return path


def result_path(out: Path, name: str) -> Path:
    return out / "rows" / name / "result.json"


def saved_result(out: Path, name: str, recipe: Mapping[str, Any]) -> dict[str, Any] | None:
    """The row's result when it was measured before with the same recipe (``None`` when it was not)."""
    return read_result(result_path(out, name), recipe, "scale, data, seed or precision")


def train_rows(
    names: Sequence[str], recipe: dict[str, Any], data: MTDataConfig, out: Path, cfg: Table3Config, log: Log
) -> dict[str, dict[str, Any]]:
    """Each row's result: read back when measured before, else trained (``cfg.parallel`` at a time, each in a
    spawned process)."""
    done: dict[str, dict[str, Any]] = {}
    todo = []
    for name in names:
        saved = saved_result(out, name, recipe)
        if saved is not None:
            log(f"{name}: measured before ({result_path(out, name)}), not trained again")
            done[name] = saved
        else:
            todo.append(name)
    threads = cfg.threads or (1 if cfg.parallel > 1 else None)  # parallel rows share the cores
    jobs = [(name, recipe, data, out, threads, cfg.max_minutes) for name in todo]
    for result in run_jobs(_train_row_job, jobs, todo, parallel=cfg.parallel, log=log):
        done[result["row"]] = result
    return {name: done[name] for name in names}


def _train_row_job(job: tuple, *, log: Log = say) -> dict[str, Any]:
    """:func:`train_row` of one job tuple."""
    return train_row(*job, log=log)


def train_row(
    name: str,
    recipe: Mapping[str, Any],
    data: MTDataConfig,
    out: Path,
    threads: int | None,
    max_minutes: float | None,
    *,
    log: Log = say,
) -> dict[str, Any]:
    """Train one row for the budget (§5: Adam, Eq. 3, label smoothing), validate it, write its
    ``result.json``; an interrupted row resumes from its last checkpoint."""
    from ..mt.task import TranslationTask
    from ..text.bpe import TextTokenizer
    from ..training.checkpoint import list_checkpoints
    from ..training.loop import Trainer, TrainerConfig

    row, scale = ROW_BY_NAME[name], Scale(**recipe["scale"])
    settings = row_settings(row, scale)
    run = out / "rows" / name
    change = describe(scaled_change(row.change, scale))
    log(f"{name}: {change} (paper: {describe(row.change)})" if change else f"{name}: our base")
    task = TranslationTask(
        data,
        out_dir=run,
        seed=recipe["seed"],
        preset="base",
        model_overrides=model_overrides(settings),
        tokenizer=TextTokenizer.load(out / "tokenizer.json"),
        log=log,
    )
    trainer_config = TrainerConfig(
        out_dir=str(run),
        max_steps=scale.updates,
        max_minutes=max_minutes,
        schedule=scale.schedule,
        lr=scale.lr,
        warmup=scale.warmup,
        seed=recipe["seed"],
        precision=recipe["precision"],
        eval_every=0,  # validated once, after the last update
        save_every=scale.updates,
        keep_last=1,
        log_every=max(1, scale.updates // 10),
        progress=False,
        threads=threads,
    )
    fit = Trainer(task, trainer_config, resume=bool(list_checkpoints(run)), log=log).fit()
    if "valid_ppl" not in fit["metrics"]:  # stopped by a signal: its checkpoint resumes next time
        raise KeyboardInterrupt(f"{name} stopped after update {fit['step']}; run the command again to resume")
    result = {
        "row": name,
        "settings": settings,
        "recipe": recipe,
        "valid_ppl": fit["metrics"]["valid_ppl"],
        "valid_bleu": fit["metrics"].get("valid_bleu"),
        "params": task.model.num_parameters(),
        "updates": fit["step"],
        "stop_reason": fit["stop_reason"],
        "train_seconds": round(fit["train_seconds"], 1),
    }
    write_result(result_path(out, name), result)
    return result


# -- the report --------------------------------------------------------------------------------------------
def _delta_pct(value: float | None, base: float | None) -> float | None:
    return None if value is None or base is None else 100 * (value / base - 1)


def _delta(value: float | None, base: float | None) -> float | None:
    return None if value is None or base is None else value - base


def summarise(
    results: Mapping[str, Mapping[str, Any]],
    scale: Scale,
    recipe: Mapping[str, Any],
    provenance: Mapping[str, Any],
) -> dict[str, Any]:
    """The JSON of the table: every row ours and the paper's side by side, each as a difference from its own
    base (perplexity in per cent, BLEU in points), and the paper's orderings on both sets of numbers.
    ``provenance``: the command, the data, and the processes and threads the rows trained on."""
    from ..evaluation.provenance import machine_description

    base, paper_base = results["base"], ROW_BY_NAME["base"]
    rows = []
    for name, r in results.items():
        row = ROW_BY_NAME[name]
        change = scaled_change(row.change, scale)
        rows.append(
            {
                "row": name,
                "group": row.group,
                "change": describe(r["settings"] if name == "base" else change),
                "paper_change": describe(PAPER_BASE if name == "base" else row.change),
                "settings": r["settings"],
                "ppl": r["valid_ppl"],
                "bleu": r["valid_bleu"],
                "params_m": r["params"] / 1e6,
                "delta_ppl_pct": _delta_pct(r["valid_ppl"], base["valid_ppl"]),
                "delta_bleu": _delta(r["valid_bleu"], base["valid_bleu"]),
                "updates": r["updates"],
                "stop_reason": r["stop_reason"],
                "train_seconds": r["train_seconds"],
                "paper": {
                    "ppl": row.ppl,
                    "bleu": row.bleu,
                    "params_m": row.params_m,
                    "delta_ppl_pct": _delta_pct(row.ppl, paper_base.ppl),
                    "delta_bleu": _delta(row.bleu, paper_base.bleu),
                },
            }
        )
    return {
        "experiment": "Attention Is All You Need, Table 3 (model variations) at CPU scale",
        **provenance,
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
        "machine": machine_description(provenance.get("threads_per_row")),
        "scale": dataclasses.asdict(scale),
        "recipe": dict(recipe),
        "metrics": "validation perplexity (plain NLL per BPE token, whole split); greedy validation BLEU "
        f"(sacreBLEU, first {recipe['data']['valid_bleu_sentences']} pairs); the paper: newstest2013, beam 4",
        "rows": rows,
        "orderings": orderings({r["row"]: r["ppl"] for r in rows}, {r["row"]: r["bleu"] for r in rows}),
        "paper_orderings": paper_orderings(),
    }


HEADER = (
    "row",
    "ours: change",
    "paper: change",
    "PPL",
    "ΔPPL",
    "paper PPL",
    "paper ΔPPL",
    "BLEU",
    "ΔBLEU",
    "paper BLEU",
    "paper ΔBLEU",
    "params ×10⁶",
    "paper params ×10⁶",
)


def _number(value: float | None, spec: str, suffix: str = "") -> str:
    return (
        "" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:{spec}}{suffix}"
    )


def table_cells(summary: Mapping[str, Any]) -> list[list[str]]:
    """One list of cells per row (see :data:`HEADER`); the base row's differences are blank."""
    cells = []
    for r in summary["rows"]:
        p, base = r["paper"], r["row"] == "base"
        stopped = (
            "" if r["stop_reason"] == "max_steps" else f" (stopped at {r['updates']:,}: {r['stop_reason']})"
        )
        cells.append(
            [
                r["row"] + stopped,
                r["change"],
                r["paper_change"],
                _number(r["ppl"], ".2f"),
                "" if base else _number(r["delta_ppl_pct"], "+.1f", "%"),
                _number(p["ppl"], ".2f"),
                "" if base else _number(p["delta_ppl_pct"], "+.1f", "%"),
                _number(r["bleu"], ".1f"),
                "" if base else _number(r["delta_bleu"], "+.1f"),
                _number(p["bleu"], ".1f"),
                "" if base else _number(p["delta_bleu"], "+.1f"),
                _number(r["params_m"], ".3g"),
                _number(p["params_m"], "g"),
            ]
        )
    return cells


def plain_table(summary: Mapping[str, Any]) -> str:
    """The table as aligned text for the terminal."""
    lines = [list(HEADER), *table_cells(summary)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADER))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines
    )


def _verdict(value: bool | None) -> str:
    return {True: "holds", False: "does not hold", None: "not measured"}[value]


def orderings_text(records: Sequence[Mapping[str, Any]]) -> list[str]:
    """One line per claim: ``text (where): PPL holds, BLEU does not hold — evidence``."""
    return [
        f"{o['text']} ({o['where']}): not measured (a row it compares was not trained)"
        if o["ppl"] is None and o["bleu"] is None
        else f"{o['text']} ({o['where']}): PPL {_verdict(o['ppl'])}, BLEU {_verdict(o['bleu'])} — {o['evidence']}"
        for o in records
    ]


def markdown(summary: Mapping[str, Any]) -> str:
    """``table3.md``: how it was measured, the table and the orderings."""
    s = summary["scale"]
    machine = summary["machine"]
    lines = [
        "# Table 3 (model variations) at CPU scale",
        "",
        (f"Command: `{summary['command']}`. " if summary.get("command") else "")
        + f"Measured {summary['date']} on {machine['cpu']} ({summary['parallel']} row(s) at a time, "
        f"{machine['threads']} thread(s) each; torch {machine['torch']}).",
        f"Scale `{s['name']}`: {s['updates']:,} updates per row (warm-up {s['warmup']}, "
        f"{_schedule_words(s)}, seed "
        f"{summary['recipe']['seed']}) on {summary['data']}. Measured: {summary['metrics']}.",
        "Differences are from each table's own base row: perplexity in per cent, BLEU in points.",
        "",
        "| " + " | ".join(HEADER) + " |",
        "|" + "---|" * len(HEADER),
        *("| " + " | ".join(row) + " |" for row in table_cells(summary)),
        "",
        "## The paper's orderings at our scale",
        "",
        *(f"- {line}" for line in orderings_text(summary["orderings"])),
        "",
        "The same checks on the paper's own numbers:",
        "",
        *(f"- {line}" for line in orderings_text(summary["paper_orderings"])),
        "",
    ]
    return "\n".join(lines)


def write_reports(summary: dict[str, Any], out: Path, log: Log) -> dict[str, Path]:
    """Print the table and the orderings; write ``table3.json``, ``table3.md`` and ``table3.png``."""
    from ..viz.variations import plot_table3

    files = {"json": out / "table3.json", "markdown": out / "table3.md", "figure": out / "table3.png"}
    if plot_table3(summary, files["figure"]) is None:
        del files["figure"]
    summary["files"] = {k: str(v) for k, v in files.items()}
    files["json"].write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    files["markdown"].write_text(markdown(summary), encoding="utf-8")
    log("\n" + plain_table(summary) + "\n")
    log("the paper's orderings at our scale:\n  " + "\n  ".join(orderings_text(summary["orderings"])))
    log("\n" + "\n".join(f"{kind}: {path}" for kind, path in files.items()))
    return files
