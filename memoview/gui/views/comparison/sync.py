"""Which place of one comparison pane corresponds to a place of the other (pure arithmetic, no Qt).

Scrolling one pane brings the matching place of the other alongside: piecewise linear between the
ends of matched spans (anchors), not by relative position.
"""

from __future__ import annotations

from typing import Any


def anchors(spans: list[Any], output_length: int, source_length: int, offset: int,
            target_start: int) -> list[tuple[int, int]]:
    """(output char, source pane char) pairs that correspond: the starts and ends of matched spans,
    the start of the target and both ends; kept increasing on both sides. Source offsets of the spans
    are in document characters; the pane starts at document character ``offset``."""
    points = [(0, 0), (0, target_start)]
    for span in sorted(spans, key=lambda s: s.output_start):
        points.append((span.output_start, span.source_start - offset))
        points.append((span.output_end, span.source_end - offset))
    points.append((output_length, source_length))
    kept: list[tuple[int, int]] = []
    for o, s in points:
        if not kept or (o >= kept[-1][0] and s >= kept[-1][1]):
            kept.append((o, s))
    return kept


def corresponding(points: list[tuple[int, int]], side: str, index: int) -> int:
    """The character in the other pane that corresponds to ``index`` on ``side`` ("output" or "source")."""
    if side == "source":
        points = [(s, o) for o, s in points]
    prev = points[0]
    for point in points:
        if point[0] >= index:
            if point[0] == prev[0]:
                return point[1] if point[0] == index else prev[1]
            t = (index - prev[0]) / (point[0] - prev[0])
            return int(prev[1] + t * (point[1] - prev[1]))
        prev = point
    return points[-1][1]
