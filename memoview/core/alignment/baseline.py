"""Chance baseline: the same metrics against negative-control documents.

A finding ("the output shares a 12-word run with the work") means little
without knowing what an unrelated text would share by chance with the same
outputs. Each output is aligned against every document marked
``is_control`` and the best (highest) value per output is kept, because a
finding is also the best match against its work; the distribution of
those per-output maxima is reported (min / median / max / mean).
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Optional, Sequence

from memoview.core.alignment.engine import align
from memoview.core.alignment.types import AlignOptions
from memoview.core.records import AttemptStatus

if TYPE_CHECKING:
    from memoview.core.case import Case


@dataclass(frozen=True)
class Distribution:
    """Summary of one metric over outputs; all ``None`` when there were none."""

    n: int = 0
    min: Optional[float] = None
    median: Optional[float] = None
    max: Optional[float] = None
    mean: Optional[float] = None

    @classmethod
    def of(cls, values: Sequence[float]) -> "Distribution":
        if not values:
            return cls()
        return cls(len(values), float(min(values)), float(statistics.median(values)), float(max(values)),
                   float(statistics.fmean(values)))


@dataclass(frozen=True)
class ControlBaseline:
    """Per-output maxima over the control documents, summarised.

    ``longest_verbatim_words``: longest verbatim run (words) of each output
    against any control. ``output_coverage_fraction``: fraction of each
    output's words inside spans against the best control.
    ``control_document_ids``: the controls used; empty means no control is
    marked in the case and the baseline is unavailable (say so, never 0).
    """

    control_document_ids: tuple[int, ...]
    outputs: int
    longest_verbatim_words: Distribution = field(default_factory=Distribution)
    longest_verbatim_chars: Distribution = field(default_factory=Distribution)
    output_coverage_fraction: Distribution = field(default_factory=Distribution)
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def available(self) -> bool:
        return bool(self.control_document_ids) and self.outputs > 0

    def to_json(self) -> dict[str, Any]:
        return {
            "control_document_ids": list(self.control_document_ids),
            "outputs": self.outputs,
            "longest_verbatim_words": asdict(self.longest_verbatim_words),
            "longest_verbatim_chars": asdict(self.longest_verbatim_chars),
            "output_coverage_fraction": asdict(self.output_coverage_fraction),
            "options": self.options,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ControlBaseline":
        return cls(
            control_document_ids=tuple(int(i) for i in data.get("control_document_ids", ())),
            outputs=int(data.get("outputs", 0)),
            longest_verbatim_words=Distribution(**data.get("longest_verbatim_words", {})),
            longest_verbatim_chars=Distribution(**data.get("longest_verbatim_chars", {})),
            output_coverage_fraction=Distribution(**data.get("output_coverage_fraction", {})),
            options=dict(data.get("options", {})),
        )

    def describe(self) -> str:
        """One line for a findings table."""
        if not self.control_document_ids:
            return "no control documents in the case: chance baseline unavailable"
        if not self.outputs:
            return "no outputs to compare with the controls"
        d = self.longest_verbatim_words
        return (
            f"controls ({len(self.control_document_ids)} documents, {self.outputs} outputs): longest verbatim run "
            f"median {d.median:g} words, max {d.max:g} words"
        )


def control_baseline(case: "Case", outputs: Iterable[str], options: AlignOptions = AlignOptions()) -> ControlBaseline:
    """Align each output against every control document of the case."""
    controls = [d for d in case.documents() if d.is_control]
    outs = [o for o in outputs if o]
    runs: list[float] = []
    chars: list[float] = []
    cover: list[float] = []
    if controls:
        for text in outs:
            best_w, best_c, best_cov = 0, 0, 0.0
            for doc in controls:
                m = align(doc.text, text, options).metrics
                best_w = max(best_w, m.longest_verbatim_words)
                best_c = max(best_c, m.longest_verbatim_chars)
                best_cov = max(best_cov, m.output_coverage_fraction)
            runs.append(best_w)
            chars.append(best_c)
            cover.append(best_cov)
    return ControlBaseline(
        control_document_ids=tuple(d.id for d in controls),
        outputs=len(outs) if controls else 0,
        longest_verbatim_words=Distribution.of(runs),
        longest_verbatim_chars=Distribution.of(chars),
        output_coverage_fraction=Distribution.of(cover),
        options=options.to_json(),
    )


def model_control_baseline(case: "Case", model_id: int, options: AlignOptions = AlignOptions()) -> ControlBaseline:
    """The baseline for the finished attempts of one model in the case.

    Attempts made on a control document itself are left out: their prompt
    came from the control, so their overlap with it is not chance."""
    control_ids = {d.id for d in case.documents() if d.is_control}
    outputs = [
        a.output_text
        for a in case.attempts(model_id=model_id, status=AttemptStatus.DONE)
        if a.spec.document_id not in control_ids
    ]
    return control_baseline(case, outputs, options)
