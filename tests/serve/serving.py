"""A live ``ronbun serve`` on tiny random checkpoints (one translator, one GPT), shared by the API and
browser tests (imported by name: pytest puts this folder on ``sys.path``)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from ronbun.data.synthetic import generate_corpus
from ronbun.models import GPT, GPTConfig, Transformer, TransformerConfig
from ronbun.serve.app import RonbunHTTPServer, create_server
from ronbun.text.bpe import TextTokenizer
from ronbun.training.checkpoint import save_checkpoint


def tiny_checkpoints(root: Path) -> list[Path]:
    """A random ``tiny`` Transformer and GPT sharing a small BPE trained on the built-in corpus."""
    torch.manual_seed(0)
    en, de = generate_corpus(n_train=300, n_valid=5, n_test=5)["train"]
    tok = TextTokenizer.train(en + de, 300)
    tok.save(root / "tokenizer.json")
    mt = Transformer(TransformerConfig.preset("tiny", vocab_size=tok.vocab_size, max_positions=32))
    gpt = GPT(GPTConfig.preset("tiny", vocab_size=tok.vocab_size))
    return [
        save_checkpoint(root / "mt", mt, tokenizer_file=root / "tokenizer.json"),
        save_checkpoint(root / "gpt", gpt, tokenizer_file=root / "tokenizer.json"),
    ]


def running_server(root: Path, **limits: Any) -> Iterator[RonbunHTTPServer]:
    """Serve :func:`tiny_checkpoints` on a free port in a background thread until the generator is closed."""
    srv = create_server(tiny_checkpoints(root), port=0, **limits)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
