"""Dynamic batching for the serving API: concurrent requests share one forward pass.

A decoder step costs nearly the same for one sentence as for sixteen on a CPU (the matrix products are too
small to fill the cores), so a server that decodes each request on its own wastes most of the machine.
:class:`DynamicBatcher` queues requests, and one worker thread takes the oldest request, waits at most
``max_wait`` seconds for others with the same *key* (same model, beam, length penalty: requests that can
share a decode), and runs them as one batch of at most ``max_batch`` items.  Each caller gets its own
result (or its own exception) through a :class:`concurrent.futures.Future`.

Limits keep the server responsive under overload instead of slow for everyone: a full queue refuses new
work at once (:class:`QueueFull`, the HTTP layer's 503), and a caller that waits longer than its timeout
gets :class:`RequestTimeout` (504); a request that timed out before it was batched is never computed.

The batcher knows nothing about models: ``run_batch(key, items) -> results`` is the whole contract.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Generic, TypeVar

In = TypeVar("In")
Out = TypeVar("Out")

__all__ = ["BatchStats", "BatcherClosed", "DynamicBatcher", "QueueFull", "RequestTimeout"]


class QueueFull(RuntimeError):
    """The queue holds ``max_queue`` requests already: come back later (HTTP 503)."""


class RequestTimeout(TimeoutError):
    """The request was not answered within its timeout (HTTP 504)."""


class BatcherClosed(RuntimeError):
    """The batcher was closed (the server is shutting down)."""


@dataclass
class BatchStats:
    """What the worker did: batches run, items answered, the largest batch, a histogram of batch sizes."""

    batches: int = 0
    items: int = 0
    largest: int = 0
    sizes: dict[int, int] = field(default_factory=dict)

    def record(self, size: int) -> None:
        self.batches += 1
        self.items += size
        self.largest = max(self.largest, size)
        self.sizes[size] = self.sizes.get(size, 0) + 1

    @property
    def mean(self) -> float:
        return self.items / self.batches if self.batches else 0.0


@dataclass
class _Request(Generic[In, Out]):
    key: Hashable
    item: In
    arrived: float
    future: Future[Out] = field(default_factory=Future)


class DynamicBatcher(Generic[In, Out]):
    """Group concurrent requests with the same key into batches for ``run_batch`` (``workers`` threads, each
    running one batch at a time).

    Args:
        run_batch: ``(key, items) -> results``, one result per item, in order.  An exception fails every
            request of that batch and nothing else.
        max_batch: most items in one call of ``run_batch``.
        max_wait: seconds the oldest queued request may wait for company before its batch runs anyway.
        max_queue: requests queued (not yet running) before :meth:`submit` refuses with :class:`QueueFull`.
        workers: batches computed at the same time (``run_batch`` must allow concurrent calls).  On a CPU,
            two one-thread decodes of different batches finish more work than one two-thread decode.
    """

    def __init__(
        self,
        run_batch: Callable[[Hashable, list[In]], Sequence[Out]],
        *,
        max_batch: int = 32,
        max_wait: float = 0.01,
        max_queue: int = 256,
        workers: int = 1,
        name: str = "ronbun-batcher",
    ) -> None:
        if max_batch < 1 or max_queue < 1 or max_wait < 0 or workers < 1:
            raise ValueError("max_batch, max_queue and workers must be >= 1 and max_wait >= 0")
        self.run_batch = run_batch
        self.max_batch, self.max_wait, self.max_queue = max_batch, max_wait, max_queue
        self.stats = BatchStats()
        self._queue: deque[_Request[In, Out]] = deque()
        self._cond = threading.Condition()
        self._closed = False
        self._workers = [
            threading.Thread(target=self._work, name=f"{name}-{i}", daemon=True) for i in range(workers)
        ]
        for worker in self._workers:
            worker.start()

    # -- callers -------------------------------------------------------------------------------------------
    def submit(self, key: Hashable, item: In) -> Future[Out]:
        """Queue one request; its future resolves to ``run_batch``'s result for it."""
        with self._cond:
            if self._closed:
                raise BatcherClosed("the server is shutting down")
            if len(self._queue) >= self.max_queue:
                raise QueueFull(f"the server is busy ({self.max_queue} requests queued); try again shortly")
            request: _Request[In, Out] = _Request(key, item, time.monotonic())
            self._queue.append(request)
            self._cond.notify()
        return request.future

    def __call__(self, key: Hashable, item: In, timeout: float | None = None) -> Out:
        """Submit and wait; a request still queued when ``timeout`` expires is withdrawn, never computed."""
        future = self.submit(key, item)
        try:
            return future.result(timeout)
        except FutureTimeout:
            future.cancel()  # succeeds only while queued: the worker skips cancelled requests
            raise RequestTimeout(f"no answer within {timeout:g} s; the server is overloaded") from None

    @property
    def queued(self) -> int:
        with self._cond:
            return len(self._queue)

    def close(self) -> None:
        """Refuse new requests, fail the queued ones with :class:`BatcherClosed`, stop the workers."""
        with self._cond:
            self._closed = True
            pending = list(self._queue)
            self._queue.clear()
            self._cond.notify_all()
        for request in pending:
            if request.future.set_running_or_notify_cancel():
                request.future.set_exception(BatcherClosed("the server is shutting down"))
        for worker in self._workers:
            worker.join(timeout=5)

    # -- the worker ----------------------------------------------------------------------------------------
    def _next_batch(self) -> list[_Request[In, Out]] | None:
        """Block until a batch is due: the oldest request's wait is over, or its key has ``max_batch``
        requests queued.  Returns the batch (taken off the queue, FIFO within the key), or None when closed."""
        with self._cond:
            while True:
                if self._closed:
                    return None
                if not self._queue:
                    self._cond.wait()
                    continue
                oldest = self._queue[0]
                same = [r for r in self._queue if r.key == oldest.key]
                due = oldest.arrived + self.max_wait - time.monotonic()
                if len(same) >= self.max_batch or due <= 0:
                    batch = same[: self.max_batch]
                    taken = {id(r) for r in batch}
                    self._queue = deque(r for r in self._queue if id(r) not in taken)
                    return batch
                self._cond.wait(timeout=due)

    def _work(self) -> None:
        while (batch := self._next_batch()) is not None:
            live = [r for r in batch if r.future.set_running_or_notify_cancel()]  # drop timed-out requests
            if not live:
                continue
            with self._cond:  # workers count into one histogram
                self.stats.record(len(live))
            try:
                results = list(self.run_batch(live[0].key, [r.item for r in live]))
                if len(results) != len(live):
                    raise RuntimeError(f"run_batch returned {len(results)} results for {len(live)} items")
            except BaseException as exc:  # every waiter of this batch gets the error; the worker lives on
                for r in live:
                    r.future.set_exception(exc)
                continue
            for r, result in zip(live, results, strict=True):
                r.future.set_result(result)
