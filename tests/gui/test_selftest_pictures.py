"""`memoview selftest --screenshot` names only pictures it really wrote.

Found by hand on the merged code: with `--screenshot` in a folder that did not exist, the self-test printed
`screenshot: <path>` although Qt had written nothing (``QPixmap.save`` only returns False).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QLabel

from memoview.gui.selftest import save_picture

pytestmark = pytest.mark.gui


def test_save_picture_creates_the_folder_and_writes_a_png(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    widget = QLabel("memoview")
    qtbot.addWidget(widget)
    widget.resize(120, 40)
    path = tmp_path / "not" / "there" / "shot.png"
    message = save_picture(widget, path, "screenshot")
    assert message == f"screenshot: {path}"
    assert path.read_bytes().startswith(b"\x89PNG")


def test_save_picture_says_when_nothing_was_written(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    widget = QLabel("memoview")
    qtbot.addWidget(widget)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    path = blocker / "shot.png"  # its "folder" is a file: neither mkdir nor Qt can write there
    message = save_picture(widget, path, "screenshot")
    assert message.startswith("screenshot NOT saved")
    assert not path.exists()
