"""The wizard's start-of-text choice (issue 12 item 6) on the real window with the tiny fixture model: the
preview shows the prompt the core will send, and the run records the policy."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gui.support import emitted, screenshot, wizard_to_page

pytestmark = pytest.mark.gui


@pytest.fixture()
def win(make_window, tmp_path: Path, fixture_model_dir: Path):  # type: ignore[no-untyped-def]
    import torch

    from memoview.core.jobs import run_job
    from memoview.core.models.inspect import inspect_model
    from tests.support.fixture_case import make_fixture_case

    torch.set_num_threads(1)
    case = make_fixture_case(tmp_path / "bos.memoview")
    case.add_model(run_job(inspect_model(fixture_model_dir)))
    case.close()
    return make_window(tmp_path / "bos.memoview", size=(1280, 800))


def test_bos_inside_the_prefix_from_the_wizard(win, qtbot) -> None:  # type: ignore[no-untyped-def]
    wizard = win.run_extraction()
    wizard.resize(900, 680)
    wizard_to_page(wizard, wizard.method_page)
    wizard.method_page.radios["prefix"].setChecked(True)
    wizard_to_page(wizard, wizard.parameters_page)
    params = wizard.parameters_page
    params.advanced_toggle.setChecked(True)
    assert params.bos.isVisibleTo(params) and params.bos.choice() == "outside"
    assert "bos" not in params.params("prefix")  # the default request is unchanged
    qtbot.waitUntil(lambda: wizard.tokenized() is not None, timeout=120000)
    params.prefix.setValue(30)
    params.suffix.setValue(20)
    params.bos.set_choice("in-prefix")
    assert "Cooper et al." in params.bos.toolTip()
    label = params.basic_rows.labelForField(params.prefix)
    assert "start-of-text token and k \u2212 1 tokens of the work" in label.text()
    assert params.params("prefix")["bos"] == "in-prefix" and params.params("sweep")["bos"] == "in-prefix"
    wizard.next()
    qtbot.waitUntil(lambda: wizard.run_page.run_button.isEnabled(), timeout=10000)
    assert "Prompt: 29 tokens of the work" in wizard.run_page.plan.text()  # BOS is the 30th
    assert "prompt 30 tokens (the start-of-text token and 29 tokens of the work)" in wizard.run_page.summary.text()
    screenshot(params, "findings_wizard_bos")
    errors = emitted(win.error_shown)
    wizard.run_page.run_button.click()
    qtbot.waitUntil(lambda: wizard.result_attempt is not None or bool(errors), timeout=180000)
    assert not errors, errors[0].message
    a = wizard.result_attempt
    assert a.spec.bos_policy == "bos-in-prefix" and len(a.prompt_token_ids) == 30
    assert a.spec.target["prefix_tokens"] == 29
    wizard.close()


def test_a_sweep_windows_comparison_and_header_name_the_works_tokens() -> None:
    """A window of an in-prefix sweep, opened from the map: 'given 19 tokens of the work' for k = 20."""
    from memoview.core.records import Attempt, AttemptSpec, SweepWindow
    from memoview.gui.views.window_comparison import window_attempt
    from memoview.gui.wording import bos_words

    spec = AttemptSpec(method="sweep", prompt_class="prefix", model_id=1, model_fingerprint="ab" * 32, document_id=1,
                       params={"prefix_tokens": 20, "suffix_tokens": 20, "bos": "in-prefix"},
                       bos_policy="bos-in-prefix")
    window = SweepWindow(1, 0, 19, 80, 160, 0, 20, 1.0, -0.1, -0.1, continuation="x")
    assert window_attempt(Attempt(id=1, spec=spec, status="done"), window).spec.target["prefix_tokens"] == 19
    default = Attempt(id=2, spec=AttemptSpec(**{**spec.__dict__, "params": {"prefix_tokens": 20},
                                                "bos_policy": "prepend-bos"}), status="done")
    assert window_attempt(default, window).spec.target["prefix_tokens"] == 20
    from memoview.gui.views.sweep_map import layer_label

    assert layer_label(Attempt(id=1, spec=spec, status="done"), "m").endswith("BOS counted in the prompt")
    assert "BOS" not in layer_label(default, "m")  # two sweeps shown one above the other stay distinguishable
    assert "Cooper et al." in bos_words("bos-in-prefix") and "k \u2212 1 tokens of the work" in bos_words("bos-in-prefix")
