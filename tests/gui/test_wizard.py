"""The extraction wizard's steps (no model needed): pre-fill, method explanations, summary, notice."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QLabel

from tests.gui.support import make_case, screenshot

pytestmark = pytest.mark.gui


@pytest.fixture()
def win(make_window, case_path: Path):
    make_case(case_path).close()
    return make_window(case_path)


def test_try_to_extract_from_here_prefills_the_wizard(win, qtbot) -> None:
    doc = win.case.documents()[0]
    view = win.open_document(doc.id)
    view.select_range(300, 420)
    view.extract_button.click()
    wizard = win.wizard
    assert wizard is not None and wizard.isVisible()
    assert wizard.model_page.model_id() == win.case.models()[0].id  # the only model is preselected
    wizard.next()
    assert wizard.document_page.document_id() == doc.id
    wizard.next()
    assert wizard.passage_page.char_start.value() == 300
    assert not wizard.passage_page.whole_work()
    wizard.next()
    page = wizard.method_page
    assert page.method() == "prefix"
    assert not page.radios["sweep"].isEnabled()  # a sweep is for the whole work
    texts = " ".join(label.text() for label in page.findChildren(QLabel))
    for citation in ("Carlini et al. 2023", "Hayes et al. 2024", "Cooper et al. 2025", "weak evidence"):
        assert citation in texts
    wizard.next()
    params = wizard.parameters_page
    assert params.prefix.value() == 50 and params.suffix.value() == 50
    assert not params.advanced_box.isVisible()  # folded
    params.advanced_toggle.setChecked(True)
    assert params.advanced_box.isVisible() and params.top_k.value() == 40
    wizard.next()
    run = wizard.run_page
    assert "Prompt class: <b>prefix</b>" in run.summary.text()
    assert "never counted" in run.summary.text()
    assert "may be disclosed" in run.notice.text()
    assert not run.isComplete()
    wizard.resize(820, 640)
    screenshot(wizard, "wizard_run_page")
    wizard.back()
    wizard.back()
    screenshot(wizard, "wizard_method_page")
    wizard.close()


def test_whole_work_offers_the_sweep_with_its_default(win, qtbot) -> None:
    wizard = win.run_extraction()
    wizard.next()
    wizard.document_page.list.setCurrentRow(0)
    wizard.next()
    wizard.passage_page.whole_radio.setChecked(True)
    wizard.next()
    assert wizard.method_page.method() == "sweep"
    assert not wizard.method_page.radios["prefix"].isEnabled()
    assert "One passage" in wizard.method_page.radios["prefix"].toolTip()  # says how to enable it
    wizard.next()
    req = wizard.request()
    assert req.method == "sweep" and req.passage is None
    assert req.params["prefix"] == 50 and req.params["suffix"] == 50 and req.params["stride"] == 50
    wizard.close()
