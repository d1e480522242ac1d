"""The GUI's Verify case message: head, entry count, self-asserted clock, and the read-only note."""

from __future__ import annotations

from pathlib import Path

import pytest

from memoview.gui.app import create_main_window
from tests.core.test_integrity import build_case

pytestmark = pytest.mark.gui
SHOTS = Path("/tmp/shots/integrity")


def _verify_text(qtbot, path: Path) -> str:
    w = create_main_window(None)
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    qtbot.waitExposed(w)
    try:
        assert w.open_case(path)
        head = w.case.head()
        with qtbot.waitSignal(w.case_verified, timeout=30000) as verified:
            w.verify_case()
        _result, box = verified.args
        qtbot.waitExposed(box)
        SHOTS.mkdir(parents=True, exist_ok=True)
        box.grab().save(str(SHOTS / f"verify_{path.stem}.png"))
        text = box.text()
        assert head.hash in text and f"{head.entries} entries" in text
        return text
    finally:
        w.shutdown()


def test_verify_message_shows_head(qtbot, tmp_path: Path) -> None:
    path = tmp_path / "writable.memoview"
    build_case(path)
    text = _verify_text(qtbot, path)
    assert "self-asserted" in text and "read-only" not in text


def test_verify_message_on_read_only_case(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Read-only is simulated at the permission check (root can write through chmod);
    tests/reliability covers a real read-only mount."""
    from memoview.core.storage import connection

    path = tmp_path / "readonly.memoview"
    build_case(path)
    before = path.read_bytes()
    monkeypatch.setattr(connection, "writable", lambda _p: False)
    text = _verify_text(qtbot, path)
    assert "not written to its audit log" in text and "damaged" not in text.lower()
    assert path.read_bytes() == before
