"""``POST /api/v1/translate``: the translation API for programs, with dynamic batching.

The page's ``/api/translate`` decodes one sentence and returns every attention map, which is what a reader
wants and what a program does not.  This endpoint returns translations only, and requests that arrive
together are decoded together: each text joins a :class:`~ronbun.serve.batching.DynamicBatcher` queue keyed
by (model, beam, α), so thirty-two clients cost a few batched beam searches instead of thirty-two single
ones.

Request (JSON)::

    {"text": "A man rides a horse."}                        one sentence, or
    {"texts": ["…", "…"], "model": "NAME", "beam": 4, "alpha": 0.6}

Answer: ``{"model", "translations": [...], "search", "elapsed_ms"}``.  Errors are JSON ``{"error",
"status"}``: 400 for a malformed request, 404 for an unknown model, 413 for a text over the length limit or
too many texts, 503 when the queue is full (try again), 504 when the answer took longer than the timeout.
"""

from __future__ import annotations

import time
from collections.abc import Hashable, Mapping
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from ..mt.translator import Translator
from .batching import BatcherClosed, DynamicBatcher, QueueFull
from .validation import read_integer, read_number

MAX_TEXTS = 64  # texts in one request


class TranslationService:
    """Validates requests and answers them from one dynamic batcher shared by every translator.

    Args:
        translators: model name → :class:`~ronbun.mt.translator.Translator`.
        error: the exception type to raise for a bad request, built as ``error(status, message)`` (the HTTP
            layer's ``ApiError``).
        max_chars: longest text accepted; max_batch / max_wait / max_queue / workers: see
            :class:`~ronbun.serve.batching.DynamicBatcher`; timeout: seconds a request may wait for its
            answers in total.
    """

    def __init__(
        self,
        translators: Mapping[str, Translator],
        *,
        error: type[Exception],
        max_chars: int = 500,
        max_batch: int = 32,
        max_wait: float = 0.01,
        max_queue: int = 256,
        workers: int = 1,
        timeout: float = 60.0,
        max_beam: int = 16,
    ) -> None:
        self.translators = dict(translators)
        self.error = error
        self.max_chars, self.timeout, self.max_beam = max_chars, timeout, max_beam
        self.batcher: DynamicBatcher[str, str] = DynamicBatcher(
            self._run, max_batch=max_batch, max_wait=max_wait, max_queue=max_queue, workers=workers
        )

    def _run(self, key: Hashable, texts: list[str]) -> list[str]:
        name, beam, alpha = key  # type: ignore[misc]
        return self.translators[name].translate(texts, beam=beam, alpha=alpha)

    # -- validation ----------------------------------------------------------------------------------------
    def _texts(self, payload: Mapping[str, Any]) -> list[str]:
        if ("text" in payload) == ("texts" in payload):
            raise self.error(400, 'give either "text" (a string) or "texts" (a list of strings)')
        texts = [payload["text"]] if "text" in payload else payload["texts"]
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts) or not texts:
            raise self.error(400, '"texts" must be a non-empty list of strings')
        if len(texts) > MAX_TEXTS:
            raise self.error(413, f"{len(texts)} texts in one request; the limit is {MAX_TEXTS}")
        for i, t in enumerate(texts):
            if not t.strip():
                raise self.error(400, f"text {i} is empty")
            if len(t) > self.max_chars:
                raise self.error(413, f"text {i} is {len(t)} characters long; the limit is {self.max_chars}")
        return texts

    def _search(self, payload: Mapping[str, Any]) -> tuple[int, float]:
        beam = read_integer(payload, "beam", 4, 1, self.max_beam, error=self.error)
        return int(beam or 1), read_number(payload, "alpha", 0.6, 0.0, 2.0, error=self.error)

    def _model(self, payload: Mapping[str, Any]) -> str:
        name = payload.get("model")
        if name in (None, ""):
            if not self.translators:
                raise self.error(400, "no translation model is loaded")
            return next(iter(self.translators))
        if not isinstance(name, str) or name not in self.translators:
            raise self.error(
                404, f"unknown model {name!r}; translation models: {', '.join(self.translators)}"
            )
        return name

    # -- the endpoint --------------------------------------------------------------------------------------
    def handle(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Answer one request: every text queued at once, so they batch with each other and with others."""
        name, texts, (beam, alpha) = self._model(payload), self._texts(payload), self._search(payload)
        t0 = time.perf_counter()
        futures: list[Future[str]] = []
        try:
            for text in texts:
                futures.append(self.batcher.submit((name, beam, alpha), text))
            deadline = t0 + self.timeout
            translations = [f.result(max(0.0, deadline - time.perf_counter())) for f in futures]
        except QueueFull as exc:
            raise self.error(503, str(exc)) from None
        except BatcherClosed as exc:
            raise self.error(503, str(exc)) from None
        except FutureTimeout:
            raise self.error(504, f"no answer within {self.timeout:g} s; the server is overloaded") from None
        except ValueError as exc:  # e.g. a text longer than the model's positions
            raise self.error(400, str(exc)) from None
        finally:
            for f in futures:
                f.cancel()  # a no-op for answered ones; withdraws the rest after an error
        return {
            "model": name,
            "translations": translations,
            "search": "greedy" if beam == 1 else f"beam {beam}, α={alpha:g}",
            "elapsed_ms": round((time.perf_counter() - t0) * 1e3, 1),
        }

    def close(self) -> None:
        self.batcher.close()
