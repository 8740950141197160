"""Decoding benchmarks: ronbun's KV-cached search vs Hugging Face ``generate``, same weights, fp32, and the
outputs asserted identical token for token.

Translation: 16 sources (lengths 16–32, right-padded) → at most 32 new tokens, greedy and beam 4.  The
settings are the ones ``tests/generation/test_hugging_face_parity.py`` proves equivalent: both sides ban
``<pad>``, cut hypotheses at 32 tokens without a forced ``</s>``; beam search uses the power length penalty
with α = 1 (Hugging Face's default ``length_penalty``) and the exact stopping rule (ronbun ``"bound"`` =
Hugging Face ``early_stopping="never"``).  Random models spread probability almost uniformly, so a random
``final_logits_bias`` (std 1) and a larger init std keep the two sides away from near-ties that fp32
rounding differences could flip.

GPT-1: 4 prompts of 16 tokens → 32 new tokens, sampling off (greedy), ``ronbun.generation.generate`` vs
``OpenAIGPTLMHeadModel.generate`` (which has no KV cache in transformers 5: it re-reads the whole prefix at
every step; that is the reference as shipped).
"""

from __future__ import annotations

import torch

from ronbun.generation import beam_search, generate, greedy_search
from ronbun.models.decoding import EncoderDecoderAdapter

from .common import Row, device_sync, interleaved, spread
from .models import EOS_MT, VOCAB_GPT, VOCAB_MT, gpt_batch, gpt_pair, mt_pair

GREEDY_TARGET, BEAM_TARGET = 1.5, 2.0


class OutputMismatch(AssertionError):
    """ronbun and the reference decoded different tokens."""


def sources(n: int = 16, max_len: int = 32, vocab: int = VOCAB_MT, seed: int = 1) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    src = torch.randint(2, vocab - 1, (n, max_len), generator=g)
    lengths = torch.randint(max_len // 2, max_len + 1, (n,), generator=g)
    lengths[0] = max_len
    src[torch.arange(max_len)[None, :] >= lengths[:, None]] = vocab - 1
    return src


def _hf_tokens(sequences: torch.Tensor) -> list[list[int]]:
    out = []
    for row in sequences.tolist():
        tokens = row[1:]  # drop the decoder start token
        out.append(tokens[: tokens.index(EOS_MT)] if EOS_MT in tokens else tokens)
    return out


def mt_decode(
    preset: str,
    *,
    n_sources: int = 16,
    src_len: int = 32,
    new_tokens: int = 32,
    vocab: int = VOCAB_MT,
    beams: tuple[int, ...] = (1, 4),
    warmup: int = 1,
    reps: int = 5,
    device: str = "cpu",
) -> list[Row]:
    pair = mt_pair(preset, vocab, dropout=0.0, init_std=0.05, bias_std=1.0).to(device)
    if pair.hf is None:
        raise RuntimeError("decoding benchmarks compare against transformers, which is not installed")
    ours, hf = pair.ours.eval(), pair.hf.eval()
    pad = vocab - 1  # Marian's convention, as in models.marian_hf_config
    src = sources(n_sources, src_len, vocab).to(device)
    mask = (src != pad).long()
    rows = []
    for beam in beams:

        def run_ours(beam: int = beam) -> list[list[int]]:
            adapter = EncoderDecoderAdapter(ours, src)
            if beam == 1:
                res = greedy_search(adapter, new_tokens, eos_id=EOS_MT, force_eos=False)
            else:
                res = beam_search(adapter, new_tokens, eos_id=EOS_MT, beam=beam, alpha=1.0,
                                  length_penalty="power", early_stopping="bound", force_eos=False)  # fmt: skip
            return [r.tokens for r in res]

        def run_hf(beam: int = beam) -> list[list[int]]:
            with torch.no_grad():
                out = hf.generate(
                    input_ids=src, attention_mask=mask, do_sample=False, num_beams=beam, max_new_tokens=new_tokens,
                    length_penalty=1.0, early_stopping="never" if beam > 1 else False, bad_words_ids=[[pad]],
                    forced_eos_token_id=None, no_repeat_ngram_size=0, repetition_penalty=1.0, pad_token_id=pad,
                    eos_token_id=EOS_MT, decoder_start_token_id=pad, num_return_sequences=1,
                )  # fmt: skip
            return _hf_tokens(out)

        a, b = run_ours(), run_hf()
        if a != b:
            bad = next(i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y)
            raise OutputMismatch(
                f"{preset} beam {beam}: sentence {bad} differs:\n ours {a[bad]}\n hf   {b[bad]}"
            )
        timing = interleaved(
            {"ours": run_ours, "hf": run_hf}, warmup=warmup, reps=reps, sync=device_sync(device)
        )
        n_tok = sum(len(t) for t in a)
        rows.append(
            Row(
                "MT decode",
                f"{preset}, {n_sources} src → ≤{new_tokens} tok, {'greedy' if beam == 1 else f'beam {beam}'}, fp32",
                timing.median["ours"] * 1e3,
                "HF MarianMTModel.generate",
                timing.median["hf"] * 1e3,
                timing.ratio("ours", "hf"),
                GREEDY_TARGET if beam == 1 else BEAM_TARGET,
                extra={"identical outputs": "yes", "tokens out": n_tok, **spread(timing, "ours", "hf")},
            )
        )
    return rows


def gpt_generate(
    preset: str,
    *,
    batch: int = 4,
    prompt_len: int = 16,
    new_tokens: int = 32,
    vocab: int = VOCAB_GPT,
    warmup: int = 1,
    reps: int = 5,
    device: str = "cpu",
) -> list[Row]:
    pair = gpt_pair(preset, vocab, init_std=0.1).to(device)
    if pair.hf is None:
        raise RuntimeError("generation benchmarks compare against transformers, which is not installed")
    ours, hf = pair.ours.eval(), pair.hf.eval()
    prompt = gpt_batch(batch, prompt_len, vocab, seed=2).to(device)

    def run_ours() -> torch.Tensor:
        return generate(ours, prompt, new_tokens, do_sample=False)

    def run_hf() -> torch.Tensor:
        with torch.no_grad():
            return hf.generate(prompt, do_sample=False, max_new_tokens=new_tokens, min_new_tokens=new_tokens,
                               num_beams=1, pad_token_id=0, eos_token_id=None)  # fmt: skip

    a, b = run_ours(), run_hf()
    if not torch.equal(a, b):
        raise OutputMismatch(f"GPT {preset}: generated ids differ:\n ours {a.tolist()}\n hf   {b.tolist()}")
    timing = interleaved({"ours": run_ours, "hf": run_hf}, warmup=warmup, reps=reps, sync=device_sync(device))
    return [
        Row(
            "GPT generate",
            f"{preset}, {batch}×{prompt_len} prompt → {new_tokens} tok, greedy, fp32",
            timing.median["ours"] * 1e3,
            "HF OpenAIGPTLMHeadModel.generate",
            timing.median["hf"] * 1e3,
            timing.ratio("ours", "hf"),
            extra={"identical outputs": "yes", **spread(timing, "ours", "hf")},
        )
    ]
