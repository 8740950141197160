"""Translating a real test set: ronbun against Hugging Face ``generate`` and CTranslate2 on the same trained
weights.

    python -m benchmarks.translation runs/multi30k/averaged --data-dir ../shared/data/multi30k --split test \\
        --threads 2 --out benchmarks/results/translation-2t.json

The checkpoint is exported once (``ronbun.interop.export``: ``hf-marian`` and ``ctranslate2``, into a
temporary folder), so every engine computes the same function of the same weights:

* ``ronbun fp32``, ``ronbun int8`` (dynamic quantisation of the Linear layers) and ``ronbun bf16`` (only on
  a CPU with native bf16, ``ronbun.evaluation.provenance.cpu_has_bf16``): ``Translator.translate_ids``;
* ``HF generate fp32``: ``MarianMTModel.generate`` on the ``hf-marian`` export;
* ``CT2 fp32`` and ``CT2 int8``: ``ctranslate2.Translator.translate_batch`` on the ``ctranslate2`` export
  (``compute_type`` ``float32`` / ``int8``).

Every engine goes through ronbun's text path (:func:`ronbun.mt.translator.translate_text`, which is what
``Translator.translate`` runs: the model's tokenizer, windows of 16 batches sorted by length,
``--batch-size`` sentences per batch, detokenisation), so the engines differ only in what turns a batch of
source ids into output ids.  The decoding rules are the
same everywhere (``DECODING_RULES``, also written into the JSON):

* **Length penalty** ``score = log P(Y|X) / |Y|^α``, ``|Y|`` counting ``</s>`` (the "power" form): ronbun
  ``length_penalty="power"``, Hugging Face ``length_penalty=α``, CTranslate2 ``length_penalty=α`` with
  ``return_end_token=True`` (without it CTranslate2 would not count ``</s>``).  ronbun's default, the
  paper's GNMT form ``((5 + |Y|) / 6)^α``, exists in neither library, so it is not used here.
* **Stopping**: a sentence's beam search ends once ``beam`` hypotheses have finished: ronbun
  ``early_stopping="finished"``, Hugging Face ``early_stopping=True``, CTranslate2 ``patience=1``.  ronbun's
  exact default (``"bound"``) has no CTranslate2 counterpart.  Greedy search (beam 1) has no penalty and
  stops at ``</s>`` everywhere.
* **Length limit**: at most ``--max-len`` output tokens besides ``</s>`` (ronbun ``max_len_a=0,
  max_len_b=L``; Hugging Face ``max_new_tokens=L + 1`` with the export's forced ``</s>``; CTranslate2
  ``max_decoding_length=L``).  ``<pad>`` is never produced (ronbun's ban, the export's ``bad_words_ids``,
  CTranslate2 ``suppress_sequences``).

``--streams S`` gives every engine the same parallel layout: ``S`` batches decoded at once, each on
``--threads / S`` threads (ronbun and Hugging Face: ``S`` Python threads through ``translate_text``; CTranslate2:
``inter_threads=S``), the way ``ronbun mt translate --streams`` translates files.

What still differs is listed in ``DIFFERENCES`` (and the JSON): only beam hypotheses that reach the length
limit, and a renormalisation of CTranslate2's ``<pad>`` ban, can make fp32 outputs differ.

Measured, per engine and beam (``--beams``, default 1 and 4): the whole test set translated ``--repeats``
times, the engines taking turns (round robin, one process; ``benchmarks.common.interleaved``), the median
reported as sentences/s and target tokens/s (the ids each decoder produced, ``</s>`` not counted); cased
sacreBLEU (and chrF) against the raw references with ``ronbun.evaluation.bleu``; the share of outputs
identical to ``ronbun fp32``'s; speed ratios against each reference engine.  Then batch-1 latency (p50/p90
over ``--latency-sentences``, engines in turn per sentence) and the peak memory of each engine in a fresh
process (``benchmarks.memprobe``: RSS high-water mark minus RSS before loading the model, translating the
test set at the largest beam).

JSON (``--out``; a markdown table next to it, ``.md``): ``command``, ``date``, ``machine``
(``machine_description()`` plus ctranslate2/transformers versions, CPU capability, native bf16),
``checkpoint``, ``data``, ``settings``, ``decoding_rules``, ``differences``, ``engines``, ``skipped`` (engine
→ why), ``results`` (per engine × beam: ``sentences_per_s``, ``target_tokens_per_s``, ``seconds_median``,
``seconds_samples``, ``bleu``, ``chrf``, ``bleu_signature``, ``bleu_lc_tok`` where the data set has
lower-cased tokenised references, ``identical_to_ronbun_fp32``, ``speed_vs`` {reference: ratio of
sentences/s, > 1 = faster}), ``latency`` (per engine × beam: ``p50_ms``, ``p90_ms``), ``memory`` (per engine:
``peak_mib``, ``base_mib``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch

from ronbun.evaluation.bleu import score_translations
from ronbun.evaluation.provenance import cpu_has_bf16, machine_description
from ronbun.interop.export import EXPORT_FILE, export
from ronbun.mt.evaluate import EvaluationConfig, EvaluationData, read_test_set
from ronbun.mt.translator import Translator, source_rows, threads_per_stream, translate_text
from ronbun.training.checkpoint import load_tokenizer, read_model_config, read_task_config

from .common import interleaved, peak_rss_mib, probe_memory, reset_peak_rss, rss_mib, set_threads

RESULTS = Path(__file__).resolve().parent / "results"
BASELINE = "ronbun fp32"
REFERENCES = ("HF generate fp32", "CT2 fp32", "CT2 int8")
ENGINES = ("ronbun fp32", "ronbun bf16", "ronbun int8", *REFERENCES)
#: engines whose outputs must equal ``ronbun fp32``'s in greedy search (same weights, same arithmetic)
FP32_ENGINES = ("ronbun fp32", "HF generate fp32", "CT2 fp32")
CT2_COMPUTE_TYPES = {"CT2 fp32": "float32", "CT2 int8": "int8"}

DECODING_RULES = {
    "length_penalty": "power: score = log P(Y|X) / |Y|^alpha with |Y| counting </s> (ronbun "
    "length_penalty='power'; HF length_penalty=alpha; CT2 length_penalty=alpha, return_end_token=True); "
    "ronbun's default GNMT form ((5 + |Y|) / 6)^alpha is offered by neither library",
    "early_stopping": "a sentence stops once `beam` hypotheses have finished (ronbun 'finished'; HF "
    "early_stopping=True; CT2 patience=1); greedy search (beam 1) stops at </s>, without a penalty",
    "max_len": "at most max_len output tokens besides </s> (ronbun max_len_a=0, max_len_b=max_len; HF "
    "max_new_tokens=max_len + 1 with the export's forced </s>; CT2 max_decoding_length=max_len)",
    "banned": "<pad> is never produced (ronbun's ban; HF bad_words_ids from the export's "
    "generation_config.json; CT2 suppress_sequences=[['<pad>']], min_decoding_length=0)",
    "text": "every engine: the model's own tokenizer, windows of 16 batches sorted by length, batch_size "
    "sentences per batch (ronbun.mt.translator.translate_text)",
}
DIFFERENCES = [
    "beam hypotheses cut at max_len are scored differently: ronbun adds a forced </s> with the model's "
    "log-probability (|Y| = max_len + 1), HF a forced </s> with log-probability 0 (|Y| = max_len + 1), CT2 "
    "stops without </s> (|Y| = max_len); only sentences whose hypotheses reach max_len can differ",
    "CT2 masks <pad> before the softmax (the other tokens' probabilities are renormalised by 1 / (1 - "
    "P(<pad>))), ronbun and HF after it; beam scores can differ by log(1 - P(<pad>)) per step (about 0 for "
    "a trained model); greedy choices cannot",
    "int8 is not one method: ronbun quantises the Linear layers' weights per tensor and their inputs per "
    "batch (torch.ao dynamic quantisation; the tied output projection gets an int8 copy of its weight, the embeddings stay fp32); CT2 int8 "
    "quantises its weights per row, the embeddings included; the agreement column measures the effect",
]


# -- engines -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Decoding:
    """The search settings every engine shares (see the module docstring)."""

    alpha: float = 0.6
    max_len: int = 128
    batch_size: int = 32
    streams: int = 1  # batches decoded side by side, each on threads // streams threads

    def threads_per_stream(self, threads: int) -> int:
        return threads_per_stream(threads, self.streams)

    def ronbun(self) -> dict[str, Any]:
        """:meth:`Translator.translate_ids`'s keywords (all but ``beam`` and ``precision``)."""
        limit = {"max_len_a": 0.0, "max_len_b": self.max_len}
        return {"alpha": self.alpha, **limit, "length_penalty": "power", "early_stopping": "finished"}


@dataclass(frozen=True)
class Exports:
    """The checkpoint and its two exports."""

    checkpoint: Path
    hf: Path  # hf-marian
    ct2: Path  # ctranslate2


@dataclass
class Output:
    texts: list[str]  # the translations, in input order
    tokens: int  # output ids the decoder produced, </s> not counted


Translate = Callable[[list[str], int], Output]  # (sentences, beam) -> translations
DecodeIds = Callable[[list[list[int]], int], list[list[int]]]  # (source ids, beam) -> output ids


def _padded(rows: list[list[int]], pad_id: int) -> torch.Tensor:
    out = torch.full((len(rows), max(map(len, rows))), pad_id, dtype=torch.long)  # (B, S)
    for i, r in enumerate(rows):
        out[i, : len(r)] = torch.tensor(r)
    return out


def hf_decoder(directory: Path, decoding: Decoding) -> DecodeIds:
    """``MarianMTModel.generate`` on the ``hf-marian`` export, ids in and out (``</s>`` dropped)."""
    from transformers import MarianMTModel
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # generate() would log at every call that max_new_tokens wins
    hf_logging.disable_progress_bar()
    model = MarianMTModel.from_pretrained(directory).eval()
    pad, eos = model.config.pad_token_id, model.config.eos_token_id

    def decode(src_ids: list[list[int]], beam: int) -> list[list[int]]:
        src = _padded(src_ids, pad)
        search: dict[str, Any] = {
            "num_beams": beam,
            "do_sample": False,
            "max_new_tokens": decoding.max_len + 1,
        }
        if beam > 1:
            search.update(length_penalty=decoding.alpha, early_stopping=True)
        with torch.no_grad():
            rows = model.generate(input_ids=src, attention_mask=(src != pad).long(), **search).tolist()
        out = []
        for row in rows:
            tokens = row[1:]  # without the decoder start token
            out.append(tokens[: tokens.index(eos)] if eos in tokens else tokens)
        return out

    return decode


def ct2_decoder(directory: Path, compute_type: str, decoding: Decoding, threads: int) -> DecodeIds:
    """``ctranslate2.Translator.translate_batch`` on the ``ctranslate2`` export, ids in and out."""
    import ctranslate2

    translator = ctranslate2.Translator(
        str(directory), device="cpu", compute_type=compute_type,
        intra_threads=decoding.threads_per_stream(threads), inter_threads=decoding.streams,
    )  # fmt: skip
    vocabulary = json.loads((directory / "shared_vocabulary.json").read_text(encoding="utf-8"))
    index = {token: i for i, token in enumerate(vocabulary)}
    eos = json.loads((directory / "config.json").read_text(encoding="utf-8"))["eos_token"]
    as_ronbun = json.loads((directory / EXPORT_FILE).read_text(encoding="utf-8"))["translate_batch"]

    def decode(src_ids: list[list[int]], beam: int) -> list[list[int]]:
        results = translator.translate_batch(
            [[vocabulary[i] for i in s] for s in src_ids], beam_size=beam, patience=1,
            length_penalty=decoding.alpha, return_end_token=True, max_decoding_length=decoding.max_len,
            max_input_length=0, max_batch_size=decoding.batch_size, batch_type="examples", **as_ronbun,
        )  # fmt: skip
        out = []
        for r in results:
            tokens = r.hypotheses[0]
            out.append([index[t] for t in (tokens[:-1] if tokens and tokens[-1] == eos else tokens)])
        return out

    return decode


def text_engine(tokenizer: Any, config: Any, decode: DecodeIds, decoding: Decoding) -> Translate:
    """A decoder of ids behind ronbun's text path (:func:`translate_text`, which is what
    :meth:`Translator.translate` runs around :meth:`Translator.translate_ids`): the model's tokenizer, the
    encoder's source clipping, length-sorted batches, ``decoding.streams`` batches at a time; the output ids
    are counted on the way."""

    def translate(sentences: list[str], beam: int) -> Output:
        produced: list[int] = []  # one count per batch (list.append is safe across decoding threads)

        def ids(src_ids: list[list[int]]) -> list[list[int]]:
            out = decode(source_rows(src_ids, config.max_positions, config.eos_id), beam)
            produced.append(sum(map(len, out)))
            return out

        texts = translate_text(sentences, tokenizer, ids, decoding.batch_size, decoding.streams)
        return Output(list(texts), sum(produced))

    return translate


def foreign_engine(checkpoint: Path, decode: DecodeIds, decoding: Decoding) -> Translate:
    """Another library's decoder with the checkpoint's own tokenizer (its weights are not loaded)."""
    config = read_model_config(checkpoint)
    return text_engine(load_tokenizer(checkpoint, config).tokenizer, config, decode, decoding)


def ronbun_engine(translator: Translator, precision: str, decoding: Decoding) -> Translate:
    """:meth:`Translator.translate_ids` at ``precision`` with the shared settings."""

    def decode(src_ids: list[list[int]], beam: int) -> list[list[int]]:
        return translator.translate_ids(src_ids, beam=beam, precision=precision, **decoding.ronbun())

    config = translator.model.config
    return text_engine(translator.require_tokenizer(), config, decode, decoding)


def build_engines(
    names: Sequence[str], exports: Exports, decoding: Decoding, threads: int
) -> dict[str, Translate]:
    """The named engines (one shared :class:`Translator` for ronbun's precisions)."""
    engines: dict[str, Translate] = {}
    translator: Translator | None = None
    for name in names:
        if name.startswith("ronbun"):
            translator = translator or Translator.from_checkpoint(exports.checkpoint)
            engines[name] = ronbun_engine(translator, name.split()[1], decoding)
        elif name.startswith("HF"):
            engines[name] = foreign_engine(exports.checkpoint, hf_decoder(exports.hf, decoding), decoding)
        else:
            decode = ct2_decoder(exports.ct2, CT2_COMPUTE_TYPES[name], decoding, threads)
            engines[name] = foreign_engine(exports.checkpoint, decode, decoding)
    return engines


def available_engines(wanted: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """The engines this machine can run, and why the others were skipped."""
    skipped: dict[str, str] = {}
    if "ronbun bf16" in wanted and not cpu_has_bf16():
        skipped["ronbun bf16"] = (
            "this CPU has no native bf16 (AVX-512 BF16 or AMX); emulated bf16 is not ronbun's setting there"
        )
    for module, prefix in (("transformers", "HF"), ("ctranslate2", "CT2")):
        try:
            __import__(module)
        except ImportError:
            skipped.update({n: f"{module} is not installed" for n in wanted if n.startswith(prefix)})
    return [n for n in wanted if n not in skipped], skipped


def make_exports(checkpoint: Path, names: Sequence[str], folder: Path) -> Exports:
    """Export ``checkpoint`` into ``folder`` once per format the engines need (ronbun's own exporter)."""
    exports = Exports(checkpoint, folder / "hf", folder / "ct2")
    if any(n.startswith("HF") for n in names):
        export("hf-marian", checkpoint, exports.hf)
    if any(n.startswith("CT2") for n in names):
        export("ctranslate2", checkpoint, exports.ct2)
    return exports


# -- measurements --------------------------------------------------------------------------------------------
def throughput(
    engines: dict[str, Translate], sentences: list[str], beam: int, repeats: int, warmup: list[str]
) -> tuple[dict[str, list[float]], dict[str, Output]]:
    """Every engine translates all ``sentences`` ``repeats`` times, in turn; the seconds of each run and
    each engine's translations.  One untimed call on ``warmup`` first (lazy conversions, allocator)."""
    outputs: dict[str, Output] = {}

    def call(name: str) -> Callable[[], None]:
        def run() -> None:
            outputs[name] = engines[name](sentences, beam)

        return run

    for engine in engines.values():
        engine(warmup, beam)
    timing = interleaved({name: call(name) for name in engines}, warmup=0, reps=repeats)
    return timing.samples, outputs


def latency(engines: dict[str, Translate], sentences: list[str], beam: int) -> dict[str, list[float]]:
    """Each sentence alone (batch 1), the engines in turn per sentence; seconds per sentence per engine."""

    def call(engine: Translate) -> Callable[[], None]:
        queue = iter(sentences)
        return lambda: engine([next(queue)], beam)

    return interleaved({name: call(e) for name, e in engines.items()}, warmup=0, reps=len(sentences)).samples


def percentiles_ms(samples: list[float]) -> dict[str, float]:
    if len(samples) < 2:
        return {"p50_ms": samples[0] * 1e3, "p90_ms": samples[0] * 1e3}
    deciles = statistics.quantiles(samples, n=10, method="inclusive")
    return {"p50_ms": statistics.median(samples) * 1e3, "p90_ms": deciles[8] * 1e3}


def memory_probe(spec: dict[str, Any]) -> dict[str, float]:
    """One engine's peak memory, in this (fresh) process: ``python -m benchmarks.memprobe`` calls this."""
    import gc

    if versions()["transformers"] != "not installed":  # every engine: the same imports before the baseline
        import transformers.generation.utils  # noqa: F401
        from transformers import MarianMTModel  # noqa: F401
    decoding = Decoding(**spec["decoding"])
    set_threads(decoding.threads_per_stream(int(spec["threads"])))
    sentences = Path(spec["sentences_file"]).read_text(encoding="utf-8").split("\n")
    exports = Exports(Path(spec["checkpoint"]), Path(spec["hf"]), Path(spec["ct2"]))
    gc.collect()
    base = rss_mib()
    reset_peak_rss()
    (engine,) = build_engines([spec["engine"]], exports, decoding, spec["threads"]).values()
    engine(sentences, int(spec["beam"]))
    return {"peak_mib": peak_rss_mib() - base, "base_mib": base}


def peak_memory(
    names: Sequence[str], exports: Exports, decoding: Decoding, sentences: list[str], beam: int, threads: int
) -> dict[str, dict[str, float]]:
    """Each engine's :func:`memory_probe` in its own interpreter."""
    out = {}
    with tempfile.TemporaryDirectory(prefix="ronbun-memprobe-") as tmp:
        path = Path(tmp) / "sentences.txt"
        path.write_text("\n".join(sentences), encoding="utf-8")
        for name in names:
            spec = {"kind": "translation", "engine": name, "checkpoint": str(exports.checkpoint),
                    "hf": str(exports.hf), "ct2": str(exports.ct2), "sentences_file": str(path),
                    "beam": beam, "decoding": asdict(decoding), "threads": threads}  # fmt: skip
            out[name] = probe_memory(spec)
    return out


# -- the report ----------------------------------------------------------------------------------------------
def scores(hyps: list[str], test: EvaluationData) -> dict[str, Any]:
    """Cased sacreBLEU and chrF against the raw references (and tokenised BLEU against the lower-cased
    tokenised ones, where the data set has them)."""
    raw = score_translations(hyps, test.refs, target_lang=test.target_lang)
    out: dict[str, Any] = {
        "bleu": raw.sacrebleu.score,
        "chrf": raw.chrf.score,
        "bleu_signature": raw.sacrebleu.signature,
    }
    if test.tokenised_refs is not None:
        lc = score_translations(
            hyps, test.tokenised_refs, target_lang=test.target_lang, lowercase_tokenised=True
        )
        out["bleu_lc_tok"] = lc.tokenised.score
    return out


def result_rows(
    samples: dict[tuple[str, int], list[float]], outputs: dict[tuple[str, int], Output], test: EvaluationData
) -> list[dict[str, Any]]:
    """One row per engine and beam: speed, quality, agreement with ronbun fp32, ratios to the references."""
    rows = []
    n = len(test.src)
    speed = {key: n / statistics.median(s) for key, s in samples.items()}
    for (name, beam), out in outputs.items():
        base = outputs.get((BASELINE, beam))
        seconds = statistics.median(samples[(name, beam)])
        same = None if base is None else sum(a == b for a, b in zip(out.texts, base.texts, strict=True)) / n
        ratios = {ref: speed[(name, beam)] / speed[(ref, beam)] for ref in REFERENCES if (ref, beam) in speed}
        rows.append(
            {
                "engine": name,
                "beam": beam,
                "sentences": n,
                "seconds_median": seconds,
                "seconds_samples": samples[(name, beam)],
                "sentences_per_s": speed[(name, beam)],
                "target_tokens": out.tokens,
                "target_tokens_per_s": out.tokens / seconds,
                **scores(out.texts, test),
                "identical_to_ronbun_fp32": same,
                "speed_vs": {ref: r for ref, r in ratios.items() if ref != name},
            }
        )
    return rows


def markdown(report: dict[str, Any]) -> str:
    m, s = report["machine"], report["settings"]
    streams = f" in **{s['streams']} decoding streams**" if s.get("streams", 1) > 1 else ""
    header = (
        f"`{report['command']}` — {report['date']} — {m['cpu']}, {m['cores']} cores, "
        f"**{s['threads']} thread(s)**{streams}; "
        f"torch {m['torch']}, ctranslate2 {m['ctranslate2']}, transformers {m['transformers']}; "
        f"{report['data']['sentences']} sentences ({report['data']['source']}), batch {s['batch_size']}, "
        f"α = {s['alpha']} (power), max_len {s['max_len']}, median of {s['repeats']} interleaved runs"
    )
    refs = [r for r in REFERENCES if r in report["engines"]]
    lines = [
        "| engine | beam | sentences/s | target tokens/s | BLEU | chrF | = ronbun fp32 | "
        + " | ".join(f"× {r}" for r in refs)
        + " | peak MiB |",
        "|---|---:|---:|---:|---:|---:|---:|" + "---:|" * len(refs) + "---:|",
    ]
    for r in report["results"]:
        agree = r["identical_to_ronbun_fp32"]
        ratios = [f"{r['speed_vs'][x]:.2f}" if x in r["speed_vs"] else "–" for x in refs]
        mem = report["memory"].get(r["engine"], {}).get("peak_mib")
        lines.append(
            f"| {r['engine']} | {r['beam']} | {r['sentences_per_s']:.1f} | {r['target_tokens_per_s']:.0f} | "
            f"{r['bleu']:.2f} | {r['chrf']:.2f} | {'–' if agree is None else f'{100 * agree:.1f} %'} | "
            + " | ".join(ratios)
            + f" | {'–' if mem is None else f'{mem:.0f}'} |"
        )
    lat = ["| engine (batch 1) | beam | p50 ms | p90 ms |", "|---|---:|---:|---:|"]
    lat += [
        f"| {r['engine']} | {r['beam']} | {r['p50_ms']:.1f} | {r['p90_ms']:.1f} |" for r in report["latency"]
    ]
    notes = [f"- skipped {k}: {v}" for k, v in report["skipped"].items()]
    notes += [f"- differences left: {d}" for d in report["differences"]]
    return "\n\n".join([header, "\n".join(lines), "\n".join(lat), "\n".join(notes)]).strip() + "\n"


# -- the command ---------------------------------------------------------------------------------------------
def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.translation", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    p.add_argument("checkpoint", type=Path, metavar="MODEL_DIR", help="a ronbun translator checkpoint")
    p.add_argument("--dataset", default=None, help="named data set (default: the checkpoint's)")
    p.add_argument("--data-dir", default=None, help="local copy of the data set")
    p.add_argument("--split", default="test")
    p.add_argument("--src", type=Path, default=None, help="source file instead of a data set (needs --ref)")
    p.add_argument("--ref", type=Path, default=None, help="reference file, line-aligned with --src")
    p.add_argument("--sentences", type=int, default=None, help="only the first N sentences")
    p.add_argument("--beams", type=int, nargs="+", default=[1, 4])
    p.add_argument("--alpha", type=float, default=0.6, help="length-penalty exponent (power form)")
    p.add_argument("--max-len", type=int, default=128, help="output tokens besides </s>")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument(
        "--streams", type=int, default=1,
        help="batches decoded side by side by every engine, --threads shared among them (CT2: inter_threads)",
    )  # fmt: skip
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--latency-sentences", type=int, default=100, help="0: no latency measurement")
    p.add_argument("--no-memory", action="store_true", help="skip the per-engine peak-memory processes")
    p.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES), metavar="ENGINE")
    p.add_argument("--out", type=Path, default=RESULTS / "translation.json")
    args = p.parse_args(argv)
    if args.streams < 1 or args.threads < 1:
        p.error("--threads and --streams must be >= 1")
    return args


def measure(
    engines: dict[str, Translate], test: EvaluationData, args: argparse.Namespace, batch_size: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Throughput rows (with quality and ratios) and latency rows, for every beam."""
    samples: dict[tuple[str, int], list[float]] = {}
    outputs: dict[tuple[str, int], Output] = {}
    lat_rows: list[dict[str, Any]] = []
    warmup = test.src[:batch_size]
    for beam in args.beams:
        _log(f"throughput, beam {beam}: {len(test.src)} sentences, {args.repeats} runs per engine")
        times, outs = throughput(engines, test.src, beam, args.repeats, warmup)
        samples.update({(n, beam): t for n, t in times.items()})
        outputs.update({(n, beam): o for n, o in outs.items()})
        if args.latency_sentences:
            _log(f"latency, beam {beam}: {args.latency_sentences} sentences one at a time")
            times = latency(engines, test.src[: args.latency_sentences], beam)
            lat_rows += [
                {"engine": n, "beam": beam, "sentences": len(t), **percentiles_ms(t)}
                for n, t in times.items()
            ]
    return result_rows(samples, outputs, test), lat_rows


def versions() -> dict[str, str]:
    out = {}
    for module in ("ctranslate2", "transformers"):
        try:
            out[module] = __import__(module).__version__
        except ImportError:
            out[module] = "not installed"
    return out


def describe(args: argparse.Namespace, test: EvaluationData) -> dict[str, Any]:
    """Where the sentences came from."""
    if args.src is not None:
        return {
            "source": f"{args.src} / {args.ref}",
            "sentences": len(test.src),
            "target_lang": test.target_lang,
        }
    trained = read_task_config(args.checkpoint).get("data", {})
    name = args.dataset or trained.get("dataset") or "builtin"
    data_dir = args.data_dir or trained.get("data_dir")
    source = f"{name} {args.split}, raw text ({data_dir or 'cache'})"
    return {"source": source, "sentences": len(test.src), "target_lang": test.target_lang}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    warnings.filterwarnings("ignore", module="transformers")
    cfg = EvaluationConfig(
        dataset=args.dataset, data_dir=args.data_dir, split=args.split, src=args.src, ref=args.ref,
        limit=args.sentences,
    )  # fmt: skip
    test = read_test_set(args.checkpoint, cfg)
    max_positions = read_model_config(args.checkpoint).max_positions
    decoding = Decoding(args.alpha, min(args.max_len, max_positions - 1), args.batch_size, args.streams)
    set_threads(decoding.threads_per_stream(args.threads))  # PyTorch's engines; CT2 gets its own split
    names, skipped = available_engines(args.engines)
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    memory: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="ronbun-translation-bench-") as tmp:
        _log(f"exporting {args.checkpoint} (hf-marian, ctranslate2)")
        exports = make_exports(args.checkpoint, names, Path(tmp))
        engines = build_engines(names, exports, decoding, args.threads)
        rows, lat_rows = measure(engines, test, args, decoding.batch_size)
        if not args.no_memory:
            _log(f"peak memory: one process per engine, beam {max(args.beams)}")
            memory = peak_memory(names, exports, decoding, test.src, max(args.beams), args.threads)
    settings = {
        **asdict(decoding), "beams": args.beams, "threads": args.threads, "repeats": args.repeats,
        "latency_sentences": min(args.latency_sentences, len(test.src)),
        "memory_beam": None if args.no_memory else max(args.beams),
    }  # fmt: skip
    machine = {**machine_description(args.threads), **versions()}  # vector unit and native bf16 included
    report = {
        "benchmark": "translation",
        "command": "python -m benchmarks.translation " + " ".join(argv),
        "date": date,
        "machine": machine,
        "checkpoint": str(args.checkpoint),
        "data": describe(args, test),
        "settings": settings,
        "decoding_rules": DECODING_RULES,
        "differences": DIFFERENCES,
        "engines": names,
        "skipped": skipped,
        "results": rows,
        "latency": lat_rows,
        "memory": memory,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    text = markdown(report)
    args.out.with_suffix(".md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
