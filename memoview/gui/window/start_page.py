"""The Start page (the first steps of a matter, the demo-protocol button) and the disclosure notice.

Both re-colour themselves for the current palette in ``refresh_theme`` (called when the palette
switches). ``gui/demo_start.py`` adds its progress panel to the Start page's layout.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from memoview.gui.palette_colors import colors

DISCLOSURE_NOTICE = (
    "Every attempt you run is recorded in the case file, with its prompt, settings and output, "
    "and may be disclosable to the other side. Nothing can be deleted."
)

START_HTML = (
    "<h2>memoview</h2>"
    "<p>An evidence explorer for memorization in language models.</p>"
    "<ol>"
    "<li><b>Create or open a case</b> (File ▸ New case, Ctrl+N; Open case, Ctrl+O). One case file holds one matter.</li>"
    "<li><b>Import the works</b> you want to test, and negative controls (Ctrl+I, or drag files here; "
    "right-click a document to mark it as a control).</li>"
    "<li><b>Open the model</b> (Ctrl+M, or drag a model folder or .gguf file here). Its files are fingerprinted.</li>"
    "<li><b>Run an extraction</b> (Ctrl+R): the wizard explains each method and its literature default.</li>"
    "<li><b>Compare</b> output and source side by side, then <b>export an exhibit</b> (Ctrl+E).</li>"
    "<li><b>Verify</b> before you file (Case ▸ Verify case fully): model files re-hashed, greedy attempts "
    "re-run token for token.</li>"
    "</ol>"
    "<p style='color:{secondary}'>Every attempt is recorded, failures included; an exhibit lists all of them.</p>"
)


class DisclosureNotice(QLabel):
    """The banner above the tabs: every attempt is recorded and may be disclosable."""

    def __init__(self) -> None:
        super().__init__(DISCLOSURE_NOTICE)
        self.setObjectName("disclosureNotice")
        self.setWordWrap(True)
        self.refresh_theme()

    def refresh_theme(self) -> None:
        c = colors()
        self.setStyleSheet(f"QLabel#disclosureNotice {{ background: {c.notice_bg}; color: {c.notice_fg}; "
                           "border-bottom: 1px solid #e0c070; padding: 6px 10px; }")


class StartPage(QWidget):
    """The first tab: the steps of a matter; on the demo case, a button that runs the demo protocol."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("welcomePage")
        label = QLabel()
        label.setObjectName("welcomeText")
        label.setWordWrap(True)
        label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        label.setTextFormat(Qt.TextFormat.RichText)
        self.label = label
        self.refresh_theme()
        self.demo_button = QPushButton("Run the demo protocol (a few minutes on a laptop; every attempt is recorded)")
        self.demo_button.setObjectName("runDemoProtocol")
        self.demo_button.setToolTip("Runs memoview/resources/demo/protocol.toml: an opening continuation of every text and "
                                    "whole-work sweeps, negative controls included.")
        self.demo_button.setVisible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 24, 32, 24)
        layout.addWidget(label)
        layout.addWidget(self.demo_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addStretch(1)

    def refresh_theme(self) -> None:
        self.label.setText(START_HTML.replace("{secondary}", colors().secondary))
