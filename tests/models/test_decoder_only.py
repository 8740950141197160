"""GPT-1's decoder-only model (§3.1, §4.1) built from the same blocks as the Transformer."""

from __future__ import annotations

import pytest
import torch

from ronbun import GPT, GPTConfig
from ronbun.models import deviations
from ronbun.nn.layers import TransformerLayer


def tiny() -> GPT:
    return GPT(GPTConfig.preset("tiny", vocab_size=60)).eval()


def test_gpt1_preset_has_the_release_parameter_count():
    """``params_shapes.json`` of OpenAI's release sums to 116,534,784 floats."""
    assert GPT(GPTConfig.preset("gpt1")).num_parameters() == 116_534_784


def test_gpt1_preset_is_faithful_to_the_paper():
    config = GPTConfig.preset("gpt1")
    assert (config.n_layers, config.d_model, config.n_heads, config.d_ff, config.n_ctx) == (
        12,
        768,
        12,
        3072,
        512,
    )
    assert deviations(config) == []
    assert [d.setting for d in deviations(GPTConfig.preset("gpt1", norm_position="pre"))] == [
        "norm_position",
        "use_final_layer_norm",
    ]


def test_gpt_reuses_the_transformer_layer():
    model = tiny()
    assert all(isinstance(b, TransformerLayer) and b.cross_attn is None for b in model.blocks.layers)


def test_logits_are_causal_and_tied_to_the_token_embedding():
    model = tiny()
    ids = torch.randint(0, 60, (2, 9))
    out = model(ids)
    assert out.shape == (2, 9, 60)
    ids2 = ids.clone()
    ids2[:, 6] = (ids2[:, 6] + 1) % 60
    assert torch.allclose(out[:, :6], model(ids2)[:, :6], atol=1e-6)
    h, _ = model.hidden_states(ids)
    assert torch.allclose(out, h @ model.embed.tokens.weight.T, atol=1e-5)


def test_kv_cached_decoding_equals_recomputation():
    model = tiny()
    ids = torch.randint(0, 60, (2, 10))
    full = model(ids)
    state = model.start_state()
    prompt = model.decode_step(ids[:, :4], state)
    steps = [model.decode_step(ids[:, i : i + 1], state) for i in range(4, 10)]
    assert torch.allclose(torch.cat([prompt, *steps], 1), full, atol=1e-5)


def test_special_tokens_extend_the_embedding_and_keep_the_old_rows():
    model = tiny()
    before = model.embed.tokens.weight.clone()
    model.add_special_tokens(3)
    assert model.config.total_vocab == 63
    assert torch.equal(model.embed.tokens.weight[:60], before)
    assert model(torch.tensor([[60, 5, 62]])).shape == (1, 3, 63)


def test_context_longer_than_n_ctx_is_a_clear_error():
    with pytest.raises(ValueError, match="positional table"):
        tiny()(torch.zeros(1, 129, dtype=torch.long))


def test_scaled_embeddings_multiply_the_input_by_sqrt_d_model_and_leave_the_tied_output_alone():
    """``scale_embedding`` (off in GPT-1; the Transformer's §3.4): h_0 = sqrt(d_model) · U W_e + W_p, while the
    output layer is still W_e itself, so a small W_e gives unit-scale inputs and small initial logits."""
    config = GPTConfig.preset("tiny", vocab_size=60, init_std=64**-0.5, dropout=0.0, attention_dropout=0.0)
    plain, scaled = (
        GPT(config).eval(),
        GPT(GPTConfig.from_dict({**config.to_dict(), "scale_embedding": True})),
    )
    scaled.load_state_dict(plain.state_dict())
    scaled.eval()
    ids = torch.randint(0, 60, (2, 7))
    tokens, positions = plain.embed.tokens(ids), plain.embed(ids) - plain.embed.tokens(ids)
    assert torch.allclose(scaled.embed(ids), 8.0 * tokens + positions, atol=1e-6)  # sqrt(64) = 8
    h, _ = scaled.hidden_states(ids)
    assert torch.allclose(scaled(ids), h @ scaled.embed.tokens.weight.T, atol=1e-5)
    assert scaled.embed(ids).std().item() > 0.5  # unit scale in; GPT-1's own initialisation gives ~0.02
    said = {d.setting for d in deviations(scaled.config)}  # a departure from the paper is said, not hidden
    assert {"init_std", "scale_embedding"} <= said and "init_std" not in {
        d.setting for d in deviations(GPTConfig())
    }
    scaled.add_special_tokens(3)  # the appended rows are scaled the same way
    assert scaled.embed.tokens.scale == 8.0
    state = scaled.start_state()  # incremental decoding still equals recomputation
    full = scaled(ids)
    steps = [scaled.decode_step(ids[:, i : i + 1], state) for i in range(7)]
    assert torch.allclose(torch.cat(steps, 1), full, atol=1e-5)


def test_with_scaled_embeddings_learned_positions_start_at_the_scaled_tokens_scale():
    """The Transformer's sinusoids (amplitude 1) sit beside its sqrt(d_model)-scaled embeddings; learned
    positions of a scaled-embedding GPT start at that scale too, N(0, init_std · sqrt(d_model)), instead of
    1/sqrt(d_model) of it.  GPT-1 itself keeps N(0, init_std) for both."""
    torch.manual_seed(0)
    config = GPTConfig.preset("tiny", vocab_size=500, init_std=64**-0.5, init="xavier_uniform")
    scaled = GPT(GPTConfig.from_dict({**config.to_dict(), "scale_embedding": True}))
    token_scale = (scaled.embed.tokens.weight * scaled.embed.tokens.scale).std().item()
    assert token_scale == pytest.approx(1.0, rel=0.05)
    assert scaled.embed.positions.weight.std().item() == pytest.approx(token_scale, rel=0.05)
    gpt1 = GPT(GPTConfig.preset("tiny", vocab_size=500))
    assert gpt1.embed.positions.weight.std().item() == pytest.approx(0.02, rel=0.05)
