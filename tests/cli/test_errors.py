"""Unexpected faults in the CLI: one clear message and the log's path, a non-zero exit, no traceback.

Each test runs memoview as a real process (``python -c`` calling ``memoview.cli.main()`` the way the
``memoview`` script does) with one internal function replaced by one that raises, because a fault in
memoview cannot be provoked from outside by design. That replacement is the only stand-in.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from memoview.cli.errors import EXIT_UNEXPECTED


def _memoview_with_fault(script: str, *argv: str) -> subprocess.CompletedProcess[str]:
    code = textwrap.dedent(script) + textwrap.dedent(f"""
        import sys
        from memoview.cli import main
        sys.argv = ["memoview", *{list(argv)!r}]
        raise SystemExit(main())
    """)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def _log() -> Path:
    return Path(os.environ["MEMOVIEW_LOG_DIR"]) / "memoview.log"


def _assert_reported(result: subprocess.CompletedProcess[str], needle: str) -> None:
    assert "Traceback" not in result.stderr, result.stderr
    assert "unexpected problem" in result.stderr and needle in result.stderr
    assert f"details: {_log()}" in result.stderr
    logged = _log().read_text(encoding="utf-8")
    assert needle in logged and "Traceback (most recent call last)" in logged
    assert "memoview 0." in logged  # the version, to reproduce it


def test_a_fault_in_a_command_prints_one_message_and_the_log_path(tmp_path: Path) -> None:
    case = tmp_path / "c.memoview"
    result = _memoview_with_fault("""
        import memoview.core.case as case_module
        def broken(*args, **kwargs):
            raise RuntimeError("boom in the case facade")
        case_module.Case.create = broken
    """, "case", "new", str(case))
    assert result.returncode == EXIT_UNEXPECTED
    _assert_reported(result, "RuntimeError: boom in the case facade")
    assert "'memoview case'" in result.stderr


def test_a_fault_outside_any_command_goes_through_the_excepthook(tmp_path: Path) -> None:
    result = _memoview_with_fault("""
        import memoview.cli as cli
        def broken():
            raise LookupError("parser could not be built")
        cli.build_parser = broken
    """, "case", "info", str(tmp_path / "x.memoview"))
    assert result.returncode != 0
    _assert_reported(result, "LookupError: parser could not be built")


def test_a_fault_in_a_thread_is_reported_not_dumped(tmp_path: Path) -> None:
    result = _memoview_with_fault("""
        import threading
        import memoview.cli.case_cmds  # noqa: F401
        import memoview.core.case as case_module
        original = case_module.Case.create
        def create_with_a_failing_helper(*args, **kwargs):
            worker = threading.Thread(target=lambda: 1 / 0, name="helper")
            worker.start()
            worker.join()
            return original(*args, **kwargs)
        case_module.Case.create = create_with_a_failing_helper
    """, "case", "new", str(tmp_path / "t.memoview"))
    assert result.returncode == 0, result.stderr  # the command itself finished
    _assert_reported(result, "ZeroDivisionError")
    assert "thread helper" in result.stderr


def test_user_errors_keep_their_message_hint_and_code(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "memoview", "case", "info", str(tmp_path / "absent.memoview")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
    assert not _log().exists() or "absent.memoview" not in _log().read_text(encoding="utf-8")


def test_an_unwritable_log_folder_still_gives_a_clear_message(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the log folder should be")
    monkeypatch.setenv("MEMOVIEW_LOG_DIR", str(blocker / "logs"))
    result = _memoview_with_fault("""
        import memoview.core.case as case_module
        def broken(*args, **kwargs):
            raise RuntimeError("boom")
        case_module.Case.create = broken
    """, "case", "new", str(tmp_path / "c.memoview"))
    assert result.returncode == EXIT_UNEXPECTED
    assert "Traceback" not in result.stderr
    assert "RuntimeError: boom" in result.stderr and "could not be written" in result.stderr
