"""``ronbun serve``'s JSON API over real HTTP: translation with attention maps of the right shapes (§3.2.3),
GPT-1 sampling, the input-length and concurrency limits, and errors that are JSON sentences, never tracebacks."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from serving import running_server

from ronbun.cli.main import build_parser
from ronbun.serve.app import RonbunHTTPServer, ServeApp, create_server

MAX_CHARS = 60


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RonbunHTTPServer]:
    yield from running_server(tmp_path_factory.mktemp("serve"), max_chars=MAX_CHARS, max_concurrent=1)


def call(
    srv: RonbunHTTPServer, path: str, body: Any = None, raw: bytes | None = None
) -> tuple[int, dict, str]:
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    req = urllib.request.Request(
        srv.url.rstrip("/") + path, data=data, method="POST" if data is not None else "GET"
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            status, ctype, text = resp.status, resp.headers["Content-Type"], resp.read().decode()
    except urllib.error.HTTPError as exc:
        status, ctype, text = exc.code, exc.headers["Content-Type"], exc.read().decode()
    return status, json.loads(text) if ctype.startswith("application/json") else {}, text


def test_binds_localhost_by_default(server: RonbunHTTPServer) -> None:
    assert server.server_address[0] == "127.0.0.1"
    other = create_server(server.app, port=0)  # the library default, without a host argument
    try:
        assert other.server_address[0] == "127.0.0.1"
    finally:
        other.server_close()
    args = build_parser().parse_args(["serve", "some/checkpoint"])
    assert (args.host, args.port) == ("127.0.0.1", 8000)


def test_models_endpoint(server: RonbunHTTPServer) -> None:
    status, data, _ = call(server, "/api/models")
    assert status == 200
    assert [(m["name"], m["model_type"]) for m in data["models"]] == [("mt", "transformer"), ("gpt", "gpt")]
    assert data["models"][0]["layers"] == {"encoder": 2, "decoder": 2, "cross": 2}
    assert data["limits"]["max_chars"] == MAX_CHARS


@pytest.mark.parametrize("beam", [1, 4])
def test_translate_returns_attention_of_every_kind(server: RonbunHTTPServer, beam: int) -> None:
    status, data, _ = call(server, "/api/translate", {"text": "The old man sees the dog.", "beam": beam})
    assert status == 200, data
    assert data["model"] == "mt" and isinstance(data["output"], str)
    assert data["search"] == ("greedy" if beam == 1 else "beam 4, α=0.6")
    att = data["attention"]
    s, t = len(att["encoder"]["rows"]), len(att["decoder"]["rows"])
    assert att["cross"]["cols"] == att["encoder"]["cols"] and len(att["cross"]["rows"]) == t
    for kind, (nq, nk) in {"encoder": (s, s), "decoder": (t, t), "cross": (t, s)}.items():
        w = torch.tensor(att[kind]["weights"])
        assert tuple(w.shape) == (2, 4, nq, nk)  # [layer][head][query][key]
        torch.testing.assert_close(w.sum(-1), torch.ones(2, 4, nq), atol=5e-3, rtol=0)  # softmax rows
    dec = torch.tensor(att["decoder"]["weights"])
    assert float(dec.triu(1).abs().max()) == 0.0  # masked: no position sees a later one


def test_generate_samples_reproducibly_with_causal_attention(server: RonbunHTTPServer) -> None:
    body = {"prompt": "The dog", "max_tokens": 6, "seed": 3, "temperature": 0.9, "top_k": 20, "top_p": 0.9}
    status, a, _ = call(server, "/api/generate", body)
    assert status == 200, a
    assert call(server, "/api/generate", body)[1]["output"] == a["output"]  # a seed reproduces its sample
    assert a["new_tokens"] == 6
    n = a["prompt_tokens"] + 6
    w = torch.tensor(a["attention"]["self"]["weights"])
    assert tuple(w.shape) == (2, 4, n, n)
    assert float(w.triu(1).abs().max()) == 0.0
    assert a["attention"]["self"]["rows"][0] == "⏎"  # the line break every pre-training line starts with
    status, g, _ = call(server, "/api/generate", {"prompt": "The dog", "max_tokens": 4, "greedy": True})
    assert status == 200 and g["search"] == "greedy"


def test_input_length_limit(server: RonbunHTTPServer) -> None:
    status, data, _text = call(server, "/api/translate", {"text": "a" * (MAX_CHARS + 1)})
    assert status == 413
    assert data["error"] == (
        f"The input is {MAX_CHARS + 1} characters long; the limit is {MAX_CHARS}. Please shorten it and try again."
    )
    status, data, _ = call(server, "/api/generate", {"prompt": "b" * 1000})
    assert status == 413 and "limit is" in data["error"]
    status, data, _ = call(server, "/api/translate", raw=b'{"text": "' + b"x" * 70_000 + b'"}')
    assert status == 413 and "limit is 65536" in data["error"]


def test_concurrency_limit_gives_503(server: RonbunHTTPServer) -> None:
    assert server.app.limiter.acquire(blocking=False)  # one request "running": the limit is 1
    try:
        status, data, _ = call(server, "/api/translate", {"text": "The dog."})
        assert status == 503
        assert data["error"].startswith("The server is busy: 1 request already running")
    finally:
        server.app.limiter.release()
    assert call(server, "/api/translate", {"text": "The dog.", "beam": 1})[0] == 200


@pytest.mark.parametrize(
    ("path", "body", "status", "message"),
    [
        ("/api/translate", {"text": "   "}, 400, "The input is empty"),
        ("/api/translate", {"text": 5}, 400, "give the text as a string"),
        ("/api/translate", {"text": "x", "beam": "many"}, 400, "beam must be a whole number"),
        ("/api/translate", {"text": "x", "beam": 99}, 400, "beam must be between 1 and 16"),
        ("/api/translate", {"text": "x", "model": "nope"}, 404, "unknown model 'nope'"),
        ("/api/translate", {"text": "x", "model": "gpt"}, 400, "cannot translate"),
        ("/api/generate", {"prompt": "x", "temperature": 0}, 400, "temperature must be in (0.0, 5.0]"),
        ("/api/generate", {"prompt": "x", "top_p": 1.5}, 400, "top_p must be in"),
        ("/api/generate", {"prompt": "x", "max_tokens": 500}, 400, "max_tokens must be between 1 and 200"),
        (
            "/api/generate",
            {"prompt": "x y z " * 8, "max_tokens": 120},
            400,
            "exceeds the model's context of 128",
        ),
        ("/api/generate", {"prompt": "x", "greedy": "yes"}, 400, "greedy must be true or false"),
        ("/api/nothing", {}, 404, "no such endpoint"),
        ("/api/translate", [1, 2], 400, "must be a JSON object"),
    ],
)
def test_bad_input_gets_a_readable_json_error(
    server: RonbunHTTPServer, path: str, body: Any, status: int, message: str
) -> None:
    got, data, text = call(server, path, body)
    assert got == status
    assert message in data["error"]
    assert "Traceback" not in text


def test_invalid_json_and_internal_errors_are_json(
    server: RonbunHTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    status, data, _ = call(server, "/api/translate", raw=b"{not json")
    assert (status, data["error"]) == (400, "The request body is not valid JSON.")

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the decoder fell over")

    monkeypatch.setattr(server.app.models["mt"].translator, "translate_ids", broken)
    status, data, text = call(server, "/api/translate", {"text": "The dog."})
    assert status == 500
    assert data["error"] == "Internal error (RuntimeError): the decoder fell over"
    assert "Traceback" not in text and 'File "' not in text
    assert server.app.limiter.acquire(blocking=False)  # the failed request released its slot
    server.app.limiter.release()


def test_page_and_static_files(server: RonbunHTTPServer) -> None:
    with urllib.request.urlopen(server.url, timeout=10) as resp:
        html = resp.read().decode()
        assert resp.headers["Content-Type"].startswith("text/html")
        assert "default-src 'self'" in resp.headers["Content-Security-Policy"]
    assert '<script src="/static/app.js"' in html and "http" not in html.replace("http-equiv", "")  # no CDN
    with urllib.request.urlopen(server.url + "static/app.js", timeout=10) as resp:
        assert resp.headers["Content-Type"].startswith("text/javascript")
    for bad in ("static/../app.py", "static/%2e%2e/app.py", "etc/passwd", "static/"):
        status, data, _ = call(server, "/" + bad)
        assert status == 404 and "no such" in data["error"]


def test_serve_app_needs_a_checkpoint() -> None:
    with pytest.raises(ValueError, match="at least one checkpoint"):
        ServeApp([])


def test_cli_reports_a_missing_checkpoint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from ronbun.cli.main import main

    assert main(["serve", str(tmp_path / "missing"), "--port", "0"]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_the_program_api_batches_concurrent_requests_and_answers_each_its_own(
    server: RonbunHTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    sentences = [
        f"The {w} sees dog number {i}." for i, w in enumerate(("man", "woman", "child", "teacher") * 4)
    ]
    service = server.app.translation
    # the real tiny model answers over HTTP (random weights: its output depends on the batch's padding, so
    # routing is checked below with a translator whose answer is a function of its input alone)
    status, data, _ = call(server, "/api/v1/translate", {"texts": sentences[:3], "beam": 2})
    assert status == 200 and len(data["translations"]) == 3 and data["search"] == "beam 2, α=0.6"

    class Reverser:
        def translate(self, texts, *, beam, alpha):
            return [t[::-1] for t in texts]

    monkeypatch.setitem(service.translators, "mt", Reverser())
    monkeypatch.setattr(service.batcher, "max_wait", 0.2)  # a wide window: batching even on a slow machine
    before = service.batcher.stats.batches
    with ThreadPoolExecutor(len(sentences)) as pool:  # more clients than the page's concurrency limit (1)
        answers = list(pool.map(lambda s: call(server, "/api/v1/translate", {"text": s}), sentences))
    assert [status for status, _, _ in answers] == [200] * len(sentences)
    assert [data["translations"] for _, data, _ in answers] == [[s[::-1]] for s in sentences]
    assert service.batcher.stats.batches - before < len(sentences)  # really batched


@pytest.mark.parametrize(
    ("body", "status"),
    [({"text": "x" * (MAX_CHARS + 1)}, 413), ({"texts": []}, 400), ({"text": "a", "model": "gpt"}, 404)],
)
def test_the_program_api_refuses_bad_requests_in_json(server: RonbunHTTPServer, body, status) -> None:
    got, data, _ = call(server, "/api/v1/translate", body)
    assert got == status and data["status"] == status and data["error"]


def test_cli_streams_give_the_batcher_two_workers_sharing_the_threads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``ronbun serve --threads 4 --streams 2``: the translation API decodes two batches at a time, each on
    two of the four threads; ``--streams 0`` is refused in one line."""
    import torch

    import ronbun.serve.app
    from ronbun.cli.main import main

    given: dict = {}
    monkeypatch.setattr(ronbun.serve.app, "serve", lambda checkpoints, **kwargs: given.update(kwargs))
    old = torch.get_num_threads()
    try:
        assert main(["serve", "some/checkpoint", "--threads", "4", "--streams", "2"]) == 0
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(old)
    assert given["batching"]["workers"] == 2
    assert main(["serve", "some/checkpoint", "--streams", "0"]) == 2
