"""The encoder-decoder Transformer (§3.1, §3.4, §3.5) as a specification."""

from __future__ import annotations

import pytest
import torch

from ronbun import ConfigError, InputError, Transformer, TransformerConfig
from ronbun.models import deviations

V = 50


def tiny(**overrides) -> Transformer:
    return Transformer(TransformerConfig.preset("tiny", vocab_size=V, **overrides)).eval()


def ids(b: int, t: int) -> torch.Tensor:
    return torch.randint(4, V, (b, t))


def test_forward_gives_logits_over_the_vocabulary():
    model = tiny()
    assert model(ids(3, 7), ids(3, 5)).shape == (3, 5, V)


def test_changing_a_future_target_token_never_changes_earlier_outputs():
    """§3.2.3: the decoder's self-attention is masked so position i depends only on positions < i+1."""
    model = tiny()
    src, tgt = ids(2, 6), ids(2, 8)
    before = model(src, tgt)
    tgt2 = tgt.clone()
    tgt2[:, 5] = (tgt2[:, 5] + 1 - 4) % (V - 4) + 4
    after = model(src, tgt2)
    assert torch.allclose(before[:, :5], after[:, :5], atol=1e-6)
    assert not torch.allclose(before[:, 5:], after[:, 5:])


@pytest.mark.parametrize("window", [None, 3])
def test_padding_the_source_never_changes_any_output(window):
    model = tiny(attention_window=window)
    src, tgt = ids(1, 5), ids(1, 6)
    alone = model(src, tgt)
    padded = torch.cat([src, torch.zeros(1, 4, dtype=torch.long)], dim=1)  # pad_id = 0
    other = ids(1, 9)
    batch = model(torch.cat([padded, other]), torch.cat([tgt, ids(1, 6)]))
    assert torch.allclose(alone[0], batch[0], atol=1e-5)
    memory_a, _, _ = model.encode(src)
    memory_b, _, _ = model.encode(padded)
    assert torch.allclose(memory_a, memory_b[:, :5], atol=1e-5)


def test_a_fully_padded_source_row_is_a_clear_error_not_nan():
    model = tiny()
    src = ids(2, 4)
    src[1] = 0
    with pytest.raises(InputError, match=r"row\(s\) \[1\] contain only padding"):
        model(src, ids(2, 3))


@pytest.mark.parametrize(
    "overrides", [{}, {"attention_window": 3}, {"norm_position": "pre"}, {"positional": "learned"}]
)
def test_incremental_decoding_equals_the_full_forward_pass(overrides):
    model = tiny(**overrides)
    src = ids(3, 6)
    src[0, 4:] = 0
    tgt = ids(3, 7)
    full = model(src, tgt)
    memory, keep, _ = model.encode(src)
    state = model.start_state(memory, keep)
    steps = torch.cat([model.decode_step(tgt[:, i : i + 1], state) for i in range(tgt.shape[1])], dim=1)
    assert torch.allclose(steps, full, atol=1e-5)
    assert state.position == 7


def test_state_reorder_follows_the_chosen_rows():
    model = tiny()
    src, tgt = ids(3, 5), ids(3, 4)
    memory, keep, _ = model.encode(src)
    state = model.start_state(memory, keep)
    model.decode_step(tgt[:, :3], state)
    state.reorder(torch.tensor([2, 2, 0]))
    step = model.decode_step(tgt[[2, 2, 0], 3:4], state)
    full = model(src[[2, 2, 0]], tgt[[2, 2, 0]])
    assert torch.allclose(step[:, 0], full[:, 3], atol=1e-5)


def test_three_way_weight_tying_shares_one_matrix():
    """§3.4: the same weight matrix for source embedding, target embedding and pre-softmax linear."""
    model = tiny()
    assert model.src_embed.tokens is model.tgt_embed.tokens
    assert model.output_proj is None
    hidden = torch.randn(1, 2, 64)
    assert torch.allclose(model.project(hidden), hidden @ model.tgt_embed.tokens.weight.T)


def test_untied_variant_has_separate_matrices():
    tied = tiny()
    untied = tiny(tie_embeddings="none", src_vocab_size=70)
    assert untied.src_embed.tokens is not untied.tgt_embed.tokens
    assert untied.src_embed.tokens.weight.shape == (70, 64)
    assert untied.output_proj is not None
    assert untied.num_parameters() - tied.num_parameters() == 70 * 64 + V * 64
    assert untied(torch.randint(4, 70, (1, 4)), ids(1, 3)).shape == (1, 3, V)


def test_three_way_tying_needs_a_shared_vocabulary():
    with pytest.raises(ConfigError, match="shared vocabulary"):
        TransformerConfig.preset("tiny", vocab_size=V, src_vocab_size=60)


@pytest.mark.parametrize(("preset", "paper_millions"), [("base", 65), ("big", 213)])
def test_parameter_counts_are_within_5_percent_of_table_3(preset, paper_millions):
    n = Transformer(TransformerConfig.preset(preset, vocab_size=37000)).num_parameters()
    assert abs(n / 1e6 - paper_millions) / paper_millions < 0.05


@pytest.mark.parametrize(("d_k", "paper_millions"), [(16, 58), (32, 60)])
def test_table_3_row_b_builds_runs_and_has_the_rows_parameter_count(d_k, paper_millions):
    config = TransformerConfig.preset(f"table3-B{d_k}", vocab_size=37000)
    assert (config.n_heads, config.d_model, config.head_dim_k, config.head_dim_v) == (8, 512, d_k, 64)
    model = Transformer(config)
    assert abs(model.num_parameters() / 1e6 - paper_millions) / paper_millions < 0.05
    small = Transformer(
        TransformerConfig.preset(f"table3-B{d_k}", vocab_size=V, n_encoder_layers=1, n_decoder_layers=1)
    )
    assert small(ids(1, 4), ids(1, 3)).shape == (1, 3, V)


def test_initialisation_is_xavier_uniform_for_projections():
    model = Transformer(TransformerConfig.preset("small", vocab_size=1000))
    w = model.encoder.layers[0].ffn.w_1.weight  # (1024, 256): bound sqrt(6 / (256 + 1024))
    bound = (6 / (256 + 1024)) ** 0.5
    assert w.abs().max() <= bound and w.abs().max() > 0.9 * bound
    q = model.encoder.layers[0].self_attn.qkv_proj.weight[:256]  # W^Q alone is Xavier over (256, 256)
    assert q.abs().max() <= (6 / 512) ** 0.5
    emb = model.tgt_embed.tokens.weight[1:]
    assert abs(emb.std().item() - 256**-0.5) < 0.01
    assert model.encoder.layers[0].ffn.w_1.bias.abs().max() == 0


def test_dropout_is_active_only_in_training():
    model = tiny()
    src, tgt = ids(2, 5), ids(2, 5)
    assert torch.equal(model(src, tgt), model(src, tgt))
    model.train()
    assert not torch.equal(model(src, tgt), model(src, tgt))


def test_attention_maps_cover_every_layer_and_head():
    model = tiny()
    maps = model.attention_maps(ids(2, 6), ids(2, 4))
    assert len(maps.encoder) == len(maps.decoder) == len(maps.cross) == 2
    assert maps.encoder[0].shape == (2, 4, 6, 6)
    assert maps.cross[1].shape == (2, 4, 4, 6)
    assert torch.allclose(maps.cross[0].sum(-1), torch.ones(2, 4, 4))
    assert maps.decoder[0][0, 0].triu(1).abs().max() == 0, "no attention to subsequent positions"


# ---- bad input ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("src", "message"),
    [
        (torch.randn(2, 4), "integer token ids"),
        (torch.randint(4, V, (4,)), "shape"),
        (torch.full((1, 3), V + 5), f"token id {V + 5}, outside the vocabulary"),
        (torch.full((1, 3), -1), "token id -1"),
        (torch.randint(4, V, (1, 2000)), "longer than the positional table"),
        (torch.zeros(1, 0, dtype=torch.long), "empty"),
    ],
)
def test_bad_source_ids_get_a_clear_error(src, message):
    with pytest.raises(InputError, match=message):
        tiny()(src, ids(1, 3))


def test_heads_must_divide_d_model_unless_d_k_is_given():
    with pytest.raises(ConfigError, match="not divisible by n_heads"):
        TransformerConfig(d_model=100, n_heads=8, vocab_size=V)
    TransformerConfig(d_model=100, n_heads=8, d_k=16, d_v=16, vocab_size=V)


def test_unknown_preset_and_unknown_keys_are_errors():
    with pytest.raises(ConfigError, match="unknown preset 'huge'.*available presets: base, big"):
        TransformerConfig.preset("huge")
    with pytest.raises(ConfigError, match="unknown TransformerConfig key.*d_modle"):
        TransformerConfig.from_dict({"d_modle": 512})


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("dropout", 1.5),
        ("norm_position", "middle"),
        ("mask_fill", "-1e3"),
        ("sinusoid_layout", "x"),
        ("pad_id", 99),
    ],
)
def test_invalid_values_are_errors_naming_the_setting(key, value):
    with pytest.raises(ConfigError, match=key):
        TransformerConfig.preset("tiny", vocab_size=V, **{key: value})


def test_config_round_trips_through_json(tmp_path):
    config = TransformerConfig.preset("small", vocab_size=123, attention_window=5)
    config.save(tmp_path / "config.json")
    assert TransformerConfig.load(tmp_path / "config.json") == config


# ---- faithfulness profile -------------------------------------------------------------------------------


def test_the_paper_presets_depart_from_nothing():
    assert deviations(TransformerConfig.preset("base")) == []
    assert deviations(TransformerConfig.preset("big")) == []


def test_every_known_deviation_is_named_with_its_section():
    config = TransformerConfig.preset(
        "base",
        norm_position="pre",
        sinusoid_layout="concatenated",
        label_smoothing_mass="all",
        activation="gelu",
        mask_fill="-1e4",
    )
    found = {d.setting: d.section for d in deviations(config)}
    assert found == {
        "norm_position": "§3.1",
        "use_final_layer_norm": "§3.1",
        "sinusoid_layout": "§3.5",
        "label_smoothing_mass": "§5.4",
        "activation": "§3.3, Eq. 2",
        "mask_fill": "§3.2.3",
    }
    assert "d_k/d_v" in {d.setting for d in deviations(TransformerConfig.preset("table3-B16"))}
