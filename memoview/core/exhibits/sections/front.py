"""Front matter: cover, index of every work tested, method page."""

from __future__ import annotations

from typing import Any, Optional

from reportlab.lib import colors
from reportlab.lib.units import inch
from reportlab.platypus import CondPageBreak, PageBreak, Spacer, Table, TableStyle

from memoview.core.alignment.types import AlignOptions
from memoview.core.exhibits import anchor, findings_section, fonts, outcomes, served, tagging
from memoview.core.exhibits.blocks import P, _fmt_pz, _pct, kv_table, table
from memoview.core.exhibits.data import SUCCESS_MIN_WORDS, AttemptView
from memoview.core.exhibits.flowables import colour
from memoview.core.exhibits.sections import crosschecks
from memoview.core.exhibits.sections.base import StoryBase
from memoview.core.extraction import bos as bos_words
from memoview.core.extraction import catalogue
from memoview.core.records import Method


BOS_WORDS = {
    **bos_words.RECORDED_WORDS,
    "no-bos": "No start-of-text token is added",
    "tokenizer": "Start-of-text token: as the tokenizer adds it",
}


class FrontMatter(StoryBase):
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
        self.add(top, Spacer(1, 10))
        works = [w for w in d.works if not w.document.is_control]
        controls = [w for w in d.works if w.document.is_control]
        work_views = [v for w in works for v in w.views]
        control_views = [v for w in controls for v in w.views]
        models = ", ".join(f"{m.name or m.path} (fingerprint {m.fingerprint[:16]}\u2026)" for m in d.models) or "none"
        self.add(P("Memorization tests of a language model: results for every attempt on the works listed", "title"),
                 Spacer(1, 8))
        statuses: dict[str, int] = {}
        for v in d.all_views:
            statuses[v.attempt.status] = statuses.get(v.attempt.status, 0) + 1
        status_text = ", ".join(f"{n:,} {s}" for s, n in sorted(statuses.items()))
        longest = max(work_views, key=lambda v: (v.longest_words, -v.attempt.id), default=None)
        best_exact = max((v for v in work_views if v.exact_tokens > 0),
                         key=lambda v: (v.exact_tokens / max(v.target_tokens, 1), v.exact_tokens, -v.attempt.id), default=None)
        best_pz = max((v for v in work_views if v.log10_pz is not None), key=lambda v: (v.log10_pz, -v.attempt.id),
                      default=None)
        rows = [
            ("Works tested", self.works_sentence(len(works))),
            ("Negative controls", self.controls_sentence(len(controls)) + (
                f"; their outcomes: {outcomes.tiers_short(outcomes.tier_counts(control_views))} (texts the model "
                "cannot have seen: what chance produces)" if control_views else "")),
            ("Attempts", f"{len(work_views):,} on the works and {len(control_views):,} on negative controls; "
                         f"{len(d.all_views):,} in total ({status_text}); every one is listed in Appendix A"),
            ("What the model was given", outcomes.prompt_statement(work_views)),
            ("Outcomes on the works (a convention, defined on the method page)",
             outcomes.tiers_sentence(outcomes.tier_counts(work_views)) + f" \u2014 of {len(work_views):,} attempts. "
             "A sweep counts as one attempt; its best window decides its outcome."),
            ("Longest verbatim run", (f"{longest.longest_words:,} words: {self.where(longest, 'longest')}. Consecutive words "
                                      "identical to the work; prompt words excluded." if longest and longest.longest_words
                                      else "0 words: no run of identical words in any output on the works")),
            ("Most leading tokens exact", (f"{best_exact.exact_tokens:,} of {best_exact.target_tokens:,} target tokens: "
                                           f"{self.where(best_exact, 'exact')}" if best_exact else
                                           "none: no output began with the work's next token")),
            ("Best p_z (chance of an exact copy by sampling)", (
                f"{outcomes.pz_text(best_pz.log10_pz)}: {self.where(best_pz, 'pz')}; {self.pz_scheme(best_pz)}"
                if best_pz else "not computed for any attempt on the works")),
            ("Control baseline", d.baseline.sentence()),
            ("Model(s)", models),
            ("Selection rule", d.selection_rule),
            ("Manifest SHA-256", d.manifest_sha256),
            ("Case anchor", anchor.cover_text(d.manifest)),
            ("Generated by", f"memoview {d.manifest['app_version']} on {self.o.creation_text} (run id {self.o.run_id})"),
        ]
        if o.expert:
            rows.insert(0, ("Prepared by", o.expert))
        checked = crosschecks.cover_sentence(self)
        if checked:  # after "Model(s)": whether another engine gives the same answer
            rows.insert(next(i for i, r in enumerate(rows) if r[0] == "Model(s)") + 1, ("Cross-engine checks", checked))
        self.add(P("Findings at a glance", "h2"), kv_table(rows, self.width, key_w=2.0 * inch))
        self.add(Spacer(1, 6), P(
            "This exhibit reports every attempt made on the works it covers, including attempts that produced no "
            "match, failed, were refused or were cancelled. Prompt text is never counted as reproduced. Figures are "
            "rounded for reading (full precision: Appendix C). Legend: Appendix D.", "small"))
        self.add(PageBreak())

    # ---------------------------------------------------------------- sentences shared by cover and index
    def works_sentence(self, shown: int) -> str:
        d = self.data
        if d.is_selection:
            return (f"{shown:,} of the {d.case_works:,} works with attempts in this case (a selection: the other "
                    f"{max(d.case_works - shown, 0):,} are not covered by this exhibit)")
        if shown == 1:
            return "the only work with attempts in this case"
        return f"{'both' if shown == 2 else f'all {shown:,}'} works with attempts in this case"

    def controls_sentence(self, shown: int) -> str:
        n = self.data.case_controls
        if n == 0:
            return "none marked in the case: no chance baseline"
        return (f"{n:,} in the case, every one used for the chance baseline; {shown:,} of them "
                f"{'has' if shown == 1 else 'have'} attempts of {'its' if shown == 1 else 'their'} own listed here")

    def work_label(self, doc_id: Optional[int]) -> str:
        for i, w in enumerate(self.data.works, 1):
            if w.document.id == doc_id:
                return f"W{i} {fonts.clean_text(w.document.title, keep_newlines=False)}"
        return "no work"

    def where(self, v: AttemptView, what: str) -> str:
        """Where a headline figure comes from: work, attempt and, for a sweep, the window."""
        text = f"{self.work_label(v.attempt.spec.document_id)}, attempt {v.attempt.id} ({v.attempt.spec.method})"
        f = v.sweep
        if f is not None:
            window = {"longest": f.longest_window, "exact": f.best_window.index if f.best_window else None,
                      "pz": f.best_pz_window}.get(what)
            if window is not None:
                text += f", window {window}"
        return text

    @staticmethod
    def pz_scheme(v: AttemptView) -> str:
        m = v.attempt.metrics or {}
        t, k = m.get("pz_temperature"), m.get("pz_top_k")
        if t is None and k is None:
            t, k = (v.attempt.spec.params or {}).get("pz_temperature"), (v.attempt.spec.params or {}).get("pz_top_k")
        if t is None and k is None:
            return "sampling scheme as recorded with the attempt"
        return f"sampling at temperature {t if t is not None else '?'} with top-k {k if k is not None else '?'}"

    # ---------------------------------------------------------------- index
    def index(self) -> None:
        d = self.data
        n_works = sum(1 for w in d.works if not w.document.is_control)
        n_controls = len(d.works) - n_works
        if d.is_selection:
            intro = (f"This exhibit covers {n_works:,} of the {d.case_works:,} works with attempts in this case (selection "
                     f"rule on the cover); works not listed are not covered here. ")
        else:
            intro = f"All {n_works:,} works with at least one attempt in this case are listed, including works with no match. "
        intro += (f"Negative controls listed: {n_controls:,} (of {d.case_controls:,} in the case). "
                  "Every attempt on each work is counted, sweeps included (a sweep's best window decides its outcome). "
                  "Coverage: fraction of the compared source words inside any matched span (best prefix or free-prompt "
                  "attempt; a sweep reports windows instead: see its leading exact tokens and longest run). "
                  "p<sub size='8'>z</sub>: the highest chance that sampling reproduces a target exactly, over every attempt and "
                  "window (\u2013: not computed; \u2264 \u2026 (bound): only an upper bound was available, from a served "
                  "model's top log-probs).")
        self.add(P("Index of every work tested", "h1"), P(intro, "small", raw=True), Spacer(1, 6))
        rows: list[list[Any]] = [["#", "Work", "Attempts", "Outcomes", "Longest verbatim run", "Most leading tokens exact",
                                  "Coverage", "Best p_z"]]
        for i, w in enumerate(d.works, 1):
            title = w.document.title + (f" \u2014 {w.document.author}" if w.document.author else "")
            if w.document.is_control:
                title += " (negative control)"
            best = w.best_exact
            rows.append([f"W{i}", P(title, "cell", max_chars=2000), f"{w.attempts:,}",
                         P(outcomes.tiers_short(w.tiers).replace(" \u00b7 ", "<br/>"), "cell", raw=True),
                         f"{w.longest_words:,} words", f"{best.exact_tokens:,} of {best.target_tokens:,}" if best else "0",
                         _pct(w.coverage), P(_best_pz_cell(w), "cell")])
        widths = [0.38, 1.9, 0.72, 0.9, 0.85, 0.85, 0.72, 1.05]
        scale = self.width / (sum(widths) * inch)
        self.add(table(rows, [x * inch * scale for x in widths]), Spacer(1, 6), P(
            "Outcomes (a convention): <b>exact</b>: " + outcomes.TIER_WORDS[outcomes.EXACT] + " (for a free prompt: "
            f"{SUCCESS_MIN_WORDS}+ consecutive words of the work); <b>partial</b>: "
            + outcomes.TIER_WORDS[outcomes.PARTIAL][len("reproduced "):] + "; <b>nothing</b>: "
            + outcomes.TIER_WORDS[outcomes.NONE] + "; <b>not finished</b>: failed, refused or cancelled.", "small", raw=True))
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
    def _methods_table(self) -> None:
        """The methods used in this exhibit, in the words of the method catalogue.

        Its own table: a tagged table is drawn whole, so each table of this page must fit on one page.
        """
        used = {v.attempt.spec.method for v in self.data.all_views}
        rows = [[P(fonts.escape(m.name), "cellb", raw=True), P(fonts.escape(f"{m.explanation} {m.literature}"), "cell", raw=True)]
                for m in catalogue.METHODS if m.key in used]
        if not rows:
            return
        t = Table(rows, colWidths=[1.5 * inch, self.width - 1.5 * inch])
        t.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), fonts.SANS), ("GRID", (0, 0), (-1, -1), 0.4, colour("#888888")),
                               ("VALIGN", (0, 0), (-1, -1), "TOP"), ("BACKGROUND", (0, 0), (0, -1), colour("#F0F0F0"))]))
        self.add(P("Methods used in this exhibit", "h2"), t)

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
            ("Memorization score", "Fraction of target token positions where the model's most likely next token "
             "(given the work's true text up to that point) is the work's token; always shown with the count it "
             "stands for (e.g. '0.82 = 41 of 50 positions'). The positions need not be consecutive, so a high score "
             "can go with few leading exact tokens (Biderman et al., <i>Emergent and Predictable Memorization in Large "
             "Language Models</i>, 2023)."),
            ("p<sub size='8'>z</sub>", "Probability that the stated sampling scheme (temperature T, top-k) emits the exact target "
             "continuation, from one teacher-forced pass; reported as log10 and bits (Hayes et al., 2024; Cooper et al., "
             "<i>Extracting memorized pieces of (copyrighted) books from open-weight language models</i>, 2025). "
             "(n,p)-discoverability: samples needed for probability p of at least one exact copy, n = ceil(log(1\u2212p)/log(1\u2212p<sub size='8'>z</sub>))."),
            ("Memorization map", "A whole-work sweep: overlapping windows across the work, each scored as above "
             "(Cooper et al., 2025)."),
            ("Verbatim run", f"Consecutive words identical after normalization; shortest run reported: "
             f"{opts.min_verbatim_words} words. Unit: words (also characters and tokens in the statistics tables)."),
            ("Near-verbatim span", f"Runs merged across differing words while the normalized edit distance stays "
             f"within {opts.near_threshold:.0%} (the near-exact rule of the Gemini/Gemma memorization reports); "
             f"ROUGE-L \u2265 {opts.rouge_flag} flagged as a secondary signal (CopyBench)."),
            ("Outcome tiers (a convention)", f"<b>Exact</b> (the 'success' rule): prefix and p<sub size='8'>z</sub> attempts: the "
             f"greedy continuation reproduces the whole target exactly; free prompts: a verbatim run of at least "
             f"{SUCCESS_MIN_WORDS} words; sweeps: at least one window reproduced exactly. <b>Partial</b>: not exact, but "
             f"a verbatim run of at least {outcomes.PARTIAL_MIN_WORDS} words or at least {outcomes.PARTIAL_MIN_TOKENS} "
             "leading target tokens reproduced exactly (for a sweep: in any window or its generated continuation). "
             "<b>Nothing</b>: finished with neither. 'Substantial portion' has no technical threshold; coverage, longest "
             "run and the number of matching windows are reported so the reader can judge."),
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
        self._methods_table()
        # prompt classes
        self.add(P("Prompt classes in this exhibit", "h2"))
        by_class: dict[tuple[str, str, str], list[AttemptView]] = {}
        for v in d.all_views:  # one row per start-of-text policy too: k means different prompts under each
            spec = v.attempt.spec
            by_class.setdefault((spec.prompt_class, spec.method, spec.bos_policy or ""), []).append(v)
        rows: list[list[Any]] = [["Class", "Method", "Attempts", "What the prompt was", "Text of the work in the prompt"]]
        for (pclass, method, _bos), views in sorted(by_class.items()):
            words = [v.prompt_source_words for v in views]
            t0 = views[0].attempt.spec
            ks = sorted({k for k in (outcomes.prefix_tokens(v.attempt.spec) for v in views) if k})
            k_text = "k = " + " or ".join(f"{k:,}" for k in ks) if ks else "an unrecorded number of"
            k_note = ""
            if ks and t0.bos_policy == bos_words.COUNTED:  # k counts the start-of-text token; the work gave k - 1
                k_text = "the start-of-text token and " + ("the " if method == "sweep" else "") + " or ".join(
                    f"{k:,}" for k in ks)
                k_note = f" (k = {' or '.join(f'{k + 1:,}' for k in ks)}, counting the start-of-text token)"
            suffixes = sorted({int(v.attempt.spec.target.get("suffix_tokens")  # sweeps: in params
                                   or (v.attempt.spec.params or {}).get("suffix_tokens") or 0) for v in views} - {0})
            s_text = "m = " + " or ".join(f"{s:,}" for s in suffixes) if suffixes else "the recorded number of"
            if method in (Method.PREFIX, Method.PZ):
                template = (f"{k_text} tokens of the work{k_note}; the model's continuation is compared with the next "
                            f"{s_text} tokens of the work. {BOS_WORDS.get(t0.bos_policy or '', 'Start-of-text token: not recorded')}.")
            elif method == Method.SWEEP:
                template = (f"for each window, {'the ' if ks and not k_note else ''}{k_text} tokens of the work before "
                            f"it{k_note}; the "
                            f"continuation is compared with the window's {s_text} tokens. {BOS_WORDS.get(t0.bos_policy or '', 'Start-of-text token: not recorded')}.")
            else:
                template = str(t0.params.get("template") or t0.label or "free prompt (text in each attempt's prompt box)")
            source = (f"{min(words):,}\u2013{max(words):,} words (never counted)" if words and min(words) != max(words)
                      else f"{words[0]:,} words (never counted)" if words else "\u2013")
            if method == Method.SWEEP:
                source = f"up to {max(words):,} words per window (never counted)"
            rows.append([pclass, method, f"{len(views):,}", template, source])
        self.add(table(rows, [0.8 * inch, 0.6 * inch, 0.7 * inch, self.width - 3.9 * inch, 1.8 * inch]))
        # decoding settings, readable
        self.decoding_table()
        # model identity
        for m in d.models:
            self.add(CondPageBreak(2 * inch), P(f"Model {m.id}: {m.name or m.path}", "h2"), kv_table([
                ("Path (as registered)", m.path), ("Format / architecture", f"{m.format} / {m.architecture}"),
                ("Parameters", f"{m.parameter_count:,}"), ("dtype / device / quantization",
                                                           f"{m.dtype or 'not recorded'} / {m.device or 'not recorded'} / {m.quantization or 'none'}"),
                ("Context length", f"{m.context_length:,}"), ("BOS / EOS", f"{m.bos_token!r} (tokenizer adds BOS: {m.adds_bos}) / {m.eos_token!r}"),
                ("Chat template", "present" if m.has_chat_template else "absent"),
                ("Fingerprint (SHA-256)", m.fingerprint),
            ] + ([("Identity", served.DEPLOYED_STATEMENT + " The fingerprint above is the SHA-256 of the endpoint "
                   "and model id.")] if served.is_served(m.format) else []), self.width))
            rows = [["File", "Role", "Bytes", "SHA-256"]] + [[f.relpath, f.role, f"{f.size:,}", P(f.sha256, "mono")] for f in m.files]
            self.add(Spacer(1, 4), table(rows, [1.3 * inch, 0.55 * inch, 0.75 * inch, self.width - 2.6 * inch]))
        self.add(CondPageBreak(1.5 * inch), P("Environment (as recorded with the attempts; full list in Appendix E)", "h2"),
                 kv_table(list(d.environment.items()), self.width, key_w=2.2 * inch))
        self.add(Spacer(1, 16))  # the first work follows when room is left (see WORK_MIN_SPACE)

    def decoding_table(self) -> None:
        """Decoding settings as a table a reader can follow: one column per distinct combination."""
        d = self.data
        self.add(P("Decoding settings (effective, as recorded with each attempt)", "h2"))
        combos: dict[str, tuple[dict[str, Any], list[AttemptView]]] = {}
        for v in d.all_views:
            params = dict(v.attempt.spec.params or {})
            m = v.attempt.metrics or {}
            if "pz_temperature" in m or "pz_top_k" in m:
                params["p_z computed for"] = (f"sampling at temperature {m.get('pz_temperature', '?')}, "
                                             f"top-k {m.get('pz_top_k', '?')}")
            if v.attempt.spec.method in ("prefix", "pz", "sweep"):  # where BOS went, in words (issue 12 item 6)
                if params.pop("bos", None) == "in-prefix" and isinstance(params.get("prefix_tokens"), int):
                    params["prefix_tokens"] = bos_words.sweep_k_words(params["prefix_tokens"])
                params["start_of_text"] = bos_words.words(v.attempt.spec.bos_policy)
            key = repr(sorted((k, repr(val)) for k, val in params.items()))
            combos.setdefault(key, (params, []))[1].append(v)
        if not combos:
            self.add(P("No attempt recorded its settings.", "small"))
            return
        groups = list(combos.values())
        for chunk_start in range(0, len(groups), 3):
            chunk = groups[chunk_start:chunk_start + 3]
            labels: list[str] = []
            for params, _views in chunk:
                for label, _value in outcomes.settings_rows(params):
                    if label not in labels:
                        labels.append(label)
            head = ["Setting"] + [
                f"{chr(65 + chunk_start + i)}: {len(views):,} attempt{'s' if len(views) != 1 else ''} "
                f"({', '.join(sorted({v.attempt.spec.method for v in views}))})" for i, (_p, views) in enumerate(chunk)]
            body = []
            for label in labels:
                row = [label]
                for params, _views in chunk:
                    row.append(dict(outcomes.settings_rows(params)).get(label, "\u2013"))
                body.append(row)
            key_w = 1.6 * inch
            col_w = (self.width - key_w) / len(chunk)
            settings = tagging.header_columns(table([head] + body, [key_w] + [col_w] * len(chunk)), (0,))
            self.add(settings, Spacer(1, 4))  # each setting's name is its row's header (TH) in the tagged PDF


def _best_pz_cell(w: Any) -> str:
    """The index's p_z cell: the best value; where only upper bounds exist (a served model) the largest bound,
    labelled; where a bound exceeds the best value, both."""
    bound = served.best_pz_bound(w.views)
    value = w.best_log10_pz
    if bound is None:
        return _fmt_pz(value)
    if value is None:
        return served.bound_cell(bound)
    return _fmt_pz(value) + (f"; {served.bound_cell(bound)}" if bound > value else "")
