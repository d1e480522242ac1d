"""Per-work sections: header, attempts side by side with statistics, sweeps, unattached attempts."""

from __future__ import annotations

from typing import Any

from reportlab.lib.units import inch
from reportlab.platypus import CondPageBreak, KeepTogether, PageBreak, Spacer

from memoview.core.alignment.types import NEAR as A_NEAR
from memoview.core.alignment.types import AlignOptions
from memoview.core.exhibits import fonts, layout, styles
from memoview.core.exhibits.blocks import COLUMN_SIZE, DASH, P, TextBox, cell, kv_table, table
from memoview.core.exhibits.data import AttemptView, WorkSummary, sweep_suffix_tokens, window_exact
from memoview.core.exhibits.flowables import MemorizationMap, TwoColumns
from memoview.core.exhibits.sections.base import StoryBase, _ann_kind_ok, _marks
from memoview.core.records import best_window_key


class WorkSections(StoryBase):
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
            if key in m:
                value = m[key]
                rows.append((label, "\u2013 (p_z = 0 or undefined)" if value is None else
                             (f"{value:,.4g}" if isinstance(value, float) else f"{value:,}" if isinstance(value, int) else str(value))))
        if "pz_top_k" in m or "pz_temperature" in m:
            rows.append(("p_z scheme", f"T = {m.get('pz_temperature', '?')}, top-k = {m.get('pz_top_k', '?')}"))
        rows.append(("Chance baseline (controls)", self.data.baseline.sentence()))
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
        y_max = float(suffix or max((w.greedy_exact for w in windows), default=1))
        self.add(Spacer(1, 6), KeepTogether([P("Memorization map", "h3"), P(
            f"{len(windows):,} windows across the work; bar height: leading target tokens reproduced exactly "
            f"(of {suffix or '?'}); dark bars: whole window reproduced exactly ({len(exact):,}); light bars: partly "
            f"({len(partial):,}); grey stubs: no leading token ({len(windows) - len(exact) - len(partial):,}).", "small"),
            MemorizationMap([w.start_char for w in windows], [w.greedy_exact for w in windows], kinds,
                            doc_length=len(doc.text), y_max=y_max, x_label="position in the work (characters)",
                            y_label="exact tokens")]),
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
                f"memorization score {w.memorization_score:.2f}; log10 p_z {w.log10_pz if w.log10_pz is not None else DASH}"
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

