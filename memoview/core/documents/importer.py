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
from typing import Callable, Iterable, Optional, Protocol, Sequence

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

    def document_by_raw_sha256(self, digest: str) -> Optional[Document]: ...


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
    # Why the import stopped before the last file (a full disk, a read-only case); the files
    # before it are committed, the ones after it were not attempted.
    stopped: str = ""
    not_attempted: list[str] = field(default_factory=list)

    @property
    def imported(self) -> list[Document]:
        return [o.document for o in self.outcomes if o.document is not None]

    @property
    def failed(self) -> list[ImportOutcome]:
        return [o for o in self.outcomes if o.document is None]

    @property
    def ok(self) -> bool:
        return not self.failed and not self.cancelled and not self.stopped


def _committed(case: DocumentSink, loaded: object) -> Optional[Document]:
    digest = getattr(loaded, "raw_sha256", None)
    return None if digest is None else case.document_by_raw_sha256(str(digest))


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
    on_outcome: Optional[Callable[[ImportOutcome], None]] = None,
) -> Job[ImportReport]:
    """Import each path; the report lists per file the new document or the error.

    Provenance given here overrides what the file carries (e.g. a PDF's
    title); an empty value keeps the file's own or the case's default.
    A title names one document, so it is refused for several files.
    ``on_outcome`` is called after each file, as soon as it is committed or
    refused (the CLI prints and flushes there, so a killed import has printed
    every document it committed). A full disk or a read-only case stops the
    import: what was committed stays, the rest is listed as not attempted.
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
        loaded = None
        try:
            loaded = load_document(path, max_bytes=max_bytes)
            document = case.add_document(
                loaded, title=title, author=author, source=source, date_obtained=date_obtained,
                notes=notes, is_control=is_control,
            )
        except errors.DuplicateDocumentError as exc:
            report.outcomes.append(ImportOutcome(shown, error=exc.message, hint=exc.hint,
                                                 duplicate_of=exc.existing_id))
        except (errors.DiskFullError, errors.ReadOnlyCaseError) as exc:
            committed = _committed(case, loaded) if isinstance(exc, errors.DiskFullError) else None
            if committed is not None:  # the document is in; only its search-index update failed
                report.outcomes.append(ImportOutcome(shown, document=committed, warnings=(loaded.warnings if loaded else ()) + (
                    "committed, but the attribution index could not be updated (disk full); it is rebuilt the "
                    "next time attribution runs",)))
            else:
                report.outcomes.append(ImportOutcome(shown, error=exc.message, hint=exc.hint))
            report.stopped = exc.message
            report.not_attempted = [str(p) for p in path_list[index + 1:]]
        except errors.MemoviewError as exc:
            report.outcomes.append(ImportOutcome(shown, error=exc.message, hint=exc.hint))
        else:
            report.outcomes.append(ImportOutcome(shown, document=document, warnings=loaded.warnings))
        if on_outcome is not None:
            on_outcome(report.outcomes[-1])
        if report.stopped:
            break
    yield Progress(total, total, f"Imported {len(report.imported)} of {total}")
    return report
