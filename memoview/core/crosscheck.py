"""Cross-engine check: would another implementation give the same answer? (DESIGN section 3)

A finished sweep or prefix/p_z attempt is re-scored with another engine on
the same model file (same fingerprint), and the two are compared:

* sweep: window by window, the greedy exact length (exactly) and log10 p_z
  (within ``PZ_AGREE_LOG10``). The other engine tokenizes the document with
  its own tokenizer; a window is *comparable* only when it covers the same
  characters in both, and windows that are not are counted, not guessed at.
* prefix / p_z: the recorded prompt and target token ids are scored by the
  other engine, after checking that it decodes them to the same text (the
  same vocabulary).

The result is stored as its own audited record: an audit entry
``crosscheck.record`` with every window's figures, plus an annotation of
kind ``crosscheck`` on the attempt holding the one-paragraph summary.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Optional

from memoview.core import errors
from memoview.core.case import Case
from memoview.core.engines.base import Engine, EngineSettings
from memoview.core.jobs import CancelToken, Job, Progress
from memoview.core.timeutil import utc_now
from memoview.core.records import AttemptStatus, Method

PZ_AGREE_LOG10 = 0.1  # two engines "agree" on p_z when log10 p_z differs by at most this (quantization differs)
EVENT = "crosscheck.record"


@dataclass
class CrossCheck:
    """The comparison of one attempt with its re-scoring by another engine."""

    attempt_id: int
    method: str
    engine_then: dict[str, Any]
    engine_now: dict[str, Any]
    compared: int = 0  # windows (or 1 for a prefix attempt) compared
    not_comparable: int = 0  # windows whose characters differ between the two tokenizations
    greedy_agree: int = 0
    pz_agree: int = 0
    pz_tolerance_log10: float = PZ_AGREE_LOG10
    max_abs_diff_log10_pz: Optional[float] = None
    rows: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""

    @property
    def greedy_agreement(self) -> float:
        return self.greedy_agree / self.compared if self.compared else 0.0

    @property
    def pz_agreement(self) -> float:
        return self.pz_agree / self.compared if self.compared else 0.0

    def summary(self) -> str:
        then, now = self.engine_then, self.engine_now
        what = "windows" if self.method == Method.SWEEP else "targets"
        text = (f"Cross-engine check of attempt {self.attempt_id} ({self.method}): recorded with "
                f"{then.get('engine')} ({then.get('dtype')}), re-scored with {now.get('engine')} "
                f"{now.get('library_version', '')} ({now.get('dtype')}, {now.get('device')}). "
                f"Greedy exact length agrees on {self.greedy_agree} of {self.compared} {what} "
                f"({self.greedy_agreement * 100:.1f}%); log10 p_z within {self.pz_tolerance_log10:g} on "
                f"{self.pz_agree} of {self.compared} ({self.pz_agreement * 100:.1f}%)")
        if self.max_abs_diff_log10_pz is not None:
            text += f"; largest log10 p_z difference {self.max_abs_diff_log10_pz:.3f}"
        text += "."
        if self.not_comparable:
            text += (f" {self.not_comparable} windows were not comparable (the two tokenizers cut the text "
                     "differently there).")
        if self.note:
            text += " " + self.note
        return text

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(greedy_agreement=self.greedy_agreement, pz_agreement=self.pz_agreement, summary=self.summary())
        return data


def _pz_close(a: Optional[float], b: Optional[float]) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= PZ_AGREE_LOG10


def compare_sweep(case: Case, attempt: Any, engine: Engine, cancel: Optional[CancelToken] = None) -> Job[CrossCheck]:
    from memoview.core.extraction import common
    from memoview.core.extraction.reproduce import recorded_engine
    from memoview.core.extraction.sweep import SweepRequest, sweep_windows

    request = SweepRequest.from_params(attempt.spec.params)
    document = case.document(int(attempt.spec.document_id or 0))
    recorded = case.sweep_windows(attempt.id)
    rerun = yield from sweep_windows(engine, document, request, cancel)
    by_chars = {(w.start_char, w.end_char): w for w in rerun}
    check = CrossCheck(attempt.id, "sweep", recorded_engine(attempt), common.environment(engine)["engine_identity"])
    worst = 0.0
    for old in recorded:
        new = by_chars.get((old.start_char, old.end_char))
        if new is None:
            check.not_comparable += 1
            continue
        check.compared += 1
        g = old.greedy_exact == new.greedy_exact
        p = _pz_close(old.log10_pz, new.log10_pz)
        check.greedy_agree += g
        check.pz_agree += p
        if old.log10_pz is not None and new.log10_pz is not None:
            worst = max(worst, abs(old.log10_pz - new.log10_pz))
        check.rows.append({"index": old.index, "start_char": old.start_char, "end_char": old.end_char,
                           "greedy_then": old.greedy_exact,
                           "greedy_now": new.greedy_exact, "log10_pz_then": old.log10_pz,
                           "log10_pz_now": new.log10_pz, "greedy_agree": g, "pz_agree": p})
    check.max_abs_diff_log10_pz = worst if check.compared else None
    return check


def compare_prefix(case: Case, attempt: Any, engine: Engine) -> CrossCheck:
    from memoview.core.extraction import common
    from memoview.core.extraction.probability import LN10
    from memoview.core.extraction.reproduce import recorded_engine

    prompt, target = list(attempt.prompt_token_ids), list(attempt.target_token_ids)
    if not target:
        raise errors.ValidationError(f"Attempt {attempt.id} has no target to score.")
    if engine.decode(target) != attempt.target_text and engine.decode(target).strip() != attempt.target_text.strip():
        raise errors.ValidationError(
            f"The {engine.name} engine decodes attempt {attempt.id}'s target token ids to different text: its "
            "vocabulary differs from the recorded engine's, so the same ids are not the same words.",
            "Cross-check a sweep instead (it re-tokenizes the document and compares the same characters).")
    p = attempt.spec.params
    s = common.score_continuations(engine, [prompt], [target], float(p.get("pz_temperature", 1.0)),
                                   p.get("pz_top_k"), with_ranks=False)[0]
    now_pz = None if s.log_pz is None else s.log_pz / LN10
    then_pz = attempt.metrics.get("log10_pz")
    check = CrossCheck(attempt.id, attempt.spec.method, recorded_engine(attempt),
                       common.environment(engine)["engine_identity"], compared=1)
    g = s.greedy_exact == attempt.metrics.get("greedy_exact")
    pz = _pz_close(then_pz, now_pz)
    check.greedy_agree, check.pz_agree = int(g), int(pz)
    if then_pz is not None and now_pz is not None:
        check.max_abs_diff_log10_pz = abs(then_pz - now_pz)
    check.rows.append({"greedy_then": attempt.metrics.get("greedy_exact"), "greedy_now": s.greedy_exact,
                       "log10_pz_then": then_pz, "log10_pz_now": now_pz, "greedy_agree": g, "pz_agree": pz})
    return check


def run_crosscheck(case: Case, attempt_id: int, settings: EngineSettings, *, allow_pickle: bool = False,
                   cancel: Optional[CancelToken] = None, engine: Optional[Engine] = None) -> Job[Optional[CrossCheck]]:
    """Re-score ``attempt_id`` with the engine ``settings`` name and record the comparison; None if cancelled."""
    from memoview.core.session import open_registered

    attempt = case.attempt(attempt_id)
    if attempt.spec.method not in (Method.SWEEP, Method.PREFIX, Method.PZ):
        raise errors.ValidationError(f"Attempt {attempt_id} is a {attempt.spec.method} attempt; a cross-engine "
                                     "check re-scores sweeps and prefix/p_z attempts.")
    if attempt.status != AttemptStatus.DONE:
        raise errors.ValidationError(f"Attempt {attempt_id} did not finish (status {attempt.status}).")
    if engine is None:
        info = case.model(attempt.spec.model_id)
        engine = yield from open_registered(case, info, settings, allow_pickle=allow_pickle, cancel=cancel)
        if engine is None:
            return None
    yield Progress(0, None, f"Re-scoring attempt {attempt_id} with {engine.name}")
    started = utc_now()
    try:
        if attempt.spec.method == Method.SWEEP:
            check = yield from compare_sweep(case, attempt, engine, cancel)
        else:
            check = compare_prefix(case, attempt, engine)
    finally:  # a served engine's requests and responses (failed ones too) are evidence of the check
        _store_exchanges(case, attempt_id, started)
    if cancel is not None and cancel.cancelled:
        return None
    record(case, check)
    return check


def _store_exchanges(case: Case, attempt_id: int, started: str) -> None:
    from memoview.core.remote import evidence

    exchanges = evidence.take_for_attempt(started)
    if exchanges:
        case.record_server_exchanges(None, exchanges, f"cross-engine check of attempt {attempt_id}")


def record(case: Case, check: CrossCheck) -> None:
    """Store the check: full figures in the audit trail, the summary as an annotation of the attempt."""
    details = check.to_json()
    case.audit(EVENT, f"attempt:{check.attempt_id}", details)
    case.annotate("attempt", check.attempt_id, "crosscheck", check.summary())


def engine_words(ident: dict[str, Any]) -> str:
    """An engine identity in a few words: ``llama.cpp (Q4_K_M)``, ``transformers (float32, cpu)``."""
    name = str(ident.get("engine") or "an unrecorded engine")
    details = [str(x) for x in (ident.get("dtype"), ident.get("device")) if x and x != "auto"]
    if name == "llama.cpp" and details:  # the quantization is what identifies a llama.cpp run
        details = details[:1]
    return f"{name} ({', '.join(details)})" if details else name


def plain_summary(check: dict[str, Any]) -> str:
    """The result in one plain sentence (GUI result view, exhibit appendix), from a recorded check.

    E.g. "llama.cpp (Q4_K_M) agrees with transformers (float32, cpu) on the greedy exact length in 19 of 20
    windows; log10 p_z within 0.1 in 17 of 20."
    """
    compared = int(check.get("compared") or 0)
    what = ("window" if check.get("method") == "sweep" else "target") + ("" if compared == 1 else "s")
    tol = float(check.get("pz_tolerance_log10") or PZ_AGREE_LOG10)
    now, then = engine_words(check.get("engine_now") or {}), engine_words(check.get("engine_then") or {})
    if compared == 0:
        text = f"{now} could not be compared with {then}: no window covered the same text in both"
    else:
        text = (f"{now} agrees with {then} on the greedy exact length in {int(check.get('greedy_agree') or 0):,} "
                f"of {compared:,} {what}; log10 p_z within {tol:g} in {int(check.get('pz_agree') or 0):,} "
                f"of {compared:,}")
    worst = check.get("max_abs_diff_log10_pz")
    if compared and worst is not None:
        text += f" (largest difference {float(worst):.3f})"
    text += "."
    skipped = int(check.get("not_comparable") or 0)
    if skipped:
        text += (f" {skipped:,} {'window was' if skipped == 1 else 'windows were'} not comparable (the two "
                 "tokenizers cut the text differently there).")
    return text


def disagreements(check: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of a recorded check where greedy exact length or p_z differ."""
    return [r for r in check.get("rows") or [] if not (r.get("greedy_agree") and r.get("pz_agree"))]


def crosschecks(case: Case, attempt_id: Optional[int] = None) -> list[dict[str, Any]]:
    """Recorded cross-engine checks (newest last), optionally of one attempt."""
    out = []
    for entry in case.audit_entries():
        if entry.event == EVENT and (attempt_id is None or entry.subject == f"attempt:{attempt_id}"):
            out.append({"audit_seq": entry.seq, "at": entry.at, **entry.payload})
    return out


__all__ = ["CrossCheck", "EVENT", "PZ_AGREE_LOG10", "compare_prefix", "compare_sweep", "crosschecks",
           "disagreements", "engine_words", "plain_summary", "record", "run_crosscheck"]
