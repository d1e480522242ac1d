"""What the wizard shows before a run (core.extraction.preview): first valid start, reasons, window counts.

The token sequence here is built from the words of the text (one token per word, offsets exact): the
planning logic only reads ids and offsets, and the GUI test runs the same code on the fixture model's
real tokenizer.
"""

from __future__ import annotations

import re

import pytest

from memoview.core import errors
from memoview.core.extraction.passage import TokenizedDocument, sweep_passages
from memoview.core.extraction.preview import first_valid_start, plan_passage, plan_sweep
from memoview.core.records import Document

TEXT = " ".join(f"word{i}" for i in range(300))


def _doc(text: str = TEXT) -> TokenizedDocument:
    doc = Document(id=1, title="Work", author="", source="", date_obtained="", notes="", filename="w.txt",
                   media_type="text/plain", byte_size=len(text), raw_sha256="", text_sha256="", text=text,
                   extractor="", extractor_version="", encoding="utf-8", is_control=False, imported_at="")
    spans = [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]
    return TokenizedDocument(doc, tuple(range(len(spans))), tuple(spans))


def test_first_valid_start_is_the_character_of_token_k() -> None:
    tok = _doc()
    start = first_valid_start(tok, 50, 50)
    assert TEXT[start:].startswith("word50 ")
    plan = plan_passage(tok, 50, 50, start)
    assert plan.prefix_tokens == 50 and plan.suffix_tokens == 50
    assert plan.prompt_text.split() == [f"word{i}" for i in range(50)]
    assert plan.target_text.split() == [f"word{i}" for i in range(50, 100)]


def test_too_early_and_too_late_say_why_and_where_it_can_start() -> None:
    tok = _doc()
    with pytest.raises(errors.ValidationError) as early:
        plan_passage(tok, 50, 50, 0)
    assert "token 50 or later" in early.value.message
    last = tok.char_start(300 - 50)
    assert f"{first_valid_start(tok, 50, 50):,} to {last:,}" in early.value.hint
    with pytest.raises(errors.ValidationError) as late:
        plan_passage(tok, 50, 50, len(TEXT) - 5)
    assert "runs past the end" in late.value.message
    with pytest.raises(errors.ValidationError):
        first_valid_start(tok, 200, 200)  # longer than the document


@pytest.mark.parametrize("stride,unit", [(50, "tokens"), (7, "tokens"), (13, "chars"), (1, "chars")])
def test_sweep_plan_counts_the_same_windows_as_the_sweep(stride: int, unit: str) -> None:
    tok = _doc()
    plan = plan_sweep(tok, 30, 20, stride, unit)
    assert plan.windows == len(sweep_passages(tok, 30, 20, stride, unit))
    assert plan.first_prompt_text.split()[0] == "word0" and len(plan.first_target_text.split()) == 20


def test_served_model_prompt_plan_says_what_the_server_receives() -> None:
    """A served model (engine "openai") gets chat messages as they are (the server applies its own template) and
    free text as given. A stand-in object with the engine's name and encode(): what is tested is the wording
    path only, which needs no server (the served-model path itself is tested against a real llama.cpp server in
    tests/core/test_server_llamacpp.py)."""
    from types import SimpleNamespace

    from memoview.core.engines.base import CapabilityError
    from memoview.core.extraction.preview import plan_prompt

    def no_tokenizer(_text: str) -> list[int]:
        raise CapabilityError("This needs the served model's tokenizer, and none was given.")

    served = SimpleNamespace(name="openai", encode=no_tokenizer)
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Quote the opening."}]
    chat = plan_prompt(served, None, messages)
    assert chat.tokens is None and "user: Quote the opening." in chat.text and "chat completions" in chat.construction
    text = plan_prompt(served, "What is the first line?", None)
    assert text.text == "What is the first line?" and text.tokens is None and "as given" in text.construction
    counted = plan_prompt(SimpleNamespace(name="openai", encode=lambda t: list(range(len(t.split())))),
                          "What is the first line?", None)
    assert counted.tokens == 5
