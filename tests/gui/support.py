"""Helpers for the GUI tests: real cases built through the core facade."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional

from memoview.core.records import ModelFile, ModelInfo
from tests.support.documents import document_from_text

REPO = Path(__file__).resolve().parents[2]
SCREENSHOT_ENV = "MEMOVIEW_SCREENSHOT_DIR"  # tests/conftest.py points it at pytest's tmp folder unless set


def screenshot_dir() -> Path:
    """Where GUI tests save screenshots: $MEMOVIEW_SCREENSHOT_DIR (never the repository)."""
    folder = Path(os.environ.get(SCREENSHOT_ENV) or Path(os.environ.get("TMPDIR", "/tmp")) / "memoview-screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def model_info(name: str = "tiny-model", fingerprint: str = "ab" * 32) -> ModelInfo:
    return ModelInfo(
        path=f"/models/{name}", format="hf", architecture="GPT2LMHeadModel", parameter_count=123456,
        fingerprint=fingerprint, files=(ModelFile("model.safetensors", 10, "cd" * 32, "weights"),), name=name,
    )


def make_case(path: Path, texts: Optional[list[tuple[str, str, bool]]] = None) -> Any:
    """A case with documents (title, text, is_control) and one registered model."""
    from memoview.core.case import Case

    case = Case.create(path)
    for title, text, control in texts or [
        ("The Raven", "Once upon a midnight dreary, while I pondered, weak and weary, " * 20, False),
        ("Control essay", "A freshly written text that no model has seen in training. " * 10, True),
    ]:
        case.add_document(document_from_text(text, f"{title}.txt", title=title), is_control=control)
    case.add_model(model_info())
    return case


def screenshot(widget: Any, name: str) -> Path:
    out = screenshot_dir() / f"{name}.png"
    widget.grab().save(str(out))
    return out


def record_prefix_attempt(case: Any, doc: Any, prefix_start: int, start: int, end: int, output: str,
                          greedy_exact: int = 5, status: str = "done") -> Any:
    """Record a prefix-continuation attempt as the extraction engine would (hand-made numbers)."""
    from memoview.core.records import Attempt, AttemptSpec

    model = case.models()[0]
    spec = AttemptSpec(
        method="prefix", prompt_class="prefix", model_id=int(model.id), model_fingerprint=model.fingerprint,
        document_id=doc.id,
        params={"decoding": "greedy", "max_new_tokens": 50, "temperature": 1.0, "top_k": None, "top_p": None,
                "num_beams": 1, "n_samples": 1, "repetition_penalty": 1.0},
        target={"prefix_start_char": prefix_start, "start_char": start, "end_char": end,
                "prefix_start_token": 0, "start_token": 10, "end_token": 20, "prefix_tokens": 10,
                "suffix_tokens": 10},
        bos_policy="none", seed=0,
    )
    attempt = Attempt(
        id=0, spec=spec, status=status, prompt_text=doc.text[prefix_start:start], output_text=output,
        target_text=doc.text[start:end], target_token_ids=tuple(range(10)),
        metrics={"greedy_exact": greedy_exact, "memorization_score": greedy_exact / 10, "log10_pz": -1.5,
                 "pz_top_k": 40, "pz_temperature": 1.0, "bits": 4.98, "n_samples_p50": 22, "n_samples_p95": 94,
                 "n_samples_p99": 144},
        started_at="2026-01-01T00:00:00Z", finished_at="2026-01-01T00:00:01Z",
    )
    return case.record_attempt(attempt)



def emitted(signal: Any) -> list[Any]:
    """Every emission of a Qt signal from now on: its argument, or the tuple of its arguments.

    How tests watch the main window (``emitted(win.error_shown)``) instead of attributes kept for tests."""
    seen: list[Any] = []
    signal.connect(lambda *args: seen.append(args[0] if len(args) == 1 else args))
    return seen


def wizard_to_page(wizard: Any, page: Any) -> None:
    """Press Next until the wizard shows ``page``."""
    while wizard.currentPage() is not page:
        wizard.next()
