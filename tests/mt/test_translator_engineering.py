"""Decoding engineering that must not change the answer: length-sorted batches restored to input order,
one batch equal to one sentence at a time, and the lower inference precisions (bf16 weights, int8 dynamic
quantisation) within a stated agreement of fp32 on a trained model."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from ronbun.data.synthetic import generate_corpus
from ronbun.models import Transformer, TransformerConfig
from ronbun.models.ensemble import TransformerEnsemble
from ronbun.models.inference import at_precision
from ronbun.mt.translator import SORT_WINDOW, Translator, threads_per_stream
from ronbun.text.bpe import TextTokenizer


@pytest.fixture(scope="module")
def trained() -> tuple[Translator, list[str]]:
    """A tiny Transformer fitted to 48 pairs of the built-in corpus (about 10 s on one thread)."""
    torch.manual_seed(0)
    en, de = generate_corpus(n_train=48, n_valid=1, n_test=1, seed=3)["train"]
    tok = TextTokenizer.train(en + de, 600)
    cfg = TransformerConfig.preset("tiny", vocab_size=tok.vocab_size, dropout=0.0, max_positions=128)
    model = Transformer(cfg)
    pad, bos, eos = cfg.pad_id, cfg.bos_id, cfg.eos_id

    def padded(rows: list[list[int]]) -> torch.Tensor:
        out = torch.full((len(rows), max(map(len, rows))), pad)
        for i, r in enumerate(rows):
            out[i, : len(r)] = torch.tensor(r)
        return out

    src = padded(tok.encode_batch(en))
    tgt = tok.encode_batch(de)
    tgt_in, tgt_out = padded([[bos, *t] for t in tgt]), padded([[*t, eos] for t in tgt])
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(150):
        loss = F.cross_entropy(model(src, tgt_in).flatten(0, 1), tgt_out.flatten(), ignore_index=pad)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return Translator(model.eval(), tok), en


def test_a_batch_decodes_as_each_sentence_alone(trained):
    translator, en = trained
    ids = translator.tokenizer.encode_batch(en[:12])
    together = translator.translate_ids(ids, beam=4)
    alone = [translator.translate_ids([s], beam=4)[0] for s in ids]
    assert together == alone


def test_sorting_by_length_restores_input_order(trained, monkeypatch):
    translator, en = trained
    seen: list[list[int]] = []

    def echo(src_ids, **search):  # "translates" a sentence into itself, recording each batch's lengths
        seen.append([len(s) for s in src_ids])
        return [list(s) for s in src_ids]

    monkeypatch.setattr(translator, "translate_ids", echo)
    lines = [en[i % len(en)] + " ." * (i % 5) for i in range(2 * 3 * SORT_WINDOW + 5)]
    lines[7] = ""
    out = translator.translate(lines, batch_size=3)
    tok = translator.tokenizer
    assert out == [tok.decode(tok.encode(s)) if s.strip() else "" for s in lines]
    assert all(batch == sorted(batch) for batch in seen)  # each batch holds neighbours in length
    assert len(seen) == -(-len(lines) // 3)


@pytest.mark.parametrize("beam", [1, 4])
def test_streams_decode_batches_side_by_side_with_the_same_output(trained, beam):
    """``streams=3``: the batches of a window are decoded by three threads at once; every sentence gets the
    translation it gets alone, in input order, and PyTorch's thread setting is restored afterwards."""
    translator, en = trained
    lines = [en[i % len(en)] for i in range(40)]
    threads = torch.get_num_threads()
    one = translator.translate(lines, beam=beam, batch_size=4)
    three = translator.translate(lines, beam=beam, batch_size=4, streams=3)
    assert three == one
    assert torch.get_num_threads() == threads


def test_streams_share_the_threads_while_decoding(trained, monkeypatch):
    translator, en = trained
    seen: list[tuple[str, int]] = []
    decode = translator.translate_ids

    def recording(src_ids, **search):
        import threading

        seen.append((threading.current_thread().name, torch.get_num_threads()))
        return decode(src_ids, **search)

    monkeypatch.setattr(translator, "translate_ids", recording)
    old = torch.get_num_threads()
    torch.set_num_threads(4)
    try:
        translator.translate(en[:24], beam=1, batch_size=3, streams=2)
    finally:
        torch.set_num_threads(old)
    assert {n for _, n in seen} == {2}  # 4 threads shared by 2 streams
    assert all(name.startswith("ronbun-decode") for name, _ in seen)
    assert len({name for name, _ in seen}) == 2


@pytest.mark.parametrize(("threads", "streams", "each"), [(4, 2, 2), (2, 2, 1), (5, 2, 2), (1, 3, 1)])
def test_each_stream_gets_an_equal_share_of_the_threads_and_at_least_one(threads, streams, each):
    """One rule for ``translate --streams``, ``serve --streams`` and the benchmark (which gives CTranslate2
    the same split as ``intra_threads``)."""
    assert threads_per_stream(threads, streams) == each


@pytest.mark.parametrize("streams", [0, -1, 1.5, True])
def test_a_bad_number_of_streams_is_refused_at_the_call(trained, streams):
    translator, _ = trained
    with pytest.raises(ValueError, match="streams"):
        translator.stream(["a"], streams=streams)


@pytest.mark.parametrize(("precision", "agreement"), [("bf16", 0.9), ("int8", 0.9)])
def test_lower_precisions_agree_with_fp32(trained, precision, agreement):
    translator, en = trained
    reference = translator.translate(en, beam=4)
    reduced = translator.translate(en, beam=4, precision=precision)
    same = sum(a == b for a, b in zip(reference, reduced, strict=True)) / len(en)
    assert same >= agreement, f"{precision}: {same:.0%} of the sentences equal to fp32"
    assert translator.model_at(precision) is translator.model_at(precision)  # converted once
    assert next(translator.model.parameters()).dtype == torch.float32  # the fp32 model is untouched


def test_int8_quantises_the_linear_layers_and_keeps_the_tied_embedding(trained):
    translator, _ = trained
    q = at_precision(translator.model, "int8")
    linears = [m for m in q.modules() if type(m).__name__ == "Linear"]
    assert linears and all(type(m).__module__.startswith("torch.ao.nn.quantized.dynamic") for m in linears)
    assert q.src_embed.tokens.weight.dtype == torch.float32
    assert not any("int8_output" in name for name, _ in q.named_modules())  # an attribute, not a layer


def test_int8_projects_onto_the_vocabulary_with_an_int8_copy_of_the_tied_weight(trained):
    """The pre-softmax projection (§3.4) is the widest matrix of a decoder step; the int8 copy projects with
    its own int8 weight, within quantisation error of the float32 projection, and only at inference."""
    translator, _ = trained
    q = at_precision(translator.model, "int8")
    hidden = torch.randn(6, 1, translator.model.config.d_model)  # (B, T, d_model)
    with torch.no_grad():
        want = translator.model.project(hidden)  # (B, T, V), float32
        got = q.project(hidden)
    assert type(q.__dict__["int8_output"]).__module__.startswith("torch.ao.nn.quantized.dynamic")
    assert got.shape == want.shape
    assert float((got - want).norm() / want.norm()) < 0.05
    assert "int8_output" not in translator.model.__dict__  # the fp32 model is untouched


@pytest.mark.parametrize("precision", ["bf16", "int8"])
def test_an_ensemble_decodes_at_a_lower_precision_member_by_member(trained, precision):
    """An ensemble of two copies of one model is that model at every precision: each member gets the reduced
    copy one model would get (in int8, its own int8 pre-softmax projection)."""
    translator, en = trained
    twice = Translator(TransformerEnsemble([translator.model, translator.model]), translator.tokenizer)
    if precision == "int8":
        members = twice.model_at("int8").members
        assert all(type(m.__dict__["int8_output"]).__module__.startswith("torch.ao") for m in members)
    alone = translator.translate(en[:16], beam=4, precision=precision)
    assert twice.translate(en[:16], beam=4, precision=precision) == alone


def test_an_unknown_precision_is_refused_before_any_work(trained):
    translator, _ = trained
    with pytest.raises(ValueError, match="fp32, bf16, int8"):
        translator.translate(["a"], precision="fp8")


def test_the_length_penalty_form_and_stopping_rule_reach_the_search(trained, monkeypatch):
    """``length_penalty`` and ``early_stopping`` (what Hugging Face and CTranslate2 call their beam search's
    rules) go from :meth:`Translator.translate` to :func:`ronbun.generation.translate` unchanged."""
    import ronbun.generation

    translator, en = trained
    seen: list[dict] = []
    search = ronbun.generation.translate

    def recording(model, src, **kwargs):
        seen.append(kwargs)
        return search(model, src, **kwargs)

    monkeypatch.setattr(ronbun.generation, "translate", recording)
    power = translator.translate(en[:4], beam=4, alpha=1.0, length_penalty="power", early_stopping="finished")
    assert {(k["length_penalty"], k["early_stopping"]) for k in seen} == {("power", "finished")}
    seen.clear()
    assert translator.translate(en[:4], beam=4) and {k["length_penalty"] for k in seen} == {"gnmt"}
    assert len(power) == 4
    with pytest.raises(ValueError, match="'gnmt' or 'power'"):
        translator.translate(["a"], length_penalty="linear")
    with pytest.raises(ValueError, match="'bound', 'finished' or 'never'"):
        translator.translate(["a"], early_stopping="soon")
