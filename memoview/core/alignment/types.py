"""Alignment records: what the engine returns and the case stores.

All offsets are RAW character offsets (Python ``str`` indices, i.e. code
points) into the original, un-normalized strings handed to ``align``:
highlights must land on the characters the court sees. Normalized offsets
never leave the engine; UTF-16 positions are the GUI's business.

Every record is a frozen dataclass with ``to_json()`` / ``from_json()`` so
that the case file can store an alignment exactly as it was shown.
Names here are stable: the exhibits and the GUI build on them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Optional

# Re-exported: normalization options belong to normalization; alignment records carry them.
from memoview.core.documents.normalize import NormalizeOptions as NormalizeOptions

VERBATIM = "verbatim"
NEAR = "near"
SOURCE = "source"
OUTPUT = "output"


@dataclass(frozen=True)
class AlignOptions:
    """Options of one alignment run.

    ``min_verbatim_words``: shortest run of identical (normalized) words
    reported as a verbatim span. ``near_threshold``: the largest normalized
    edit distance (Levenshtein distance / length of the longer side, on
    normalized characters) at which runs separated by differing words are
    merged into one ``near`` span (10%: the rule of the Gemini/Gemma
    memorization reports). ``max_gap_words``: the largest gap (in words, on
    either side) bridged when merging runs. ``exclude_output`` /
    ``exclude_source``: raw character ranges ``(start, end)`` whose words
    are never counted (the prompt of an attempt: in the output when the
    output echoes the prompt; in the source for prefix attempts).
    """

    normalization: NormalizeOptions = field(default_factory=NormalizeOptions)
    min_verbatim_words: int = 5
    near_threshold: float = 0.10
    max_gap_words: int = 8
    rouge_flag: float = 0.8  # ROUGE-L >= this is flagged as a secondary near-copy signal (CopyBench)
    exclude_output: Optional[tuple[int, int]] = None
    exclude_source: Optional[tuple[int, int]] = None

    def to_json(self) -> dict[str, Any]:
        return {
            "normalization": self.normalization.to_json(),
            "min_verbatim_words": self.min_verbatim_words,
            "near_threshold": self.near_threshold,
            "max_gap_words": self.max_gap_words,
            "rouge_flag": self.rouge_flag,
            "exclude_output": list(self.exclude_output) if self.exclude_output else None,
            "exclude_source": list(self.exclude_source) if self.exclude_source else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "AlignOptions":
        eo = data.get("exclude_output")
        es = data.get("exclude_source")
        return cls(
            normalization=NormalizeOptions.from_json(data.get("normalization", {})),
            min_verbatim_words=int(data.get("min_verbatim_words", 5)),
            near_threshold=float(data.get("near_threshold", 0.10)),
            max_gap_words=int(data.get("max_gap_words", 8)),
            rouge_flag=float(data.get("rouge_flag", 0.8)),
            exclude_output=(int(eo[0]), int(eo[1])) if eo else None,
            exclude_source=(int(es[0]), int(es[1])) if es else None,
        )


@dataclass(frozen=True)
class Span:
    """One matched pair: a source range and an output range.

    ``kind`` is ``"verbatim"`` (identical after normalization) or ``"near"``
    (within the near threshold). ``match_id`` (1, 2, ...) is shared by both
    sides so the exhibit and the GUI can label the twins. Offsets are raw
    character offsets, end exclusive. ``words`` counts the source-side words
    of the span, ``chars`` its source-side raw characters, ``tokens`` its
    output-side model tokens when a tokenizer was given. ``edit_distance``
    is the Levenshtein distance in normalized characters (0 for verbatim).
    ``source_diffs`` / ``output_diffs`` are raw ranges inside the span whose
    words differ from the twin (empty for verbatim spans).
    """

    kind: str
    match_id: int
    source_start: int
    source_end: int
    output_start: int
    output_end: int
    words: int
    chars: int
    tokens: Optional[int] = None
    edit_distance: int = 0
    source_diffs: tuple[tuple[int, int], ...] = ()
    output_diffs: tuple[tuple[int, int], ...] = ()

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["source_diffs"] = [list(r) for r in self.source_diffs]
        data["output_diffs"] = [list(r) for r in self.output_diffs]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Span":
        data = dict(data)
        data["source_diffs"] = tuple((int(a), int(b)) for a, b in data.get("source_diffs", ()))
        data["output_diffs"] = tuple((int(a), int(b)) for a, b in data.get("output_diffs", ()))
        return cls(**data)


@dataclass(frozen=True)
class Gap:
    """Unmatched text: ``side`` is ``"source"`` (not reproduced) or
    ``"output"`` (not found in the source). Raw character offsets; ``words``
    is the number of words inside (for "[... 1,240 words not reproduced ...]")."""

    side: str
    start: int
    end: int
    words: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Gap":
        return cls(**data)


@dataclass(frozen=True)
class Metrics:
    """Alignment metrics; every field carries its unit in its name.

    Fractions are in [0, 1]. Words are normalized words (CJK characters
    count one word each); characters are raw code points; tokens are model
    tokens (``None`` when no tokenizer was given). Excluded (prompt) words
    are removed from both sides before any metric is computed.
    """

    # Longest verbatim run: one contiguous span of identical words.
    longest_verbatim_words: int = 0
    longest_verbatim_chars: int = 0  # raw source characters of that run
    longest_verbatim_tokens: Optional[int] = None  # model tokens of that run (output side)
    # Longest common SUBSTRING in normalized characters (contiguous). Exact when
    # ``longest_common_substring_exact``; otherwise (very long sources) a lower
    # bound found by extending the word runs character by character.
    longest_common_substring_chars: int = 0
    longest_common_substring_exact: bool = True
    # Longest common SUBSEQUENCE in words (not necessarily contiguous).
    longest_common_subsequence_words: int = 0
    # Coverage: fraction of words covered by any span (verbatim or near).
    source_coverage_fraction: float = 0.0
    output_coverage_fraction: float = 0.0
    source_verbatim_coverage_fraction: float = 0.0
    output_verbatim_coverage_fraction: float = 0.0
    # 1 - Levenshtein distance / max(len) over the normalized word sequences
    # (WORD level, so whole documents are never compared character by character).
    edit_similarity_words_fraction: float = 0.0
    # ROUGE-L F-measure on words (LCS-based).
    rouge_l_f_fraction: float = 0.0
    rouge_l_flag: bool = False  # rouge_l_f_fraction >= options.rouge_flag (secondary flag, CopyBench)
    # Carlini et al.: the output begins with the exact source segment (normalized words).
    exact_suffix_match: bool = False
    # Biderman et al.: fraction of source positions i where output word i == source word i.
    memorization_score_fraction: float = 0.0
    # Number of spans (distinct matching windows), by kind.
    verbatim_span_count: int = 0
    near_span_count: int = 0
    # Word counts behind the fractions.
    source_words: int = 0
    output_words: int = 0
    source_words_matched: int = 0
    output_words_matched: int = 0
    excluded_source_words: int = 0
    excluded_output_words: int = 0

    @property
    def edit_similarity_fraction(self) -> float:
        """Alias kept for callers written against the first version of this
        record; the value is word-level (see ``edit_similarity_words_fraction``)."""
        return self.edit_similarity_words_fraction

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Metrics":
        known = {f.name for f in fields(cls)}
        data = dict(data)
        if "edit_similarity_fraction" in data and "edit_similarity_words_fraction" not in data:
            data["edit_similarity_words_fraction"] = data["edit_similarity_fraction"]
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class Alignment:
    """The result of aligning an output against a source.

    ``source_offset`` is added by callers that aligned a slice of a larger
    document (e.g. the target region of a prefix attempt) and shifted the
    spans to whole-document coordinates: it records the slice's start so a
    reader knows what was compared (0 when the whole text was used).
    """

    spans: tuple[Span, ...]
    source_gaps: tuple[Gap, ...]
    output_gaps: tuple[Gap, ...]
    metrics: Metrics
    options: AlignOptions
    source_length_chars: int = 0
    output_length_chars: int = 0
    source_offset: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "spans": [s.to_json() for s in self.spans],
            "source_gaps": [g.to_json() for g in self.source_gaps],
            "output_gaps": [g.to_json() for g in self.output_gaps],
            "metrics": self.metrics.to_json(),
            "options": self.options.to_json(),
            "source_length_chars": self.source_length_chars,
            "output_length_chars": self.output_length_chars,
            "source_offset": self.source_offset,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Alignment":
        return cls(
            spans=tuple(Span.from_json(s) for s in data.get("spans", ())),
            source_gaps=tuple(Gap.from_json(g) for g in data.get("source_gaps", ())),
            output_gaps=tuple(Gap.from_json(g) for g in data.get("output_gaps", ())),
            metrics=Metrics.from_json(data.get("metrics", {})),
            options=AlignOptions.from_json(data.get("options", {})),
            source_length_chars=int(data.get("source_length_chars", 0)),
            output_length_chars=int(data.get("output_length_chars", 0)),
            source_offset=int(data.get("source_offset", 0)),
        )

    def shifted(self, source_delta: int = 0, output_delta: int = 0) -> "Alignment":
        """The same alignment with source/output offsets moved (slice -> whole
        document). ``options.exclude_*`` keep the coordinates of the call."""
        from dataclasses import replace

        def sh(r: tuple[int, int], d: int) -> tuple[int, int]:
            return (r[0] + d, r[1] + d)

        spans = tuple(
            replace(
                s,
                source_start=s.source_start + source_delta,
                source_end=s.source_end + source_delta,
                output_start=s.output_start + output_delta,
                output_end=s.output_end + output_delta,
                source_diffs=tuple(sh(r, source_delta) for r in s.source_diffs),
                output_diffs=tuple(sh(r, output_delta) for r in s.output_diffs),
            )
            for s in self.spans
        )
        sg = tuple(replace(g, start=g.start + source_delta, end=g.end + source_delta) for g in self.source_gaps)
        og = tuple(replace(g, start=g.start + output_delta, end=g.end + output_delta) for g in self.output_gaps)
        return replace(self, spans=spans, source_gaps=sg, output_gaps=og,
                       source_offset=self.source_offset + source_delta)
