"""Peak memory of one side's training steps, run as ``python -m benchmarks.memprobe '<json spec>'`` (or of one
engine translating a test set: ``"kind": "translation"``, :func:`benchmarks.translation.memory_probe`).

Always a fresh interpreter per side (see ``benchmarks.common`` for the method).  Both sides import the same
modules (torch, transformers when present, ronbun) before the baseline is read, build their model from a
config (random weights: no checkpoint file is mapped into memory), run ``steps`` training steps and report
``VmHWM - VmRSS(before the model)`` in MiB on the last stdout line, as JSON.
"""

from __future__ import annotations

import gc
import json
import sys

import torch


def main(argv: list[str]) -> None:
    spec = json.loads(argv[0])
    if spec["kind"] == "translation":
        from .translation import memory_probe

        print(json.dumps(memory_probe(spec)))
        return
    torch.set_num_threads(int(spec.get("threads", 1)))
    torch.manual_seed(0)
    from . import common, models, steps

    if models.HAVE_HF and spec.get("import_references", True):
        import transformers  # noqa: F401  (same imports on every side)
    kind, side, preset = spec["kind"], spec["side"], spec["preset"]
    # "ours_best" / "hf_bf16": the same model in bf16 autocast
    if side in ("ours_best", "hf_bf16"):
        spec["precision"] = "bf16"
        side = side.split("_")[0]
    if kind == "mt":
        data = models.mt_batch(spec["batch"], spec["src_len"], spec["tgt_len"], spec["vocab"])
    else:
        ids = models.gpt_batch(spec["batch"], spec["length"], spec["vocab"])
    gc.collect()
    base = common.rss_mib()
    common.reset_peak_rss()
    if kind == "mt":
        if side == "ours":
            model = models.Transformer(models.ronbun_mt_config(preset, spec["vocab"]))
        elif side == "hf":
            from transformers import MarianMTModel

            model = MarianMTModel(models.marian_hf_config(preset, spec["vocab"]))
        else:
            model = models.TorchTransformerMT(preset, spec["vocab"], pad_id=spec["vocab"] - 1)
        step = steps.mt_train_step(side, model, data, spec.get("precision", "fp32"), pad_id=spec["vocab"] - 1)
    else:
        if side == "ours":
            model = models.GPT(models.ronbun_gpt_config(preset, spec["vocab"]))
        else:
            from transformers import OpenAIGPTLMHeadModel

            model = OpenAIGPTLMHeadModel(models.openai_gpt_hf_config(preset, spec["vocab"]))
        step = steps.gpt_train_step(side, model, ids, spec.get("precision", "fp32"))
    params = {id(p): p.numel() for p in model.parameters()}
    for _ in range(int(spec.get("steps", 3))):
        step()
    peak = common.peak_rss_mib() - base
    print(json.dumps({"peak_mib": peak, "params_mib": sum(params.values()) * 4 / 2**20, "base_mib": base}))


if __name__ == "__main__":
    main(sys.argv[1:])
