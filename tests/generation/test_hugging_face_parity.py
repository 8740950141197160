"""The stopping rules line up with Hugging Face ``generate`` on an imported Marian model: same tokens, same
scores.

* ``early_stopping="bound"`` (ronbun's default, exact) = Hugging Face ``early_stopping="never"`` (whose bound
  uses the maximum length when ``length_penalty > 0``) for any α, and = Hugging Face's default heuristic
  (``early_stopping=False``, bound at the current length) when α = 0.
* ``length_penalty="power"`` = Hugging Face's ``len ** length_penalty`` with ``<eos>`` counted.

Both sides ban ``<pad>`` and cut hypotheses at 20 tokens without forcing ``</s>`` (Hugging Face would give a
forced ``</s>`` log-probability 0; ronbun keeps the model's).  ``tests/interop`` covers greedy search and
``early_stopping="finished"`` = Hugging Face ``early_stopping=True``.
"""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("transformers")
marian = pytest.importorskip("ronbun.interop.marian")
from transformers import MarianConfig, MarianMTModel  # noqa: E402

from ronbun.generation import beam_search  # noqa: E402
from ronbun.models.decoding import EncoderDecoderAdapter  # noqa: E402

V, PAD, EOS = 60, 59, 0


def random_marian(seed: int, eos_bias: float) -> MarianMTModel:
    torch.manual_seed(seed)
    config = MarianConfig(
        vocab_size=V,
        decoder_vocab_size=V,
        d_model=32,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=4,
        decoder_attention_heads=4,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        max_position_embeddings=64,
        pad_token_id=PAD,
        eos_token_id=EOS,
        decoder_start_token_id=PAD,
        forced_eos_token_id=EOS,
        init_std=0.2,
    )
    model = MarianMTModel(config).eval()
    with torch.no_grad():
        model.final_logits_bias.copy_(0.5 * torch.randn_like(model.final_logits_bias))
        model.final_logits_bias[0, EOS] += eos_bias
    return model


@pytest.mark.parametrize(
    ("hf_rule", "ours", "alpha"),
    [(False, "bound", 0.0), ("never", "bound", 0.0), ("never", "bound", 1.0), ("never", "never", 0.6)],
)
def test_beam_search_matches_hugging_face_generate(tmp_path, hf_rule, ours, alpha):
    hf = random_marian(seed=2, eos_bias=3.5)
    hf.save_pretrained(tmp_path)
    model = marian.load_hf_marian(tmp_path)
    g = torch.Generator().manual_seed(0)
    src = torch.randint(2, PAD, (6, 8), generator=g)
    for row, length in enumerate([8, 5, 3, 7, 2, 6]):
        src[row, length:] = PAD
    with torch.no_grad():
        out = hf.generate(
            input_ids=src, attention_mask=(src != PAD).long(), do_sample=False, num_beams=4,
            length_penalty=alpha, early_stopping=hf_rule, max_new_tokens=20, bad_words_ids=[[PAD]],
            forced_eos_token_id=None, no_repeat_ngram_size=0, repetition_penalty=1.0, pad_token_id=PAD,
            output_scores=True, return_dict_in_generate=True,
        )  # fmt: skip
    results = beam_search(
        EncoderDecoderAdapter(model, src), 20, eos_id=EOS, beam=4, alpha=alpha, length_penalty="power",
        early_stopping=ours, force_eos=False,
    )  # fmt: skip
    expected = []
    for row in out.sequences.tolist():
        tokens = row[1:]
        expected.append((tokens[: tokens.index(EOS)], True) if EOS in tokens else (tokens, False))
    assert [(r.tokens, r.hypotheses[0].finished) for r in results] == expected
    assert any(finished for _, finished in expected)
    torch.testing.assert_close(
        torch.tensor([r.score for r in results]), out.sequences_scores, atol=1e-4, rtol=0
    )
