"""The status bar: the open case's summary on the left; the running job's label, progress and Cancel.

The progress widgets appear only for jobs that last longer than ``PROGRESS_DELAY_MS``, so quick jobs
do not make the window flicker. They follow the worker's signals (``gui/jobs.py::JobRunner``).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton, QStatusBar

from memoview.core.jobs import Progress
from memoview.gui.jobs import JobRunner
from memoview.gui.wording import plural

PROGRESS_DELAY_MS = 500  # the progress bar appears only for jobs that last longer than this
NO_CASE = "No case open"


class StatusLine(QObject):
    """The widgets of the status bar, wired to the window's one worker."""

    def __init__(self, bar: QStatusBar, runner: JobRunner) -> None:
        super().__init__(bar)
        self.runner = runner
        self.job_label = QLabel("")
        self.job_label.setObjectName("jobLabel")
        self.progress = QProgressBar()
        self.progress.setObjectName("jobProgress")
        self.progress.setMaximumWidth(260)
        self.progress.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelJob")
        self.cancel_button.setToolTip("Stop the running job. What finished so far stays recorded.")
        self.cancel_button.clicked.connect(self.cancel_jobs)
        self.case_label = QLabel(NO_CASE)
        self.case_label.setObjectName("caseLabel")
        bar.addWidget(self.case_label, 1)
        bar.addPermanentWidget(self.job_label)
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.cancel_button)
        self._set_progress_visible(False)
        self._progress_timer = QTimer(self)
        self._progress_timer.setSingleShot(True)
        self._progress_timer.timeout.connect(self._maybe_show_progress)
        runner.job_started.connect(self._job_started)
        runner.job_progress.connect(self._job_progress)
        runner.idle.connect(self._jobs_idle)

    def show_case(self, case: Any) -> None:
        """The case's path and counts (``case`` None: no case open)."""
        if case is None:
            self.case_label.setText(NO_CASE)
            return
        info = case.info()["counts"]
        self.case_label.setText(
            f"{case.path}  ·  {plural(info['documents'], 'document')}, {plural(info['models'], 'model')}, "
            f"{plural(info['attempts'], 'attempt')} recorded"
        )

    def cancel_jobs(self) -> None:
        self.runner.cancel()
        self.job_label.setText("Cancelling… (what finished so far stays recorded)")

    def _set_progress_visible(self, visible: bool) -> None:
        self.progress.setVisible(visible)
        self.cancel_button.setVisible(visible)
        self.job_label.setVisible(visible)

    def _job_started(self, number: int, label: str) -> None:
        self.progress.setRange(0, 0)
        self.job_label.setText(label)
        if not self.progress.isVisible():
            self._progress_timer.start(PROGRESS_DELAY_MS)

    def _maybe_show_progress(self) -> None:
        if self.runner.is_busy():
            self._set_progress_visible(True)

    def _job_progress(self, number: int, event: Progress) -> None:
        fraction = event.fraction
        if fraction is None:
            self.progress.setRange(0, 0)
        else:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(fraction * 1000))
        handle = self.runner.current()
        label = handle.label if handle is not None else ""
        self.job_label.setText(f"{label}: {event.message}" if event.message else label)

    def _jobs_idle(self) -> None:
        self._progress_timer.stop()
        self._set_progress_visible(False)
        self.job_label.setText("")
