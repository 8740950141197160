"""Dynamic batching: concurrent requests share one call, each caller gets its own answer, and overload is
refused cleanly instead of slowing everyone down."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from ronbun.serve.batching import BatcherClosed, DynamicBatcher, QueueFull, RequestTimeout


class Recorder:
    """A stand-in for a translator: upper-cases each item, records every batch it was given."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.calls: list[tuple[object, list[str]]] = []
        self.lock = threading.Lock()

    def __call__(self, key, items):
        with self.lock:
            self.calls.append((key, list(items)))
        time.sleep(self.delay)
        return [f"{key}:{item.upper()}" for item in items]


def test_concurrent_clients_each_get_their_own_answer_from_shared_batches():
    run = Recorder(delay=0.02)
    batcher = DynamicBatcher(run, max_batch=8, max_wait=0.05)
    texts = [f"sentence {i}" for i in range(32)]
    with ThreadPoolExecutor(32) as pool:
        answers = list(pool.map(lambda t: batcher("m", t, timeout=10), texts))
    batcher.close()
    assert answers == [f"m:{t.upper()}" for t in texts]
    assert sum(len(items) for _, items in run.calls) == 32  # every request computed exactly once
    assert batcher.stats.largest > 1 and len(run.calls) < 32  # requests really were batched
    assert all(len(items) <= 8 for _, items in run.calls)


def test_requests_with_different_keys_never_share_a_batch():
    run = Recorder(delay=0.01)
    batcher = DynamicBatcher(run, max_batch=16, max_wait=0.05)
    jobs = [("beam1", f"a{i}") if i % 2 else ("beam4", f"b{i}") for i in range(20)]
    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda kv: batcher(kv[0], kv[1], timeout=10), jobs))
    batcher.close()
    assert answers == [f"{k}:{v.upper()}" for k, v in jobs]
    for key, items in run.calls:
        assert all(item[0] == ("b" if key == "beam4" else "a") for item in items)


def test_a_lone_request_waits_no_longer_than_the_window():
    batcher = DynamicBatcher(Recorder(), max_batch=32, max_wait=0.02)
    start = time.monotonic()
    assert batcher("m", "x", timeout=5) == "m:X"
    assert time.monotonic() - start < 1.0
    batcher.close()


def test_a_full_queue_refuses_at_once():
    release = threading.Event()

    def blocked(key, items):
        release.wait(5)
        return items

    batcher = DynamicBatcher(blocked, max_batch=1, max_wait=0.0, max_queue=2)
    first = batcher.submit("m", "running")  # taken by the worker, blocks it
    deadline = time.monotonic() + 5
    while batcher.queued and time.monotonic() < deadline:
        time.sleep(0.005)
    queued = [batcher.submit("m", "q1"), batcher.submit("m", "q2")]
    with pytest.raises(QueueFull, match="busy"):
        batcher.submit("m", "one too many")
    release.set()
    assert first.result(5) == "running" and [f.result(5) for f in queued] == ["q1", "q2"]
    batcher.close()


def test_a_timed_out_request_is_withdrawn_and_never_computed():
    release = threading.Event()
    seen: list[str] = []

    def blocked(key, items):
        seen.extend(items)
        release.wait(5)
        return items

    batcher = DynamicBatcher(blocked, max_batch=1, max_wait=0.0)
    busy = batcher.submit("m", "slow")
    deadline = time.monotonic() + 5
    while not seen and time.monotonic() < deadline:
        time.sleep(0.005)
    with pytest.raises(RequestTimeout, match="overloaded"):
        batcher("m", "late", timeout=0.05)
    release.set()
    assert busy.result(5) == "slow"
    assert batcher("m", "after", timeout=5) == "after"
    batcher.close()
    assert "late" not in seen


def test_an_error_fails_only_its_own_batch():
    def picky(key, items):
        if key == "bad":
            raise ValueError("cannot translate that")
        return items

    batcher = DynamicBatcher(picky, max_wait=0.0)
    with pytest.raises(ValueError, match="cannot translate"):
        batcher("bad", "x", timeout=5)
    assert batcher("good", "y", timeout=5) == "y"  # the worker lives on
    batcher.close()


def test_a_wrong_number_of_results_is_an_error_not_a_misrouted_answer():
    batcher = DynamicBatcher(lambda key, items: items[:-1], max_wait=0.0)
    with pytest.raises(RuntimeError, match="0 results for 1 items"):
        batcher("m", "x", timeout=5)
    batcher.close()


def test_two_workers_run_two_batches_at_the_same_time_and_answer_each_client():
    """``workers=2``: a second batch starts while the first is still running (the barrier below opens only
    when the first two calls are inside ``run_batch`` at once), and every client still gets its own
    answer."""
    both_running = threading.Barrier(2, timeout=5)
    seen: list[list[str]] = []

    def run(key, items):
        seen.append(list(items))
        if len(seen) <= 2:  # the first two batches must be inside run() together
            both_running.wait()  # raises BrokenBarrierError if they ran one after the other
        return [f"{key}:{item.upper()}" for item in items]

    batcher = DynamicBatcher(run, max_batch=4, max_wait=0.0, workers=2)
    texts = [f"s{i}" for i in range(8)]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda t: batcher("m", t, timeout=10), texts))
    batcher.close()
    assert answers == [f"m:{t.upper()}" for t in texts]
    assert sorted(t for items in seen for t in items) == sorted(texts)
    assert batcher.stats.items == 8 and batcher.stats.batches == len(seen)


def test_close_refuses_new_work():
    batcher = DynamicBatcher(Recorder(), max_wait=0.0)
    batcher.close()
    with pytest.raises(BatcherClosed):
        batcher.submit("m", "x")


@pytest.mark.parametrize("bad", [{"max_batch": 0}, {"max_queue": 0}, {"max_wait": -1}, {"workers": 0}])
def test_limits_must_make_sense(bad):
    with pytest.raises(ValueError):
        DynamicBatcher(Recorder(), **bad)
