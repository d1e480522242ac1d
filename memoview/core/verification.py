"""The full check of a case (DESIGN section 6, ``verify``): beyond the case file itself,
re-hash the model files and re-run the deterministic attempts.

``Case.verify`` checks what the case file alone can prove (hash chain,
document hashes, attempt records). This job adds what needs the model files:
their bytes against the recorded fingerprint, and greedy and beam attempts
re-run on this machine, compared token id by token id. The CLI
(``case verify --models --rerun``) and the GUI (Case > Verify case fully)
both run this one job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional

from memoview.core import errors
from memoview.core.jobs import CancelToken, Job, Progress
from memoview.core.records import Attempt, AttemptStatus, Method

if TYPE_CHECKING:
    from memoview.core.case import Case


@dataclass
class VerifyProblem:
    """One thing the case asserts that does not hold."""

    kind: str  # audit | anchor | binding | document | attempt | schema | model
    subject: str
    reason: str

    def __str__(self) -> str:
        return f"{self.subject}: {self.reason}"


@dataclass
class VerifyReport:
    """What :meth:`Case.verify <memoview.core.case.Case.verify>` checked and found (memoview.core.integrity)."""

    audit_entries: int = 0
    documents_checked: int = 0
    attempts_checked: int = 0
    problems: list[VerifyProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    head_hash: str = ""  # the chain's last entry hash; audit_entries is its entry count
    rows_checked: int = 0  # evidence rows checked against their audit binding
    anchored: bool = True  # False: the chain starts from the format-1 genesis (not bound to the UUID)
    read_only: bool = False  # the case was opened read-only: this verification is not in its audit log
    expect_head: Optional[str] = None
    expect_head_seq: Optional[int] = None  # where the expected head is in the chain (None: not found)
    after_expected: list[str] = field(default_factory=list)  # entries appended after the expected head

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class FullVerifyReport:
    """``case`` holds every problem found (the case file's and the added checks');
    ``models_checked`` / ``reruns`` are ``None`` where that check was not asked for."""

    case: VerifyReport
    models_checked: Optional[int] = None
    reruns: Optional[list[dict[str, Any]]] = None
    cancelled: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.case.ok and not self.cancelled


def rerunnable_attempts(case: Case, *, include_sampled: bool = False) -> list[Attempt]:
    """Finished generating attempts whose re-run must give the same token ids.

    Greedy and beam decoding, and the teacher-forced scores of p_z attempts and sweeps, are
    deterministic on the same model, so a difference means the model or the
    record is not what it claims to be.
    Sampled attempts reproduce only on the same software (the torch generator
    is not portable), so they are included only on request.
    """
    wanted = {"greedy", "beam"} | ({"sample"} if include_sampled else set())
    # A deployed system (served model) is not re-run by verification: it may have changed since, and it is
    # identified by endpoint, model id and date; its stored requests and responses are the evidence.
    served = {m.id for m in case.models() if m.format == "openai"}
    return [
        a for a in case.attempts(status=AttemptStatus.DONE) if a.spec.model_id not in served
        and (
        a.spec.method in (Method.SWEEP, Method.PZ)
        or (a.spec.method in (Method.PREFIX, Method.PROMPT, Method.CHAT) and a.spec.params.get("decoding", "greedy") in wanted))
    ]


def verify_fully(case: Case, *, models: bool = True, rerun: bool = True, include_sampled: bool = False,
                 allow_pickle: bool = False, cancel: Optional[CancelToken] = None,
                 loaded: Optional[dict[str, Any]] = None, device: Optional[str] = None,
                 expect_head: Optional[str] = None) -> Job[FullVerifyReport]:
    """Job: the case file's checks, then (as asked) the model files and the re-runs; logged in the audit trail.

    ``loaded``: models already in memory, by fingerprint (the GUI's), used
    instead of loading a second copy when their engine and dtype are the
    ones the attempts recorded. ``device``: run the re-runs there (default:
    the recorded device when this machine has it, else the CPU).
    """
    yield Progress(0, None, "Checking the audit hash chain, documents and attempt records")
    report = FullVerifyReport(case.verify(expect_head=expect_head))
    if models:
        report.models_checked = yield from _check_models(case, report, cancel)
    if rerun and not report.cancelled:
        report.reruns = yield from _rerun(case, report, include_sampled, allow_pickle, cancel, loaded or {}, device,
                                          rehashed=models)
    if case.read_only:  # reported, not written: the case says so in its report's warnings
        return report
    case.audit("case.verify", case.path.name, {
        "ok": report.ok, "problems": [str(p) for p in report.case.problems],
        "models_checked": report.models_checked,
        "attempts_rerun": None if report.reruns is None else len(report.reruns),
        "cancelled": report.cancelled,
    })
    return report


def _cancelled(cancel: Optional[CancelToken]) -> bool:
    return cancel is not None and cancel.cancelled


def _check_models(case: Case, report: FullVerifyReport, cancel: Optional[CancelToken]) -> Job[int]:
    """Re-hash each registered model's files, ignoring the fingerprint cache
    (a stale cache must never vouch for a file)."""
    from memoview.core.models.fingerprint import reverify

    checked = 0
    for info in case.models():
        result = yield from reverify(info, cancel=cancel)
        if result is None or _cancelled(cancel):
            report.cancelled = True
            break
        checked += 1
        for problem in result.problems:
            report.case.problems.append(VerifyProblem("model", f"model {info.id} ({info.name})", problem))
    return checked


def _rerun(case: Case, report: FullVerifyReport, include_sampled: bool, allow_pickle: bool,
           cancel: Optional[CancelToken], loaded: dict[str, Any], device: Optional[str] = None,
           rehashed: bool = False) -> Job[list[dict[str, Any]]]:
    """Re-run the deterministic attempts, one model open per (model, recorded engine and dtype).

    Each group opens through core/session.py with the engine and dtype its
    attempts recorded; an engine that is not available here is reported as a
    problem naming it, never replaced by another engine.

    A local model's files are re-read byte for byte first (``reverify``, no
    hash cache), unless ``--models`` just did it: the per-user hash cache is
    keyed by path, size, mtime, ctime and inode, which root can defeat
    (setting the clock back before rewriting a file restores its ctime), so
    it never vouches for the weights a re-run relies on. A served model has
    no files to re-read.
    """
    from memoview.core.extraction import common
    from memoview.core.extraction.reproduce import recorded_engine, reproduce_attempt
    from memoview.core.models.fingerprint import reverify
    from memoview.core.session import open_for_attempt

    by_model: dict[tuple[int, str, str], list[Attempt]] = {}
    for attempt in rerunnable_attempts(case, include_sampled=include_sampled):
        ident = recorded_engine(attempt)
        key = (attempt.spec.model_id, str(ident.get("engine")), str(ident.get("dtype") or ""))
        by_model.setdefault(key, []).append(attempt)
    total = sum(len(group) for group in by_model.values())
    results: list[dict[str, Any]] = []
    for (model_id, engine_name, dtype), group in sorted(by_model.items()):
        info = case.model(model_id)
        if not rehashed and info.format != "openai":
            fresh = yield from reverify(info, cancel=cancel)
            if fresh is None:
                report.cancelled = True
                break
            if not fresh.ok:
                for attempt in group:
                    report.case.problems.append(VerifyProblem(
                        "rerun", f"attempt {attempt.id}", f"could not re-run: model {model_id}'s files no longer match "
                        f"its fingerprint ({'; '.join(fresh.problems)})"))
                continue
        lm: Any = None
        reuse = loaded.get(info.fingerprint)
        if reuse is not None:
            engine = common.engine_of(reuse)
            if (engine.identity.engine, engine.identity.dtype) == (engine_name, dtype):
                lm = engine
        try:
            if lm is None:
                lm = yield from open_for_attempt(case, group[0], device=device, allow_pickle=allow_pickle,
                                                 cancel=cancel)
        except errors.MemoviewError as exc:
            changed = "changed on disk" in exc.message
            for attempt in group:
                report.case.problems.append(VerifyProblem(
                    "rerun", f"attempt {attempt.id}",
                    f"could not re-run: model {model_id} ('{info.name}') has changed on disk since it was "
                    f"registered ({exc.message})" if changed else
                    f"could not re-run with {engine_name} {dtype}: model {model_id} did not open ({exc.message})"))
            continue
        if lm is None or _cancelled(cancel):
            report.cancelled = True
            break
        for attempt in group:
            if _cancelled(cancel):
                report.cancelled = True
                return results
            yield Progress(len(results), total, f"Re-running attempt {attempt.id} ({len(results) + 1} of {total})")
            same, details = reproduce_attempt(case, attempt.id, lm)
            if not case.read_only:
                case.audit("attempt.reproduce", f"attempt:{attempt.id}",
                           {"same": same, "first_difference": details["first_difference"], "by": "case verify",
                            "engine": lm.identity.to_json()})
            results.append({"attempt_id": attempt.id, "same": same, "first_difference": details["first_difference"],
                            "pz": details.get("pz")})
            if not same:
                if details["first_difference"] == "p_z":
                    pz = details["pz"]
                    why = (f"re-run gives a different p_z (recorded greedy exact {pz['recorded']['greedy_exact']}, "
                           f"log10 p_z {pz['recorded']['log10_pz']}; re-run {pz['rerun']['greedy_exact']}, "
                           f"{pz['rerun']['log10_pz']}; tolerance {details['tolerance_log10']:g})")
                elif attempt.spec.method == Method.SWEEP:
                    why = f"re-run differs from the record from sweep window {details['first_difference']}"
                else:
                    why = f"re-run differs from the record from output token {details['first_difference']}"
                report.case.problems.append(VerifyProblem("rerun", f"attempt {attempt.id}", why))
    return results
