"""Draw an exhibit: cover, index, method, per-work sections, appendices.

Pages are US Letter with the top 0.75 in. left clear for the court's
e-filing stamp and a bottom band carrying the legend, "Ex. N - p. x of y",
the Bates number and the run id with the manifest hash. The page total is
known only at the end, so the canvas keeps each page's state and draws the
bands when the document is saved.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable, Optional

from reportlab.lib.pagesizes import letter
from reportlab.lib.units import inch
from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate

from memoview.core.exhibits import fonts
from memoview.core.exhibits.blocks import S, _styles
from memoview.core.exhibits.canvas import BOTTOM_BAND, MARGIN_X, PAGE_H, PAGE_W, TOP_CLEAR, PageBand, canvas_maker
from memoview.core.exhibits.data import ExhibitData
from memoview.core.exhibits.sections.appendices import Appendices
from memoview.core.exhibits.sections.front import FrontMatter
from memoview.core.exhibits.sections.works import WorkSections

__all__ = ["PageBand", "Story", "build_pdf", "canvas_maker"]


class Story(FrontMatter, WorkSections, Appendices):
    """The whole exhibit, section by section (each section group lives in :mod:`.sections`)."""


def build_pdf(data: ExhibitData, options: Any, case: Any, path: Path, band: PageBand,
              creation: Optional[time.struct_time], tick: Callable[[str], None]) -> list[str]:
    """Write the PDF; return the Bates number of each page in order."""
    fonts.register_fonts()
    if not S:
        S.update(_styles())
    width = PAGE_W - 2 * MARGIN_X
    story = Story(data, options, width, case, tick)
    story.cover()
    story.index()
    story.method()
    for i, w in enumerate(data.works, 1):
        story.work(i, w)
    story.unattached()
    story.appendices()
    bates: list[str] = []
    doc = BaseDocTemplate(
        str(path), pagesize=letter, leftMargin=MARGIN_X, rightMargin=MARGIN_X, topMargin=TOP_CLEAR + 0.15 * inch,
        bottomMargin=BOTTOM_BAND, title=options.pdf_title, author=options.expert or "memoview",
        subject="Memorization test exhibit", creator=f"memoview {data.manifest['app_version']}", invariant=1,
    )
    frame = Frame(MARGIN_X, BOTTOM_BAND, width, PAGE_H - BOTTOM_BAND - TOP_CLEAR - 0.15 * inch, id="body",
                  leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame])])
    doc.build(story.flow, canvasmaker=canvas_maker(band, creation, bates))
    return bates
