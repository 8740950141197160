"""GPT-1 (Radford et al., 2018) as a workflow: pre-training (§3.1, §4.1), fine-tuning with the §3.3 input
transformations and the auxiliary LM loss (§3.2), the §5 zero-shot heuristics, and checkpoints as objects.

* :mod:`ronbun.gpt.corpus` — built-in / named corpora, tokenizers, the memory-mapped token stream;
* :mod:`ronbun.gpt.pretrain` — :class:`LMTask` (Eq. 1 on random contiguous windows);
* :mod:`ronbun.gpt.tasks` — the fine-tuning task readers (GLUE, SNLI, SciTail, Story Cloze, RACE; §4.2);
* :mod:`ronbun.gpt.transforms` — the §3.3 input transformations (Figure 1) and their truncation rule;
* :mod:`ronbun.gpt.finetune` — :class:`FineTuneTask` (Eq. 5) for the task heads of
  :mod:`ronbun.models.task_head` (:class:`GPTClassifier`);
* :mod:`ronbun.gpt.zeroshot` — sentiment, acceptability, multiple choice, Winograd;
* :mod:`ronbun.gpt.language_model` — :class:`LanguageModel` / :class:`TaskModel` (what ``ronbun.load`` returns).

Command line: ``ronbun gpt pretrain | generate | finetune | evaluate | zeroshot`` (:mod:`ronbun.cli.gpt`).

Trainer hook (optional, for GPT-1's original BPE): :meth:`LMTask.extra_checkpoint_files` /
:meth:`FineTuneTask.extra_checkpoint_files` name files (``encoder_bpe_40000.json``, ``vocab_40000.bpe``) that
every checkpoint should carry; until the Trainer copies them, ``task_config.json["tokenizer"]["dir"]`` records
their folder and :func:`~ronbun.training.checkpoint.load_checkpoint` falls back to it.
"""

from ..models.task_head import GPTClassifier, HeadSpec, transfer_layers
from .corpus import CORPORA, CorpusConfig, TokenStream, load_corpus
from .finetune import FineTuneConfig, FineTuneTask
from .language_model import LanguageModel, TaskModel, load_gpt
from .pretrain import LMDataConfig, LMTask
from .zeroshot import WINOGRAD_EXAMPLES, WinogradExample, run_zeroshot

__all__ = [
    "CORPORA",
    "WINOGRAD_EXAMPLES",
    "CorpusConfig",
    "FineTuneConfig",
    "FineTuneTask",
    "GPTClassifier",
    "HeadSpec",
    "LMDataConfig",
    "LMTask",
    "LanguageModel",
    "TaskModel",
    "TokenStream",
    "WinogradExample",
    "load_corpus",
    "load_gpt",
    "run_zeroshot",
    "transfer_layers",
]
