"""`memoview selftest`: check an installation the way a user would use it, in the real window.

Opens the demo case in the main window (offscreen when there is no screen),
checks that the case tree lists its documents, runs one prefix attempt with
the demo model on the GUI's worker (so torch, transformers and the model
files work in this install), and exports an exhibit of it (so the fonts and
reportlab work). Used by the bundle's smoke test and handy in a support
request. It writes only to its own case (a temporary folder by default).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Optional

SELFTEST_DOCUMENT = "Gettysburg Address (Bliss copy)"


def run_selftest(case_path: Path, output: Path, screenshot: Optional[Path] = None, timeout_s: float = 1800) -> int:
    from PySide6.QtCore import QTimer

    from memoview.core.demo import prepare_demo_case
    from memoview.core.jobs import run_job
    from memoview.gui.app import create_main_window, ensure_application
    from memoview.gui.engine import RunRequest, run_attempt_job

    t0 = time.monotonic()

    def say(text: str) -> None:
        print(f"[{time.monotonic() - t0:6.1f} s] {text}", flush=True)

    result = run_job(prepare_demo_case(case_path))
    say(f"demo case ready: {result.case_path} ({len(result.imported)} documents imported)")
    app = ensure_application()
    window = create_main_window(Path(result.case_path))
    window.resize(1280, 820)
    window.show()
    state: dict[str, Any] = {"code": 1}
    case = window.case
    if case is None:
        say("FAIL: the window did not open the demo case")
        return 1
    titles = [d.title for d in case.documents()]
    tree_docs = window.case_tree.items_of("documents")
    say(f"window shows {len(tree_docs)} documents; icon {'set' if not app.windowIcon().isNull() else 'MISSING'}")
    if len(tree_docs) != len(titles) or app.windowIcon().isNull():
        say("FAIL: the case tree or the window icon is not as expected")
        return 1
    doc = next(d for d in case.documents() if d.title == SELFTEST_DOCUMENT)
    model = case.models()[0]
    request = RunRequest(model_id=int(model.id or 0), document_id=doc.id, method="prefix",
                         params={"token_start": 16, "prefix": 16, "suffix": 32})

    def fail(exc: BaseException, details: str) -> None:
        say(f"FAIL: {type(exc).__name__}: {exc}\n{details}")
        app.quit()

    def exported(export: Any) -> None:
        say(f"exhibit written: {output} ({export.pages} pages)")
        if screenshot is not None:
            say(save_picture(window, screenshot, "screenshot"))
        report_versions(window, screenshot)
        state["code"] = 0
        app.quit()

    def attempt_done(attempt: Any) -> None:
        if attempt is None:
            say("FAIL: the attempt was cancelled")
            app.quit()
            return
        say(f"attempt {attempt.id}: {attempt.status}, output {attempt.output_text[:60]!r}…")
        ident = (attempt.environment or {}).get("engine_identity") or {}
        build = ", ".join(f"{k}={v}" for k, v in sorted((ident.get("build") or {}).items()))
        say(f"engine: {ident.get('engine')} ({ident.get('library')} {ident.get('library_version')}, "
            f"{ident.get('device')}, {ident.get('dtype')}{'; ' + build if build else ''})")
        window.refresh()
        window.open_attempt(attempt.id)
        from memoview.core.exhibits.export import ExportOptions, export_exhibit

        window.submit(lambda token: export_exhibit(case, ExportOptions(attempt_ids=(attempt.id,)), output,
                                                   cancel=token),
                      label="Exporting the self-test exhibit", on_result=exported, on_error=fail)

    def start() -> None:
        say(f"running a prefix attempt on '{doc.title}' with {model.name} (first open of the model may take minutes)")
        window.submit(lambda token: run_attempt_job(case, window.loaded_models, request, token),
                      label="Self-test attempt", on_result=attempt_done, on_error=fail)

    QTimer.singleShot(0, start)

    def timed_out() -> None:
        say("FAIL: timed out")
        app.quit()

    QTimer.singleShot(int(timeout_s * 1000), timed_out)
    app.exec()
    window.shutdown()
    say("PASS" if state["code"] == 0 else "FAILED")
    return int(state["code"])


def save_picture(widget: Any, path: Path, label: str) -> str:
    """Save a PNG of ``widget`` at ``path`` (creating its folder) and say whether it was written.

    ``QPixmap.save`` only returns False on failure (a missing folder, say), so without the check the
    self-test would name a screenshot that does not exist.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"{label} NOT saved: cannot create {path.parent} ({exc.strerror or exc})"
    if widget.grab().save(str(path)):
        return f"{label}: {path}"
    return f"{label} NOT saved: Qt could not write {path} (is the folder writable and the name a .png?)"


def report_versions(window: Any, screenshot: Optional[Path]) -> None:
    """Print what Help ▸ About shows (package metadata must survive the install, e.g. inside a bundle),
    and save a picture of the About box next to the window's screenshot."""
    from memoview.gui.dialogs.about import show_about
    from memoview.support import library_versions

    shown = ", ".join(f"{label} {version or 'NOT INSTALLED'}" for label, version in library_versions().items())
    print(f"About shows: {shown}", flush=True)
    dialog = show_about(window)
    if screenshot is not None:
        about = screenshot.with_name(f"{screenshot.stem}_about{screenshot.suffix}")
        dialog.adjustSize()
        print(save_picture(dialog, about, "About screenshot"), flush=True)
    dialog.close()
