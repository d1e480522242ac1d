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


def prepare_demo_case(case_path: Optional[Path] = None, *, require_model: bool = True,
                      cancel: Optional[CancelToken] = None) -> Job[DemoResult]:
    """Create (or reopen) the demo case, import the corpus, register the demo model.

    Re-running is idempotent: documents already in the case (same SHA-256)
    and the already registered model are left as they are.
    """
    from memoview.core.documents.load import load_document
    from memoview.core.models.demo import demo_model_path
    from memoview.core.models.inspect import inspect_model

    path = case_path or demo_case_path()
    model_path: Optional[Path] = None
    model_error: Optional[errors.MemoviewError] = None
    yield Progress(0, None, "Locating the demo model")
    try:
        model_path = demo_model_path()
    except errors.MemoviewError as exc:
        if require_model:
            raise
        model_error = exc
    result = DemoResult(path, model_path, model_error=model_error)
    case = Case.open_or_create(path)
    try:
        entries = corpus_manifest()
        known = {d.raw_sha256 for d in case.documents()}
        for index, entry in enumerate(entries):
            if cancel is not None and cancel.cancelled:
                return result
            yield Progress(index, len(entries) + 1, f"Importing {entry['title']}")
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
        if model_path is not None:
            yield Progress(len(entries), len(entries) + 1, "Fingerprinting the demo model")
            info = yield from inspect_model(model_path, cancel=cancel)
            if info is None:  # cancelled while fingerprinting
                return result
            case.add_model(info)
        yield Progress(len(entries) + 1, len(entries) + 1, "Demo case ready")
    finally:
        case.close()
    return result
