"""Fixtures of the core tests (no Qt here, ever)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from memoview.core.case import Case


@pytest.fixture()
def case(case_path: Path) -> Iterator[Case]:
    """An empty case file in the test's temporary folder, closed afterwards.

    Documents for it come from ``tests.support.documents.document_from_text``.
    """
    c = Case.create(case_path)
    yield c
    c.close()
