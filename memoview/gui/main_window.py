"""The main window: case tree dock, tabs, menus, status bar with job progress.

Importing this module stays cheap (no torch, no transformers, no case-file
machinery): the first window appears fast and heavy modules load when a
case is opened or a job needs them.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable, Optional

from PySide6.QtCore import QTimer, Qt
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTabBar,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from memoview.core.errors import CaseError, MemoviewError, ModelError
from memoview.core.jobs import CancelToken, Progress
from memoview.gui import settings
from memoview.gui.dialogs.errors import ErrorDialog, show_error
from memoview.gui.jobs import JobHandle, JobRunner
from memoview.gui.views.case_tree import CaseTree, with_legend
from memoview.gui.wording import plural

DISCLOSURE_NOTICE = (
    "Every attempt you run is recorded in the case file, with its prompt, settings and output, "
    "and may be disclosable to the other side. Nothing can be deleted."
)
PROGRESS_DELAY_MS = 500  # the progress bar appears only for jobs that last longer than this
MODEL_SUFFIXES = (".gguf",)
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl")


def looks_like_model(path: Path) -> bool:
    """A Hugging Face folder (has config.json) or a GGUF file; everything else is a document."""
    if path.is_dir():
        return (path / "config.json").exists() or any(path.glob("*.gguf"))
    return path.suffix.lower() in MODEL_SUFFIXES


def _import_documents_job(case: Any, paths: list[Path], token: CancelToken) -> Any:
    """Import through the core importer (all formats, provenance, duplicate checks)."""
    from memoview.core.documents import importer  # lazy: loaders pull in pdf/html/docx libraries

    return (yield from importer.import_files(case, paths, cancel=token))


def _open_model_job(case: Any, path: Path, token: CancelToken) -> Any:
    """Fingerprint a model (streamed with progress) and register it in the case."""
    from memoview.core.engines import default_engine
    from memoview.core.models.inspect import inspect_model
    from memoview.core.session import guess_format

    # A GGUF architecture transformers cannot read may still run under llama.cpp.
    info = yield from inspect_model(path, engine=default_engine(guess_format(str(path))))
    if token.cancelled:
        return None
    return case.add_model(info)


class MainWindow(QMainWindow):
    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowTitle("memoview")
        self.resize(1280, 800)
        self.setAcceptDrops(True)
        self.case: Any = None
        self.runner = JobRunner(self)
        self.loaded_models: dict[str, Any] = {}  # fingerprint -> LoadedModel (lives on the worker)
        self.last_error_dialog: Optional[ErrorDialog] = None
        self.wizard: Any = None
        self.export_dialog: Any = None
        self.actions_by_name: dict[str, QAction] = {}

        from memoview.gui.single_instance import CaseInstanceServer

        self.instance_server = CaseInstanceServer(self)  # one window per case: see gui/single_instance.py
        self.instance_server.activation_requested.connect(self.bring_to_front)
        self.activation_count = 0
        self._build_central()
        self._build_dock()
        self._build_status_bar()
        self._build_menus()
        self._wire_runner()
        self._update_enabled()
        self._restore_geometry()

    # ================================================================== building
    def _build_central(self) -> None:
        self.notice = QLabel(DISCLOSURE_NOTICE)
        self.notice.setObjectName("disclosureNotice")
        self.notice.setWordWrap(True)
        self._style_notice()
        self.tabs = QTabWidget()
        self.tabs.setObjectName("centralTabs")
        self.tabs.setTabsClosable(True)
        self.tabs.setDocumentMode(True)
        self.tabs.tabCloseRequested.connect(self._close_tab)
        self.welcome = self._welcome_page()
        self.tabs.addTab(self.welcome, "Start")
        self.tabs.tabBar().setTabButton(0, QTabBar.ButtonPosition.RightSide, None)

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.notice)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)

    def _style_notice(self) -> None:
        from memoview.gui.palette_colors import colors

        c = colors()
        if hasattr(self, "welcome_label"):
            self.welcome_label.setText(self.welcome_html.replace("{secondary}", c.secondary))
        self.notice.setStyleSheet(f"QLabel#disclosureNotice {{ background: {c.notice_bg}; color: {c.notice_fg}; "
                                  "border-bottom: 1px solid #e0c070; padding: 6px 10px; }")

    def _welcome_page(self) -> QWidget:
        page = QWidget()
        page.setObjectName("welcomePage")
        label = QLabel()
        label.setObjectName("welcomeText")
        label.setWordWrap(True)
        label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        label.setTextFormat(Qt.TextFormat.RichText)
        label.setText(
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
        self.welcome_html = label.text()  # re-coloured per palette in _style_notice
        self.welcome_label = label
        self._style_notice()
        self.demo_button = QPushButton("Run the demo protocol (a few minutes on a laptop; every attempt is recorded)")
        self.demo_button.setObjectName("runDemoProtocol")
        self.demo_button.setToolTip("Runs memoview/resources/demo/protocol.toml: an opening continuation of every text and "
                                    "whole-work sweeps, negative controls included.")
        self.demo_button.clicked.connect(self.run_demo_protocol)
        self.demo_button.setVisible(False)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(32, 24, 32, 24)
        layout.addWidget(label)
        layout.addWidget(self.demo_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addStretch(1)
        return page

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
        self.resizeDocks([self.tree_dock], [260], Qt.Orientation.Horizontal)  # comparison panes keep ≥ 60 chars a line at 1280

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
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
        self.case_label = QLabel("No case open")
        self.case_label.setObjectName("caseLabel")
        bar.addWidget(self.case_label, 1)
        bar.addPermanentWidget(self.job_label)
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.cancel_button)
        self._set_progress_visible(False)
        self._progress_timer = QTimer(self)
        self._progress_timer.setSingleShot(True)
        self._progress_timer.timeout.connect(self._maybe_show_progress)

    def _action(self, name: str, text: str, slot: Callable[[], Any], shortcut: Optional[str] = None,
                tip: str = "") -> QAction:
        action = QAction(text, self)
        action.setObjectName(f"action_{name}")
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        self.actions_by_name[name] = action
        return action

    def _build_menus(self) -> None:
        mb = self.menuBar()
        file_menu = mb.addMenu("&File")
        file_menu.addAction(self._action("new_case", "&New case…", self.new_case, "Ctrl+N",
                                         "Create a new case file for a matter"))
        file_menu.addAction(self._action("open_case", "&Open case…", self.open_case_dialog, "Ctrl+O",
                                         "Open an existing .memoview case file"))
        self.recent_menu = file_menu.addMenu("Open &recent")
        self._refresh_recent_menu()
        file_menu.addSeparator()
        file_menu.addAction(self._action("import_documents", "&Import documents…", self.import_documents, "Ctrl+I",
                                         "Import source documents (txt, md, html, pdf, docx, epub)"))
        file_menu.addAction(self._action("open_model", "Open &model…", self.open_model, "Ctrl+M",
                                         "Open a Hugging Face model folder or a .gguf file"))
        file_menu.addAction(self._action("add_served_model", "Add &served model…", self.add_served_model, None,
                                         "A model on a server (vLLM, llama.cpp's server, a deployed API)"))
        file_menu.addSeparator()
        file_menu.addAction(self._action("close_case", "&Close case", self.close_case))
        file_menu.addAction(self._action("quit", "&Quit", self.close, "Ctrl+Q"))

        case_menu = mb.addMenu("&Case")
        case_menu.addAction(self._action("run_extraction", "&Run extraction…", self.run_extraction, "Ctrl+R",
                                         "Open the guided extraction wizard"))
        case_menu.addAction(self._action("run_protocol", "Run &protocol…", self.run_protocol, "Ctrl+Shift+R",
                                         "Run a campaign protocol file (TOML or JSON); attempts already in the case "
                                         "are skipped"))
        case_menu.addAction(self._action("attempts_table", "&Attempts table", self.show_attempts_table,
                                         "Ctrl+T", "All attempts, with filters"))
        case_menu.addAction(self._action("export_exhibit", "&Export exhibit…", self.export_exhibit, "Ctrl+E",
                                         "Export an annotated PDF exhibit"))
        case_menu.addAction(self._action("exports_log", "E&xports…", self.show_exports_log, None,
                                         "Every exhibit exported from this case: file, SHA-256, Bates range, date"))
        case_menu.addAction(self._action("toggle_control", "Mark or unmark as negative &control",
                                         self.toggle_selected_control, "Ctrl+Shift+K",
                                         "Negative controls are texts the model cannot have seen: the chance baseline"))
        case_menu.addSeparator()
        case_menu.addAction(self._action("verify_case", "&Verify case", self.verify_case, None,
                                         "Re-check the audit hash chain and every document hash"))
        case_menu.addAction(self._action("verify_case_fully", "Verify case &fully (model files, re-runs)",
                                         lambda: self.verify_case(full=True), None,
                                         "Also re-hash every model file and re-run the greedy and beam attempts, "
                                         "comparing the output token for token"))

        view_menu = mb.addMenu("&View")
        dark = self._action("dark_mode", "&Dark palette", self.toggle_dark)
        dark.setCheckable(True)
        dark.setChecked(settings.theme() == "dark")
        view_menu.addAction(dark)
        view_menu.addAction(self.tree_dock.toggleViewAction())

        help_menu = mb.addMenu("&Help")
        help_menu.addAction(self._action("about", "&About memoview", self.about))
        help_menu.addAction(self._action("copy_diagnostics", "Copy &diagnostics", self.copy_diagnostics,
                                         tip="Versions, platform and the last errors, for a support request "
                                             "(no case content)"))

    def _wire_runner(self) -> None:
        self.runner.job_started.connect(self._job_started)
        self.runner.job_progress.connect(self._job_progress)
        self.runner.idle.connect(self._jobs_idle)

    def _restore_geometry(self) -> None:
        geometry = settings.value("main_window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)  # type: ignore[arg-type]
        state = settings.value("main_window/state")
        if state is not None:
            self.restoreState(state)  # type: ignore[arg-type]

    def _update_enabled(self) -> None:
        has_case = self.case is not None
        for name in ("import_documents", "open_model", "close_case", "run_extraction", "export_exhibit",
                     "verify_case", "verify_case_fully", "attempts_table", "toggle_control", "run_protocol"):
            self.actions_by_name[name].setEnabled(has_case)

    # ================================================================== jobs / status bar
    def submit(self, factory: Callable[[CancelToken], Any], *, label: str, key: Optional[str] = None,
               on_result: Optional[Callable[[Any], None]] = None,
               on_cancelled: Optional[Callable[[Any], None]] = None,
               on_error: Optional[Callable[[BaseException, str], None]] = None,
               on_progress: Optional[Callable[[Progress], None]] = None) -> JobHandle:
        """Run a core job on the one worker; errors go to the one error dialog unless handled."""
        return self.runner.submit(
            factory, label=label, key=key, on_result=on_result, on_cancelled=on_cancelled,
            on_error=on_error or (lambda exc, details: self.show_error(exc, details)), on_progress=on_progress,
        )

    def _set_progress_visible(self, visible: bool) -> None:
        self.progress.setVisible(visible)
        self.cancel_button.setVisible(visible)
        self.job_label.setVisible(visible)

    def _job_started(self, number: int, label: str) -> None:
        self.progress.setRange(0, 0)
        self.job_label.setText(label)
        self._job_started_at = time.monotonic()
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

    def cancel_jobs(self) -> None:
        self.runner.cancel()
        self.job_label.setText("Cancelling… (what finished so far stays recorded)")

    def show_error(self, exc: BaseException, details: str = "") -> ErrorDialog:
        self.last_error_dialog = show_error(self, exc, details)
        return self.last_error_dialog

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
        self._refresh_recent_menu()
        self.setWindowTitle(f"{case.path.name} — memoview")
        self.refresh()
        self._update_enabled()
        self.show_overview()

    def show_overview(self) -> Any:
        """The case overview, the first tab of an open case (issue 12)."""
        from memoview.gui.views.overview import CaseOverview

        view = self._find_tab("overview")
        if view is None and self.case is not None:
            view = CaseOverview(self.case, runner=self.runner)  # computed by the worker, off the UI thread
            view.document_requested.connect(self.open_document)
            view.setProperty("tab_key", "overview")
            self.tabs.insertTab(0, view, "Overview")
            self.tabs.tabBar().setTabButton(0, QTabBar.ButtonPosition.RightSide, None)
            if self.case.attempt_count():  # an empty case keeps the Start page (its next steps) in front
                self.tabs.setCurrentIndex(0)
        return view

    def close_case(self) -> None:
        if self.case is None:
            return
        self.runner.cancel()
        overview = self._find_tab("overview")
        if overview is not None:
            overview.cancel()  # type: ignore[attr-defined]
            self.tabs.removeTab(self.tabs.indexOf(overview))
            overview.deleteLater()
        while self.tabs.count() > 1:
            self._close_tab(1)
        if self.instance_server.holds(self.case.path):
            self.instance_server.release()
        self.case.close()
        self.case = None
        self.loaded_models.clear()
        self.case_tree.clear_case()
        self.case_label.setText("No case open")
        self.setWindowTitle("memoview")
        self._update_enabled()

    def _is_demo_case(self) -> bool:
        from memoview.core.demo import DEMO_CASE_NAME

        return self.case is not None and self.case.path.name == DEMO_CASE_NAME

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
            self.last_protocol_result = counts
            self.refresh()
            if counts["attempts_run"] == 0 and counts["attempts_skipped"] == counts["attempts_planned"]:
                text = f"All {counts['attempts_planned']} planned attempts are already in the case; nothing to run."
            else:
                text = (f"Protocol {counts['protocol_id']}: {counts['attempts_run']} attempts run, "
                        f"{counts['attempts_skipped']} already in the case.")
            self.statusBar().showMessage(text, 15000)

        return self.submit(lambda token: run_protocol_job(case, cache, protocol, token),
                           label=f"Running protocol {path.name}", on_result=done,
                           on_cancelled=lambda _r: self.refresh(),
                           on_error=lambda exc, details: (self.refresh(), self.show_error(exc, details)))

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

    def refresh(self) -> None:
        """Re-read the case into the tree and the status line."""
        if self.case is None:
            return
        self.case_tree.populate(self.case)
        info = self.case.info()["counts"]
        self.demo_button.setVisible(self._is_demo_case() and info["attempts"] == 0 and info["models"] > 0)
        self.case_label.setText(
            f"{self.case.path}  ·  {plural(info['documents'], 'document')}, {plural(info['models'], 'model')}, "
            f"{plural(info['attempts'], 'attempt')} recorded"
        )
        for i in range(self.tabs.count()):
            widget = self.tabs.widget(i)
            if hasattr(widget, "refresh_from_case"):
                widget.refresh_from_case(self.case)

    def _refresh_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = settings.recent_cases()
        if not recent:
            empty = self.recent_menu.addAction("(none yet)")
            empty.setEnabled(False)
        for path in recent:
            action = self.recent_menu.addAction(str(path))
            action.triggered.connect(lambda _c=False, p=path: self.open_case(p))

    # ================================================================== documents and models
    def import_documents(self, paths: Optional[list[Path]] = None) -> Optional[JobHandle]:
        if self.case is None:
            self.show_error(CaseError("No case is open.", "Create a case (Ctrl+N) or open one (Ctrl+O) first."))
            return None
        if paths is None:
            names, _ = QFileDialog.getOpenFileNames(
                self, "Import documents", str(Path.home()),
                "Documents (*.txt *.md *.html *.htm *.pdf *.docx *.epub);;All files (*)")
            if not names:
                return None
            paths = [Path(n) for n in names]
        case = self.case
        return self.submit(lambda token: _import_documents_job(case, list(paths), token),
                           label=f"Importing {len(paths)} document(s)", on_result=self._imported,
                           on_cancelled=self._imported)

    def _imported(self, report: Any) -> None:
        """Refresh, then report files that were not imported (each with its reason) in the one dialog."""
        self.refresh()
        if report is None:
            return
        self.last_import_report = report
        imported = list(getattr(report, "imported", []))
        failed = list(getattr(report, "failed", []))
        self.statusBar().showMessage(f"Imported {len(imported)} document(s)"
                                     + (f"; {len(failed)} not imported" if failed else ""), 8000)
        if failed:
            lines = [f"{Path(o.path).name}: {o.error}" for o in failed]
            hints = sorted({o.hint for o in failed if o.hint})
            self.show_error(MemoviewError(
                f"{len(failed)} of {len(failed) + len(imported)} file(s) were not imported:\n" + "\n".join(lines),
                " ".join(hints)))
        if len(imported) == 1:
            self.open_document(imported[0].id)

    def open_model(self, path: Optional[Path] = None,
                   on_done: Optional[Callable[[Any], None]] = None) -> Optional[JobHandle]:
        if self.case is None:
            self.show_error(CaseError("No case is open.", "Create a case (Ctrl+N) or open one (Ctrl+O) first."))
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

        return self.submit(lambda token: _open_model_job(case, Path(path), token),
                           label=f"Fingerprinting model {Path(path).name}", on_result=done)

    def add_served_model(self) -> Optional[Any]:
        """The served-model dialog (gui/dialogs/server_model.py); returns it (tests drive it)."""
        if self.case is None:
            self.show_error(CaseError("No case is open.", "Create a case (Ctrl+N) or open one (Ctrl+O) first."))
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
        models = [p for p in paths if looks_like_model(p)]
        documents = [p for p in paths if p not in models]
        folders = [p for p in documents if p.is_dir()]
        if folders:
            self.show_error(ModelError(
                f"{folders[0]} is a folder but not a model folder (it has no config.json and no .gguf file).",
                "Drop a Hugging Face model folder, a .gguf file, or document files."))
            documents = [p for p in documents if not p.is_dir()]
        if documents:
            self.import_documents(documents)
        for model in models:
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

        view = self._find_tab(f"protocol:{protocol_id}")
        if view is None:
            view = self._add_tab(f"protocol:{protocol_id}", ProtocolView(self, protocol_id),
                                 f"Protocol {protocol_id}", "Protocol text and its attempts")
        return view

    def _find_tab(self, key: str) -> Optional[QWidget]:
        for i in range(self.tabs.count()):
            widget = self.tabs.widget(i)
            if widget.property("tab_key") == key:
                self.tabs.setCurrentIndex(i)
                return widget
        return None

    def _add_tab(self, key: str, widget: QWidget, title: str, tip: str = "") -> QWidget:
        widget.setProperty("tab_key", key)
        index = self.tabs.addTab(widget, title)
        if tip:
            self.tabs.setTabToolTip(index, tip)
        self.tabs.setCurrentIndex(index)
        widget.setFocus()  # keys (F7 in the comparison) work at once, even after a dialog closed
        return widget

    def _close_tab(self, index: int) -> None:
        widget = self.tabs.widget(index)
        if widget is self.welcome or widget.property("tab_key") == "overview":  # closed with the case only
            return
        self.tabs.removeTab(index)
        widget.deleteLater()

    def open_document(self, doc_id: int, select: Optional[tuple[int, int]] = None) -> Any:
        from memoview.gui.views.document_view import DocumentView

        key = f"document:{doc_id}"
        view = self._find_tab(key)
        if view is None:
            try:
                document = self.case.document(doc_id)
            except MemoviewError as exc:
                self.show_error(exc)
                return None
            view = DocumentView(document)
            view.extract_requested.connect(self.extract_from_passage)
            view.window_clicked.connect(self.open_sweep_window)
            title = document.title if len(document.title) <= 28 else document.title[:27] + "…"
            self._add_tab(key, view, ("◐ " if document.is_control else "") + title, document.title)
        from memoview.gui.views.overview import findings_sentence, sweep_layers

        view.set_sweeps(sweep_layers(self.case, doc_id), findings_sentence(self.case, doc_id))  # type: ignore[attr-defined]
        if select is not None:
            view.select_range(*select)  # type: ignore[attr-defined]
        return view

    def _sweep_windows_for(self, doc_id: int) -> list[Any]:
        """Windows of the latest finished sweep of this document (the memorization map)."""
        sweeps = [a for a in self.case.attempts(document_id=doc_id, method="sweep") if a.status in ("done", "cancelled")]
        if not sweeps:
            return []
        return self.case.sweep_windows(sweeps[-1].id)

    def open_sweep_window(self, attempt_id: int, index: int) -> Any:
        from memoview.gui.views.window_comparison import open_window_comparison

        return open_window_comparison(self, attempt_id, index)

    def open_attempt(self, attempt_id: int) -> Any:
        key = f"attempt:{attempt_id}"
        view = self._find_tab(key)
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
        return self._add_tab(key, view, f"Attempt #{attempt_id}", f"Comparison for attempt {attempt_id}")

    def open_model_info(self, model_id: int) -> None:
        info = self.case.model(model_id)
        lines = [f"<b>{info.name}</b> ({info.format.upper()}, {info.architecture})",
                 f"Path: {info.path}", f"Parameters: {info.parameter_count:,}",
                 f"Fingerprint SHA-256: <code>{info.fingerprint}</code>",
                 f"Context length: {info.context_length or 'unknown'}; dtype {info.dtype or 'unknown'}; "
                 f"quantization {info.quantization or 'none'}",
                 f"Files: {len(info.files)}"]
        box = QMessageBox(QMessageBox.Icon.Information, "Model", "<br>".join(lines), parent=self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def show_attempts_table(self) -> Any:
        if self.case is None:
            return None
        view = self._find_tab("attempts")
        if view is not None:
            return view
        from memoview.gui.views.attempts_table import AttemptsTable

        return self._add_tab("attempts", AttemptsTable(self), "Attempts", "Every attempt in the case")

    # ================================================================== extraction / export / verify
    def run_extraction(self, document_id: Optional[int] = None,
                       passage: Optional[tuple[int, int]] = None) -> Any:
        if self.case is None:
            self.show_error(CaseError("No case is open.", "Create a case (Ctrl+N) or open one (Ctrl+O) first."))
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
            self.last_verify_report = result
            report = result.case
            if result.ok:
                text = (f"The case verified: {report.audit_entries} audit entries in an unbroken hash chain, "
                        f"{report.documents_checked} documents and {report.attempts_checked} attempts match "
                        "what was logged.")
                if result.models_checked is not None:
                    text += f"\n\nModel files: {result.models_checked} model(s) re-read byte for byte; all match."
                if result.reruns is not None:
                    text += (f"\n\nRe-runs: {len(result.reruns)} attempt(s) re-run on this machine, all matching "
                             "the record (greedy and beam outputs token for token, sweeps window by window).")
                icon = QMessageBox.Icon.Information
            elif result.cancelled and not report.problems:
                text = "Verification was cancelled before it finished; nothing was found wrong up to that point."
                icon = QMessageBox.Icon.Warning
            else:
                text = "Verification found problems:\n\n" + "\n".join(f"• {p}" for p in report.problems)
                icon = QMessageBox.Icon.Warning
            from memoview.core.integrity import report_notes

            text += report_notes(report)
            box = QMessageBox(icon, "Verify case", text, parent=self)
            box.setObjectName("verifyResult")
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            self.last_verify_box = box
            box.open()

        from memoview.core.verification import verify_fully

        return self.submit(lambda token: verify_fully(case, models=full, rerun=full, cancel=token, loaded=loaded),
                           label="Verifying the case fully" if full else "Verifying the case", on_result=done)

    # ================================================================== misc
    def toggle_dark(self) -> None:
        from memoview.gui.app import apply_theme

        name = "dark" if self.actions_by_name["dark_mode"].isChecked() else "light"
        settings.set_theme(name)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, name)
        self._style_notice()
        for i in range(self.tabs.count()):  # open views re-pick their per-palette colours
            refresh = getattr(self.tabs.widget(i), "refresh_theme", None)
            if callable(refresh):
                refresh()
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
