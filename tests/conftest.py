"""Shared test fixtures: deterministic seeds, paths to the shared real datasets, tiny GPT-1 task heads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"

torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared datasets not found at {SHARED_DATA}")
    return SHARED_DATA


class TinyHeads:
    """Small GPT-1 classifiers (§3.3, Figure 1) and batches of their input transformations, shared by the
    task-head tests (``tests/models``) and the fine-tuning loss tests (``tests/gpt``)."""

    V = 50  # vocabulary of the pre-trained model: the three special tokens are V, V + 1, V + 2

    @staticmethod
    def base_gpt(n_layers: int = 3) -> Any:
        from ronbun import GPT, GPTConfig

        return GPT(
            GPTConfig.preset(
                "tiny", vocab_size=TinyHeads.V, n_ctx=24, d_model=32, n_heads=2, d_ff=64, n_layers=n_layers
            )
        )

    @staticmethod
    def classifier(kind: str, num_labels: int, n_transfer: int | None = None) -> tuple[Any, Any]:
        """``(GPTClassifier in eval mode, the GPT it was made from)``."""
        from ronbun.models.task_head import GPTClassifier

        gpt = TinyHeads.base_gpt()
        model = GPTClassifier.from_gpt(gpt, task="t", kind=kind, num_labels=num_labels, n_transfer=n_transfer)
        return model.eval(), gpt

    @staticmethod
    def batch(model: Any, kind: str, n: int = 3, choices: int = 4) -> tuple[list[Any], Any]:
        """``n`` random examples of ``kind`` transformed for ``model`` (§3.3), and their collated batch."""
        from ronbun.gpt.transforms import collate, transform

        sp = model.spec.special
        g = torch.Generator().manual_seed(1)

        def text(k: int) -> list[int]:
            return torch.randint(4, TinyHeads.V, (k,), generator=g).tolist()

        examples = []
        for i in range(n):
            if kind == "classification":
                examples.append(transform(kind, [text(5 + i)], special=sp, n_ctx=24))
            elif kind in ("entailment", "similarity"):
                examples.append(transform(kind, [text(4 + i), text(3)], special=sp, n_ctx=24))
            else:
                examples.append(
                    transform(
                        kind,
                        [text(6), text(2)],
                        special=sp,
                        n_ctx=24,
                        choices=[text(2 + k) for k in range(choices)],
                    )
                )
        return examples, collate(examples)


@pytest.fixture
def tiny_heads() -> type[TinyHeads]:
    return TinyHeads


def _tiny_translation_task(tmp_path: Path, n_train: int = 200, **data: Any) -> Any:
    """A ``TranslationTask`` of the ``tiny`` preset on a generated corpus (no download); ``data`` sets
    :class:`ronbun.mt.task.MTDataConfig` fields (vocabulary, token budget, BPE-dropout, ...)."""
    from ronbun.data.synthetic import write_corpus
    from ronbun.mt.task import MTDataConfig, TranslationTask

    corpus = tmp_path / "data"
    write_corpus(corpus, n_train=n_train, n_valid=10, n_test=10, seed=1)
    config = MTDataConfig(
        dataset=None,
        train_src=str(corpus / "train.en"),
        train_tgt=str(corpus / "train.de"),
        valid_bleu_sentences=0,
        **data,
    )
    return TranslationTask(config, out_dir=tmp_path / "run", preset="tiny", log=lambda m: None)


@pytest.fixture
def tiny_translation_task() -> Any:
    """The factory :func:`_tiny_translation_task`, for tests that build translation tasks."""
    return _tiny_translation_task
