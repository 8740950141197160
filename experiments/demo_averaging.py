"""The demo's averaging choice, measured on the validation split: the last checkpoint of a demo run against the
averages of its last 3 and last 5 checkpoints (§6.1; beam 4, α 0.6, cased sacreBLEU on all 1,000 validation
pairs of the built-in corpus).

    python experiments/demo_averaging.py RUN_DIR [THREADS]
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from ronbun.data.synthetic import generate_corpus
from ronbun.evaluation.bleu import score_translations
from ronbun.mt.translator import Translator
from ronbun.training.averaging import average_checkpoints


def main(run: Path, threads: int = 1) -> None:
    torch.set_num_threads(threads)
    src, ref = generate_corpus(n_train=0, n_valid=1000, n_test=1000)["valid"]  # the demo's validation split
    checkpoints = sorted((run / "checkpoints").glob("step_*"))
    for name, paths in (("last", checkpoints[-1:]), ("avg3", checkpoints[-3:]), ("avg5", checkpoints[-5:])):
        model_dir = (
            paths[0] if name == "last" else average_checkpoints(paths, run / f"averaging_check_{name}")
        )
        translations = Translator.from_checkpoint(model_dir).translate(src, beam=4, alpha=0.6)
        bleu = score_translations(translations, ref, target_lang="de").as_dict()["sacrebleu"]
        print(run.name, name, [p.name for p in paths], round(bleu, 2), flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 1)
