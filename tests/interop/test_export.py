"""ronbun Transformer checkpoint → Hugging Face ``MarianMTModel`` → CTranslate2: the exported models give
ronbun's logits and ronbun's greedy translations.

Models use the settings ronbun's own training uses: ``TransformerConfig.preset("tiny")`` (d_model 64, 2 + 2
layers, ReLU, post-LN, three-way tying, the paper's *interleaved* sinusoids) with the byte-level BPE's ids
``<pad>`` 0, ``<s>`` 1, ``</s>`` 2, ``<unk>`` 3, decoding from ``<s>``.  The logit tests randomise every
parameter (LayerNorm ≠ (1, 0), biases ≠ 0) so that every mapped tensor matters; the decoding tests train the
model for a few steps on six sentence pairs so that translations end naturally (a random tied model repeats
one token forever), some before the length limit and some at it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

pytest.importorskip("transformers")
from transformers import AutoTokenizer, MarianConfig, MarianMTModel

from ronbun.cli.main import main
from ronbun.interop import ExportError, convert_hf_marian, export, export_hf_marian
from ronbun.interop.export import EXPORT_FILE, hf_marian_state
from ronbun.models import GPT, GPTConfig, Transformer, TransformerConfig
from ronbun.mt.translator import Translator
from ronbun.text.bpe import BOS_ID, EOS_ID, PAD_ID, TextTokenizer
from ronbun.training.checkpoint import save_checkpoint

SOURCES = [
    "the dog sees the cat",
    "a man rides a horse in the park",
    "hello world",
    "the cat sleeps",
    "a dog runs in the park",
    "hi",
]
TARGETS = [
    "der hund sieht die katze",
    "ein mann reitet ein pferd im park",
    "hallo welt",
    "die katze schläft",
    "ein hund läuft im park",
    "hallo",
]
MAX_LEN = 9  # output tokens allowed (then </s> is forced): some translations end before, some reach it


@pytest.fixture(scope="module")
def tokenizer() -> TextTokenizer:
    return TextTokenizer.train((SOURCES + TARGETS) * 10, 300)


def padded(rows: list[list[int]], prefix: tuple[int, ...] = (), suffix: tuple[int, ...] = ()) -> torch.Tensor:
    rows = [[*prefix, *r, *suffix] for r in rows]
    out = torch.full((len(rows), max(map(len, rows))), PAD_ID)
    for i, r in enumerate(rows):
        out[i, : len(r)] = torch.tensor(r)
    return out


def tiny_config(tokenizer: TextTokenizer, **overrides) -> TransformerConfig:
    settings = {"vocab_size": tokenizer.vocab_size, "pad_id": PAD_ID, "bos_id": BOS_ID, "eos_id": EOS_ID}
    return TransformerConfig.preset("tiny", **{**settings, **overrides})


def randomised(config: TransformerConfig, seed: int = 0) -> Transformer:
    torch.manual_seed(seed)
    model = Transformer(config).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(1 + 0.2 * torch.randn_like(p))
            elif p.dim() == 1:
                p.copy_(0.1 * torch.randn_like(p))
        if model.final_logits_bias is not None:
            model.final_logits_bias.copy_(0.5 * torch.randn_like(model.final_logits_bias))
    return model


def trained(tokenizer: TextTokenizer, steps: int = 25) -> Transformer:
    """The tiny model after a few Adam steps on the six pairs (a second, on one thread)."""
    torch.manual_seed(0)
    model = Transformer(tiny_config(tokenizer, dropout=0.0))
    src = padded(tokenizer.encode_batch(SOURCES))
    tgt = tokenizer.encode_batch(TARGETS)
    tgt_in, tgt_out = padded(tgt, prefix=(BOS_ID,)), padded(tgt, suffix=(EOS_ID,))
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(steps):
        loss = F.cross_entropy(model(src, tgt_in).flatten(0, 1), tgt_out.flatten(), ignore_index=PAD_ID)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()


def save(model: Transformer, tokenizer: TextTokenizer | None, path: Path) -> Path:
    if tokenizer is None:
        return save_checkpoint(path, model)
    tokenizer.save(path.parent / "tokenizer-for-save.json")
    return save_checkpoint(path, model, tokenizer_file=path.parent / "tokenizer-for-save.json")


def load_hf(directory: Path) -> MarianMTModel:
    model, info = MarianMTModel.from_pretrained(directory, output_loading_info=True)
    assert not any(info[k] for k in ("missing_keys", "unexpected_keys", "mismatched_keys")), info
    return model.eval()


def source_batch(tokenizer: TextTokenizer) -> tuple[list[list[int]], torch.Tensor]:
    ids = tokenizer.encode_batch(SOURCES)
    assert len({len(s) for s in ids}) > 3  # real padding
    return ids, padded(ids)


@pytest.fixture(scope="module")
def trained_checkpoint(tokenizer, tmp_path_factory) -> tuple[Path, Transformer]:
    model = trained(tokenizer)
    return save(model, tokenizer, tmp_path_factory.mktemp("ronbun") / "ckpt"), model


@pytest.fixture(scope="module")
def ronbun_greedy(tokenizer, trained_checkpoint) -> list[list[int]]:
    """ronbun's own greedy translations (``Translator.translate_ids(beam=1)``): the reference."""
    _, model = trained_checkpoint
    ids, _ = source_batch(tokenizer)
    out = Translator(model, tokenizer).translate_ids(ids, beam=1, max_len_a=0, max_len_b=MAX_LEN)
    lengths = [len(o) for o in out]
    assert min(lengths) < MAX_LEN and max(lengths) == MAX_LEN  # ended by </s> and cut at the limit
    assert all(len(set(o)) > 1 for o in out if len(o) > 2)  # not one token repeated
    return out


# -- Hugging Face: logits ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("layout", "tie", "activation", "bias", "scale"),
    [
        ("interleaved", "all", "relu", False, True),  # ronbun's defaults
        ("concatenated", "all", "relu", False, True),  # Marian's layout: nothing permuted
        ("interleaved", "decoder", "gelu", True, True),
        ("interleaved", "none", "silu", True, False),
        ("concatenated", "none", "gelu_tanh", False, True),
    ],
)
def test_hf_marian_logits_equal_ronbun(tmp_path, tokenizer, layout, tie, activation, bias, scale):
    config = tiny_config(
        tokenizer, sinusoid_layout=layout, tie_embeddings=tie, activation=activation, final_logits_bias=bias,
        scale_embedding=scale,
    )  # fmt: skip
    model = randomised(config)
    out = export_hf_marian(save(model, tokenizer, tmp_path / "ckpt"), tmp_path / "hf")
    hf = load_hf(out)
    assert (hf.config.pad_token_id, hf.config.decoder_start_token_id, hf.config.eos_token_id) == (0, 1, 2)
    _, src = source_batch(tokenizer)
    g = torch.Generator().manual_seed(1)
    tgt_in = torch.cat(
        [torch.full((len(src), 1), BOS_ID), torch.randint(4, config.vocab_size, (6, 7), generator=g)], 1
    )
    with torch.no_grad():
        expected = model(src, tgt_in)
        got = hf(input_ids=src, attention_mask=(src != PAD_ID).long(), decoder_input_ids=tgt_in).logits
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)
    record = json.loads((out / EXPORT_FILE).read_text())
    assert record["residual_permutation"] == (
        None if layout == "concatenated" else "interleaved→concatenated"
    )


def test_interleaved_export_is_a_permutation_not_a_copy(tokenizer):
    """The permuted export differs from the raw weights (so the equality above is not vacuous) and equals the
    concatenated model's export when the same weights are read in Marian's layout."""
    model = randomised(tiny_config(tokenizer))
    state = hf_marian_state(model)
    raw = model.tgt_embed.tokens.weight
    assert not torch.equal(state["model.decoder.embed_tokens.weight"], raw)
    d = model.config.d_model
    perm = torch.cat([torch.arange(0, d, 2), torch.arange(1, d, 2)])
    assert torch.equal(state["model.decoder.embed_tokens.weight"], raw[:, perm])
    assert torch.equal(state["lm_head.weight"], state["model.shared.weight"])


def test_exported_tokenizer_is_ronbuns(tmp_path, tokenizer, trained_checkpoint):
    ckpt, _ = trained_checkpoint
    out = export("hf-marian", ckpt, tmp_path / "hf")
    hf_tok = AutoTokenizer.from_pretrained(out)
    for sentence in SOURCES:
        assert hf_tok(sentence)["input_ids"] == tokenizer.encode(sentence)  # no </s> appended, like ronbun
    assert (hf_tok.pad_token_id, hf_tok.bos_token_id, hf_tok.eos_token_id, hf_tok.unk_token_id) == (
        0,
        1,
        2,
        3,
    )
    assert len(hf_tok) == tokenizer.vocab_size


def test_vocabulary_larger_than_the_tokenizer_gets_placeholders(tmp_path, tokenizer):
    model = randomised(tiny_config(tokenizer, vocab_size=tokenizer.vocab_size + 3))
    out = export_hf_marian(save(model, tokenizer, tmp_path / "ckpt"), tmp_path / "hf")
    hf_tok = AutoTokenizer.from_pretrained(out)
    assert len(hf_tok) == model.config.vocab_size
    assert (
        hf_tok.convert_ids_to_tokens(model.config.vocab_size - 1)
        == f"<ronbun_unused_{model.config.vocab_size - 1}>"
    )


def test_imported_opus_mt_round_trips(tmp_path):
    """opus-mt conventions (``</s>`` 0, ``<pad>`` last and decoder start, concatenated sinusoids, swish,
    final_logits_bias): Marian → ronbun (``convert``) → Marian (``export``) gives the original logits."""
    torch.manual_seed(0)
    V = 60
    original = MarianMTModel(
        MarianConfig(
            vocab_size=V, d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
            decoder_attention_heads=4, encoder_ffn_dim=64, decoder_ffn_dim=64, activation_function="swish",
            max_position_embeddings=64, pad_token_id=V - 1, eos_token_id=0, decoder_start_token_id=V - 1,
            init_std=0.2,
        )
    ).eval()  # fmt: skip
    with torch.no_grad():
        original.final_logits_bias.normal_(0, 0.5)
    original.save_pretrained(tmp_path / "opus")
    ckpt = convert_hf_marian(tmp_path / "opus", tmp_path / "ckpt")
    back = load_hf(export_hf_marian(ckpt, tmp_path / "back"))
    src = torch.randint(2, V - 1, (3, 7))
    src[1, 4:] = V - 1
    tgt_in = torch.cat([torch.full((3, 1), V - 1), torch.randint(2, V - 1, (3, 5))], 1)
    with torch.no_grad():
        expected = original(
            input_ids=src, attention_mask=(src != V - 1).long(), decoder_input_ids=tgt_in
        ).logits
        got = back(input_ids=src, attention_mask=(src != V - 1).long(), decoder_input_ids=tgt_in).logits
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)


# -- Hugging Face: greedy decoding ---------------------------------------------------------------------------
def test_hf_marian_greedy_equals_ronbun(tmp_path, tokenizer, trained_checkpoint, ronbun_greedy):
    """``generate(num_beams=1, do_sample=False)`` with the exported generation_config.json (``<pad>`` banned,
    ``</s>`` forced at the limit): ``max_new_tokens = MAX_LEN + 1`` allows the same ``MAX_LEN`` tokens."""
    ckpt, _ = trained_checkpoint
    hf = load_hf(export_hf_marian(ckpt, tmp_path / "hf"))
    _, src = source_batch(tokenizer)
    with torch.no_grad():
        rows = hf.generate(
            input_ids=src, attention_mask=(src != PAD_ID).long(), num_beams=1, do_sample=False,
            max_new_tokens=MAX_LEN + 1,
        )  # fmt: skip
    got = []
    for row in rows.tolist():
        assert row[0] == BOS_ID
        tokens = row[1:]
        got.append(tokens[: tokens.index(EOS_ID)] if EOS_ID in tokens else tokens)
    assert got == ronbun_greedy


# -- CTranslate2 ---------------------------------------------------------------------------------------------
def _ctranslate2():
    return pytest.importorskip(
        "ctranslate2", reason="CTranslate2 is not installed (pip install 'ronbun[deploy]')"
    )


def ct2_greedy(directory: Path, tokenizer: TextTokenizer) -> list[list[int]]:
    ctranslate2 = _ctranslate2()
    translator = ctranslate2.Translator(str(directory), device="cpu")
    ids, _ = source_batch(tokenizer)
    tokens = [[tokenizer.tokenizer.id_to_token(i) for i in s] for s in ids]
    results = translator.translate_batch(
        tokens,
        beam_size=1,
        max_decoding_length=MAX_LEN,
        min_decoding_length=0,
        suppress_sequences=[["<pad>"]],
    )
    vocab = tokenizer.tokenizer.get_vocab()
    return [[vocab[t] for t in r.hypotheses[0]] for r in results]


def test_ctranslate2_greedy_equals_ronbun(tmp_path, tokenizer, trained_checkpoint, ronbun_greedy):
    _ctranslate2()
    ckpt, _ = trained_checkpoint
    out = export("ctranslate2", ckpt, tmp_path / "ct2")
    config = json.loads((out / "config.json").read_text())
    assert (config["decoder_start_token"], config["eos_token"]) == ("<s>", "</s>")  # not a zero embedding
    vocabulary = json.loads((out / "shared_vocabulary.json").read_text())
    assert vocabulary == [tokenizer.tokenizer.id_to_token(i) for i in range(tokenizer.vocab_size)]
    assert (out / "tokenizer.json").is_file()
    assert json.loads((out / EXPORT_FILE).read_text())["translate_batch"]["suppress_sequences"] == [["<pad>"]]
    assert ct2_greedy(out, tokenizer) == ronbun_greedy


def test_cli_ctranslate2_int8(tmp_path, tokenizer, trained_checkpoint, capsys):
    _ctranslate2()
    ckpt, _ = trained_checkpoint
    out = tmp_path / "ct2"
    assert main(["export", str(ckpt), "--to", "ctranslate2", str(out), "--quantization", "int8"]) == 0
    assert f"-> {out} (ctranslate2)" in capsys.readouterr().out
    assert json.loads((out / EXPORT_FILE).read_text())["quantization"] == "int8"
    assert all(len(t) <= MAX_LEN for t in ct2_greedy(out, tokenizer))  # loads and decodes


def test_ctranslate2_needs_a_tokenizer(tmp_path, tokenizer):
    _ctranslate2()
    ckpt = save(randomised(tiny_config(tokenizer)), None, tmp_path / "ckpt")
    with pytest.raises(ExportError, match="no tokenizer.json; CTranslate2 needs the tokenizer"):
        export("ctranslate2", ckpt, tmp_path / "ct2")
    assert not (tmp_path / "ct2").exists()


# -- refusals, CLI -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("overrides", "setting"),
    [
        ({"norm_position": "pre"}, "norm_position='pre'"),
        ({"final_layer_norm": True}, "final_layer_norm=True"),
        ({"positional": "learned"}, "positional='learned'"),
        ({"attention_window": 3}, "attention_window=3"),
        ({"d_k": 8, "d_v": 8}, "d_k=8, d_v=8"),
        ({"layer_norm_eps": 1e-6}, "layer_norm_eps=1e-06"),
        ({"src_vocab_size": 400, "tie_embeddings": "decoder"}, "src_vocab_size=400"),
    ],
)
def test_unexpressible_models_are_refused(tmp_path, tokenizer, overrides, setting):
    ckpt = save(randomised(tiny_config(tokenizer, **overrides)), tokenizer, tmp_path / "ckpt")
    with pytest.raises(ExportError, match=f"cannot export to Marian: {setting}") as info:
        export_hf_marian(ckpt, tmp_path / "hf")
    assert "\n" not in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt", "tokenizer-for-save.json"]  # no debris


def test_gpt_checkpoints_are_refused(tmp_path):
    gpt = GPT(GPTConfig(vocab_size=50, n_ctx=16, d_model=32, n_heads=4, d_ff=64, n_layers=1))
    ckpt = save_checkpoint(tmp_path / "gpt", gpt)
    with pytest.raises(ExportError, match="holds a 'gpt' model; only encoder-decoder Transformer"):
        export_hf_marian(ckpt, tmp_path / "hf")


def test_cli_errors_are_one_line(tmp_path, tokenizer, capsys):
    def error(*argv: str) -> str:
        assert main(["export", *argv]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("ronbun: error: ")
        return err

    ckpt = save(randomised(tiny_config(tokenizer)), tokenizer, tmp_path / "ckpt")
    assert "does not exist" in error(str(tmp_path / "nowhere"), "--to", "hf-marian", str(tmp_path / "x"))
    pre = save(randomised(tiny_config(tokenizer, norm_position="pre")), tokenizer, tmp_path / "pre")
    assert "norm_position='pre'" in error(str(pre), "--to", "hf-marian", str(tmp_path / "x"))
    assert "--quantization applies only" in error(
        str(ckpt), "--to", "hf-marian", "o", "--quantization", "int8"
    )
    assert "holds the checkpoint" in error(str(ckpt), "--to", "hf-marian", str(ckpt), "--force")
    out = tmp_path / "hf"
    out.mkdir()  # an empty OUT is fine
    assert main(["export", str(ckpt), "--to", "hf-marian", str(out)]) == 0
    before = (out / "model.safetensors").read_bytes()
    assert "already exists and is not empty" in error(str(ckpt), "--to", "hf-marian", str(out))
    assert main(["export", str(ckpt), "--to", "hf-marian", str(out), "--force"]) == 0
    assert (out / "model.safetensors").read_bytes() == before
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".hf.export-")]
    load_hf(out)


def test_cli_help_explains_targets_and_limits(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["export", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for phrase in ("hf-marian", "ctranslate2", "--quantization", "--force", "refused", "examples:"):
        assert phrase in text
