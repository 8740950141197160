"""``make demo``: the built-in showcase (no download)."""

from __future__ import annotations

import time

import torch

from .models import Transformer, TransformerConfig


def main() -> None:
    torch.manual_seed(0)
    config = TransformerConfig.preset("small", vocab_size=1000)
    model = Transformer(config)
    src = torch.randint(4, 1000, (8, 20))
    tgt = torch.randint(4, 1000, (8, 21))
    start = time.perf_counter()
    logits = model(src, tgt[:, :-1])
    loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), tgt[:, 1:].flatten(), label_smoothing=0.1)
    loss.backward()
    print(
        f"small Transformer: {model.num_parameters():,} parameters; forward+backward loss {loss.item():.3f} "
        f"in {time.perf_counter() - start:.2f}s"
    )


if __name__ == "__main__":
    main()
