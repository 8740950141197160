"""Hugging Face ``MarianMTModel`` → ronbun ``Transformer``: the same weights give the same logits, the same
greedy translations and the same beam-search translations.

The Marian models are small (vocabulary 100, d_model 32, 2 + 2 layers, 4 heads, swish) and randomly
initialised by transformers itself, with random non-zero LayerNorm parameters and ``final_logits_bias`` so
that every mapped tensor matters.  Ids follow the opus-mt convention: ``</s>`` = 0, ``<unk>`` = 1,
``<pad>`` = V - 1, and decoding starts from ``<pad>``.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
import torch

pytest.importorskip("transformers")
from transformers import MarianConfig, MarianMTModel

from ronbun.cli.main import main
from ronbun.interop import CONVERSION_FILE, ConversionError, convert, convert_hf_marian, load_hf_marian
from ronbun.models import Transformer
from ronbun.training.checkpoint import CheckpointError, load_model, verify_checkpoint

V, PAD, EOS, UNK = 100, 99, 0, 1


def build_marian(
    *,
    scale_embedding: bool = True,
    share: bool = True,
    tie: bool = True,
    seed: int = 0,
    eos_bias: float = 0.0,
) -> MarianMTModel:
    """A random MarianMTModel with every parameter non-trivial (LayerNorm ≠ (1, 0), final_logits_bias ≠ 0)."""
    torch.manual_seed(seed)
    config = MarianConfig(
        vocab_size=V,
        decoder_vocab_size=V if share else V - 10,
        d_model=32,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=4,
        decoder_attention_heads=4,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        activation_function="swish",
        max_position_embeddings=64,
        scale_embedding=scale_embedding,
        share_encoder_decoder_embeddings=share,
        tie_word_embeddings=tie,
        pad_token_id=PAD if share else V - 11,
        eos_token_id=EOS,
        decoder_start_token_id=PAD if share else V - 11,
        forced_eos_token_id=EOS,
        init_std=0.2,
    )
    model = MarianMTModel(config).eval()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.LayerNorm):
                m.weight.copy_(1 + 0.2 * torch.randn_like(m.weight))
                m.bias.copy_(0.1 * torch.randn_like(m.bias))
        model.final_logits_bias.copy_(0.5 * torch.randn_like(model.final_logits_bias))
        model.final_logits_bias[0, EOS] += eos_bias
    return model


def save(model: MarianMTModel, path: Path) -> Path:
    model.save_pretrained(path)
    return path


def source_batch(pad: int = PAD) -> tuple[torch.Tensor, torch.Tensor]:
    """Six source sentences of different lengths, right-padded (as MarianTokenizer pads), and their mask."""
    g = torch.Generator().manual_seed(1)
    src = torch.randint(2, pad, (6, 9), generator=g)
    for row, length in enumerate([9, 6, 4, 7, 2, 5]):
        src[row, length:] = pad
    return src, (src != pad).long()


def hf_output(row: torch.Tensor) -> tuple[list[int], bool]:
    """A generate() row ``[start, y_1, …, </s>, <pad>, …]`` → (tokens without start and </s>, whether it
    ended with </s>)."""
    tokens = row[1:].tolist()
    return (tokens[: tokens.index(EOS)], True) if EOS in tokens else (tokens, False)


def assert_no_debris(parent: Path, out: Path) -> None:
    assert not out.exists()
    assert not [p.name for p in parent.iterdir() if p.name.startswith(f".{out.name}")]


# -- logits --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("scale_embedding", [True, False])
@pytest.mark.parametrize(
    ("share", "tie", "mode"), [(True, True, "all"), (False, True, "decoder"), (False, False, "none")]
)
def test_logits_equal_hugging_face(tmp_path, scale_embedding, share, tie, mode):
    hf = build_marian(scale_embedding=scale_embedding, share=share, tie=tie)
    out = convert_hf_marian(save(hf, tmp_path / "hf"), tmp_path / "ckpt")
    ours = load_model(out, expect="transformer")
    assert isinstance(ours, Transformer)
    c = ours.config
    assert (c.tie_embeddings, c.scale_embedding, c.sinusoid_layout, c.activation) == (
        mode, scale_embedding, "concatenated", "silu"
    )  # fmt: skip
    assert (c.pad_id, c.bos_id, c.eos_id, c.final_logits_bias) == (hf.config.pad_token_id,) * 2 + (EOS, True)
    pad = hf.config.pad_token_id
    src, mask = source_batch(pad)
    tgt_in = torch.cat([torch.full((6, 1), pad), torch.randint(2, pad, (6, 7))], dim=1)  # starts with <pad>
    with torch.no_grad():
        expected = hf(input_ids=src, attention_mask=mask, decoder_input_ids=tgt_in).logits
        got = ours(src, tgt_in)
    assert got.shape == expected.shape
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)


def test_untied_shared_embeddings_follow_transformers(tmp_path):
    """share_encoder_decoder_embeddings=True with tie_word_embeddings=False: transformers 5.x then keeps the
    encoder embedding, decoder embedding and lm_head as separate matrices; so does the conversion."""
    hf = build_marian(share=True, tie=False)
    ours = load_hf_marian(save(hf, tmp_path / "hf"))
    assert ours.config.tie_embeddings == "none"
    src, mask = source_batch()
    tgt_in = torch.cat([torch.full((6, 1), PAD), torch.randint(2, PAD, (6, 5))], dim=1)
    with torch.no_grad():
        expected = hf(input_ids=src, attention_mask=mask, decoder_input_ids=tgt_in).logits
        torch.testing.assert_close(ours(src, tgt_in), expected, atol=1e-5, rtol=0)


def test_pytorch_model_bin_is_read_with_weights_only(tmp_path):
    hf = build_marian()
    directory = save(hf, tmp_path / "hf")
    (directory / "model.safetensors").unlink()
    torch.save(hf.state_dict(), directory / "pytorch_model.bin")
    ours = load_hf_marian(directory)
    assert ours.config.extra["imported_from"]["weights_file"] == "pytorch_model.bin"
    src, mask = source_batch()
    tgt_in = torch.full((6, 1), PAD)
    with torch.no_grad():
        expected = hf(input_ids=src, attention_mask=mask, decoder_input_ids=tgt_in).logits
        torch.testing.assert_close(ours(src, tgt_in), expected, atol=1e-5, rtol=0)


def test_stored_sinusoid_tables_are_checked_against_the_concatenated_layout(tmp_path):
    """Full state-dict dumps (like the original opus-mt ``pytorch_model.bin``) carry the positional tables;
    they must equal ronbun's ``sinusoid_layout="concatenated"`` table (positions from 0, sin half then cos
    half).  A table in the paper's interleaved layout is refused rather than silently replaced."""
    from ronbun.nn.embeddings import sinusoid_table

    hf = build_marian()
    directory = save(hf, tmp_path / "hf")
    (directory / "model.safetensors").unlink()
    state = hf.state_dict()
    assert "model.encoder.embed_positions.weight" in state
    torch.save(state, directory / "pytorch_model.bin")
    load_hf_marian(directory)  # accepted: Hugging Face's table is the concatenated one
    state["model.decoder.embed_positions.weight"] = sinusoid_table(64, 32, "interleaved")
    torch.save(state, directory / "pytorch_model.bin")
    with pytest.raises(ConversionError, match="decoder.embed_positions.weight .* not Marian's concatenated"):
        load_hf_marian(directory)


# -- generation ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("scale_embedding", [True, False])
def test_greedy_kv_cache_decoding_equals_hugging_face(tmp_path, scale_embedding):
    """Argmax decoding through ronbun's KV cache (``start_state``/``decode_step``), independent of
    ``ronbun.generation``, against ``generate(num_beams=1)`` with Marian's own settings: ``<pad>`` banned
    (``bad_words_ids=[[pad]]``, the opus-mt generation config) and ``</s>`` forced at the last step."""
    hf = build_marian(scale_embedding=scale_embedding, seed=1, eos_bias=2.0)
    ours = load_hf_marian(save(hf, tmp_path / "hf"))
    src, mask = source_batch()
    new_tokens = 20
    with torch.no_grad():
        expected = hf.generate(
            input_ids=src, attention_mask=mask, do_sample=False, num_beams=1, max_new_tokens=new_tokens,
            bad_words_ids=[[PAD]], forced_eos_token_id=EOS, pad_token_id=PAD,
        )  # fmt: skip
        memory, src_keep, _ = ours.encode(src)
        state = ours.start_state(memory, src_keep)
        token = torch.full((6, 1), ours.config.bos_id)
        done = torch.zeros(6, dtype=torch.bool)
        generated = [token]
        for step in range(new_tokens):
            logits = ours.decode_step(token, state)[:, -1]  # (B, V)
            logits[:, PAD] = float("-inf")
            if step == new_tokens - 1:
                logits[:, torch.arange(V) != EOS] = float("-inf")
            token = logits.argmax(-1, keepdim=True).masked_fill(done[:, None], PAD)
            done |= token[:, 0] == EOS
            generated.append(token)
            if bool(done.all()):
                break
    got = torch.cat(generated, dim=1)
    assert got.tolist() == expected.tolist()


def _search():
    return pytest.importorskip("ronbun.generation.search"), pytest.importorskip("ronbun.models.decoding")


@pytest.mark.parametrize("scale_embedding", [True, False])
def test_greedy_search_equals_hugging_face(tmp_path, scale_embedding):
    """``ronbun.generation.greedy_search(max_len=19, force_eos=True)`` = ``generate(max_new_tokens=20,
    forced_eos_token_id=</s>)``: both allow 19 tokens, then only ``</s>``; both ban ``<pad>`` (ronbun's
    adapter by default, Hugging Face through ``bad_words_ids=[[pad]]``)."""
    search, adapters = _search()
    hf = build_marian(scale_embedding=scale_embedding, seed=1, eos_bias=2.0)
    ours = load_hf_marian(save(hf, tmp_path / "hf"))
    src, mask = source_batch()
    with torch.no_grad():
        expected = hf.generate(
            input_ids=src, attention_mask=mask, do_sample=False, num_beams=1, max_new_tokens=20,
            bad_words_ids=[[PAD]], forced_eos_token_id=EOS, pad_token_id=PAD,
        )  # fmt: skip
    results = search.greedy_search(adapters.EncoderDecoderAdapter(ours, src), 19, eos_id=EOS, force_eos=True)
    assert [r.tokens for r in results] == [hf_output(row)[0] for row in expected]


@pytest.mark.parametrize("scale_embedding", [True, False])
@pytest.mark.parametrize("alpha", [0.0, 1.0])
def test_beam_search_equals_hugging_face(tmp_path, scale_embedding, alpha):
    """Beam 4, ``early_stopping=True`` (Hugging Face) = ``early_stopping="finished"`` (ronbun: stop once
    ``beam`` hypotheses have ended), length penalty ``len ** alpha`` on both sides (HF ``length_penalty``,
    ronbun ``length_penalty="power"``), no n-gram blocking, no repetition penalty, ``<pad>`` banned on both.

    Forcing ``</s>`` at the length limit is switched off on both sides (HF ``forced_eos_token_id=None``,
    ronbun ``force_eos=False``, both limits 20 tokens): when Hugging Face forces ``</s>`` it gives that
    token log-probability 0, whereas ronbun keeps the model's log-probability, so hypotheses cut at the limit
    would be scored differently by design.  Some sentences end with a natural ``</s>`` and some reach the
    limit (asserted), so both ways of finishing are compared."""
    search, adapters = _search()
    seed = 2 if scale_embedding else 1  # seeds whose sentences end both ways, for both alphas
    hf = build_marian(scale_embedding=scale_embedding, seed=seed, eos_bias=2.0)
    ours = load_hf_marian(save(hf, tmp_path / "hf"))
    src, mask = source_batch()
    with torch.no_grad():
        expected = hf.generate(
            input_ids=src, attention_mask=mask, do_sample=False, num_beams=4, length_penalty=alpha,
            early_stopping=True, max_new_tokens=20, bad_words_ids=[[PAD]], forced_eos_token_id=None,
            no_repeat_ngram_size=0, repetition_penalty=1.0, pad_token_id=PAD,
        )  # fmt: skip
    results = search.beam_search(
        adapters.EncoderDecoderAdapter(ours, src), 20, eos_id=EOS, beam=4, alpha=alpha,
        length_penalty="power", early_stopping="finished", force_eos=False,
    )  # fmt: skip
    got = [(r.tokens, r.hypotheses[0].finished) for r in results]
    assert got == [hf_output(row) for row in expected]
    assert any(finished for _, finished in got) and not all(finished for _, finished in got)


# -- files that travel, provenance, CLI ----------------------------------------------------------------------
def add_tokenizer_files(directory: Path, size: int = V) -> dict[str, bytes]:
    vocab = {"</s>": 0, "<unk>": 1, **{f"▁w{i}": i for i in range(2, size - 1)}, "<pad>": size - 1}
    files = {
        "source.spm": b"\x0a\x05fake-source-sentencepiece\x00\xff",
        "target.spm": b"\x0a\x05fake-target-sentencepiece\x01\xfe",
        "vocab.json": json.dumps(vocab, ensure_ascii=False).encode(),
    }
    for name, data in files.items():
        (directory / name).write_bytes(data)
    return files


def test_tokenizer_files_travel_and_provenance_is_recorded(tmp_path):
    directory = save(build_marian(), tmp_path / "hf")
    files = add_tokenizer_files(directory)
    out = convert("hf-marian", directory, tmp_path / "ckpt")
    verify_checkpoint(out)  # the copied files are in the manifest, hashes included
    for name, data in files.items():
        assert (out / name).read_bytes() == data
    model = load_model(out)
    extra = model.config.extra
    assert extra["tokenizer"] == {
        "kind": "marian-sentencepiece",
        "files": {"source_spm": "source.spm", "target_spm": "target.spm", "vocab": "vocab.json"},
    }
    assert extra["imported_from"]["format"] == "hf-marian"
    assert extra["hf_generation"]["forced_eos_token_id"] == EOS
    assert model.config.unk_id == UNK
    assert json.loads((out / CONVERSION_FILE).read_text())["tokenizer"] == extra["tokenizer"]


def test_cli_convert(tmp_path, capsys):
    directory = save(build_marian(), tmp_path / "hf")
    out = tmp_path / "ckpt"
    assert main(["convert", "--from", "hf-marian", str(directory), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"-> {out}" in printed and "model: transformer" in printed
    assert "sinusoid_layout = 'concatenated'" in printed  # the faithfulness profile of the imported model
    assert main(["convert", "--from", "hf-marian", str(directory), "--out", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["convert", "--from", "hf-marian", str(directory), "--out", str(out), "--force"]) == 0
    load_model(out)


def test_cli_help_explains_the_sources(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["convert", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for phrase in (
        "hf-marian",
        "hf-openai-gpt",
        "openai-original",
        "params_shapes.json",
        "--out",
        "examples:",
    ):
        assert phrase in text


# -- bad input: one-line errors, nothing written -------------------------------------------------------------
def edit_config(directory: Path, **changes) -> None:
    path = directory / "config.json"
    config = json.loads(path.read_text())
    config.update(changes)
    path.write_text(json.dumps(config))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"model_type": "bert"}, "model_type='bert'"),
        ({"normalize_before": True}, "normalize_before=True"),
        ({"add_final_layer_norm": True}, "add_final_layer_norm=True"),
        ({"decoder_ffn_dim": 128}, "decoder_ffn_dim=128"),
        ({"decoder_attention_heads": 8}, "decoder_attention_heads=8"),
        ({"activation_function": "tanh"}, "activation_function='tanh'"),
        ({"vocab_size": 120, "decoder_vocab_size": 120}, "mismatched vocabulary sizes"),
        ({"encoder_layers": 3}, "encoder.layers.2"),
        ({"decoder_layers": 1}, "decoder.layers.1"),
        ({"d_model": 48}, "shape mismatch"),
    ],
)
def test_unrepresentable_or_inconsistent_configs_are_refused(tmp_path, change, message):
    directory = save(build_marian(), tmp_path / "hf")
    edit_config(directory, **change)
    out = tmp_path / "ckpt"
    with pytest.raises(ConversionError, match=message) as info:
        convert_hf_marian(directory, out)
    assert "\n" not in str(info.value)
    assert_no_debris(tmp_path, out)


def test_legacy_opus_mt_keys_with_neutral_values_are_accepted(tmp_path):
    """The BART-era keys of the original opus-mt config.json files, with the values they all carry."""
    hf = build_marian()
    directory = save(hf, tmp_path / "hf")
    legacy = {
        "normalize_before": False,
        "add_final_layer_norm": False,
        "normalize_embedding": False,
        "static_position_embeddings": True,
        "add_bias_logits": False,
        "extra_pos_embeddings": V,
        "num_beams": 4,
        "max_length": 512,
        "bad_words_ids": [[PAD]],
    }
    edit_config(directory, **legacy)
    ours = load_hf_marian(directory)
    assert ours.config.extra["hf_generation"]["bad_words_ids"] == [[PAD]]
    assert ours.config.extra["hf_generation"]["num_beams"] == 4
    src, mask = source_batch()
    tgt_in = torch.full((6, 1), PAD)
    with torch.no_grad():
        expected = hf(input_ids=src, attention_mask=mask, decoder_input_ids=tgt_in).logits
        torch.testing.assert_close(ours(src, tgt_in), expected, atol=1e-5, rtol=0)


def test_vocab_json_larger_than_the_model_is_refused(tmp_path):
    directory = save(build_marian(), tmp_path / "hf")
    add_tokenizer_files(directory, size=V + 5)
    with pytest.raises(ConversionError, match="mismatched vocabulary sizes: vocab.json has token id 104"):
        convert_hf_marian(directory, tmp_path / "ckpt")
    assert_no_debris(tmp_path, tmp_path / "ckpt")


class NotATensor:
    """Unpickling this would need arbitrary code: torch.load(weights_only=True) must refuse it."""


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_pickles_and_non_checkpoints_are_refused(tmp_path):
    out = tmp_path / "ckpt"
    directory = save(build_marian(), tmp_path / "hf")
    (directory / "model.safetensors").unlink()
    (directory / "pytorch_model.bin").write_bytes(pickle.dumps({"model.shared.weight": NotATensor()}))
    with pytest.raises(ConversionError, match="weights_only=True") as info:
        convert_hf_marian(directory, out)
    assert "\n" not in str(info.value)
    # a lone pickle file instead of a directory
    with pytest.raises(ConversionError, match="is a file, not a directory"):
        convert_hf_marian(directory / "pytorch_model.bin", out)
    # a pickle disguised as safetensors
    (directory / "pytorch_model.bin").unlink()
    (directory / "model.safetensors").write_bytes(pickle.dumps({"x": 1}))
    with pytest.raises(CheckpointError, match="pickle"):
        convert_hf_marian(directory, out)
    # no weights at all
    (directory / "model.safetensors").unlink()
    with pytest.raises(ConversionError, match="holds no model weights"):
        convert_hf_marian(directory, out)
    # not a Hugging Face directory
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ConversionError, match="config.json is missing"):
        convert_hf_marian(empty, out)
    with pytest.raises(ConversionError, match="does not exist"):
        convert_hf_marian(tmp_path / "nowhere", out)
    assert_no_debris(tmp_path, out)


def test_failed_conversion_keeps_an_existing_output(tmp_path):
    good = save(build_marian(), tmp_path / "hf")
    out = convert_hf_marian(good, tmp_path / "ckpt")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    edit_config(good, normalize_before=True)
    with pytest.raises(ConversionError):
        convert_hf_marian(good, out, overwrite=True)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
