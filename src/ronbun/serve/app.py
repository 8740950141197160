"""The ``ronbun serve`` web application: a JSON API and the static page, on ``http.server``.

Endpoints (all answers are JSON except the page and its static files)::

    GET  /                  the page (static/index.html)
    GET  /static/<file>     app.js, style.css
    GET  /api/models        the loaded checkpoints: name, model type, layers, heads, limits
    POST /api/translate     {"model", "text", "beam": 1|4…, "alpha"} → translation + attention maps
    POST /api/generate      {"model", "prompt", "temperature", "top_k", "top_p", "max_tokens", "seed", "greedy"}
                            → continuation + masked self-attention maps
    POST /api/v1/translate  {"text" | "texts", "model", "beam", "alpha"} → translations only, for programs:
                            concurrent requests are decoded in shared batches (:mod:`.translation_api`)

Attention maps come as ``attention[kind] = {"rows": [...], "cols": [...], "weights": [layer][head][row][col]}``
with ``kind`` in ``encoder``, ``decoder``, ``cross`` (Transformer, §3.2.3) or ``self`` (GPT-1).

Safety: binds 127.0.0.1 unless told otherwise; inputs longer than ``max_chars`` characters and bodies
larger than 64 KiB are refused (413); at most ``max_concurrent`` model requests run at once, the others get
503 with a readable message; every error is a JSON ``{"error": "..."}`` (a traceback never leaves the
server).  No file outside the packaged ``static/`` folder is ever served.
"""

from __future__ import annotations

import json
import mimetypes
import sys
import threading
import time
import traceback
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import torch

from ..inspection import AttentionView, Inspectable, attention_view, load_inspectable
from .validation import ApiError, read_integer, read_number

MAX_BODY_BYTES = 64 * 1024
DEFAULT_MAX_CHARS = 500
DEFAULT_MAX_CONCURRENT = 2
MAX_NEW_TOKENS = 200
MAX_BEAM = 16


def _round_maps(view: AttentionView, digits: int = 4) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind, maps in view.maps.items():
        rows, cols = view.axes[kind]
        weights = [torch.round(w.double(), decimals=digits).tolist() for w in maps]  # [layer][head][q][k]
        out[kind] = {"rows": rows, "cols": cols, "weights": weights}
    return out


class ServeApp:
    """The API without HTTP: checkpoints by name, input limits and the concurrency limit."""

    def __init__(
        self,
        models: Sequence[Inspectable],
        *,
        max_chars: int = DEFAULT_MAX_CHARS,
        max_concurrent: int = DEFAULT_MAX_CONCURRENT,
        batching: dict[str, Any] | None = None,
    ) -> None:
        """``batching``: keyword arguments of :class:`~ronbun.serve.translation_api.TranslationService`
        (``max_batch``, ``max_wait``, ``max_queue``, ``timeout``) for ``/api/v1/translate``."""
        if not models:
            raise ValueError("serve needs at least one checkpoint")
        if max_chars < 1 or max_concurrent < 1:
            raise ValueError("max_chars and max_concurrent must be >= 1")
        self.models: dict[str, Inspectable] = {}
        for m in models:
            name, i = m.directory.name or str(m.directory), 2
            base = name
            while name in self.models:
                name, i = f"{base}-{i}", i + 1
            self.models[name] = m
        self.max_chars = max_chars
        self.max_concurrent = max_concurrent
        self.limiter = threading.BoundedSemaphore(max_concurrent)
        self.translation = self._translation_service(batching or {})

    def _translation_service(self, batching: dict[str, Any]) -> Any:
        """The batched translation API over every loaded Transformer (``None`` when there is none)."""
        from ..mt.translator import Translator
        from .translation_api import TranslationService

        translators = {
            name: Translator(m.model, m.tokenizer, directory=m.directory)  # type: ignore[arg-type]
            for name, m in self.models.items()
            if m.model_type == "transformer" and m.tokenizer is not None
        }
        if not translators:
            return None
        return TranslationService(
            translators, error=ApiError, max_chars=self.max_chars, max_beam=MAX_BEAM, **batching
        )

    def translate_batched(self, payload: dict[str, Any]) -> dict[str, Any]:
        """``POST /api/v1/translate``: translations only, batched with concurrent requests
        (:mod:`ronbun.serve.translation_api`)."""
        if self.translation is None:
            raise ApiError(
                400, f"no translation checkpoint is loaded; this server has: {', '.join(self.models)}"
            )
        return self.translation.handle(payload)

    @classmethod
    def from_checkpoints(cls, paths: Sequence[str | Path], **kwargs: Any) -> ServeApp:
        return cls([load_inspectable(p) for p in paths], **kwargs)

    # -- helpers -------------------------------------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        models = []
        for name, m in self.models.items():
            info = m.describe()
            info["name"] = name
            models.append(info)
        return {
            "models": models,
            "limits": {
                "max_chars": self.max_chars,
                "max_concurrent": self.max_concurrent,
                "max_tokens": MAX_NEW_TOKENS,
            },
        }

    def _model(self, payload: dict[str, Any], kind: str) -> tuple[str, Inspectable]:
        name = payload.get("model")
        if name in (None, ""):
            for key, m in self.models.items():
                if m.model_type == kind:
                    return key, m
            raise ApiError(400, f"no {kind} checkpoint is loaded; this server has: {', '.join(self.models)}")
        if not isinstance(name, str) or name not in self.models:
            raise ApiError(404, f"unknown model {name!r}; loaded: {', '.join(self.models)}")
        m = self.models[name]
        if m.model_type != kind:
            verb = "translate" if kind == "transformer" else "generate"
            raise ApiError(400, f"model {name!r} is a {m.model_type} checkpoint and cannot {verb}")
        return name, m

    def _text(self, payload: dict[str, Any], key: str) -> str:
        text = payload.get(key)
        if not isinstance(text, str):
            raise ApiError(400, f"give the {key} as a string")
        if len(text) > self.max_chars:
            raise ApiError(
                413,
                f"The input is {len(text)} characters long; the limit is {self.max_chars}. "
                "Please shorten it and try again.",
            )
        if not text.strip():
            raise ApiError(400, "The input is empty: type a sentence first.")
        return text

    # -- endpoints -----------------------------------------------------------------------------------------
    def translate(self, payload: dict[str, Any]) -> dict[str, Any]:
        """§6.1 decoding of one sentence (``beam`` 1 = greedy) and the teacher-forced attention maps."""
        name, m = self._model(payload, "transformer")
        text = self._text(payload, "text")
        beam = read_integer(payload, "beam", 4, 1, MAX_BEAM)
        alpha = read_number(payload, "alpha", 0.6, 0.0, 2.0)
        t0 = time.perf_counter()
        try:
            view = attention_view(m, text, beam=int(beam or 1), alpha=alpha)
        except ValueError as exc:  # too many tokens for the model, etc.
            raise ApiError(400, str(exc)) from None
        return {
            "model": name,
            "model_type": "transformer",
            "input": text,
            "output": view.output,
            "search": "greedy" if beam == 1 else f"beam {beam}, α={alpha:g}",
            "attention": _round_maps(view),
            "elapsed_ms": round((time.perf_counter() - t0) * 1e3, 1),
        }

    def generate(self, payload: dict[str, Any]) -> dict[str, Any]:
        """GPT-1 (Eq. 2) continues a prompt, KV-cached (:func:`ronbun.generation.generate`); then the masked
        self-attention of prompt + continuation."""
        from ..generation import generate

        name, m = self._model(payload, "gpt")
        prompt = self._text(payload, "prompt")
        c = m.model.config
        temperature = read_number(payload, "temperature", 1.0, 0.0, 5.0, lo_open=True)
        top_k = read_integer(payload, "top_k", 0, 0, c.total_vocab)
        top_p = read_number(payload, "top_p", 1.0, 0.0, 1.0, lo_open=True)
        max_tokens = int(read_integer(payload, "max_tokens", 30, 1, MAX_NEW_TOKENS) or 1)
        seed = read_integer(payload, "seed", None, 0, 2**31 - 1)
        greedy = payload.get("greedy", False)
        if not isinstance(greedy, bool):
            raise ApiError(400, f"greedy must be true or false, got {greedy!r}")
        ids = list(m.tokenizer.encode(prompt))
        if m.line_break is not None:
            ids = [m.line_break, *ids]
        if len(ids) + max_tokens - 1 > c.n_ctx:
            raise ApiError(
                400,
                f"The prompt has {len(ids)} tokens; with {max_tokens} new tokens that exceeds the model's "
                f"context of {c.n_ctx} positions. Shorten the prompt or ask for fewer tokens.",
            )
        t0 = time.perf_counter()
        out = generate(
            m.model,
            ids,
            max_tokens,
            do_sample=not greedy,
            temperature=temperature,
            top_k=top_k or None,
            top_p=None if top_p >= 1.0 else top_p,
            seed=seed,
            banned_ids=m.banned_ids or None,
        )
        new = [int(i) for i in out.tolist()[len(ids) :]]
        body = ids[1:] if m.line_break is not None else ids
        head = m.tokenizer.decode(body)
        full = m.tokenizer.decode(body + new)
        continuation = full[len(head) :] if full.startswith(head) else " " + m.tokenizer.decode(new)
        view = attention_view(m, prompt, continuation=new)
        return {
            "model": name,
            "model_type": "gpt",
            "input": prompt,
            "output": continuation,
            "prompt_tokens": len(ids),
            "new_tokens": len(new),
            "search": "greedy"
            if greedy
            else f"sampling, T={temperature:g}, top-k={top_k or 'off'}, "
            f"top-p={'off' if top_p >= 1 else f'{top_p:g}'}" + (f", seed {seed}" if seed is not None else ""),
            "attention": _round_maps(view),
            "elapsed_ms": round((time.perf_counter() - t0) * 1e3, 1),
        }


# -- HTTP ---------------------------------------------------------------------------------------------------
STATIC = resources.files("ronbun.serve").joinpath("static")
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'",
}


def static_files() -> dict[str, bytes]:
    """The page's files, read once from the package (never from a path the request names)."""
    files = {}
    for entry in STATIC.iterdir():
        if entry.is_file() and not entry.name.startswith("."):
            files[entry.name] = entry.read_bytes()
    return files


class Handler(BaseHTTPRequestHandler):
    """Routes requests to :class:`ServeApp`; every error answer is JSON."""

    server: RonbunHTTPServer
    server_version = "ronbun-serve"
    sys_version = ""
    timeout = 60  # seconds a client may take to send its request (a stalled upload never pins a thread)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            sys.stderr.write(f"{self.address_string()} {format % args}\n")

    def _send(self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in {**SECURITY_HEADERS, **(extra or {})}.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, data: dict[str, Any]) -> None:
        body = json.dumps(data, ensure_ascii=False).encode("utf-8")
        self._send(status, body, "application/json; charset=utf-8", {"Cache-Control": "no-store"})

    def _error(self, status: int, message: str) -> None:
        self._json(status, {"error": message, "status": status})

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path in ("/", "/index.html"):
            path = "/static/index.html"
        if path == "/api/models":
            self._json(200, self.server.app.describe())
        elif path == "/api/health":
            self._json(200, {"ok": True})
        elif path == "/favicon.ico":
            self._send(204, b"", "image/x-icon")
        elif path.startswith("/static/"):
            name = path.removeprefix("/static/")
            body = self.server.static.get(name)
            if body is None:
                self._error(404, f"no such file: {path}")
                return
            ctype = (
                CONTENT_TYPES.get(Path(name).suffix)
                or mimetypes.guess_type(name)[0]
                or "application/octet-stream"
            )
            self._send(200, body, ctype, {"Cache-Control": "no-cache"})
        else:
            self._error(404, f"no such page: {path}")

    do_HEAD = do_GET

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        app = self.server.app
        routes = {
            "/api/translate": app.translate,
            "/api/generate": app.generate,
            "/api/v1/translate": app.translate_batched,
        }
        if path not in routes:
            self._error(404, f"no such endpoint: {path}")
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self._error(400, "bad Content-Length header")
            return
        if length > MAX_BODY_BYTES:
            self._error(413, f"The request is {length} bytes; the limit is {MAX_BODY_BYTES}.")
            return
        raw = self.rfile.read(length) if length > 0 else b""
        try:
            payload = json.loads(raw.decode("utf-8") or "{}")
        except (UnicodeDecodeError, json.JSONDecodeError):
            self._error(400, "The request body is not valid JSON.")
            return
        if not isinstance(payload, dict):
            self._error(400, "The request body must be a JSON object.")
            return
        if path == "/api/v1/translate":  # the batcher queues, limits and times out its own requests
            self._json(*self._answer(path, routes[path], payload))
            return
        limiter = self.server.app.limiter
        if not limiter.acquire(blocking=False):
            n = self.server.app.max_concurrent
            self._error(
                503,
                f"The server is busy: {n} request{'s' if n != 1 else ''} already running (the limit). "
                "Please try again in a moment.",
            )
            return
        try:
            status, data = self._answer(path, routes[path], payload)
        finally:
            limiter.release()  # before answering, so a client's next request never sees its own slot taken
        self._json(status, data)

    def _answer(self, path: str, endpoint: Any, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """``(status, JSON)`` of one endpoint call; every failure becomes a JSON error, never a traceback."""
        try:
            return 200, endpoint(payload)
        except ApiError as exc:
            return exc.status, {"error": exc.message, "status": exc.status}
        except Exception as exc:  # a bug or an unexpected input: report it readably, log the traceback
            if self.server.verbose:
                traceback.print_exc()
            else:
                sys.stderr.write(f"ronbun serve: {type(exc).__name__} on {path}: {exc}\n")
            return 500, {"error": f"Internal error ({type(exc).__name__}): {exc}", "status": 500}


class RonbunHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server holding the :class:`ServeApp` and the page's files."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # the listen backlog: dozens of concurrent API clients connect at once

    def __init__(self, address: tuple[str, int], app: ServeApp, *, verbose: bool = False) -> None:
        self.app = app
        self.verbose = verbose
        self.static = static_files()
        super().__init__(address, Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        host = f"[{host}]" if ":" in str(host) else host
        return f"http://{host}:{port}/"


def create_server(
    checkpoints: Sequence[str | Path] | ServeApp,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    max_chars: int = DEFAULT_MAX_CHARS,
    max_concurrent: int = DEFAULT_MAX_CONCURRENT,
    batching: dict[str, Any] | None = None,
    verbose: bool = False,
) -> RonbunHTTPServer:
    """Load the checkpoints and bind (``port=0``: any free port); call ``serve_forever()`` to run.
    ``batching`` configures ``/api/v1/translate`` (see :class:`ServeApp`)."""
    app = (
        checkpoints
        if isinstance(checkpoints, ServeApp)
        else ServeApp.from_checkpoints(
            checkpoints, max_chars=max_chars, max_concurrent=max_concurrent, batching=batching
        )
    )
    return RonbunHTTPServer((host, port), app, verbose=verbose)


def serve(checkpoints: Sequence[str | Path], **kwargs: Any) -> None:
    """Run the server until interrupted (what ``ronbun serve`` does)."""
    server = create_server(checkpoints, **kwargs)
    print(f"serving {', '.join(server.app.models)} on {server.url}  (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        if server.app.translation is not None:
            server.app.translation.close()
