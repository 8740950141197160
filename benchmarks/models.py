"""Both sides of every comparison, built with identical sizes (and identical weights where possible).

* Encoder-decoder: a random Hugging Face ``MarianMTModel`` configured as the paper's model (post-LN, ReLU,
  sqrt(d) embedding scale, one shared embedding tied to the output, dropout 0.1), saved with
  ``save_pretrained`` and imported with :func:`ronbun.interop.marian.load_hf_marian`: same weights.
  The third side is ``torch.nn.Transformer`` with the same embeddings, sinusoids and tied output added
  (random weights of the same shapes; it also has the final LayerNorm after each stack that
  ``nn.Transformer`` always adds).
* GPT-1: a random Hugging Face ``OpenAIGPTLMHeadModel`` imported with
  :func:`ronbun.interop.openai_gpt.load_hf_openai_gpt`: same weights.

Without ``transformers`` the ronbun side is built from the equivalent ronbun config directly.
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ronbun.models import GPT, GPTConfig, Transformer, TransformerConfig
from ronbun.nn.embeddings import sinusoid_table

try:  # the references are optional: the suite runs ronbun-only without them
    import transformers  # noqa: F401

    HAVE_HF = True
except ImportError:  # pragma: no cover - depends on the environment
    HAVE_HF = False

VOCAB_MT = 8000
PAD_MT, EOS_MT = VOCAB_MT - 1, 0  # Marian's convention: </s> = 0, <pad> = last id = decoder start
VOCAB_GPT = 40478

MT_PRESETS: dict[str, dict[str, int]] = {
    "tiny": {"d_model": 64, "n_heads": 4, "d_ff": 256, "layers": 2},
    "small": {"d_model": 256, "n_heads": 4, "d_ff": 1024, "layers": 3},
    "base": {"d_model": 512, "n_heads": 8, "d_ff": 2048, "layers": 6},
}
GPT_PRESETS: dict[str, dict[str, int]] = {
    "tiny": {"d_model": 64, "n_heads": 4, "d_ff": 256, "layers": 2, "n_ctx": 128},
    "small": {"d_model": 256, "n_heads": 4, "d_ff": 1024, "layers": 4, "n_ctx": 256},
    "gpt1": {"d_model": 768, "n_heads": 12, "d_ff": 3072, "layers": 12, "n_ctx": 512},
}


# -- encoder-decoder -------------------------------------------------------------------------------------------
def marian_hf_config(preset: str, vocab: int = VOCAB_MT, *, dropout: float = 0.1, init_std: float = 0.02):
    from transformers import MarianConfig

    p = MT_PRESETS[preset]
    return MarianConfig(
        vocab_size=vocab,
        decoder_vocab_size=vocab,
        d_model=p["d_model"],
        encoder_layers=p["layers"],
        decoder_layers=p["layers"],
        encoder_attention_heads=p["n_heads"],
        decoder_attention_heads=p["n_heads"],
        encoder_ffn_dim=p["d_ff"],
        decoder_ffn_dim=p["d_ff"],
        activation_function="relu",  # Eq. 2
        max_position_embeddings=256,
        dropout=dropout,
        attention_dropout=0.0,
        activation_dropout=0.0,
        scale_embedding=True,  # §3.4
        share_encoder_decoder_embeddings=True,
        tie_word_embeddings=True,
        pad_token_id=vocab - 1,
        eos_token_id=0,
        decoder_start_token_id=vocab - 1,
        forced_eos_token_id=None,
        init_std=init_std,
    )


def ronbun_mt_config(preset: str, vocab: int = VOCAB_MT, *, dropout: float = 0.1) -> TransformerConfig:
    """The config :func:`load_hf_marian` produces for :func:`marian_hf_config` (used without transformers)."""
    p = MT_PRESETS[preset]
    return TransformerConfig(
        vocab_size=vocab,
        d_model=p["d_model"],
        n_heads=p["n_heads"],
        d_ff=p["d_ff"],
        n_encoder_layers=p["layers"],
        n_decoder_layers=p["layers"],
        dropout=dropout,
        sinusoid_layout="concatenated",
        max_positions=256,
        final_logits_bias=True,
        final_layer_norm=False,
        pad_id=vocab - 1,
        bos_id=vocab - 1,
        eos_id=0,
        unk_id=1,
    )


@dataclass
class MTPair:
    ours: Transformer
    hf: Any | None  # MarianMTModel

    def to(self, device: str) -> MTPair:
        return MTPair(self.ours.to(device), None if self.hf is None else self.hf.to(device))


def mt_pair(
    preset: str,
    vocab: int = VOCAB_MT,
    *,
    seed: int = 0,
    dropout: float = 0.1,
    init_std: float = 0.02,
    bias_std: float = 0.0,
) -> MTPair:
    """ronbun ``Transformer`` and Hugging Face ``MarianMTModel`` with the same weights (train mode).

    ``bias_std`` > 0 draws a random ``final_logits_bias`` (decoding benchmarks: a peaked distribution keeps
    random models away from near-ties, so fp32 rounding cannot flip an argmax between the two sides)."""
    torch.manual_seed(seed)
    if not HAVE_HF:
        return MTPair(Transformer(ronbun_mt_config(preset, vocab, dropout=dropout)).train(), None)
    from transformers import MarianMTModel

    from ronbun.interop.marian import load_hf_marian

    hf = MarianMTModel(marian_hf_config(preset, vocab, dropout=dropout, init_std=init_std))
    if bias_std:
        with torch.no_grad():
            hf.final_logits_bias.copy_(bias_std * torch.randn_like(hf.final_logits_bias))
    with tempfile.TemporaryDirectory() as tmp:
        hf.save_pretrained(tmp)
        ours = load_hf_marian(tmp)
    return MTPair(ours.train(), hf.train())


class TorchTransformerMT(nn.Module):
    """``torch.nn.Transformer`` as a translation model: shared scaled embedding + sinusoids + dropout in,
    tied projection out, post-LN, ReLU (the reference "a torch.nn.Transformer model"); dropout only where the
    paper has it (residual and embedding), like the other two sides."""

    def __init__(
        self, preset: str, vocab: int = VOCAB_MT, dropout: float = 0.1, pad_id: int = PAD_MT
    ) -> None:
        super().__init__()
        p = MT_PRESETS[preset]
        d = p["d_model"]
        self.pad_id = pad_id
        self.embed = nn.Embedding(vocab, d, padding_idx=pad_id)
        nn.init.normal_(self.embed.weight, std=d**-0.5)
        self.scale = math.sqrt(d)
        self.register_buffer("pe", sinusoid_table(256, d, "concatenated"), persistent=False)
        self.drop = nn.Dropout(dropout)
        self.core = nn.Transformer(
            d_model=d,
            nhead=p["n_heads"],
            num_encoder_layers=p["layers"],
            num_decoder_layers=p["layers"],
            dim_feedforward=p["d_ff"],
            dropout=dropout,
            activation="relu",
            batch_first=True,
            norm_first=False,
        )
        # nn.Transformer's one `dropout` also drops attention weights and FFN activations, which the paper,
        # ronbun and Marian do not: switch those two off so all three sides do the same work (residual and
        # embedding dropout stay at `dropout`).  With attention dropout 0 its attention may also take the
        # fused SDPA kernels, as ronbun's does.
        for layer in [*self.core.encoder.layers, *self.core.decoder.layers]:
            layer.self_attn.dropout = 0.0
            if hasattr(layer, "multihead_attn"):
                layer.multihead_attn.dropout = 0.0
            layer.dropout.p = 0.0  # inside the FFN, after the activation

    def _embed(self, ids: Tensor) -> Tensor:
        return self.drop(self.embed(ids) * self.scale + self.pe[: ids.shape[1]])

    def forward(self, src: Tensor, tgt_in: Tensor) -> Tensor:
        t = tgt_in.shape[1]
        src_pad = src == self.pad_id
        causal = nn.Transformer.generate_square_subsequent_mask(t, device=src.device)
        h = self.core(
            self._embed(src),
            self._embed(tgt_in),
            tgt_mask=causal,
            tgt_is_causal=True,
            src_key_padding_mask=src_pad,
            memory_key_padding_mask=src_pad,
        )
        return F.linear(h, self.embed.weight)


def mt_batch(
    batch: int, src_len: int, tgt_len: int, vocab: int = VOCAB_MT, seed: int = 0
) -> dict[str, Tensor]:
    """Random but realistic translation batch: source lengths uniform in ``[src_len/2, src_len]`` (right
    padded), full-length targets, Marian layout (``tgt_in`` starts with the pad/start token)."""
    g = torch.Generator().manual_seed(seed)
    pad, eos = vocab - 1, 0
    src = torch.randint(2, vocab - 1, (batch, src_len), generator=g)
    lengths = torch.randint(src_len // 2, src_len + 1, (batch,), generator=g)
    lengths[0] = src_len
    src[torch.arange(src_len)[None, :] >= lengths[:, None]] = pad
    y = torch.randint(2, vocab - 1, (batch, tgt_len - 1), generator=g)
    tgt_in = torch.cat([torch.full((batch, 1), pad), y], dim=1)
    tgt_out = torch.cat([y, torch.full((batch, 1), eos)], dim=1)
    return {"src": src, "src_mask": (src != pad).long(), "tgt_in": tgt_in, "tgt_out": tgt_out}


# -- GPT-1 -----------------------------------------------------------------------------------------------------
def openai_gpt_hf_config(preset: str, vocab: int = VOCAB_GPT, *, init_std: float = 0.02):
    from transformers import OpenAIGPTConfig

    p = GPT_PRESETS[preset]
    return OpenAIGPTConfig(
        vocab_size=vocab,
        n_positions=p["n_ctx"],
        n_embd=p["d_model"],
        n_layer=p["layers"],
        n_head=p["n_heads"],
        afn="gelu",  # gelu_new, the tanh approximation
        resid_pdrop=0.1,
        embd_pdrop=0.1,
        attn_pdrop=0.1,
        initializer_range=init_std,
    )


def ronbun_gpt_config(preset: str, vocab: int = VOCAB_GPT) -> GPTConfig:
    p = GPT_PRESETS[preset]
    return GPTConfig(
        d_model=p["d_model"],
        n_heads=p["n_heads"],
        d_ff=p["d_ff"],
        n_layers=p["layers"],
        n_ctx=p["n_ctx"],
        vocab_size=vocab,
    )


@dataclass
class GPTPair:
    ours: GPT
    hf: Any | None  # OpenAIGPTLMHeadModel

    def to(self, device: str) -> GPTPair:
        return GPTPair(self.ours.to(device), None if self.hf is None else self.hf.to(device))


def gpt_pair(preset: str, vocab: int = VOCAB_GPT, *, seed: int = 0, init_std: float = 0.02) -> GPTPair:
    """ronbun ``GPT`` and Hugging Face ``OpenAIGPTLMHeadModel`` with the same weights (train mode)."""
    torch.manual_seed(seed)
    if not HAVE_HF:
        return GPTPair(GPT(ronbun_gpt_config(preset, vocab)).train(), None)
    from transformers import OpenAIGPTLMHeadModel

    from ronbun.interop.openai_gpt import load_hf_openai_gpt

    hf = OpenAIGPTLMHeadModel(openai_gpt_hf_config(preset, vocab, init_std=init_std))
    with tempfile.TemporaryDirectory() as tmp:
        hf.save_pretrained(Path(tmp))
        ours = load_hf_openai_gpt(tmp)
    return GPTPair(ours.train(), hf.train())


def gpt_batch(batch: int, length: int, vocab: int = VOCAB_GPT, seed: int = 0) -> Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, vocab, (batch, length), generator=g)
