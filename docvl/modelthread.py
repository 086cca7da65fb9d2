"""The model's own thread: every batch of a run is generated there, while the scheduler goes on
rendering and journaling on the caller's thread."""

from __future__ import annotations

import os
import queue
import threading
from typing import Callable

from .raster import PageImage


class Batch:
    """One batch for the model thread: `records` or `error` once `done` is set. The scheduler waits
    on `done_r`, a pipe written when the batch ends, beside the raster workers' pipes."""

    def __init__(self, pages: list[tuple[int, PageImage]]):
        self.pages = pages  # (the document's number in the run, page)
        self.records: list[dict] | None = None
        self.error: BaseException | None = None
        self.done = threading.Event()
        self.done_r, self._done_w = os.pipe()

    def run(self, infer: Callable[[list[PageImage]], list[dict]]) -> None:
        try:
            self.records = infer([p for _, p in self.pages])
        except BaseException as e:  # handed to the scheduler thread, which raises it
            self.error = e
        finally:
            os.write(self._done_w, b"x")  # before done: once done, the scheduler may close the pipe
            self.done.set()

    def close(self) -> None:
        os.close(self.done_r)
        os.close(self._done_w)


class ModelThread:
    """The one thread that loads the model and runs every batch of a runner. One thread for all: torch
    keeps per-thread state that a thread per batch would rebuild every time (CUDA graph trees of
    --compile are recorded per thread; OpenMP starts a worker pool per thread)."""

    def __init__(self, infer: Callable[[list[PageImage]], list[dict]]):
        self._batches: queue.Queue = queue.Queue()
        self.thread = threading.Thread(target=self._serve, args=(infer,), name="docvl-model", daemon=True)
        self.thread.start()

    def _serve(self, infer) -> None:
        while (batch := self._batches.get()) is not None:
            batch.run(infer)

    def submit(self, batch: Batch) -> None:
        self._batches.put(batch)

    def stop(self) -> None:
        self._batches.put(None)
        self.thread.join()
