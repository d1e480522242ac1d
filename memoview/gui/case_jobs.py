"""Worker jobs on the case itself: import documents, fingerprint and register a model, align an attempt.

Generators in the shape of ``core/jobs.py`` (yield ``Progress``, return the result), handed to the
window's worker with ``MainWindow.submit``. The jobs that run a model are in ``gui/engine.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from memoview.core.jobs import CancelToken


def import_documents_job(case: Any, paths: list[Path], token: CancelToken) -> Any:
    """Import through the core importer (all formats, provenance, duplicate checks)."""
    from memoview.core.documents import importer  # lazy: loaders pull in pdf/html/docx libraries

    return (yield from importer.import_files(case, paths, cancel=token))


def open_model_job(case: Any, path: Path, token: CancelToken) -> Any:
    """Fingerprint a model (streamed with progress) and register it in the case."""
    from memoview.core.engines import default_engine
    from memoview.core.models.inspect import inspect_model
    from memoview.core.session import guess_format

    # A GGUF architecture transformers cannot read may still run under llama.cpp.
    info = yield from inspect_model(path, engine=default_engine(guess_format(str(path))))
    if token.cancelled:
        return None
    return case.add_model(info)


def align_attempt_job(case: Any, attempt: Any, document: Any, token: CancelToken) -> Any:
    """The attempt's stored alignment, else computed and stored (core/alignment/attempts.py)."""
    from memoview.core.alignment.attempts import alignment_for
    from memoview.core.jobs import Progress

    yield Progress(0, 1, "Aligning the output with the source")
    alignment, _origin = alignment_for(case, attempt, document, store=True)
    yield Progress(1, 1, "Aligned")
    return alignment
