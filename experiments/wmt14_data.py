"""Export WMT 2014 English-German training data to line-aligned plain text for experiments/wmt14_base.sh.

Uses the Hugging Face ``datasets`` library (``pip install datasets``; downloads ~1.4 GB on first use) and
writes ``train.en`` / ``train.de`` (4.5M pairs: Europarl v7, Common Crawl, News Commentary v9, as in §5.1).
Pairs with an empty side are skipped and counted.  Any other local copy works too: pass TRAIN_SRC/TRAIN_TGT.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--limit", type=int, help="only the first N pairs (for trying the recipe)")
    args = p.parse_args(argv)
    try:
        from datasets import load_dataset
    except ImportError:
        print("wmt14_data: needs `pip install datasets` (or give TRAIN_SRC/TRAIN_TGT files)", file=sys.stderr)
        return 2
    split = "train" if args.limit is None else f"train[:{args.limit}]"
    data = load_dataset("wmt14", "de-en", split=split)
    args.out.mkdir(parents=True, exist_ok=True)
    kept = skipped = 0
    tmp_en, tmp_de = args.out / ".train.en.partial", args.out / ".train.de.partial"
    with tmp_en.open("w", encoding="utf-8") as en, tmp_de.open("w", encoding="utf-8") as de:
        for row in data:
            pair = row["translation"]
            src, tgt = (" ".join(pair[k].split()) for k in ("en", "de"))
            if not src or not tgt:
                skipped += 1
                continue
            en.write(src + "\n")
            de.write(tgt + "\n")
            kept += 1
    tmp_en.replace(args.out / "train.en")
    tmp_de.replace(args.out / "train.de")
    print(f"wrote {kept:,} pairs to {args.out} ({skipped:,} with an empty side skipped)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
