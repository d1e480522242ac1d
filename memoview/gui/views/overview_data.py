"""What the case overview shows, computed off the UI thread (no Qt here).

The overview's numbers (findings per work, with the controls' error rates)
and its map thumbnails (one shade per pixel column) are computed by
:func:`overview_job`, a core-style job (a generator yielding Progress) that
the GUI's one worker runs; the view only lays out the finished
:class:`OverviewData`. On a large case this is seconds of SQLite reads,
alignment of attempts that have none yet, and per-window work, which must
not freeze the window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

from memoview.core.findings.quantity import MapQuantity
from memoview.core.findings.report import CaseFindings, case_findings
from memoview.core.jobs import CancelToken, Job, Progress
from memoview.core.records import Document

THUMB_WIDTH = 130  # pixels; MapThumbnail's fixed width


@dataclass(frozen=True)
class Thumbnail:
    """One sweep's map squeezed into ``width`` pixel columns: per column the highest level (0..1) of any
    window whose target overlaps it, and whether any window covers it at all (the grey baseline)."""

    levels: tuple[float, ...]
    covered: tuple[bool, ...]
    quantity_name: str
    label: str


@dataclass(frozen=True)
class OverviewData:
    """Everything the overview draws, for one case at one moment."""

    findings: CaseFindings
    untested: tuple[Document, ...]  # documents with no attempt yet (listed, "not tested")
    thumbnails: dict[int, Thumbnail] = field(default_factory=dict)  # by document id: the latest sweep's map
    kind: str = "pz"


def thumbnail(windows: Sequence[Any], doc_length: int, quantity: MapQuantity, label: str,
              width: int = THUMB_WIDTH) -> Thumbnail:
    """The per-column maximum of ``quantity.level`` over the windows (what painting them all would show)."""
    n = max(1, doc_length)
    levels = [0.0] * width
    covered = [False] * width
    for w in windows:
        x0 = width * w.start_char / n
        x1 = width * w.end_char / n
        first = max(0, min(width - 1, int(math.floor(x0))))
        last = max(first, min(width - 1, int(math.ceil(x1)) - 1))
        level = quantity.level(w)
        for col in range(first, last + 1):
            covered[col] = True
            if level > levels[col]:
                levels[col] = level
    return Thumbnail(tuple(levels), tuple(covered), quantity.name, label)


def overview_job(case: Any, kind: str, token: Optional[CancelToken] = None) -> Job[Optional[OverviewData]]:
    """Compute the overview of ``case``; None when cancelled (a closed tab or a newer request)."""
    yield Progress(0, None, "computing findings per work")
    findings = case_findings(case)
    if token is not None and token.cancelled:
        return None
    shown = {w.document.id for w in findings.works}
    untested = tuple(sorted((d for d in case.documents() if d.id not in shown), key=lambda d: (d.is_control, d.id)))
    thumbs: dict[int, Thumbnail] = {}
    total = len(findings.works)
    for i, work in enumerate(findings.works):
        if token is not None and token.cancelled:
            return None
        yield Progress(i, total, f"map of '{work.document.title}'")
        s = work.latest_sweep
        if s is not None and s.windows:
            q = MapQuantity.for_sweep(kind, s.attempt.spec.params or {}, s.attempt.metrics)
            thumbs[work.document.id] = thumbnail(s.windows, len(work.document.text), q, f"sweep #{s.attempt.id}")
    return OverviewData(findings, untested, thumbs, kind)
