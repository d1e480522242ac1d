"""Whole-work sweep: the memorization map of one document (Cooper et al. 2025).

Every window is scored by one batched teacher-forced forward pass: greedy
exact length, log10 p at T=1 over the full vocabulary, log10 p_z under the
chosen scheme. Every window's continuation is generated only when asked for
(``generate``).
``memorization_score`` is the fraction of target positions whose argmax
equals the target token under teacher forcing unless continuations are
generated, in which case it compares the actual greedy continuation with
the target (Biderman et al.); the attempt records which basis was used.

Without ``generate``, the greedy continuations of the ``generate_best``
windows with the longest exact continuations are still generated once the
scoring is done (a few ``generate`` calls, not one per window), so that an
exhibit can show them side by side with the work: a sweep alone then makes
a complete exhibit. Their scores stay teacher-forced, like every other window.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Optional

from memoview.core import errors
from memoview.core.case import Case
from memoview.core.extraction import bos as bos_policy
from memoview.core.extraction import common
from memoview.core.extraction.attempts import ensure_model
from memoview.core.extraction.passage import sweep_passages, tokenize_document
from memoview.core.extraction.probability import LN10
from memoview.core.jobs import CancelToken, Job, Progress
from memoview.core.engines.base import Engine
from memoview.core.models.base import LoadedModel
from memoview.core.records import (Attempt, AttemptSpec, AttemptStatus, Document, Method, PromptClass, SweepWindow,
                                   best_window_key)
from memoview.core.timeutil import utc_now

NOT_SCORED_TOKENIZATION = "tokenization mismatch"  # the reason a window is not scored (a gap, counted)


@dataclass(frozen=True)
class SweepRequest:
    """A whole-work sweep: windows of ``prefix`` + ``suffix`` tokens every ``stride``; p_z under
    (``pz_temperature``, ``pz_top_k``), named like the prefix request's."""

    prefix: int = 50
    suffix: int = 50
    stride: int = 50
    stride_unit: str = "tokens"
    pz_top_k: Optional[int] = 40
    pz_temperature: float = 1.0
    generate: bool = False
    generate_best: int = 3
    batch_size: int = 16
    # Where BOS goes: before the k prefix tokens (default) or counted among them (Cooper et al.); see extraction/bos.py.
    bos: bos_policy.BosChoice = bos_policy.OUTSIDE

    def params(self) -> dict[str, Any]:
        return {
            "decoding": "greedy", "max_new_tokens": self.suffix if self.generate or self.generate_best else 0,
            "temperature": None, "top_k": None, "top_p": None, "num_beams": 1, "n_samples": 1,
            "repetition_penalty": 1.0, "prefix_tokens": self.prefix, "suffix_tokens": self.suffix,
            "stride": self.stride, "stride_unit": self.stride_unit, "pz_top_k": self.pz_top_k,
            "pz_temperature": self.pz_temperature, "generate": self.generate,
            "generate_best": 0 if self.generate else self.generate_best, "batch_size": self.batch_size,
            **bos_policy.params_entry(self.bos),
        }

    @classmethod
    def from_params(cls, p: dict[str, Any], **overrides: Any) -> "SweepRequest":
        """The request a recorded sweep's ``params`` describe (for re-runs and cross-engine checks)."""
        values: dict[str, Any] = dict(
            prefix=int(p["prefix_tokens"]), suffix=int(p["suffix_tokens"]), stride=int(p["stride"]),
            stride_unit=str(p.get("stride_unit", "tokens")), pz_top_k=p.get("pz_top_k"),
            pz_temperature=float(p.get("pz_temperature", 1.0)), generate=False, generate_best=0,
            batch_size=int(p.get("batch_size", 16)), bos=bos_policy.IN_PREFIX if p.get("bos") == bos_policy.IN_PREFIX
            else bos_policy.OUTSIDE)
        values.update(overrides)
        return cls(**values)

    def validate(self) -> None:
        bos_policy.validate_choice(self.bos)
        common.validate_scheme(self.pz_temperature, self.pz_top_k)
        if self.batch_size < 1:
            raise errors.ValidationError("The batch size must be at least 1.")
        if self.generate_best < 0:
            raise errors.ValidationError(f"generate_best must be 0 or more (got {self.generate_best}).",
                                         "Use 0 to generate no continuations, or 3 to show the best three windows.")


def _passages(doc: Any, request: SweepRequest, policy: str) -> list[Any]:
    """The windows of a sweep; with BOS counted inside the prefix each holds k − 1 prefix tokens of the work."""
    return sweep_passages(doc, bos_policy.work_prefix(request.prefix, policy), request.suffix, request.stride,
                          request.stride_unit, min_prefix=0 if policy == bos_policy.COUNTED else 1)


def sweep_windows(lm: Engine | LoadedModel, document: Document, request: SweepRequest,
                  cancel: Optional[CancelToken] = None, attempt_id: int = 0,
                  pz_bounds: Optional[dict[int, float]] = None, sink: Optional[list[SweepWindow]] = None,
                  not_scored: Optional[dict[int, str]] = None) -> Job[list[SweepWindow]]:
    """Score every window; stops between batches (and within generation) on cancel.

    A window whose p_z the engine can only bound (top-N log-probs) gets ``log10_pz`` None and its upper
    bound in ``pz_bounds`` (window index -> log10 bound), never a point value. ``sink``, when given, receives
    the windows as they are scored (what a failed sweep keeps). A window a served model tokenized differently
    from the local tokenizer is skipped, its reason in ``not_scored`` (window index -> reason): a gap in the
    map, counted in the results, never a score attributed to tokens the server did not score."""
    request.validate()
    lm = common.engine_of(lm)
    lm.capabilities.require_method("sweep", lm.name)
    policy = common.bos_policy(lm, request.bos)
    doc = tokenize_document(lm, document)
    passages = _passages(doc, request, policy)
    bos = common.bos_ids(lm, policy)
    common.check_model_context(lm, len(bos) + bos_policy.work_prefix(request.prefix, policy) + request.suffix,
                               "A sweep window")
    out: list[SweepWindow] = sink if sink is not None else []
    total = len(passages)
    for lo in range(0, total, request.batch_size):
        if cancel is not None and cancel.cancelled:
            break
        yield Progress(lo, total, f"sweep of '{document.title}': window {lo + 1} of {total}")
        batch = passages[lo: lo + request.batch_size]
        contexts = [bos + list(doc.ids[p.prefix_start_token:p.start_token]) for p in batch]
        targets = [list(doc.ids[p.start_token:p.end_token]) for p in batch]
        scored = score_or_skip(lm, contexts, targets, request)
        skipped = {j: reason for j, reason in enumerate(scored) if isinstance(reason, str)}
        if skipped:
            if not_scored is not None:
                not_scored.update({lo + j: reason for j, reason in skipped.items()})
            batch = [p for j, p in enumerate(batch) if j not in skipped]
            contexts = [c for j, c in enumerate(contexts) if j not in skipped]
            targets = [t for j, t in enumerate(targets) if j not in skipped]
        indexes = [lo + j for j in range(len(scored)) if j not in skipped]
        scores = [s for s in scored if not isinstance(s, str)]
        continuations: list[Optional[list[int]]] = [None] * len(batch)
        if request.generate and batch:
            params = {"decoding": "greedy", "max_new_tokens": request.suffix, "repetition_penalty": 1.0}
            continuations = list(common.generate(lm, contexts, params, cancel=cancel))
            if cancel is not None and cancel.cancelled:
                break
        for j, (p, s) in enumerate(zip(batch, scores)):
            m = len(targets[j])
            cont = continuations[j]
            if cont is None:
                score = s.argmax_matches / m
            else:
                score = sum(1 for a, b in zip(cont, targets[j]) if a == b) / m
            if s.pz_kind != "exact" and s.log_pz is not None and pz_bounds is not None:
                pz_bounds[indexes[j]] = s.log_pz / LN10
            out.append(SweepWindow(
                attempt_id=attempt_id, index=indexes[j], start_token=p.start_token,
                start_char=doc.char_start(p.start_token), end_char=doc.char_end(p.end_token),
                prefix_start_char=doc.char_start(p.prefix_start_token), greedy_exact=s.greedy_exact,
                memorization_score=score, log10_p=s.log_p / LN10,
                log10_pz=None if s.log_pz is None or s.pz_kind != "exact" else s.log_pz / LN10,
                continuation=None if cont is None else lm.decode(cont),
            ))
    if not request.generate and request.generate_best and out and not (cancel is not None and cancel.cancelled):
        best = sorted(out, key=best_window_key)[:request.generate_best]
        yield Progress(len(out), total, f"generating the {len(best)} best windows' continuations")
        by_index = {w.index: w for w in best}
        contexts = [bos + list(doc.ids[passages[w.index].prefix_start_token:passages[w.index].start_token])
                    for w in best]
        params = {"decoding": "greedy", "max_new_tokens": request.suffix, "repetition_penalty": 1.0}
        generated = list(common.generate(lm, contexts, params, cancel=cancel))
        if not (cancel is not None and cancel.cancelled):
            for w, cont in zip(best, generated):
                by_index[w.index] = replace(w, continuation=lm.decode(cont))
            out = [by_index.get(w.index, w) for w in out]
    finished = len(out) + (len(not_scored) if not_scored is not None else 0)
    yield Progress(len(out), total, "sweep done" if finished == total else "sweep stopped")
    return out


def score_or_skip(lm: Engine, contexts: list[list[int]], targets: list[list[int]],
                  request: SweepRequest) -> list[Any]:
    """The batch's scores; where a served model tokenized a window differently (TokenizationMismatchError),
    the batch is scored window by window and each such window gives its reason (a str) instead of a score."""
    def one(ctxs: list[list[int]], tgts: list[list[int]]) -> list[Any]:
        return list(common.score_continuations(lm, ctxs, tgts, request.pz_temperature, request.pz_top_k,
                                               with_ranks=False))  # windows store no per-token ranks
    try:
        return one(contexts, targets)
    except errors.TokenizationMismatchError as exc:
        if len(contexts) == 1:
            return [f"{NOT_SCORED_TOKENIZATION}: {exc.message}"]
    out: list[Any] = []
    for ctx, tgt in zip(contexts, targets):
        try:
            out.extend(one([ctx], [tgt]))
        except errors.TokenizationMismatchError as exc:
            out.append(f"{NOT_SCORED_TOKENIZATION}: {exc.message}")
    return out


def run_sweep(case: Case, lm: Engine | LoadedModel, document: Document, request: SweepRequest, *,
              cancel: Optional[CancelToken] = None, protocol_id: Optional[int] = None,
              campaign_key: Optional[str] = None) -> Job[tuple[Attempt, list[SweepWindow]]]:
    """Run a sweep and commit it as one attempt plus its windows (cancelled: the windows done so far)."""
    request.validate()
    lm = common.engine_of(lm)
    lm.capabilities.require_method("sweep", lm.name)
    model_info = ensure_model(case, lm)
    policy = common.bos_policy(lm, request.bos)
    env = common.environment(lm)
    started = utc_now()
    doc = tokenize_document(lm, document)
    spec = AttemptSpec(
        method=Method.SWEEP.value, prompt_class=PromptClass.PREFIX.value, model_id=int(model_info.id or 0),
        model_fingerprint=model_info.fingerprint, document_id=document.id, params=request.params(),
        target={"document_tokens": len(doc.ids), "document_chars": len(document.text)}, bos_policy=policy,
    )
    status = AttemptStatus.DONE.value
    error = ""
    windows: list[SweepWindow] = []
    bounds: dict[int, float] = {}
    partial: list[SweepWindow] = []
    not_scored: dict[int, str] = {}
    server_error: Optional[errors.ServerError] = None
    try:
        windows = yield from sweep_windows(lm, document, request, cancel, pz_bounds=bounds, sink=partial,
                                           not_scored=not_scored)
    except errors.ServerError as exc:  # recorded below as a failed attempt with its exchanges, then raised
        server_error, windows = exc, list(partial)
    except errors.MemoviewError:
        raise
    except Exception as exc:
        status, error = AttemptStatus.FAILED.value, f"{type(exc).__name__}: {exc}"
    if cancel is not None and cancel.cancelled:
        status = AttemptStatus.CANCELLED.value
    expected = len(_passages(doc, request, policy))
    memorized = [w for w in windows if w.greedy_exact == request.suffix]
    metrics: dict[str, Any] = {
        "windows": len(windows),
        "windows_planned": expected,
        "windows_memorized": len(memorized),
        "fraction_memorized": (len(memorized) / len(windows)) if windows else 0.0,
        "max_greedy_exact": max((w.greedy_exact for w in windows), default=0),
        "mean_memorization_score": (sum(w.memorization_score for w in windows) / len(windows)) if windows else 0.0,
        "memorization_score_basis": "greedy continuation" if request.generate else "teacher-forced argmax",
        "max_log10_pz": max((w.log10_pz for w in windows if w.log10_pz is not None), default=None),
        "windows_pz_impossible": sum(1 for w in windows if w.log10_pz is None and w.index not in bounds),
        "evidences": "memorization (prefix prompts; prefix tokens are never counted)",
    }
    if bounds:  # p_z only bounded (an engine seeing the top-N log-probs): labelled, never a point value
        from memoview.core.extraction.pz_label import BOUND_NOTE, PZ_UPPER_BOUND

        metrics.update(pz_kind=PZ_UPPER_BOUND, pz_bound_basis=BOUND_NOTE, windows_pz_bounded=len(bounds),
                       windows_pz_upper_bound={str(i): v for i, v in sorted(bounds.items())},
                       max_log10_pz_upper_bound=max(bounds.values()))
    if not_scored:  # windows a served model tokenized differently: gaps, each with its reason
        metrics["windows_not_scored"] = len(not_scored)
        metrics["windows_not_scored_reasons"] = {str(i): r for i, r in sorted(not_scored.items())}
    # Work-level rates (issue 12), stored with the sweep; also recomputable from the windows.
    from memoview.core.findings.coverage import sweep_rates

    metrics["findings"] = sweep_rates(windows, len(document.text), request.suffix).to_json()
    attempt = Attempt(id=0, spec=spec, status=status, metrics=metrics, environment=env, error=error,
                      started_at=started, finished_at=utc_now(), protocol_id=protocol_id, campaign_key=campaign_key,
                      output_text="", output_sha256="")
    if server_error is not None:
        from memoview.core.extraction.served_failure import record_server_failure

        record_server_failure(case, attempt, server_error, windows)
        raise server_error
    stored = case.record_attempt(attempt, windows)
    return stored, case.sweep_windows(stored.id)


def sweep_json(case: Case, attempt: Attempt, windows: list[SweepWindow]) -> dict[str, Any]:
    """The CLI's --json shape (issue 3 point 4)."""
    doc = case.document(int(attempt.spec.document_id or 0))
    model = case.model(attempt.spec.model_id)
    return {
        "document": {"id": doc.id, "title": doc.title, "text_sha256": doc.text_sha256, "is_control": doc.is_control},
        "model": {"id": model.id, "name": model.name, "fingerprint": model.fingerprint},
        "attempt_id": attempt.id,
        "status": attempt.status,
        "params": attempt.spec.params,
        "bos_policy": attempt.spec.bos_policy,
        "windows": [
            {"start_token": w.start_token, "start_char": w.start_char, "greedy_exact": w.greedy_exact,
             "memorization_score": w.memorization_score, "log10_p": w.log10_p, "log10_pz": w.log10_pz}
            for w in windows
        ],
        # Windows skipped (a served model tokenized them differently): index -> reason; gaps in the map.
        "windows_not_scored": dict(attempt.metrics.get("windows_not_scored_reasons") or {}),
        # Work-level rates with intervals and the controls' false-positive rates (issue 12).
        "findings": _findings_json(case, attempt),
    }


def _findings_json(case: Case, attempt: Attempt) -> Any:
    from memoview.core.findings.report import case_findings

    work = case_findings(case, align_missing=False).work(int(attempt.spec.document_id or 0))
    found = next((s for s in (work.sweeps if work else []) if s.attempt.id == attempt.id), None)
    return found.to_json() if found is not None else None

