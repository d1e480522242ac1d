"""Helpers for the GUI tests: real cases built through the core facade."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, Optional

from memoview.core.documents.base import LoadedDocument
from memoview.core.records import ModelFile, ModelInfo

REPO = Path(__file__).resolve().parents[2]
SCREENSHOT_ENV = "MEMOVIEW_SCREENSHOT_DIR"  # tests/conftest.py points it at pytest's tmp folder unless set


def screenshot_dir() -> Path:
    """Where GUI tests save screenshots: $MEMOVIEW_SCREENSHOT_DIR (never the repository)."""
    folder = Path(os.environ.get(SCREENSHOT_ENV) or Path(os.environ.get("TMPDIR", "/tmp")) / "memoview-screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def loaded(text: str, filename: str, title: str = "", author: str = "") -> LoadedDocument:
    raw = text.encode("utf-8")
    return LoadedDocument(
        path=f"/evidence/{filename}", filename=filename, media_type="text/plain", raw=raw,
        raw_sha256=hashlib.sha256(raw).hexdigest(), text=text,
        text_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        extractor="test-plain", extractor_version="1", encoding="utf-8", title=title, author=author,
    )


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
        case.add_document(loaded(text, f"{title}.txt", title=title), is_control=control)
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


class TickMonitor:
    """A 20 ms UI timer that records the gaps between its ticks: a gap well
    over 20 ms means the event loop was blocked (the UI froze) that long."""

    def __init__(self, interval_ms: int = 20) -> None:
        from PySide6.QtCore import QElapsedTimer, QTimer

        self.gaps: list[int] = []
        self._clock = QElapsedTimer()
        self._timer = QTimer()
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self._last = 0

    def _tick(self) -> None:
        now = self._clock.elapsed()
        self.gaps.append(now - self._last)
        self._last = now

    def __enter__(self) -> "TickMonitor":
        self._clock.start()
        self._last = self._clock.elapsed()
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.stop()

    @property
    def longest_stall_ms(self) -> int:
        """The longest gap, leaving out the first (it includes the start-up of the timer)."""
        return max(self.gaps[1:], default=0)
