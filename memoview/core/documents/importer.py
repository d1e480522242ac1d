"""Importing many files into a case: each one on its own.

One bad file never stops the others, and each good one is committed to the
case as soon as it is read (``Case.add_document`` writes the document and
its audit entry in one transaction), so a cancelled or killed import keeps
everything it finished.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional, Protocol, Sequence

from memoview.core import errors
from memoview.core.documents.base import LoadedDocument
from memoview.core.documents.load import DEFAULT_MAX_BYTES, load_document
from memoview.core.jobs import CancelToken, Job, Progress
from memoview.core.records import Document


class DocumentSink(Protocol):
    """What the importer needs of a case (:meth:`memoview.core.case.Case.add_document`).

    A protocol rather than an import of ``Case``: documents sit below the case
    facade and never import it (an import contract, tests/test_architecture.py).
    """

    def add_document(self, loaded: LoadedDocument, *, title: str = "", author: str = "", source: str = "",
                     date_obtained: str = "", notes: str = "", is_control: bool = False) -> Document: ...


@dataclass(frozen=True)
class ImportOutcome:
    """What happened to one file: a new document, or the reason it was refused."""

    path: str
    document: Optional[Document] = None
    error: str = ""
    hint: str = ""
    duplicate_of: Optional[int] = None  # the existing document id, for duplicates
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.document is not None


@dataclass
class ImportReport:
    outcomes: list[ImportOutcome] = field(default_factory=list)
    cancelled: bool = False

    @property
    def imported(self) -> list[Document]:
        return [o.document for o in self.outcomes if o.document is not None]

    @property
    def failed(self) -> list[ImportOutcome]:
        return [o for o in self.outcomes if o.document is None]

    @property
    def ok(self) -> bool:
        return not self.failed and not self.cancelled


def import_files(
    case: DocumentSink,
    paths: Iterable[str | os.PathLike[str]],
    *,
    is_control: bool = False,
    title: str = "",
    author: str = "",
    source: str = "",
    date_obtained: str = "",
    notes: str = "",
    max_bytes: int = DEFAULT_MAX_BYTES,
    cancel: Optional[CancelToken] = None,
) -> Job[ImportReport]:
    """Import each path; the report lists per file the new document or the error.

    Provenance given here overrides what the file carries (e.g. a PDF's
    title); an empty value keeps the file's own or the case's default.
    A title names one document, so it is refused for several files.
    """
    path_list: Sequence[str | os.PathLike[str]] = list(paths)
    if title and len(path_list) > 1:
        raise errors.ValidationError(
            f"A title names one document, but {len(path_list)} files were given.",
            "Import them one at a time with --title, or without --title (each then takes its own).",
        )
    if max_bytes <= 0:
        raise errors.ValidationError(f"The size limit must be positive (got {max_bytes} bytes).",
                                     "Give --max-mb a positive number.")
    report = ImportReport()
    total = len(path_list)
    for index, path in enumerate(path_list):
        if cancel is not None and cancel.cancelled:
            report.cancelled = True
            break
        shown = str(path)
        yield Progress(index, total, f"Importing {Path(shown).name}")
        try:
            loaded = load_document(path, max_bytes=max_bytes)
            document = case.add_document(
                loaded, title=title, author=author, source=source, date_obtained=date_obtained,
                notes=notes, is_control=is_control,
            )
        except errors.DuplicateDocumentError as exc:
            report.outcomes.append(ImportOutcome(shown, error=exc.message, hint=exc.hint,
                                                 duplicate_of=exc.existing_id))
        except errors.MemoviewError as exc:
            report.outcomes.append(ImportOutcome(shown, error=exc.message, hint=exc.hint))
        else:
            report.outcomes.append(ImportOutcome(shown, document=document, warnings=loaded.warnings))
    yield Progress(total, total, f"Imported {len(report.imported)} of {total}")
    return report
