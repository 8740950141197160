"""Checkpoints without a tokenizer (weights only) are legitimate: ``ronbun convert`` says so in one line,
``ronbun.load`` gives a bare model whose token-id methods work and whose text methods raise one clear
error, and the commands that need text (``gpt generate``, ``mt translate``, ``serve``) fail in one line."""

from __future__ import annotations

import shutil

import pytest
import torch

import ronbun
from ronbun import GPTConfig, Transformer, TransformerConfig
from ronbun.cli.main import main
from ronbun.gpt.language_model import LanguageModel, TaskModel
from ronbun.models.task_head import GPTClassifier, HeadSpec
from ronbun.mt.translator import Translator
from ronbun.text.bpe import TextTokenizer
from ronbun.training.checkpoint import MissingTokenizerError, save_checkpoint

LINES = ["The dog sees the cat.", "The cat sees the dog.", "A small bird sings.", "The child reads a book."]
HF_VOCAB, HF_POS = 300, 32


@pytest.fixture(scope="module")
def tokenizer_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("tok") / "tokenizer.json"
    TextTokenizer.train(LINES * 20, 200).save(path)
    return path


@pytest.fixture(scope="module")
def hf_weights_only(tmp_path_factory):
    """A Hugging Face ``OpenAIGPTLMHeadModel`` folder with config.json + weights and no vocab/merges."""
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    config = transformers.OpenAIGPTConfig(
        n_layer=1, n_embd=32, n_head=2, vocab_size=HF_VOCAB, n_positions=HF_POS
    )
    directory = tmp_path_factory.mktemp("hf") / "openai-gpt"
    transformers.OpenAIGPTLMHeadModel(config).eval().save_pretrained(directory)
    assert not (directory / "vocab.json").exists() and not (directory / "merges.txt").exists()
    return directory


@pytest.fixture(scope="module")
def bare_gpt(hf_weights_only, tmp_path_factory):
    out = tmp_path_factory.mktemp("ckpt") / "gpt"
    assert main(["convert", "--from", "hf-openai-gpt", str(hf_weights_only), "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def bare_transformer(tmp_path_factory):
    model = Transformer(TransformerConfig.preset("tiny", vocab_size=300))
    return save_checkpoint(tmp_path_factory.mktemp("ckpt") / "mt", model)  # no tokenizer_file


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("ronbun: error: ") and "Traceback" not in err
    return lines[0]


# -- ronbun convert ------------------------------------------------------------------------------------------
def test_convert_says_in_one_stderr_line_that_there_is_no_tokenizer(hf_weights_only, tmp_path, capsys):
    out = tmp_path / "ckpt"
    assert main(["convert", "--from", "hf-openai-gpt", str(hf_weights_only), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert f"-> {out}" in captured.out and "tokenizer" not in captured.out
    (note,) = captured.err.strip().splitlines()
    assert note.startswith(f"note: no tokenizer found in {hf_weights_only}")
    assert "ronbun.load()" in note and "bare model" in note and "token ids" in note
    assert "encoder_bpe_40000.json" in note and str(out) in note  # how to add one


def test_convert_with_the_bpe_files_prints_no_note(hf_weights_only, tmp_path, capsys):
    directory = tmp_path / "hf"
    shutil.copytree(hf_weights_only, directory)
    (directory / "vocab.json").write_text('{"a</w>": 0}')
    (directory / "merges.txt").write_text("#version: 0.2\n")
    assert main(["convert", "--from", "hf-openai-gpt", str(directory), "--out", str(tmp_path / "ckpt")]) == 0
    assert capsys.readouterr().err == ""


def test_convert_of_a_weights_only_marian_folder_says_so_too(tmp_path, capsys):
    transformers = pytest.importorskip("transformers")
    config = transformers.MarianConfig(
        vocab_size=60, d_model=16, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
        decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32, max_position_embeddings=32,
        pad_token_id=59, eos_token_id=0, decoder_start_token_id=59,
    )  # fmt: skip
    transformers.MarianMTModel(config).save_pretrained(tmp_path / "hf")
    capsys.readouterr()  # transformers' progress bar
    out = tmp_path / "ckpt"
    assert main(["convert", "--from", "hf-marian", str(tmp_path / "hf"), "--out", str(out)]) == 0
    (note,) = capsys.readouterr().err.strip().splitlines()
    assert note.startswith("note: no tokenizer found") and "source.spm, target.spm, vocab.json" in note
    tr = ronbun.load(out)
    assert isinstance(tr, Translator) and tr.tokenizer is None
    with pytest.raises(MissingTokenizerError, match="copy the Hugging Face model's source.spm"):
        tr.translate(["Hello"])


# -- ronbun.load: a bare LanguageModel -----------------------------------------------------------------------
def test_a_weights_only_gpt_loads_as_a_bare_language_model(bare_gpt):
    lm = ronbun.load(bare_gpt)
    assert type(lm) is LanguageModel and lm.tokenizer is None and lm.line_break is None
    assert "no tokenizer" in repr(lm)
    prompts = [[5, 6, 7], [8, 9]]
    new = lm.generate_ids(prompts, 6, greedy=True)
    assert [len(x) for x in new] == [6, 6] and all(0 <= t < HF_VOCAB for x in new for t in x)
    with torch.no_grad():  # greedy on ids = argmax of the full recomputation
        ids = list(prompts[0])
        for _ in range(6):
            ids.append(int(lm.model(torch.tensor([ids]))[0, -1].argmax()))
    assert new[0] == ids[3:]
    assert lm.generate_ids(prompts, 4, seed=1) == lm.generate_ids(prompts, 4, seed=1)
    (lp,) = lm.token_logprobs_ids([[5, 6, 7, 8]])
    assert lp.shape == (3,) and (lp < 0).all()  # no context: the first id is not scored
    assert lm.score_ids([[5, 6, 7, 8]])[0] == pytest.approx(float(lp.sum()))
    assert len(lm.token_logprobs_ids([[6, 7, 8]], context=[5])[0]) == 3
    with pytest.raises(ValueError, match="token ids must be in"):
        lm.generate_ids([[HF_VOCAB]], 2)


@pytest.mark.parametrize(
    ("call", "what"),
    [
        (lambda lm: lm.generate("The dog", 5), "generate()"),
        (lambda lm: lm.generate(["The dog", ""], 5), "generate()"),
        (lambda lm: lm.score("The dog"), "scoring text"),
        (lambda lm: lm.score(["The dog"], average=True), "scoring text"),
        (lambda lm: lm.token_logprobs(["The dog"]), "scoring text"),
        (lambda lm: lm.perplexity(["The dog"]), "scoring text"),
    ],
)
def test_every_text_method_of_a_bare_language_model_raises_one_clear_error(bare_gpt, call, what):
    lm = ronbun.load(bare_gpt)
    with pytest.raises(MissingTokenizerError) as info:
        call(lm)
    message = str(info.value)
    assert isinstance(info.value, ValueError) and "\n" not in message
    assert message.startswith(f"{what} needs a tokenizer") and f"{bare_gpt} holds weights only" in message
    assert "encoder_bpe_40000.json" in message and "tokenizer=" in message and "generate_ids" in message


def test_a_tokenizer_can_be_supplied_by_argument_or_by_copying_it_in(bare_gpt, tokenizer_file, tmp_path):
    lm = ronbun.load(bare_gpt, tokenizer=tokenizer_file)
    assert lm.tokenizer is not None and lm.line_break is not None
    assert lm.generate("The dog", 3, greedy=True).startswith("The dog")
    assert isinstance(lm.score("The dog"), float)
    obj = ronbun.load(bare_gpt, tokenizer=TextTokenizer.load(tokenizer_file))
    assert obj.generate("The dog", 3, greedy=True) == lm.generate("The dog", 3, greedy=True)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ronbun.load(bare_gpt, tokenizer=tmp_path / "missing.json")
    with pytest.raises(FileNotFoundError, match="holds neither tokenizer.json"):
        ronbun.load(bare_gpt, tokenizer=tmp_path)
    copy = tmp_path / "ckpt"
    shutil.copytree(bare_gpt, copy)
    shutil.copyfile(tokenizer_file, copy / "tokenizer.json")  # the message's advice
    assert ronbun.load(copy).tokenizer is not None


def test_a_bare_task_model_predicts_nothing_without_a_tokenizer():
    config = GPTConfig.preset("tiny", vocab_size=40, n_special=3, n_ctx=16, d_model=32, n_heads=2, d_ff=64)
    head = HeadSpec.from_dict(
        {
            "task": "sst2",
            "kind": "classification",
            "num_labels": 2,
            "special": {"start": 40, "delim": 41, "extract": 42},
        }
    )
    clf = TaskModel(GPTClassifier(config, head), None)
    assert clf.banned_ids == [40, 41, 42]  # the special tokens are never generated
    assert len(clf.generate_ids([[1, 2]], 3)[0]) == 3
    with pytest.raises(MissingTokenizerError, match=r"^predict\(\) needs a tokenizer .*checkpoint directory"):
        clf.predict(["a charming journey"])


def test_loaders_used_by_the_command_line_refuse_a_bare_checkpoint_at_load(bare_gpt, bare_transformer):
    from ronbun.gpt.language_model import load_gpt

    with pytest.raises(MissingTokenizerError, match="has no tokenizer .*ronbun.load\\(\\) still opens it"):
        load_gpt(bare_gpt)
    with pytest.raises(MissingTokenizerError, match="has no tokenizer .*ronbun.load\\(\\) still opens it"):
        Translator.from_checkpoint(bare_transformer)
    assert load_gpt(bare_gpt, require_tokenizer=False).tokenizer is None
    assert Translator.from_checkpoint(bare_transformer, require_tokenizer=False).tokenizer is None


# -- ronbun.load: a bare Translator --------------------------------------------------------------------------
def test_a_transformer_without_tokenizer_json_loads_as_a_bare_translator(bare_transformer):
    tr = ronbun.load(bare_transformer)
    assert isinstance(tr, Translator) and tr.tokenizer is None
    out = tr.translate_ids([[5, 6, 7, 2], [8, 2]], beam=2, max_len_b=5)
    assert len(out) == 2 and all(isinstance(t, int) for x in out for t in x)
    assert (
        tr.translate_ids([[5, 6, 7, 2]], beam=1, max_len_b=5)[0]
        == (tr.translate_ids([[5, 6, 7, 2]], beam=1, max_len_b=5)[0])
    )


@pytest.mark.parametrize(
    ("call", "what"),
    [
        (lambda tr: tr.translate(["A man rides a horse."]), "translating text"),
        (lambda tr: tr.stream(iter(["A man."])), "translating text"),  # at the call, before reading input
        (lambda tr: tr.attention("A man."), "attention()"),
    ],
)
def test_every_text_method_of_a_bare_translator_raises_one_clear_error(bare_transformer, call, what):
    tr = ronbun.load(bare_transformer)
    with pytest.raises(MissingTokenizerError) as info:
        call(tr)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{what} needs a tokenizer")
    assert f"copy the tokenizer.json the model was trained with into {bare_transformer}" in message
    assert "tokenizer=" in message and "translate_ids()" in message


def test_a_translator_tokenizer_can_be_supplied_or_copied_in(bare_transformer, tokenizer_file, tmp_path):
    tr = ronbun.load(bare_transformer, tokenizer=tokenizer_file)
    assert len(tr.translate(["The dog sees the cat."], beam=1, max_len_b=4)) == 1
    copy = tmp_path / "mt"
    shutil.copytree(bare_transformer, copy)
    shutil.copyfile(tokenizer_file, copy / "tokenizer.json")
    assert Translator.from_checkpoint(copy).tokenizer is not None
    with pytest.raises(MissingTokenizerError, match=f"tokenizer folder {tmp_path} has no tokenizer.json"):
        ronbun.load(bare_transformer, tokenizer=tmp_path)  # a folder without tokenizer.json


# -- the command line: one clear line, no traceback ----------------------------------------------------------
def test_gpt_generate_on_a_bare_checkpoint_fails_in_one_line(bare_gpt, capsys):
    assert main(["gpt", "generate", str(bare_gpt), "The dog", "--max-new-tokens", "3"]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert f"{bare_gpt} has no tokenizer" in line and "encoder_bpe_40000.json" in line


def test_mt_translate_on_a_bare_checkpoint_fails_in_one_line(bare_transformer, tmp_path, capsys):
    source = tmp_path / "in.txt"
    source.write_text("A man rides a horse.\n")
    assert main(["mt", "translate", str(bare_transformer), "--input", str(source)]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert f"{bare_transformer} has no tokenizer" in line and "tokenizer.json" in line


@pytest.mark.parametrize("which", ["bare_gpt", "bare_transformer"])
def test_serve_on_a_bare_checkpoint_fails_in_one_line_before_binding(which, request, capsys):
    path = request.getfixturevalue(which)
    assert main(["serve", str(path), "--port", "0"]) == 2
    captured = capsys.readouterr()
    line = one_error_line(captured.err)
    assert f"{path} has no tokenizer" in line and "serving" not in captured.out
