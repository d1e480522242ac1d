"""The page canvas: US Letter, the top 0.75 in. left clear for the court's
e-filing stamp, and the bottom band (legend, "Ex. N - p. x of y", Bates
number, run id and manifest hash). The page total is known only at the end,
so the canvas keeps each page's state and draws the bands when saved.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Optional

from reportlab.lib import colors
from reportlab.lib.pagesizes import letter
from reportlab.lib.units import inch

from memoview.core.exhibits import fonts, tagging
from memoview.core.exhibits.rl_bases import Canvas

PAGE_W, PAGE_H = letter
TOP_CLEAR = 0.75 * inch
MARGIN_X = 0.75 * inch
BOTTOM_BAND = 0.85 * inch


@dataclass(frozen=True)
class PageBand:
    """What the bottom band of every page says."""

    exhibit_label: str  # e.g. "Ex. 12"
    legend: str
    bates_prefix: str
    bates_start: int
    bates_digits: int
    run_id: str
    manifest_sha256: str

    def bates(self, page_index: int) -> str:
        return f"{self.bates_prefix}{self.bates_start + page_index:0{self.bates_digits}d}"


def _fixed_timestamp(when: time.struct_time) -> Any:
    class _TS:
        t = time.mktime(when)
        lt = when
        YMDhms = tuple(when)[:6]
        dhh = 0
        dmm = 0
        tzname = "UTC"

    return _TS()


def canvas_maker(band: PageBand, creation: Optional[time.struct_time], pages_out: list[str]) -> type:
    class BandCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["invariant"] = 1
            kwargs["initialFontName"] = fonts.SANS  # otherwise every page references a non-embedded Helvetica
            kwargs["initialFontSize"] = 9
            kwargs.setdefault("pageCompression", 1)
            kwargs["lang"] = tagging.LANGUAGE
            super().__init__(*args, **kwargs)
            if creation is not None:
                self._doc._timeStamp = _fixed_timestamp(creation)
            self._states: list[dict[str, Any]] = []
            self._struct = tagging.StructureRecorder()
            self._page_roles: list[list[tagging.Node]] = []

        def begin_tag(self, role: str, scope: str = "") -> None:
            """Open a marked-content sequence (see :mod:`.tagging`)."""
            self._struct.begin(self._code, role, scope)

        def begin_artifact(self) -> None:
            self._struct.begin_artifact(self._code)

        def begin_group(self, role: str) -> None:
            """Open a structure element that holds the next tags (a table, a row)."""
            self._struct.begin_group(role)

        def end_group(self) -> None:
            self._struct.end_group()

        def end_tag(self) -> None:
            self._struct.end(self._code)

        def showPage(self) -> None:
            self._page_roles.append(self._struct.next_page())
            self._states.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._states)
            names: list[str] = []
            pages: list[Any] = []
            roles = list(self._page_roles)
            for index, state in enumerate(self._states):
                self.__dict__.update(state)
                self._code.append("/Artifact <</Type /Pagination>> BDC")
                self._draw_band(index, total)
                self._code.append("EMC")
                names.append(self._doc.thisPageName())
                super().showPage()
                pages.append(self._doc.Pages.pages[-1])
            self._struct.write(self._doc, names, pages, roles, tagging.LANGUAGE)
            super().save()

        def _draw_band(self, index: int, total: int) -> None:
            self.saveState()
            y = BOTTOM_BAND - 0.35 * inch
            self.setStrokeColor(colors.black)
            self.setLineWidth(0.5)
            self.line(MARGIN_X, BOTTOM_BAND - 0.12 * inch, PAGE_W - MARGIN_X, BOTTOM_BAND - 0.12 * inch)
            if band.legend:
                self.setFont(fonts.SANS_BOLD, 8)
                legend = fonts.clean_text(band.legend, keep_newlines=False)[:160]
                x = PAGE_W / 2 - fonts.text_width(legend, fonts.SANS_BOLD, 8) / 2
                for font, run in fonts.runs(legend, fonts.SANS_BOLD):
                    self.setFont(font, 8)
                    self.drawString(x, y, run)
                    x += fonts.text_width(run, font, 8)
            y2 = y - 13
            self.setFont(fonts.SANS, 8)
            self.drawString(MARGIN_X, y2, f"{band.exhibit_label} \u2013 p. {index + 1} of {total}")
            self.setFont(fonts.SANS_BOLD, 9)
            bates = band.bates(index)
            pages_out.append(bates)
            self.drawRightString(PAGE_W - MARGIN_X, y2, bates)
            self.setFont(fonts.MONO, 8)
            self.drawCentredString(PAGE_W / 2, y2, f"run {band.run_id} \u00b7 manifest {band.manifest_sha256[:16]}")
            self.restoreState()

    return BandCanvas

