"""Appendices A-F: attempt log, hash manifest, reproduction, legend, environment, audit extract."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Sequence

from reportlab.lib.units import inch
from reportlab.platypus import PageBreak, Spacer, Table, TableStyle

from memoview.core.exhibits import fonts, layout, styles
from memoview.core.exhibits.blocks import MONO_SIZE, LegendSample, P, TextBox, cell, kv_table, table
from memoview.core.exhibits.data import sha256sum_line
from memoview.core.exhibits.flowables import colour
from memoview.core.exhibits.sections.base import StoryBase
from memoview.core.storage.audit import canonical_json


class Appendices(StoryBase):
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
        self._mono_block("B3. Manifest and audit log head", [f"manifest SHA-256      {d.manifest_sha256}",
                                                             f"audit log head hash   {d.manifest['audit_head_sha256']}"])
        self.add(PageBreak())

    def _mono_block(self, title: str, lines: Sequence[str]) -> None:
        self.add(P(title, "h3"))
        laid = layout.layout([layout.Piece(fonts.clean_text("\n".join(lines)))], self.width - 12, MONO_SIZE, primary=fonts.MONO)
        self.add(TextBox("", laid, size=MONO_SIZE, fill="#FFFFFF"))

    def reproduction(self) -> None:
        d, o = self.data, self.o
        self.add(P("Appendix C. Reproduction steps", "h1"))
        steps = [
            ("1. Check the case file's integrity (hash chain, documents, attempt records)",
             f"memoview case verify {d.case_name}"),
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
            "and every case creation, verification and exhibit export. 'memoview case verify' re-checks the whole chain.",
            "small"), Spacer(1, 4))
        rows: list[list[Any]] = [["Seq", "Time (UTC)", "Event", "Subject", "Entry hash"]]
        for e in keep[-500:]:
            rows.append([str(e.seq), e.at[:19], e.event, e.subject, P(e.hash, "mono")])
        self.add(table(rows, [0.45 * inch, 1.25 * inch, 1.1 * inch, 1.0 * inch, self.width - 3.8 * inch]))


