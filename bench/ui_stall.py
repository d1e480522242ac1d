"""How long the UI event loop stalls while the one worker runs a job, against a bare Qt timer.

A 20 ms QTimer on the UI thread records the gaps between its ticks; a gap well
over 20 ms is the time the window could not repaint or react. The baseline is
the same timer with nothing else running, measured in the same run, so the
ratios say what a busy worker adds on this machine (a loaded machine
stretches both). Jobs measured:

- ``python``: CPU-bound pure Python that holds the GIL between progress yields
  (the worst case for a Python worker thread);
- ``torch``: matrix products in torch (native code that releases the GIL),
  the shape of a model forward pass.

    .venv/bin/python bench/ui_stall.py [--seconds 1.5] [--runs 3]

Goal: the longest stall stays under ~100 ms (a window that feels responsive).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable, Generator

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from memoview.core.jobs import CancelToken, Progress  # noqa: E402
from memoview.gui.jobs import JobRunner  # noqa: E402


class TickMonitor:
    """A 20 ms UI timer that records the gaps between its ticks."""

    def __init__(self, interval_ms: int = 20) -> None:
        self.gaps: list[int] = []
        self._clock = QElapsedTimer()
        self._timer = QTimer()
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self._last = 0

    def _tick(self) -> None:
        now = self._clock.elapsed()
        self.gaps.append(now - self._last)
        self._last = now

    def __enter__(self) -> "TickMonitor":
        self._clock.start()
        self._last = self._clock.elapsed()
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.stop()

    @property
    def longest_stall_ms(self) -> int:
        """The longest gap, leaving out the first (it includes the start-up of the timer)."""
        return max(self.gaps[1:], default=0)


def python_job(seconds: float) -> Callable[[CancelToken], Generator[Progress, None, Any]]:
    def job(token: CancelToken) -> Generator[Progress, None, Any]:
        total = 0
        end = time.monotonic() + seconds
        while time.monotonic() < end and not token.cancelled:
            for i in range(20000):
                total += i * i
            yield Progress(0, None, "")
        return total
    return job


def torch_job(seconds: float) -> Callable[[CancelToken], Generator[Progress, None, Any]]:
    def job(token: CancelToken) -> Generator[Progress, None, Any]:
        import torch

        a = torch.randn(384, 384)
        end = time.monotonic() + seconds
        n = 0
        while time.monotonic() < end and not token.cancelled:
            a = torch.tanh(a @ a)
            n += 1
            yield Progress(n, None, "")
        return n
    return job


def measure(seconds: float, job: Callable[..., Any] | None) -> TickMonitor:
    """Run the UI event loop (as the app does, QEventLoop.exec) while the timer ticks, until the job is
    done (or, for the baseline, for ``seconds``)."""
    runner = JobRunner()
    loop = QEventLoop()
    with TickMonitor() as ticks:
        if job is None:
            QTimer.singleShot(int(seconds * 1000), loop.quit)
        else:
            runner.submit(job, on_result=lambda _result: loop.quit())
        loop.exec()
    runner.shutdown()
    return ticks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=1.5)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-torch", action="store_true", help="skip the torch job")
    args = parser.parse_args()
    _app = QApplication.instance() or QApplication(sys.argv[:1])  # noqa: F841 - kept alive for the run
    kinds: list[tuple[str, Callable[..., Any] | None]] = [("bare timer (baseline)", None),
                                                          ("python job", python_job(args.seconds))]
    if not args.no_torch:
        kinds.append(("torch job", torch_job(args.seconds)))
    results: dict[str, list[TickMonitor]] = {name: [] for name, _ in kinds}
    for _ in range(args.runs):
        for name, job in kinds:
            results[name].append(measure(args.seconds, job))
    base = statistics.median(t.longest_stall_ms for t in results[kinds[0][0]]) or 1
    print(f"{'':24} {'longest stall (ms, median of runs)':>36} {'ticks/s':>8} {'ratio':>7}")
    for name, _ in kinds:
        stall = statistics.median(t.longest_stall_ms for t in results[name])
        rate = statistics.median(len(t.gaps) / max(sum(t.gaps) / 1000, 1e-9) for t in results[name])
        print(f"{name:24} {stall:>36.0f} {rate:>8.1f} {stall / base:>6.1f}x")


if __name__ == "__main__":
    main()
