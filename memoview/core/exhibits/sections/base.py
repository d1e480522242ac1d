"""The story every section appends to: the data, the options and the flow of flowables."""

from __future__ import annotations

from typing import Any, Callable

from reportlab.platypus import Flowable

from memoview.core.alignment.types import NEAR as A_NEAR
from memoview.core.exhibits import layout, tagging
from memoview.core.exhibits.data import AttemptView, ExhibitData
from memoview.core.exhibits.flowables import TwoColumns
from memoview.core.records import Annotation


def _ann_kind_ok(a: Annotation) -> bool:
    return a.kind in ("expert_note", "note")


def _marks(view: AttemptView, side: str) -> list[layout.Mark]:
    if view.alignment is None:
        return []
    out = []
    for s in view.alignment.spans:
        kind = layout.NEAR if s.kind == A_NEAR else layout.VERB
        if side == "output":
            out.append(layout.Mark(s.output_start, s.output_end, kind, s.match_id, tuple(s.output_diffs)))
        else:
            out.append(layout.Mark(s.source_start, s.source_end, kind, s.match_id, tuple(s.source_diffs)))
    return out


# ------------------------------------------------------------------ the story
class StoryBase:
    """Holds what every section needs; the sections are mixins on top of it."""

    def __init__(self, data: ExhibitData, options: Any, width: float, case: Any,
                 tick: Callable[[str], None]) -> None:
        self.data = data
        self.o = options
        self.width = width
        self.case = case
        self.tick = tick
        self.flow: list[Flowable] = []
        self.col_w = TwoColumns.column_width(width)

    def add(self, *items: Flowable) -> None:
        self.flow.extend(tagging.tag(i) for i in items)  # each drawn block becomes a structure element

