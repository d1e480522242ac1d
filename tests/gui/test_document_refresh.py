"""An open document view follows the case: a sweep run while the work's tab is open shows its map row as
soon as the run finishes, without reopening the tab (the llama.cpp sweep screenshot of the last wave showed
no map row after the sweep). Real parts: the tiny fixture model (real transformers), a real sweep."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gui.support import screenshot
from tests.gui.test_end_to_end import _import, _run_wizard, win  # noqa: F401 - the window fixture

pytestmark = pytest.mark.gui


def test_open_document_view_shows_the_map_row_when_a_sweep_finishes(win, qtbot, fixture_model_dir: Path) -> None:  # noqa: F811
    import torch

    torch.set_num_threads(1)
    _import(win, qtbot, ["lighthouse_keeper.txt"])
    win.open_model(fixture_model_dir)
    qtbot.waitUntil(lambda: not win.runner.is_busy(), timeout=60000)
    doc = win.case.documents()[0]
    view = win.open_document(doc.id)
    assert not view.windows and not view.map_panel.bars and not view.map_panel.isVisibleTo(view)
    wizard = _run_wizard(win, qtbot, document_id=doc.id, whole=True, prefix=20, suffix=20, stride=40)
    sweep = wizard.result_attempt
    assert sweep.spec.method == "sweep" and sweep.status == "done"
    # The run finished; the wizard is still open, and the view was never reopened.
    assert len(view.map_panel.bars) == 1 and view.map_panel.isVisibleTo(view)
    assert len(view.windows) == len(win.case.sweep_windows(sweep.id)) > 0
    qtbot.waitUntil(lambda: not view.findings_pending, timeout=60000)  # the findings line comes from the worker
    assert view.map_label.isVisibleTo(view) and "extractable" in view.map_label.text()
    wizard.reject()  # closing the wizard without "Open the result" leaves the view up to date
    win.tabs.setCurrentWidget(view)
    qtbot.wait(50)
    assert len(view.map_panel.bars) == 1 and view.map_panel.bars[0].isVisible()
    screenshot(win, "document_view_after_sweep")
