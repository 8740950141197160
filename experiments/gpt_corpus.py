"""Build the GPT-1 pre-training corpus of experiments/gpt1_pretrain.sh from the English text in the shared
data folder that is not an evaluation set (GPT-1 §4.1 pre-trains on BooksCorpus; nothing of that size is
here, so every usable English training text is pooled).

    python experiments/gpt_corpus.py --data ../shared/data --out runs/gpt_corpus

Training sources, each with the part held out for perplexity (never trained on):

* ``brown`` — ``brown_corpus/brown.zip``, tags stripped: 450 of the 500 documents; held out: every tenth
  document in name order (50, every genre);
* ``ptb_sample`` — ``ptb_treebank_sample/treebank.zip``, the raw WSJ text: 179 of the 199 articles; held out:
  every tenth article (20);
* ``tiny_shakespeare`` — ``tiny_shakespeare/input.txt``: the first 90% (by characters); held out: the last 10%;
* ``multi30k`` — ``multi30k/raw/train.en.gz`` (29,000 captions); held out: ``multi30k/raw/val.en.gz`` (1,014
  captions); test2016 is not used.

Evaluation only (perplexity, never trained on): ``wikitext2`` = ``wikitext2_eval/wiki.test.tokens``.

Not used: the evaluation sets (WikiText-2 valid, PTB LM valid/test, WMT newstest, IWSLT'14, Tatoeba, Story
Cloze), the fine-tuning tasks (GLUE: their text would leak into the tasks measured after pre-training) and the
German sides.  Text keeps its case; ``gpt pretrain --lowercase`` makes the tokenizer lower-case everything it
encodes (SST-2 is lower-cased, like GPT-1's own BPE input).

``--repeat-every N`` writes every N-th training line twice in a row (``A`` then ``A`` again; validation and
held-out text are untouched).  A pair task is solved by comparing its second text with the first, which a
decoder does by copying (an induction head); natural text repeats too rarely for a CPU-scale pre-training to
learn that (docs/results.md, "Cross-sentence diagnostics"), and this is the pre-training lever that tests it.
The default, 0, repeats nothing.

Writes ``train.txt`` (the training sources in the order above), ``valid.txt`` (their held-out parts, same
order: the validation split during training), ``heldout/SOURCE.txt`` (each held-out text, WikiText-2 test
included) and ``manifest.json`` (files with sha256, lines and words of every part).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from ronbun.data.parallel import read_lines
from ronbun.gpt.corpus import CorpusConfig, load_corpus

Splits = tuple[list[str], list[str]]  # (trained on, held out)


class Source(NamedTuple):
    """A text of the data folder: its files (relative to it), how to read it, what of it is held out."""

    files: list[str]
    read: Callable[[Path], Splits]
    heldout: str


def _named(name: str) -> Callable[[Path], Splits]:
    def read(data: Path) -> Splits:
        splits = load_corpus(CorpusConfig(corpus=name, data_dir=str(data)))
        return splits["train"], splits["valid"]

    return read


def _multi30k(data: Path) -> Splits:
    raw = data / "multi30k" / "raw"
    return read_lines(raw / "train.en.gz"), read_lines(raw / "val.en.gz")


def _wikitext2_test(data: Path) -> Splits:
    return [], load_corpus(CorpusConfig(corpus="wikitext2", data_dir=str(data)), eval_only=True)["test"]


#: Training sources, in the order of train.txt and valid.txt.
SOURCES: dict[str, Source] = {
    "brown": Source(["brown_corpus/brown.zip"], _named("brown"), "Brown, every tenth document (50 of 500)"),
    "ptb_sample": Source(
        ["ptb_treebank_sample/treebank.zip"], _named("ptb_sample"), "PTB WSJ sample, every tenth article"
    ),
    "tiny_shakespeare": Source(
        ["tiny_shakespeare/input.txt"], _named("tiny_shakespeare"), "tiny-shakespeare, last 10%"
    ),
    "multi30k": Source(
        ["multi30k/raw/train.en.gz", "multi30k/raw/val.en.gz"], _multi30k, "Multi30k English val captions"
    ),
}
#: Evaluation-only texts (nothing of them is trained on).
EVALUATION_ONLY: dict[str, Source] = {
    "wikitext2": Source(
        ["wikitext2_eval/wiki.test.tokens"], _wikitext2_test, "WikiText-2 test (never trained on)"
    ),
}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _part(lines: list[str]) -> dict[str, int]:
    return {"lines": len(lines), "words": sum(len(line.split()) for line in lines)}


def _write(path: Path, lines: list[str]) -> None:
    _replace(path, "".join(f"{line}\n" for line in lines))


def _replace(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically: pre-trainings started side by side each rebuild the corpus, and
    one that is already reading it must never see a half-written file.  A file that already holds ``text`` is
    left untouched, so its modification time (part of the token cache's key) survives a rebuild and a resumed
    pre-training reuses its tokenised cache."""
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def repeat_every(lines: list[str], n: int) -> list[str]:
    """``lines`` with every ``n``-th line (the n-th, 2n-th, ...) followed by a copy of itself; ``n = 0``: as is."""
    if n < 0:
        raise ValueError(f"--repeat-every must be 0 (no repetition) or a positive number of lines, not {n}")
    if n == 0:
        return list(lines)
    out: list[str] = []
    for i, line in enumerate(lines, start=1):
        out += [line, line] if i % n == 0 else [line]
    return out


def build(data: Path, out: Path, repeat: int = 0) -> dict[str, Any]:
    """Write the corpus files under ``out`` and return the manifest (also written as manifest.json).

    ``repeat``: write every ``repeat``-th training line twice in a row (:func:`repeat_every`)."""
    parts: dict[str, list[str]] = {"train": [], "valid": []}
    manifest: dict[str, Any] = {
        "data": str(data),
        "sources": {},
        "evaluation_only": {},
        "repeat_every": repeat,
    }
    for group, sources in (("sources", SOURCES), ("evaluation_only", EVALUATION_ONLY)):
        for name, source in sources.items():
            trained, held = ([line for line in part if line.strip()] for part in source.read(data))
            if group == "sources":
                parts["train"] += trained
                parts["valid"] += held
            _write(out / "heldout" / f"{name}.txt", held)
            manifest[group][name] = {
                "files": {f: _sha256(data / f) for f in source.files},
                "heldout_text": source.heldout,
                **({"train": _part(trained)} if group == "sources" else {}),
                "heldout": _part(held),
            }
    parts["train"] = repeat_every(parts["train"], repeat)
    manifest["repeated_lines"] = len(parts["train"]) - sum(
        s["train"]["lines"] for s in manifest["sources"].values()
    )
    for split, lines in parts.items():
        _write(out / f"{split}.txt", lines)
        manifest[split] = _part(lines)
    _replace(out / "manifest.json", json.dumps(manifest, indent=2) + "\n")
    return manifest


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, required=True, help="the shared data folder")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument(
        "--repeat-every",
        type=int,
        default=0,
        metavar="N",
        help="write every N-th training line twice (0: none)",
    )
    args = p.parse_args(argv)
    m = build(args.data, args.out, repeat=args.repeat_every)
    repeated = f" ({m['repeated_lines']:,} lines written twice)" if m["repeated_lines"] else ""
    print(f"{args.out}: {m['train']['words']:,} training words{repeated}, {m['valid']['words']:,} held out")
    return 0


if __name__ == "__main__":
    sys.exit(main())
