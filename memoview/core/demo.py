"""The built-in demo case: the demo model (Gemma 3 270M, Q4_K_M GGUF) and the demo corpus.

The corpus (``memoview/resources/demo/``) mixes famous public-domain texts that a
small base model has seen many times with negative controls written for
memoview, so the demo shows both what reproduction looks like and what its
absence looks like.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from memoview.core import errors
from memoview.core.case import Case
from memoview.core.jobs import CancelToken, Job, Progress
from memoview.paths import resource, user_data_dir

DEMO_CASE_NAME = "demo.memoview"


@dataclass
class DemoResult:
    case_path: Path
    model_path: Optional[Path]
    imported: list[str] = field(default_factory=list)
    model_error: Optional[errors.MemoviewError] = None


def demo_case_path() -> Path:
    return user_data_dir() / DEMO_CASE_NAME


def corpus_manifest() -> list[dict[str, object]]:
    manifest = resource("demo", "corpus.json")
    if not manifest.exists():
        raise errors.MemoviewError(f"The demo corpus manifest {manifest} is missing.",
                                   "Reinstall memoview (the corpus ships inside the package, in memoview/resources/demo/).")
    entries = json.loads(manifest.read_text(encoding="utf-8"))
    return list(entries["documents"] if isinstance(entries, dict) else entries)


def prepare_demo_case(case_path: Optional[Path] = None, *, require_model: bool = True, with_model: bool = True,
                      cancel: Optional[CancelToken] = None) -> Job[DemoResult]:
    """Create (or reopen) the demo case, import the corpus, register the demo model.

    The documents come first, so that a window can show them while the model
    is still being assembled (``with_model=False`` stops there; the GUI then
    runs :func:`add_demo_model` as its own job). Re-running is idempotent:
    documents already in the case (same SHA-256) and the already registered
    model are left as they are.
    """
    from memoview.core.documents.load import load_document

    path = case_path or demo_case_path()
    result = DemoResult(path, None)
    case = Case.open_or_create(path)
    try:
        entries = corpus_manifest()
        known = {d.raw_sha256 for d in case.documents()}
        total = len(entries) + (1 if with_model else 0)
        for index, entry in enumerate(entries):
            if cancel is not None and cancel.cancelled:
                return result
            yield Progress(index, total, f"Importing {entry['title']}")
            loaded = load_document(resource("demo", str(entry["file"])))
            if loaded.raw_sha256 in known:
                continue
            case.add_document(
                loaded,
                title=str(entry["title"]),
                author=str(entry.get("author", "")),
                source=str(entry.get("source", "")),
                date_obtained=str(entry.get("date", "")),
                notes=str(entry.get("notes", "")),
                is_control=bool(entry.get("is_control", False)),
            )
            result.imported.append(str(entry["title"]))
        if with_model:
            try:
                result.model_path = yield from add_demo_model(case, cancel=cancel)
            except errors.MemoviewError as exc:
                if require_model:
                    raise
                result.model_error = exc
        yield Progress(total, total, "Demo case ready")
    finally:
        case.close()
    return result


def add_demo_model(case: Case, *, cancel: Optional[CancelToken] = None) -> Job[Optional[Path]]:
    """Assemble (first time) and verify the demo GGUF, fingerprint it and register it in ``case``.

    Returns the model path (None if cancelled); raises ModelError with the
    install command when the demo model package is missing.
    """
    from memoview.core.models.demo import demo_model_job
    from memoview.core.models.inspect import inspect_model

    yield Progress(0, None, "Locating the demo model")
    model_path = yield from demo_model_job()
    if cancel is not None and cancel.cancelled:
        return None
    yield Progress(0, None, "Fingerprinting the demo model")
    info = yield from inspect_model(model_path, cancel=cancel)
    if info is None:  # cancelled while fingerprinting
        return None
    case.add_model(info)
    return model_path
