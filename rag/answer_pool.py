"""The answers a server runs at once: a bounded pool of threads, each answer's
items handed to the asyncio loop that serves its request.

`AnswerPool.submit` returns None when the pool is full or the wait would be
long, so the server says busy at once (503 with `Retry-After`) instead of
making a client wait; a `Job` whose client left stops between sentences.

Deliberately not done here: HTTP (rag/serve.py), or answering itself
(rag/pipeline.py).
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from .pipeline import Pipeline

END = object()  # after the last item of a job: the answer is complete


class Job:
    """One answer run on a pool thread, its items handed to the event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.items: asyncio.Queue = asyncio.Queue()
        self.cancelled = threading.Event()

    def _put(self, item) -> None:
        try:
            self.loop.call_soon_threadsafe(self.items.put_nowait, item)
        except RuntimeError:  # the loop has closed: the server stopped
            self.cancelled.set()

    def run(self, pipe: Pipeline, question: str, history: list[str]) -> None:
        if self.cancelled.is_set():  # the client left while this waited its turn
            return self._put(END)
        items = pipe.ask_stream(question, history=history)
        try:
            for item in items:
                self._put(item)
                if self.cancelled.is_set():
                    break
        except Exception as e:  # handed to the request, which says what it can
            self._put(e)
        finally:
            items.close()  # a generator left open keeps the model's lock until collected
        self._put(END)

    def cancel(self) -> None:
        self.cancelled.set()


class AnswerPool:
    """At most `workers` answers at once and `queue` more waiting, and no more
    waiting than would take about `max_wait` seconds at the recent pace (a slow
    or busy machine gets a shorter queue); `submit` returns None beyond that,
    so the caller can say busy at once instead of making the client wait."""

    def __init__(self, pipe: Pipeline, workers: int = 2, queue: int = 16, max_wait: float = 8.0):
        self.pipe = pipe
        self.workers = workers
        self.limit = workers + queue
        self.max_wait = max_wait
        self.executor = ThreadPoolExecutor(workers, thread_name_prefix="answer")
        self._lock = threading.Lock()
        self.pending = 0
        self.mean_s = 1.0  # recent answer time, for Retry-After

    def submit(self, question: str, history: list[str]) -> Job | None:
        with self._lock:
            ahead = max(0, self.pending - self.workers + 1)  # answers to finish before this one starts
            if self.pending >= self.limit or ahead / self.workers * self.mean_s > self.max_wait:
                return None
            self.pending += 1
        job = Job(asyncio.get_running_loop())
        self.executor.submit(self._run, job, question, history)
        return job

    def _run(self, job: Job, question: str, history: list[str]) -> None:
        started = time.perf_counter()
        try:
            job.run(self.pipe, question, history)
        finally:
            with self._lock:
                self.pending -= 1
                self.mean_s = 0.8 * self.mean_s + 0.2 * (time.perf_counter() - started)

    def retry_after(self) -> int:
        """Seconds until a slot is likely free: the queue ahead, at the recent pace."""
        with self._lock:
            return max(1, min(60, math.ceil(self.pending / self.workers * self.mean_s)))

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
