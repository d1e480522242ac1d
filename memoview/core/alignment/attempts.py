"""Aligning a recorded attempt against its document: the one place for regions and stored alignments.

Prefix/pz attempts compare the output with the target, ``text[start:end]``
(the prompt region ``text[prompt_start:start]`` was supplied to the model and
is therefore never compared, so never counted); free prompts and other
attempts without a passage compare with the whole document. Spans come back
in whole-document coordinates either way (``Alignment.source_offset`` says
where the compared region starts).

The regions come from :meth:`memoview.core.records.AttemptSpec.target_range`
(the one parser of the stored target); a range that does not fit the document
raises :class:`~memoview.core.errors.ValidationError`, in the app, the CLI and
the exhibit alike. :func:`alignment_for` is the one "stored alignment, else
compute (and store)" used by the comparison view, ``memoview align`` and the
exhibit, so the exhibit shows what the app showed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from memoview.core.alignment.engine import align
from memoview.core.alignment.types import Alignment, AlignOptions
from memoview.core.errors import ValidationError
from memoview.core.records import Attempt, Document, TargetRange

if TYPE_CHECKING:
    from memoview.core.case import Case

STORED = "alignment stored in the case"
COMPUTED = "computed with default options"


def _target(attempt: Attempt, document: Document) -> Optional[TargetRange]:
    """The attempt's target range, checked against the document (a bad range raises); None without one."""
    target = attempt.spec.target_range()
    if target is not None:
        target.check_within(len(document.text), f"Attempt {attempt.id} (document {document.id})")
    return target


def compared_region(attempt: Attempt, document: Document) -> tuple[int, int]:
    """Document character range the output is compared with: the target, else the whole document."""
    target = _target(attempt, document)
    return (0, len(document.text)) if target is None else (target.start, target.end)


def prompt_region(attempt: Attempt, document: Document) -> Optional[tuple[int, int]]:
    """Document character range supplied in the prompt (never counted), or None when it has none."""
    target = _target(attempt, document)
    return None if target is None else (target.prompt_start, target.start)


def shown_region(attempt: Attempt, document: Document) -> tuple[int, int]:
    """Document range shown beside the output: prompt region + target, else the whole document."""
    target = _target(attempt, document)
    return (0, len(document.text)) if target is None else (target.prompt_start, target.end)


def _document_of(case: "Case", attempt: Attempt) -> Document:
    if attempt.spec.document_id is None:
        raise ValidationError(
            f"attempt {attempt.id} is not tied to a document, so there is nothing to align it with",
            "find which documents contain its text with 'memoview attribute CASE --text FILE'",
        )
    return case.document(attempt.spec.document_id)


def align_attempt(case: "Case", attempt: Attempt, options: AlignOptions = AlignOptions(),
                  tokenizer: Any = None, document: Optional[Document] = None) -> Alignment:
    """Align ``attempt.output_text`` against its document now (see module docstring); stores nothing."""
    if document is None:
        document = _document_of(case, attempt)
    start, end = compared_region(attempt, document)
    result = align(document.text[start:end], attempt.output_text, options, tokenizer)
    return result.shifted(source_delta=start) if start else result


def stored_alignment(case: "Case", attempt: Attempt) -> Optional[Alignment]:
    """The latest alignment stored for ``attempt`` (as shown in the app), or None."""
    stored = case.latest_alignment(attempt.id)
    if stored is None:
        return None
    try:
        return Alignment.from_json(stored[1])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValidationError(f"The stored alignment of attempt {attempt.id} cannot be read ({exc}).",
                              "Run 'memoview case verify'; the case file may have been edited.") from exc


def alignment_for(case: "Case", attempt: Attempt, document: Optional[Document] = None, *,
                  store: bool) -> tuple[Alignment, str]:
    """The attempt's stored alignment, else one computed with default options (stored when ``store``);
    returns it with where it came from (:data:`STORED` or :data:`COMPUTED`).

    ``store=False`` is for read-only uses (an exhibit preview must not change the case).
    """
    stored = stored_alignment(case, attempt)
    if stored is not None:
        return stored, STORED
    if document is None:
        document = _document_of(case, attempt)
    options = AlignOptions()
    result = align_attempt(case, attempt, options, document=document)
    if store:
        case.save_alignment(attempt.id, document.id, options.to_json(), result.to_json())
    return result, COMPUTED
