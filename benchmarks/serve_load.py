"""Load test of ``ronbun serve``'s translation API: dynamic batching against one-at-a-time decoding, and
(``--overload``) a queue driven past its limit.

    python -m benchmarks.serve_load CHECKPOINT --sentences ../shared/data/multi30k/raw/test_2016_flickr.en.gz \
        --clients 32 --seconds 60 --threads 2 [--overload --overload-max-queue 4 --overload-clients 64]

One process starts the server twice on the same checkpoint: once with dynamic batching (``--max-batch``,
``--batch-wait-ms``) and once with ``max_batch=1`` (each request decoded alone, the way a server without
batching works).  Each time, ``--clients`` threads post real sentences (one per request, in a fixed order)
for ``--seconds`` seconds, and the run reports requests/s, translated target tokens/s, p50/p90/p99 latency
and the errors by status.  Errors must be 0 below the limits.

``--overload`` adds a third server, with dynamic batching and a queue of only ``--overload-max-queue``
requests, under ``--overload-clients`` clients (more than one batch plus the queue can hold): the queue
must refuse the surplus with 503 at once (a client waits ``--backoff-ms`` before trying again, as a polite
client would) while every request it accepted is answered 200 with a well-formed JSON body (one
translation per text).  The run reports the 503 count, every other status, and ``all_others_ok``.  Every
answer's JSON is checked in every mode (``malformed``: answers whose body does not match their status).
Results go to stdout and to ``benchmarks/results/serve_load.json``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

from .common import machine, set_threads

RESULTS = Path(__file__).resolve().parent / "results"


def read_sentences(path: Path) -> list[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:  # type: ignore[operator]
        return [line.strip() for line in f if line.strip()]


def _post(url: str, body: dict[str, Any], timeout: float) -> tuple[int, dict[str, Any]]:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")
    except OSError:
        return 0, {}


def well_formed(status: int, data: dict[str, Any]) -> bool:
    """An answer of ``POST /api/v1/translate`` for one text: 200 with one translation, or an error body
    naming its own status."""
    if status == 200:
        texts = data.get("translations")
        return isinstance(texts, list) and len(texts) == 1 and isinstance(texts[0], str) and "model" in data
    return isinstance(data.get("error"), str) and data.get("status") == status


def load_test(
    url: str,
    sentences: list[str],
    *,
    clients: int,
    seconds: float,
    beam: int,
    timeout: float,
    backoff: float = 0.0,
) -> dict[str, Any]:
    """``clients`` threads post one sentence per request until ``seconds`` have passed; a client refused
    with 503 waits ``backoff`` seconds before its next request."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    malformed: Counter[int] = Counter()
    words = 0
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def client(k: int) -> None:
        nonlocal words
        i = k
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            status, data = _post(url, {"text": sentences[i % len(sentences)], "beam": beam}, timeout)
            dt = time.perf_counter() - t0
            ok = well_formed(status, data)
            with lock:
                statuses[status] += 1
                malformed[status] += not ok
                if status == 200 and ok:
                    latencies.append(dt)
                    words += len(data["translations"][0].split())
            i += clients
            if status == 503 and backoff:
                time.sleep(backoff)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [float("nan")] * 99
    return {
        "requests_ok": len(latencies),
        "errors": {str(k): v for k, v in statuses.items() if k != 200},
        "malformed": {str(k): v for k, v in malformed.items() if v},
        "requests_per_s": len(latencies) / wall,
        "target_words_per_s": words / wall,
        "latency_ms": {"p50": q[49] * 1e3, "p90": q[89] * 1e3, "p99": q[98] * 1e3},
        "wall_seconds": wall,
    }


def serve_and_load(
    checkpoint: Path, sentences: list[str], batching: dict[str, Any], args: Any, *, clients: int
) -> dict:
    from ronbun.serve.app import create_server

    srv = create_server([checkpoint], port=0, max_chars=1000, batching=batching)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        url = srv.url + "api/v1/translate"
        _post(url, {"texts": sentences[:4], "beam": args.beam}, args.timeout)  # warm-up
        result = load_test(
            url, sentences, clients=clients, seconds=args.seconds, beam=args.beam, timeout=args.timeout,
            backoff=args.backoff_ms / 1000,
        )  # fmt: skip
        result["batches"] = srv.app.translation.batcher.stats.batches
        result["mean_batch"] = srv.app.translation.batcher.stats.mean
        return result
    finally:
        srv.shutdown()
        srv.server_close()
        srv.app.translation.close()


def overload_summary(result: dict[str, Any]) -> dict[str, Any]:
    """The overload run's verdict: how many 503s, and whether every other answer was a well-formed 200."""
    others = {k: v for k, v in result["errors"].items() if k != "503"}
    return {
        "refused_503": result["errors"].get("503", 0),
        "other_errors": others,
        "all_others_ok": not others and not result["malformed"] and result["requests_ok"] > 0,
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint", type=Path)
    p.add_argument("--sentences", type=Path, required=True, help="one source sentence per line (.gz ok)")
    p.add_argument("--clients", type=int, default=32)
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--beam", type=int, default=4)
    p.add_argument("--max-batch", type=int, default=32)
    p.add_argument("--batch-wait-ms", type=float, default=10.0)
    p.add_argument("--timeout", type=float, default=120.0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument(
        "--streams", type=int, default=1,
        help="also run dynamic batching with this many batches decoded at once (--threads shared among them)",
    )  # fmt: skip
    p.add_argument("--overload", action="store_true", help="also drive a small queue past its limit")
    p.add_argument("--overload-max-queue", type=int, default=4, help="the overloaded server's queue")
    p.add_argument("--overload-clients", type=int, default=64, help="clients posting to it")
    p.add_argument("--backoff-ms", type=float, default=10.0, help="a client's wait after a 503")
    p.add_argument("--name", default="serve_load")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    set_threads(args.threads)
    sentences = read_sentences(args.sentences)
    batched = {"max_batch": args.max_batch, "max_wait": args.batch_wait_ms / 1000}
    modes = {  # name: (batching, clients)
        "dynamic batching": (batched, args.clients),
        "one at a time": ({"max_batch": 1, "max_wait": 0.0}, args.clients),
    }
    if args.streams > 1:
        modes[f"dynamic batching, {args.streams} streams"] = (
            {**batched, "workers": args.streams},
            args.clients,
        )
    if args.overload:
        modes["overload"] = ({**batched, "max_queue": args.overload_max_queue}, args.overload_clients)
    results = {}
    for name, (batching, clients) in modes.items():
        set_threads(
            max(1, args.threads // batching.get("workers", 1))
        )  # each stream's share, as `ronbun serve`
        r = serve_and_load(
            args.checkpoint, sentences, {**batching, "timeout": args.timeout}, args, clients=clients
        )
        results[name] = r
        print(
            f"{name:28s} {r['requests_per_s']:7.2f} req/s  {r['target_words_per_s']:8.1f} words/s  "
            f"p50 {r['latency_ms']['p50']:7.0f} ms  p99 {r['latency_ms']['p99']:7.0f} ms  "
            f"mean batch {r['mean_batch']:.1f}  errors {r['errors'] or 0}  malformed {r['malformed'] or 0}",
            flush=True,
        )
    ratio = results["dynamic batching"]["requests_per_s"] / max(
        results["one at a time"]["requests_per_s"], 1e-9
    )
    print(f"dynamic batching / one at a time: {ratio:.2f}× throughput")
    streams_ratio = None
    if args.streams > 1:
        streams_ratio = results[f"dynamic batching, {args.streams} streams"]["requests_per_s"] / max(
            results["dynamic batching"]["requests_per_s"], 1e-9
        )
        print(f"{args.streams} streams / 1 stream (both batching): {streams_ratio:.2f}× throughput")
    out = {
        "command": "python -m benchmarks.serve_load " + " ".join(argv),
        "machine": machine(args.threads),
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "results": results,
        "throughput_ratio": ratio,
        "streams_ratio": streams_ratio,
    }
    if args.overload:
        out["overload"] = verdict = overload_summary(results["overload"])
        print(
            f"overload (queue {args.overload_max_queue}, {args.overload_clients} clients): "
            f"{verdict['refused_503']} refused with 503, other errors {verdict['other_errors'] or 0}, "
            f"every other answer a well-formed 200: {'yes' if verdict['all_others_ok'] else 'NO'}"
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.name}.json").write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
