"""Progress on stderr, only when stderr is a terminal (never in logs or pipes). Rich honours NO_COLOR."""

from __future__ import annotations

import sys


class _Quiet:
    """No bar: lines go straight to stderr."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def pages(self, n: int) -> None:
        pass

    def document(self) -> None:
        pass

    def print(self, line: str) -> None:
        print(line, file=sys.stderr, flush=True)


class _Bar(_Quiet):
    """Documents and pages done, and the rate; inputs are listed lazily, so there is no total."""

    def __init__(self):
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.console = Console(stderr=True, highlight=False)
        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                                 console=self.console, transient=True)
        self.task = self.progress.add_task("", total=None)
        self.docs = self.pages_done = 0
        self.started = None

    def __enter__(self):
        import time

        self.started = time.monotonic()
        self.progress.start()
        self._update()
        return self

    def __exit__(self, *exc):
        self.progress.stop()
        return False

    def _update(self) -> None:
        import time

        rate = self.pages_done / max(1e-9, time.monotonic() - self.started)
        self.progress.update(self.task, description=f"{self.docs} documents, {self.pages_done} pages, "
                                                    f"{rate:.2f} pages/s")

    def pages(self, n: int) -> None:
        self.pages_done += n
        self._update()

    def document(self) -> None:
        self.docs += 1
        self._update()

    def print(self, line: str) -> None:
        # Through the console, so the line lands above the bar and stays plain text.
        self.console.print(line, markup=False, soft_wrap=True)


def progress_bar(enabled: bool):
    return _Bar() if enabled else _Quiet()
