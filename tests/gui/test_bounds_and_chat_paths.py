"""Where the two GUI lines of work meet (int-gui merge): a served model's p_z upper bound stays a bound in the
attempts table and in the comparison view's plain words, and the wizard's chat method becomes a typed chat
request that the session accepts. Plain functions on hand-made metrics; no model is needed."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from memoview.core import errors

pytestmark = pytest.mark.gui


def test_attempts_table_pz_cell_shows_a_bound_as_a_bound() -> None:
    from memoview.gui.views.attempts_table import pz_cell

    bound = {"pz_kind": "upper_bound", "log10_pz": None, "log10_pz_upper_bound": -3.0}
    assert pz_cell(bound, sweep=False) == ("≤ about 1 in 1,000 (bound)", -3.0)
    unknown = {"pz_kind": "upper_bound", "log10_pz": None, "log10_pz_upper_bound": None}
    assert pz_cell(unknown, sweep=False)[0] == "not known (bound only)"
    # A sweep whose best window is only bounded shows the bound; one whose exact window beats every bound
    # shows that exact value.
    assert pz_cell({"pz_kind": "upper_bound", "max_log10_pz": -6.0, "max_log10_pz_upper_bound": -2.0},
                   sweep=True)[0] == "≤ about 1 in 100 (bound)"
    assert pz_cell({"pz_kind": "upper_bound", "max_log10_pz": -1.0, "max_log10_pz_upper_bound": -2.0},
                   sweep=True)[0] == "1 in 10"
    # Exact values and zero as before.
    assert pz_cell({"log10_pz": -2.0}, sweep=False)[0] == "1 in 100"
    assert pz_cell({"log10_pz": None}, sweep=False)[0] == "0 (impossible)"
    assert pz_cell({}, sweep=False)[0] == ""


def test_metric_lines_word_a_bound_as_a_bound_not_as_impossible() -> None:
    from memoview.gui.wording import attempt_metric_lines

    attempt = SimpleNamespace(
        metrics={"greedy_exact": 3, "pz_kind": "upper_bound", "log10_pz": None, "log10_pz_upper_bound": -2.0,
                 "n_samples_p50": None, "n_samples_p95": None, "pz_temperature": 1.0, "pz_top_k": 40,
                 "pz_bound_basis": "upper bound, not a value"},
        target_token_ids=tuple(range(10)), spec=SimpleNamespace(target={}))
    lines = {m.key: m for m in attempt_metric_lines(attempt)}
    assert lines["pz"].value == "p_z ≤ about 1 in 100 (bound)"
    assert "upper bound, not a value" in lines["pz"].sentence.lower()
    assert "impossible" not in lines["pz"].value and "never" not in lines["n_samples_p95"].value


def test_chat_method_builds_a_chat_request_the_session_accepts() -> None:
    from memoview.core.extraction.prompts import PromptRequest
    from memoview.gui.engine import build_request

    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Quote the opening."}]
    request = build_request("chat", {"messages": messages, "decoding": "greedy", "prompt_class": "ordinary"},
                            prompt_text="ignored for chat")
    assert isinstance(request, PromptRequest) and request.text is None and request.messages == messages
    request.validate()
    with pytest.raises(errors.ValidationError):
        build_request("chat", {"messages": messages, "no_such_field": 1})
