"""Appendices A-G: attempt log, hash manifest, reproduction, legend, environment, audit extract, cross-engine checks."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Sequence

from reportlab.lib.units import inch
from reportlab.platypus import CondPageBreak, PageBreak, Spacer, Table, TableStyle

from memoview.core.exhibits import anchor, fonts, layout, outcomes, styles
from memoview.core.exhibits.blocks import MONO_SIZE, LegendSample, P, TextBox, kv_table, table
from memoview.core.exhibits.data import sha256sum_line, sweep_suffix_tokens
from memoview.core.exhibits.flowables import colour
from memoview.core.exhibits.sections.base import StoryBase
from memoview.core.exhibits.sections.crosschecks import crosscheck_appendix
from memoview.core.storage.audit import canonical_json
from memoview.core.records import Method


NEXT_APPENDIX = 3.0 * inch  # an appendix starts on the current page only when this much room is left
LONG_SWEEP = 300  # longer sweeps list only their windows with an exact token or a continuation


class Appendices(StoryBase):
    # ---------------------------------------------------------------- appendices
    def appendices(self) -> None:
        d = self.data
        self.add(PageBreak(), P("Appendix A. Complete attempt log", "h1"), P(
            "Every attempt on the works in this exhibit, in the order run, whatever its status (done, failed, "
            "refused, cancelled). Outcomes follow the convention on the method page; a sweep's figures are those of "
            "its best window (every window follows in A2). p<sub size='8'>z</sub> is given as log10 to two decimals; the "
            "recorded values in full precision are in Appendix C.", "small", raw=True), Spacer(1, 4))
        rows: list[list[Any]] = [["Id", "Work", "Method / class", "Status", "Outcome", "Longest run (words)",
                                  "Leading tokens exact", "log10 p_z", "Output SHA-256 / error"]]
        index = {w.document.id: i for i, w in enumerate(d.works, 1)}
        for v in sorted(d.all_views, key=lambda v: v.attempt.id):
            a = v.attempt
            note = a.error if a.error else (a.output_sha256[:16] + "\u2026" if a.output_sha256 else "\u2013")
            rows.append([str(a.id), f"W{index.get(a.spec.document_id or -1, '?')}" if v.document else "\u2013",
                         f"{a.spec.method} / {a.spec.prompt_class}", a.status, outcomes.TIER_SHORT[v.tier],
                         f"{v.longest_words:,}", f"{v.exact_tokens:,} of {v.target_tokens:,}" if v.target_tokens else "\u2013",
                         f"{v.log10_pz:.2f}".replace("-", "\u2212") if v.log10_pz is not None else "\u2013",
                         P(note, "cell", max_chars=160)])
        widths = [0.35, 0.4, 1.0, 0.65, 0.65, 0.65, 0.7, 0.65]
        self.add(table(rows, [x * inch for x in widths] + [self.width - sum(widths) * inch]))
        self.sweep_windows()
        self.manifest()
        self.reproduction()
        self.legend()
        self.environment()
        self.audit_extract()
        crosscheck_appendix(self)  # Appendix G, only when the case recorded cross-engine checks

    def sweep_windows(self) -> None:
        """A2: every window of every sweep in the exhibit (long sweeps: the windows with any exact token)."""
        d = self.data
        index = {w.document.id: i for i, w in enumerate(d.works, 1)}
        sweeps = [v for v in sorted(d.all_views, key=lambda v: v.attempt.id) if v.is_sweep and v.windows]
        if not sweeps:
            return
        self.add(CondPageBreak(2.5 * inch), P("A2. Sweep windows", "h2"), P(
            "Each window of each sweep: where it lies in the work, how many of its target tokens the model "
            "reproduced exactly from the start, its memorization score (matching positions, not necessarily "
            "consecutive) and p<sub size='8'>z</sub>. Windows whose continuation was generated also give the longest verbatim "
            "run in that continuation.", "small", raw=True))
        from memoview.core.alignment.engine import align
        from memoview.core.alignment.types import AlignOptions

        for v in sweeps:
            suffix = sweep_suffix_tokens(v.attempt)
            text = v.document.text if v.document else ""
            listed = list(v.windows)
            left_out = 0
            if len(listed) > LONG_SWEEP:
                keep = [w for w in listed if w.greedy_exact > 0 or w.continuation]
                left_out = len(listed) - len(keep)
                listed = keep
            rows: list[list[Any]] = [["Window", "Characters", "Leading tokens exact", "Matching positions",
                                      "log10 p_z", "Longest run in the continuation"]]
            for w in listed:
                run = "not generated"
                if w.continuation:
                    words = v.sweep.run_of(w.index) if v.sweep is not None else None
                    if words is None:
                        words = align(text[w.start_char:w.end_char], w.continuation,
                                      AlignOptions()).metrics.longest_verbatim_words
                    run = f"{words:,} words"
                matched = int(round(w.memorization_score * suffix)) if suffix else 0
                rows.append([str(w.index), f"{w.start_char:,}\u2013{w.end_char:,}",
                             f"{w.greedy_exact:,} of {suffix:,}" if suffix else f"{w.greedy_exact:,}",
                             f"{matched:,} of {suffix:,} ({w.memorization_score:.2f})" if suffix else f"{w.memorization_score:.2f}",
                             f"{w.log10_pz:.2f}".replace("-", "\u2212") if w.log10_pz is not None else "\u2013", run])
            self.add(Spacer(1, 4), P(f"Attempt {v.attempt.id} (W{index.get(v.attempt.spec.document_id or -1, '?')}): "
                                     f"{len(v.windows):,} windows" + (f"; the {left_out:,} windows with no exact leading "
                                     "token and no generated continuation are not listed (all their figures are in the "
                                     "case file)" if left_out else ""), "small"),
                     table(rows, [0.7 * inch, 1.3 * inch, 1.2 * inch, 1.5 * inch, 0.8 * inch,
                                  self.width - 5.5 * inch]))

    def manifest(self) -> None:
        d = self.data
        manifest_name = fonts.escape(fonts.clean_text(self.o.output_name + ".manifest.json", keep_newlines=False))
        self.add(CondPageBreak(NEXT_APPENDIX), P("Appendix B. Hash manifest", "h1"), P(
            "Each block below is in the format read by <font name='MV-Mono'>sha256sum -c</font> (GNU coreutils). "
            "Source documents: copy block B1 into a file named <font name='MV-Mono'>documents.sha256</font> in a folder "
            "holding the original files as produced (named as listed) and run "
            "<font name='MV-Mono'>sha256sum -c documents.sha256</font>. Model files: copy block B2 into "
            "<font name='MV-Mono'>model.sha256</font> inside the model folder and run "
            "<font name='MV-Mono'>sha256sum -c model.sha256</font>. The manifest SHA-256 printed on every page is the "
            f"SHA-256 of the manifest file written beside this PDF (<font name='MV-Mono'>{manifest_name}</font>: "
            "canonical JSON, sorted keys, no whitespace, UTF-8); check it with "
            f"<font name='MV-Mono'>sha256sum {manifest_name}</font>. It binds the documents, model files, every "
            "attempt's output hash and record hash, "
            + ("the audit entry of each cross-engine check in Appendix G, " if "crosschecks" in d.manifest else "")
            + "and the audit-log head at export.", "small", raw=True), Spacer(1, 4))
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
        self.add(Spacer(1, 12))

    def _mono_block(self, title: str, lines: Sequence[str]) -> None:
        self.add(P(title, "h3"))
        laid = layout.layout([layout.Piece(fonts.clean_text("\n".join(lines)))], self.width - 12, MONO_SIZE, primary=fonts.MONO)
        self.add(TextBox("", laid, size=MONO_SIZE, fill="#FFFFFF"))

    def reproduction(self) -> None:
        d, o = self.data, self.o
        self.add(CondPageBreak(NEXT_APPENDIX), P("Appendix C. Reproduction steps", "h1"))
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
                         if v.attempt.spec.method == Method.SWEEP
                         or (v.attempt.spec.method in (Method.PREFIX, Method.PROMPT, Method.CHAT)
                             and v.attempt.spec.params.get("decoding") in ("greedy", "beam")))),
            ("4. Re-create this exhibit byte for byte (same case, same options)", o.command_line),
            ("5. Check the exhibit's manifest", f"# expect {d.manifest_sha256}\nsha256sum {o.output_name}.manifest.json"),
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
        figures = [(v.attempt.id, {k: x for k, x in sorted((v.attempt.metrics or {}).items())
                                   if x is None or isinstance(x, (int, float, str, bool))})
                   for v in sorted(d.all_views, key=lambda v: v.attempt.id)]
        figures = [(i, m) for i, m in figures if m]
        if figures:
            self.add(Spacer(1, 6), P(
                "Recorded figures of every attempt in this exhibit, in full precision, exactly as stored (the pages "
                "round them for reading).", "small"))
            text = "\n".join(f"attempt {i}: {canonical_json(m)}" for i, m in figures)
            lines = layout.layout([layout.Piece(fonts.clean_text(text))], self.width - 12, MONO_SIZE, primary=fonts.MONO)
            self.add(Spacer(1, 4), TextBox("Recorded figures (full precision)", lines, size=MONO_SIZE, fill="#FFFFFF"))
        self.add(Spacer(1, 12))

    def legend(self) -> None:
        self.add(CondPageBreak(NEXT_APPENDIX), P("Appendix D. Legend", "h1"))
        samples = [
            ([layout.Piece("M1", layout.TAG), layout.Piece("the quick brown fox jumps", layout.VERB)], styles.VERBATIM.description),
            ([layout.Piece("M2", layout.TAG), layout.Piece("over the ", layout.NEAR), layout.Piece("sleepy", layout.NEAR_DIFF),
              layout.Piece(" dog", layout.NEAR)], styles.NEAR.description + "; " + styles.NEAR_DIFF.description),
            ([layout.Piece("source words left unreproduced", layout.UNREPRODUCED)], styles.UNREPRODUCED.description),
            ([layout.Piece("text the model wrote itself", layout.UNMATCHED_OUTPUT)], styles.UNMATCHED_OUTPUT.description),
            ([layout.Piece("[\u2026 1,240 words not reproduced \u2026]", layout.GAP)], styles.GAP.description),
            ([layout.Piece("\u2026IM", layout.CONTEXT), layout.Piece("PLIED, INCLUDING", layout.UNREPRODUCED),
              layout.Piece(" BUT\u2026", layout.CONTEXT)], styles.CONTEXT.description),
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
        self.add(Spacer(1, 12))

    def environment(self) -> None:
        self.add(CondPageBreak(NEXT_APPENDIX), P("Appendix E. Environment and software versions", "h1"))
        self.add(kv_table(list(self.data.environment.items()), self.width, key_w=2.2 * inch))

    def audit_extract(self) -> None:
        d = self.data
        attempt_subjects = {f"attempt:{v.attempt.id}" for w in d.works for v in w.shown}
        doc_subjects = {f"document:{w.document.id}" for w in d.works}
        model_subjects = {f"model:{m.id}" for m in d.models}
        keep = [e for e in d.audit_entries if e.subject in attempt_subjects | doc_subjects | model_subjects
                or e.event in ("case.create", "exhibit.export", "case.verify")]
        self.add(CondPageBreak(NEXT_APPENDIX), P("Appendix F. Audit log extract", "h1"), P(
            f"The case's audit log has {len(d.audit_entries):,} entries, each holding the SHA-256 of the previous one "
            f"(a hash chain). Shown: the {len(keep):,} entries about the documents, models and attempts shown in full, "
            "and every case creation, verification and exhibit export. 'memoview case verify' re-checks the whole chain. "
            + anchor.SELF_ASSERTED_NOTE,
            "small"), Spacer(1, 4))
        rows: list[list[Any]] = [["Seq", "Time (UTC, self-asserted)", "Event", "Subject", "Entry hash"]]
        for e in keep[-500:]:
            rows.append([str(e.seq), e.at[:19], e.event, e.subject, P(e.hash, "mono")])
        self.add(table(rows, [0.45 * inch, 1.25 * inch, 1.1 * inch, 1.0 * inch, self.width - 3.8 * inch]))


