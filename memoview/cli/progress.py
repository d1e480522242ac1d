"""A terminal progress bar for core jobs (stderr, so stdout stays machine-readable)."""

from __future__ import annotations

import sys
import time
from typing import Optional, TextIO, TypeVar

from memoview.core.jobs import Job, Progress, run_job

T = TypeVar("T")


class TerminalProgress:
    def __init__(self, stream: Optional[TextIO] = None, width: int = 30, min_interval: float = 0.1) -> None:
        self.stream = stream or sys.stderr
        self.width = width
        self.min_interval = min_interval
        self._last = 0.0
        self._shown = False

    def __call__(self, event: Progress) -> None:
        now = time.monotonic()
        done = event.total is not None and event.done >= event.total
        if now - self._last < self.min_interval and not done:
            return
        self._last = now
        fraction = event.fraction
        if fraction is None:
            line = f"{event.message} ({event.done:g})"
        else:
            filled = int(round(fraction * self.width))
            bar = "#" * filled + "-" * (self.width - filled)
            line = f"[{bar}] {fraction * 100:5.1f}% {event.message}"
        if self.stream.isatty():
            self.stream.write("\r" + line[:120].ljust(120))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
        self._shown = True

    def finish(self) -> None:
        if self._shown and self.stream.isatty():
            self.stream.write("\n")
            self.stream.flush()


def run_with_progress(job: "Job[T]", quiet: bool = False) -> T:
    if quiet:
        return run_job(job)
    bar = TerminalProgress()
    try:
        return run_job(job, bar)
    finally:
        bar.finish()
