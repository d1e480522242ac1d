"""Long work as generators.

A job is a generator that yields :class:`Progress` events and returns its
result. The GUI's single worker, the CLI's terminal progress bar and the
tests all drive the same generator. Cancelling is a state (the token is
set, the job winds down and returns what it finished), not an error.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable, Generator, Optional, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Progress:
    done: float
    total: Optional[float]
    message: str = ""

    @property
    def fraction(self) -> Optional[float]:
        if not self.total:
            return None
        return max(0.0, min(1.0, self.done / self.total))


Job = Generator[Progress, None, T]


class CancelToken:
    """Thread-safe flag checked by long loops (and by generation, between tokens)."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def __bool__(self) -> bool:  # pragma: no cover - avoid accidental truthiness
        raise TypeError("use token.cancelled")


def run_job(job: "Job[T]", on_progress: Optional[Callable[[Progress], None]] = None) -> T:
    """Drive a job to completion, forwarding progress; return its result."""
    while True:
        try:
            event = next(job)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        if on_progress is not None:
            on_progress(event)
