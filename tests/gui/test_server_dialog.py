"""The served-model dialog and the comparison view of a deployed-system attempt, against llama.cpp's real server.

Driven as a user would: File > Add served model…, type the address and the
model id, Test connection (the probe runs on the worker), read the
capabilities, Add to case; then a chat attempt on that model opens in the
comparison view with its stored request and response. Skipped with the
reason where llama-cpp-python[server] or the demo model is missing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from memoview.core.case import Case
from tests.gui.support import screenshot
from tests.support.server_fixtures import API_KEY, KEY_ENV

pytestmark = [pytest.mark.gui, pytest.mark.demo]


def _window(qtbot: Any, path: Path) -> Any:
    from memoview.gui.app import create_main_window

    Case.create(path).close()
    win = create_main_window(path)
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    return win


def test_add_served_model_from_the_gui(qtbot: Any, tmp_path: Path, server: Any, demo_gguf: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, API_KEY)
    win = _window(qtbot, tmp_path / "gui.memoview")
    assert "add_served_model" in win.actions_by_name  # File > Add served model…
    dialog = win.add_served_model()
    qtbot.waitUntil(lambda: dialog.isVisible(), timeout=5000)
    dialog.url.setText(server.url)
    dialog.model_id.setText(server.model_id)
    dialog.tokenizer.setText(str(demo_gguf))
    dialog.key_env.setText(KEY_ENV)
    assert "A key is set" in dialog.key_status.text() and API_KEY not in dialog.key_status.text()
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.add_button.isEnabled(), timeout=120_000)
    text = dialog.capabilities_text.toPlainText()
    assert "Connected" in text and "llama-cpp-python" in text
    assert "Prompt log-probs (teacher-forced scoring): yes" in text and "Whole-work sweep: available" in text
    screenshot(dialog, "server_model_dialog")
    shots = Path("/tmp/shots/server")
    shots.mkdir(parents=True, exist_ok=True)
    dialog.grab().save(str(shots / "server_model_dialog.png"))
    dialog.add_button.click()
    qtbot.waitUntil(lambda: dialog.added is not None, timeout=60_000)
    models = win.case.models()
    assert len(models) == 1 and models[0].format == "openai"
    assert "weights not available" in " ".join(models[0].notes)


def test_comparison_view_shows_the_stored_request_and_response(qtbot: Any, tmp_path: Path, engine: Any,
                                                               key: None) -> None:
    from memoview.core.documents.importer import import_files
    from memoview.core.extraction.prompts import PromptRequest, run_prompt
    from memoview.core.jobs import run_job
    from memoview.gui.views.comparison_view import ComparisonView

    path = tmp_path / "cmp.memoview"
    with Case.create(path) as case:
        run_job(import_files(case, [Path(__file__).parents[2] / "memoview" / "resources" / "demo" / "gettysburg_address_bliss.txt"]))
        req = PromptRequest(messages=[{"role": "user", "content": "What did Lincoln say at Gettysburg? Quote it."}],
                            n_samples=1, seed=3, max_new_tokens=40, decoding="greedy", prompt_class="ordinary")
        (attempt,) = run_job(run_prompt(case, engine, req, document=case.documents()[0]))
    from memoview.gui.app import create_main_window

    win = create_main_window(path)
    qtbot.addWidget(win)
    win.resize(1500, 950)
    win.show()
    view = ComparisonView(win, win.case.attempt(attempt.id))
    qtbot.addWidget(view)
    view.resize(1500, 950)
    view.show()
    panel = view.exchanges
    assert panel is not None and panel.picker.count() == 1
    shown = panel.text.toPlainText()
    assert "REQUEST  SHA-256" in shown and "RESPONSE SHA-256" in shown and "/v1/chat/completions" in shown
    assert "What did Lincoln say at Gettysburg?" in shown
    body = json.loads(win.case.server_exchanges(attempt.id)[0]["response_body"])
    assert body["choices"][0]["message"]["content"][:20] in shown
    assert API_KEY not in shown
    assert "deployed system" in view.header.text()
    qtbot.wait(300)
    screenshot(view, "server_comparison_view")
    view.grab().save(str(Path("/tmp/shots/server") / "server_comparison_view.png"))
