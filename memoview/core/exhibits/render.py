"""Draw an exhibit: cover, index, method, per-work sections, appendices.

Pages are US Letter with the top 0.75 in. left clear for the court's
e-filing stamp and a bottom band carrying the legend, "Ex. N - p. x of y",
the Bates number and the run id with the manifest hash. The page total is
known only at the end, so the canvas keeps each page's state and draws the
bands when the document is saved.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import letter
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas as rl_canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    KeepTogether,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from memoview.core.alignment.types import NEAR as A_NEAR
from memoview.core.alignment.types import AlignOptions
from memoview.core.exhibits import fonts, layout, styles
from memoview.core.exhibits.data import (
    SUCCESS_MIN_WORDS,
    AttemptView,
    ExhibitData,
    WorkSummary,
    sha256sum_line,
    sweep_suffix_tokens,
    window_exact,
)
from memoview.core.exhibits import findings_section
from memoview.core.exhibits.flowables import MemorizationMap, TwoColumns, colour
from memoview.core.findings.quantity import MapQuantity
from memoview.core.findings.stats import fmt_pz as _core_fmt_pz
from memoview.core.records import Annotation, best_window_key
from memoview.core.exhibits import anchor
from memoview.core.storage.audit import canonical_json

PAGE_W, PAGE_H = letter
TOP_CLEAR = 0.75 * inch
MARGIN_X = 0.75 * inch
BOTTOM_BAND = 0.85 * inch
COLUMN_SIZE = 8.2
MONO_SIZE = 6.6
DASH = "\u2013"


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
    class BandCanvas(rl_canvas.Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["invariant"] = 1
            kwargs["initialFontName"] = fonts.SANS  # otherwise every page references a non-embedded Helvetica
            kwargs["initialFontSize"] = 9
            kwargs.setdefault("pageCompression", 1)
            super().__init__(*args, **kwargs)
            if creation is not None:
                self._doc._timeStamp = _fixed_timestamp(creation)
            self._states: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._states.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._states)
            for index, state in enumerate(self._states):
                self.__dict__.update(state)
                self._draw_band(index, total)
                super().showPage()
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
            self.setFont(fonts.MONO, 6.5)
            self.drawCentredString(PAGE_W / 2, y2, f"run {band.run_id} \u00b7 manifest {band.manifest_sha256[:16]}")
            self.restoreState()

    return BandCanvas


# ------------------------------------------------------------------ paragraph styles
def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=fonts.SANS, bulletFontName=fonts.SANS, fontSize=9, leading=12, splitLongWords=1)
    return {
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=7.5, leading=9.5),
        "tiny": ParagraphStyle("tiny", parent=base, fontSize=6.5, leading=8),
        "mono": ParagraphStyle("mono", parent=base, fontName=fonts.MONO, fontSize=MONO_SIZE, leading=MONO_SIZE * 1.3),
        "h1": ParagraphStyle("h1", parent=base, fontName=fonts.SANS_BOLD, fontSize=15, leading=19, spaceAfter=8,
                             keepWithNext=1),
        "h2": ParagraphStyle("h2", parent=base, fontName=fonts.SANS_BOLD, fontSize=11.5, leading=15, spaceBefore=8,
                             spaceAfter=4, keepWithNext=1),
        "h3": ParagraphStyle("h3", parent=base, fontName=fonts.SANS_BOLD, fontSize=9.5, leading=12.5, spaceBefore=6,
                             spaceAfter=3, keepWithNext=1),
        "title": ParagraphStyle("title", parent=base, fontName=fonts.SANS_BOLD, fontSize=18, leading=23, alignment=TA_CENTER),
        "center": ParagraphStyle("center", parent=base, alignment=TA_CENTER),
        "cell": ParagraphStyle("cell", parent=base, fontSize=7.5, leading=9.2),
        "cellb": ParagraphStyle("cellb", parent=base, fontName=fonts.SANS_BOLD, fontSize=7.5, leading=9.2),
        "head": ParagraphStyle("head", parent=base, fontName=fonts.SANS_BOLD, fontSize=7.5, leading=9.2, splitLongWords=0),
    }


S: dict[str, ParagraphStyle] = {}


def P(text: str, style: str = "body", *, raw: bool = False, max_chars: Optional[int] = None) -> Paragraph:
    """A paragraph of untrusted text (escaped) or of our own markup (``raw``)."""
    return Paragraph(text if raw else fonts.markup(text, S[style].fontName, max_chars=max_chars), S[style])


def cell(text: str, style: str, width: float) -> Any:
    """A table cell: a plain string when it fits on one line in the primary font (fast), else a Paragraph.

    Plain strings are drawn as-is by reportlab (no markup parsing), so they
    need only the control-character cleaning.
    """
    clean = fonts.clean_text(text, keep_newlines=False)
    st = S[style]
    if len(clean) < 120 and clean.isascii():  # ASCII: every embedded face has these glyphs
        if stringWidth(clean, st.fontName, st.fontSize) <= width - 7:
            return clean
    return P(text, style, max_chars=2000)


def _cell_style(font: str, size: float) -> list[Any]:
    return [("FONTNAME", (0, 0), (-1, -1), font), ("FONTSIZE", (0, 0), (-1, -1), size),
            ("LEADING", (0, 0), (-1, -1), size * 1.23)]


def table(rows: Sequence[Sequence[Any]], widths: Sequence[float], *, header: bool = True,
          ) -> Table:
    data = [[c if isinstance(c, Flowable) else cell(str(c), "head" if header and r == 0 else "cell", widths[i])
             for i, c in enumerate(row)] for r, row in enumerate(rows)]
    t = Table(data, colWidths=list(widths), repeatRows=1 if header else 0)
    cmds: list[Any] = _cell_style(fonts.SANS, 7.5) + [
        ("GRID", (0, 0), (-1, -1), 0.4, colour("#888888")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    if header:
        cmds.append(("BACKGROUND", (0, 0), (-1, 0), colour("#E0E0E0")))
        cmds.append(("FONTNAME", (0, 0), (-1, 0), fonts.SANS_BOLD))
    t.setStyle(TableStyle(cmds))
    return t


def kv_table(rows: Sequence[tuple[str, str]], width: float, key_w: float = 1.9 * inch) -> Table:
    data = [[cell(k, "cellb", key_w), cell(v, "cell", width - key_w)] for k, v in rows]
    t = Table(data, colWidths=[key_w, width - key_w])
    t.setStyle(TableStyle(_cell_style(fonts.SANS, 7.5) + [
        ("FONTNAME", (0, 0), (0, -1), fonts.SANS_BOLD),
        ("GRID", (0, 0), (-1, -1), 0.4, colour("#888888")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (0, -1), colour("#F0F0F0")),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]))
    return t


class TextBox(Flowable):
    """A labelled, bordered box of laid-out text that splits across pages (used for prompts and notes)."""

    def __init__(self, label: str, lines: Sequence[layout.Line], *, size: float, fill: str, dashed: bool = False,
                 continued: bool = False) -> None:
        super().__init__()
        self.label = label
        self.lines = list(lines)
        self.size = size
        self.lead = size * 1.3
        self.fill = fill
        self.dashed = dashed
        self.continued = continued
        self.pad = 5.0

    def _label_lines(self) -> float:
        return 1.2 if self.label else 0.2

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        self.width = availWidth
        self.height = self.pad * 2 + self.lead * (len(self.lines) + self._label_lines())
        return self.width, self.height

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        fit = int((availHeight - self.pad * 2) // self.lead - self._label_lines())
        if fit < 2:
            return []
        if fit >= len(self.lines):
            return [self]
        return [TextBox(self.label, self.lines[:fit], size=self.size, fill=self.fill, dashed=self.dashed, continued=self.continued),
                TextBox(self.label, self.lines[fit:], size=self.size, fill=self.fill, dashed=self.dashed, continued=True)]

    def draw(self) -> None:
        c = self.canv
        c.saveState()
        c.setFillColor(colour(self.fill))
        c.setStrokeColor(colors.black)
        c.setLineWidth(0.8)
        if self.dashed:
            c.setDash(4, 2)
        c.rect(0, 0, self.width, self.height, stroke=1, fill=1)
        c.restoreState()
        c.setFillColor(colors.black)
        c.setFont(fonts.SANS_BOLD, self.size)
        if self.label:
            y = self.height - self.pad - self.size
            c.drawString(self.pad, y, self.label + (" (continued)" if self.continued else ""))
        else:
            y = self.height - self.pad - self.size * 0.2
        for i, line in enumerate(self.lines):
            base = y - (i + 1) * self.lead
            for seg in line:
                c.setFont(seg.font, self.size)
                c.setFillColor(colors.black)
                c.drawString(self.pad + seg.x, base, seg.text)


class LegendSample(Flowable):
    """One line drawn exactly as the columns draw that kind of text."""

    def __init__(self, pieces: Sequence[layout.Piece], width: float) -> None:
        super().__init__()
        self.lines = layout.layout(pieces, width - 4, COLUMN_SIZE)
        self.w = width

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        return self.w, COLUMN_SIZE * 1.32 * len(self.lines) + 2

    def draw(self) -> None:
        helper = TwoColumns([], [], size=COLUMN_SIZE, left_title="", right_title="")
        helper.canv = self.canv
        lead = COLUMN_SIZE * 1.32
        h = lead * len(self.lines) + 2
        for i, line in enumerate(self.lines):
            base = h - (i + 1) * lead + lead * 0.28
            for seg in line:
                helper._draw_seg(seg, 2, base, lead)


# ------------------------------------------------------------------ helpers
def _fmt_pz(value: Optional[float]) -> str:
    """p_z as a plain number with its log10 (a reader should not have to decode 10^x)."""
    if value is None:
        return "\u2013"
    return _core_fmt_pz(value)  # below 1e-300: an upper bound, never a rounded-away 0


def _pct(value: float) -> str:
    return f"{value:.1%}"


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
class Story:
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
        self.flow.extend(items)

    # ---------------------------------------------------------------- cover
    def cover(self) -> None:
        d, o = self.data, self.o
        label = f"{o.label} {o.number}".strip()
        sticker = Table([[P("EXHIBIT LABEL", "tiny")], [P(label or " ", "title")]], colWidths=[2.4 * inch],
                        rowHeights=[12, 0.75 * inch])
        sticker.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), fonts.SANS), ("BOX", (0, 0), (-1, -1), 1.2, colors.black),
                                     ("VALIGN", (0, 1), (-1, 1), "MIDDLE")]))
        caption = P(o.caption, "body") if o.caption else P(" ", "body")
        top = Table([[caption, sticker]], colWidths=[self.width - 2.5 * inch, 2.5 * inch])
        top.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), fonts.SANS), ("VALIGN", (0, 0), (-1, -1), "TOP"), ("ALIGN", (1, 0), (1, 0), "RIGHT")]))
        self.add(top, Spacer(1, 18))
        works = [w for w in d.works if not w.document.is_control]
        controls = [w for w in d.works if w.document.is_control]
        models = ", ".join(f"{m.name or m.path} (fingerprint {m.fingerprint[:16]}\u2026)" for m in d.models) or "none"
        self.add(P("Memorization tests of a language model: results for every attempt on the works listed", "title"),
                 Spacer(1, 14))
        statuses: dict[str, int] = {}
        for v in d.all_views:
            statuses[v.attempt.status] = statuses.get(v.attempt.status, 0) + 1
        status_text = ", ".join(f"{n:,} {s}" for s, n in sorted(statuses.items()))
        rows = [
            ("Works tested", f"{len(works):,} (plus {len(controls):,} negative-control document(s))"),
            ("Attempts", f"{d.total_attempts:,} in total ({status_text}); every one is listed in Appendix A"),
            ("Successes", f"{sum(w.successes for w in works):,} of {sum(w.attempts for w in works):,} attempts on the works "
                          f"(rule on the method page)"),
            ("Longest verbatim run", f"{d.longest_words:,} words (consecutive words identical to the work, prompt words excluded)"),
            ("Control baseline", d.baseline.sentence()),
            ("Model(s)", models),
            ("Selection rule", d.selection_rule),
            ("Manifest SHA-256", d.manifest_sha256),
            ("Case anchor", anchor.cover_text(d.manifest)),
            ("Run id", self.o.run_id),
            ("Generated by", f"memoview {d.manifest['app_version']} on {self.o.creation_text}"),
        ]
        if o.expert:
            rows.insert(0, ("Prepared by", o.expert))
        self.add(P("Findings at a glance", "h2"), kv_table(rows, self.width))
        self.add(Spacer(1, 10), P(
            "This exhibit reports every attempt made on the works it covers, including attempts that produced no "
            "match, failed, were refused or were cancelled. Text supplied to the model in a prompt is shown in a "
            "separate box and is never counted as reproduced. Highlighting is readable in black and white: see the "
            "legend (Appendix D).", "small"))
        self.add(PageBreak())

    # ---------------------------------------------------------------- index
    def index(self) -> None:
        self.add(P("Index of every work tested", "h1"), P(
            "All works with at least one attempt in this case are listed, including works with no match. "
            "Coverage: fraction of the compared source words covered by any matched span (best attempt). "
            "p<sub>z</sub>: the highest exact-continuation probability of any attempt (\u2013: not computed).", "small", raw=True),
                 Spacer(1, 6))
        rows: list[list[Any]] = [["#", "Work", "Control", "Attempts", "Successes", "Longest run (words)", "Coverage", "Best p_z"]]
        for i, w in enumerate(self.data.works, 1):
            rows.append([f"W{i}", P(f"{w.document.title}" + (f" \u2014 {w.document.author}" if w.document.author else ""),
                                    "cell", max_chars=160),
                         "yes" if w.document.is_control else "no", f"{w.attempts:,}", f"{w.successes:,}",
                         f"{w.longest_words:,}", _pct(w.coverage), _fmt_pz(w.best_log10_pz)])
        widths = [0.35, 2.15, 0.55, 0.65, 0.72, 0.8, 0.68, 1.1]
        scale = self.width / (sum(widths) * inch)
        self.add(table(rows, [x * inch * scale for x in widths]))
        self.findings_table()
        self.add(PageBreak())

    def findings_table(self) -> None:
        """Work-level rates with intervals and the controls' false-positive rates (issue 12)."""
        f = self.data.findings
        if f is None:
            return
        numbers = {w.document.id: i for i, w in enumerate(self.data.works, 1)}
        rows = findings_section.rows(f, numbers)
        first, second = 1.55 * inch, 0.8 * inch
        rest = (self.width - first - second) / (len(rows[0]) - 2)
        t = table(rows, [first, second] + [rest] * (len(rows[0]) - 2))
        t.setStyle(TableStyle([("SPAN", (2, i), (-1, i)) for i in findings_section.spanned_rows(rows)]))
        self.add(CondPageBreak(2.5 * inch), Spacer(1, 8), P(findings_section.TITLE, "h2"),
                 P(findings_section.intro(f), "small", raw=True), Spacer(1, 4), t,
                 P(findings_section.controls_line(f, numbers), "small"))
        for line in findings_section.sampled_lines(f, numbers):
            self.add(P(line, "small"))

    # ---------------------------------------------------------------- method
    def method(self) -> None:
        d = self.data
        opts = next((v.alignment.options for v in d.all_views if v.alignment is not None), AlignOptions())
        self.add(P("Method", "h1"))
        defs = [
            ("Memorization", "A near-exact copy of a substantial portion of a training item can be reconstructed from the "
             "model (Cooper &amp; Grimmelmann, <i>The Files are in the Computer</i>, 2024). Extraction: a user "
             "deliberately causes the model to emit the copy. Regurgitation: the model emits it whatever the user intended."),
            ("Discoverable extraction", "The model is given k tokens of the work and continues greedily; the attempt "
             "succeeds when the continuation equals the next tokens of the work exactly (Carlini et al., "
             "<i>Quantifying Memorization Across Neural Language Models</i>, ICLR 2023)."),
            ("Memorization score", "Fraction of target token positions where the greedy continuation matches the work "
             "(Biderman et al., <i>Emergent and Predictable Memorization in Large Language Models</i>, 2023)."),
            ("p<sub>z</sub>", "Probability that the stated sampling scheme (temperature T, top-k) emits the exact target "
             "continuation, from one teacher-forced pass; reported as log10 and bits (Hayes et al., 2024; Cooper et al., "
             "<i>Extracting memorized pieces of (copyrighted) books from open-weight language models</i>, 2025). "
             "(n,p)-discoverability: samples needed for probability p of at least one exact copy, n = ceil(log(1\u2212p)/log(1\u2212p<sub>z</sub>))."),
            ("Memorization map", "A whole-work sweep: overlapping windows across the work, each scored as above "
             "(Cooper et al., 2025)."),
            ("Verbatim run", f"Consecutive words identical after normalization; shortest run reported: "
             f"{opts.min_verbatim_words} words. Unit: words (also characters and tokens in the statistics tables)."),
            ("Near-verbatim span", f"Runs merged across differing words while the normalized edit distance stays "
             f"within {opts.near_threshold:.0%} (the near-exact rule of the Gemini/Gemma memorization reports); "
             f"ROUGE-L \u2265 {opts.rouge_flag} flagged as a secondary signal (CopyBench)."),
            ("Success (a convention)", f"Prefix and p<sub>z</sub> attempts: the greedy continuation reproduces the whole "
             f"target exactly. Free prompts: a verbatim run of at least {SUCCESS_MIN_WORDS} words. Sweeps: at least one "
             "window reproduced exactly. 'Substantial portion' has no technical threshold; coverage, longest run and "
             "the number of matching windows are reported so the reader can judge."),
            ("Normalization", fonts.escape(opts.normalization.describe()) + ". Highlights are drawn on the original characters."),
            ("Units", "words: whitespace/word-boundary words after normalization (a CJK character counts as one word); "
             "characters: Unicode code points of the original text; tokens: the model's own tokens."),
            ("Chance baseline", fonts.escape(d.baseline.sentence()) + ". Negative controls are texts the model cannot "
             "have seen; matches on them show what chance and common phrases produce."),
            ("Negative controls", fonts.escape("; ".join(
                f"{c.title} (document {c.id}, SHA-256 {c.raw_sha256[:16]}\u2026)" for c in self.case.documents()
                if c.is_control) or "none marked in the case")),
        ]
        data = [[P(k, "cellb", raw=True), P(v, "cell", raw=True)] for k, v in defs]
        t = Table(data, colWidths=[1.5 * inch, self.width - 1.5 * inch])
        t.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), fonts.SANS), ("GRID", (0, 0), (-1, -1), 0.4, colour("#888888")), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("BACKGROUND", (0, 0), (0, -1), colour("#F0F0F0"))]))
        self.add(t)
        # prompt classes
        self.add(P("Prompt classes in this exhibit", "h2"))
        by_class: dict[tuple[str, str], list[AttemptView]] = {}
        for v in d.all_views:
            by_class.setdefault((v.attempt.spec.prompt_class, v.attempt.spec.method), []).append(v)
        rows: list[list[Any]] = [["Class", "Method", "Attempts", "Template", "Source text in the prompt"]]
        for (pclass, method), views in sorted(by_class.items()):
            words = [v.prompt_source_words for v in views]
            t0 = views[0].attempt.spec
            if method in ("prefix", "pz", "sweep"):
                k_tok = t0.target.get("prefix_tokens", t0.params.get("prefix_tokens", "?"))  # sweeps: in params
                m_tok = t0.target.get("suffix_tokens", t0.params.get("suffix_tokens", "?"))
                template = (f"k = {k_tok} tokens of the work, then the model continues "
                            f"m = {m_tok} tokens; BOS policy: {t0.bos_policy or 'not recorded'}")
            else:
                template = str(t0.params.get("template") or t0.label or "free prompt (text in each attempt's prompt box)")
            rows.append([pclass, method, f"{len(views):,}", template,
                         f"{min(words):,}\u2013{max(words):,} words (never counted)" if words else "\u2013"])
            if method == "sweep":
                rows[-1][-1] = f"up to {max(words):,} words per window (never counted)"
        self.add(table(rows, [0.8 * inch, 0.6 * inch, 0.6 * inch, self.width - 3.9 * inch, 1.9 * inch]))
        # decoding settings
        self.add(P("Decoding settings (effective, as recorded with each attempt)", "h2"))
        combos: dict[str, int] = {}
        for v in d.all_views:
            key = ", ".join(f"{k}={v.attempt.spec.params[k]}" for k in sorted(v.attempt.spec.params))
            combos[key or "(none recorded)"] = combos.get(key or "(none recorded)", 0) + 1
        self.add(table([["Settings", "Attempts"]] + [[k, f"{n:,}"] for k, n in sorted(combos.items())],
                       [self.width - 0.8 * inch, 0.8 * inch]))
        # model identity
        for m in d.models:
            self.add(CondPageBreak(2 * inch), P(f"Model {m.id}: {m.name or m.path}", "h2"), kv_table([
                ("Path (as registered)", m.path), ("Format / architecture", f"{m.format} / {m.architecture}"),
                ("Parameters", f"{m.parameter_count:,}"), ("dtype / device / quantization",
                                                           f"{m.dtype or '?'} / {m.device or '?'} / {m.quantization or 'none'}"),
                ("Context length", f"{m.context_length:,}"), ("BOS / EOS", f"{m.bos_token!r} (tokenizer adds BOS: {m.adds_bos}) / {m.eos_token!r}"),
                ("Chat template", "present" if m.has_chat_template else "absent"),
                ("Fingerprint (SHA-256)", m.fingerprint),
            ] + ([("Identity", "Deployed system, identified by endpoint, model id and date; weights not available "
                   "to the examiner. The fingerprint above is the SHA-256 of the endpoint and model id.")]
                 if m.format == "openai" else []), self.width))
            rows = [["File", "Role", "Bytes", "SHA-256"]] + [[f.relpath, f.role, f"{f.size:,}", P(f.sha256, "mono")] for f in m.files]
            self.add(Spacer(1, 4), table(rows, [1.5 * inch, 0.6 * inch, 0.7 * inch, self.width - 2.8 * inch]))
        self.add(CondPageBreak(1.5 * inch), P("Environment (as recorded with the attempts; full list in Appendix E)", "h2"),
                 kv_table(list(d.environment.items()), self.width, key_w=2.2 * inch))
        self.add(PageBreak())

    # ---------------------------------------------------------------- per work
    def work(self, number: int, w: WorkSummary) -> None:
        doc = w.document
        self.add(P(f"W{number}. {doc.title}", "h1", max_chars=300))
        rows = [("Author", doc.author or "\u2013"), ("Source / provenance", doc.source or "\u2013"),
                ("Date obtained", doc.date_obtained or "\u2013"), ("File", f"{doc.filename} ({doc.byte_size:,} bytes, {doc.media_type})"),
                ("SHA-256 of the file", doc.raw_sha256), ("SHA-256 of the extracted text", doc.text_sha256),
                ("Text extraction", f"{doc.extractor} {doc.extractor_version}"),
                ("Negative control", "yes \u2014 a text the model cannot have seen" if doc.is_control else "no"),
                ("Attempts on this work", f"{w.attempts:,} ({w.successes:,} successes); shown in full: "
                 f"{', '.join(str(v.attempt.id) for v in w.shown) or 'none'}"),
                ("Selection rule", self.data.selection_rule)]
        if doc.notes:
            rows.insert(3, ("Notes", doc.notes))
        self.add(kv_table(rows, self.width))
        self.notes("document", doc.id)
        if not w.shown:
            self.add(Spacer(1, 6), P("No attempt on this work produced output to show; its attempts are listed in Appendix A.", "body"))
        for view in w.shown:
            self.tick(f"attempt {view.attempt.id}")
            if view.is_sweep:
                self.sweep(view)
            else:
                self.attempt(view)
        self.add(PageBreak())

    def notes(self, target_kind: str, target_id: int) -> None:
        for a in self.case.annotations(target_kind, target_id):
            if not _ann_kind_ok(a):
                continue
            label = (f"{'EXPERT NOTE' if a.kind == 'expert_note' else 'NOTE'} by {a.author} ({a.created_at[:10]}) \u2014 "
                     "commentary added afterwards; not model output, not source text")
            lines = layout.layout([layout.Piece(fonts.clean_text(a.body))], self.width - 12, 8)
            self.add(Spacer(1, 5), TextBox(fonts.clean_text(label, keep_newlines=False), lines, size=8, fill="#EEF3FF", dashed=True))

    def _attempt_header(self, view: AttemptView) -> None:
        a = view.attempt
        spec = a.spec
        self.add(CondPageBreak(2.2 * inch), P(
            f"Attempt {a.id} \u2014 attempt {view.k} of {view.n} "
            + ("on this work" if view.document is not None else "not tied to a work"), "h2"))
        params = ", ".join(f"{k}={spec.params[k]}" for k in sorted(spec.params)) or "not recorded"
        outcome = ("SUCCESS under the rule on the method page" if view.success else
                   "no success under the rule on the method page") + f"; longest verbatim run {view.longest_words:,} words"
        rows = [("Method / prompt class", f"{spec.method} / {spec.prompt_class}"),
                ("Status", a.status + (f" \u2014 {a.error}" if a.error else "")),
                ("Outcome", outcome if a.status == "done" else "not counted as a success (did not finish)"),
                ("Decoding", params), ("Seed / BOS", f"{spec.seed if spec.seed is not None else DASH} / {spec.bos_policy or DASH}"),
                ("Model", f"model {spec.model_id}, fingerprint {spec.model_fingerprint}"),
                ("Run at (UTC)", f"{a.started_at or '?'} \u2192 {a.finished_at or '?'}"),
                ("Output SHA-256", a.output_sha256 or "\u2013"),
                ("Compared with", "each window's continuation with the work's true continuation at that window"
                 if view.is_sweep else
                 f"characters {view.source_start:,}\u2013{view.source_end:,} of the work; {view.alignment_note}"
                 if view.document is not None else view.alignment_note)]
        self.add(kv_table(rows, self.width, key_w=1.5 * inch))

    def _prompt_box(self, view: AttemptView) -> None:
        a = view.attempt
        if not a.prompt_text:
            return
        words = view.prompt_source_words
        label = (f"PROMPT \u2014 supplied to the model; not counted ({len(a.prompt_text.split()):,} words, "
                 f"of which {words:,} words are text of the work)")
        lines = layout.layout([layout.Piece(fonts.clean_text(a.prompt_text))], self.width - 12, 8)
        self.add(Spacer(1, 6), TextBox(label, lines, size=8, fill=styles.PROMPT.background))

    def attempt(self, view: AttemptView) -> None:
        self._attempt_header(view)
        self._prompt_box(view)
        a, doc = view.attempt, view.document
        if a.status != "done":
            self.add(Spacer(1, 4), P(f"This attempt ended with status '{a.status}'. {a.error}", "body"))
            return
        out_pieces = layout.source_pieces(a.output_text, 0, len(a.output_text), _marks(view, "output"),
                                          unmatched_kind=layout.UNMATCHED_OUTPUT, compress_words=None)
        src_pieces = layout.source_pieces(doc.text if doc else "", view.source_start, view.source_end,
                                          _marks(view, "source"), unmatched_kind=layout.UNREPRODUCED)
        left = layout.layout(out_pieces, self.col_w, COLUMN_SIZE)
        right = layout.layout(src_pieces, self.col_w, COLUMN_SIZE)
        self.add(Spacer(1, 8), TwoColumns(left, right, size=COLUMN_SIZE, left_title=f"Model output (attempt {a.id})",
                                          right_title=f"Source: {fonts.clean_text(doc.title if doc else '', False)}"))
        self.stats(view)
        if (a.environment or {}).get("server_exchanges"):  # a deployed system: what it was sent and said
            from memoview.core.exhibits import served

            self.add(Spacer(1, 6), P("What the deployed system was sent and what it said", "h2"),
                     kv_table(served.exchange_rows(a), self.width, key_w=1.9 * inch))
            for label, body in served.exchange_texts(view.exchanges):
                lines = layout.layout([layout.Piece(fonts.clean_text(body))], self.width - 12, 7)
                self.add(Spacer(1, 4), TextBox(label, lines, size=7, fill=styles.PROMPT.background))
        self.notes("attempt", a.id)

    def stats(self, view: AttemptView) -> None:
        al = view.alignment
        a = view.attempt
        m = a.metrics or {}
        rows: list[tuple[str, str]] = []
        if al is not None:
            mt = al.metrics
            rows += [
                ("Longest verbatim run", f"{mt.longest_verbatim_words:,} words / {mt.longest_verbatim_chars:,} characters"
                 + (f" / {mt.longest_verbatim_tokens:,} tokens" if mt.longest_verbatim_tokens is not None else "")),
                ("Coverage of the source segment", f"{mt.source_coverage_fraction:.1%} of {mt.source_words:,} words "
                 f"(verbatim only: {mt.source_verbatim_coverage_fraction:.1%})"),
                ("Coverage of the output", f"{mt.output_coverage_fraction:.1%} of {mt.output_words:,} words"),
                ("Longest common substring", f"{mt.longest_common_substring_chars:,} normalized characters (contiguous)"),
                ("Longest common subsequence", f"{mt.longest_common_subsequence_words:,} words (not necessarily contiguous)"),
                ("Edit similarity / ROUGE-L F", f"{mt.edit_similarity_fraction:.3f} / {mt.rouge_l_f_fraction:.3f}"
                 + (" (flagged)" if mt.rouge_l_flag else "")),
                ("Exact suffix match (Carlini)", "yes" if mt.exact_suffix_match else "no"),
                ("Matching spans", f"{mt.verbatim_span_count:,} verbatim, {mt.near_span_count:,} near-verbatim"),
                ("Prompt words excluded", f"{mt.excluded_source_words:,} source / {mt.excluded_output_words:,} output"),
            ]
        for key, label in (("greedy_exact", "Leading exact target tokens"), ("memorization_score", "Memorization score (Biderman)"),
                           ("log10_pz", "log10 p_z"), ("bits", "bits (\u2212log2 p_z)"),
                           ("n_samples_p50", "samples for p = 0.5"), ("n_samples_p95", "samples for p = 0.95"),
                           ("n_samples_p99", "samples for p = 0.99")):
            if key in m and m.get("pz_kind") == "upper_bound" and key != "greedy_exact" \
                    and key != "memorization_score":  # top-N log-probs only: a labelled bound, never a value
                if key == "log10_pz":
                    from memoview.core.extraction.pz_label import pz_text

                    rows.append(("p_z", pz_text(m)))
                continue
            if key in m:
                value = m[key]
                rows.append((label, "\u2013 (p_z = 0 or undefined)" if value is None else
                             (f"{value:,.4g}" if isinstance(value, float) else f"{value:,}" if isinstance(value, int) else str(value))))
        if "pz_top_k" in m or "pz_temperature" in m:
            rows.append(("p_z scheme", f"T = {m.get('pz_temperature', '?')}, top-k = {m.get('pz_top_k', '?')}"))
        rows.append(("Chance baseline (controls)", self.data.baseline.sentence()))
        if view.document is not None and view.source_end > view.source_start:  # issue 12: boilerplate flag
            from memoview.core.findings import entropy

            low = [f"M{sp.match_id}" for sp in (al.spans if al is not None else ())
                   if entropy.flag(view.document.text[sp.source_start:sp.source_end]).low]
            rows.append(("Low-entropy flag (zlib)", "compared source text: "
                         + entropy.flag(view.document.text[view.source_start:view.source_end]).describe()
                         + f"; matched spans flagged: {', '.join(low) or 'none'} ({entropy.RULE})"))
        self.add(Spacer(1, 6), KeepTogether([P("Statistics", "h3"), kv_table(rows, self.width, key_w=2.0 * inch)]))
        if al is not None and al.spans:
            doc_text = view.document.text if view.document else ""
            rows2: list[list[Any]] = [["Match", "Kind", "Words", "Output chars", "Source chars", "Edit dist.", "Source text (start)"]]
            for s in al.spans[:200]:
                rows2.append([f"M{s.match_id}", s.kind, f"{s.words:,}", f"{s.output_start:,}\u2013{s.output_end:,}",
                              f"{s.source_start:,}\u2013{s.source_end:,}", f"{s.edit_distance:,}",
                              P(doc_text[s.source_start:s.source_end], "cell", max_chars=90)])
            if len(al.spans) > 200:
                rows2.append(["\u2026", f"{len(al.spans) - 200:,} more spans", "", "", "", "", ""])
            self.add(Spacer(1, 6), P("Matches (each id marks the same span in both columns)", "h3"),
                     table(rows2, [0.45 * inch, 0.65 * inch, 0.5 * inch, 0.85 * inch, 0.95 * inch, 0.55 * inch,
                                   self.width - 3.95 * inch]))

    def sweep(self, view: AttemptView) -> None:
        self._attempt_header(view)
        a, doc = view.attempt, view.document
        windows = list(view.windows)
        suffix = sweep_suffix_tokens(a)
        if not windows or doc is None:
            self.add(P(f"This sweep recorded no windows (status '{a.status}').", "body"))
            return
        exact = [w for w in windows if window_exact(w, suffix)]
        partial = [w for w in windows if w.greedy_exact > 0 and not window_exact(w, suffix)]
        kinds = ["exact" if window_exact(w, suffix) else "partial" if w.greedy_exact > 0 else "none" for w in windows]
        q = MapQuantity.for_sweep(self.data.map_quantity, a.spec.params or {}, a.metrics)
        self.add(Spacer(1, 6), KeepTogether([P(f"Memorization map \u2014 {q.name}", "h3"), P(
            f"{len(windows):,} windows across the work; bar height: {q.name}. {q.explanation} Dark bars: whole "
            f"window reproduced exactly by greedy decoding ({len(exact):,}); light bars: partly ({len(partial):,}); "
            f"grey: no leading token ({len(windows) - len(exact) - len(partial):,}).", "small"),
            MemorizationMap([w.start_char for w in windows], [q.level(w) for w in windows], kinds,
                            doc_length=len(doc.text), y_max=1.0, x_label="position in the work (characters)",
                            y_label=q.short, y_ticks=q.ticks())]),
        )
        top = [w for w in sorted(windows, key=best_window_key)[:3] if w.continuation]
        if top:
            self.add(CondPageBreak(2.2 * inch), P("Windows with the longest exact continuations", "h3"))
        else:
            self.add(P("This sweep did not record the model's continuations, so no window can be shown side by side; "
                       "the chart above and Appendix A give every window's figures. Re-run the sweep with its default "
                       "generate_best = 3 (or --generate for every window) to show them.", "small"))
        align = None
        try:
            from memoview.core.alignment.engine import align as _align
            align = _align
        except ImportError:
            pass
        for w in top:
            if not w.continuation:
                continue
            src_start, src_end = w.start_char, w.end_char
            marks_out: list[layout.Mark] = []
            marks_src: list[layout.Mark] = []
            if align is not None:
                al = align(doc.text[src_start:src_end], w.continuation, AlignOptions())
                for s in al.spans:
                    kind = layout.NEAR if s.kind == A_NEAR else layout.VERB
                    marks_out.append(layout.Mark(s.output_start, s.output_end, kind, s.match_id, tuple(s.output_diffs)))
                    marks_src.append(layout.Mark(s.source_start + src_start, s.source_end + src_start, kind, s.match_id,
                                                 tuple((x + src_start, y + src_start) for x, y in s.source_diffs)))
            left = layout.layout(layout.source_pieces(w.continuation, 0, len(w.continuation), marks_out,
                                                      unmatched_kind=layout.UNMATCHED_OUTPUT, compress_words=None),
                                 self.col_w, COLUMN_SIZE)
            right = layout.layout(layout.source_pieces(doc.text, src_start, src_end, marks_src), self.col_w, COLUMN_SIZE)
            pr = doc.text[w.prefix_start_char:w.start_char]
            self.add(CondPageBreak(1.6 * inch), Spacer(1, 8), P(
                f"Window {w.index}: characters {w.start_char:,}\u2013{w.end_char:,}; {w.greedy_exact} leading tokens exact; "
                f"memorization score {w.memorization_score:.2f}; p_z {_core_fmt_pz(w.log10_pz)}"
                f" (prompt: the preceding {len(pr.split()):,} words of the work, supplied to the model; not counted)", "small"),
                TwoColumns(left, right, size=COLUMN_SIZE, left_title=f"Model continuation (window {w.index})",
                           right_title="Source (true continuation)"))
        self.notes("attempt", a.id)

    def unattached(self) -> None:
        """Chosen attempts that are not tied to any work: output shown in full, nothing to compare with."""
        views = [v for v in self.data.all_views if v.document is None and v.shown_alone]
        if not views:
            return
        self.add(P("Attempts not tied to a work", "h1"), P(
            "These attempts were made without a source document, so there is no source column and nothing is "
            "counted as reproduced.", "small"))
        for v in views:
            self._attempt_header(v)
            self._prompt_box(v)
            if v.attempt.output_text:
                lines = layout.layout([layout.Piece(fonts.clean_text(v.attempt.output_text))], self.width - 12, COLUMN_SIZE)
                self.add(Spacer(1, 6), TextBox(f"Model output (attempt {v.attempt.id})", lines, size=COLUMN_SIZE, fill="#FFFFFF"))
            self.notes("attempt", v.attempt.id)
        self.add(PageBreak())

    # ---------------------------------------------------------------- appendices
    def appendices(self) -> None:
        d = self.data
        self.add(P("Appendix A. Complete attempt log", "h1"), P(
            "Every attempt on the works in this exhibit, in the order run, whatever its status (done, failed, "
            "refused, cancelled). Success follows the rule on the method page.", "small"), Spacer(1, 4))
        rows: list[list[Any]] = [["Id", "Work", "Method / class", "Status", "k of n", "Longest run", "Success", "Output SHA-256 / error"]]
        index = {w.document.id: i for i, w in enumerate(d.works, 1)}
        for v in sorted(d.all_views, key=lambda v: v.attempt.id):
            a = v.attempt
            note = a.error if a.error else (a.output_sha256[:16] + "\u2026" if a.output_sha256 else "\u2013")
            rows.append([str(a.id), f"W{index.get(a.spec.document_id, '?')}" if v.document else "\u2013",
                         f"{a.spec.method} / {a.spec.prompt_class}", a.status, f"{v.k} of {v.n}",
                         f"{v.longest_words:,}", "yes" if v.success else "no", P(note, "cell", max_chars=160)])
        self.add(table(rows, [0.4 * inch, 0.45 * inch, 1.2 * inch, 0.7 * inch, 0.6 * inch, 0.65 * inch, 0.65 * inch,
                              self.width - 4.65 * inch]), PageBreak())
        self.manifest()
        self.reproduction()
        self.legend()
        self.environment()
        self.audit_extract()

    def manifest(self) -> None:
        d = self.data
        manifest_name = fonts.escape(fonts.clean_text(self.o.output_name + ".manifest.json", keep_newlines=False))
        self.add(P("Appendix B. Hash manifest", "h1"), P(
            "Each block below is in the format read by <font name='MV-Mono'>sha256sum -c</font> (GNU coreutils). "
            "Source documents: copy block B1 into a file named <font name='MV-Mono'>documents.sha256</font> in a folder "
            "holding the original files as produced (named as listed) and run "
            "<font name='MV-Mono'>sha256sum -c documents.sha256</font>. Model files: copy block B2 into "
            "<font name='MV-Mono'>model.sha256</font> inside the model folder and run "
            "<font name='MV-Mono'>sha256sum -c model.sha256</font>. The manifest SHA-256 printed on every page is the "
            f"SHA-256 of the manifest file written beside this PDF (<font name='MV-Mono'>{manifest_name}</font>: "
            "canonical JSON, sorted keys, no whitespace, UTF-8); check it with "
            f"<font name='MV-Mono'>sha256sum {manifest_name}</font>. It binds the documents, model files, every "
            "attempt's output hash and record hash, and the audit-log head at export.", "small", raw=True), Spacer(1, 4))
        doc_lines = [sha256sum_line(w.document.raw_sha256, w.document.filename) for w in d.works]
        self._mono_block("B1. Source documents (original files)", doc_lines)
        names = [w.document.filename for w in d.works]
        if len(set(names)) != len(names):
            self.add(P("Two or more documents share a file name; place each in its own folder before checking.", "small"))
        for m in d.models:
            self._mono_block(f"B2. Model {m.id} files (relative to the model folder {m.path})",
                             [sha256sum_line(f.sha256, f.relpath) for f in m.files] or ["(no files recorded)"])
        self._mono_block("B3. Manifest, audit log head and standalone verifier",
                         [f"manifest SHA-256      {d.manifest_sha256}", *anchor.manifest_lines(d.manifest, self.o.output_name)])
        self.add(PageBreak())

    def _mono_block(self, title: str, lines: Sequence[str]) -> None:
        self.add(P(title, "h3"))
        laid = layout.layout([layout.Piece(fonts.clean_text("\n".join(lines)))], self.width - 12, MONO_SIZE, primary=fonts.MONO)
        self.add(TextBox("", laid, size=MONO_SIZE, fill="#FFFFFF"))

    def reproduction(self) -> None:
        d, o = self.data, self.o
        self.add(P("Appendix C. Reproduction steps", "h1"))
        steps = [
            ("1. Check the case file's integrity and that it still reaches this exhibit's audit head (with memoview, "
             "or with the standalone verifier written beside this PDF: Python standard library only)",
             anchor.check_command(d.case_name, d.manifest, o.output_name)),
            ("2. Check the source files and the model files against Appendix B",
             "sha256sum -c documents.sha256\ncd MODEL_FOLDER && sha256sum -c model.sha256"),
            ("3. Re-run the greedy and beam attempts and the sweeps with the model and compare the results",
             f"memoview case verify {d.case_name} --models --rerun\n"
             + "\n".join(f"memoview attempt reproduce {d.case_name} {v.attempt.id} --model MODEL_PATH"
                         for w in d.works for v in w.shown
                         if v.attempt.spec.method == "sweep"
                         or (v.attempt.spec.method in ("prefix", "prompt", "chat")
                             and v.attempt.spec.params.get("decoding") in ("greedy", "beam")))),
            ("4. Re-create this exhibit byte for byte (same case, same options)", o.command_line),
            ("5. Check the exhibit's manifest", f"sha256sum {o.output_name}.manifest.json   # expect {d.manifest_sha256}"),
        ]
        for title, cmd in steps:
            self.add(P(title, "h3"))
            lines = layout.layout([layout.Piece(fonts.clean_text(cmd))], self.width - 12, MONO_SIZE + 0.6, primary=fonts.MONO)
            self.add(TextBox("", lines, size=MONO_SIZE + 0.6, fill="#F6F6F6"))
        self.add(Spacer(1, 6), P(
            "Each attempt's full specification (method, prompt, target offsets, every decoding parameter, seed, "
            "BOS policy, model fingerprint) is stored in the case file with its prompt and output token ids; greedy "
            "attempts are deterministic on the same software and hardware and can be re-run from that record. "
            "The specifications of the attempts shown in full follow, exactly as stored (canonical JSON).", "small"))
        for w in d.works:
            for v in w.shown:
                spec_json = canonical_json(asdict(v.attempt.spec))
                lines = layout.layout([layout.Piece(fonts.clean_text(spec_json))], self.width - 12, MONO_SIZE,
                                      primary=fonts.MONO)
                self.add(Spacer(1, 4), TextBox(f"Attempt {v.attempt.id} specification", lines, size=MONO_SIZE,
                                               fill="#FFFFFF"))
        self.add(PageBreak())

    def legend(self) -> None:
        self.add(P("Appendix D. Legend", "h1"))
        samples = [
            ([layout.Piece("M1", layout.TAG), layout.Piece("the quick brown fox jumps", layout.VERB)], styles.VERBATIM.description),
            ([layout.Piece("M2", layout.TAG), layout.Piece("over the ", layout.NEAR), layout.Piece("sleepy", layout.NEAR_DIFF),
              layout.Piece(" dog", layout.NEAR)], styles.NEAR.description + "; " + styles.NEAR_DIFF.description),
            ([layout.Piece("source words left unreproduced", layout.UNREPRODUCED)], styles.UNREPRODUCED.description),
            ([layout.Piece("text the model wrote itself", layout.UNMATCHED_OUTPUT)], styles.UNMATCHED_OUTPUT.description),
            ([layout.Piece("[\u2026 1,240 words not reproduced \u2026]", layout.GAP)], styles.GAP.description),
        ]
        rows = [[P("Sample", "cellb"), P("Meaning", "cellb")]] + [[LegendSample(p, 2.4 * inch), P(desc, "cell")] for p, desc in samples]
        t = Table(rows, colWidths=[2.5 * inch, self.width - 2.5 * inch])
        t.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), fonts.SANS), ("GRID", (0, 0), (-1, -1), 0.4, colour("#888888")), ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
        self.add(t, Spacer(1, 8), P(
            "Prompt boxes (grey, solid border) hold text supplied to the model; it is never counted as reproduced. "
            "Expert notes (blue, dashed border) are commentary added afterwards. Line numbers count lines of each "
            "column separately. Control characters and invisible format characters in any text are shown as "
            "[U+XXXX]; characters that none of the embedded fonts (DejaVu Sans, Droid Sans Fallback for CJK) can draw "
            "appear as \ufffd. Right-to-left text (Hebrew, Arabic) is shown in its stored (logical) order, without "
            "reordering or shaping. Fonts: " + "; ".join(f"{k}: {v}" for k, v in fonts.FONT_LICENCES.items()) + ".", "small"))
        self.add(PageBreak())

    def environment(self) -> None:
        self.add(P("Appendix E. Environment and software versions", "h1"))
        self.add(kv_table(list(self.data.environment.items()), self.width, key_w=2.2 * inch), PageBreak())

    def audit_extract(self) -> None:
        d = self.data
        attempt_subjects = {f"attempt:{v.attempt.id}" for w in d.works for v in w.shown}
        doc_subjects = {f"document:{w.document.id}" for w in d.works}
        model_subjects = {f"model:{m.id}" for m in d.models}
        keep = [e for e in d.audit_entries if e.subject in attempt_subjects | doc_subjects | model_subjects
                or e.event in ("case.create", "exhibit.export", "case.verify")]
        self.add(P("Appendix F. Audit log extract", "h1"), P(
            f"The case's audit log has {len(d.audit_entries):,} entries, each holding the SHA-256 of the previous one "
            f"(a hash chain). Shown: the {len(keep):,} entries about the documents, models and attempts shown in full, "
            "and every case creation, verification and exhibit export. 'memoview case verify' re-checks the whole chain. "
            + anchor.SELF_ASSERTED_NOTE,
            "small"), Spacer(1, 4))
        rows: list[list[Any]] = [["Seq", "Time (UTC, self-asserted)", "Event", "Subject", "Entry hash"]]
        for e in keep[-500:]:
            rows.append([str(e.seq), e.at[:19], e.event, e.subject, P(e.hash, "mono")])
        self.add(table(rows, [0.45 * inch, 1.25 * inch, 1.1 * inch, 1.0 * inch, self.width - 3.8 * inch]))


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
