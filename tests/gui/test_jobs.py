"""The one worker: results, errors, cancel, stale results, progress bar delay, responsiveness."""

from __future__ import annotations

import time

import pytest

from memoview.core.errors import ModelError
from memoview.core.jobs import Progress
from memoview.gui.app import create_main_window
from memoview.gui.jobs import JobRunner
from tests.gui.support import TickMonitor

pytestmark = pytest.mark.gui


def slow_job(token, steps: int = 20, delay: float = 0.02, value: str = "done"):
    done = 0
    for i in range(steps):
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


def test_progress_bar_only_for_jobs_longer_than_half_a_second(qtbot, tmp_path) -> None:
    win = create_main_window(None)
    qtbot.addWidget(win)
    win.show()
    done = []
    win.submit(lambda t: slow_job(t, 5, 0.02), label="quick", on_result=done.append)
    qtbot.waitUntil(lambda: bool(done), timeout=5000)
    qtbot.wait(600)
    assert not win.progress.isVisible()
    win.submit(lambda t: slow_job(t, 60, 0.02), label="long", on_result=done.append)
    qtbot.waitUntil(lambda: win.progress.isVisible(), timeout=3000)
    assert win.cancel_button.isVisible() and "long" in win.job_label.text()
    qtbot.waitUntil(lambda: len(done) == 2, timeout=5000)
    qtbot.waitUntil(lambda: not win.progress.isVisible(), timeout=2000)
    win.shutdown()


def test_ui_timer_never_stalls_during_a_long_job(qtbot) -> None:
    """A 20 ms timer keeps ticking while the worker is busy (CPU-bound Python with progress)."""
    runner = JobRunner()

    def busy(token):
        total = 0
        end = time.monotonic() + 1.5
        while time.monotonic() < end and not token.cancelled:
            for i in range(20000):
                total += i * i
            yield Progress(time.monotonic(), None, "")
        return total

    results = []
    with TickMonitor() as ticks:
        runner.submit(busy, on_result=results.append)
        qtbot.waitUntil(lambda: bool(results), timeout=10000)
    assert len(ticks.gaps) > 30
    assert ticks.longest_stall_ms < 100, f"UI stalled for {ticks.longest_stall_ms} ms"
    runner.shutdown()
