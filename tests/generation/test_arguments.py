"""Invalid decoding arguments fail at once with a ValueError that names the argument."""

from __future__ import annotations

import pytest
import torch

from ronbun import GPT, GPTConfig, Transformer, TransformerConfig
from ronbun.generation import (
    SEARCH_PRESETS,
    beam_search,
    filter_log_probs,
    generate,
    length_penalty,
    translate,
)


@pytest.fixture(scope="module")
def model() -> Transformer:
    return Transformer(TransformerConfig.preset("tiny", vocab_size=40)).eval()


@pytest.fixture(scope="module")
def gpt() -> GPT:
    return GPT(GPTConfig.preset("tiny", vocab_size=50)).eval()


SRC = torch.tensor([[5, 6, 7]])


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"beam": 0}, "beam"),
        ({"beam": 2.5}, "beam"),
        ({"alpha": -0.1}, "alpha"),
        ({"alpha": float("nan")}, "alpha"),
        ({"length_penalty": "wu"}, "length_penalty"),
        ({"early_stopping": True}, "early_stopping"),
        ({"n_best": 0}, "n_best"),
        ({"n_best": 5, "beam": 4}, "n_best"),
        ({"max_len_a": -1.0}, "max_len_a"),
        ({"max_len_b": -3}, "max_len_b"),
        ({"search": "sampling"}, "search"),
    ],
)
def test_bad_search_arguments(model, kwargs, name):
    with pytest.raises(ValueError, match=name):
        translate(model, SRC, **kwargs)


def test_bad_max_len_for_the_search_functions(model):
    from ronbun.models.decoding import EncoderDecoderAdapter

    with pytest.raises(ValueError, match="max_len"):
        beam_search(EncoderDecoderAdapter(model, SRC), -1, eos_id=2)
    with pytest.raises(ValueError, match="max_len"):
        beam_search(EncoderDecoderAdapter(model, SRC), 0, eos_id=2, force_eos=False)
    with pytest.raises(ValueError, match="max_len"):
        beam_search(EncoderDecoderAdapter(model, SRC), torch.tensor([3, 4]), eos_id=2)


def test_length_penalty_rejects_negative_alpha_and_unknown_forms():
    with pytest.raises(ValueError, match="alpha"):
        length_penalty(3, -1.0)
    with pytest.raises(ValueError, match="length_penalty"):
        length_penalty(3, 0.6, "average")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"temperature": 0.0}, "temperature"),
        ({"temperature": -1.0}, "temperature"),
        ({"temperature": float("inf")}, "temperature"),
        ({"top_k": 0}, "top_k"),
        ({"top_p": 0.0}, "top_p"),
        ({"top_p": 1.5}, "top_p"),
        ({"max_new_tokens": 0}, "max_new_tokens"),
        ({"seed": 1, "generator": torch.Generator()}, "seed"),
    ],
)
def test_bad_sampling_arguments(gpt, kwargs, name):
    kwargs = {"max_new_tokens": 3, **kwargs}
    with pytest.raises(ValueError, match=name):
        generate(gpt, [1, 2, 3], **kwargs)


def test_filter_arguments_are_checked_too():
    with pytest.raises(ValueError, match="top_p"):
        filter_log_probs(torch.zeros(1, 4), top_p=-0.5)


def test_paper_presets_are_valid_translate_arguments(model):
    assert SEARCH_PRESETS["paper"]["beam"] == 4 and SEARCH_PRESETS["paper"]["alpha"] == 0.6
    for preset in SEARCH_PRESETS.values():
        assert len(translate(model, SRC, **{**preset, "max_len_b": 2})) == 1


def test_training_mode_warns_that_dropout_is_active(model):
    model.train()
    try:
        with pytest.warns(UserWarning, match="training mode"):
            translate(model, SRC, max_len_b=1)
    finally:
        model.eval()
