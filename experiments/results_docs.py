"""Generate the tables of docs/results.md from the committed JSON summaries in results/ (``make
results-docs``), so the docs cannot drift from the runs that produced them.

Each generated block sits between ``<!-- generated:KEY -->`` and ``<!-- /generated:KEY -->`` in the page;
everything outside those markers is hand-written and left alone.  ``--check`` fails if the page is stale.
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def load(results: Path, pattern: str) -> list[dict[str, Any]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(results.glob(pattern))]


def fmt(x: float | None, digits: int = 2) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def cpu(m: dict[str, Any]) -> str:
    """The CPU model and, where recorded, its vector unit (it decides speed and bf16-or-fp32 under ``auto``);
    the GPU first when the run had one."""
    name = f"{m['cpu']} ({m['cpu_capability']})" if m.get("cpu_capability") else m["cpu"]
    return f"{m['gpu']} GPU with {name}" if m.get("gpu") else name


def threads_text(n: int | str) -> str:
    """``1 thread``, ``2 threads``."""
    return f"{n} thread" + ("" if str(n) == "1" else "s")


def provenance_line(s: dict[str, Any], threads: str = "1 thread per run") -> str:
    """Command, date, machine (CPU, cores, ``threads``) and torch of a summary."""
    m = s["machine"]
    return f"`{s['command']}` · {s['date']} · {cpu(m)}, {m['cores']} cores, {threads} · torch {m['torch']}"


def note_suffix(s: dict[str, Any]) -> str:
    """A summary's note, in parentheses after its provenance, or nothing."""
    return f" ({s['note']})" if s.get("note") else ""


def machine_line(s: dict[str, Any], tool: tuple[str, str] = ("sacreBLEU", "sacrebleu")) -> str:
    """Command, date, machine, versions (torch and ``tool``: (shown name, key)), updates and times of a run."""
    m = s["machine"]
    wall = f", {s['wall_seconds'] / 60:.1f} min wall" if s.get("wall_seconds") else ""
    threads = threads_text(m["threads"]) if m.get("threads") else "default threads"
    return (
        f"`{s['command']}` · {s['date']} · {cpu(m)}, {m['cores']} cores, {threads} · torch {m['torch']}, "
        f"{tool[0]} {m.get(tool[1], '?')} · {s['updates']:,} updates in "
        f"{s['train_seconds'] / 60:.1f} min of training{wall}" + note_suffix(s)
    )


def _scores(e: dict[str, Any]) -> tuple[float, float | None, float]:
    lc = e.get("lowercase_tokenised", {})
    return e["raw"]["sacrebleu"], lc.get("tokenised_bleu"), e["raw"]["chrf"]


def mt_table(s: dict[str, Any]) -> str:
    rows = [
        "| checkpoint | decoding | split | cased sacreBLEU (raw refs) | lc-tok BLEU (Multi30k convention) | chrF2 |",
        "|---|---|---|---|---|---|",
    ]
    names = {"averaged": "average of the last 5", "last": "last"}
    literature = (
        _choice_metric(s["evaluations"]) == "lc-tok BLEU"
    )  # its uncased output is read by lc-tok alone
    for split, split_name in (("test", "test2016"), ("valid", "valid")):
        for ckpt in ("averaged", "last"):
            for beam in (4, 1):
                e = s["evaluations"].get(f"{ckpt}_{split}_beam{beam}")
                if e is None:
                    continue
                bleu, lc, chrf = _scores(e)
                strong = "**" if (ckpt, beam, split) == ("averaged", 4, "test") else ""
                decoding = "beam 4, α 0.6" if beam == 4 else "greedy"
                cased = fmt(bleu) if literature else f"{strong}{fmt(bleu)}{strong}"
                rows.append(
                    f"| {names[ckpt]} | {decoding} | {split_name} | {cased} | "
                    f"{strong}{fmt(lc)}{strong} | {fmt(chrf)} |"
                )
    rows += alpha_rows(s["evaluations"])
    sig = s["evaluations"].get("averaged_test_beam4", {}).get("raw", {}).get("sacrebleu_signature", "")
    return "\n".join(rows) + f"\n\n{machine_line(s)}\n\nsacreBLEU signature: `{sig}`"


def _choice_metric(evaluations: dict[str, Any]) -> str:
    """The metric the decoding was chosen by on valid: cased sacreBLEU, or lc-tok BLEU for a literature-mode
    model (lower-cased tokenised text: its output has no case to score)."""
    metric = evaluations.get("alpha_choice", {}).get("metric", "cased sacreBLEU")
    return "cased sacreBLEU" if metric.startswith("cased sacreBLEU") else metric


#: The models experiments/multi30k_alpha.sh chooses among, as the tables name them.
DECODED_MODELS = {
    "averaged": "average of the last 5",
    "ensemble": "ensemble of the last 5 (probabilities averaged)",
}


def alpha_rows(evaluations: dict[str, Any]) -> list[str]:
    """The rows of the beam and length penalty chosen on valid (experiments/multi30k_alpha.sh), if the run has
    them (runs scored before the beam was a candidate chose α alone, at beam 4)."""
    choice = evaluations.get("alpha_choice")
    if not choice:
        return []
    model, beam, alpha = choice.get("model", "averaged"), choice.get("beam", "4"), choice["alpha"]
    by_beam = choice.get("candidates_by_beam") or {"4": choice["candidates"]}
    by_model = choice.get("candidates_by_model") or {model: by_beam}
    tried = "; ".join(
        (f"{DECODED_MODELS[m]}, " if len(by_model) > 1 else "")
        + (f"beam {b}: " if len(by_beam) > 1 else "")
        + ", ".join(f"α {a} {fmt(v)}" for a, v in alphas.items())
        for m, beams in by_model.items()
        for b, alphas in beams.items()
    )
    chose = "model, beam and α" if len(by_model) > 1 else "beam and α" if len(by_beam) > 1 else "α"
    what = f"beam {beam}, α {alpha} ({chose}"
    metric = _choice_metric(evaluations)
    chosen = "chosen on valid" + ("" if metric == "cased sacreBLEU" else f" by {metric}")
    rows = []
    for split, split_name in (("test", "test2016"), ("valid", "valid")):
        e = evaluations.get(f"{model}_{split}_beam{beam}_alpha{alpha}")
        if e is not None:
            bleu, lc, chrf = _scores(e)
            how = f"{what} {chosen}: {tried})" if split == "test" else f"beam {beam}, α {alpha}"
            rows.append(
                f"| {DECODED_MODELS[model]} | {how} | {split_name} | {fmt(bleu)} | {fmt(lc)} | {fmt(chrf)} |"
            )
    return rows


def ensemble_table(s: dict[str, Any]) -> str:
    """The last 5 checkpoints decoded as one ensemble against their weight average, every candidate of the
    choice on valid (experiments/multi30k_alpha.sh with MODELS="averaged ensemble"), plus any larger ensemble
    scored on valid (``ensemble<K>_valid_beam<B>_alpha<α>``) and test2016 at the choice."""
    ev = s["evaluations"]
    choice = ev["alpha_choice"]
    by_model = choice["candidates_by_model"]
    rows = [
        f"| beam | α | {DECODED_MODELS['averaged']} (weights) | {DECODED_MODELS['ensemble']} | ensemble − average |",
        "|---|---|---|---|---|",
    ]
    for beam, alphas in by_model["averaged"].items():
        for alpha in alphas:
            scores = {m: by_model[m][beam][alpha] for m in ("averaged", "ensemble")}
            cells = {
                m: f"**{fmt(v)}**"
                if (m, beam, alpha) == (choice["model"], choice["beam"], choice["alpha"])
                else fmt(v)
                for m, v in scores.items()
            }
            rows.append(
                f"| {beam} | {alpha} | {cells['averaged']} | {cells['ensemble']} "
                f"| {scores['ensemble'] - scores['averaged']:+.2f} |"
            )
    larger = []
    for key, e in sorted(ev.items()):
        if m := re.fullmatch(r"ensemble(\d+)_valid_beam(\d+)_alpha([\d.]+)", key):
            k, beam, alpha = m.groups()
            larger.append(
                f"the last {k} checkpoints as one ensemble, beam {beam}, α {alpha}: {fmt(_scores(e)[0])}"
            )
    parts = [
        f"Valid cased sacreBLEU; chosen (bold): {DECODED_MODELS[choice['model']]}, beam {choice['beam']}, "
        f"α {choice['alpha']}"
    ]
    test = ev.get(f"{choice['model']}_test_beam{choice['beam']}_alpha{choice['alpha']}")
    if test:
        cased, lc, _ = _scores(test)
        parts.append(f"test2016 at the choice {fmt(cased)} cased / {fmt(lc)} lc-tok BLEU")
    if larger:
        parts.append("also on valid: " + "; ".join(larger))
    return "\n".join(rows) + "\n\n" + "; ".join(parts) + f".\n\n{machine_line(s)}"


def levers_table(runs: list[dict[str, Any]]) -> str:
    """One row per variant of the full recipe (the change is in its command), compared on valid."""
    if not runs:
        return "_not run yet_"
    rows = [
        "| variant (command) | updates | valid BLEU (avg of 5, beam 4, α 0.6) | valid loss at the end "
        "| test2016 cased sacreBLEU | test2016 lc-tok BLEU |",
        "|---|---|---|---|---|---|",
    ]
    for s in sorted(runs, key=lambda r: r["command"]):
        valid, _, _ = _scores(s["evaluations"]["averaged_valid_beam4"])
        test, lc, _ = _scores(s["evaluations"]["averaged_test_beam4"])
        loss = s["validation_curve"][-1].get("valid_loss") if s["validation_curve"] else None
        rows.append(
            f"| `{s['command']}` | {s['updates']:,} | {fmt(valid)} | {fmt(loss, 3)} | {fmt(test)} | {fmt(lc)} |"
        )
    return "\n".join(rows) + "\n\n" + "\n".join(f"- {machine_line(s)}" for s in runs)


SCREEN_CHANGES = {  # experiments/multi30k_levers.sh's variants, as a reader names them
    "recipe": "none (the base, seed 0)",
    "recipe_s1": "none (the base, seed 1)",
    "ls0.2": "label smoothing ε_ls 0.2 (base: 0.1)",
    "attdrop": "dropout 0.1 on attention weights and inside the FFN (base: none)",
    "d0.2": "residual dropout 0.2 (base: 0.1)",
    "v4000": "BPE vocabulary 4,000 (base: 8,000)",
    "lr2": "learning-rate scale 2.0 in Eq. 3 (base: 1.0)",
    "reg": "ε_ls 0.2 + attention and FFN dropout 0.1",
}


def screen_table(runs: list[dict[str, Any]]) -> str:
    """experiments/multi30k_levers.sh: one row per variant, valid first (it decides), test only shown."""
    if not runs:
        return "_not run yet_"
    rows = [
        "| change | updates | valid BLEU, avg of 5 (α 0.6 / 1.0) | valid loss: best / end "
        "| test2016 cased / lc-tok (avg of 5, α 0.6) |",
        "|---|---|---|---|---|",
    ]
    order = list(SCREEN_CHANGES)
    runs = sorted(runs, key=lambda r: order.index(r["name"].removeprefix("multi30k_screen_")))
    for s in runs:
        e, v = s["evaluations"], s["name"].removeprefix("multi30k_screen_")
        losses = [c["valid_loss"] for c in s["validation_curve"] if "valid_loss" in c]
        test, lc, _ = _scores(e["averaged_test_beam4"])
        rows.append(
            f"| {SCREEN_CHANGES[v]} | {s['updates']:,} | {fmt(_scores(e['averaged_valid_beam4'])[0])} / "
            f"{fmt(_scores(e['averaged_valid_beam4_alpha1.0'])[0])} | {fmt(min(losses), 3)} / {fmt(losses[-1], 3)} "
            f"| {fmt(test)} / {fmt(lc)} |"
        )
        if "avg10_valid_beam4" in e:
            test, lc, _ = _scores(e["avg10_test_beam4"])
            rows.append(
                f"| {SCREEN_CHANGES[v]}, average of the last **10** | | "
                f"{fmt(_scores(e['avg10_valid_beam4'])[0])} / {fmt(_scores(e['avg10_valid_beam4_alpha1.0'])[0])} "
                f"| | {fmt(test)} / {fmt(lc)} |"
            )
    return "\n".join(rows) + "\n\n" + "\n".join(f"- {machine_line(s)}" for s in runs)


def seeds_table(runs: list[dict[str, Any]]) -> str:
    """One row per seed, then mean ± sd over the seeds of each precision: a bf16 run and an fp32 run are
    different runs, not repeats of one another, so they are never pooled."""
    if not runs:
        return "_not run yet_"
    rows = [
        "| seed | precision | updates | cased sacreBLEU | lc-tok BLEU | valid BLEU (greedy, 300) |",
        "|---|---|---|---|---|---|",
    ]
    groups: dict[str, list[tuple[float, float]]] = {}
    for s in runs:
        bleu, lct, _ = _scores(s["evaluations"]["averaged_test_beam4"])
        precision = _precision(s)
        groups.setdefault(precision, []).append((bleu, lct or 0.0))
        valid = s["validation_curve"][-1].get("valid_bleu") if s["validation_curve"] else None
        rows.append(
            f"| {s['seed']} | {precision} | {s['updates']:,} | {fmt(bleu)} | {fmt(lct)} | {fmt(valid)} |"
        )
    for precision, scores in groups.items():
        if len(scores) > 1:
            cased, lc = [c for c, _ in scores], [x for _, x in scores]
            rows.append(
                f"| **mean ± sd ({len(scores)} seeds)** | {precision} | | "
                f"**{statistics.mean(cased):.2f} ± {statistics.stdev(cased):.2f}** | "
                f"**{statistics.mean(lc):.2f} ± {statistics.stdev(lc):.2f}** | |"
            )
    return "\n".join(rows) + "\n\n" + "\n".join(f"- {machine_line(s)}" for s in runs)


def _trainer(s: dict[str, Any]) -> dict[str, Any]:
    """The trainer settings a run summary recorded (empty when it recorded none)."""
    return s.get("settings", {}).get("trainer", {})


def _precision(s: dict[str, Any]) -> str:
    return str(_trainer(s).get("precision", "?"))


def schedule_table(runs: list[dict[str, Any]]) -> str:
    """The same recipe under two learning-rate schedules, seed by seed: validation decides, test is shown."""
    rows = [
        "| schedule | seed | updates | valid, average of 5 (beam 4, α 0.6) | valid, last | test2016 cased / lc-tok (average) |",
        "|---|---|---|---|---|---|",
    ]
    for s in runs:
        e = s["evaluations"]
        schedule = _trainer(s).get("schedule", "noam")
        test, lc, _ = _scores(e["averaged_test_beam4"])
        rows.append(
            f"| {'Eq. 3' if schedule == 'noam' else schedule} | {s['seed']} | {s['updates']:,} "
            f"| {fmt(_scores(e['averaged_valid_beam4'])[0])} | {fmt(_scores(e['last_valid_beam4'])[0])} "
            f"| {fmt(test)} / {fmt(lc)} |"
        )
    return "\n".join(rows) + "\n\n" + "\n".join(f"- {machine_line(s)}" for s in runs)


def demo_table(runs: list[dict[str, Any]]) -> str:
    """One row per recorded run of the same recipe (threads and precision differ), then the examples."""
    if not runs:
        return "_not run yet_"
    lines = [
        "| run | CPU, threads, precision | updates | training | end to end | sacreBLEU (test pairs, beam 4) "
        "| chrF2 | examples exactly right |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in runs:
        sc = s["scores"]
        m = s["machine"]
        lines.append(
            f"| `{s['command']}` | {m.get('cpu_capability', m['cpu'])}, {m['threads']}, {s.get('precision', '?')} "
            f"| {s['updates']:,} | "
            f"{s['train_seconds'] / 60:.1f} min | {s['total_seconds'] / 60:.1f} min | **{fmt(sc['sacrebleu'])}** "
            f"({s.get('test_sentences', '?')} pairs) | {fmt(sc['chrf'])} | {s['examples_right']} of {len(s['examples'])} |"
        )
    first = runs[0]
    m = first["machine"]
    lines += ["", f"{first.get('date', '')} · {cpu(m)}, {m['cores']} cores · torch {m['torch']}", ""]
    lines += [f"- {en} → {de}" for en, de in first["examples"].items()]
    return "\n".join(lines)


def gpt_pretrain_table(s: dict[str, Any]) -> str:
    """Perplexity on the whole held-out text of every source (experiments/gpt1_pretrain.sh), with its size."""
    corpus = s.get("corpus", {})
    described = {**corpus.get("sources", {}), **corpus.get("evaluation_only", {})}
    order = [name for name in described if name in s["evaluations"]]
    order += [name for name in s["evaluations"] if name not in described]
    rows = [
        "| held-out text (all of it) | words | BPE tokens scored | perplexity per BPE token |",
        "|---|---|---|---|",
    ]
    for name in order:
        e, d = s["evaluations"][name], described.get(name, {})
        words = d.get("heldout", {}).get("words")
        rows.append(
            f"| {d.get('heldout_text', name)} | {f'{words:,}' if words else '–'} | {e['tokens']:,} | "
            f"**{fmt(e['perplexity'], 1)}** |"
        )
    cfg = s["settings"]
    t, data = cfg["trainer"], cfg["data"]
    recipe = (
        f"`{cfg['preset']}` GPT, n_ctx {cfg['model'].get('n_ctx', 'preset')}, byte-level BPE of "
        f"{data['vocab_size']:,}{' (lower-casing)' if data.get('lowercase') else ''}, {data['batch_size']} "
        f"windows per update, lr {t['lr']:g}, warm-up {t['warmup']}, {t['schedule']} schedule over "
        f"{t.get('schedule_total') or t['max_steps']:,} updates, stopped at {t['max_steps']:,}, seed {s['seed']}; "
        f"{corpus.get('train', {}).get('words', 0):,} training words"
    )
    if s["updates"] != t["max_steps"]:
        recipe += f" (**the {t.get('max_minutes'):g}-minute cap stopped it at update {s['updates']:,}**)"
    return "\n".join(rows) + f"\n\n{recipe}\n\n{machine_line(s, ('tokenizers', 'tokenizers'))}"


_ORDINALS = {2: "second", 3: "third"}


def pretraining_comparison_table(runs: list[dict[str, Any]]) -> str:
    """Several pre-training runs of the same shape, one row each: validation perplexity at the end and
    perplexity on the whole held-out text of every source."""
    if not runs:
        return "_not run yet_"
    sources = list(runs[0]["evaluations"])
    rows = [
        "| pre-training | validation ppl (end) | " + " | ".join(sources) + " |",
        "|---|---|" + "---|" * len(sources),
    ]
    for s in runs:
        repeat = s.get("corpus", {}).get("repeat_every")
        total = _trainer(s).get("schedule_total") or s["updates"]
        what = f"{s['updates']:,} updates (cosine over {total:,})" + (
            f", every {_ORDINALS.get(repeat, f'{repeat}th')} line twice" if repeat else ""
        )
        valid = s["validation_curve"][-1].get("valid_ppl") if s["validation_curve"] else None
        cells = " | ".join(
            fmt(s["evaluations"][k]["perplexity"], 1) if k in s["evaluations"] else "–" for k in sources
        )
        rows.append(f"| {what} | {fmt(valid, 1)} | {cells} |")
    return (
        "\n".join(rows)
        + "\n\n"
        + "\n".join(f"- {machine_line(s, ('tokenizers', 'tokenizers'))}" for s in runs)
    )


def _where(s: dict[str, Any]) -> str:
    """Date, machine and torch of a run, for a table cell."""
    m = s["machine"]
    return f"{s['date']}, {cpu(m)}, {threads_text(m['threads'])}, torch {m['torch']}"


def pretraining_reruns_table(pairs: list[tuple[dict[str, Any], dict[str, Any]]]) -> str:
    """A pre-training run again from its recorded command (``(first, again)`` summaries of one command): where
    each ran, how many validation evaluations came out bit for bit the same, and held-out perplexity of both."""
    if not pairs:
        return "_not run yet_"
    lines = [
        "| command | first run | again | validation loss identical | held-out perplexity, first → again |",
        "|---|---|---|---|---|",
    ]
    for first, again in pairs:
        if first["command"] != again["command"]:
            raise ValueError(f"not the same command: {first['command']!r} and {again['command']!r}")
        curve = {r["step"]: r["valid_loss"] for r in first["validation_curve"]}
        same = sum(curve.get(r["step"]) == r["valid_loss"] for r in again["validation_curve"])
        texts = [k for k in first["evaluations"] if k in again["evaluations"]]
        ppl = " · ".join(
            f"{k} {first['evaluations'][k]['perplexity']:.8g} → {again['evaluations'][k]['perplexity']:.8g}"
            for k in texts
        )
        lines.append(
            f"| `{first['command']}` | {_where(first)} | {_where(again)} | "
            f"{same} of {len(curve)} evaluations | {ppl} |"
        )
    notes = [
        f"- {which} of `{s['name']}`: {s['note']}"
        for first, again in pairs
        for which, s in (("first run", first), ("again", again))
        if s.get("note")
    ]
    return "\n".join(lines + (["", *notes] if notes else []))


def gpt_pretrain_choice_table(s: dict[str, Any]) -> str:
    """The pre-trained model chosen on the SST-2 holdout (experiments/gpt1_pretrain_choice.sh)."""
    cands = s["candidates"]
    texts = [k for k in cands[0]["perplexity"] if all(k in c["perplexity"] for c in cands)]
    changed = any(c.get("changes") for c in cands)  # a column for shapes other than the recipe's
    lines = [
        "| candidate | "
        + ("changes to the recipe | " if changed else "")
        + "cosine schedule planned over | updates | "
        + " | ".join(f"perplexity {k}" for k in texts)
        + " | SST-2 holdout accuracy |",
        "|---|---|---|" + "---|" * (len(texts) + changed) + "---|",
    ]
    for c in cands:
        b = "**" if c["name"] == s["chosen"] else ""
        ppl = " | ".join(fmt(c["perplexity"][k], 1) for k in texts)
        chosen = " (chosen)" if b else ""
        change = " ".join(f"{k}={v}" for k, v in c.get("changes", {}).items()) or "–"
        lines.append(
            f"| {b}`{c['name']}`{b}{chosen} | "
            + (f"{change} | " if changed else "")
            + f"{c['schedule_total']:,} | {c['updates']:,} | {ppl} | {b}{fmt(c['holdout_accuracy'])}{b} |"
        )
    tuned = cands[0]["finetuning"]["settings"]["trainer"]
    lines += [
        "",
        f"Fine-tuning from each: SST-2 minus its {cands[0]['finetuning']['settings']['data'].get('holdout', 0):,}-"
        f"example holdout, lr {tuned['lr']:g}, {tuned['max_steps']:,} updates, seed {tuned['seed']}; holdout of "
        f"{cands[0]['holdout_examples']:,} examples; rule: {s['rule']}.",
        "",
        f"{provenance_line(s)} · {s['wall_seconds'] / 60:.1f} min wall"
        if s.get("wall_seconds")
        else provenance_line(s),
    ]
    return "\n".join(lines)


_TASK_NAMES = {
    "sst2": "SST-2", "rte": "RTE", "mrpc": "MRPC", "cola": "CoLA", "stsb": "STS-B", "story_cloze": "Story Cloze",
}  # fmt: skip
_METRIC_NAMES = {"accuracy": "accuracy", "f1": "F1", "mcc": "Matthews corr.", "pearson": "Pearson r"}


def gpt_transfer_tables(s: dict[str, Any]) -> str:
    """The setting chosen on the holdout, then dev (Story Cloze: test) once for it (experiments/gpt1_transfer.sh);
    a summary of the holdout step alone (``CHOOSE_ONLY=1``, no dev yet) shows its grids and choice."""
    if "variants" not in s:
        return (
            pretraining_selection_table([s])
            + "\n\n_dev not scored yet: the same command without CHOOSE_ONLY=1_"
        )
    sel, seeds, task = s["selection"], s["seeds"], _TASK_NAMES.get(s["task"], s["task"])
    reported = s.get("report_split", "dev")
    trained_on = "validation stories" if s["task"] == "story_cloze" else "train"
    metrics, chosen = s["metrics"], sel["chosen"]
    lines = [
        f"Setting chosen on the holdout ({sel['holdout_examples']:,} examples of {task} {trained_on}, fixed seed; "
        f"{s['train_examples']:,} left for training; seed {sel['seed']}): {sel['rule']}.",
        "",
        f"| lr | classifier dropout | updates of {s['batch_size']} examples | epochs | "
        + " | ".join(f"holdout {_METRIC_NAMES.get(m, m)}" for m in metrics)
        + " |",
        "|---|---|---|---|" + "---|" * len(metrics),
    ]
    for row in sel["grid"]:
        picked = (row["lr"], row["clf_dropout"], row["updates"]) == (
            chosen["lr"],
            chosen["clf_dropout"],
            chosen["updates"],
        )
        b = "**" if picked else ""
        cells = " | ".join(f"{b}{fmt(row['holdout'][m])}{b}" for m in metrics)
        lines.append(
            f"| {row['lr']:g} | {row['clf_dropout']:g} | {b}{row['updates']:,}{b}{' (chosen)' if picked else ''} | "
            f"{fmt(row['epochs'])} | {cells} |"
        )
    # PRETRAINS: the pre-trained model was chosen on the holdout too (the grid above is the winner's)
    if candidates := sel.get("pretraining_candidates"):

        def candidate(c: dict[str, Any]) -> str:
            b = "**" if c["pretraining"]["init"] == s["pretraining"]["init"] else ""
            return (
                f"{b}`{c['pretraining'].get('name', c['pretraining']['init'])}`: "
                + " / ".join(f"{_METRIC_NAMES.get(m, m)} {fmt(v)}" for m, v in c["holdout"].items())
                + f" at lr {c['chosen']['lr']:g}, {c['chosen']['updates']:,} updates{b}"
                + (" (chosen)" if b else "")
            )

        listed = "; ".join(candidate(c) for c in candidates)
        lines += [
            "",
            f"Pre-trained model, chosen on the same holdout (each candidate's best setting): {listed}.",
        ]
    if recorded := sel.get("recorded"):  # dev at the choice of a holdout step on record (its runs were gone)
        again = " / ".join(
            f"{_METRIC_NAMES.get(m, m)} {fmt(v)}" for m, v in recorded["chosen_holdout_remade"].items()
        )
        lines += [
            "",
            f"The holdout step is the one on record (`{recorded['file']}`, {recorded.get('date', '?')}, the same command "
            f"with CHOOSE_ONLY=1); its chosen run, made again for dev, scores {again} on the holdout"
            + (
                ", as recorded."
                if recorded.get("same")
                else ", where the record says "
                + " / ".join(f"{fmt(v)}" for v in recorded["chosen_holdout"].values())
                + "."
            ),
        ]
    lines += [
        "",
        f"{task} {reported} ({s['dev_examples']} examples), scored once, for the chosen setting (lr {s['lr']:g}, "
        f"classifier dropout {s['clf_dropout']:g}, {s['updates']:,} updates); "
        + ", ".join(_METRIC_NAMES.get(m, m) for m in metrics)
        + " in %:",
        "",
        "| model | " + " | ".join(f"seed {x}" for x in seeds) + " | **mean ± sd** |",
        "|---|" + "---|" * (len(seeds) + 1),
    ]
    for v in s["variants"].values():
        cells = " | ".join(" / ".join(fmt(v["dev"][str(x)][m]) for m in metrics) for x in seeds)
        means = " / ".join(
            f"{v[m]['mean']:.2f}" + (f" ± {v[m]['sd']:.2f}" if v[m].get("sd") is not None else "")
            for m in metrics
        )
        lines.append(f"| {v['label']} | {cells} | **{means}** |")
    pre = s.get("pretraining", {})
    gain = " / ".join(f"{s['pretraining_gain'][x]:+.2f}" for x in metrics)
    lines += [
        "",
        f"Pre-training adds **{gain}** points of {reported} "
        + " / ".join(_METRIC_NAMES.get(x, x) for x in metrics)
        + " (means).",
        "",
        f"{provenance_line(s)} · {len(s['runs'])} runs, {s['train_seconds'] / 60:.1f} min of training in all, "
        f"{s['wall_seconds'] / 60:.1f} min wall · pre-trained model: `{pre.get('command', pre.get('init'))}` "
        f"({pre.get('date', '?')})" + (f" · {s['note']}" if s.get("note") else ""),
    ]
    return "\n".join(lines)


# what each task's transfer is measured against (docs/results.md §2): a level and a margin over random initialisation
_TRANSFER_TARGETS = {
    "sst2": "≥ 80, ≥ +3",
    "rte": "≥ 58, ≥ +3",
    "mrpc": "F1 ≥ 82 / ≥ 72, ≥ +3",
}


# the overview's rows, in the page's order: from the 759-update pre-trainings, the 4,000-update ones, then with the
# 8,000-update one among the candidates
_TRANSFER_OVERVIEW = (
    "gpt1_sst2", "gpt1_rte", "gpt1_mrpc", "gpt1_sst2_u4000_chosen", "gpt1_rte_u4000", "gpt1_mrpc_u4000",
    "gpt1_sst2_u8000", "gpt1_rte_u8000", "gpt1_mrpc_u8000",
    "gpt1_sst2_rep2_u8000", "gpt1_rte_rep2_u8000", "gpt1_mrpc_rep2_u8000", "gpt1_rte_long", "gpt1_story_cloze",
)  # fmt: skip


# pre-trainings run again from their recorded commands: (the first run's summary, the rerun's), in results/levers/
_PRETRAINING_RERUNS = (
    ("gpt1_pretrain_ctx256_u4000", "gpt1_pretrain_ctx256_u4000_rerun_h200"),
    ("gpt1_pretrain_ctx256_rep2_u4000", "gpt1_pretrain_ctx256_rep2_u4000_rerun_h200"),
    ("gpt1_pretrain_ctx256_rep2_u8000", "gpt1_pretrain_ctx256_rep2_u8000_rerun"),
)
# the three pre-trainings of the chosen shape, candidates on every task's holdout, and each task's grid
_U8000_CANDIDATES = (
    "runs/gpt1_pretrain_ctx256_u8000 runs/gpt1_pretrain_ctx256_u4000 runs/gpt1_pretrain_ctx256_rep2_u4000"
)
# the same, with the 8,000-update pre-training whose text repeats every second line listed first
_REP2_U8000_CANDIDATES = "runs/gpt1_pretrain_ctx256_rep2_u8000 " + _U8000_CANDIDATES
# longer fine-tuning: the copying pre-training and the plain 4,000-update one, each grid reaching 12 epochs
_LONG_CANDIDATES = "runs/gpt1_pretrain_ctx256_rep2_u8000 runs/gpt1_pretrain_ctx256_u4000"
_U8000_TASKS = {
    "sst2": 'HOLDOUT=1000 GRID="881 1761" LRS="3e-4" VARIANTS="pretrained scratch noaux" experiments/gpt1_sst2.sh',
    "rte": 'TASK=rte HOLDOUT=500 GRID="187 373" LRS="6.25e-5 2.5e-4" VARIANTS="pretrained scratch noaux" '
    "experiments/gpt1_transfer.sh",
    "mrpc": 'TASK=mrpc HOLDOUT=500 GRID="297 594" LRS="6.25e-5 2.5e-4" VARIANTS="pretrained scratch noaux" '
    "experiments/gpt1_transfer.sh",
}


def transfer_overview_table(runs: list[dict[str, Any]]) -> str:
    """Every task's transfer at a glance: one row per summary of experiments/gpt1_transfer.sh, its mean ± sd over
    seeds for each model (pre-trained, random initialisation, no auxiliary LM) and the gain of pre-training."""

    def cell(s: dict[str, Any], variant: str) -> str:
        v = s["variants"].get(variant)
        if v is None:
            return "—"
        return " / ".join(
            f"{v[m]['mean']:.1f}" + (f" ± {v[m]['sd']:.1f}" if v[m].get("sd") is not None else "")
            for m in s["metrics"]
        )

    lines = [
        "| task (split, metric) | pre-trained model | setting (chosen on the holdout) | pre-trained | "
        "random init | no aux LM | gain | target |",
        "|---|---|---|---|---|---|---|---|",
    ]
    first: dict[tuple[Any, ...], str] = {}  # (task, pre-trained model, setting) → the summary that showed it
    same: list[str] = []  # summaries whose holdout chose what a row above shows: the same runs, not repeated
    for s in runs:
        task = _TASK_NAMES.get(s["task"], s["task"])
        metric = " / ".join(_METRIC_NAMES.get(m, m) for m in s["metrics"])
        pre = s.get("pretraining", {})
        key = (s["task"], pre.get("init"), s["lr"], s.get("clf_dropout"), s["updates"], tuple(s["seeds"]))
        if key in first:
            same.append(
                f"`results/{s['name']}.json` chose the model and setting of `results/{first[key]}.json`"
            )
            continue
        first[key] = s["name"]
        gain = " / ".join(f"{s['pretraining_gain'][m]:+.1f}" for m in s["metrics"])
        lines.append(
            f"| {task} ({s.get('report_split', 'dev')}, {metric}) | `{pre.get('name', pre.get('init', '?'))}` | "
            f"lr {s['lr']:g}, {s['updates']:,} updates | **{cell(s, 'pretrained')}** | {cell(s, 'scratch')} | "
            f"{cell(s, 'noaux')} | {gain} | {_TRANSFER_TARGETS.get(s['task'], '—')} |"
        )
    seeds = sorted({len(s["seeds"]) for s in runs})
    lines += [
        "",
        f"Means ± sd over {' or '.join(map(str, seeds))} seeds, ×100; every row's tables, commands and machines are in "
        "its section below ("
        + ", ".join(f"`results/{s['name']}.json`" for s in runs)
        + ")."
        + "".join(f"  {line} (the same runs; its row is not repeated)." for line in same),
    ]
    return "\n".join(lines)


def pretraining_selection_table(runs: list[dict[str, Any]]) -> str:
    """The holdout step alone for several tasks (``CHOOSE_ONLY=1``): each candidate pre-trained model's grid, its
    best setting, and the candidate chosen (bold)."""
    lines = [
        "| task | pre-trained model | holdout accuracy over the grid (lr × updates) | best setting | best holdout |",
        "|---|---|---|---|---|",
    ]
    for s in runs:
        sel, task = s["selection"], _TASK_NAMES.get(s["task"], s["task"])
        for c in sel["pretraining_candidates"]:
            pre, picked = c["pretraining"], c["pretraining"]["init"] == sel["picked"]
            b = "**" if picked else ""
            grid = " · ".join(
                f"{fmt(g['holdout']['accuracy'], 1)} ({g['lr']:g} × {g['updates']:,})" for g in c["grid"]
            )
            best = " / ".join(f"{_METRIC_NAMES.get(m, m)} {fmt(v)}" for m, v in c["holdout"].items())
            lines.append(
                f"| {task} | {b}`{pre.get('name', pre['init'])}`{b}{' (chosen)' if picked else ''} | {grid} | "
                f"lr {c['chosen']['lr']:g}, {c['chosen']['updates']:,} updates | {b}{best}{b} |"
            )
    lines += [""] + [
        f"- `{s['command']}` · {s['date']} · {cpu(s['machine'])} · torch {s['machine']['torch']}"
        + (f" · {s['wall_seconds'] / 60:.1f} min wall" if s.get("wall_seconds") else "")
        + note_suffix(s)
        for s in runs
    ]
    holdouts = ", ".join(
        f"{_TASK_NAMES.get(s['task'], s['task'])} {s['selection']['holdout_examples']:,}" for s in runs
    )
    return "\n".join(
        [
            f"Holdout examples carved from each task's training split (fixed seed): {holdouts}; seed "
            f"{runs[0]['selection']['seed']}; rule: {runs[0]['selection']['rule']}.",
            "",
            *lines,
        ]
    )


def gpt_diagnostics_table(s: dict[str, Any]) -> str:
    """The cross-sentence diagnostics (experiments/gpt1_diagnostics.sh): each transformation, pre-trained and
    from random initialisation, against its target."""
    inits = list(dict.fromkeys(r["init"] for r in s["runs"]))
    by = {(r["diagnostic"], r["init"]): r for r in s["runs"]}
    lines = [
        "| diagnostic | read as (transformation) | metric | target | "
        + " | ".join(s["init_labels"].get(i, i) for i in inits)
        + " |",
        "|---|---|---|---|" + "---|" * len(inits),
    ]
    for name in dict.fromkeys(r["diagnostic"] for r in s["runs"]):
        first = next(r for r in s["runs"] if r["diagnostic"] == name)
        cells = []
        for i in inits:
            r = by.get((name, i))
            if r is None:
                cells.append("–")
                continue
            b = "**" if r["score"] >= r["target"] else ""
            cells.append(f"{b}{r['score']:.3f}{b} ({r['updates']:,} upd.)")
        lines.append(
            f"| {name} | `{first['task']}` ({first['kind']}) | {first['metric']} | ≥ {first['target']:g} | "
            + " | ".join(cells)
            + " |"
        )
    lines += [
        "",
        f"{s['data']}. Scores in **bold** reach the target.",
        "",
        f"{provenance_line(s)} · {s['wall_seconds'] / 60:.1f} min wall",
    ]
    return "\n".join(lines)


def diagnostics_by_pretraining_table(runs: list[dict[str, Any]]) -> str:
    """The same diagnostics fine-tuned from several pre-trained models: one row per summary and start (its
    pre-trained model's folder, or random initialisation of that model's shape and tokenizer), one column per
    diagnostic."""
    runs = [r for r in runs if r.get("runs")]
    if not runs:
        return "_not run yet_"

    def model(s: dict[str, Any]) -> str:
        given = [w for w in s["command"].split() if w.startswith("PRETRAIN=")]
        return Path(given[0].removeprefix("PRETRAIN=")).name if given else "gpt1_pretrain"

    def seed(s: dict[str, Any]) -> str:
        given = [w for w in s["command"].split() if w.startswith("SEED=")]
        return given[0].removeprefix("SEED=") if given else "0"

    rows = [  # (summary, start, its runs): pre-trained first, then random initialisation where it was run
        (s, init, [r for r in s["runs"] if r["init"] == init])
        for s in runs
        for init in ("pretrained", "scratch")
        if any(r["init"] == init for r in s["runs"])
    ]
    first = {r["diagnostic"]: r for _, _, rs in rows for r in rs}  # name → a run of it (its task and metric)
    lines = [
        "| start of fine-tuning | summary | fine-tuning updates, seed | "
        + " | ".join(f"{name} (`{r['task']}`, {r['metric']})" for name, r in first.items())
        + " |",
        "|---|---|---|" + "---|" * len(first),
    ]
    for s, init, rs in rows:
        by_name = {r["diagnostic"]: r for r in rs}
        updates = ", ".join(f"{u:,}" for u in dict.fromkeys(r["updates"] for r in rs))
        cells = ["–" if n not in by_name else f"{by_name[n]['score']:.3f}" for n in first]
        start = (
            f"`{model(s)}`" if init == "pretrained" else f"random init. (shape, tokenizer of `{model(s)}`)"
        )
        lines.append(f"| {start} | `{s['name']}` | {updates}, {seed(s)} | " + " | ".join(cells) + " |")
    lines.append("")
    lines += [
        f"- {provenance_line(s)} · {s['wall_seconds'] / 60:.1f} min wall" + note_suffix(s) for s in runs
    ]
    return "\n".join(lines)


def copy_onset_table(s: dict[str, Any]) -> str:
    """experiments/gpt_copy_onset.py: the update where a GPT from random initialisation starts to copy."""
    lines = [
        "| model (from random initialisation) | copying from update | loss, first A → copied A, at the end |",
        "|---|---|---|",
    ]
    for name, r in s["runs"].items():
        last = r["curve"][-1]
        onset = f"**{r['onset_update']:,}**" if r["onset_update"] else f"not within {last['update']:,}"
        lines.append(f"| {name} | {onset} | {last['first_half']:.2f} → {last['copied_half']:.2f} |")
    m = s["machine"]
    lines += [
        "",
        f"{s['data']}, lr {next(iter(s['runs'].values()))['lr']:g}.",
        "",
        provenance_line(s, threads_text(m["threads"])),
    ]
    return "\n".join(lines)


def _copy_cells(r: dict[str, Any]) -> str:
    """One checkpoint's cells: its update, then first → repeated loss on held-out captions and on grammar."""
    h, g = r["heldout"], r["grammar"]
    return (
        f"{r['update']:,} | {h['first']:.2f} → **{h['repeated']:.2f}** "
        f"| {g['first']:.2f} → **{g['repeated']:.2f}**"
    )


def pretrained_copying_table(s: dict[str, Any]) -> str:
    """experiments/gpt_copy_onset.py --checkpoints: does the pre-trained model predict a repeated sentence?"""
    lines = [
        "| pre-training update | held-out caption: first → repeated (loss per token) | grammar sentence: first → repeated |",
        "|---|---|---|",
    ]
    lines += [f"| {_copy_cells(r)} |" for r in s["checkpoints"]]
    n, threads = s["checkpoints"][0]["heldout"]["texts"], s["machine"]["threads"]
    lines += [
        "",
        f"{n} sentences each; " + provenance_line(s, threads_text(threads)),
    ]
    return "\n".join(lines)


def copying_by_pretraining_table(runs: list[dict[str, Any]]) -> str:
    """Several pre-training runs measured like :func:`pretrained_copying_table`, one row per run and
    checkpoint: whether a change to the pre-training (e.g. repeated lines) makes the model copy."""
    lines = [
        "| pre-training run | update | held-out caption: first → repeated (loss per token) "
        "| grammar sentence: first → repeated |",
        "|---|---|---|---|",
    ]
    for s in runs:
        lines += [f"| `{Path(s['run']).name}` | {_copy_cells(r)} |" for r in s["checkpoints"]]
    lines.append("")
    for s in runs:
        n, threads = s["checkpoints"][0]["heldout"]["texts"], s["machine"]["threads"]
        lines.append(f"- {n} sentences each; " + provenance_line(s, threads_text(threads)))
    return "\n".join(lines)


def experiment_block(experiment: str) -> Callable[[dict[str, Any]], str]:
    """``ronbun experiment EXPERIMENT``'s own report (its ``markdown``: table3, table5 or figure2), without its
    title and with its headings under the page's."""

    def render(s: dict[str, Any]) -> str:
        markdown = importlib.import_module(f"ronbun.experiments.{experiment}").markdown
        body = markdown(s).split("\n", 2)[2]  # without its title
        return body.replace("\n## ", "\n#### ").strip()

    return render


def blocks(results: Path) -> dict[str, Callable[[], str]]:
    def one(pattern: str, render: Callable[[dict[str, Any]], str], command: str = "") -> Callable[[], str]:
        """The block of the first summary matching ``pattern``; without one, the command that makes it."""
        missing = f"_not yet run: `{command}`_" if command else "_not run yet_"

        def run() -> str:
            found = load(results, pattern)
            return render(found[0]) if found else missing

        return run

    return {
        "multi30k": one("multi30k.json", mt_table, "experiments/multi30k.sh"),
        "multi30k-seeds": lambda: seeds_table(load(results, "multi30k_15min_s*.json")),
        # the same recipe trained in literature mode (lower-cased, Moses-tokenised text), for the lc-tok convention
        "multi30k-literature": one(
            "multi30k_literature.json",
            mt_table,
            "NAME=multi30k_literature experiments/multi30k.sh --lowercase-tokenized",
        ),
        # the recipe before dropout 0.2 and label smoothing 0.2 were adopted (P_drop 0.1, ε_ls 0.1, 6,600 updates)
        "multi30k-d0.1": one("levers/multi30k_recipe_d0.1_ls0.1.json", mt_table),
        "multi30k-seeds-d0.1": lambda: seeds_table(load(results, "levers/multi30k_d0.1_ls0.1_15min_s*.json")),
        "multi30k-dropout0.3": one("multi30k_lever_dropout0.3.json", mt_table),
        "multi30k-seeds-dropout0.3": lambda: seeds_table(
            load(results, "levers/multi30k_dropout0.3_15min_s*.json")
        ),
        "multi30k-schedule-15min": lambda: schedule_table(
            [r for r in load(results, "levers/multi30k_d0.1_ls0.1_15min_s*.json") if _precision(r) == "bf16"]
            + load(results, "levers/multi30k_cosine_15min_s*.json")
        ),
        "multi30k-levers": lambda: levers_table(
            load(results, "multi30k.json")
            + load(results, "levers/multi30k_recipe_d0.1_ls0.1.json")
            + load(results, "multi30k_lever_*.json")
        ),
        "multi30k-ensemble": one("levers/multi30k_ensemble.json", ensemble_table),
        "multi30k-screen": lambda: screen_table(load(results, "levers/multi30k_screen_*.json")),
        "demo": lambda: demo_table(load(results, "demo*.json")),
        "table3": one(
            "table3.json",
            experiment_block("table3"),
            "ronbun experiment table3 --dataset multi30k --data-dir ../shared/data/multi30k --parallel 2",
        ),
        "table3-quick": one(
            "table3_quick.json",
            experiment_block("table3"),
            "ronbun experiment table3 --quick --parallel 1 --threads 1",
        ),
        "gpt-pretrain": one("gpt1_pretrain.json", gpt_pretrain_table, "experiments/gpt1_pretrain.sh"),
        "gpt-pretrain-reruns": lambda: pretraining_reruns_table(
            [
                (load(results, f"levers/{name}.json")[0], again[0])
                for name, rerun in _PRETRAINING_RERUNS
                if (again := load(results, f"levers/{rerun}.json"))
            ]
        ),
        "gpt-pretrain-length": lambda: pretraining_comparison_table(
            load(results, "levers/gpt1_pretrain_ctx256_rerun_avx512.json")
            + load(results, "levers/gpt1_pretrain_ctx256_u4000.json")
            + load(results, "levers/gpt1_pretrain_ctx256_rep2_u4000.json")
            + load(results, "levers/gpt1_pretrain_ctx256_u8000.json")
            + load(results, "levers/gpt1_pretrain_ctx256_rep2_u8000.json")
        ),
        "gpt-rte-u4000": one(
            "gpt1_rte_u4000.json",
            gpt_transfer_tables,
            'PRETRAINS="runs/gpt1_pretrain_ctx256_u4000 runs/gpt1_pretrain_ctx256_rep2_u4000" NAME=gpt1_rte_u4000 '
            'TASK=rte HOLDOUT=500 GRID="187 373" LRS="6.25e-5 2.5e-4" VARIANTS="pretrained scratch" '
            "experiments/gpt1_transfer.sh",
        ),
        "gpt-mrpc-u4000": one(
            "gpt1_mrpc_u4000.json",
            gpt_transfer_tables,
            'PRETRAINS="runs/gpt1_pretrain_ctx256_u4000 runs/gpt1_pretrain_ctx256_rep2_u4000" NAME=gpt1_mrpc_u4000 '
            'TASK=mrpc HOLDOUT=500 GRID="297 594" LRS="6.25e-5 2.5e-4" VARIANTS="pretrained scratch noaux" '
            "experiments/gpt1_transfer.sh",
        ),
        "gpt-sst2-u4000-chosen": one(
            "gpt1_sst2_u4000_chosen.json",
            gpt_transfer_tables,
            'PRETRAINS="runs/gpt1_pretrain_ctx256_u4000 runs/gpt1_pretrain_ctx256_rep2_u4000" '
            'NAME=gpt1_sst2_u4000_chosen GRID="881 1761" LRS="3e-4" VARIANTS="pretrained scratch noaux" experiments/gpt1_sst2.sh',
        ),
        **{
            f"gpt-{task}-u8000": one(
                f"gpt1_{task}_u8000.json",
                gpt_transfer_tables,
                f'PRETRAINS="{_U8000_CANDIDATES}" NAME=gpt1_{task}_u8000 {args}',
            )
            for task, args in _U8000_TASKS.items()
        },
        **{
            f"gpt-{task}-rep2-u8000": one(
                f"gpt1_{task}_rep2_u8000.json",
                gpt_transfer_tables,
                f'PRETRAINS="{_REP2_U8000_CANDIDATES}" NAME=gpt1_{task}_rep2_u8000 {args}',
            )
            for task, args in _U8000_TASKS.items()
        },
        "gpt-rte-long": one(
            "gpt1_rte_long.json",
            gpt_transfer_tables,
            f'PRETRAINS="{_LONG_CANDIDATES}" NAME=gpt1_rte_long TASK=rte HOLDOUT=500 GRID="187 373 746" '
            'LRS="6.25e-5 2.5e-4" VARIANTS="pretrained scratch noaux" experiments/gpt1_transfer.sh',
        ),
        "gpt-rte-long-edge": one(
            "levers/gpt1_rte_long_u1492.json",
            lambda s: pretraining_selection_table([s]),
            "PRETRAIN=runs/gpt1_pretrain_ctx256_rep2_u8000 NAME=gpt1_rte_long_u1492 RESULTS=results/levers TASK=rte "
            'HOLDOUT=500 GRID="1492" LRS="6.25e-5 2.5e-4" CHOOSE_ONLY=1 experiments/gpt1_transfer.sh',
        ),
        "gpt-transfer-overview": lambda: transfer_overview_table(
            [s for name in _TRANSFER_OVERVIEW for s in load(results, f"{name}.json") if "variants" in s]
        ),
        "gpt-selection-u4000": lambda: pretraining_selection_table(
            [
                s
                for t in ("sst2", "rte", "mrpc")
                for s in load(results, f"levers/gpt1_{t}_selection_u4000.json")
            ]
        ),
        "gpt-pretrain-choice": one(
            "gpt1_pretrain_choice.json", gpt_pretrain_choice_table, "experiments/gpt1_pretrain_choice.sh"
        ),
        "gpt-sst2": one("gpt1_sst2.json", gpt_transfer_tables, "experiments/gpt1_sst2.sh"),
        "gpt-rte": one(
            "gpt1_rte.json",
            gpt_transfer_tables,
            'PRETRAIN=runs/gpt1_pretrain_ctx256 TASK=rte HOLDOUT=500 GRID="187 373" LRS="6.25e-5 2.5e-4" '
            "experiments/gpt1_transfer.sh",
        ),
        "gpt-mrpc": one(
            "gpt1_mrpc.json",
            gpt_transfer_tables,
            'PRETRAIN=runs/gpt1_pretrain_ctx256 TASK=mrpc HOLDOUT=500 GRID="297 594" LRS="6.25e-5 2.5e-4" '
            "experiments/gpt1_transfer.sh",
        ),
        "gpt-story-cloze": one(
            "gpt1_story_cloze.json",
            gpt_transfer_tables,
            "PRETRAIN=runs/gpt1_pretrain_ctx256_rep2_u4000 TASK=story_cloze DATA_DIR=../shared/data/story_cloze_RESTRICTED "
            'HOLDOUT=371 GRID="47 141" LRS="6.25e-5 2.5e-4" VARIANTS="pretrained scratch noaux" experiments/gpt1_transfer.sh',
        ),
        "gpt-copy-onset": one(
            "levers/gpt_copy_onset.json",
            copy_onset_table,
            "python experiments/gpt_copy_onset.py --updates 3000 --out results/levers/gpt_copy_onset.json",
        ),
        "gpt-pretrained-copying": one(
            "levers/gpt_pretrained_copying.json",
            pretrained_copying_table,
            "python experiments/gpt_copy_onset.py --checkpoints runs/gpt1_pretrain --texts "
            "runs/gpt_corpus/heldout/multi30k.txt --out results/levers/gpt_pretrained_copying.json",
        ),
        "gpt-copying-repeat": lambda: copying_by_pretraining_table(
            load(results, "levers/gpt_pretrained_ctx256_copying.json")
            + load(results, "levers/gpt_pretrained_ctx256_*repeat*_copying.json")
            + load(results, "levers/gpt_pretrained_ctx256_u4000_copying.json")
            + load(results, "levers/gpt_pretrained_ctx256_rep2_u4000_copying.json")
            + load(results, "levers/gpt_pretrained_ctx256_u8000_copying.json")
            + load(results, "levers/gpt_pretrained_ctx256_rep2_u8000_copying.json")
        ),
        "gpt-diagnostics-pretraining": lambda: diagnostics_by_pretraining_table(
            load(results, "gpt1_diagnostics.json")
            + load(results, "levers/gpt1_diagnostics_u4000.json")
            + load(results, "levers/gpt1_diagnostics_u4000_2000upd.json")
            + load(results, "levers/gpt1_diagnostics_rep2_u4000.json")
            + load(results, "levers/gpt1_diagnostics_rep2_u4000_2000upd.json")
            + load(results, "levers/gpt1_diagnostics_u8000.json")
            + load(results, "levers/gpt1_diagnostics_u8000_2000upd.json")
            + load(results, "levers/gpt1_diagnostics_u8000_2000upd_s1.json")
            + load(results, "levers/gpt1_diagnostics_u8000_2000upd_s1_similarity.json")
            + load(results, "levers/gpt1_diagnostics_rep2_u8000.json")
            + load(results, "levers/gpt1_diagnostics_rep2_u8000_2000upd.json")
            + load(results, "levers/gpt1_diagnostics_rep2_u8000_2000upd_s1.json")
            + load(results, "levers/gpt1_diagnostics_rep2_u8000_2000upd_s1_similarity.json")
            + load(results, "levers/gpt1_diagnostics_rep2_u8000_6000upd.json")
            + load(results, "levers/gpt1_diagnostics_rep2_u8000_6000upd_s1.json")
            + load(results, "levers/gpt1_diagnostics_rep2_u8000_6000upd_s2.json")
            + load(results, "levers/gpt1_diagnostics_rep2_u8000_2000upd_scratch.json")
            + load(results, "levers/gpt1_diagnostics_rep2_u8000_2000upd_scratch_s1.json")
            + load(results, "levers/gpt1_diagnostics_rep2_u8000_6000upd_scratch.json")
            + load(results, "levers/gpt1_diagnostics_rep2_u8000_6000upd_scratch_s1.json")
        ),
        "gpt-sst2-u4000": one(
            "gpt1_sst2_u4000.json",
            gpt_transfer_tables,
            'PRETRAIN=runs/gpt1_pretrain_ctx256_u4000 NAME=gpt1_sst2_u4000 GRID="881 1761" LRS="3e-4" '
            'VARIANTS="pretrained scratch" experiments/gpt1_sst2.sh',
        ),
        "gpt-sst2-ctx256": one(
            "gpt1_sst2_ctx256.json",
            gpt_transfer_tables,
            'PRETRAIN=runs/gpt1_pretrain_ctx256 NAME=gpt1_sst2_ctx256 GRID="881 1761" LRS="1e-4 3e-4" '
            'VARIANTS="pretrained scratch" experiments/gpt1_sst2.sh',
        ),
        "table5": one(
            "table5.json",
            experiment_block("table5"),
            "ronbun experiment table5 --init runs/gpt1_pretrain_ctx256 --data-dir ../shared/data/glue --parallel 2",
        ),
        "figure2-left": one(
            "figure2_left.json",
            experiment_block("figure2"),
            "ronbun experiment figure2 --pretrain-run runs/gpt1_pretrain_ctx256 --panel left --tasks sst2,rte "
            "--data-dir ../shared/data/glue --parallel 2",
        ),
        "figure2": one(
            "figure2.json",
            experiment_block("figure2"),
            "ronbun experiment figure2 --pretrain-run RUN --panel right --data-dir ../shared/data/glue "
            "--story-cloze-dir ../shared/data/story_cloze_RESTRICTED",
        ),
        "gpt-diagnostics": one(
            "gpt1_diagnostics.json", gpt_diagnostics_table, "experiments/gpt1_diagnostics.sh"
        ),
    }


def render(page: str, results: Path) -> str:
    for key, make in blocks(results).items():
        # an empty block (its two markers on adjacent lines) is filled too
        pattern = re.compile(rf"(<!-- generated:{key} -->\n)(?:.*?\n)?(<!-- /generated:{key} -->)", re.S)
        if pattern.search(page):
            text = make()
            page = pattern.sub(lambda m, text=text: m.group(1) + text + "\n" + m.group(2), page)
    return page


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--results", type=Path, default=ROOT / "results")
    p.add_argument("--page", type=Path, default=ROOT / "docs" / "results.md")
    p.add_argument("--check", action="store_true", help="exit 1 if the page differs from the JSON files")
    args = p.parse_args(argv)
    old = args.page.read_text(encoding="utf-8")
    new = render(old, args.results)
    if args.check:
        if new != old:
            print(f"{args.page} is stale: run `make results-docs`", file=sys.stderr)
            return 1
        return 0
    args.page.write_text(new, encoding="utf-8")
    print(f"{args.page}: tables regenerated from {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
