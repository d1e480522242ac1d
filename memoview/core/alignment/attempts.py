"""Aligning a recorded attempt against its document, per the shared conventions.

Prefix/pz attempts compare the output with the target, ``text[start_char:
end_char]`` (the prompt region ``text[prefix_start_char:start_char]`` was
supplied to the model and is therefore never compared, so never counted);
free prompts compare with the whole document. Spans come back in
whole-document coordinates either way (``Alignment.source_offset`` says
where the compared region starts).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from memoview.core.alignment.engine import align
from memoview.core.alignment.types import Alignment, AlignOptions
from memoview.core.errors import ValidationError
from memoview.core.records import Attempt, Document

if TYPE_CHECKING:
    from memoview.core.case import Case


def compared_region(attempt: Attempt, document: Document) -> tuple[int, int]:
    """Document character range the output is compared with."""
    t = attempt.spec.target or {}
    if "start_char" in t and "end_char" in t and int(t["end_char"]) > int(t["start_char"]):
        a, b = int(t["start_char"]), int(t["end_char"])
        if not 0 <= a <= b <= len(document.text):
            raise ValidationError(
                f"attempt {attempt.id}'s target ({a}..{b}) lies outside document {document.id} "
                f"({len(document.text)} characters)",
                "the document text may have changed since the attempt; run 'memoview case verify'",
            )
        return a, b
    return 0, len(document.text)


def align_attempt(case: "Case", attempt: Attempt, options: AlignOptions = AlignOptions(),
                  tokenizer: Any = None, document: Optional[Document] = None) -> Alignment:
    """Align ``attempt.output_text`` against its document (see module docstring)."""
    if document is None:
        if attempt.spec.document_id is None:
            raise ValidationError(
                f"attempt {attempt.id} is not tied to a document, so there is nothing to align it with",
                "find which documents contain its text with 'memoview attribute CASE --text FILE'",
            )
        document = case.document(attempt.spec.document_id)
    start, end = compared_region(attempt, document)
    result = align(document.text[start:end], attempt.output_text, options, tokenizer)
    return result.shifted(source_delta=start) if start else result
