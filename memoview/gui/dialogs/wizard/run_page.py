"""Step 6: what will be sent, the disclosure reminder, Run, Cancel and progress."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWizardPage,
)

from memoview.gui import palette_colors
from memoview.gui.dialogs.wizard.methods import DISCLOSURE
from memoview.gui.dialogs.wizard.widgets import PlanView

if TYPE_CHECKING:
    from memoview.gui.dialogs.extraction_wizard import ExtractionWizard


class RunPage(QWizardPage):
    def __init__(self, wizard: "ExtractionWizard") -> None:
        super().__init__()
        self.w = wizard
        self.setTitle("6. Run")
        self.setSubTitle("Check exactly what will be sent, then press Run.")
        self.summary = QLabel("")
        self.summary.setObjectName("runSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.plan = PlanView("runPlan")
        plan_scroll = QScrollArea()
        plan_scroll.setObjectName("runPlanScroll")
        plan_scroll.setWidgetResizable(True)
        plan_scroll.setFrameShape(QFrame.Shape.NoFrame)
        plan_scroll.setWidget(self.plan)
        self.notice = QLabel(DISCLOSURE)
        self.notice.setObjectName("wizardDisclosure")
        self.notice.setWordWrap(True)
        c = palette_colors.colors()
        self.notice.setStyleSheet(f"background: {c.notice_bg}; color: {c.notice_fg}; padding: 8px;")
        self.run_button = QPushButton("Run")
        self.run_button.setObjectName("runButton")
        self.run_button.setEnabled(False)  # offered once what will be sent is shown
        self.run_button.clicked.connect(self.w.run_now)
        self.cancel_button = QPushButton("Cancel run")
        self.cancel_button.setObjectName("cancelRun")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.w.cancel_run)
        self.progress = QProgressBar()
        self.progress.setObjectName("runProgress")
        self.progress.setAccessibleName("Run progress")
        self.progress.setVisible(False)
        self.status = QLabel("")
        self.status.setObjectName("runStatus")
        # One line that never changes the page's layout: progress messages arrive for every sweep window,
        # and re-laying out the page (with the rich-text plan above) each time would stall the UI.
        self.status.setWordWrap(False)
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.status.setMinimumHeight(self.status.sizeHint().height())
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.status, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(plan_scroll, 1)
        layout.addWidget(self.notice)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)

    def initializePage(self) -> None:  # noqa: N802 - Qt name
        self.summary.setText(self.w.summary_html())
        self.w.refresh_plan()

    def isComplete(self) -> bool:  # noqa: N802 - Qt name
        return self.w.result_attempt is not None
