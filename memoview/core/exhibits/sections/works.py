"""Per-work sections: header, attempts side by side with statistics, sweeps, unattached attempts.

Each attempt is one unit on the page: its header, prompt, the two columns
and its statistics are kept together (a page break comes before the unit,
not between the text and its numbers, unless the unit is longer than a
page). Every figure is rounded for reading; Appendix C keeps full precision.
"""

from __future__ import annotations

from typing import Any, Optional

from reportlab.lib.units import inch
from reportlab.platypus import CondPageBreak, Flowable, Spacer

from memoview.core.alignment.types import NEAR as A_NEAR
from memoview.core.alignment.types import AlignOptions
from memoview.core.exhibits import fonts, layout, outcomes, served, styles
from memoview.core.exhibits.blocks import (
    BOX_SIZE,
    COLUMN_SIZE,
    MONO_SIZE,
    KeepIfFits,
    P,
    TextBox,
    kv_grid,
    kv_table,
    table,
)
from memoview.core.exhibits.data import AttemptView, WorkSummary, sweep_suffix_tokens, window_exact
from memoview.core.exhibits.flowables import MemorizationMap, TwoColumns
from memoview.core.exhibits.sections.base import StoryBase, _ann_kind_ok, _marks
from memoview.core.exhibits.sections.front import BOS_WORDS
from memoview.core.extraction import catalogue, pz_label
from memoview.core.findings import entropy
from memoview.core.findings.quantity import MapQuantity
from memoview.core.records import AttemptStatus, best_window_key, SweepWindow

WORK_MIN_SPACE = 4.0 * inch  # a work starts on the current page only when this much room is left


class WorkSections(StoryBase):
    # ---------------------------------------------------------------- per work
    def work(self, number: int, w: WorkSummary) -> None:
        doc = w.document
        best = w.best_exact
        summary = (f"{w.attempts:,} \u2014 outcomes: {outcomes.tiers_short(w.tiers)}; longest verbatim run "
                   f"{w.longest_words:,} words; most leading tokens exact: "
                   + (f"{best.exact_tokens:,} of {best.target_tokens:,}" if best else "0")
                   + f"; best p_z: {outcomes.pz_text(w.best_log10_pz)}. Shown in full: "
                   + (", ".join(str(v.attempt.id) for v in w.shown) or "none"))
        rows = [("Author", doc.author or "\u2013"), ("Source / provenance", doc.source or "\u2013"),
                ("Date obtained", doc.date_obtained or "\u2013"), ("File", f"{doc.filename} ({doc.byte_size:,} bytes, {doc.media_type})"),
                ("SHA-256 of the file", doc.raw_sha256), ("SHA-256 of the extracted text", doc.text_sha256),
                ("Text extraction", f"{doc.extractor} {doc.extractor_version}"),
                ("Negative control", "yes \u2014 a text the model cannot have seen" if doc.is_control else "no"),
                ("Attempts on this work", summary),
                ("Selection rule", self.data.selection_rule)]
        if doc.notes:
            rows.insert(3, ("Notes", doc.notes))
        self.add(CondPageBreak(WORK_MIN_SPACE), P(f"W{number}. {doc.title}", "h1"), kv_table(rows, self.width))
        self.notes("document", doc.id)
        if not w.shown:
            self.add(Spacer(1, 6), P("No attempt on this work produced output to show; its attempts are listed in Appendix A.", "body"))
        for view in w.shown:
            self.tick(f"attempt {view.attempt.id}")
            if view.is_sweep:
                self.sweep(view)
            else:
                self.attempt(view)
        self.add(Spacer(1, 16))

    def notes(self, target_kind: str, target_id: int) -> None:
        for a in self.case.annotations(target_kind, target_id):
            if not _ann_kind_ok(a):
                continue
            label = (f"{'EXPERT NOTE' if a.kind == 'expert_note' else 'NOTE'} by {a.author} ({a.created_at[:10]}) \u2014 "
                     "commentary added afterwards; not model output, not source text")
            lines = layout.layout([layout.Piece(fonts.clean_text(a.body))], self.width - 12, BOX_SIZE)
            self.add(Spacer(1, 5), TextBox(fonts.clean_text(label, keep_newlines=False), lines, size=BOX_SIZE,
                                           fill="#EEF3FF", dashed=True))

    # ---------------------------------------------------------------- one attempt
    def _outcome(self, view: AttemptView) -> str:
        a = view.attempt
        if a.status != AttemptStatus.DONE:
            return "not counted (did not finish)"
        words = outcomes.TIER_WORDS[view.tier]
        f = view.sweep
        if f is not None:
            best = f.best_window
            text = (f"{words}: {f.exact_windows:,} of {f.windows:,} windows reproduced exactly, {f.partial_windows:,} "
                    "partly")
            if best is not None:
                text += (f"; best window {best.index}: {best.greedy_exact:,} of {view.target_tokens:,} leading tokens "
                         "exact")
            text += f"; longest verbatim run {view.longest_words:,} words"
            if f.longest_window is not None:
                text += f" (window {f.longest_window})"
            return text
        text = f"{words}; longest verbatim run {view.longest_words:,} words"
        if view.target_tokens:
            text += f"; {view.exact_tokens:,} of {view.target_tokens:,} leading target tokens exact"
        return text

    def _attempt_header(self, view: AttemptView) -> list[Flowable]:
        a = view.attempt
        spec = a.spec
        bos = BOS_WORDS.get(spec.bos_policy or "", f"start-of-text policy {spec.bos_policy or 'not recorded'}")
        rows = [("Method / prompt class", f"{catalogue.noun(spec.method)} / {spec.prompt_class}"),
                ("Status", a.status + (f" \u2014 {a.error}" if a.error else "")),
                ("Outcome", self._outcome(view)),
                ("Decoding", outcomes.settings_line(spec.params or {})),
                ("Seed / start of text", (f"seed {spec.seed}" if spec.seed is not None else
                                          "no seed (greedy decoding draws nothing at random)"
                                          if (spec.params or {}).get("decoding") in ("greedy", "beam") else "no seed recorded")
                 + f"; {bos[0].lower() + bos[1:]}"),
                ("Model", served.model_row(a)),
                ("Run at (UTC)", f"{(a.started_at or '?')[:19].replace('T', ' ')} \u2192 "
                                 f"{(a.finished_at or '?')[:19].replace('T', ' ')}"),
                ("Output SHA-256", a.output_sha256 or "\u2013"),
                ("Compared with", "each window's continuation with the work's true continuation at that window"
                 if view.is_sweep else
                 f"characters {view.source_start:,}\u2013{view.source_end:,} of the work; {view.alignment_note}"
                 if view.document is not None else view.alignment_note)]
        return [P(f"Attempt {a.id} \u2014 attempt {view.k} of {view.n} "
                  + ("on this work" if view.document is not None else "not tied to a work"), "h2"),
                kv_grid(rows, self.width, long_at=48)]

    def _prompt_box(self, view: AttemptView) -> list[Flowable]:
        a = view.attempt
        if not a.prompt_text:
            return []
        words = view.prompt_source_words
        label = (f"PROMPT \u2014 supplied to the model; not counted ({len(a.prompt_text.split()):,} words, "
                 f"of which {words:,} words are text of the work)")
        lines = layout.layout([layout.Piece(fonts.clean_text(a.prompt_text))], self.width - 12, BOX_SIZE)
        return [Spacer(1, 6), TextBox(label, lines, size=BOX_SIZE, fill=styles.PROMPT.background)]

    def attempt(self, view: AttemptView) -> None:
        unit: list[Flowable] = self._attempt_header(view) + self._prompt_box(view)
        a, doc = view.attempt, view.document
        if a.status != AttemptStatus.DONE:
            self.add(KeepIfFits(unit + [Spacer(1, 4), P(f"This attempt ended with status '{a.status}'. {a.error}", "body")]))
            return
        text = doc.text if doc else ""
        lead = layout.cut_word_before(text, view.source_start) if doc else ""
        out_pieces = layout.framed_output_pieces(a.output_text, _marks(view, "output"), lead)
        src_pieces = layout.framed_source_pieces(text, view.source_start, view.source_end, _marks(view, "source"),
                                                 unmatched_kind=layout.UNREPRODUCED)
        left = layout.layout(out_pieces, self.col_w, COLUMN_SIZE)
        right = layout.layout(src_pieces, self.col_w, COLUMN_SIZE)
        body: list[Flowable] = [Spacer(1, 8), TwoColumns(
            left, right, size=COLUMN_SIZE, left_title=f"Model output (attempt {a.id})",
            right_title=f"Source: {fonts.clean_text(doc.title if doc else '', False)}")]
        stats = self.stats(view)
        body += stats[:3]  # heading and key figures stay with the columns
        # one unit when it fits a page; otherwise the columns and their key figures still stay together
        self.add(KeepIfFits([KeepIfFits(unit), KeepIfFits(body)]), *stats[3:])
        self.matches(view)
        self.exchanges(view)
        self.notes("attempt", a.id)

    def exchanges(self, view: AttemptView) -> None:
        """A deployed system (served model): what it was sent and what it said, with the stored bytes' SHA-256."""
        a = view.attempt
        if not (a.environment or {}).get("server_exchanges"):
            return
        self.add(Spacer(1, 6), P("What the deployed system was sent and what it said", "h2"),
                 kv_table(served.exchange_rows(a), self.width, key_w=1.9 * inch))
        for label, body in served.exchange_texts(view.exchanges):
            lines = layout.layout([layout.Piece(fonts.clean_text(body))], self.width - 12, MONO_SIZE, primary=fonts.MONO)
            self.add(Spacer(1, 4), TextBox(fonts.clean_text(label, keep_newlines=False), lines, size=MONO_SIZE,
                                           fill=styles.PROMPT.background))

    KEY_FIGURES = ("Longest verbatim run", "Coverage of the source segment", "Leading target tokens exact",
                   "Memorization score (Biderman)", "p_z (chance that sampling reproduces the target exactly)",
                   "Exact suffix match (Carlini)")

    def stats(self, view: AttemptView) -> list[Flowable]:
        """Key figures (kept on the page of the columns), then the remaining statistics (may flow on)."""
        rows = self.stat_rows(view)
        key = [r for r in rows if r[0] in self.KEY_FIGURES]
        more = [r for r in rows if r[0] not in self.KEY_FIGURES]
        out: list[Flowable] = [Spacer(1, 6), P(f"Statistics (attempt {view.attempt.id}; full precision in Appendix C)",
                                               "h3")]
        if key:
            out.append(kv_grid(key, self.width))
        if more:
            out.append(kv_grid(more, self.width))
        return out

    def stat_rows(self, view: AttemptView) -> list[tuple[str, str]]:
        al = view.alignment
        a = view.attempt
        m = a.metrics or {}
        rows: list[tuple[str, str]] = []
        if al is not None:
            mt = al.metrics
            rows += [
                ("Longest verbatim run", f"{mt.longest_verbatim_words:,} words / {mt.longest_verbatim_chars:,} characters"
                 + (f" / {mt.longest_verbatim_tokens:,} tokens" if mt.longest_verbatim_tokens is not None else "")),
                ("Coverage of the source segment", f"{mt.source_coverage_fraction:.0%} of {mt.source_words:,} words "
                 f"(verbatim only: {mt.source_verbatim_coverage_fraction:.0%})"),
                ("Coverage of the output", f"{mt.output_coverage_fraction:.0%} of {mt.output_words:,} words"),
                ("Longest common substring", f"{mt.longest_common_substring_chars:,} normalized characters (contiguous)"),
                ("Longest common subsequence", f"{mt.longest_common_subsequence_words:,} words (not necessarily contiguous)"),
                ("Edit similarity / ROUGE-L F", f"{mt.edit_similarity_fraction:.2f} / {mt.rouge_l_f_fraction:.2f} "
                 "(1.00 = identical)" + (" (flagged)" if mt.rouge_l_flag else "")),
                ("Exact suffix match (Carlini)", "yes" if mt.exact_suffix_match else "no"),
                ("Matching spans", f"{mt.verbatim_span_count:,} verbatim, {mt.near_span_count:,} near-verbatim"),
                ("Prompt words excluded", f"{mt.excluded_source_words:,} source / {mt.excluded_output_words:,} output"),
            ]
        if "greedy_exact" in m and view.target_tokens:
            rows.append(("Leading target tokens exact", f"{view.exact_tokens:,} of {view.target_tokens:,}"))
        if "memorization_score" in m:
            try:
                score: Optional[float] = float(m["memorization_score"])
            except (TypeError, ValueError):
                score = None
            rows.append(("Memorization score (Biderman)", outcomes.score_text(score, view.target_tokens)))
        bound = pz_label.is_bound(m)  # top-N log-probs only (a served model): a labelled bound, never a value
        if bound:
            rows.append(("p_z (chance that sampling reproduces the target exactly)", outcomes.pz_bound_text(m)))
        elif "log10_pz" in m:
            rows.append(("p_z (chance that sampling reproduces the target exactly)",
                         outcomes.pz_text(m["log10_pz"]) if m["log10_pz"] is not None else "\u2013 (p_z = 0 or undefined)"))
        if m.get("bits") is not None and not bound:
            try:
                rows.append(("bits (\u2212log2 p_z)", f"{float(m['bits']):,.1f}"))
            except (TypeError, ValueError):
                pass
        for key, p in (("n_samples_p50", "0.5"), ("n_samples_p95", "0.95"), ("n_samples_p99", "0.99")):
            if key in m and not bound:
                rows.append((f"Samples for a {p} chance of one exact copy", outcomes.count_text(m[key])))
        if "pz_top_k" in m or "pz_temperature" in m:
            rows.append(("p_z scheme", f"sampling at temperature {m.get('pz_temperature', '?')}, top-k {m.get('pz_top_k', '?')}"))
        rows.append(("Chance baseline (controls)", self.data.baseline.sentence()))
        if view.document is not None and view.source_end > view.source_start:  # issue 12: boilerplate flag
            text = view.document.text
            low = [f"M{sp.match_id}" for sp in (al.spans if al is not None else ())
                   if entropy.flag(text[sp.source_start:sp.source_end]).low]
            rows.append(("Low-entropy flag (zlib)", "compared source text: "
                         + entropy.flag(text[view.source_start:view.source_end]).describe()
                         + f"; matched spans flagged: {', '.join(low) or 'none'} ({entropy.RULE})"))
        return rows

    def matches(self, view: AttemptView) -> None:
        al = view.alignment
        if al is None or not al.spans:
            return
        doc_text = view.document.text if view.document else ""
        rows2: list[list[Any]] = [["Match", "Kind", "Words", "Output chars", "Source chars", "Edit dist.", "Source text (start)"]]
        for s in al.spans[:200]:
            rows2.append([f"M{s.match_id}", s.kind, f"{s.words:,}", f"{s.output_start:,}\u2013{s.output_end:,}",
                          f"{s.source_start:,}\u2013{s.source_end:,}", f"{s.edit_distance:,}",
                          P(doc_text[s.source_start:s.source_end], "cell", max_chars=90)])
        if len(al.spans) > 200:
            rows2.append(["\u2026", f"{len(al.spans) - 200:,} more spans", "", "", "", "", ""])
        self.add(Spacer(1, 6), P("Matches (each id marks the same span in both columns)", "h3"),
                 table(rows2, [0.5 * inch, 0.65 * inch, 0.5 * inch, 0.9 * inch, 0.95 * inch, 0.6 * inch,
                               self.width - 4.1 * inch]))

    # ---------------------------------------------------------------- sweeps
    def sweep(self, view: AttemptView) -> None:
        a, doc = view.attempt, view.document
        windows = list(view.windows)
        suffix = sweep_suffix_tokens(a)
        head = self._attempt_header(view)
        if not windows or doc is None:
            self.add(KeepIfFits(head + [P(f"This sweep recorded no windows (status '{a.status}').", "body")]))
            return
        exact = [w for w in windows if window_exact(w, suffix)]
        partial = [w for w in windows if w.greedy_exact > 0 and not window_exact(w, suffix)]
        kinds = ["exact" if window_exact(w, suffix) else "partial" if w.greedy_exact > 0 else "none" for w in windows]
        q = MapQuantity.for_sweep(self.data.map_quantity, a.spec.params or {}, a.metrics)  # one quantity everywhere
        self.add(KeepIfFits(head + [Spacer(1, 6), P(f"Memorization map \u2014 {q.name}", "h3"), P(
            f"{len(windows):,} windows across the work; bar height: {q.name}. {q.explanation} Dark bars: whole "
            f"window reproduced exactly by greedy decoding ({len(exact):,}); light bars: partly ({len(partial):,}); "
            f"grey stubs: no leading token ({len(windows) - len(exact) - len(partial):,}). "
            "Every window is listed in Appendix A." + (f" {skipped}" if (skipped := outcomes.not_scored_text(
                a.metrics or {})) else ""), "small"),
            MemorizationMap([w.start_char for w in windows], [q.level(w) for w in windows], kinds,
                            doc_length=len(doc.text), y_max=1.0, x_label="position in the work (characters)",
                            y_label=q.short, y_ticks=q.ticks())]))
        top = [w for w in sorted(windows, key=best_window_key)[:3] if w.continuation]
        if top:
            self.add(Spacer(1, 4), P("Windows with the longest exact continuations", "h3"))
        else:
            self.add(P("This sweep did not record the model's continuations, so no window can be shown side by side; "
                       "the chart above and Appendix A give every window's figures. Re-run the sweep with its default "
                       "generate_best = 3 (or --generate for every window) to show them.", "small"))
        for w in top:
            self.add(KeepIfFits(self._window(doc.text, w, suffix, a.metrics or {})))
        self.notes("attempt", a.id)

    def _window(self, text: str, w: SweepWindow, suffix: int, metrics: dict[str, Any]) -> list[Flowable]:
        from memoview.core.alignment.engine import align

        assert w.continuation is not None
        src_start, src_end = w.start_char, w.end_char
        marks_out: list[layout.Mark] = []
        marks_src: list[layout.Mark] = []
        al = align(text[src_start:src_end], w.continuation, AlignOptions())
        for s in al.spans:
            kind = layout.NEAR if s.kind == A_NEAR else layout.VERB
            marks_out.append(layout.Mark(s.output_start, s.output_end, kind, s.match_id, tuple(s.output_diffs)))
            marks_src.append(layout.Mark(s.source_start + src_start, s.source_end + src_start, kind, s.match_id,
                                         tuple((x + src_start, y + src_start) for x, y in s.source_diffs)))
        lead = layout.cut_word_before(text, src_start)
        left = layout.layout(layout.framed_output_pieces(w.continuation, marks_out, lead), self.col_w, COLUMN_SIZE)
        right = layout.layout(layout.framed_source_pieces(text, src_start, src_end, marks_src), self.col_w, COLUMN_SIZE)
        pr = text[w.prefix_start_char:w.start_char]
        figures = [f"characters {w.start_char:,}\u2013{w.end_char:,}",
                   f"{w.greedy_exact:,} of {suffix:,} leading tokens exact" if suffix else f"{w.greedy_exact:,} leading tokens exact",
                   f"longest verbatim run {al.metrics.longest_verbatim_words:,} words",
                   "memorization score " + outcomes.score_text(w.memorization_score, suffix),
                   "p_z " + _window_pz(w, metrics)]
        return [Spacer(1, 8), P(f"Window {w.index}", "h3"), P(
            "; ".join(figures) + f". Prompt: the preceding {len(pr.split()):,} words of the work, supplied to the model; "
            "not counted.", "small"),
            TwoColumns(left, right, size=COLUMN_SIZE, left_title=f"Model continuation (window {w.index})",
                       right_title="Source (true continuation)")]

    def unattached(self) -> None:
        """Chosen attempts that are not tied to any work: output shown in full, nothing to compare with."""
        views = [v for v in self.data.all_views if v.document is None and v.shown_alone]
        if not views:
            return
        self.add(CondPageBreak(WORK_MIN_SPACE), P("Attempts not tied to a work", "h1"), P(
            "These attempts were made without a source document, so there is no source column and nothing is "
            "counted as reproduced.", "small"))
        for v in views:
            unit = self._attempt_header(v) + self._prompt_box(v)
            if v.attempt.output_text:
                lines = layout.layout([layout.Piece(fonts.clean_text(v.attempt.output_text))], self.width - 12, COLUMN_SIZE)
                unit += [Spacer(1, 6), TextBox(f"Model output (attempt {v.attempt.id})", lines, size=COLUMN_SIZE,
                                               fill="#FFFFFF")]
            self.add(KeepIfFits(unit))
            self.notes("attempt", v.attempt.id)
        self.add(Spacer(1, 16))


def _window_pz(w: SweepWindow, metrics: dict[str, Any]) -> str:
    """A window's p_z rounded for reading (log10 as :func:`~memoview.core.findings.stats.fmt_log10` rounds it);
    a window whose p_z is only bounded (served model, top-N log-probs) says so, never a point value."""
    bound = ((metrics or {}).get("windows_pz_upper_bound") or {}).get(str(w.index))
    if bound is not None and w.log10_pz is None:
        return f"upper bound, not a value: at most {outcomes.pz_text(float(bound))}"
    return outcomes.pz_text(w.log10_pz)
