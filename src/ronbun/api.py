"""``ronbun.load(DIR)``: one entry point for every checkpoint directory.

:func:`ronbun.training.checkpoint.load_checkpoint` opens the directory (resolves, verifies, builds the model
by its kind, loads the tokenizer); this module wraps the result in the object that uses it:

* a Transformer checkpoint (``model_type = "transformer"``) → :class:`ronbun.mt.translator.Translator`
  (``.translate(sentences, beam=4, alpha=0.6)``);
* a pre-trained GPT-1 checkpoint (``model_type = "gpt"``) → :class:`ronbun.gpt.language_model.LanguageModel`
  (``.generate(prompts, …)``, ``.score(texts)``);
* a fine-tuned GPT-1 checkpoint (``task_config.json`` holds a task head) → :class:`ronbun.gpt.language_model.TaskModel`
  (a ``LanguageModel`` with ``.predict(…)`` and ``.evaluate(…)``).

``directory`` may also be a run directory (``runs/…`` holding ``checkpoints/step_…``): its newest intact
checkpoint is loaded.  A list of Transformer checkpoints loads as one ``Translator`` that decodes them as an
ensemble (:meth:`~ronbun.mt.translator.Translator.from_checkpoints`: their next-token probabilities averaged).

A checkpoint without a tokenizer (weights only, e.g. ``ronbun convert`` of a folder that held no vocabulary
files) loads as a *bare* model: a ``LanguageModel`` or ``Translator`` whose ``tokenizer`` is ``None``.  Its
token-id methods work (``generate_ids``, ``score_ids``, ``token_logprobs_ids``; ``translate_ids``); every
text method raises :class:`~ronbun.training.checkpoint.MissingTokenizerError` (a ``ValueError``) saying how to
add one: copy the tokenizer files into the directory, or pass ``tokenizer=`` (a tokenizer object, a
``tokenizer.json`` file or a folder holding the tokenizer files).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

__all__ = ["load"]


def load(
    directory: str | Path | list[str | Path] | tuple[str | Path, ...],
    *,
    device: str | torch.device = "cpu",
    tokenizer: Any | str | Path | None = None,
) -> Any:
    """Load the checkpoint at ``directory`` as the object that uses it (see the module docstring);
    ``tokenizer`` replaces (or, for a weights-only checkpoint, supplies) the checkpoint's tokenizer."""
    from .training.checkpoint import GPT_WITH_HEAD, TRANSFORMER, load_checkpoint

    if isinstance(directory, list | tuple):
        from .mt.translator import Translator

        return Translator.from_checkpoints(directory, str(device), tokenizer=tokenizer)
    ckpt = load_checkpoint(directory, device=device, tokenizer=tokenizer, require_tokenizer=False)
    if ckpt.kind == TRANSFORMER:
        from .mt.translator import Translator as wrapper
    elif ckpt.kind == GPT_WITH_HEAD:
        from .gpt.language_model import TaskModel as wrapper
    else:
        from .gpt.language_model import LanguageModel as wrapper
    return wrapper(ckpt.model, ckpt.tokenizer, directory=ckpt.path)
