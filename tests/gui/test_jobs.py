"""The one worker: results, errors, cancel, stale results, progress bar delay, responsiveness.

How long the UI may stall during a job is a measurement, not a test: bench/ui_stall.py.
"""

from __future__ import annotations

import threading
import time

import pytest
from PySide6.QtCore import QTimer

from memoview.core.errors import ModelError
from memoview.core.jobs import Progress
from memoview.gui.jobs import JobRunner

pytestmark = pytest.mark.gui


def slow_job(token, steps: int = 20, delay: float = 0.02, value: str = "done"):
    done = 0
    for _ in range(steps):
        if token.cancelled:
            return f"partial {done}"
        time.sleep(delay)
        done += 1
        yield Progress(done, steps, f"step {done}")
    return value


def test_result_progress_and_error(qtbot) -> None:
    runner = JobRunner()
    results, progress, errors = [], [], []
    runner.submit(lambda t: slow_job(t, 5, 0.06), on_result=results.append, on_progress=progress.append)
    qtbot.waitUntil(lambda: results == ["done"], timeout=5000)
    assert progress and progress[-1].done == 5

    def failing(token):
        yield Progress(0, 1, "")
        raise ModelError("The model folder has no weights.", "Pick another folder.")

    runner.submit(failing, on_error=lambda exc, details: errors.append((exc, details)))
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert isinstance(errors[0][0], ModelError) and "Traceback" in errors[0][1]
    runner.shutdown()


def test_cancel_delivers_partial_result(qtbot) -> None:
    runner = JobRunner()
    cancelled, results = [], []
    handle = runner.submit(lambda t: slow_job(t, 200, 0.01), on_result=results.append,
                           on_cancelled=cancelled.append)
    qtbot.waitUntil(lambda: handle.started_at is not None, timeout=5000)
    qtbot.wait(100)
    runner.cancel()
    qtbot.waitUntil(lambda: bool(cancelled), timeout=5000)
    assert cancelled[0].startswith("partial ") and not results
    runner.shutdown()


def test_stale_result_is_dropped(qtbot) -> None:
    runner = JobRunner()
    seen = []
    runner.submit(lambda t: slow_job(t, 10, 0.03, "old"), key="view", on_result=seen.append,
                  on_cancelled=seen.append)
    runner.submit(lambda t: slow_job(t, 2, 0.01, "new"), key="view", on_result=seen.append)
    qtbot.waitUntil(lambda: "new" in seen, timeout=5000)
    qtbot.wait(100)
    assert seen == ["new"]  # the superseded job was cancelled and its late result dropped
    runner.shutdown()


def test_progress_bar_only_for_jobs_longer_than_half_a_second(qtbot, make_window) -> None:
    win = make_window(None)
    done = []
    win.submit(lambda t: slow_job(t, 5, 0.02), label="quick", on_result=done.append)
    qtbot.waitUntil(lambda: bool(done), timeout=5000)
    qtbot.wait(600)
    status = win.status_line
    assert not status.progress.isVisible()
    win.submit(lambda t: slow_job(t, 60, 0.02), label="long", on_result=done.append)
    qtbot.waitUntil(lambda: status.progress.isVisible(), timeout=3000)
    assert status.cancel_button.isVisible() and "long" in status.job_label.text()
    qtbot.waitUntil(lambda: len(done) == 2, timeout=5000)
    qtbot.waitUntil(lambda: not status.progress.isVisible(), timeout=2000)


def test_the_ui_thread_runs_while_a_cpu_bound_job_is_busy(qtbot) -> None:
    """A CPU-bound job (pure Python, holding the GIL between yields) runs on the worker thread, and
    the UI thread still gets to run meanwhile: the job spins until a UI timer's callback tells it to
    stop. Were the UI blocked by the job, the callback could never run and the job would give up
    after its safety cap and report that. No clock is asserted: only who ran, and in which order."""
    runner = JobRunner()
    ui_ran = threading.Event()
    job_thread: list[str] = []

    def busy(token):
        job_thread.append(threading.current_thread().name)
        total, cap = 0, time.monotonic() + 60
        while not ui_ran.is_set():
            if time.monotonic() > cap or token.cancelled:
                return "the UI never ran while the job was busy"
            for i in range(20000):
                total += i * i
            yield Progress(total, None, "")
        return "the UI ran while the job was busy"

    results = []
    timer = QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(ui_ran.set)
    handle = runner.submit(busy, on_result=results.append)
    qtbot.waitUntil(lambda: handle.started_at is not None, timeout=10000)
    timer.start(50)  # the callback runs on the UI thread, while the job is busy
    qtbot.waitUntil(lambda: bool(results), timeout=90000)
    assert results == ["the UI ran while the job was busy"]
    assert job_thread and job_thread[0] != threading.main_thread().name
    runner.shutdown()
