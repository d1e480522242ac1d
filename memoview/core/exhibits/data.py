"""What an exhibit shows, gathered from the case before anything is drawn.

Everything a page states (counts, longest runs, baselines, hashes) is
computed here once, so the cover, the index and the per-work pages cannot
disagree with each other. Drawing lives in :mod:`.render`.
"""

from __future__ import annotations

import hashlib
import platform
import re
import sys
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Optional

from memoview import __version__
from memoview.core.alignment.attempts import COMPUTED, alignment_for, compared_region, prompt_region
from memoview.core.alignment.types import Alignment
from memoview.core.case import Case
from memoview.core.errors import MemoviewError, ValidationError
from memoview.core.exhibits import outcomes
from memoview.core.records import Attempt, AttemptStatus, Document, Method, ModelInfo, SweepWindow
from memoview.core.storage.audit import canonical_json

# Convention (stated on the method page): an output counts as a success for a
# free prompt when it reproduces at least this many consecutive words verbatim.
SUCCESS_MIN_WORDS = outcomes.SUCCESS_MIN_WORDS
NGRAM = 8  # word n-gram used to measure how much source text a free prompt contained


@dataclass(frozen=True)
class AttemptView:
    attempt: Attempt
    document: Optional[Document]
    alignment: Optional[Alignment]
    alignment_note: str  # where the alignment came from, or why there is none
    source_start: int  # compared region of the document (raw characters)
    source_end: int
    k: int  # attempt k of n on this document
    n: int
    success: bool
    longest_words: int
    coverage: float
    log10_pz: Optional[float]
    prompt_source_words: int  # words of the work inside the prompt (never counted)
    windows: tuple[SweepWindow, ...] = ()
    shown_alone: bool = False  # chosen by id although tied to no work (shown in its own section)
    exchanges: tuple[dict[str, Any], ...] = ()  # a served model's stored requests/responses (not for sweeps)
    tier: str = outcomes.NONE  # exact | partial | none | unfinished (see outcomes)
    exact_tokens: int = 0  # leading target tokens reproduced exactly (sweeps: the best window)
    target_tokens: int = 0  # of how many
    sweep: Optional[outcomes.SweepFigures] = None

    @property
    def is_sweep(self) -> bool:
        return self.attempt.spec.method == Method.SWEEP


@dataclass
class WorkSummary:
    document: Document
    views: list[AttemptView] = field(default_factory=list)  # every attempt on the work (all statuses)
    shown: list[AttemptView] = field(default_factory=list)  # the ones shown in full

    @property
    def attempts(self) -> int:
        return len(self.views)

    @property
    def successes(self) -> int:
        return sum(1 for v in self.views if v.success)

    @property
    def longest_words(self) -> int:
        return max((v.longest_words for v in self.views), default=0)

    @property
    def coverage(self) -> float:
        return max((v.coverage for v in self.views), default=0.0)

    @property
    def best_log10_pz(self) -> Optional[float]:
        vals = [v.log10_pz for v in self.views if v.log10_pz is not None]
        return max(vals) if vals else None

    @property
    def tiers(self) -> dict[str, int]:
        return outcomes.tier_counts(self.views)

    @property
    def best_exact(self) -> Optional["AttemptView"]:
        """The attempt with the most leading target tokens reproduced exactly (None: no token anywhere)."""
        cands = [v for v in self.views if v.exact_tokens > 0]
        return max(cands, key=lambda v: (v.exact_tokens / max(v.target_tokens, 1), v.exact_tokens, -v.attempt.id),
                   default=None)


@dataclass(frozen=True)
class Baseline:
    """The chance baseline of :mod:`memoview.core.alignment.baseline`, in the exhibit's words."""

    result: Any  # ControlBaseline

    def sentence(self) -> str:
        b = self.result
        text = str(b.describe())
        if b.available and b.output_coverage_fraction.max is not None:
            text += (f"; output coverage by the best control: median {b.output_coverage_fraction.median:.1%}, "
                     f"max {b.output_coverage_fraction.max:.1%} (each output of the works aligned against every "
                     f"negative-control document)")
        return text


@dataclass
class ExhibitData:
    case_uuid: str
    case_name: str
    works: list[WorkSummary]
    all_views: list[AttemptView]
    models: list[ModelInfo]
    baseline: Baseline
    manifest: dict[str, Any]
    manifest_sha256: str
    audit_entries: list[Any]
    environment: dict[str, str]
    selection_rule: str
    findings: Any = None  # memoview.core.findings.report.CaseFindings (issue 12)
    map_quantity: str = "pz"  # what every memorization map shows (memoview.core.findings.quantity)
    case_works: int = 0  # works (not controls) with at least one attempt in the whole case
    case_controls: int = 0  # negative-control documents in the case (all feed the chance baseline)
    is_selection: bool = False  # chosen attempts or documents, not --all

    @property
    def total_attempts(self) -> int:
        return sum(w.attempts for w in self.works)

    @property
    def total_successes(self) -> int:
        return sum(w.successes for w in self.works)

    @property
    def longest_words(self) -> int:
        return max((w.longest_words for w in self.works if not w.document.is_control), default=0)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def align_attempt(case: Case, attempt: Attempt, document: Optional[Document]) -> tuple[Optional[Alignment], str]:
    """The stored alignment as shown in the app, else a fresh one with default options (not stored:
    a preview must not change the case), with a note saying which."""
    if document is None or not attempt.output_text:
        from memoview.core.alignment.nothing import nothing_to_align

        return None, nothing_to_align(attempt, document)
    try:
        alignment, origin = alignment_for(case, attempt, document, store=False)
    except MemoviewError as exc:  # shown on the page; one bad record must not hide the others
        return None, f"no alignment: {exc.message}"
    return alignment, "computed at export with default options" if origin == COMPUTED else origin


def _target_exact(attempt: Attempt) -> bool:
    m = attempt.metrics or {}
    n_target = len(attempt.target_token_ids) or int((attempt.spec.target or {}).get("suffix_tokens", 0) or 0)
    try:
        greedy = int(m.get("greedy_exact", -1))
    except (TypeError, ValueError):
        greedy = -1
    return n_target > 0 and greedy >= n_target


def window_exact(window: SweepWindow, suffix_tokens: int) -> bool:
    return suffix_tokens > 0 and window.greedy_exact >= suffix_tokens


def sweep_suffix_tokens(attempt: Attempt) -> int:
    for source in (attempt.spec.target or {}, attempt.spec.params or {}):
        try:
            value = int(source.get("suffix_tokens", 0) or 0)
        except (TypeError, ValueError):
            value = 0
        if value:
            return value
    return 0


def _words(text: str) -> list[str]:
    return [w.casefold() for w in re.findall(r"\w+", text)]


def prompt_source_words(attempt: Attempt, document: Optional[Document]) -> int:
    """Words of the work inside the prompt: exact for prefix prompts, by 8-word n-grams otherwise."""
    if document is None or not attempt.prompt_text:
        return 0
    region = prompt_region(attempt, document)
    if region is not None and region[1] > region[0]:
        return len(document.text[region[0]:region[1]].split())
    pw = _words(attempt.prompt_text)
    if len(pw) < NGRAM:
        return 0
    dw = _words(document.text)
    grams = {tuple(dw[i:i + NGRAM]) for i in range(len(dw) - NGRAM + 1)}
    covered = [False] * len(pw)
    for i in range(len(pw) - NGRAM + 1):
        if tuple(pw[i:i + NGRAM]) in grams:
            for j in range(i, i + NGRAM):
                covered[j] = True
    return sum(covered)


def _log10_pz(attempt: Attempt) -> Optional[float]:
    value = (attempt.metrics or {}).get("log10_pz")
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def make_view(case: Case, attempt: Attempt, document: Optional[Document], k: int, n: int,
              windows: tuple[SweepWindow, ...] = ()) -> AttemptView:
    alignment, note = align_attempt(case, attempt, document) if attempt.status == AttemptStatus.DONE else (None, f"status {attempt.status}")
    longest = alignment.metrics.longest_verbatim_words if alignment else 0
    coverage = alignment.metrics.source_coverage_fraction if alignment else 0.0
    start, end = compared_region(attempt, document) if document is not None else (0, 0)
    done = attempt.status == AttemptStatus.DONE
    if attempt.spec.method == Method.SWEEP:
        suffix = sweep_suffix_tokens(attempt)
        success = done and any(window_exact(w, suffix) for w in windows)
        if windows and document is not None:
            longest = max(longest, max(len(document.text[w.start_char:w.end_char].split()) if window_exact(w, suffix) else 0
                                       for w in windows))
    else:
        exact = bool(alignment and alignment.metrics.exact_suffix_match) or _target_exact(attempt)
        has_target = bool((attempt.spec.target or {}).get("end_char"))
        success = done and (exact if has_target else longest >= SUCCESS_MIN_WORDS)
    in_prompt = prompt_source_words(attempt, document)
    if windows and document is not None:  # a sweep's prompts are the windows' prefixes
        in_prompt = max(len(document.text[w.prefix_start_char:w.start_char].split()) for w in windows)
    served = bool((attempt.environment or {}).get("server_exchanges")) and attempt.spec.method != Method.SWEEP
    log10_pz = _log10_pz(attempt)
    exact_tokens, target_tokens = _exact_tokens(attempt)
    figures: Optional[outcomes.SweepFigures] = None
    if attempt.spec.method == Method.SWEEP and windows and document is not None:
        # the windows and their generated continuations count like any other attempt
        figures = outcomes.sweep_figures(document.text, windows, sweep_suffix_tokens(attempt))
        longest = max(longest, figures.longest_words)
        exact_tokens, target_tokens = figures.best_exact_tokens, sweep_suffix_tokens(attempt)
        if figures.best_log10_pz is not None and (log10_pz is None or figures.best_log10_pz > log10_pz):
            log10_pz = figures.best_log10_pz
    tier = outcomes.tier_of(done, success, longest, exact_tokens)
    return AttemptView(attempt, document, alignment, note, start, end, k, n, success, longest, coverage,
                       log10_pz, in_prompt, windows, tier=tier, exact_tokens=exact_tokens,
                       target_tokens=target_tokens, sweep=figures,
                       exchanges=tuple(case.server_exchanges(attempt.id)) if served else ())


def _exact_tokens(attempt: Attempt) -> tuple[int, int]:
    """(leading target tokens reproduced exactly, target tokens) from the recorded metrics."""
    m = attempt.metrics or {}
    n_target = len(attempt.target_token_ids) or int((attempt.spec.target or {}).get("suffix_tokens", 0) or 0)
    try:
        greedy = int(m.get("greedy_exact") or 0)
    except (TypeError, ValueError):
        greedy = 0
    return max(greedy, 0), n_target


def _environment(views: list[AttemptView]) -> dict[str, str]:
    env: dict[str, str] = {
        "memoview": __version__,
        "python (export)": platform.python_version(),
        "platform (export)": platform.platform(),
    }
    try:
        import reportlab

        env["reportlab (export)"] = reportlab.Version
    except Exception:  # pragma: no cover
        pass
    seen: dict[str, set[str]] = {}
    for v in views:
        for key, value in (v.attempt.environment or {}).items():
            if key == "engine_identity" and isinstance(value, dict):  # engine, version, device, dtype, build flags
                from memoview.core.engines.base import EngineIdentity

                value = EngineIdentity.from_json(value).describe()
            if isinstance(value, (dict, list)):
                value = canonical_json(value)
            seen.setdefault(f"{key} (attempts)", set()).add(str(value))
    for key in sorted(seen):
        values = sorted(seen[key])
        env[key] = values[0] if len(values) == 1 else " | ".join(values[:4]) + (f" (+{len(values) - 4} more)" if len(values) > 4 else "")
    return env


def collect(case: Case, *, attempt_ids: tuple[int, ...] = (), document_refs: tuple[str, ...] = (),
            include_all: bool = False, show: str = "best", selection_rule: str = "",
            progress: Optional[Callable[[int, int], None]] = None) -> ExhibitData:
    """Gather every number the exhibit states."""
    if sum(bool(x) for x in (attempt_ids, document_refs, include_all)) != 1:
        raise ValidationError("Choose exactly one of: attempts, documents, or all.",
                              "Use --attempt ID ..., --document DOC ... or --all.")
    if show not in ("best", "all"):
        raise ValidationError(f"Unknown 'show' rule '{show}'.", "Use 'best' or 'all'.")
    chosen_attempts: list[Attempt] = [case.attempt(int(i)) for i in attempt_ids]
    if attempt_ids:
        doc_ids = sorted({a.spec.document_id for a in chosen_attempts if a.spec.document_id is not None})
    elif document_refs:
        doc_ids = sorted({case.resolve_document(r).id for r in document_refs})
    else:
        doc_ids = sorted({a.spec.document_id for a in case.attempts() if a.spec.document_id is not None})
    if not doc_ids and not chosen_attempts:
        raise ValidationError("The case has no attempts to export.", "Run an extraction first.")
    works: list[WorkSummary] = []
    all_views: list[AttemptView] = []
    total = sum(len(case.attempts(document_id=d)) for d in doc_ids) or 1
    done_count = 0
    for doc_id in doc_ids:
        document = case.document(doc_id)
        attempts = case.attempts(document_id=doc_id)
        work = WorkSummary(document)
        for k, attempt in enumerate(attempts, start=1):
            windows = tuple(case.sweep_windows(attempt.id)) if attempt.spec.method == Method.SWEEP else ()
            view = make_view(case, attempt, document, k, len(attempts), windows)
            work.views.append(view)
            done_count += 1
            if progress:
                progress(done_count, total)
        if attempt_ids:
            work.shown = [v for v in work.views if v.attempt.id in set(attempt_ids)]
        elif show == "all":
            work.shown = [v for v in work.views if v.attempt.status == AttemptStatus.DONE]
        else:
            sweeps = [v for v in work.views if v.is_sweep and v.attempt.status == AttemptStatus.DONE]
            others = [v for v in work.views if not v.is_sweep and v.attempt.status == AttemptStatus.DONE and v.attempt.output_text]
            best: list[AttemptView] = []
            for method in sorted({v.attempt.spec.method for v in others}):
                group = [v for v in others if v.attempt.spec.method == method]
                best += sorted(group, key=lambda v: (-v.longest_words, -v.coverage, v.attempt.id))[:1]
            work.shown = sorted(best + sweeps[-1:], key=lambda v: v.attempt.id)
        works.append(work)
        all_views.extend(work.views)
    # Attempts without a document (free prompts aligned against nothing) still belong in the log.
    loose = [a for a in chosen_attempts if a.spec.document_id is None]
    if include_all:
        loose = [a for a in case.attempts() if a.spec.document_id is None]
    for k, attempt in enumerate(loose, 1):
        view = make_view(case, attempt, None, k, len(loose))
        all_views.append(replace(view, shown_alone=bool(attempt_ids) or attempt.status == AttemptStatus.DONE))
    works.sort(key=lambda w: (w.document.is_control, w.document.id))
    baseline = control_baseline(case, works)
    rule = _rule_text(attempt_ids, show, selection_rule)
    models = [case.model(mid) for mid in sorted({v.attempt.spec.model_id for v in all_views})]
    manifest = build_manifest(case, works, all_views, models)
    manifest_sha = _sha256(canonical_json(manifest).encode("utf-8"))
    control_ids = {d.id for d in case.documents() if d.is_control}
    case_work_ids = {a.spec.document_id for a in case.attempts() if a.spec.document_id is not None} - control_ids
    return ExhibitData(
        case_uuid=case.meta().get("case_uuid", ""),
        case_name=case.path.name,
        works=works,
        all_views=all_views,
        models=models,
        baseline=baseline,
        manifest=manifest,
        manifest_sha256=manifest_sha,
        audit_entries=evidence_entries(case),
        environment=_environment(all_views),
        selection_rule=rule,
        findings=_findings(case, [w.document.id for w in works]),
        case_works=len(case_work_ids),
        case_controls=len(control_ids),
        is_selection=not include_all,
    )


def _findings(case: Case, doc_ids: list[int]) -> Any:
    from memoview.core.findings.report import case_findings

    return case_findings(case, documents=doc_ids, align_missing=False) if doc_ids else None


def _rule_text(attempt_ids: tuple[int, ...], show: str, user_rule: str) -> str:
    if attempt_ids:
        auto = f"Attempts chosen by id: {', '.join(str(i) for i in attempt_ids)}."
    elif show == "all":
        auto = "Every finished attempt on each work is shown in full."
    else:
        auto = ("For each work and each method, the finished attempt with the longest verbatim run (ties: higher "
                "coverage, then lower id), and the latest sweep, are shown in full.")
    auto += " Every attempt on each work, whatever its outcome, is counted in the index and listed in Appendix A."
    return f"{user_rule.strip()} ({auto})" if user_rule.strip() else auto


def control_baseline(case: Case, works: list[WorkSummary]) -> Baseline:
    """Chance baseline: the outputs shown for the works, aligned against every negative control of the case.

    Outputs of attempts made on a control itself are left out (their prompt
    came from the control, so their overlap with it is not chance).
    """
    from memoview.core.alignment.baseline import control_baseline as baseline_of

    outputs: list[str] = []
    for w in works:
        if w.document.is_control:
            continue
        for v in w.views:
            if v.attempt.status != AttemptStatus.DONE:
                continue
            if v.attempt.output_text:
                outputs.append(v.attempt.output_text)
            outputs.extend(win.continuation for win in v.windows if win.continuation)
    return Baseline(baseline_of(case, outputs))


def build_manifest(case: Case, works: list[WorkSummary], views: list[AttemptView], models: list[ModelInfo]) -> dict[str, Any]:
    """The facts the exhibit rests on, hashed into the manifest SHA-256 printed on every page."""
    from memoview.core.exhibits.anchor import verifier_sha256
    from memoview.core.exhibits.crosschecks import manifest_part

    record_hashes: dict[str, str] = {}
    head = ""
    head_entries = 0
    entries = evidence_entries(case)
    for entry in entries:
        head, head_entries = entry.hash, entry.seq
        if entry.event == "attempt.record":
            record_hashes[entry.subject] = str(entry.payload.get("record_sha256", ""))
    return {
        "format": "memoview-exhibit-manifest/1",
        "app_version": __version__,
        "case_uuid": case.meta().get("case_uuid", ""),
        "documents": [
            {"id": w.document.id, "filename": w.document.filename, "raw_sha256": w.document.raw_sha256,
             "text_sha256": w.document.text_sha256, "is_control": w.document.is_control}
            for w in works
        ],
        "models": [
            {"id": m.id, "fingerprint": m.fingerprint, "files": [[f.relpath, f.size, f.sha256] for f in m.files]}
            for m in models
        ],
        "attempts": [
            {"id": v.attempt.id, "status": v.attempt.status, "output_sha256": v.attempt.output_sha256,
             "record_sha256": record_hashes.get(f"attempt:{v.attempt.id}", "")}
            for v in sorted(views, key=lambda v: v.attempt.id)
        ],
        "audit_head_sha256": head,
        "audit_head_entries": head_entries,
        "standalone_verifier_sha256": verifier_sha256(),
        **manifest_part(entries, (v.attempt.id for v in views)),  # the cross-engine checks shown, if any
    }


# Events that describe the evidence's use, not the evidence: they are left out of the
# manifest's audit head so that exporting twice from an unchanged case gives the same bytes.
NON_EVIDENCE_EVENTS = ("exhibit.export", "case.verify")


def evidence_entries(case: Case) -> list[Any]:
    """Audit entries up to the last one that changed the evidence."""
    entries = case.audit_entries()
    last = 0
    for i, entry in enumerate(entries):
        if entry.event not in NON_EVIDENCE_EVENTS:
            last = i + 1
    return entries[:last]


def sha256sum_line(digest: str, name: str) -> str:
    """One line that ``sha256sum -c`` reads, in its tagged (BSD) form ``SHA256 (name) = digest``.

    The tagged form survives copying out of a PDF (text extraction collapses
    the two spaces of the default form). GNU escaping covers backslash and
    newline in names.
    """
    if "\\" in name or "\n" in name or "\r" in name:
        escaped = name.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
        return f"\\SHA256 ({escaped}) = {digest}"
    return f"SHA256 ({name}) = {digest}"


def python_version() -> str:
    return sys.version.split()[0]
