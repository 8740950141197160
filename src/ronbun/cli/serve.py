"""``ronbun serve CHECKPOINT…``: a local web page to translate / generate and browse the attention maps."""

from __future__ import annotations

import argparse
from pathlib import Path

from .main import CLIError
from .options import command


def register(sub: argparse._SubParsersAction) -> None:
    from ..serve.app import DEFAULT_MAX_CHARS, DEFAULT_MAX_CONCURRENT

    p = command(sub, run_serve)
    p.add_argument(
        "checkpoints", type=Path, nargs="+", help="checkpoint or run directories (Transformer or GPT)"
    )
    p.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; 0.0.0.0 exposes it)"
    )
    p.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 = any free port)")
    p.add_argument(
        "--max-chars",
        type=int,
        default=DEFAULT_MAX_CHARS,
        help=f"longest input accepted (default {DEFAULT_MAX_CHARS})",
    )
    p.add_argument(
        "--max-concurrent",
        type=int,
        default=DEFAULT_MAX_CONCURRENT,
        help=f"model requests run at once; more get HTTP 503 (default {DEFAULT_MAX_CONCURRENT})",
    )
    p.add_argument(
        "--max-batch", type=int, default=32, help="/api/v1/translate: texts per decode (default 32)"
    )
    p.add_argument(
        "--batch-wait-ms",
        type=float,
        default=10.0,
        help="/api/v1/translate: wait for company (default 10 ms)",
    )
    p.add_argument(
        "--max-queue", type=int, default=256, help="/api/v1/translate: queued texts before 503 (default 256)"
    )
    p.add_argument("--timeout", type=float, default=60.0, help="/api/v1/translate: seconds before 504")
    p.add_argument("--threads", type=int, help="torch CPU threads")
    p.add_argument(
        "--streams",
        type=int,
        default=1,
        help="/api/v1/translate: batches decoded at the same time, --threads shared among them (default 1)",
    )
    p.add_argument("--verbose", action="store_true", help="log every request (and tracebacks) to stderr")


def run_serve(args: argparse.Namespace) -> int:
    """local web page: translate or generate, and see every attention map

    Serve a page (standard library http.server, no internet needed) where you type a sentence and get the
    Transformer's translation (greedy or beam search) with its encoder, decoder and encoder-decoder attention
    by layer and head, or give a GPT checkpoint a prompt and sample a continuation (temperature, top-k,
    top-p) with its self-attention. Programs translate through POST /api/v1/translate, where concurrent
    requests are decoded in shared batches. Binds 127.0.0.1 by default: only this machine can reach it.
    """
    import torch

    from ..mt.translator import threads_per_stream
    from ..serve.app import serve

    if not 0 <= args.port <= 65535:
        raise CLIError(f"--port must be in 0..65535, got {args.port}")
    if min(args.max_chars, args.max_concurrent, args.max_batch, args.max_queue, args.streams) < 1:
        raise CLIError(
            "--max-chars, --max-concurrent, --max-batch, --max-queue and --streams must be at least 1"
        )
    if args.batch_wait_ms < 0 or args.timeout <= 0:
        raise CLIError("--batch-wait-ms must be >= 0 and --timeout > 0")
    threads = args.threads or torch.get_num_threads()
    torch.set_num_threads(threads_per_stream(threads, args.streams))
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: binding {args.host} makes the page reachable from other machines", flush=True)
    serve(
        args.checkpoints,
        host=args.host,
        port=args.port,
        max_chars=args.max_chars,
        max_concurrent=args.max_concurrent,
        batching={
            "max_batch": args.max_batch,
            "max_wait": args.batch_wait_ms / 1000,
            "max_queue": args.max_queue,
            "workers": args.streams,
            "timeout": args.timeout,
        },
        verbose=args.verbose,
    )
    return 0
