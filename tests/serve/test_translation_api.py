"""The translation API for programs: validated requests, answers batched across clients, clean 503/504."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from ronbun.serve.translation_api import MAX_TEXTS, TranslationService


class HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class FakeTranslator:
    """Reverses each sentence; records the batches it was asked to decode."""

    def __init__(self, delay: float = 0.0, gate: threading.Event | None = None) -> None:
        self.delay, self.gate = delay, gate
        self.batches: list[tuple[list[str], int, float]] = []

    def translate(self, texts, *, beam, alpha):
        self.batches.append((list(texts), beam, alpha))
        if self.gate is not None:
            self.gate.wait(5)
        time.sleep(self.delay)
        if any("boom" in t for t in texts):
            raise ValueError("the input has 999 tokens; the model has 256 positions")
        return [t[::-1] for t in texts]


def service(translator=None, **kwargs) -> TranslationService:
    return TranslationService({"en-de": translator or FakeTranslator()}, error=HttpError, **kwargs)


def test_one_text_and_a_list_of_texts():
    api = service()
    assert api.handle({"text": "abc"})["translations"] == ["cba"]
    answer = api.handle({"texts": ["ab", "cd"], "beam": 1, "model": "en-de"})
    assert (
        answer["translations"] == ["ba", "dc"] and answer["search"] == "greedy" and answer["model"] == "en-de"
    )
    api.close()


def test_concurrent_clients_share_batches_and_each_gets_its_own_translation():
    fake = FakeTranslator(delay=0.02)
    api = service(fake, max_batch=16, max_wait=0.05)
    texts = [f"sentence {i}" for i in range(32)]
    with ThreadPoolExecutor(32) as pool:
        answers = list(pool.map(lambda t: api.handle({"text": t})["translations"][0], texts))
    api.close()
    assert answers == [t[::-1] for t in texts]
    assert len(fake.batches) < 32 and max(len(b) for b, _, _ in fake.batches) > 1


def test_different_search_settings_are_decoded_apart():
    fake = FakeTranslator(delay=0.01)
    api = service(fake, max_wait=0.05)
    jobs = [{"text": f"t{i}", "beam": 1 + i % 2} for i in range(12)]
    with ThreadPoolExecutor(12) as pool:
        list(pool.map(api.handle, jobs))
    api.close()
    for texts, beam, _ in fake.batches:
        assert all(int(t[1:]) % 2 == beam - 1 for t in texts)


@pytest.mark.parametrize(
    ("payload", "status", "words"),
    [
        ({}, 400, "either"),
        ({"text": "a", "texts": ["b"]}, 400, "either"),
        ({"texts": "a string"}, 400, "list of strings"),
        ({"texts": []}, 400, "non-empty"),
        ({"text": "   "}, 400, "empty"),
        ({"text": "x" * 501}, 413, "limit is 500"),
        ({"texts": ["a"] * (MAX_TEXTS + 1)}, 413, f"limit is {MAX_TEXTS}"),
        ({"text": "a", "beam": 0}, 400, "beam"),
        ({"text": "a", "beam": True}, 400, "beam"),
        ({"text": "a", "alpha": "high"}, 400, "alpha"),
        ({"text": "a", "model": "fr-en"}, 404, "unknown model"),
        ({"text": "boom"}, 400, "positions"),
    ],
)
def test_bad_requests_get_one_clear_sentence_and_a_status(payload, status, words):
    api = service()
    with pytest.raises(HttpError, match=words) as err:
        api.handle(payload)
    assert err.value.status == status
    assert api.handle({"text": "ok"})["translations"] == ["ko"]  # the service lives on
    api.close()


def test_a_full_queue_answers_503_at_once():
    gate = threading.Event()
    api = service(FakeTranslator(gate=gate), max_batch=1, max_wait=0.0, max_queue=1)
    with ThreadPoolExecutor(2) as pool:
        running = pool.submit(api.handle, {"text": "first"})  # taken by the worker, which then blocks
        deadline = time.monotonic() + 5
        while api.batcher.stats.batches == 0 and time.monotonic() < deadline:
            time.sleep(0.005)
        queued = pool.submit(api.handle, {"text": "second"})  # fills the queue
        while api.batcher.queued == 0 and time.monotonic() < deadline:
            time.sleep(0.005)
        with pytest.raises(HttpError, match="busy") as err:
            api.handle({"text": "third"})
        assert err.value.status == 503
        gate.set()
        assert running.result(5)["translations"] == ["tsrif"] and queued.result(5)["translations"] == [
            "dnoces"
        ]
    api.close()


def test_a_slow_answer_is_a_504_not_a_hang():
    gate = threading.Event()
    api = service(FakeTranslator(gate=gate), timeout=0.1)
    with pytest.raises(HttpError, match="overloaded") as err:
        api.handle({"text": "slow"})
    assert err.value.status == 504
    gate.set()
    api.close()
