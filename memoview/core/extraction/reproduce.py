"""Re-run a recorded attempt and compare (DESIGN section 6's verify re-run).

What is compared, and how strictly:

* generating attempts (prefix, prompt, chat): the output token ids, exactly.
  Greedy and beam attempts are deterministic; sampled attempts reproduce from
  their recorded seed on the same software (torch's CPU generator).
* p_z, recomputed by one teacher-forced pass, for prefix and p_z attempts:
  the greedy exact length exactly, log10 p_z and log10 p within
  ``PZ_LOG10_TOLERANCE`` (batched float32 sums may differ in the last bits
  between machines and thread counts); "impossible under the scheme" must
  stay impossible.
* a sweep: every window re-scored; start token and greedy exact length
  exactly, log10 p and log10 p_z within the same tolerance.

A re-run must use the engine and dtype the attempt recorded (a different
engine is a cross-engine check, :mod:`memoview.core.crosscheck`, not a
re-run); the device may differ and is reported.
"""

from __future__ import annotations

from typing import Any, Optional

from memoview.core import errors
from memoview.core.case import Case
from memoview.core.engines.base import CapabilityError, Engine
from memoview.core.extraction import common
from memoview.core.extraction.probability import LN10
from memoview.core.models.base import LoadedModel
from memoview.core.records import AttemptStatus, Method

PZ_LOG10_TOLERANCE = 1e-3
SWEEP_LOG10_TOLERANCE = PZ_LOG10_TOLERANCE
RERUN_METHODS = ("prefix", "pz", "prompt", "chat", "sweep")


def recorded_engine(attempt: Any) -> dict[str, Any]:
    """The engine identity an attempt recorded; attempts from before engines ran on transformers in float32."""
    env = attempt.environment or {}
    ident = env.get("engine_identity")
    if isinstance(ident, dict) and ident.get("engine"):
        return ident
    return {"engine": "transformers", "dtype": env.get("dtype") or "float32", "device": env.get("device") or "cpu"}


def check_same_engine(attempt: Any, engine: Engine) -> None:
    """Refuse a re-run on another engine or dtype than the attempt's (that would be a cross-engine check)."""
    then = recorded_engine(attempt)
    now = engine.identity
    if then.get("engine") != now.engine or (then.get("dtype") or "") != now.dtype:
        raise CapabilityError(
            f"Attempt {attempt.id} was run with {then.get('engine')} ({then.get('dtype')}); the model is open with "
            f"{now.engine} ({now.dtype}). A re-run must use the recorded engine and dtype.",
            f"Re-run with --engine {then.get('engine')}" + (f" --dtype {then.get('dtype')}"
                                                             if then.get("engine") == "transformers" else "")
            + f", or compare the two with 'memoview crosscheck CASE --attempt {attempt.id} --engine {now.engine}"
            + (f" --dtype {now.dtype}'." if now.engine == "transformers" else "'."),
        )


def _check_model(attempt: Any, engine: Engine) -> None:
    if attempt.spec.model_fingerprint != engine.info.fingerprint:
        raise errors.ValidationError(
            f"Attempt {attempt.id} was run on model fingerprint {attempt.spec.model_fingerprint[:12]}, "
            f"but the loaded model is {engine.info.fingerprint[:12]}.",
            "Load the model the attempt used.",
        )


def reproduce_attempt(case: Case, attempt_id: int, lm: Engine | LoadedModel) -> tuple[bool, dict[str, Any]]:
    """Re-run attempt ``attempt_id`` on ``lm`` and compare; returns (same, details)."""
    engine = common.engine_of(lm)
    attempt = case.attempt(attempt_id)
    spec = attempt.spec
    if spec.method not in RERUN_METHODS:
        raise errors.ValidationError(
            f"Attempt {attempt_id} is a {spec.method} attempt; only generating, p_z and sweep attempts can be re-run.",
            "Re-run it with the same command and compare the figures.",
        )
    _check_model(attempt, engine)
    check_same_engine(attempt, engine)
    if spec.method == Method.SWEEP:
        return _reproduce_sweep(case, attempt, engine)
    if attempt.status not in (AttemptStatus.DONE, AttemptStatus.REFUSED):
        raise errors.ValidationError(f"Attempt {attempt_id} did not finish (status {attempt.status}).")
    details: dict[str, Any] = {"attempt_id": attempt_id, "decoding": spec.params.get("decoding"), "seed": spec.seed}
    same = True
    first: Optional[int] = None
    compared = []
    prompt = list(attempt.prompt_token_ids)
    if spec.params.get("decoding", "greedy") != "none":
        out = common.generate(engine, [prompt], spec.params, seed=spec.seed)[0]
        recorded = list(attempt.output_token_ids)
        tokens_same = out == recorded
        if not tokens_same:
            first = next((i for i, (a, b) in enumerate(zip(out, recorded)) if a != b), min(len(out), len(recorded)))
        same = same and tokens_same
        details.update(recorded_tokens=len(recorded), rerun_tokens=len(out), tokens_same=tokens_same)
        compared.append("output token ids (exactly)")
    if spec.method in (Method.PREFIX, Method.PZ):
        pz = _recheck_pz(engine, attempt)
        details["pz"] = pz
        same = same and pz["same"]
        compared.append(f"greedy exact length (exactly), log10 p and log10 p_z (within {PZ_LOG10_TOLERANCE:g})")
    details.update(same=same, first_difference=first if first is not None else (None if same else "p_z"),
                   compared="; ".join(compared), tolerance_log10=PZ_LOG10_TOLERANCE,
                   environment_then=attempt.environment, environment_now=common.environment(engine))
    return same, details


def _close(a: Optional[float], b: Optional[float]) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(float(a) - float(b)) <= PZ_LOG10_TOLERANCE


def _recheck_pz(engine: Engine, attempt: Any) -> dict[str, Any]:
    """Recompute the target's greedy exact length, log10 p and log10 p_z by one teacher-forced pass."""
    p = attempt.spec.params
    prompt, target = list(attempt.prompt_token_ids), list(attempt.target_token_ids)
    s = common.score_continuations(engine, [prompt], [target], float(p.get("pz_temperature", 1.0)),
                                   p.get("pz_top_k"), with_ranks=False)[0]
    m = attempt.metrics or {}
    now = {"greedy_exact": s.greedy_exact, "log10_p": s.log_p / LN10,
           "log10_pz": None if s.log_pz is None else s.log_pz / LN10}
    then = {"greedy_exact": m.get("greedy_exact"), "log10_p": m.get("log10_p"), "log10_pz": m.get("log10_pz")}
    same = now["greedy_exact"] == then["greedy_exact"] and _close(now["log10_pz"], then["log10_pz"]) \
        and (then["log10_p"] is None or _close(now["log10_p"], then["log10_p"]))
    return {"same": same, "recorded": then, "rerun": now}


def _reproduce_sweep(case: Case, attempt: Any, engine: Engine) -> tuple[bool, dict[str, Any]]:
    """Re-score every recorded window (no generation: continuations are not compared)."""
    from memoview.core.extraction.sweep import SweepRequest, sweep_windows
    from memoview.core.jobs import run_job

    spec = attempt.spec
    if attempt.status != AttemptStatus.DONE:
        raise errors.ValidationError(f"Attempt {attempt.id} did not finish (status {attempt.status}).")
    request = SweepRequest.from_params(spec.params)
    recorded = case.sweep_windows(attempt.id)
    rerun = run_job(sweep_windows(engine, case.document(int(spec.document_id or 0)), request))
    first: Any = None
    max_dpz = 0.0
    for old, new in zip(recorded, rerun):
        if old.log10_pz is not None and new.log10_pz is not None:
            max_dpz = max(max_dpz, abs(old.log10_pz - new.log10_pz))
        if first is None and ((old.start_token, old.greedy_exact) != (new.start_token, new.greedy_exact)
                              or abs(old.log10_p - new.log10_p) > SWEEP_LOG10_TOLERANCE
                              or not _close(old.log10_pz, new.log10_pz)):
            first = old.index
    if first is None and len(recorded) != len(rerun):
        first = min(len(recorded), len(rerun))
    same = first is None
    return same, {
        "attempt_id": attempt.id, "same": same, "recorded_windows": len(recorded), "rerun_windows": len(rerun),
        "first_difference": first, "compared": "per window: start token, greedy exact length (exactly), log10 p "
        f"and log10 p_z (within {SWEEP_LOG10_TOLERANCE:g})", "tolerance_log10": SWEEP_LOG10_TOLERANCE,
        "max_abs_diff_log10_pz": max_dpz, "environment_then": attempt.environment,
        "environment_now": common.environment(engine),
    }
