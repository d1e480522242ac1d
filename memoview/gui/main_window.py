"""The main window: the case, the one worker, and the slots behind the menus.

Longer than ~500 lines on purpose: its slots (new_case, open_document, run_extraction, verify_case, ...)
are the window's public API — the menu table, the views and the tests call them — and each stays a
few lines that call into a part, a dialog, a view or a job. Splitting them further would add a hop
between a menu entry and what it does, not take out any logic.

The window's parts are in ``gui/window/`` (see its docstring): the menu table (``menus.py``), the
tabs (``tabs.py``), the status line (``status.py``), the Start page and disclosure notice
(``start_page.py``), dropped paths (``drops.py``) and the words of job reports (``reports.py``).
The jobs it submits are in ``gui/case_jobs.py`` and ``gui/engine.py``; the palettes in ``gui/theme.py``.
A slot here stays a few lines: it checks that a case is open, asks for a path if it needs one,
and hands the work to a dialog, a view or a job.

Tests and other code observe the window through its signals (``error_shown``, ``case_verified``,
``protocol_finished``, ``documents_imported``, ``engine_dialog_opened``), not through attributes.

Importing this module stays cheap (no torch, no transformers, no case-file
machinery): the first window appears fast and heavy modules load when a
case is opened or a job needs them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Optional

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QDockWidget, QFileDialog, QMainWindow, QMessageBox, QVBoxLayout, QWidget

from memoview.core.errors import CaseError, MemoviewError, ModelError
from memoview.core.jobs import CancelToken, Progress
from memoview.gui import settings
from memoview.gui.dialogs.errors import ErrorDialog, show_error
from memoview.gui.jobs import JobHandle, JobRunner
from memoview.gui.theme import switch_theme
from memoview.gui.views.case_tree import CaseTree, with_legend
from memoview.gui.window import menus, reports
from memoview.gui.window.drops import sort_dropped
from memoview.gui.window.start_page import DisclosureNotice, StartPage
from memoview.gui.window.status import StatusLine
from memoview.gui.window.tabs import CaseTabs

NO_CASE = CaseError("No case is open.", "Create a case (Ctrl+N) or open one (Ctrl+O) first.")


class MainWindow(QMainWindow):
    error_shown = Signal(object)  # the ErrorDialog, once it is open
    case_verified = Signal(object, object)  # the verify_fully result, the message box showing it
    protocol_finished = Signal(object)  # run_protocol_job's counts (dict)
    documents_imported = Signal(object)  # the importer's report (also after a cancelled import)
    engine_dialog_opened = Signal(object)  # the EngineDialog (gui/dialogs/engine_dialog.py::choose_engine)
    crosscheck_dialog_opened = Signal(object)  # the CrossCheckDialog (gui/dialogs/crosscheck_dialog.py)
    crosscheck_shown = Signal(object)  # the recorded cross-check (dict) whose result tab just opened

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowTitle("memoview")
        self.resize(1280, 800)
        self.setAcceptDrops(True)
        self.case: Any = None
        self.runner = JobRunner(self)
        self.loaded_models: dict[str, Any] = {}  # fingerprint -> LoadedModel (lives on the worker)
        self.wizard: Any = None
        self.export_dialog: Any = None
        self.exports_dialog: Any = None

        from memoview.gui.single_instance import CaseInstanceServer

        self.instance_server = CaseInstanceServer(self)  # one window per case: see gui/single_instance.py
        self.instance_server.activation_requested.connect(self.bring_to_front)
        self.activation_count = 0
        self._build_central()
        self._build_dock()
        self.status_line = StatusLine(self.statusBar(), self.runner)
        self.actions_by_name: dict[str, QAction]
        self.actions_by_name, self.recent_menu = menus.build_menus(self, self.tree_dock.toggleViewAction())
        menus.fill_recent_menu(self.recent_menu, self.open_case)
        menus.enable_case_actions(self.actions_by_name, False)
        self._restore_geometry()

    # ================================================================== building
    def _build_central(self) -> None:
        self.notice = DisclosureNotice()
        self.tabs = CaseTabs()
        self.start_page = StartPage()
        self.start_page.demo_button.clicked.connect(self.run_demo_protocol)
        self.tabs.pin("start", self.start_page, "Start")

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.notice)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)

    def _build_dock(self) -> None:
        self.case_tree = CaseTree()
        self.case_tree.setMinimumWidth(220)
        self.case_tree.item_activated.connect(self.open_item)
        self.case_tree.control_requested.connect(self.set_document_control)
        self.tree_dock = QDockWidget("Case", self)
        self.tree_dock.setObjectName("caseDock")
        self.tree_dock.setWidget(with_legend(self.case_tree))
        self.tree_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                                   | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.tree_dock)
        from memoview.gui.window.dock_width import DockWidth

        self.dock_width = DockWidth(self, self.tree_dock)  # a fifth of the window, or the user's dragged width

    def _restore_geometry(self) -> None:
        geometry = settings.value("main_window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)  # type: ignore[arg-type]
        state = settings.value("main_window/state")
        if state is not None:
            self.restoreState(state)  # type: ignore[arg-type]

    # ================================================================== jobs and errors
    def submit(self, factory: Callable[[CancelToken], Any], *, label: str, key: Optional[str] = None,
               on_result: Optional[Callable[[Any], None]] = None,
               on_cancelled: Optional[Callable[[Any], None]] = None,
               on_error: Optional[Callable[[BaseException, str], None]] = None,
               on_progress: Optional[Callable[[Progress], None]] = None) -> JobHandle:
        """Run a core job on the one worker; errors go to the one error dialog unless handled."""
        return self.runner.submit(
            factory, label=label, key=key, on_result=on_result, on_cancelled=on_cancelled,
            on_error=on_error or self._job_failed, on_progress=on_progress,
        )

    def _job_failed(self, exc: BaseException, details: str) -> None:
        self.show_error(exc, details)

    def cancel_jobs(self) -> None:
        self.status_line.cancel_jobs()

    def show_error(self, exc: BaseException, details: str = "") -> ErrorDialog:
        dialog = show_error(self, exc, details)
        self.error_shown.emit(dialog)
        return dialog

    # ================================================================== case
    def new_case(self, path: Optional[Path] = None) -> None:
        if path is None:
            name, _ = QFileDialog.getSaveFileName(self, "New case", str(Path.home() / "matter.memoview"),
                                                  "memoview case (*.memoview)")
            if not name:
                return
            path = Path(name)
            if path.suffix != ".memoview":
                path = path.with_suffix(".memoview")
        from memoview.core.case import Case

        try:
            case = Case.create(path)
        except MemoviewError as exc:
            self.show_error(exc)
            return
        self._set_case(case)

    def open_case_dialog(self) -> None:
        start = settings.recent_cases()
        name, _ = QFileDialog.getOpenFileName(self, "Open case", str(start[0].parent if start else Path.home()),
                                              "memoview case (*.memoview);;All files (*)")
        if name:
            self.open_case(Path(name))

    def open_case(self, path: Path) -> bool:
        from memoview.core.case import Case  # lazy: sqlite-utils and numpy

        if not self.instance_server.claim(Path(path)):
            self.statusBar().showMessage(f"{Path(path).name} is already open in another memoview window; "
                                         "that window was brought to the front.", 15000)
            return False
        try:
            case = Case.open(path)
        except MemoviewError as exc:
            if self.case is None or not self.instance_server.holds(self.case.path):
                self.instance_server.release()
            self.show_error(exc)
            return False
        self._set_case(case)
        return True

    def _set_case(self, case: Any) -> None:
        self.close_case()
        self.case = case
        self.instance_server.claim(case.path)
        settings.add_recent_case(case.path)
        menus.fill_recent_menu(self.recent_menu, self.open_case)
        self.setWindowTitle(f"{case.path.name} — memoview")
        self.refresh()
        menus.enable_case_actions(self.actions_by_name, True)
        self.show_overview()

    def show_overview(self) -> Any:
        """The case overview, the first tab of an open case (issue 12)."""
        from memoview.gui.views.overview import CaseOverview

        view = self.tabs.find_view("overview")
        if view is None and self.case is not None:
            view = CaseOverview(self.case, runner=self.runner)  # computed by the worker, off the UI thread
            view.document_requested.connect(self.open_document)
            self.tabs.pin("overview", view, "Overview")
            if self.case.attempt_count():  # an empty case keeps the Start page (its next steps) in front
                self.tabs.setCurrentIndex(0)
        return view

    def close_case(self) -> None:
        if self.case is None:
            return
        self.runner.cancel()
        self.tabs.close_case_views(keep=self.start_page)
        if self.instance_server.holds(self.case.path):
            self.instance_server.release()
        self.case.close()
        self.case = None
        self.loaded_models.clear()
        self.case_tree.clear_case()
        self.status_line.show_case(None)
        self.setWindowTitle("memoview")
        menus.enable_case_actions(self.actions_by_name, False)

    def refresh(self) -> None:
        """Re-read the case into the tree, the status line and the open views."""
        if self.case is None:
            return
        self.case_tree.populate(self.case)
        counts = self.case.info()["counts"]
        self.start_page.demo_button.setVisible(self._is_demo_case() and counts["attempts"] == 0
                                               and counts["models"] > 0)
        self.status_line.show_case(self.case)
        self.tabs.refresh_from_case(self.case)

    def _is_demo_case(self) -> bool:
        from memoview.core.demo import DEMO_CASE_NAME

        return self.case is not None and self.case.path.name == DEMO_CASE_NAME

    def set_document_control(self, doc_id: int, is_control: bool) -> None:
        """Mark or unmark a document as a negative control (logged in the audit trail)."""
        if self.case is None:
            return
        self.case.set_control(doc_id, is_control)
        self.refresh()
        title = self.case.document(doc_id).title
        self.statusBar().showMessage(
            f"'{title}' {'marked' if is_control else 'no longer marked'} as a negative control", 5000)

    def toggle_selected_control(self) -> None:
        actions = self.case_tree.context_actions(self.case_tree.currentItem())
        if actions:
            actions[0].trigger()
        else:
            self.statusBar().showMessage("Select a document in the case tree first", 5000)

    # ================================================================== documents and models
    def import_documents(self, paths: Optional[list[Path]] = None) -> Optional[JobHandle]:
        if self.case is None:
            self.show_error(NO_CASE)
            return None
        if paths is None:
            names, _ = QFileDialog.getOpenFileNames(
                self, "Import documents", str(Path.home()),
                "Documents (*.txt *.md *.html *.htm *.pdf *.docx *.epub);;All files (*)")
            if not names:
                return None
            paths = [Path(n) for n in names]
        from memoview.gui.case_jobs import import_documents_job

        case = self.case
        return self.submit(lambda token: import_documents_job(case, list(paths), token),
                           label=f"Importing {len(paths)} document(s)", on_result=self._imported,
                           on_cancelled=self._imported)

    def _imported(self, report: Any) -> None:
        """Refresh, then report files that were not imported (each with its reason) in the one dialog."""
        self.refresh()
        if report is None:
            return
        status, failures = reports.import_text(report)
        self.statusBar().showMessage(status, 8000)
        if failures is not None:
            self.show_error(failures)
        imported = list(getattr(report, "imported", []))
        if len(imported) == 1:
            self.open_document(imported[0].id)
        self.documents_imported.emit(report)

    def open_model(self, path: Optional[Path] = None,
                   on_done: Optional[Callable[[Any], None]] = None) -> Optional[JobHandle]:
        if self.case is None:
            self.show_error(NO_CASE)
            return None
        interactive = path is None
        if path is None:
            name = QFileDialog.getExistingDirectory(self, "Open model folder (Hugging Face format)", str(Path.home()))
            if not name:
                name, _ = QFileDialog.getOpenFileName(self, "Or open a GGUF file", str(Path.home()),
                                                      "GGUF model (*.gguf)")
            if not name:
                return None
            path = Path(name)
        case = self.case

        def done(info: Any) -> None:
            self.refresh()
            if info is not None:
                self.statusBar().showMessage(f"Model registered: {info.name} (fingerprint {info.fingerprint[:12]}…)",
                                             8000)
                if interactive:  # how to run it: engine, device, precision (gui/dialogs/engine_dialog.py)
                    from memoview.gui.dialogs.engine_dialog import choose_engine

                    choose_engine(self, info)
            if on_done is not None:
                on_done(info)

        from memoview.gui.case_jobs import open_model_job

        return self.submit(lambda token: open_model_job(case, Path(path), token),
                           label=f"Fingerprinting model {Path(path).name}", on_result=done)

    def add_served_model(self) -> Optional[Any]:
        """The served-model dialog (gui/dialogs/server_model.py); returns it (tests drive it)."""
        if self.case is None:
            self.show_error(NO_CASE)
            return None
        from memoview.gui.dialogs.server_model import ServerModelDialog

        def added(info: Any) -> None:
            self.refresh()
            self.statusBar().showMessage(f"Served model added: {info.name} (deployed system; no weights)", 8000)

        dialog = ServerModelDialog(self, self.case, self.submit, on_added=added)
        dialog.open()
        return dialog

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt name
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt name
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        event.acceptProposedAction()
        self.handle_dropped_paths(paths)

    def handle_dropped_paths(self, paths: list[Path]) -> None:
        """Model folders and GGUF files are opened as models; everything else is imported as a document."""
        if self.case is None:
            self.show_error(CaseError("No case is open, so nothing was imported.",
                                      "Create a case (Ctrl+N) or open one (Ctrl+O), then drop the files again."))
            return
        dropped = sort_dropped(paths)
        if dropped.other_folders:
            self.show_error(ModelError(
                f"{dropped.other_folders[0]} is a folder but not a model folder (it has no config.json and no "
                ".gguf file).", "Drop a Hugging Face model folder, a .gguf file, or document files."))
        if dropped.documents:
            self.import_documents(dropped.documents)
        for model in dropped.models:
            self.open_model(model)

    # ================================================================== views
    def open_item(self, kind: str, ident: int) -> None:
        if self.case is None:
            return
        if kind == "document":
            self.open_document(ident)
        elif kind == "attempt":
            self.open_attempt(ident)
        elif kind == "model":
            self.open_model_info(ident)
        elif kind == "protocol":
            self.open_protocol(ident)

    def open_protocol(self, protocol_id: int) -> Any:
        """A protocol's stored text and the attempts it produced."""
        from memoview.gui.views.protocol_view import ProtocolView

        key = f"protocol:{protocol_id}"
        view = self.tabs.find_view(key)
        if view is None:
            view = self.tabs.add_view(key, ProtocolView(self, protocol_id), f"Protocol {protocol_id}",
                                      "Protocol text and its attempts")
        return view

    def open_document(self, doc_id: int, select: Optional[tuple[int, int]] = None) -> Any:
        from memoview.gui.views.document_view import DocumentView

        key = f"document:{doc_id}"
        view = self.tabs.find_view(key)
        if view is None:
            try:
                document = self.case.document(doc_id)
            except MemoviewError as exc:
                self.show_error(exc)
                return None
            view = DocumentView(document, runner=self.runner)  # its findings line is computed on the worker
            view.extract_requested.connect(self.extract_from_passage)
            view.window_clicked.connect(self.open_sweep_window)
            title = document.title if len(document.title) <= 28 else document.title[:27] + "…"
            self.tabs.add_view(key, view, ("◐ " if document.is_control else "") + title, document.title)
        view.refresh_from_case(self.case)  # type: ignore[attr-defined]  # map now; findings line from the worker
        if select is not None:
            view.select_range(*select)  # type: ignore[attr-defined]
        return view

    def open_sweep_window(self, attempt_id: int, index: int) -> Any:
        from memoview.gui.views.window_comparison import open_window_comparison

        return open_window_comparison(self, attempt_id, index)

    def open_attempt(self, attempt_id: int) -> Any:
        key = f"attempt:{attempt_id}"
        view = self.tabs.find_view(key)
        if view is not None:
            return view
        try:
            attempt = self.case.attempt(attempt_id)
        except MemoviewError as exc:
            self.show_error(exc)
            return None
        if attempt.spec.method == "sweep" and attempt.spec.document_id is not None:
            return self.open_document(attempt.spec.document_id)
        from memoview.gui.views.comparison_view import ComparisonView

        try:
            view = ComparisonView(self, attempt)
        except MemoviewError as exc:  # e.g. a recorded target that no longer fits its document
            self.show_error(exc)
            return None
        return self.tabs.add_view(key, view, f"Attempt #{attempt_id}", f"Comparison for attempt {attempt_id}")

    def open_model_info(self, model_id: int) -> None:
        box = QMessageBox(QMessageBox.Icon.Information, "Model", reports.model_info_html(self.case.model(model_id)),
                          parent=self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def show_attempts_table(self) -> Any:
        if self.case is None:
            return None
        view = self.tabs.find_view("attempts")
        if view is not None:
            return view
        from memoview.gui.views.attempts_table import AttemptsTable

        return self.tabs.add_view("attempts", AttemptsTable(self), "Attempts", "Every attempt in the case")

    # ================================================================== extraction, protocols, export, verify
    def run_extraction(self, document_id: Optional[int] = None,
                       passage: Optional[tuple[int, int]] = None) -> Any:
        if self.case is None:
            self.show_error(NO_CASE)
            return None
        from memoview.gui.dialogs.extraction_wizard import ExtractionWizard

        self.wizard = ExtractionWizard(self, document_id=document_id, passage=passage)
        # Not modal: the user can keep reading the document while a run goes on. (Also, in Qt 6.12 a
        # window-modal dialog stays registered as the active modal widget after it closes, which
        # blocks the window's shortcuts.)
        self.wizard.show()
        return self.wizard

    def extract_from_passage(self, doc_id: int, start: int, end: int) -> Any:
        return self.run_extraction(document_id=doc_id, passage=(start, end))

    def run_demo_protocol(self) -> Optional[JobHandle]:
        from memoview.paths import resource

        return self.run_protocol(resource("demo", "protocol.toml"))

    def run_protocol(self, path: Optional[Path] = None) -> Optional[JobHandle]:
        """Run a campaign protocol on the worker (the GUI's ``memoview run``), with progress and Cancel."""
        if self.case is None:
            return None
        if path is None:
            name, _ = QFileDialog.getOpenFileName(self, "Run a protocol", str(Path.home()),
                                                  "Protocols (*.toml *.json)")
            if not name:
                return None
            path = Path(name)
        from memoview.gui.engine import run_protocol_job

        case, cache, protocol = self.case, self.loaded_models, str(path)

        def done(counts: Any) -> None:
            self.refresh()
            self.statusBar().showMessage(reports.protocol_text(counts), 15000)
            self.protocol_finished.emit(counts)

        def failed(exc: BaseException, details: str) -> None:
            self.refresh()  # the attempts that finished before the failure are recorded
            self.show_error(exc, details)

        return self.submit(lambda token: run_protocol_job(case, cache, protocol, token),
                           label=f"Running protocol {path.name}", on_result=done,
                           on_cancelled=lambda _r: self.refresh(), on_error=failed)

    def export_exhibit(self, attempt_ids: Optional[list[int]] = None) -> Any:
        if self.case is None:
            return None
        from memoview.gui.dialogs.export_dialog import ExportDialog

        self.export_dialog = ExportDialog(self, attempt_ids=attempt_ids)
        self.export_dialog.show()
        self.export_dialog.update_preview()
        return self.export_dialog

    def show_exports_log(self) -> Any:
        """Case ▸ Exports: the production log (same list as ``memoview exports CASE``)."""
        if self.case is None:
            return None
        from memoview.gui.dialogs.exports_dialog import ExportsDialog

        self.exports_dialog = ExportsDialog(self, self.case)
        self.exports_dialog.show()
        return self.exports_dialog

    def verify_case(self, full: bool = False) -> Optional[JobHandle]:
        """Check the case file; ``full`` also re-hashes the model files and re-runs the greedy and beam
        attempts (the same job as ``memoview case verify --models --rerun``)."""
        if self.case is None:
            return None
        case = self.case
        loaded = dict(self.loaded_models)

        def done(result: Any) -> None:
            ok, text = reports.verification_text(result)
            icon = QMessageBox.Icon.Information if ok else QMessageBox.Icon.Warning
            box = QMessageBox(icon, "Verify case", text, parent=self)
            box.setObjectName("verifyResult")
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()
            self.case_verified.emit(result, box)

        from memoview.core.verification import verify_fully

        return self.submit(lambda token: verify_fully(case, models=full, rerun=full, cancel=token, loaded=loaded),
                           label="Verifying the case fully" if full else "Verifying the case", on_result=done)

    def verify_case_fully(self) -> Optional[JobHandle]:
        """Case ▸ Verify case fully: model files re-hashed, greedy and beam attempts re-run."""
        return self.verify_case(full=True)

    def crosscheck_attempt(self) -> None:
        """Case ▸ Cross-check with another engine: the dialog, then a background job (issue 10)."""
        from memoview.gui.dialogs.crosscheck_dialog import start_crosscheck

        start_crosscheck(self)

    # ================================================================== theme, help, lifetime
    def toggle_dark(self) -> None:
        switch_theme("dark" if self.actions_by_name["dark_mode"].isChecked() else "light")
        self.notice.refresh_theme()
        self.tabs.refresh_theme()  # open views (and the Start page) re-pick their per-palette colours
        if self.case is not None:
            self.refresh()

    def about(self) -> None:
        from memoview.gui.dialogs.about import show_about

        show_about(self)

    def copy_diagnostics(self) -> str:
        from memoview.gui.dialogs.about import copy_diagnostics

        return copy_diagnostics(self)

    def bring_to_front(self) -> None:
        """Another `memoview gui CASE` asked for this case: show this window instead of a second one."""
        self.activation_count += 1
        if self.isMinimized():
            self.showNormal()
        self.show()
        self.raise_()
        self.activateWindow()

    def shutdown(self) -> None:
        """Stop the worker and close the case (also called from closeEvent)."""
        self.instance_server.release()
        self.runner.shutdown(wait=True)
        if self.case is not None:
            self.case.close()
            self.case = None

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt name
        settings.set_value("main_window/geometry", self.saveGeometry())
        settings.set_value("main_window/state", self.saveState())
        self.shutdown()
        super().closeEvent(event)
