"""A case holding the fixture corpus, as the extraction tests and the campaign tests need it."""

from __future__ import annotations

from pathlib import Path

from memoview.core.case import Case
from tests.support.tiny_model import CORPUS_DIR, corpus_manifest


def make_fixture_case(path: Path) -> Case:
    """Create a case at ``path`` with every fixture document (controls marked); the caller closes it."""
    from memoview.core.documents.load import load_document

    case = Case.create(path)
    for entry in corpus_manifest()["documents"]:
        case.add_document(load_document(CORPUS_DIR / entry["file"]), title=entry["title"],
                          is_control=entry["role"] == "control")
    return case
