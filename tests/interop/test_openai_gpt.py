"""GPT-1 weights from Hugging Face ``openai-gpt`` and from OpenAI's original sharded release → ronbun ``GPT``:
same logits, same greedy continuations.

OpenAI's real weights are not available here, so the original release format is tested by writing a random
Hugging Face model out in that layout (``params_shapes.json`` + ``params_N.npy`` shards of one flat vector,
cut at arbitrary offsets), in the order ``finetune-transformer-lm`` reads it.  The real
``params_shapes.json`` (shapes only) is checked to describe exactly ``GPTConfig.preset("gpt1")``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("transformers")
from transformers import OpenAIGPTConfig, OpenAIGPTLMHeadModel

from ronbun.cli.main import main
from ronbun.interop import (
    CONVERSION_FILE,
    ConversionError,
    convert,
    convert_hf_openai_gpt,
    convert_openai_original,
    load_hf_openai_gpt,
    load_openai_original,
    openai_original_plan,
)
from ronbun.models import GPT, GPTConfig
from ronbun.training.checkpoint import load_model, verify_checkpoint

N_LAYER, N_EMBD, N_HEAD, VOCAB, N_POS = 2, 64, 4, 200, 64


def build_gpt(seed: int = 0, tie: bool = True) -> OpenAIGPTLMHeadModel:
    """A random openai-gpt with non-trivial LayerNorms (gain ≠ 1, bias ≠ 0) and biases."""
    torch.manual_seed(seed)
    config = OpenAIGPTConfig(
        n_layer=N_LAYER,
        n_embd=N_EMBD,
        n_head=N_HEAD,
        vocab_size=VOCAB,
        n_positions=N_POS,
        initializer_range=0.1,
        tie_word_embeddings=tie,
    )
    model = OpenAIGPTLMHeadModel(config).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias"):
                p.copy_(0.1 * torch.randn_like(p))
            elif "ln_" in name:
                p.copy_(1 + 0.2 * torch.randn_like(p))
    return model


def hf_dir(tmp_path: Path, **kwargs) -> tuple[OpenAIGPTLMHeadModel, Path]:
    model = build_gpt(**kwargs)
    model.save_pretrained(tmp_path / "hf")
    return model, tmp_path / "hf"


def token_batch() -> torch.Tensor:
    return torch.randint(0, VOCAB, (3, 17), generator=torch.Generator().manual_seed(3))


def assert_same_logits(ours: GPT, hf: OpenAIGPTLMHeadModel) -> None:
    ids = token_batch()
    with torch.no_grad():
        torch.testing.assert_close(ours(ids), hf(ids).logits, atol=1e-4, rtol=0)


# -- Hugging Face openai-gpt ---------------------------------------------------------------------------------
@pytest.mark.parametrize("tie", [True, False])
def test_hf_openai_gpt_logits_equal(tmp_path, tie):
    hf, directory = hf_dir(tmp_path, tie=tie)
    out = convert_hf_openai_gpt(directory, tmp_path / "ckpt")
    ours = load_model(out, expect="gpt")
    assert isinstance(ours, GPT)
    c = ours.config
    assert (c.d_model, c.n_heads, c.d_ff, c.n_layers, c.vocab_size, c.n_ctx) == (
        N_EMBD, N_HEAD, 4 * N_EMBD, N_LAYER, VOCAB, N_POS
    )  # fmt: skip
    assert (c.activation, c.norm_position, c.tie_output, c.mask_fill) == ("gelu_tanh", "post", tie, "-1e9")
    assert_same_logits(ours, hf)


def greedy_hf(hf: OpenAIGPTLMHeadModel, prompt: torch.Tensor, n: int) -> torch.Tensor:
    """Hugging Face greedy decoding.  The attention mask is explicit: GPT-1 has no padding token, and a mask
    inferred from ``pad_token_id`` would hide every prompt token that happens to share its id."""
    with torch.no_grad():
        return hf.generate(
            prompt, attention_mask=torch.ones_like(prompt), do_sample=False, num_beams=1, max_new_tokens=n,
            pad_token_id=0,
        )  # fmt: skip


def test_greedy_kv_cache_decoding_equals_hugging_face(tmp_path):
    """Argmax over ronbun's KV-cached ``decode_step`` (prompt once, then one token per step) against
    ``generate(do_sample=False)``, which recomputes the whole prefix at every step."""
    hf, directory = hf_dir(tmp_path)
    ours = load_hf_openai_gpt(directory)
    prompt = token_batch()[:, :5]
    n = 20
    expected = greedy_hf(hf, prompt, n)
    with torch.no_grad():
        state = ours.start_state()
        logits = ours.decode_step(prompt, state)
        generated = [prompt]
        for _ in range(n):
            token = logits[:, -1].argmax(-1, keepdim=True)
            generated.append(token)
            logits = ours.decode_step(token, state)
    got = torch.cat(generated, dim=1)
    assert got.tolist() == expected.tolist()
    assert len(set(got[:, 5:].flatten().tolist())) > 3  # a non-degenerate continuation


def test_generation_module_greedy_equals_hugging_face(tmp_path):
    generation = pytest.importorskip("ronbun.generation")
    hf, directory = hf_dir(tmp_path)
    ours = load_hf_openai_gpt(directory)
    prompt = token_batch()[:, :5]
    got = generation.generate(ours, prompt, 20, do_sample=False)
    assert got.tolist() == greedy_hf(hf, prompt, 20).tolist()


def test_bpe_files_travel_under_gpt1_names(tmp_path):
    _, directory = hf_dir(tmp_path)
    vocab = {f"t{i}</w>": i for i in range(VOCAB)}
    (directory / "vocab.json").write_text(json.dumps(vocab))
    (directory / "merges.txt").write_text("#version: 0.2\nt 0</w>\n")
    out = convert("hf-openai-gpt", directory, tmp_path / "ckpt")
    verify_checkpoint(out)
    assert json.loads((out / "encoder_bpe_40000.json").read_text()) == vocab
    assert (out / "vocab_40000.bpe").read_text() == "#version: 0.2\nt 0</w>\n"
    provenance = json.loads((out / CONVERSION_FILE).read_text())
    assert provenance["imported_from"]["format"] == "hf-openai-gpt"
    assert provenance["tokenizer"]["files"] == ["encoder_bpe_40000.json", "vocab_40000.bpe"]
    # a vocabulary larger than the embedding is a mismatch
    (directory / "vocab.json").write_text(json.dumps({**vocab, "extra</w>": VOCAB}))
    with pytest.raises(ConversionError, match="mismatched vocabulary sizes"):
        convert("hf-openai-gpt", directory, tmp_path / "ckpt2")
    assert not (tmp_path / "ckpt2").exists()


# -- OpenAI's original release -------------------------------------------------------------------------------
def original_arrays(hf: OpenAIGPTLMHeadModel) -> list[np.ndarray]:
    """The model's parameters in the release's order, in its shapes: positions (n_ctx, d), tokens
    (n_vocab, d), then per layer c_attn w (1, d, 3d), b, c_proj w (1, d, d), b, ln_1 g, b, c_fc w (1, d, 4d),
    b, c_proj w (1, 4d, d), b, ln_2 g, b.  Conv1D weights are (in, out) in both, with a leading 1 in
    OpenAI's."""
    sd = {k.removeprefix("transformer."): v.detach().numpy() for k, v in hf.state_dict().items()}
    arrays = [sd["positions_embed.weight"], sd["tokens_embed.weight"]]
    for i in range(hf.config.n_layer):
        for part in ("attn.c_attn", "attn.c_proj", "ln_1", "mlp.c_fc", "mlp.c_proj", "ln_2"):
            weight, bias = sd[f"h.{i}.{part}.weight"], sd[f"h.{i}.{part}.bias"]
            arrays += [weight[None] if weight.ndim == 2 else weight, bias]
    return arrays


def write_original(arrays: list[np.ndarray], directory: Path, n_shards: int = 3) -> list[int]:
    """``params_shapes.json`` + ``params_{i}.npy``: one flat float32 vector cut at arbitrary offsets."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "params_shapes.json").write_text(json.dumps([list(a.shape) for a in arrays]))
    flat = np.concatenate([a.reshape(-1) for a in arrays]).astype(np.float32)
    cuts = [flat.size * k // n_shards + 7 * k for k in range(1, n_shards)]  # mid-tensor boundaries
    for i, shard in enumerate(np.split(flat, cuts)):
        np.save(directory / f"params_{i}.npy", shard)
    return cuts


def test_original_release_layout_logits_equal(tmp_path):
    hf = build_gpt()
    arrays = original_arrays(hf)
    assert len(arrays) == 2 + 12 * N_LAYER
    write_original(arrays, tmp_path / "model")
    out = convert_openai_original(tmp_path / "model", tmp_path / "ckpt", n_heads=N_HEAD)
    ours = load_model(out, expect="gpt")
    assert_same_logits(ours, hf)
    provenance = json.loads((out / CONVERSION_FILE).read_text())
    assert provenance["imported_from"]["shards"] == ["params_0.npy", "params_1.npy", "params_2.npy"]


def test_original_release_through_the_cli(tmp_path, capsys):
    hf = build_gpt()
    write_original(original_arrays(hf), tmp_path / "model", n_shards=10)
    out = tmp_path / "ckpt"
    argv = ["convert", "--from", "openai-original", str(tmp_path / "model"), "--out", str(out)]
    assert main([*argv, "--n-heads", str(N_HEAD)]) == 0
    assert "model: gpt" in capsys.readouterr().out
    assert_same_logits(load_model(out), hf)
    assert main(["convert", "--from", "hf-openai-gpt", "x", "--out", str(out), "--n-heads", "4"]) == 2
    assert "--n-heads applies only to --from openai-original" in capsys.readouterr().err


def test_real_release_shapes_are_the_gpt1_preset(shared_data):
    """The 146 shapes of OpenAI's release (2 embeddings + 12 layers × 12) describe GPTConfig.preset("gpt1")
    exactly, and every mapped tensor has the shape the ronbun model expects (checked on the meta device)."""
    path = shared_data / "gpt1_bpe" / "params_shapes.json"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    shapes = json.loads(path.read_text())
    assert len(shapes) == 146
    config, plan = openai_original_plan(shapes)
    assert config == GPTConfig.preset("gpt1")
    assert sum(math.prod(p.shape) for p in plan) == 116_534_784
    with torch.device("meta"):
        expected = GPT(config).state_dict()
    assert {p.target for p in plan} == set(expected)
    for p in plan:
        mapped = (p.shape[2], p.shape[1]) if p.conv else p.shape
        assert tuple(expected[p.target].shape) == mapped, p.name
    assert plan[0].name == "model/positions" and plan[1].name == "model/tokens"
    assert plan[2].name == "model/h0/attn/c_attn/w" and plan[-1].name == "model/h11/ln_2/b"


# -- bad input -----------------------------------------------------------------------------------------------
def test_missing_truncated_and_pickled_shards_are_refused(tmp_path):
    model_dir, out = tmp_path / "model", tmp_path / "ckpt"
    write_original(original_arrays(build_gpt()), model_dir)
    shard = np.load(model_dir / "params_1.npy")
    (model_dir / "params_1.npy").unlink()
    with pytest.raises(ConversionError, match="params_1.npy is missing"):
        convert_openai_original(model_dir, out, n_heads=N_HEAD)
    np.save(model_dir / "params_1.npy", shard[:-5])
    with pytest.raises(ConversionError, match="shards hold .* values but params_shapes.json needs"):
        convert_openai_original(model_dir, out, n_heads=N_HEAD)
    np.save(model_dir / "params_1.npy", np.array([{"evil": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ConversionError, match="cannot be read without unpickling") as info:
        convert_openai_original(model_dir, out, n_heads=N_HEAD)
    assert "\n" not in str(info.value)
    (model_dir / "params_1.npy").write_bytes(b"not an npy file at all")
    with pytest.raises(ConversionError, match="params_1.npy"):
        convert_openai_original(model_dir, out, n_heads=N_HEAD)
    for p in model_dir.glob("params_*.npy"):
        p.unlink()
    with pytest.raises(ConversionError, match="holds no params_0.npy"):
        convert_openai_original(model_dir, out, n_heads=N_HEAD)
    assert not out.exists()
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".ckpt")]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda s: s[:-1], "lists 25 shapes"),
        (lambda s: [s[0], [VOCAB, 32], *s[2:]], "first two shapes"),
        (lambda s: [*s[:14], [1, N_EMBD, 100], *s[15:]], r"entry 14 \(model/h1/attn/c_attn/w\)"),
        (lambda s: {"shapes": s}, "must be a JSON list"),
    ],
)
def test_inconsistent_shapes_are_refused(tmp_path, edit, message):
    model_dir = tmp_path / "model"
    write_original(original_arrays(build_gpt()), model_dir)
    path = model_dir / "params_shapes.json"
    path.write_text(json.dumps(edit(json.loads(path.read_text()))))
    with pytest.raises(ConversionError, match=message):
        load_openai_original(model_dir, n_heads=N_HEAD)


def test_head_count_must_divide_the_width(tmp_path):
    write_original(original_arrays(build_gpt()), tmp_path / "model")
    with pytest.raises(ConversionError, match="not divisible by n_heads=12"):
        load_openai_original(tmp_path / "model")  # GPT-1's default of 12 heads does not fit d_model=64


def test_wrong_kind_of_directory_is_refused(tmp_path):
    _, directory = hf_dir(tmp_path)
    write_original(original_arrays(build_gpt()), tmp_path / "model")
    with pytest.raises(ConversionError, match="use --from openai-original"):
        load_hf_openai_gpt(tmp_path / "model")
    with pytest.raises(ConversionError, match="params_shapes.json is missing"):
        load_openai_original(directory)
    config = json.loads((directory / "config.json").read_text())
    (directory / "config.json").write_text(json.dumps({**config, "model_type": "gpt2"}))
    with pytest.raises(ConversionError, match="model_type='gpt2'"):
        load_hf_openai_gpt(directory)
    (directory / "config.json").write_text(json.dumps({**config, "vocab_size": VOCAB + 1}))
    with pytest.raises(ConversionError, match="mismatched vocabulary sizes"):
        load_hf_openai_gpt(directory)
    (directory / "config.json").write_text(json.dumps({**config, "n_layer": 3}))
    with pytest.raises(ConversionError, match=r"no tensor h\.2\.attn\.c_attn\.weight"):
        load_hf_openai_gpt(directory)
    (directory / "config.json").write_text(json.dumps({**config, "afn": "tanh"}))
    with pytest.raises(ConversionError, match="afn='tanh'"):
        load_hf_openai_gpt(directory)
