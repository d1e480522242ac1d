"""The one worker: every long piece of work in the GUI runs here.

A core job is a generator yielding :class:`~memoview.core.jobs.Progress`
(see :mod:`memoview.core.jobs`). The worker runs jobs one at a time on a
single background thread, because the model and the SQLite connection must
not be used from two threads at once (Anki's task manager does the same).
Progress, results, errors and cancellation come back to the UI thread as
queued Qt signals.

Each job gets a number. A job submitted with a ``key`` supersedes older jobs
with the same key: they are cancelled and their late results are dropped, so
a slow, stale result never overwrites a newer view (git-cola's diff widget).
Cancelling is a state, not an error: the job winds down and its partial
result is delivered through ``on_cancelled``.
"""

from __future__ import annotations

import queue
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Generator, Optional

from PySide6.QtCore import QObject, Qt, Signal, Slot

from memoview.core.jobs import CancelToken, Progress

JobFactory = Callable[[CancelToken], Generator[Progress, None, Any]]


@dataclass
class JobHandle:
    """What the UI keeps about a submitted job."""

    number: int
    label: str
    key: Optional[str]
    token: CancelToken
    on_result: Optional[Callable[[Any], None]] = None
    on_error: Optional[Callable[[BaseException, str], None]] = None
    on_cancelled: Optional[Callable[[Any], None]] = None
    on_progress: Optional[Callable[[Progress], None]] = None
    submitted_at: float = field(default_factory=time.monotonic)
    started_at: Optional[float] = None
    done: bool = False
    stale: bool = False

    def cancel(self) -> None:
        self.token.cancel()


class JobRunner(QObject):
    """Runs core generator jobs on one background thread; reports back through signals.

    Signals carry the job number first so listeners can ignore stale jobs.
    """

    job_started = Signal(int, str)  # number, label
    job_progress = Signal(int, object)  # number, Progress
    job_finished = Signal(int, object)  # number, result
    job_failed = Signal(int, object, str)  # number, exception, traceback text
    job_cancelled = Signal(int, object)  # number, partial result
    idle = Signal()

    # Internal: the worker never passes Python objects through a queued signal (PySide6 6.12 mis-counts
    # references of ``object`` arguments queued across threads and crashes the interpreter later).
    # It puts events on a thread-safe queue and emits an argument-less wake-up; the UI thread drains it.
    _wake = Signal()

    def __init__(self, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="memoview-worker")
        self._next = 1
        self._jobs: dict[int, JobHandle] = {}
        self._lock = threading.Lock()
        self._events: "queue.SimpleQueue[tuple[Any, ...]]" = queue.SimpleQueue()
        self._wake.connect(self._drain, Qt.ConnectionType.QueuedConnection)

    # ------------------------------------------------------------------ API
    def submit(
        self,
        factory: JobFactory,
        *,
        label: str = "",
        key: Optional[str] = None,
        on_result: Optional[Callable[[Any], None]] = None,
        on_error: Optional[Callable[[BaseException, str], None]] = None,
        on_cancelled: Optional[Callable[[Any], None]] = None,
        on_progress: Optional[Callable[[Progress], None]] = None,
    ) -> JobHandle:
        """Queue a job. ``factory(token)`` must return the generator; it is called on the worker thread,
        so even building the job (e.g. importing torch) never blocks the UI."""
        number = self._next
        self._next += 1
        handle = JobHandle(number, label, key, CancelToken(), on_result, on_error, on_cancelled, on_progress)
        with self._lock:
            if key is not None:
                for other in self._jobs.values():
                    if other.key == key and not other.done:
                        other.stale = True
                        other.token.cancel()
            self._jobs[number] = handle
        self._executor.submit(self._run, handle, factory)
        return handle

    def active(self) -> list[JobHandle]:
        with self._lock:
            return [h for h in self._jobs.values() if not h.done]

    def current(self) -> Optional[JobHandle]:
        """The job now running (or the oldest queued one)."""
        active = self.active()
        running = [h for h in active if h.started_at is not None]
        candidates = running or active
        return candidates[0] if candidates else None

    def cancel(self, number: Optional[int] = None) -> None:
        """Cancel one job, or every job not yet finished."""
        for handle in self.active():
            if number is None or handle.number == number:
                handle.cancel()

    def is_busy(self) -> bool:
        return bool(self.active())

    def shutdown(self, wait: bool = True) -> None:
        self.cancel()
        self._executor.shutdown(wait=wait, cancel_futures=True)

    # ------------------------------------------------------------------ worker thread
    def _post(self, *event: Any) -> None:
        self._events.put(event)
        try:
            self._wake.emit()
        except RuntimeError:  # the runner was deleted while the job ran (window closed)
            pass

    def _run(self, handle: JobHandle, factory: JobFactory) -> None:
        if handle.token.cancelled:
            self._post("result", handle.number, None, True)
            return
        self._post("started", handle.number)
        try:
            job = factory(handle.token)
            last_emit = 0.0
            last_message: Optional[str] = None
            while True:
                try:
                    event = next(job)
                except StopIteration as stop:
                    result = stop.value
                    break
                now = time.monotonic()
                # Throttle: the UI needs ~20 updates a second, not one per token.
                # A new phase announcement (no total, new message: "Dequantizing…") always passes: the step after
                # it may be a long silent library call, and a dropped one would leave a stale message up for minutes.
                announce = event.total is None and event.message != last_message
                if now - last_emit >= 0.05 or announce or (event.total is not None and event.done >= event.total):
                    last_message = event.message
                    last_emit = now
                    self._post("progress", handle.number, event)
        except BaseException as exc:  # noqa: BLE001 - everything is reported in the one dialog
            self._post("error", handle.number, exc, traceback.format_exc())
            return
        self._post("result", handle.number, result, handle.token.cancelled)

    # ------------------------------------------------------------------ UI thread
    @Slot()
    def _drain(self) -> None:
        while True:
            try:
                event = self._events.get_nowait()
            except queue.Empty:
                return
            kind, rest = event[0], event[1:]
            if kind == "started":
                self._on_started(*rest)
            elif kind == "progress":
                self._on_progress(*rest)
            elif kind == "result":
                self._on_result(*rest)
            elif kind == "error":
                self._on_error(*rest)

    def _handle(self, number: int) -> Optional[JobHandle]:
        with self._lock:
            return self._jobs.get(number)

    def _finish(self, number: int) -> None:
        with self._lock:
            handle = self._jobs.pop(number, None)
            if handle is not None:
                handle.done = True
            empty = not self._jobs
        if empty:
            self.idle.emit()

    def _on_started(self, number: int) -> None:
        handle = self._handle(number)
        if handle is None:
            return
        handle.started_at = time.monotonic()
        self.job_started.emit(number, handle.label)

    def _on_progress(self, number: int, event: Progress) -> None:
        handle = self._handle(number)
        if handle is None or handle.stale:
            return
        if handle.on_progress is not None:
            handle.on_progress(event)
        self.job_progress.emit(number, event)

    def _on_result(self, number: int, result: Any, was_cancelled: bool) -> None:
        handle = self._handle(number)
        self._finish(number)
        if handle is None or handle.stale:
            return  # superseded by a newer job with the same key: drop the late result
        if was_cancelled:
            if handle.on_cancelled is not None:
                handle.on_cancelled(result)
            self.job_cancelled.emit(number, result)
        else:
            if handle.on_result is not None:
                handle.on_result(result)
            self.job_finished.emit(number, result)

    def _on_error(self, number: int, exc: BaseException, details: str) -> None:
        handle = self._handle(number)
        self._finish(number)
        if handle is None or handle.stale:
            return
        if handle.on_error is not None:
            handle.on_error(exc, details)
        self.job_failed.emit(number, exc, details)


class LatestJob:
    """One background computation of a view in which only the newest request counts.

    The overview and a document's findings line both recompute after every change of the case; a request
    supersedes the one before it (the runner cancels a job with the same key), and a generation number
    drops any late result of an older request, or of a view already closed (``owner`` no longer valid).
    Without a runner (a view built on its own) the job runs in place, synchronously.
    """

    def __init__(self, owner: QObject, runner: Optional["JobRunner"], *, key: str, label: str,
                 on_result: Callable[[Any], None], on_cancelled: Callable[[], None],
                 on_error: Callable[[BaseException], None]) -> None:
        self.owner = owner
        self.runner = runner
        self.key = key
        self.label = label
        self.on_result = on_result
        self.on_cancelled = on_cancelled
        self.on_error = on_error
        self._generation = 0
        self._handle: Optional[JobHandle] = None

    @property
    def pending(self) -> bool:
        """A request is queued or running and its result has not landed."""
        return self._handle is not None

    @property
    def handle(self) -> Optional[JobHandle]:
        """The runner's handle of the request in flight (None when none is)."""
        return self._handle

    def request(self, factory: Callable[[Optional[CancelToken]], Generator[Progress, None, Any]]) -> None:
        from memoview.core.jobs import run_job

        self._generation += 1
        generation = self._generation
        if self.runner is None:
            self._land(generation, self.on_result, run_job(factory(None)))
            return
        self._handle = self.runner.submit(
            factory, label=self.label, key=self.key,
            on_result=lambda result: self._land(generation, self.on_result, result),
            on_cancelled=lambda _partial: self._land(generation, lambda _none: self.on_cancelled(), None),
            on_error=lambda exc, _details: self._land(generation, self.on_error, exc))

    def cancel(self) -> None:
        """Stop the request in flight (the view is closing); its result is dropped."""
        self._generation += 1
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _land(self, generation: int, callback: Callable[[Any], None], value: Any) -> None:
        import shiboken6

        if generation != self._generation or not shiboken6.isValid(self.owner):
            return  # a newer request is on its way, or the view is gone: this describes an older state
        self._handle = None
        callback(value)
