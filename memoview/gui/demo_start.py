"""`memoview demo` in the desktop app: the window first, everything slow in the background.

The window opens at once. Then, on the one worker and in this order: the
demo corpus is imported (the case opens and its documents can be browsed as
soon as that is done, in a second or two), the demo model is assembled from
its package and fingerprinted (first run only), and the model is opened so
the first attempt starts without waiting. A panel on the Start page shows a
progress bar and an estimate that says what it is based on (see
memoview.core.models.open_estimate); with ``--run`` the demo protocol follows,
its progress shown in the same panel while the user reads the documents.

The one hook to the model machinery is :func:`open_model_job`: it opens the
registered model through the GUI's model cache, so a later switch to another
engine or a session API changes that function only.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Optional

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QLabel, QProgressBar, QVBoxLayout, QWidget

from memoview.core.jobs import CancelToken, Job, Progress

TICK_MS = 500


def open_model_job(window: Any, model_id: int, token: CancelToken) -> Job[Any]:
    """Open (or reuse) the registered model on the worker, into the window's model cache."""
    from memoview.gui.engine import load_model_job

    return (yield from load_model_job(window.case, window.loaded_models, model_id, token))


class DemoPanel(QWidget):
    """Title, what is happening, a progress bar and the estimate with its basis."""

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("demoPanel")
        self.setStyleSheet("QWidget#demoPanel { background: palette(alternate-base); border: 1px solid palette(mid);"
                           " border-radius: 4px; }")
        self.title = QLabel("<b>Getting the demo ready</b>")
        self.step = QLabel("")
        self.step.setObjectName("demoStep")
        self.step.setWordWrap(True)
        self.step.setMinimumHeight(self.step.fontMetrics().lineSpacing() * 3)  # wrapped text never clipped
        self.bar = QProgressBar()
        self.bar.setObjectName("demoProgress")
        self.bar.setTextVisible(True)
        self.bar.setMinimumWidth(420)
        self.elapsed = QLabel("")
        self.elapsed.setObjectName("demoElapsed")
        self.estimate = QLabel("")
        self.estimate.setObjectName("demoEstimate")
        self.estimate.setWordWrap(True)
        self.estimate.setStyleSheet("color: palette(placeholder-text);")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        for w in (self.title, self.step, self.bar, self.elapsed, self.estimate):
            layout.addWidget(w)

    def set_step(self, text: str) -> None:
        self.step.setText(text)

    def set_fraction(self, fraction: Optional[float], text: str = "") -> None:
        if fraction is None:
            self.bar.setRange(0, 0)  # busy: no honest fraction to show
        else:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(max(0.0, min(1.0, fraction)) * 1000))
        self.bar.setFormat(text or "%p%")


class DemoStarter(QObject):
    """Runs the demo's background steps for one window (kept as ``window.demo_starter``)."""

    def __init__(self, window: Any, case_path: Optional[Path] = None, run_protocol: bool = False) -> None:
        super().__init__(window)
        from memoview.core.demo import demo_case_path

        self.window = window
        self.case_path = Path(case_path) if case_path else demo_case_path()
        self.run_protocol = run_protocol
        self.state = "starting"  # starting | documents | model | opening | ready | protocol | done | failed
        self.panel = DemoPanel()
        self.estimate: Any = None
        self.started_at = 0.0
        self.model_seconds: Optional[float] = None
        self.protocol_handle: Any = None
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        layout = window.start_page.layout()
        layout.insertWidget(1, self.panel)
        self.panel.show()  # added after the window was shown: a new child is hidden until shown
        window.tabs.setCurrentWidget(window.start_page)

    # -------------------------------------------------------------------- steps
    def start(self) -> None:
        from memoview.core.demo import prepare_demo_case

        self.state = "documents"
        self.panel.set_step("Importing the demo corpus into the demo case…")
        self.panel.set_fraction(0.0)
        path = self.case_path
        self.window.submit(lambda token: prepare_demo_case(path, with_model=False, cancel=token),
                           label="Preparing the demo case", on_result=self._documents_ready,
                           on_progress=self._job_progress, on_error=self._failed)

    def _documents_ready(self, result: Any) -> None:
        if not self.window.open_case(result.case_path):
            self._finish("failed", "The demo case is already open in another memoview window, or could not be "
                         "opened; see the message in the status bar.")
            return
        models = self.window.case.models()
        if models:
            self._open_model(models[0])
            return
        from memoview.core.demo import add_demo_model

        self.state = "model"
        self.panel.set_step("Documents ready: browse them in the case tree on the left. Now assembling the demo "
                            "model from its package and fingerprinting it (first run only)…")
        self.panel.set_fraction(None, "assembling and fingerprinting")
        self.panel.estimate.setText("")
        case = self.window.case
        self.window.submit(lambda token: add_demo_model(case, cancel=token), label="Preparing the demo model",
                           on_result=self._model_registered, on_progress=self._job_progress, on_error=self._failed)

    def _model_registered(self, path: Any) -> None:
        if path is None or self.window.case is None:
            self._finish("failed", "Preparing the demo model was cancelled.")
            return
        self.window.refresh()
        self._open_model(self.window.case.models()[0])

    def _open_model(self, info: Any) -> None:
        from memoview.core.models.open_estimate import estimate_open

        self.state = "opening"
        self.estimate = estimate_open(info)
        self.started_at = time.monotonic()
        self.panel.set_step("Documents ready: browse them in the case tree on the left. "
                            f"Opening the demo model in the background ({self.estimate.size_mb:.0f} MB)…")
        self.panel.estimate.setText(self.estimate.describe())
        self._tick()
        self.timer.start()
        model_id = int(info.id or 0)
        window = self.window
        self.window.submit(lambda token: open_model_job(window, model_id, token), label="Opening the demo model",
                           on_result=self._model_open, on_progress=self._job_progress, on_error=self._failed)

    def _model_open(self, loaded: Any) -> None:
        self.timer.stop()
        if loaded is None:
            self._finish("failed", "Opening the demo model was cancelled.")
            return
        from memoview.core.models.open_estimate import format_duration, record_open

        self.model_seconds = time.monotonic() - self.started_at
        record_open(self.estimate, self.model_seconds)
        ready = f"The demo model is open (took {format_duration(self.model_seconds)})."
        if not self.run_protocol:
            self._finish("ready", ready + " Run the demo protocol with the button below, or your own extraction "
                         "with Case ▸ Run extraction (Ctrl+R).")
            return
        handle = self.window.run_demo_protocol()
        if handle is None:
            self._finish("ready", ready)
            return
        self.state = "protocol"
        self.protocol_handle = handle
        self.panel.title.setText("<b>Running the demo protocol</b>")
        self.panel.elapsed.setText("")
        self.panel.set_step(ready + " Running the demo protocol: every attempt is recorded in the case. "
                            "You can read the documents meanwhile; the attempts appear when it finishes.")
        self.panel.set_fraction(None, "starting")
        self.panel.estimate.setText("")
        self.window.runner.job_progress.connect(self._protocol_progress)
        self.window.runner.job_finished.connect(self._protocol_done)
        self.window.runner.job_failed.connect(self._protocol_done)
        self.window.runner.job_cancelled.connect(self._protocol_done)

    def _protocol_progress(self, number: int, event: Progress) -> None:
        if self.protocol_handle is None or number != self.protocol_handle.number:
            return
        self.panel.set_fraction(event.fraction, f"{event.done} of {event.total} attempts" if event.total else "")
        if event.message:
            self.panel.estimate.setText(self._describe_step(event.message))

    def _protocol_done(self, number: int, *_rest: Any) -> None:
        if self.protocol_handle is None or number != self.protocol_handle.number:
            return
        self.protocol_handle = None
        self._finish("done", "The demo protocol has finished. Its attempts are in the case tree; open one to "
                     "compare output and source, or export an exhibit (Ctrl+E).")

    # -------------------------------------------------------------------- display
    def _describe_step(self, message: str) -> str:
        """The campaign reports steps as keys (``3:sweep:doc4:...``); say them in words."""
        import re

        match = re.match(r"^\d+:(\w+):doc(\d+)\b", message)
        if match is None or self.window.case is None:
            return message
        method = {"prefix": "opening continuation", "sweep": "whole-work sweep", "pz": "exact-continuation "
                  "probability", "membership": "membership signals", "prompt": "free prompt"}.get(match[1], match[1])
        try:
            title = self.window.case.document(int(match[2])).title
        except Exception:  # noqa: BLE001 - a label only; never fail the run over it
            return message
        return f"Now: {method} on “{title}”"

    def _job_progress(self, event: Progress) -> None:
        if self.state == "opening":
            self.panel.estimate.setText(f"{self.estimate.describe()}\nNow: {event.message}" if event.message
                                        else self.estimate.describe())
            return
        self.panel.set_fraction(event.fraction, event.message if event.fraction is None else "")
        if event.message and self.state == "model":
            self.panel.estimate.setText(event.message)

    def _tick(self) -> None:
        """Elapsed time against the estimate; past it, say so instead of pretending to be nearly done."""
        if self.state != "opening" or self.estimate is None:
            return
        from memoview.core.models.open_estimate import format_duration

        elapsed = time.monotonic() - self.started_at
        if elapsed <= self.estimate.seconds:
            self.panel.set_fraction(elapsed / max(self.estimate.seconds, 0.1), "%p% of the estimated time")
            self.panel.elapsed.setText(f"{format_duration(elapsed)} elapsed "
                                       f"(estimate: {format_duration(self.estimate.seconds)})")
        else:  # a busy bar shows no text: the label says it
            self.panel.set_fraction(None)
            self.panel.elapsed.setText(f"{format_duration(elapsed)} elapsed: longer than estimated "
                                       f"({format_duration(self.estimate.seconds)}), still working")

    def _failed(self, exc: BaseException, details: str) -> None:
        from memoview.gui.dialogs.errors import describe

        self.timer.stop()
        message, hint = describe(exc)
        self._finish("failed", f"{message} {hint}".strip())
        self.window.show_error(exc, details)

    def _finish(self, state: str, text: str) -> None:
        self.state = state
        self.timer.stop()
        self.panel.title.setText({"ready": "<b>The demo is ready</b>", "done": "<b>The demo protocol has run</b>"}
                                 .get(state, "<b>The demo could not be prepared</b>"))
        self.panel.set_step(text)
        self.panel.elapsed.setText("")
        self.panel.set_fraction(1.0 if state in ("ready", "done") else 0.0,
                                "ready" if state in ("ready", "done") else "stopped")
        if state != "opening":
            first = self.estimate is not None and self.estimate.kind == "gguf-first"
            self.panel.estimate.setText("Next time the demo model opens faster: it is now cached (and verified "
                                        "before each use)." if state == "ready" and first else "")


def start_demo(window: Any, case_path: Optional[Path] = None, run_protocol: bool = False) -> DemoStarter:
    """Attach the demo steps to a shown window and start them; returns the starter (also ``window.demo_starter``)."""
    starter = DemoStarter(window, case_path, run_protocol)
    window.demo_starter = starter
    starter.start()
    return starter


def run_demo_gui(case_path: Optional[Path] = None, run_protocol: bool = False) -> int:
    """``memoview demo`` (GUI): show the window now, prepare everything in the background."""
    from memoview.core.demo import demo_case_path
    from memoview.gui.app import run

    return run(Path(case_path) if case_path else demo_case_path(),
               on_window=lambda window: start_demo(window, case_path, run_protocol), open_case=False)
