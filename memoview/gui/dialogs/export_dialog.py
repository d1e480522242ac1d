"""Export an annotated PDF exhibit, with a live preview.

The preview uses QtPdf (``PySide6.QtPdf``), part of the PySide6 wheels that
memoview pins (6.11). Some PySide6 builds ship without it (6.12's Essentials
wheels among them), so the fallback renders the pages with poppler's
``pdftoppm`` (on the worker) and shows them as images; both show the very
file that was written.

The preview refreshes by itself a short pause after the last change. It runs the export's own code
path with the same options and the same fixed creation date, written to memoview's cache folder, so its
pages, page count and Bates range are those that "Save" writes; it differs only in the band line
"PREVIEW – NOT AN EXHIBIT – NOT FOR FILING" on every page, and it has no manifest.

A preview is not recorded in the case's audit log (``preview=True`` in the core export): it is a draft
that never leaves this machine, overwritten by the next refresh, and watermarked so that it cannot be
filed as the exhibit. Logging one entry per automatic refresh would make the production log (Case ▸
Exports) count pauses in typing rather than productions. What is produced — every saved exhibit — is
logged as before, with its SHA-256 and Bates range. (Cases from earlier versions may hold logged
``PREVIEW-….pdf`` entries; the exports log still reads them back and marks them as previews.)
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from memoview.gui import palette_colors
from memoview.gui.dialogs.fit import fit_to_screen
from memoview.paths import user_cache_dir

PREVIEW_PAUSE_MS = 900  # the preview rebuilds this long after the last change
LEGENDS = (("none", "No confidentiality legend"), ("confidential", "CONFIDENTIAL"),
           ("aeo", "HIGHLY CONFIDENTIAL – ATTORNEYS' EYES ONLY"))


def _render_pages_job(pdf: Path, token: Any, dpi: int = 60) -> Any:
    """Render each page to a PNG with pdftoppm (fallback preview); returns the PNG paths in page order."""
    import shutil
    import subprocess

    from memoview.core.errors import ExportError
    from memoview.core.jobs import Progress

    exe = shutil.which("pdftoppm")
    if exe is None:
        raise ExportError("No PDF previewer is available (neither QtPdf nor poppler's pdftoppm).",
                          "Install poppler-utils, or open the saved PDF in a PDF reader. Saving still works.")
    out_dir = pdf.parent / (pdf.stem + "-pages")
    out_dir.mkdir(exist_ok=True)
    for old in out_dir.glob("*.png"):
        old.unlink()
    yield Progress(0, None, "Rendering the preview pages")
    subprocess.run([exe, "-r", str(dpi), "-png", str(pdf), str(out_dir / "page")], check=True,
                   capture_output=True, timeout=300)
    return sorted(out_dir.glob("page-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))


class ImagePdfPreview(QScrollArea):
    """Pages as images, one under the other (the fallback when QtPdf is missing)."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("pdfPreview")
        self.setWidgetResizable(True)
        self.inner = QWidget()
        self.inner.setStyleSheet("background: #808080;")
        self.pages_layout = QVBoxLayout(self.inner)
        self.pages_layout.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.setWidget(self.inner)
        self.page_labels: list[QLabel] = []

    def set_pages(self, pngs: list[Path]) -> None:
        for label in self.page_labels:
            label.deleteLater()
        self.page_labels = []
        for png in pngs:
            label = QLabel()
            label.setPixmap(QPixmap(str(png)))
            label.setStyleSheet("background: white; border: 1px solid #444;")
            self.pages_layout.addWidget(label)
            self.page_labels.append(label)

    def page_count(self) -> int:
        return len(self.page_labels)


def _export_job(case: Any, options: Any, path: Path, token: Any, preview: bool = False) -> Any:
    from memoview.core.exhibits.export import export_exhibit

    return (yield from export_exhibit(case, options, path, cancel=token, preview=preview))


class ExportDialog(QDialog):
    def __init__(self, window: Any, attempt_ids: Optional[list[int]] = None) -> None:
        super().__init__(window)
        self.setObjectName("exportDialog")
        self.setWindowTitle("Export exhibit")
        fit_to_screen(self, 1200, 720)
        self.window_ = window
        self.case = window.case
        self.attempt_ids = tuple(attempt_ids or ())
        self.creation_date = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.preview_path: Optional[Path] = None
        self.last_result: Any = None
        self.pdf_document: Any = None
        self.preview_result: Any = None

        form = QFormLayout()
        self.scope = QComboBox()
        self.scope.setObjectName("scope")
        if self.attempt_ids:
            self.scope.addItem(f"The {len(self.attempt_ids)} selected attempt(s)", "selected")
        self.scope.addItem("Every work in the case (all documents tested)", "all")
        form.addRow("Content", self.scope)
        self.show_mode = QComboBox()
        self.show_mode.addItem("Best attempt per work shown in full (all listed)", "best")
        self.show_mode.addItem("Every finished attempt shown in full", "all")
        form.addRow("Detail", self.show_mode)
        self.label = QLineEdit("Exhibit")
        form.addRow("Label", self.label)
        self.number = QLineEdit()
        self.number.setPlaceholderText("e.g. 12 or J")
        form.addRow("Exhibit number", self.number)
        self.caption = QLineEdit()
        self.caption.setPlaceholderText("Neutral title, e.g. Memorization tests of Model X on the works in suit")
        form.addRow("Caption", self.caption)
        self.expert = QLineEdit()
        form.addRow("Expert", self.expert)
        self.selection_rule = QLineEdit()
        self.selection_rule.setPlaceholderText("How the shown attempts were chosen (stated on each page)")
        form.addRow("Selection rule", self.selection_rule)
        self.legend = QComboBox()
        for key, text in LEGENDS:
            self.legend.addItem(text, key)
        form.addRow("Legend", self.legend)
        self.bates_prefix = QLineEdit()
        self.bates_prefix.setPlaceholderText("e.g. PLTF-")
        form.addRow("Bates prefix", self.bates_prefix)
        self.bates_start = QSpinBox()
        self.bates_start.setRange(0, 10**9)
        self.bates_start.setValue(1)
        form.addRow("Bates start", self.bates_start)
        self.bates_digits = QSpinBox()
        self.bates_digits.setRange(1, 12)
        self.bates_digits.setValue(6)
        form.addRow("Bates digits", self.bates_digits)
        self.manifest = QCheckBox("Write the hash manifest beside the PDF")
        self.manifest.setChecked(True)
        form.addRow("", self.manifest)

        note = QLabel("The exhibit lists every attempt, failures included. The preview refreshes by itself a short pause after the last change. It has the exhibit's "
                      f"pages (dated {self.creation_date}) marked PREVIEW, and is not logged; saving writes the exhibit "
                      "without the mark and records it in the case's audit log.")
        note.setWordWrap(True)
        note.setStyleSheet(f"color: {palette_colors.colors().secondary}")
        self.preview_button = QPushButton("Update preview now")
        self.preview_button.setObjectName("updatePreview")
        self.preview_button.clicked.connect(self.update_preview)
        self.save_button = QPushButton("Save exhibit…")
        self.save_button.setObjectName("saveExhibit")
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.save_dialog)
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        self.preview_status = QLabel("")  # apart from the save message, so a refresh never hides it
        self.preview_status.setObjectName("previewStatus")
        self.preview_status.setWordWrap(True)
        self.status = QLabel("")
        self.status.setObjectName("exportStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        left = QVBoxLayout()
        left.addLayout(form)
        left.addWidget(note)
        left.addWidget(self.preview_status)
        left.addWidget(self.status)
        left.addStretch(1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.preview_button)
        buttons.addWidget(self.save_button)
        buttons.addWidget(close)
        left.addLayout(buttons)
        left_box = QWidget()
        left_box.setLayout(left)
        left_box.setMinimumWidth(360)

        self.preview = self._make_preview()
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left_box)
        splitter.addWidget(self.preview)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([2, 3])  # the preview gets the larger share (the form keeps its 360 px minimum)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self._watch_options()

    def _watch_options(self) -> None:
        """The preview refreshes by itself a short pause after the last change (typing included)."""
        self.preview_timer = QTimer(self)
        self.preview_timer.setSingleShot(True)
        self.preview_timer.setInterval(PREVIEW_PAUSE_MS)
        self.preview_timer.timeout.connect(self.update_preview)
        for edit in (self.label, self.number, self.caption, self.expert, self.selection_rule, self.bates_prefix):
            edit.textChanged.connect(lambda _t: self.preview_timer.start())
        for combo in (self.scope, self.show_mode, self.legend):
            combo.currentIndexChanged.connect(lambda _i: self.preview_timer.start())
        for spin in (self.bates_start, self.bates_digits):
            spin.valueChanged.connect(lambda _v: self.preview_timer.start())

    def _make_preview(self) -> QWidget:
        try:
            from PySide6.QtPdf import QPdfDocument
            from PySide6.QtPdfWidgets import QPdfView
        except ImportError:  # PySide6 wheels without QtPdf: render with poppler instead
            self.image_preview: Optional[ImagePdfPreview] = ImagePdfPreview()
            return self.image_preview
        self.image_preview = None
        self.pdf_document = QPdfDocument(self)
        view = QPdfView()
        view.setObjectName("pdfPreview")
        view.setDocument(self.pdf_document)
        view.setPageMode(QPdfView.PageMode.MultiPage)
        view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        return view

    # ------------------------------------------------------------------ options
    def options(self) -> Any:
        from memoview.core.exhibits.export import ExportOptions

        selected = self.scope.currentData() == "selected"
        return ExportOptions(
            attempt_ids=self.attempt_ids if selected else (),
            include_all=not selected,
            show=str(self.show_mode.currentData()),
            label=self.label.text().strip() or "Exhibit",
            number=self.number.text().strip(),
            bates_prefix=self.bates_prefix.text(),
            bates_start=self.bates_start.value(),
            bates_digits=self.bates_digits.value(),
            legend=str(self.legend.currentData()),
            caption=self.caption.text().strip(),
            expert=self.expert.text().strip(),
            selection_rule=self.selection_rule.text().strip(),
            creation_date=self.creation_date,
            write_manifest=self.manifest.isChecked(),
            map_quantity=_map_kind(),  # the quantity the document view's map shows (issue 12)
        )

    def hideEvent(self, event: Any) -> None:  # noqa: N802 - Qt name
        """A closed dialog builds no more previews (its pending pause is dropped)."""
        self.preview_timer.stop()
        super().hideEvent(event)

    # ------------------------------------------------------------------ preview / save
    def update_preview(self) -> Any:
        if self.window_.case is None or self.window_.case is not self.case:
            return None  # the case was closed (or another opened) while the pause ran
        folder = user_cache_dir() / "previews"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"PREVIEW-{(self.label.text().strip() or 'Exhibit').replace('/', '_')}.pdf"
        try:
            options = self.options()
        except Exception as exc:  # noqa: BLE001 - shown in the one dialog
            self.window_.show_error(exc)
            return None
        self.preview_status.setText("Building the preview…")
        case = self.case
        return self.window_.submit(lambda token: _export_job(case, options, path, token, preview=True),
                                   label="Building the exhibit preview", key="exhibit-preview",
                                   on_result=self._preview_ready)

    def _preview_ready(self, result: Any) -> None:
        if result is None or result.path is None:
            self.preview_status.setText("Preview cancelled.")
            return
        self.preview_result = result
        text = f"Preview: {result.pages} pages, Bates {result.bates_first}–{result.bates_last}."
        if self.pdf_document is not None:
            self.pdf_document.close()
            self.pdf_document.load(str(result.path))
            self.preview_path = result.path
            self.preview_status.setText(text)
            return
        pdf = Path(result.path)

        def shown(pngs: list[Path]) -> None:
            assert self.image_preview is not None
            self.image_preview.set_pages(pngs)
            self.preview_path = pdf
            self.preview_status.setText(text)

        self.window_.submit(lambda token: _render_pages_job(pdf, token), label="Rendering the preview",
                            key="exhibit-preview-pages", on_result=shown)

    def preview_page_count(self) -> int:
        if self.pdf_document is not None:
            return int(self.pdf_document.pageCount())
        return self.image_preview.page_count() if self.image_preview is not None else 0

    def save_dialog(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Save exhibit", str(Path.home() / "exhibit.pdf"), "PDF (*.pdf)")
        if name:
            self.save_to(Path(name) if name.lower().endswith(".pdf") else Path(name + ".pdf"))

    def save_to(self, path: Path) -> Any:
        options = self.options()
        case = self.case
        self.status.setText(f"Writing {path.name}…")
        return self.window_.submit(lambda token: _export_job(case, options, path, token),
                                   label=f"Exporting {path.name}", on_result=self._saved)

    def _saved(self, result: Any) -> None:
        self.last_result = result
        if result is None or result.path is None:
            self.status.setText("Export cancelled; nothing was written.")
            return
        manifest = f"\nManifest: {result.manifest_path}" if result.manifest_path else ""
        models = "".join(f"\nModel {mid} files: {status}"
                         + (" (re-hashed before export)" if status == "match" else "")
                         for mid, status in sorted(result.model_files.items()))
        self.status.setText(f"Saved {result.path} ({result.pages} pages, Bates {result.bates_first}–"
                            f"{result.bates_last}).\nPDF SHA-256: {result.pdf_sha256}{manifest}{models}")
        self.window_.statusBar().showMessage(f"Exhibit saved: {result.path}", 10000)


def _map_kind() -> str:
    from memoview.gui.views.sweep_map import chosen_kind

    return chosen_kind()
