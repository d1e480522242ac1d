"""Case ▸ Exports: the production log dialog on a real case with real exports (screenshot saved)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from memoview.core.case import Case
from memoview.core.exhibits.export import ExportOptions, export_exhibit
from memoview.core.jobs import run_job
from memoview.gui.app import create_main_window
from tests.gui.support import make_case, record_prefix_attempt, screenshot

pytestmark = pytest.mark.gui

TEXT = ("Once upon a midnight dreary, while I pondered, weak and weary, over many a quaint and curious volume "
        "of forgotten lore, while I nodded, nearly napping, suddenly there came a tapping.")


def test_exports_dialog_lists_each_export(qtbot, case_path: Path, tmp_path: Path) -> None:
    case = make_case(case_path, [("The Raven", TEXT, False), ("Control essay", "Fresh words nobody trained on. " * 8, True)])
    raven = case.documents()[0]
    start = TEXT.index("over many")
    record_prefix_attempt(case, raven, 0, start, len(TEXT), TEXT[start:start + 60], 10)
    pdfs = []
    for number, date in (("12", "2025-02-03"), ("13", "2025-02-04")):
        out = tmp_path / f"ex{number}.pdf"
        run_job(export_exhibit(case, ExportOptions(include_all=True, number=number, bates_prefix="PLTF-",
                                                   creation_date=date), out))
        pdfs.append(out)
    run_job(export_exhibit(case, ExportOptions(include_all=True, creation_date="2025-02-05"),
                           tmp_path / "PREVIEW-Exhibit.pdf"))
    case.close()
    w = create_main_window(case_path)
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    qtbot.waitExposed(w)
    try:
        w.actions_by_name["exports_log"].trigger()
        dlg = w.exports_dialog
        qtbot.waitExposed(dlg)
        assert dlg.width() <= 1280 and dlg.height() <= 800
        table = dlg.table
        assert table.rowCount() == 2  # previews hidden by default
        cells = [[table.item(r, c).text() for c in range(table.columnCount())] for r in range(table.rowCount())]
        assert cells[0][0] == "ex12.pdf" and cells[1][0] == "ex13.pdf"
        assert cells[0][1] == "Exhibit 12" and cells[0][2] == "2025-02-03" and cells[0][3].startswith("PLTF-000001")
        assert cells[0][6] == hashlib.sha256(pdfs[0].read_bytes()).hexdigest()
        assert dlg.previews.isVisibleTo(dlg)  # shown only because this case holds a logged preview
        dlg.previews.setChecked(True)
        assert table.rowCount() == 3 and "(preview)" in table.item(2, 0).text()
        saved = dlg.save_json(str(tmp_path / "log.json"))
        assert saved is not None and len(json.loads(saved.read_text())) == 3
        dlg.previews.setChecked(False)
        shot = screenshot(dlg, "exports_dialog")
        if Path("/tmp/shots").exists():
            (Path("/tmp/shots") / "exhibit").mkdir(exist_ok=True)
            shutil.copy(shot, Path("/tmp/shots/exhibit/exports_dialog.png"))
        dlg.close()
    finally:
        w.shutdown()
    with Case.open(case_path) as again:
        assert again.verify().ok
